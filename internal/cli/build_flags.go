package cli

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"pea/internal/engine"
)

// buildExtras are build's flags beyond the basic ones: what the image gets (--label, --env,
// --timestamp...), and the RUN containers' settings, which are create's own flags (their values
// land in a createFlags, and create's code parses them).
type buildExtras struct {
	target, from, iidfile, logfile, ignorefile, format string
	labels, env, secrets                               []string
	timestamp                                          int64
	rm, forceRm, squash, squashAll                     bool
	// See build_more.go and build_meta.go.
	more buildMore
	meta buildMeta
}

func (x *buildExtras) register(f *pflag.FlagSet, run *createFlags) {
	f.StringVar(&x.target, "target", "", "build up to this stage (its image is the one built; later stages are skipped)")
	f.StringVar(&x.from, "from", "", "the image of the first FROM, instead of the Containerfile's")
	f.StringVar(&x.iidfile, "iidfile", "", "write the image ID (sha256:...) to this file too")
	f.StringVar(&x.logfile, "logfile", "", "write the build's output to this file instead of stdout/stderr")
	f.StringVar(&x.ignorefile, "ignorefile", "", "the ignore file, instead of the context's .containerignore/.dockerignore")
	f.StringVar(&x.format, "format", "oci", "format of the image: oci or docker (pea stores every image as OCI)")
	f.StringArrayVar(&x.labels, "label", nil, "set a label on the image built (KEY=VALUE, repeatable)")
	f.StringArrayVar(&x.env, "env", nil, "set an environment variable in the image (KEY=VALUE, or KEY for the caller's; RUN sees it too)")
	f.StringArrayVar(&x.secrets, "secret", nil, "a secret file for RUN --mount=type=secret: id=ID,src=PATH")
	f.Int64Var(&x.timestamp, "timestamp", 0, "the creation time of the image and its history, in seconds since the epoch")
	f.BoolVar(&x.rm, "rm", true, "remove the RUN containers after a successful build (pea always does)")
	f.BoolVar(&x.forceRm, "force-rm", true, "remove the RUN containers even after a failed build (pea always does)")
	f.BoolVar(&x.squash, "squash", false, "make the layers the last stage adds one layer (its FROM image's stay)")
	f.BoolVar(&x.squashAll, "squash-all", false, "make the image one layer of its whole file system")
	// RUN's settings, into create's flags.
	f.StringArrayVarP(&run.volumes, "volume", "v", nil, "bind mount for RUN: SRC:DST[:ro]")
	listVar(f, &run.addHosts, "add-host", nil, "add a host to RUN's /etc/hosts (HOST:IP)")
	f.BoolVar(&run.noHosts, "no-hosts", false, "do not manage RUN's /etc/hosts")
	listVar(f, &run.dns, "dns", nil, "a DNS server for RUN")
	listVar(f, &run.dnsSearch, "dns-search", nil, "a DNS search domain for RUN")
	listVar(f, &run.dnsOpt, "dns-option", nil, "a DNS option for RUN")
	listVar(f, &run.capAdd, "cap-add", nil, "add a capability to RUN")
	listVar(f, &run.capDrop, "cap-drop", nil, "drop a capability from RUN")
	f.StringArrayVar(&run.securityOpts, "security-opt", nil, "security option of RUN: no-new-privileges, seccomp=unconfined|FILE")
	listVar(f, &run.ulimits, "ulimit", nil, "a resource limit of RUN (name=soft[:hard])")
	f.StringVarP(&run.memory, "memory", "m", "", "memory limit of RUN (e.g. 512m, 1g)")
	f.StringVar(&run.memorySwap, "memory-swap", "", "limit of RUN's memory and swap together")
	f.StringVar(&run.shmSize, "shm-size", "", "size of RUN's /dev/shm")
	f.Uint64Var(&run.cpuShares, "cpu-shares", 0, "CPU shares of RUN")
	f.StringVar(&run.cpusetCpus, "cpuset-cpus", "", "CPUs RUN may use")
	f.StringVar(&run.cpusetMems, "cpuset-mems", "", "memory nodes RUN may use")
	f.Uint64Var(&run.cpuPeriod, "cpu-period", 0, "CPU CFS period of RUN (microseconds)")
	f.Int64Var(&run.cpuQuota, "cpu-quota", 0, "CPU CFS quota of RUN (microseconds per period)")
	x.more.register(f, run)
	x.meta.register(f)
}

// apply checks the flags and sets what they say in o (run: the RUN containers' flags).
func (x *buildExtras) apply(o *engine.BuildOptions, run *createFlags, stdin io.Reader, changed func(string) bool) error {
	if err := x.meta.refuse(); err != nil {
		return err
	}
	o.Target, o.From, o.SquashAll, o.Squash = x.target, x.from, x.squashAll, x.squash
	if x.squash && x.squashAll {
		return invalid("--squash and --squash-all cannot be combined")
	}
	switch x.format {
	case "oci", "docker":
	default:
		return invalid("invalid --format %q (oci, docker)", x.format)
	}
	var err error
	if o.Labels, err = parseKV(x.labels, "--label"); err != nil {
		return err
	}
	o.LabelOrder = keyOrder(x.labels)
	if o.Env, err = parseEnv(x.env, nil); err != nil {
		return err
	}
	for _, kv := range o.Env {
		if k, _, _ := strings.Cut(kv, "="); k == "" {
			return invalid("invalid --env %q: want KEY=VALUE", kv)
		}
	}
	if x.ignorefile != "" {
		if _, err := os.Stat(x.ignorefile); err != nil {
			return invalid("--ignorefile: %v", err)
		}
		o.IgnoreFile = x.ignorefile
	}
	for _, s := range x.secrets {
		id, src := "", ""
		for _, kv := range strings.Split(s, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "id":
				id = v
			case "src", "source":
				src = v
			case "type":
				if v != "file" {
					return invalid("--secret %q: pea build takes file secrets (type=file)", s)
				}
			default:
				return invalid("--secret %q: want id=ID,src=PATH", s)
			}
		}
		if id == "" && src != "" {
			id = filepath.Base(src)
		}
		abs, err := filepath.Abs(src)
		if id == "" || src == "" || err != nil {
			return invalid("--secret %q: want id=ID,src=PATH", s)
		}
		if fi, err := os.Stat(abs); err != nil || !fi.Mode().IsRegular() {
			return invalid("--secret %q: %s is not a file", s, src)
		}
		if o.Secrets == nil {
			o.Secrets = map[string]string{}
		}
		o.Secrets[id] = abs
	}
	if changed("timestamp") {
		if x.timestamp < 0 {
			return invalid("invalid --timestamp %s: seconds since the epoch", strconv.FormatInt(x.timestamp, 10))
		}
		t := time.Unix(x.timestamp, 0).UTC()
		o.Timestamp = &t
	}
	x.more.prepareRun(run)
	if err := x.meta.prepareRun(run); err != nil {
		return err
	}
	cfg, _, err := run.toConfig("", nil, func(string) bool { return false })
	if err != nil {
		return err
	}
	for i, m := range cfg.Mounts {
		if m.Type == "bind" && !filepath.IsAbs(m.Source) {
			cfg.Mounts[i].Source, _ = filepath.Abs(m.Source)
		}
	}
	o.RunTemplate = cfg
	if err := x.meta.apply(o); err != nil {
		return err
	}
	return x.more.apply(o, stdin)
}

// keyOrder is the keys of KEY=VALUE settings in the order given, each once.
func keyOrder(list []string) []string {
	var out []string
	for _, kv := range list {
		if k, _, _ := strings.Cut(kv, "="); !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

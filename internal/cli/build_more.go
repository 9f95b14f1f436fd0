package cli

import (
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"pea/internal/engine"
)

// buildMore are build's flags for where the image goes beyond the store (--manifest,
// --output), its platform, the stages built, named contexts, more RUN settings (create's own
// flags, into a createFlags), and podman's flags that have nothing to do here, accepted as
// documented no-ops.
type buildMore struct {
	manifest, output, arch, os, variant string
	platforms, unsetenv, contexts       []string
	skipUnused, omitHistory, stdin      bool
	// Accepted, without effect (their usage says why).
	jobs, retry                                       int
	retryDelay, isolation, certDir                    string
	compress, disableCompression, contentTrust, ident bool
	logsplit                                          bool
}

func (m *buildMore) register(f *pflag.FlagSet, run *createFlags) {
	f.StringVar(&m.manifest, "manifest", "", "add the image built to this manifest list (made when missing)")
	f.StringVarP(&m.output, "output", "o", "", "also write the image's file system out: DIR, type=local,dest=DIR or type=tar,dest=FILE")
	f.StringSliceVar(&m.platforms, "platform", nil, "OS/ARCH[/VARIANT] of the image: this machine's only (no emulation)")
	f.StringVar(&m.arch, "arch", "", "architecture of the image: this machine's only")
	f.StringVar(&m.os, "os", "", "OS of the image: linux only")
	f.StringVar(&m.variant, "variant", "", "architecture variant of the image: this machine's only")
	f.StringSliceVar(&m.unsetenv, "unsetenv", nil, "take this variable out of the image's environment (repeatable)")
	f.BoolVar(&m.skipUnused, "skip-unused-stages", true, "build only the stages the image built needs (FROM, COPY --from, RUN --mount from=)")
	f.BoolVar(&m.omitHistory, "omit-history", false, "the image built has no history")
	f.BoolVar(&m.stdin, "stdin", false, "give RUN this command's standard input")
	f.StringArrayVar(&m.contexts, "build-context", nil, "a named context, NAME=DIR, for COPY --from=NAME and RUN --mount=from=NAME")
	// RUN's settings, into create's flags.
	f.StringVar(&run.pid, "pid", "", "PID namespace of RUN: host, private, ns:PATH")
	f.StringVar(&run.ipc, "ipc", "", "IPC namespace of RUN: host, private, ns:PATH")
	f.StringVar(&run.uts, "uts", "", "UTS namespace of RUN: host, private, ns:PATH")
	f.StringVar(&run.cgroupns, "cgroupns", "", "cgroup namespace of RUN: host or private")
	f.StringVar(&run.userns, "userns", "", "user namespace of RUN: host, private (as auto), auto[:size=N], ns:PATH")
	f.StringArrayVar(&run.uidmap, "userns-uid-map", nil, "RUN in a user namespace of its own mapping UIDs: CONTAINER_UID:HOST_UID:SIZE")
	f.StringArrayVar(&run.gidmap, "userns-gid-map", nil, "RUN in a user namespace of its own mapping GIDs: CONTAINER_GID:HOST_GID:SIZE")
	f.StringArrayVar(&run.devices, "device", nil, "a host device for RUN: HOST[:CONTAINER[:PERMS]]")
	f.StringVar(&run.cgroupParent, "cgroup-parent", "", "parent cgroup of RUN's cgroup")
	listVar(f, &run.groupAdd, "group-add", nil, "a supplementary group of RUN's process (name or number; keep-groups)")
	f.BoolVar(&run.more.httpProxy, "http-proxy", true, "give RUN the host's proxy variables (they are not kept in the image)")
	// No-ops.
	f.IntVar(&m.jobs, "jobs", 1, "accepted: pea builds one stage at a time")
	f.IntVar(&m.retry, "retry", 3, "accepted: a pull is tried once")
	f.StringVar(&m.retryDelay, "retry-delay", "2s", "accepted: a pull is tried once")
	f.StringVar(&m.isolation, "isolation", "oci", "accepted: oci or chroot; RUN is always an OCI container (crun)")
	f.StringVar(&m.certDir, "cert-dir", "", "the registries' certificates for the pulls: *.crt (authorities), *.cert and *.key (a client certificate)")
	f.BoolVar(&m.compress, "compress", false, "accepted: a legacy option without effect")
	f.BoolVarP(&m.disableCompression, "disable-compression", "D", true, "accepted: layers are stored uncompressed")
	f.BoolVar(&m.contentTrust, "disable-content-trust", false, "accepted: Docker's, without effect")
	f.BoolVar(&m.ident, "identity-label", true, "accepted: pea adds no builder label")
	f.BoolVar(&m.logsplit, "logsplit", false, "accepted: a build is of one platform, its log one file")
}

// prepareRun turns build's words for RUN's settings into create's, before create's code parses
// them: --userns private (podman's container) is a namespace of its own, as auto makes.
func (m *buildMore) prepareRun(run *createFlags) {
	if run.userns == "private" || run.userns == "container" {
		run.userns = "auto"
	}
}

// apply checks the flags and sets what they say in o; stdin is RUN's, with --stdin.
func (m *buildMore) apply(o *engine.BuildOptions, stdin io.Reader) error {
	o.Manifest, o.UnsetEnv, o.AllStages, o.OmitHistory = m.manifest, m.unsetenv, !m.skipUnused, m.omitHistory
	if m.output != "" {
		if err := m.parseOutput(o); err != nil {
			return err
		}
	}
	for _, v := range m.unsetenv {
		if v == "" || strings.Contains(v, "=") {
			return invalid("invalid --unsetenv %q: a variable's name", v)
		}
	}
	// The platform: --platform's, its parts replaced by --os, --arch, --variant.
	if len(m.platforms) > 1 {
		return invalid("--platform %s: pea builds for one platform, this machine's", strings.Join(m.platforms, ","))
	}
	if len(m.platforms) == 1 || m.os != "" || m.arch != "" || m.variant != "" {
		p := engine.HostPlatform()
		if len(m.platforms) == 1 {
			p = m.platforms[0]
		}
		parts := append(strings.SplitN(p, "/", 3), "", "")
		for i, v := range []string{m.os, m.arch, m.variant} {
			if v != "" {
				parts[i] = v
			}
		}
		p = parts[0] + "/" + parts[1]
		if parts[2] != "" {
			p += "/" + parts[2]
		}
		o.Platform = p
	}
	for _, c := range m.contexts {
		name, dir, ok := strings.Cut(c, "=")
		if !ok || name == "" || dir == "" {
			return invalid("invalid --build-context %q: use NAME=DIR", c)
		}
		if strings.Contains(dir, "://") {
			return invalid("--build-context %s: pea takes local directories as named contexts", c)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return invalid("--build-context %s: %v", c, err)
		}
		if o.Contexts == nil {
			o.Contexts = map[string]string{}
		}
		o.Contexts[strings.ToLower(name)] = abs
	}
	if m.stdin {
		o.Stdin = stdin
	}
	switch m.isolation {
	case "oci", "chroot", "":
	case "rootless":
		return invalid("--isolation rootless: pea builds as root (oci or chroot)")
	default:
		return invalid("invalid --isolation %q (oci, chroot)", m.isolation)
	}
	if _, err := time.ParseDuration(m.retryDelay); err != nil {
		return invalid("invalid --retry-delay %q: a duration such as 2s", m.retryDelay)
	}
	if m.jobs < 0 || m.retry < 0 {
		return invalid("--jobs and --retry take a number of 0 or more")
	}
	return nil
}

// parseOutput reads -o: a directory, or type=local|tar,dest=PATH.
func (m *buildMore) parseOutput(o *engine.BuildOptions) error {
	typ, dest := "local", m.output
	if strings.Contains(m.output, "=") {
		typ, dest = "", ""
		for _, kv := range strings.Split(m.output, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "type":
				typ = v
			case "dest":
				dest = v
			default:
				return invalid("invalid --output %q: type=local|tar,dest=PATH", m.output)
			}
		}
	} else if m.output == "-" {
		typ = "tar"
	}
	if typ != "local" && typ != "tar" {
		return invalid("invalid --output %q: type=local or type=tar", m.output)
	}
	if dest == "" {
		return invalid("invalid --output %q: dest=PATH is needed", m.output)
	}
	if dest != "-" {
		abs, err := filepath.Abs(dest)
		if err != nil {
			return invalid("--output: %v", err)
		}
		dest = abs
	}
	o.OutputType, o.OutputDest = typ, dest
	return nil
}

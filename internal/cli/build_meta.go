package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"pea/internal/engine"
)

// buildMeta are build's flags for what the image built carries beyond its config (manifest
// annotations, os.version, os.features), the cache's age limit, RUN's runtime flags and user
// namespace from /etc/subuid and /etc/subgid, cpp's flags for a Containerfile.in, and podman's
// flags pea cannot honour, refused by name.
type buildMeta struct {
	annotations, osFeatures, runtimeFlags, hooksDirs, cppFlags []string
	osVersion, cacheTTL, uidMapUser, gidMapGroup               string
	// Refused when given (see refuse).
	signBy, cacheFrom, cacheTo string
	ssh, decryptionKeys        []string
	allPlatforms               bool
}

func (m *buildMeta) register(f *pflag.FlagSet) {
	f.StringArrayVar(&m.annotations, "annotation", nil, "a manifest annotation of the image built, KEY=VALUE (repeatable)")
	f.StringVar(&m.osVersion, "os-version", "", "the os.version of the image built, instead of its base image's")
	f.StringSliceVar(&m.osFeatures, "os-feature", nil, "add an os.features entry to the base image's (NAME- takes NAME out)")
	f.StringVar(&m.cacheTTL, "cache-ttl", "", "use only cached steps stored less than this long ago (e.g. 1h; 0 is --no-cache)")
	f.StringSliceVar(&m.runtimeFlags, "runtime-flag", nil, "a global flag of the runtime (crun) for RUN, without its -- (e.g. debug, log=FILE)")
	f.StringArrayVar(&m.hooksDirs, "hooks-dir", nil, "refused: pea's builds run no OCI hooks (containers do: pea --hooks-dir)")
	f.StringVar(&m.uidMapUser, "userns-uid-map-user", "", "RUN in a user namespace mapping the UIDs of this name's /etc/subuid ranges")
	f.StringVar(&m.gidMapGroup, "userns-gid-map-group", "", "RUN in a user namespace mapping the GIDs of this name's /etc/subgid ranges")
	f.StringArrayVar(&m.cppFlags, "cpp-flag", nil, "a flag for cpp, which preprocesses a Containerfile named *.in (repeatable)")
	f.StringVar(&m.signBy, "sign-by", "", "refused: pea signs no images")
	f.StringArrayVar(&m.ssh, "ssh", nil, "refused: pea forwards no SSH agent or keys to RUN")
	f.StringSliceVar(&m.decryptionKeys, "decryption-key", nil, "refused: pea pulls no encrypted images")
	f.StringVar(&m.cacheFrom, "cache-from", "", "refused: pea's build cache is its local images")
	f.StringVar(&m.cacheTo, "cache-to", "", "refused: pea's build cache is its local images")
	f.BoolVar(&m.allPlatforms, "all-platforms", false, "refused: pea builds for this machine's platform only")
}

// refuse names the first flag given that pea cannot honour, and why.
func (m *buildMeta) refuse() error {
	switch {
	case m.signBy != "":
		return invalid("--sign-by: pea does not sign images (it has no signing keys)")
	case len(m.ssh) > 0:
		return invalid("--ssh: pea does not forward an SSH agent or keys to RUN")
	case len(m.decryptionKeys) > 0:
		return invalid("--decryption-key: pea does not decrypt encrypted images")
	case m.cacheFrom != "" || m.cacheTo != "":
		return invalid("--cache-from/--cache-to: pea keeps no remote build cache (its cache is the local intermediate images)")
	case m.allPlatforms:
		return invalid("--all-platforms: pea builds for this machine's platform only (%s), without emulation", engine.HostPlatform())
	case len(m.hooksDirs) > 0:
		return invalid("--hooks-dir: pea's builds run no OCI hooks")
	}
	return nil
}

// prepareRun gives RUN's flags (create's) what --userns-uid-map-user/--userns-gid-map-group
// say, as create's --subuidname/--subgidname, before create's code reads them.
func (m *buildMeta) prepareRun(run *createFlags) error {
	if m.uidMapUser == "" && m.gidMapGroup == "" {
		return nil
	}
	if len(run.uidmap) > 0 || len(run.gidmap) > 0 {
		return invalid("--userns-uid-map-user/--userns-gid-map-group cannot be combined with --userns-uid-map/--userns-gid-map")
	}
	run.more.subUIDName, run.more.subGIDName = m.uidMapUser, m.gidMapGroup
	return nil
}

// apply checks the flags and sets what they say in o (and in o.RunTemplate, made already).
func (m *buildMeta) apply(o *engine.BuildOptions) error {
	var err error
	if len(m.annotations) > 0 {
		if o.Annotations, err = parseKV(m.annotations, "--annotation"); err != nil {
			return err
		}
	}
	o.OSVersion, o.OSFeatures, o.CppFlags = m.osVersion, m.osFeatures, m.cppFlags
	for _, f := range m.osFeatures {
		if f == "" || f == "-" {
			return invalid("invalid --os-feature %q: a feature's name (NAME- takes it out)", f)
		}
	}
	if m.cacheTTL != "" {
		ttl, err := time.ParseDuration(m.cacheTTL)
		if err != nil || ttl < 0 {
			return invalid("invalid --cache-ttl %q: a duration such as 30m or 2h", m.cacheTTL)
		}
		if ttl == 0 {
			o.NoCache = true // as podman's: a cache no step may be older than 0 is no cache
		}
		o.CacheTTL = ttl
	}
	for _, f := range m.runtimeFlags {
		f = strings.TrimPrefix(f, "--")
		if f == "" || strings.HasPrefix(f, "-") {
			return invalid("invalid --runtime-flag %q: a runtime flag's name without its --, as debug or log=FILE", f)
		}
		o.RunTemplate.RuntimeFlags = append(o.RunTemplate.RuntimeFlags, f)
	}
	return nil
}

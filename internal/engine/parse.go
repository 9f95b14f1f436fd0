package engine

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// ParseVolume parses -v SRC:DST[:OPTS]: an absolute SRC is a bind mount, anything else a named
// volume. OPTS are comma-separated (ro, rw, z, Z, shared, private, ...).
func ParseVolume(spec string) (model.Mount, error) {
	parts := strings.Split(spec, ":")
	var m model.Mount
	switch len(parts) {
	case 1:
		m = model.Mount{Type: "volume", Source: "", Destination: parts[0]}
	case 2, 3:
		m = model.Mount{Source: parts[0], Destination: parts[1]}
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro":
					m.ReadOnly = true
				case "rw", "z", "Z", "":
				case "U":
					m.ChownToUser = true
				case "nocopy":
					m.NoCopy = true
				case "O":
					m.Overlay = true
				case "copy":
				case "shared", "rshared", "slave", "rslave", "private", "rprivate", "nosuid", "suid", "nodev", "dev", "noexec", "exec":
					m.Options = append(m.Options, o)
				default:
					if d, ok := strings.CutPrefix(o, "upperdir="); ok {
						m.UpperDir = d
					} else if d, ok := strings.CutPrefix(o, "workdir="); ok {
						m.WorkDir = d
					} else {
						return m, fmt.Errorf("invalid volume option %q in %q: %w", o, spec, errdefs.ErrInvalid)
					}
				}
			}
			if (m.UpperDir != "" || m.WorkDir != "") && !m.Overlay {
				return m, fmt.Errorf("invalid volume specification %q: upperdir and workdir are options of an overlay mount (O): %w", spec, errdefs.ErrInvalid)
			}
			if (m.UpperDir == "") != (m.WorkDir == "") {
				return m, fmt.Errorf("invalid volume specification %q: an overlay mount takes upperdir and workdir together: %w", spec, errdefs.ErrInvalid)
			}
			for _, d := range []*string{&m.UpperDir, &m.WorkDir} {
				if *d != "" {
					if !filepath.IsAbs(*d) {
						return m, fmt.Errorf("invalid volume specification %q: %s is not an absolute path: %w", spec, *d, errdefs.ErrInvalid)
					}
					*d = filepath.Clean(*d)
				}
			}
		}
	default:
		return m, fmt.Errorf("invalid volume specification %q: want SRC:DST[:OPTS]: %w", spec, errdefs.ErrInvalid)
	}
	if m.Destination == "" || !strings.HasPrefix(m.Destination, "/") {
		return m, fmt.Errorf("invalid volume specification %q: the container path must be absolute: %w", spec, errdefs.ErrInvalid)
	}
	m.Destination = filepath.Clean(m.Destination)
	if m.Type == "" {
		if strings.HasPrefix(m.Source, "/") || strings.HasPrefix(m.Source, ".") {
			m.Type = "bind"
			abs, err := filepath.Abs(m.Source)
			if err != nil {
				return m, err
			}
			m.Source = abs
		} else if m.Source == "" {
			return m, fmt.Errorf("invalid volume specification %q: empty source: %w", spec, errdefs.ErrInvalid)
		} else {
			m.Type = "volume"
		}
	}
	return m, nil
}

// devptsType is --mount's type of a devpts instance of the container's own (podman's).
const devptsType = "devpts"

// ParseMount parses --mount type=bind|tmpfs|volume|image|devpts,src=...,dst=...,ro. An image mount is
// read-only unless rw=true says otherwise (podman's rule).
func ParseMount(spec string) (model.Mount, error) {
	m := model.Mount{Type: "volume", FromMount: true}
	rwSet, devptsOnly := false, false
	for _, kv := range strings.Split(spec, ",") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "type":
			if v != "bind" && v != "tmpfs" && v != "volume" && v != imageVolumeType && v != devptsType {
				return m, fmt.Errorf("invalid mount type %q (bind, tmpfs, volume, image, devpts): %w", v, errdefs.ErrInvalid)
			}
			m.Type = v
		case "source", "src":
			m.Source = v
		case "destination", "dst", "target":
			m.Destination = v
		case "ro", "readonly":
			m.ReadOnly, rwSet = v == "" || v == "true", true
		case "rw":
			m.ReadOnly, rwSet = v == "false", true
		case "tmpfs-size":
			m.Options = append(m.Options, "size="+v)
		case "tmpfs-mode":
			m.Options = append(m.Options, "mode="+v)
		case "bind-propagation":
			m.Options = append(m.Options, v)
		case "U":
			m.ChownToUser = v == "" || v == "true"
		case "volume-nocopy", "nocopy":
			m.NoCopy = v == "" || v == "true"
		case "volume-opt":
			ok, ov, found := strings.Cut(v, "=")
			if !found || ok == "" {
				return m, fmt.Errorf("--mount %q: volume-opt wants KEY=VALUE: %w", spec, errdefs.ErrInvalid)
			}
			if m.VolumeOptions == nil {
				m.VolumeOptions = map[string]string{}
			}
			m.VolumeOptions[ok] = ov
		case "bind-nonrecursive":
			if v == "" || v == "true" {
				m.Options = append(m.Options, "bind") // not rbind: the mounts below the source stay out
			}
		case "uid", "gid", "mode", "max": // a devpts instance's: owner of new ptys, their mode, their number
			base := 10
			if k == "mode" {
				base = 8
			}
			if _, err := strconv.ParseUint(v, base, 32); err != nil {
				return m, fmt.Errorf("--mount %q: %s wants a number: %w", spec, k, errdefs.ErrInvalid)
			}
			m.Options = append(m.Options, k+"="+v)
			devptsOnly = true
		case "relabel", "z", "Z", "consistency", "notmpcopyup":
		default:
			return m, fmt.Errorf("invalid --mount option %q: %w", k, errdefs.ErrInvalid)
		}
	}
	if m.Destination == "" || !strings.HasPrefix(m.Destination, "/") {
		return m, fmt.Errorf("--mount %q needs an absolute destination: %w", spec, errdefs.ErrInvalid)
	}
	if devptsOnly && m.Type != devptsType {
		return m, fmt.Errorf("--mount %q: uid, gid, mode and max are for type=devpts: %w", spec, errdefs.ErrInvalid)
	}
	if m.VolumeOptions != nil && m.Type != "volume" {
		return m, fmt.Errorf("--mount %q: volume-opt is for type=volume: %w", spec, errdefs.ErrInvalid)
	}
	if m.Type == imageVolumeType {
		if m.Source == "" {
			return m, fmt.Errorf("--mount %q: an image mount needs a source: %w", spec, errdefs.ErrInvalid)
		}
		m.ReadOnly = m.ReadOnly || !rwSet
	}
	if m.Type == "bind" {
		if m.Source == "" {
			return m, fmt.Errorf("--mount %q: a bind mount needs a source: %w", spec, errdefs.ErrInvalid)
		}
		abs, err := filepath.Abs(m.Source)
		if err != nil {
			return m, err
		}
		m.Source = abs
	}
	return m, nil
}

// ParseTmpfs parses --tmpfs DST[:OPTS].
func ParseTmpfs(spec string) (model.Mount, error) {
	dst, opts, _ := strings.Cut(spec, ":")
	if !strings.HasPrefix(dst, "/") {
		return model.Mount{}, fmt.Errorf("--tmpfs %q needs an absolute path: %w", spec, errdefs.ErrInvalid)
	}
	m := model.Mount{Type: "tmpfs", Destination: dst}
	if opts != "" {
		m.Options = strings.Split(opts, ",")
	}
	for _, o := range m.Options {
		if !tmpfsOption(o) {
			return model.Mount{}, fmt.Errorf("unknown mount option %q: invalid mount option: %w", o, errdefs.ErrInvalid)
		}
	}
	return m, nil
}

// tmpfsOption reports whether o is an option a tmpfs mount takes: tmpfs's own (size, mode,
// uid, gid, inodes, huge pages, memory policy), the generic mount flags, the propagations and
// podman's tmpcopyup.
func tmpfsOption(o string) bool {
	k, _, withValue := strings.Cut(o, "=")
	if withValue {
		switch k {
		case "size", "mode", "uid", "gid", "nr_inodes", "nr_blocks", "huge", "mpol":
			return true
		}
		return false
	}
	switch o {
	case "rw", "ro", "exec", "noexec", "suid", "nosuid", "dev", "nodev", "sync", "async", "dirsync",
		"atime", "noatime", "diratime", "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime",
		"mand", "nomand", "tmpcopyup", "notmpcopyup", "shared", "rshared", "slave", "rslave", "private", "rprivate",
		"unbindable", "runbindable", "bind", "rbind":
		return true
	}
	return false
}

// ApplySecurityOpt applies one --security-opt to cfg.
func ApplySecurityOpt(cfg *model.ContainerConfig, opt string) error {
	k, v, hasV := strings.Cut(opt, "=")
	if !hasV {
		k, v, hasV = strings.Cut(opt, ":")
	}
	switch {
	case k == "no-new-privileges":
		cfg.NoNewPrivileges = !hasV || v == "true"
	case k == "seccomp" && hasV:
		cfg.Seccomp = v
	case (k == "mask" || k == "unmask") && hasV:
		for _, p := range strings.Split(v, ":") {
			if p == "" || (!strings.HasPrefix(p, "/") && !(k == "unmask" && p == "ALL")) {
				want := "absolute paths separated by colons"
				if k == "unmask" {
					want += " (or ALL)"
				}
				return fmt.Errorf("invalid --security-opt %s=%s: want %s: %w", k, v, want, errdefs.ErrInvalid)
			}
			if k == "mask" {
				cfg.Mask = append(cfg.Mask, p)
			} else {
				cfg.Unmask = append(cfg.Unmask, p)
			}
		}
	case k == "label" || k == "apparmor" || k == "proc-opts":
		// SELinux/AppArmor are not used by pea; accepted for compatibility.
	default:
		return fmt.Errorf("invalid --security-opt %q (no-new-privileges, seccomp=unconfined|FILE, mask=PATHS, unmask=PATHS|ALL): %w", opt, errdefs.ErrInvalid)
	}
	return nil
}

// ParseSize parses sizes like 512m, 1g, 1024, 1.5GB into bytes.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	if t == "" {
		return 0, fmt.Errorf("invalid size %q: %w", s, errdefs.ErrInvalid)
	}
	mult := float64(1)
	switch t[len(t)-1] {
	case 'k':
		mult = 1 << 10
	case 'm':
		mult = 1 << 20
	case 'g':
		mult = 1 << 30
	case 't':
		mult = 1 << 40
	}
	if mult != 1 {
		t = t[:len(t)-1]
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size %q: use a number with an optional unit (b, k, m, g): %w", s, errdefs.ErrInvalid)
	}
	return int64(f * mult), nil
}

// ParseDecimalSize parses a size whose units are powers of 1000 (7m is 7000000 bytes), as
// podman reads containers.conf's shm_size (its --shm-size flag's units are powers of 1024).
func ParseDecimalSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	mult := float64(1)
	if t != "" {
		if i := strings.IndexByte("kmgtp", t[len(t)-1]); i >= 0 {
			mult = math.Pow(1000, float64(i+1))
			t = t[:len(t)-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("invalid size %q: use a number with an optional unit (b, k, m, g): %w", s, errdefs.ErrInvalid)
	}
	return int64(f * mult), nil
}

// ParseNamespace reads a --pid, --ipc or --uts value (kind model.NSPid...): host, private,
// container:ID, ns:PATH; for IPC also shareable and none.
func ParseNamespace(kind, v string) (model.Namespace, error) {
	ipc := kind == model.NSIpc
	switch {
	case v == model.NSModeHost || v == model.NSModePrivate:
		return model.Namespace{Mode: v}, nil
	case ipc && (v == model.NSModeShareable || v == model.NSModeNone):
		return model.Namespace{Mode: v}, nil
	case strings.HasPrefix(v, "container:"):
		return model.Namespace{Mode: model.NSModeContainer, Value: strings.TrimPrefix(v, "container:")}, nil
	case strings.HasPrefix(v, "ns:"):
		return model.Namespace{Mode: model.NSModePath, Value: strings.TrimPrefix(v, "ns:")}, nil
	}
	valid := "host, private, container:ID, ns:PATH"
	if ipc {
		valid = "shareable, private, none, host, container:ID, ns:PATH"
	}
	return model.Namespace{}, fmt.Errorf("invalid --%s %q (%s): %w", kind, v, valid, errdefs.ErrInvalid)
}

// NoPortsToPublish reports whether a network mode leaves a container no network of its own to
// publish ports on (host, none, container:): podman drops -p there for a container, and
// refuses it for a pod.
func NoPortsToPublish(mode string) bool {
	return mode == model.NSModeHost || mode == model.NSModeNone || mode == model.NSModeContainer
}

// NetworkMode parses a --network value (Docker's NetworkMode): bridge (also "", default),
// none, host, container:ID, ns:PATH, slirp4netns[:OPTIONS], pasta[:OPTIONS], or network names (NAME[,NAME]), which mean a bridge
// namespace on those networks.
func NetworkMode(mode string) (ns model.Namespace, networks []string) {
	switch {
	case mode == "" || mode == "bridge" || mode == "default":
		return model.Namespace{Mode: model.NSModeBridge}, nil
	case mode == "none":
		return model.Namespace{Mode: model.NSModeNone}, nil
	case mode == "host":
		return model.Namespace{Mode: model.NSModeHost}, nil
	case strings.HasPrefix(mode, "container:"):
		return model.Namespace{Mode: model.NSModeContainer, Value: strings.TrimPrefix(mode, "container:")}, nil
	case strings.HasPrefix(mode, "ns:"):
		return model.Namespace{Mode: model.NSModePath, Value: strings.TrimPrefix(mode, "ns:")}, nil
	case mode == model.NSModeSlirp || strings.HasPrefix(mode, model.NSModeSlirp+":"):
		return model.Namespace{Mode: model.NSModeSlirp, Value: strings.TrimPrefix(strings.TrimPrefix(mode, model.NSModeSlirp), ":")}, nil
	case mode == model.NSModePasta || strings.HasPrefix(mode, model.NSModePasta+":"):
		return model.Namespace{Mode: model.NSModePasta, Value: strings.TrimPrefix(strings.TrimPrefix(mode, model.NSModePasta), ":")}, nil
	}
	return model.Namespace{Mode: model.NSModeBridge}, strings.Split(mode, ",")
}

// ApplyLogOpt sets a --log-opt KEY=VALUE that every log driver takes, max-size=SIZE or
// tag=TAG, on cfg; known is false for another key (path=FILE is the caller's: it is relative
// to the caller's directory).
func ApplyLogOpt(cfg *model.ContainerConfig, key, value string) (known bool, err error) {
	switch key {
	case "max-size":
		n, err := ParseSize(value)
		if err != nil || n <= 0 {
			return true, fmt.Errorf("invalid --log-opt max-size %q: a size such as 10m: %w", value, errdefs.ErrInvalid)
		}
		cfg.LogSizeMax = n
	case "tag":
		cfg.LogTag = value
	default:
		return false, nil
	}
	return true, nil
}

package engine

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// Log drivers (--log-driver).
const (
	LogDriverK8sFile     = "k8s-file"
	LogDriverJSONFile    = "json-file" // kept under its name, written as k8s-file (as podman)
	LogDriverNone        = "none"
	LogDriverPassthrough = "passthrough"
	LogDriverJournald    = "journald"
)

// Cgroups modes (--cgroups).
const (
	CgroupsEnabled  = "enabled"
	CgroupsDisabled = "disabled"
	CgroupsNoConmon = "no-conmon"
)

// runtimeArgs are the runtime's global options for container cfg.
func runtimeArgs(cfg *model.ContainerConfig) []string {
	if cfg.Cgroups == CgroupsDisabled {
		return []string{"--cgroup-manager=disabled"}
	}
	return nil
}

// checkCgroupsMode checks --cgroups and what cannot go with a container without a cgroup.
func checkCgroupsMode(cfg *model.ContainerConfig) error {
	switch cfg.Cgroups {
	case "", CgroupsEnabled, CgroupsNoConmon:
		return nil
	case "split":
		return fmt.Errorf("--cgroups split is not supported: pea runs no systemd unit to split: %w", errdefs.ErrInvalid)
	case CgroupsDisabled:
	default:
		return fmt.Errorf("invalid --cgroups %q (enabled, disabled, no-conmon): %w", cfg.Cgroups, errdefs.ErrInvalid)
	}
	r := cfg.Resources
	limits := r.Memory != 0 || r.CPUs != 0 || r.CpusetCpus != "" || r.PidsLimit != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 ||
		r.CPUShares != 0 || r.CpusetMems != "" || r.CPUPeriod != 0 || r.CPUQuota != 0 || r.BlkioWeight != 0 || r.MemorySwappiness != nil ||
		r.OOMKillDisable || len(r.BlkioWeightDevice)+len(r.DeviceReadBps)+len(r.DeviceWriteBps)+len(r.DeviceReadIOps)+len(r.DeviceWriteIOps)+len(r.DeviceCgroupRules) > 0
	switch {
	case limits:
		return fmt.Errorf("--cgroups disabled: a container without a cgroup cannot have resource limits: %w", errdefs.ErrInvalid)
	case cfg.Pod != "":
		return fmt.Errorf("--cgroups disabled: a pod member lives in its pod's cgroup: %w", errdefs.ErrInvalid)
	case cfg.CgroupParent != "":
		return fmt.Errorf("--cgroups disabled cannot be combined with --cgroup-parent: %w", errdefs.ErrInvalid)
	}
	return nil
}

// journalSocket is where journald listens; the journald log driver needs it.
const journalSocket = "/run/systemd/journal/socket"

// ValidateLogDriver checks a --log-driver value, and that what it needs is there.
func ValidateLogDriver(d string) error {
	switch d {
	case "", LogDriverK8sFile, LogDriverJSONFile, LogDriverNone, LogDriverPassthrough:
		return nil
	case LogDriverJournald:
		if _, err := os.Stat(journalSocket); err != nil {
			return fmt.Errorf("log driver journald: no journal on this host (%s: %v): %w", journalSocket, err, errdefs.ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("invalid log driver %q (k8s-file, json-file, journald, none, passthrough): %w", d, errdefs.ErrInvalid)
}

// conmonLogDriver is the -l argument's driver part conmon is given for a container's driver.
func conmonLogDriver(d string) string {
	switch d {
	case LogDriverNone, LogDriverPassthrough, LogDriverJournald:
		return d
	}
	return LogDriverK8sFile
}

// resolveVolumesFrom copies into cfg the bind mounts and named volumes of the containers its
// VolumesFrom name (CTR[:ro|rw|z,...]), at the same destinations and with their options; ro or
// rw overrides a copied mount's own. A destination the container mounts itself keeps its own
// mount, and the first container naming a destination wins.
func (r *Runtime) resolveVolumesFrom(cfg *model.ContainerConfig) error {
	ms, err := r.volumesFrom(cfg.VolumesFrom, cfg.Mounts)
	if err != nil {
		return err
	}
	cfg.Mounts = append(cfg.Mounts, ms...)
	return nil
}

// volumesFrom returns the mounts --volumes-from specs give beside own (see resolveVolumesFrom).
func (r *Runtime) volumesFrom(specs []string, own []model.Mount) ([]model.Mount, error) {
	taken := map[string]bool{}
	for _, m := range own {
		taken[m.Destination] = true
	}
	var out []model.Mount
	for _, spec := range specs {
		ref, opts, _ := strings.Cut(spec, ":")
		var ro, rw bool
		if opts != "" {
			for _, o := range strings.Split(opts, ",") {
				switch o {
				case "ro":
					ro = true
				case "rw":
					rw = true
				case "z":
				default:
					return nil, fmt.Errorf("invalid option %q specified - volumes from another container can only use z,ro,rw options: %w", o, errdefs.ErrInvalid)
				}
			}
		}
		if ro && rw {
			return nil, fmt.Errorf("--volumes-from %s: cannot set both ro and rw: %w", spec, errdefs.ErrInvalid)
		}
		src, err := r.LookupContainer(ref)
		if err != nil {
			return nil, fmt.Errorf("looking up container %q for volumes-from: %w", ref, err)
		}
		for _, m := range src.Config.Mounts {
			if m.Type != "bind" && m.Type != "volume" || taken[m.Destination] {
				continue
			}
			taken[m.Destination] = true
			m.Options = append([]string(nil), m.Options...)
			switch {
			case ro:
				m.ReadOnly = true
			case rw:
				m.ReadOnly = false
			}
			out = append(out, m)
		}
	}
	return out, nil
}

// resolveBlkioDevices checks the per-device limits, HOST_DEVICE:VALUE, and writes their values
// as plain numbers (a rate's unit applied): the device must be a block device of the host.
// The device's numbers are looked up when the spec is made (blockDevice).
func resolveBlkioDevices(res *model.Resources) error {
	lists := []struct {
		flag string
		list []string
		rate bool
	}{
		{"--blkio-weight-device", res.BlkioWeightDevice, false},
		{"--device-read-bps", res.DeviceReadBps, true},
		{"--device-write-bps", res.DeviceWriteBps, true},
		{"--device-read-iops", res.DeviceReadIOps, false},
		{"--device-write-iops", res.DeviceWriteIOps, false},
	}
	for _, l := range lists {
		for i, spec := range l.list {
			j := strings.LastIndex(spec, ":")
			if j <= 0 {
				return fmt.Errorf("invalid %s %q: want DEVICE:VALUE: %w", l.flag, spec, errdefs.ErrInvalid)
			}
			dev, val := spec[:j], spec[j+1:]
			var n uint64
			var err error
			if l.rate {
				var sz int64
				sz, err = ParseSize(val)
				n = uint64(sz)
			} else {
				n, err = strconv.ParseUint(val, 10, 64)
			}
			if err != nil {
				return fmt.Errorf("invalid %s %q: bad value %q: %w", l.flag, spec, val, errdefs.ErrInvalid)
			}
			if l.flag == "--blkio-weight-device" && (n < 10 || n > 1000) {
				return fmt.Errorf("invalid %s %q: the weight is from 10 to 1000: %w", l.flag, spec, errdefs.ErrInvalid)
			}
			if _, _, err := blockDevice(dev); err != nil {
				return fmt.Errorf("%s: %w", l.flag, err)
			}
			l.list[i] = dev + ":" + strconv.FormatUint(n, 10)
		}
	}
	return nil
}

// blockDevice returns the major and minor numbers of the host's block device path.
func blockDevice(path string) (major, minor int64, err error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, 0, fmt.Errorf("%s: %v: %w", path, err, errdefs.ErrNotFound)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return 0, 0, fmt.Errorf("%s is not a block device: %w", path, errdefs.ErrInvalid)
	}
	return int64(unix.Major(uint64(st.Rdev))), int64(unix.Minor(uint64(st.Rdev))), nil
}

// prepareRunFlags checks and resolves, at creation, what the flags of runflags.go ask: the log
// driver, the rootfs directory, the per-device block I/O limits, the personality, the
// containers it requires (by ID), and the mounts of --volumes-from.
func (r *Runtime) prepareRunFlags(cfg *model.ContainerConfig) error {
	if err := ValidateLogDriver(cfg.LogDriver); err != nil {
		return err
	}
	if cfg.LogDriver == LogDriverPassthrough && cfg.Terminal {
		return fmt.Errorf("the passthrough log driver cannot be used with a terminal (--tty): %w", errdefs.ErrInvalid)
	}
	if cfg.Rootfs != "" {
		st, err := os.Stat(cfg.Rootfs)
		if err != nil {
			return fmt.Errorf("--rootfs %s: %w", cfg.Rootfs, errdefs.ErrNotFound)
		}
		if !st.IsDir() {
			return fmt.Errorf("--rootfs %s: not a directory: %w", cfg.Rootfs, errdefs.ErrInvalid)
		}
	}
	if err := checkCgroupsMode(cfg); err != nil {
		return err
	}
	if err := checkRealtime(cfg); err != nil {
		return err
	}
	if err := checkHostUsers(cfg.HostUsers); err != nil {
		return err
	}
	for _, d := range cfg.ChrootDirs {
		if !filepath.IsAbs(d) {
			return fmt.Errorf("--chrootdirs %s: an absolute path in the container is needed: %w", d, errdefs.ErrInvalid)
		}
	}
	if len(cfg.CgroupConf) > 0 {
		if cgroups.Mode() != "v2" {
			return fmt.Errorf("cannot use --cgroup-conf without cgroup v2: %w", errdefs.ErrInvalid)
		}
		if cfg.Cgroups == CgroupsDisabled {
			return fmt.Errorf("--cgroup-conf: a container without a cgroup (--cgroups disabled) has no files to set: %w", errdefs.ErrInvalid)
		}
		for k := range cfg.CgroupConf {
			if k == "" || strings.ContainsAny(k, "/\x00") || !strings.Contains(k, ".") {
				return fmt.Errorf("invalid --cgroup-conf %q: want a cgroup file name such as memory.high: %w", k, errdefs.ErrInvalid)
			}
		}
	}
	if cfg.InitPath != "" {
		if !cfg.Init {
			return fmt.Errorf("--init-path %s needs --init: it is the init --init runs: %w", cfg.InitPath, errdefs.ErrInvalid)
		}
		if st, err := os.Stat(cfg.InitPath); err != nil || !st.Mode().IsRegular() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("--init-path %s: not an executable file: %w", cfg.InitPath, errdefs.ErrInvalid)
		}
	}
	if cfg.NoPasswd && cfg.PasswdEntry != "" {
		return fmt.Errorf("--passwd-entry cannot be combined with --passwd=false: %w", errdefs.ErrInvalid)
	}
	switch cfg.Personality {
	case "", "LINUX", "LINUX32":
	default:
		return fmt.Errorf("invalid --personality %q (LINUX, LINUX32): %w", cfg.Personality, errdefs.ErrInvalid)
	}
	if err := resolveBlkioDevices(&cfg.Resources); err != nil {
		return err
	}
	if err := checkBlkioWeight(cfg.Resources); err != nil {
		return err
	}
	if s := cfg.Resources.MemorySwappiness; s != nil && (*s < 0 || *s > 100) {
		return fmt.Errorf("invalid --memory-swappiness %d: from 0 to 100: %w", *s, errdefs.ErrInvalid)
	}
	for _, rule := range cfg.Resources.DeviceCgroupRules {
		if _, err := parseDeviceCgroupRule(rule); err != nil {
			return err
		}
	}
	for i, ref := range cfg.Requires {
		c, err := r.LookupContainer(ref)
		if err != nil {
			return fmt.Errorf("--requires %s: %w", ref, err)
		}
		cfg.Requires[i] = c.Config.ID
	}
	return r.resolveVolumesFrom(cfg)
}

// startRequired starts the containers c requires (--requires) that are not running, each
// after those it requires itself (seen guards against a loop).
func (r *Runtime) startRequired(ctx context.Context, c *model.Container, seen map[string]bool) error {
	for _, id := range c.Config.Requires {
		if seen[id] {
			continue
		}
		seen[id] = true
		dep, err := r.LookupContainer(id)
		if err != nil {
			return fmt.Errorf("container %s requires %s: %w", c.Config.Name, id, err)
		}
		if err := r.startRequired(ctx, dep, seen); err != nil {
			return err
		}
		if dep.State.Active() {
			continue
		}
		if _, err := r.startOne(ctx, dep, nil); err != nil && !errdefs.Is(err, errdefs.ErrCtrStateInvalid) {
			return fmt.Errorf("starting %s, which %s requires: %w", dep.Config.Name, c.Config.Name, err)
		}
	}
	return nil
}

// parseDeviceCgroupRule parses a --device-cgroup-rule: "TYPE MAJOR:MINOR ACCESS", TYPE one of
// a, b, c, MAJOR and MINOR numbers or *, ACCESS of r, w, m.
func parseDeviceCgroupRule(rule string) (specs.LinuxDeviceCgroup, error) {
	bad := fmt.Errorf("invalid device cgroup rule %q: want TYPE MAJOR:MINOR ACCESS (c 1:3 rwm): %w", rule, errdefs.ErrInvalid)
	f := strings.Fields(rule)
	if len(f) != 3 {
		return specs.LinuxDeviceCgroup{}, bad
	}
	d := specs.LinuxDeviceCgroup{Allow: true, Type: f[0], Access: f[2]}
	switch f[0] {
	case "a", "b", "c":
	default:
		return d, bad
	}
	maj, min, ok := strings.Cut(f[1], ":")
	if !ok {
		return d, bad
	}
	num := func(s string) (*int64, bool) {
		if s == "*" {
			return nil, true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return &n, err == nil && n >= 0
	}
	var ok1, ok2 bool
	d.Major, ok1 = num(maj)
	d.Minor, ok2 = num(min)
	if !ok1 || !ok2 || f[2] == "" || strings.Trim(f[2], "rwm") != "" {
		return d, bad
	}
	return d, nil
}

// mergeEnvExpanded sets each VAR=VALUE of merge in env, ${NAME} and $NAME in VALUE expanded
// with env's values (empty for a variable env does not have).
func mergeEnvExpanded(env, merge []string) []string {
	lookup := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v
			}
		}
		return ""
	}
	var set []string
	for _, kv := range merge {
		k, v, _ := strings.Cut(kv, "=")
		set = append(set, k+"="+os.Expand(v, lookup))
	}
	return mergeEnv(env, set)
}

// checkBlkioWeight checks the block I/O weights, and that the host can apply them.
func checkBlkioWeight(r model.Resources) error {
	if w := r.BlkioWeight; w != 0 && (w < 10 || w > 1000) {
		return fmt.Errorf("invalid --blkio-weight %d: from 10 to 1000: %w", w, errdefs.ErrInvalid)
	}
	if (r.BlkioWeight != 0 || len(r.BlkioWeightDevice) > 0) && !cgroups.BlkioWeight() {
		return fmt.Errorf("--blkio-weight and --blkio-weight-device are not supported on this host: its cgroup v1 block I/O controller has no blkio.weight (no CFQ scheduler), which the runtime writes: %w", errdefs.ErrInvalid)
	}
	return nil
}

// preparePodRunFlags checks a new pod's block I/O settings and copies the mounts of the
// containers its VolumesFrom name (for its members, see joinPod).
func (r *Runtime) preparePodRunFlags(cfg *model.PodConfig) error {
	if err := resolveBlkioDevices(&cfg.Resources); err != nil {
		return err
	}
	if err := checkBlkioWeight(cfg.Resources); err != nil {
		return err
	}
	ms, err := r.volumesFrom(cfg.VolumesFrom, nil)
	if err != nil {
		return err
	}
	cfg.VolumesFromMounts = ms
	return nil
}

// deviceNumbers turns DEVICE:VALUE lines into "MAJOR:MINOR VALUE", as cgroup v1 files take
// them (a device gone since is left out).
func deviceNumbers(list []string) []string {
	var out []string
	for _, s := range list {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			continue
		}
		if maj, min, err := blockDevice(s[:i]); err == nil {
			out = append(out, fmt.Sprintf("%d:%d %s", maj, min, s[i+1:]))
		}
	}
	return out
}

// passwdFile returns a copy of the image's /etc/passwd, written in the container's etc
// directory, with the host's lines of the --hostuser users it lacks and a line for the
// container's user when its --user is a number the file lacks (podman's --passwd, on by
// default); "" when none is needed. The line is PasswdEntry's template
// ($USERNAME, $UID, $GID, $NAME, $HOME) or "UID:*:UID:GID:container user:WORKDIR:/bin/sh".
func (r *Runtime) passwdFile(cfg *model.ContainerConfig, rootfs string, uid, gid uint32, ns *userNS) (string, error) {
	var lines []string
	have := readColonFile(rootfs, "etc/passwd")
	for _, u := range cfg.HostUsers { // --hostuser: the host's lines the file lacks
		line := hostPasswdLine(u)
		name, _, _ := strings.Cut(line, ":")
		if line != "" && !slices.ContainsFunc(have, func(f []string) bool { return len(f) > 0 && f[0] == name }) {
			lines = append(lines, line)
		}
	}
	if l := r.passwdEntry(cfg, have, uid, gid); l != "" {
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return "", nil
	}
	old, err := readInRoot(rootfs, "etc/passwd", maxIDFile)
	if err != nil {
		old = nil
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	dir := r.etcDir(cfg.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	p := dir + "/passwd"
	if err := os.WriteFile(p, append(old, strings.Join(lines, "\n")+"\n"...), 0o644); err != nil {
		return "", err
	}
	return p, chownToRoot(ns, p)
}

// passwdEntry is the line --passwd adds for a numeric --user the image's file (have) lacks, or
// "" (see passwdFile).
func (r *Runtime) passwdEntry(cfg *model.ContainerConfig, have [][]string, uid, gid uint32) string {
	userPart, _, _ := strings.Cut(cfg.User, ":")
	if cfg.NoPasswd || userPart == "" || cfg.IsInfra {
		return ""
	}
	if _, err := strconv.ParseUint(userPart, 10, 32); err != nil {
		return "" // a name: lookupUser found it in the file
	}
	for _, f := range have {
		if len(f) >= 3 && f[2] == userPart {
			return ""
		}
	}
	home := cfg.WorkingDir
	if home == "" {
		home = "/"
	}
	tmpl := cfg.PasswdEntry
	if tmpl == "" {
		tmpl = "$UID:*:$UID:$GID:container user:$HOME:/bin/sh"
	}
	return os.Expand(tmpl, func(k string) string {
		switch k {
		case "USERNAME", "UID":
			return strconv.FormatUint(uint64(uid), 10)
		case "GID":
			return strconv.FormatUint(uint64(gid), 10)
		case "NAME":
			return "container user"
		case "HOME":
			return home
		}
		return ""
	})
}

// Platform is an image platform a container asks for; empty fields ask nothing.
type Platform struct {
	OS, Arch, Variant string
}

// matches checks that img, found by ref, is of platform p; a mismatch is an image not known
// (podman looks for the platform's image, and a local one of another platform is not it).
func (p Platform) matches(ref string, img *image.Image) error {
	c := img.Config
	if (p.OS == "" || p.OS == c.OS) && (p.Arch == "" || p.Arch == c.Architecture) && (p.Variant == "" || p.Variant == c.Variant) {
		return nil
	}
	have := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		have += "/" + c.Variant
	}
	return fmt.Errorf("%s is of platform %s, not %s: %w", ref, have, p, image.ErrImageNotKnown(ref))
}

func (p Platform) String() string {
	os, arch := p.OS, p.Arch
	if os == "" {
		os = "linux"
	}
	if arch == "" {
		arch = "*"
	}
	s := os + "/" + arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// seccompLabel is the image label (or annotation) holding a seccomp profile, for
// --seccomp-policy image.
const seccompLabel = "io.containers.seccomp.profile"

// imageSeccompMark is cfg.Seccomp's value between applyImageRunFlags and writeImageSeccomp: the
// profile is the image's, to be written in the container's directory.
const imageSeccompMark = "\x00image"

// applyImageRunFlags applies --image-volume and --seccomp-policy to cfg, made from img.
func applyImageRunFlags(cfg *model.ContainerConfig, img *image.Image, o CreateOptions) error {
	switch o.ImageVolume {
	case "", "ignore":
	case "bind", "tmpfs":
		for _, dest := range slices.Sorted(maps.Keys(img.Config.Config.Volumes)) {
			dest = filepath.Clean(dest)
			if !filepath.IsAbs(dest) || userMounts(cfg, dest) {
				continue
			}
			m := model.Mount{Type: "volume", Destination: dest} // anonymous
			if o.ImageVolume == "tmpfs" {
				m = model.Mount{Type: "tmpfs", Destination: dest, Options: []string{"tmpcopyup"}}
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
	default:
		return fmt.Errorf("invalid --image-volume %q (bind, tmpfs, ignore): %w", o.ImageVolume, errdefs.ErrInvalid)
	}
	switch o.SeccompPolicy {
	case "", "default":
	case "image":
		if _, ok := img.Config.Config.Labels[seccompLabel]; ok && cfg.Seccomp == "" && !cfg.Privileged {
			cfg.Seccomp = imageSeccompMark
			cfg.Annotations = maps.Clone(cfg.Annotations)
			if cfg.Annotations == nil {
				cfg.Annotations = map[string]string{}
			}
			cfg.Annotations[seccompLabel] = img.Config.Config.Labels[seccompLabel]
		}
	default:
		return fmt.Errorf("invalid --seccomp-policy %q (default, image): %w", o.SeccompPolicy, errdefs.ErrInvalid)
	}
	return nil
}

// writeImageSeccomp writes the image's seccomp profile (see applyImageRunFlags) into the new
// container's directory, checked, and makes it the container's profile.
func (r *Runtime) writeImageSeccomp(cfg *model.ContainerConfig) error {
	if cfg.Seccomp != imageSeccompMark {
		return nil
	}
	p := filepath.Join(r.ctrDir(cfg.ID), "seccomp.json")
	if err := os.WriteFile(p, []byte(cfg.Annotations[seccompLabel]), 0o600); err != nil {
		return err
	}
	cfg.Seccomp = p
	if _, err := seccompFor(cfg); err != nil {
		return fmt.Errorf("the seccomp profile of the image (label %s): %v: %w", seccompLabel, err, errdefs.ErrInvalid)
	}
	return nil
}

// sdNotifySocket is the host's sd_notify socket container cfg's process gets: pea's
// NOTIFY_SOCKET (a socket file, not an abstract one) with --sdnotify container, else none.
func sdNotifySocket(cfg *model.ContainerConfig) string {
	p := os.Getenv("NOTIFY_SOCKET")
	if cfg.SdNotify != SdNotifyContainer || !strings.HasPrefix(p, "/") {
		return ""
	}
	if st, err := os.Stat(p); err != nil || st.Mode()&os.ModeSocket == 0 {
		return ""
	}
	return p
}

// containerNotifySocket is where a container finds the sd_notify socket.
const containerNotifySocket = "/run/notify/notify.sock"

// notifyReady tells the sd_notify socket of pea's caller that container c started, with
// conmon's PID as the service's main process (--sdnotify conmon).
func notifyReady(c *model.Container) error {
	p := os.Getenv("NOTIFY_SOCKET")
	if c.Config.SdNotify != SdNotifyConmon || p == "" {
		return nil
	}
	if strings.HasPrefix(p, "@") {
		p = "\x00" + p[1:]
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	msg := fmt.Sprintf("MAINPID=%d\nREADY=1\n", c.State.ConmonPid)
	return unix.Sendto(fd, []byte(msg), 0, &unix.SockaddrUnix{Name: p})
}

// --sdnotify modes.
const (
	SdNotifyContainer = "container"
	SdNotifyConmon    = "conmon"
	SdNotifyIgnore    = "ignore"
)

// applySystemdMode decides whether the container runs systemd (--systemd): always, or with
// true (the default) when its command is an init (/sbin/init, /usr/sbin/init,
// /usr/local/sbin/init) or a systemd binary; then, unless it has a stop signal of its own (the
// user's or the image's), it stops with SIGRTMIN+3, systemd's signal to shut down.
func applySystemdMode(cfg *model.ContainerConfig) error {
	switch cfg.Systemd {
	case "", "true":
		cmd := cfg.Command()
		if len(cmd) == 0 {
			return nil
		}
		switch cmd[0] {
		case "/sbin/init", "/usr/sbin/init", "/usr/local/sbin/init":
			cfg.SystemdMode = true
		default:
			cfg.SystemdMode = filepath.Base(cmd[0]) == "systemd"
		}
	case "always":
		cfg.SystemdMode = true
	case "false":
		cfg.SystemdMode = false
	default:
		return fmt.Errorf("invalid --systemd %q (true, false, always): %w", cfg.Systemd, errdefs.ErrInvalid)
	}
	if cfg.SystemdMode && cfg.StopSignal == 0 {
		cfg.StopSignal = sigRTMin + 3
	}
	return nil
}

// sigRTMin is Linux's SIGRTMIN as the kernel numbers it (glibc keeps 32 and 33 for itself).
const sigRTMin = 34

// systemdMounts adds to mounts what systemd in a container needs (see applySystemdMode): tmpfs
// where it keeps its runtime state and a writable cgroup file system.
func systemdMounts(cfg *model.ContainerConfig, mounts []specs.Mount) []specs.Mount {
	for _, dest := range []string{"/run", "/run/lock", "/tmp", "/var/log/journal"} {
		if userMounts(cfg, dest) {
			continue
		}
		opts := []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}
		if dest != "/tmp" && dest != "/var/log/journal" {
			opts = append(opts, "noexec")
		}
		mounts = dropMount(mounts, dest)
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	for i := range mounts {
		if mounts[i].Destination == "/sys/fs/cgroup" {
			mounts[i].Options = append(removeOpt(mounts[i].Options, "ro"), "rw")
		}
	}
	return mounts
}

// checkRealtime checks --cpu-rt-period and --cpu-rt-runtime, and on cgroup v1 that the
// container's cgroup parent has that much real-time CPU time to give: the kernel refuses a
// child more than its parent has, and a cgroup pea makes has none unless the administrator
// gave its parent some (cpu.rt_runtime_us).
func checkRealtime(cfg *model.ContainerConfig) error {
	r := cfg.Resources
	if r.CPURtPeriod == 0 && r.CPURtRuntime == 0 {
		return nil
	}
	if r.CPURtRuntime > 0 && r.CPURtPeriod > 0 && uint64(r.CPURtRuntime) > r.CPURtPeriod {
		return fmt.Errorf("--cpu-rt-runtime %d is longer than --cpu-rt-period %d: %w", r.CPURtRuntime, r.CPURtPeriod, errdefs.ErrInvalid)
	}
	if cgroups.Mode() == "v2" {
		return fmt.Errorf("--cpu-rt-period and --cpu-rt-runtime need cgroup v1: cgroup v2 has no real-time CPU controller: %w", errdefs.ErrInvalid)
	}
	if r.CPURtRuntime <= 0 {
		return nil
	}
	parent := cfg.CgroupParent
	if parent == "" {
		parent = defaultCgroupParent
	}
	for dir := parent; ; dir = filepath.Dir(dir) {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpu", dir, "cpu.rt_runtime_us"))
		if err == nil {
			have, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			if have >= 0 && have < r.CPURtRuntime {
				return fmt.Errorf("--cpu-rt-runtime %d: the cgroup parent %s has %d microseconds of real-time CPU time to give (its cpu.rt_runtime_us): raise it first: %w", r.CPURtRuntime, dir, have, errdefs.ErrInvalid)
			}
			return nil
		}
		if dir == "/" {
			return nil
		}
	}
}

// SubIDMaps returns the ID mappings, as --uidmap/--gidmap specs (CONTAINER:HOST:SIZE), of
// name's ranges in a subordinate ID file (/etc/subuid or /etc/subgid): container IDs from 0
// on, through the ranges in the file's order (--subuidname, --subgidname).
func SubIDMaps(file, name string) ([]string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("no subordinate IDs for %s: %v: %w", name, err, errdefs.ErrInvalid)
	}
	var out []string
	next := uint64(0)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(strings.TrimSpace(line), ":")
		if len(f) != 3 || f[0] != name {
			continue
		}
		start, err1 := strconv.ParseUint(f[1], 10, 32)
		size, err2 := strconv.ParseUint(f[2], 10, 32)
		if err1 != nil || err2 != nil || size == 0 {
			return nil, fmt.Errorf("%s: bad line %q: %w", file, line, errdefs.ErrInvalid)
		}
		out = append(out, fmt.Sprintf("%d:%d:%d", next, start, size))
		next += size
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no subordinate IDs for %s in %s: %w", name, file, errdefs.ErrInvalid)
	}
	return out, nil
}

// checkHostUsers checks that each --hostuser is a user of the host's /etc/passwd.
func checkHostUsers(users []string) error {
	for _, u := range users {
		if hostPasswdLine(u) == "" {
			return fmt.Errorf("--hostuser %s: no such user in the host's /etc/passwd: %w", u, errdefs.ErrNotFound)
		}
	}
	return nil
}

// hostPasswdLine returns the line of the host's /etc/passwd for a user name or UID ("" when
// there is none).
func hostPasswdLine(user string) string {
	data, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 7 && (f[0] == user || f[2] == user) {
			return line
		}
	}
	return ""
}

// takePreserveFDs returns (once) how many fds container id's start passes on (see
// Runtime.preserveFDs).
func (r *Runtime) takePreserveFDs(id string) int {
	if v, ok := r.preserveFDs.LoadAndDelete(id); ok {
		return v.(int)
	}
	return 0
}

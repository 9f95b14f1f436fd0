package engine

// The cgroup side of the run flags: block I/O, device rules, real-time CPU, --cgroups.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/rootless"
)

// Cgroups modes (--cgroups).
const (
	CgroupsEnabled  = "enabled"
	CgroupsDisabled = "disabled"
	CgroupsNoConmon = "no-conmon"
)

// runtimeArgs are the runtime's global options for container cfg.
func runtimeArgs(cfg *model.ContainerConfig) []string {
	var args []string
	for _, f := range cfg.RuntimeFlags {
		args = append(args, "--"+strings.TrimPrefix(f, "--"))
	}
	if cfg.Cgroups == CgroupsDisabled {
		args = append(args, "--cgroup-manager=disabled")
	}
	return args
}

// checkCgroupsMode checks --cgroups and what cannot go with a container without a cgroup.
func checkCgroupsMode(cfg *model.ContainerConfig) error {
	switch cfg.Cgroups {
	case "", CgroupsEnabled, CgroupsNoConmon, CgroupsDisabled:
	case "split":
		return fmt.Errorf("--cgroups split is not supported: pea runs no systemd unit to split: %w", errdefs.ErrInvalid)
	default:
		return fmt.Errorf("invalid --cgroups %q (enabled, disabled, no-conmon): %w", cfg.Cgroups, errdefs.ErrInvalid)
	}
	if rootless.Active() {
		rootlessCgroups(cfg)
		return nil
	}
	if cfg.Cgroups != CgroupsDisabled {
		return nil
	}
	switch {
	case hasLimits(&cfg.Resources) || len(cfg.Resources.DeviceCgroupRules) > 0:
		return fmt.Errorf("--cgroups disabled: a container without a cgroup cannot have resource limits: %w", errdefs.ErrInvalid)
	case cfg.Pod != "":
		return fmt.Errorf("--cgroups disabled: a pod member lives in its pod's cgroup: %w", errdefs.ErrInvalid)
	case cfg.CgroupParent != "":
		return fmt.Errorf("--cgroups disabled cannot be combined with --cgroup-parent: %w", errdefs.ErrInvalid)
	}
	return nil
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

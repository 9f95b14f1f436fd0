package oci

import (
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// MaskedPaths are hidden from a non-privileged container (a file is covered with /dev/null, a
// directory with an empty read-only tmpfs): kernel memory, keys, timing and scheduler details
// that leak host information or ease side channels. The list is podman's, plus powercap (its
// energy counters allow the Platypus power side channel, CVE-2020-8694).
var MaskedPaths = []string{
	"/proc/acpi",
	"/proc/kcore",
	"/proc/keys",
	"/proc/latency_stats",
	"/proc/timer_list",
	"/proc/timer_stats",
	"/proc/sched_debug",
	"/proc/scsi",
	"/sys/firmware",
	"/sys/fs/selinux",
	"/sys/dev/block",
	"/sys/devices/virtual/powercap",
}

// ReadonlyPaths are remounted read-only in a non-privileged container: the parts of /proc that
// would change the host kernel's settings.
var ReadonlyPaths = []string{
	"/proc/asound",
	"/proc/bus",
	"/proc/fs",
	"/proc/irq",
	"/proc/sys",
	"/proc/sysrq-trigger",
}

// DefaultMounts returns the kernel file systems every container gets, in mount order. /sys and
// its cgroup mount are read-only; the runtime decides what the cgroup mount shows (the
// container's own cgroup under a cgroup namespace).
func DefaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue",
			Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs",
			Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup",
			Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// charDevice describes one of the standard character devices.
type charDevice struct {
	path         string
	major, minor int64
}

var standardDevices = []charDevice{
	{"/dev/null", 1, 3},
	{"/dev/zero", 1, 5},
	{"/dev/full", 1, 7},
	{"/dev/random", 1, 8},
	{"/dev/urandom", 1, 9},
	{"/dev/tty", 5, 0},
}

// DefaultDevices returns the standard device nodes (null, zero, full, random, urandom, tty),
// mode 0666 and owned by root, for linux.devices: the runtime creates them in the container's
// /dev. /dev/console, /dev/ptmx and /dev/pts/* come from the runtime and the devpts mount.
func DefaultDevices() []specs.LinuxDevice {
	mode := os.FileMode(0o666)
	var uid, gid uint32
	devs := make([]specs.LinuxDevice, 0, len(standardDevices))
	for _, d := range standardDevices {
		devs = append(devs, specs.LinuxDevice{
			Path: d.path, Type: "c", Major: d.major, Minor: d.minor,
			FileMode: &mode, UID: &uid, GID: &gid,
		})
	}
	return devs
}

// DefaultDeviceRules returns the device cgroup rules for linux.resources.devices: deny
// everything, then allow the standard devices, /dev/console (5:1), /dev/ptmx (5:2) and the
// pseudo-terminals (136:*), and allow mknod(2) of any device (which still needs CAP_MKNOD, not in
// the default set; a node made that way cannot be opened unless allowed here).
func DefaultDeviceRules() []specs.LinuxDeviceCgroup {
	i64 := func(v int64) *int64 { return &v }
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Access: "m"},
		{Allow: true, Type: "b", Access: "m"},
	}
	for _, d := range standardDevices {
		rules = append(rules, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(d.major), Minor: i64(d.minor), Access: "rwm"})
	}
	rules = append(rules,
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(5), Minor: i64(1), Access: "rwm"},
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(5), Minor: i64(2), Access: "rwm"},
		specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: i64(136), Access: "rwm"},
	)
	return rules
}

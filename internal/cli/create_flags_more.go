package cli

import (
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"pea/internal/engine"
	"pea/internal/model"
)

// moreCreateFlags are create's and run's flags of log drivers, --volumes-from, --rootfs, the
// environment's pruning and the block I/O and memory cgroup settings (engine/runflags.go).
type moreCreateFlags struct {
	volumesFrom, unsetEnv, envMerge, requires []string
	logDriver, personality, initPath, pwEntry string
	cgroups, platform, arch, os, variant      string
	imageVolume, seccompPolicy, sdNotify      string
	systemd, ip6                              string
	rootfs, unsetEnvAll, oomKillDisable, pw   bool
	httpProxy, contentTrust                   bool
	timeout, preserveFDs                      uint
	blkioWeight                               uint16
	blkioWeightDevice, readBps, writeBps      []string
	readIOps, writeIOps, deviceCgroupRules    []string
	cgroupConf, chrootDirs, hostUsers         []string
	subUIDName, subGIDName                    string
	memorySwappiness, cpuRtRuntime            int64
	cpuRtPeriod                               uint64
}

func (f *moreCreateFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.volumesFrom, "volumes-from", nil, "mount the volumes and bind mounts of another container: CTR[:ro|rw]")
	fs.StringVar(&f.logDriver, "log-driver", "", "log driver: k8s-file (default), json-file, none, passthrough, journald")
	fs.BoolVar(&f.rootfs, "rootfs", false, "the first argument is a root filesystem directory (DIR[:O], O: an overlay keeps it unchanged), not an image")
	fs.StringArrayVar(&f.unsetEnv, "unsetenv", nil, "leave this variable out of the environment (the image's or pea's default)")
	fs.BoolVar(&f.unsetEnvAll, "unsetenv-all", false, "leave out every variable the user did not set (the image's and pea's defaults)")
	fs.StringArrayVar(&f.envMerge, "env-merge", nil, "set a variable from the image's: VAR=${VAR}:extra")
	fs.StringSliceVar(&f.requires, "requires", nil, "containers started before this one (CTR[,CTR...])")
	fs.StringVar(&f.personality, "personality", "", "execution domain of the process: LINUX or LINUX32")
	fs.StringVar(&f.initPath, "init-path", "", "host path of the init --init runs (default: catatonit)")
	fs.BoolVar(&f.pw, "passwd", true, "add the --user to /etc/passwd when it is a number the image's file lacks")
	fs.StringVar(&f.pwEntry, "passwd-entry", "", "the /etc/passwd line --passwd adds ($USERNAME, $UID, $GID, $NAME, $HOME)")
	fs.StringVar(&f.cgroups, "cgroups", "enabled", "cgroup mode: enabled, no-conmon (conmon stays in the caller's cgroup, as always with pea), disabled (no cgroup of its own)")
	fs.StringVar(&f.platform, "platform", "", "the image's platform: OS/ARCH[/VARIANT] (a local image of another one is not used)")
	fs.StringVar(&f.arch, "arch", "", "the image's architecture")
	fs.StringVar(&f.os, "os", "", "the image's operating system")
	fs.StringVar(&f.variant, "variant", "", "the image's architecture variant")
	listVar(fs, &f.cgroupConf, "cgroup-conf", nil, "write a cgroup v2 file of the container's cgroup: KEY=VALUE (memory.high=1g...)")
	fs.StringVar(&f.imageVolume, "image-volume", "bind", "what the image's VOLUMEs become: ignore (nothing), bind (an anonymous volume each), tmpfs (a tmpfs each with the image's content)")
	fs.StringVar(&f.seccompPolicy, "seccomp-policy", "default", "default, or image: the seccomp profile of the image's io.containers.seccomp.profile label")
	fs.StringVar(&f.sdNotify, "sdnotify", "container", "use of $NOTIFY_SOCKET: container (the container's process notifies), conmon (pea says READY once it started), ignore")
	fs.StringVar(&f.systemd, "systemd", "true", "systemd mode: true (when the command is init or systemd), false, always")
	fs.StringVar(&f.ip6, "ip6", "", "static IPv6 address on the network (one with an IPv6 subnet)")
	fs.Uint64Var(&f.cpuRtPeriod, "cpu-rt-period", 0, "real-time CPU period of the cgroup, in microseconds")
	fs.Int64Var(&f.cpuRtRuntime, "cpu-rt-runtime", 0, "real-time CPU time of the cgroup per period, in microseconds")
	listVar(fs, &f.chrootDirs, "chrootdirs", nil, "a directory of the container that gets pea's /etc/hosts, /etc/resolv.conf and /etc/hostname below it too")
	listVar(fs, &f.hostUsers, "hostuser", nil, "copy this host user's /etc/passwd line into the container's")
	fs.StringVar(&f.subUIDName, "subuidname", "", "a user namespace mapping the UIDs of this name's /etc/subuid ranges")
	fs.StringVar(&f.subGIDName, "subgidname", "", "a user namespace mapping the GIDs of this name's /etc/subgid ranges")
	fs.BoolVar(&f.httpProxy, "http-proxy", true, "give the container the host's proxy variables (http_proxy, https_proxy, ftp_proxy, no_proxy, either case)")
	fs.BoolVar(&f.contentTrust, "disable-content-trust", false, "accepted for Docker compatibility; does nothing (as podman)")
	fs.UintVar(&f.preserveFDs, "preserve-fds", 0, "pass pea's file descriptors 3 to 3+N-1 on to the container's process")
	fs.UintVar(&f.timeout, "timeout", 0, "kill the container after this many seconds (0: never)")
	fs.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "block I/O weight (10-1000)")
	listVar(fs, &f.blkioWeightDevice, "blkio-weight-device", nil, "block I/O weight of a device: DEVICE:WEIGHT")
	listVar(fs, &f.readBps, "device-read-bps", nil, "read rate limit of a device: DEVICE:RATE (1mb, 512k...)")
	listVar(fs, &f.writeBps, "device-write-bps", nil, "write rate limit of a device: DEVICE:RATE")
	listVar(fs, &f.readIOps, "device-read-iops", nil, "read operations per second limit of a device: DEVICE:N")
	listVar(fs, &f.writeIOps, "device-write-iops", nil, "write operations per second limit of a device: DEVICE:N")
	fs.Int64Var(&f.memorySwappiness, "memory-swappiness", -1, "swappiness of the container's memory (0-100, -1: the kernel's)")
	fs.BoolVar(&f.oomKillDisable, "oom-kill-disable", false, "do not let the kernel's OOM killer kill the container's processes")
	listVar(fs, &f.deviceCgroupRules, "device-cgroup-rule", nil, "allow devices in the cgroup: TYPE MAJOR:MINOR ACCESS (c 1:3 rwm)")
}

// imageOrRootfs returns the image reference, or with --rootfs the directory (and whether it
// gets an overlay) that arg names.
func (f *moreCreateFlags) imageOrRootfs(arg string) (image, rootfs string, overlay bool, err error) {
	if !f.rootfs {
		return arg, "", false, nil
	}
	dir, overlay := strings.CutSuffix(arg, ":O")
	if dir == "" {
		return "", "", false, invalid("--rootfs needs a directory")
	}
	abs, err := filepath.Abs(dir)
	return "", abs, overlay, err
}

// apply puts the flags into cfg; env is the environment the user gave (-e, --env-file).
func (f *moreCreateFlags) apply(cfg *model.ContainerConfig, o *engine.CreateOptions, changed func(string) bool) error {
	cfg.VolumesFrom = f.volumesFrom
	cfg.LogDriver = f.logDriver
	if err := engine.ValidateLogDriver(f.logDriver); err != nil {
		return err
	}
	cfg.UnsetEnv, cfg.UnsetEnvAll = f.unsetEnv, f.unsetEnvAll
	for _, kv := range f.envMerge {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return invalid("invalid --env-merge %q: want VAR=VALUE (${VAR} is the image's value)", kv)
		}
	}
	o.EnvMerge = f.envMerge
	cfg.Requires = slices.DeleteFunc(slices.Clone(f.requires), func(s string) bool { return s == "" })
	cfg.Personality = f.personality
	if len(f.cgroupConf) > 0 {
		conf, err := parseKV(f.cgroupConf, "--cgroup-conf")
		if err != nil {
			return err
		}
		cfg.CgroupConf = conf
	}
	o.ImageVolume, o.SeccompPolicy = f.imageVolume, f.seccompPolicy
	switch f.systemd {
	case "true":
	case "false", "always":
		cfg.Systemd = f.systemd
	default:
		return invalid("invalid --systemd %q (true, false, always)", f.systemd)
	}
	switch f.sdNotify {
	case engine.SdNotifyContainer, engine.SdNotifyConmon, engine.SdNotifyIgnore:
		cfg.SdNotify = f.sdNotify
	default:
		return invalid("invalid --sdnotify %q (container, conmon, ignore)", f.sdNotify)
	}
	switch f.imageVolume {
	case "bind", "tmpfs", "ignore":
	default:
		return invalid("invalid --image-volume %q (bind, tmpfs, ignore)", f.imageVolume)
	}
	switch f.seccompPolicy {
	case "default", "image":
	default:
		return invalid("invalid --seccomp-policy %q (default, image)", f.seccompPolicy)
	}
	if err := setIP6(&cfg.Network, f.ip6); err != nil {
		return err
	}
	if err := f.applyPlatform(o); err != nil {
		return err
	}
	if f.cgroups != engine.CgroupsEnabled {
		cfg.Cgroups = f.cgroups
	}
	cfg.NoPasswd, cfg.PasswdEntry = !f.pw, f.pwEntry
	if f.initPath != "" {
		abs, err := filepath.Abs(f.initPath)
		if err != nil {
			return err
		}
		cfg.InitPath = abs
	}
	cfg.Timeout = f.timeout
	cfg.ChrootDirs, cfg.HostUsers = f.chrootDirs, f.hostUsers
	if err := checkPreservedFDs(f.preserveFDs); err != nil {
		return err
	}
	o.PreserveFDs = int(f.preserveFDs)
	if f.httpProxy {
		cfg.Env = engine.HostProxyEnv(cfg.Env)
	}
	res := &cfg.Resources
	res.BlkioWeight = f.blkioWeight
	res.BlkioWeightDevice, res.DeviceReadBps, res.DeviceWriteBps = f.blkioWeightDevice, f.readBps, f.writeBps
	res.DeviceReadIOps, res.DeviceWriteIOps = f.readIOps, f.writeIOps
	res.DeviceCgroupRules = f.deviceCgroupRules
	res.OOMKillDisable = f.oomKillDisable
	res.CPURtPeriod, res.CPURtRuntime = f.cpuRtPeriod, f.cpuRtRuntime
	if changed("memory-swappiness") && f.memorySwappiness != -1 {
		if f.memorySwappiness < 0 || f.memorySwappiness > 100 {
			return invalid("invalid --memory-swappiness %s: from 0 to 100, or -1 for the kernel's", strconv.FormatInt(f.memorySwappiness, 10))
		}
		sw := f.memorySwappiness
		res.MemorySwappiness = &sw
	}
	return nil
}

// applyPlatform sets the platform the image must be of (--platform, or --os/--arch/--variant).
func (f *moreCreateFlags) applyPlatform(o *engine.CreateOptions) error {
	p := engine.Platform{OS: f.os, Arch: f.arch, Variant: f.variant}
	if f.platform != "" {
		if f.os != "" || f.arch != "" {
			return invalid("--platform option can not be specified with --arch or --os")
		}
		parts := strings.Split(f.platform, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return invalid("invalid --platform %q: want OS/ARCH[/VARIANT], such as linux/amd64", f.platform)
		}
		p.OS, p.Arch = parts[0], parts[1]
		if len(parts) == 3 {
			p.Variant = parts[2]
		}
	}
	o.Platform = p
	return nil
}

// subIDMaps turns --subuidname/--subgidname into --uidmap/--gidmap specs (a name given for
// one of them only maps both kinds of ID through it).
func (f *moreCreateFlags) subIDMaps(uidmap, gidmap *[]string) error {
	if f.subUIDName == "" && f.subGIDName == "" {
		return nil
	}
	if len(*uidmap) > 0 || len(*gidmap) > 0 {
		return invalid("--subuidname/--subgidname cannot be combined with --uidmap/--gidmap")
	}
	uname, gname := f.subUIDName, f.subGIDName
	if uname == "" {
		uname = gname
	}
	if gname == "" {
		gname = uname
	}
	var err error
	if *uidmap, err = engine.SubIDMaps("/etc/subuid", uname); err != nil {
		return err
	}
	*gidmap, err = engine.SubIDMaps("/etc/subgid", gname)
	return err
}

// checkPreservedFDs checks that the caller gave pea file descriptors 3 to 3+n-1 to pass on
// (--preserve-fds): open and without close-on-exec. The Go runtime's own (it keeps the cgroup
// CPU files open, at the lowest free numbers) are close-on-exec, and are never passed on.
func checkPreservedFDs(n uint) error {
	for fd := 3; fd < 3+int(n); fd++ {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return invalid("--preserve-fds %d: file descriptor %d was not given to pea", n, fd)
		}
	}
	return nil
}

// setIP6 checks --ip6 and keeps it beside --ip: both go to the network whose subnet holds each,
// one dual-stack network or a network of each family.
func setIP6(nc *model.NetworkConfig, ip6 string) error {
	if ip6 == "" {
		return nil
	}
	if a, err := netip.ParseAddr(ip6); err != nil || !a.Is6() || a.Is4In6() {
		return invalid("invalid --ip6 %q: not an IPv6 address", ip6)
	}
	if a, err := netip.ParseAddr(nc.StaticIP); err == nil && a.Is6() && !a.Is4In6() {
		return invalid("--ip %s and --ip6 %s: give the IPv6 address with --ip6 only", nc.StaticIP, ip6)
	}
	nc.StaticIP6 = ip6
	return nil
}

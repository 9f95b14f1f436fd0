package engine

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/rootless"
)

// specInputs are what the spec needs beyond the config: decided at start time.
type specInputs struct {
	rootfs   string
	uid, gid uint32
	groups   []uint32
	home     string
	hostname string // of the container whose UTS namespace this one joins
	// containerEnv is the host file bound at /run/.containerenv (see writeContainerEnv).
	containerEnv string
	cgroupsPath  string
	nsPaths      map[string]string // kind -> namespace file to join
	etcFiles     map[string]string // /etc/hosts etc. -> host file
	catatonit    string            // host path of catatonit for --init or the infra process
	seccomp      *specs.LinuxSeccomp
	shm          shmMount // what /dev/shm is (see prepareShm)
	localtime    string   // host file bound at /etc/localtime (--tz)
	// secretFiles are the mount secrets (target -> host file), secretEnv the env ones.
	secretFiles map[string]string
	secretEnv   []string
	// notifySocket is the host's sd_notify socket, bound at containerNotifySocket
	// (--sdnotify container with a NOTIFY_SOCKET).
	notifySocket string
	// sysctls are the default sysctls (NAME=VALUE; containers.conf's default_sysctls); nil:
	// pea's (podman's) one, net.ipv4.ping_group_range=0 0.
	sysctls []string
}

// InitPath is where --init's catatonit is in the container, its process's first argument.
const InitPath = "/run/pea-init"

// defaultPath is the PATH of a process whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// pingGroupRange is the sysctl that lets groups open ICMP datagram sockets (see buildSpec).
const pingGroupRange = "net.ipv4.ping_group_range"

// buildSpec turns a container config into an OCI runtime spec.
func buildSpec(cfg *model.ContainerConfig, in specInputs) (*specs.Spec, error) {
	caps, err := oci.CapabilitiesFrom(cfg.DefaultCaps, cfg.CapAdd, cfg.CapDrop, cfg.Privileged)
	if err != nil {
		return nil, err
	}
	held := processCaps(cfg, caps)
	args := cfg.Command()
	if cfg.Init && !cfg.IsInfra {
		args = append([]string{InitPath, "--"}, args...)
	}
	env := cfg.Env
	all := !cfg.UnsetEnvAll // pea's defaults, unless --unsetenv-all
	if all && !hasEnv(env, "PATH") {
		env = append(env, defaultPath)
	}
	hostname := in.hostname
	if hostname == "" {
		hostname = containerHostname(cfg)
	}
	if all {
		env = appendRuntimeEnv(env, in.home, hostname)
	} else if !hasEnv(env, "HOSTNAME") && hostname != "" {
		env = append(env, "HOSTNAME="+hostname) // podman sets it even then
	}
	if len(in.secretEnv) > 0 {
		env = mergeEnv(env, in.secretEnv)
	}
	if in.notifySocket != "" {
		env = mergeEnv(env, []string{"NOTIFY_SOCKET=" + containerNotifySocket})
	}
	if len(cfg.UnsetEnv) > 0 {
		env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
			k, _, _ := strings.Cut(kv, "=")
			return slices.Contains(cfg.UnsetEnv, k)
		})
	}
	s := &specs.Spec{
		Version: "1.1.0", // crun 1.8 refuses newer spec versions
		Root:    &specs.Root{Path: in.rootfs, Readonly: cfg.ReadOnly},
		Process: &specs.Process{
			Terminal: cfg.Terminal,
			Args:     args,
			Env:      env,
			Cwd:      cfg.WorkingDir,
			User:     specs.User{UID: in.uid, GID: in.gid, AdditionalGids: in.groups},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: held, Permitted: held,
			},
			NoNewPrivileges: cfg.NoNewPrivileges,
			Rlimits:         oci.DefaultRlimits(),
		},
		Hostname:    cfg.Hostname,
		Domainname:  cfg.Domainname,
		Annotations: map[string]string{"io.pea.container.name": cfg.Name},
		Linux: &specs.Linux{
			CgroupsPath: in.cgroupsPath,
			Resources:   &specs.LinuxResources{},
		},
	}
	if nonRootUser(cfg) {
		s.Process.Capabilities.Inheritable, s.Process.Capabilities.Ambient = held, held
	}
	for k, v := range cfg.Annotations {
		s.Annotations[k] = v
	}
	if len(cfg.Ulimits) > 0 {
		s.Process.Rlimits = mergeRlimits(s.Process.Rlimits, cfg.Ulimits)
	}

	// Namespaces.
	for _, kind := range []string{model.NSPid, model.NSNet, model.NSIpc, model.NSUts, model.NSMount, model.NSCgroup} {
		ns := cfg.NS(kind)
		t := nsType(kind)
		switch {
		case in.nsPaths[kind] != "":
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t, Path: in.nsPaths[kind]})
		case ns.Mode == model.NSModeHost:
		default:
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: t})
		}
	}
	switch {
	case in.nsPaths[model.NSUser] != "":
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: in.nsPaths[model.NSUser]})
	case cfg.UserNS().Mode == model.NSModePrivate:
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		s.Linux.UIDMappings, s.Linux.GIDMappings = specIDMaps(cfg.UIDMap), specIDMaps(cfg.GIDMap)
	}
	if cfg.NS(model.NSUts).Mode == model.NSModeHost || in.nsPaths[model.NSUts] != "" {
		s.Hostname, s.Domainname = "", ""
	} else if s.Hostname == "" {
		s.Hostname = shortID(cfg.ID) // a private UTS namespace would otherwise keep the host's name
	}

	// Mounts: defaults, then /etc files, then the user's (which win on the same destination).
	mounts := oci.DefaultMounts()
	if cfg.UserNS().Mode != model.NSModeHost {
		// A user namespace may not mount the proc or mqueue file system of the host's PID or
		// IPC namespace: the host's /proc is bound instead, and /dev/mqueue left out.
		for i := 0; i < len(mounts); i++ {
			switch d := mounts[i].Destination; {
			case d == "/proc" && cfg.NS(model.NSPid).Mode == model.NSModeHost:
				mounts[i] = specs.Mount{Destination: d, Type: "bind", Source: "/proc", Options: []string{"rbind", "nosuid", "noexec", "nodev"}}
			case d == "/dev/mqueue" && cfg.NS(model.NSIpc).Mode == model.NSModeHost:
				mounts = append(mounts[:i], mounts[i+1:]...)
				i--
			}
		}
	}
	if rootless.SingleID() {
		rootlessMounts(mounts)
	}
	for i := range mounts {
		if mounts[i].Destination != "/dev/shm" {
			continue
		}
		switch {
		case in.shm.none:
			mounts = append(mounts[:i], mounts[i+1:]...)
		case in.shm.source != "":
			mounts[i] = specs.Mount{Destination: "/dev/shm", Type: "bind", Source: in.shm.source,
				Options: []string{"bind", "rprivate", "nosuid", "noexec", "nodev"}}
		case cfg.Resources.ShmSize > 0:
			mounts[i].Options = replaceOpt(mounts[i].Options, "size=", fmt.Sprintf("size=%dk", cfg.Resources.ShmSize/1024))
		}
		break
	}
	if cfg.SystemdMode { // before the mounts below /run and /tmp, which they would hide
		mounts = systemdMounts(cfg, mounts)
	}
	etcDests := make([]string, 0, len(in.etcFiles))
	for dest := range in.etcFiles {
		etcDests = append(etcDests, dest)
	}
	sortStrings(etcDests)
	for _, dest := range etcDests {
		if userMounts(cfg, dest) {
			continue
		}
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "bind", Source: in.etcFiles[dest], Options: []string{"rbind", "rprivate", "nosuid", "noexec", "nodev"}})
		for _, root := range cfg.ChrootDirs { // --chrootdirs
			if d := filepath.Join(root, dest); !userMounts(cfg, d) && dest != "/etc/passwd" {
				mounts = append(mounts, specs.Mount{Destination: d, Type: "bind", Source: in.etcFiles[dest], Options: []string{"rbind", "rprivate", "nosuid", "noexec", "nodev"}})
			}
		}
	}
	for _, dest := range slices.Sorted(maps.Keys(in.secretFiles)) {
		mounts = dropMount(mounts, dest)
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "bind", Source: in.secretFiles[dest], Options: []string{"rbind", "ro", "rprivate", "nosuid", "noexec", "nodev"}})
	}
	if in.localtime != "" && !userMounts(cfg, "/etc/localtime") {
		mounts = append(mounts, specs.Mount{Destination: "/etc/localtime", Type: "bind", Source: in.localtime, Options: []string{"rbind", "ro", "rprivate", "nosuid", "nodev"}})
	}
	for _, dest := range ReadOnlyTmpfs(cfg) {
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs", Options: ReadOnlyTmpfsOptions()})
	}
	if in.catatonit != "" {
		dest := InitPath
		if cfg.IsInfra || cfg.IsService {
			dest = "/catatonit"
		}
		mounts = append(mounts, specs.Mount{Destination: dest, Type: "bind", Source: in.catatonit, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	if in.containerEnv != "" {
		mounts = append(mounts, specs.Mount{Destination: containerEnvPath, Type: "bind", Source: in.containerEnv, Options: []string{"bind", "ro", "rprivate", "nosuid", "nodev", "noexec"}})
	}
	if in.notifySocket != "" {
		mounts = append(mounts, specs.Mount{Destination: containerNotifySocket, Type: "bind", Source: in.notifySocket, Options: []string{"bind", "rprivate", "nosuid", "nodev", "noexec"}})
	}
	for _, m := range cfg.Mounts {
		sm := specs.Mount{Destination: m.Destination}
		switch m.Type {
		case "tmpfs":
			sm.Type, sm.Source = "tmpfs", "tmpfs"
			sm.Options = append([]string{"rw", "nosuid", "nodev"}, m.Options...)
		case devptsType: // a new instance, podman's options below the user's
			sm.Type, sm.Source = devptsType, devptsType
			sm.Options = append([]string{"noexec", "nosuid", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}, m.Options...)
		default: // bind, volume (resolved to a bind)
			sm.Type, sm.Source = "bind", m.Source
			// "bind" (bind-nonrecursive) leaves out the mounts below Source, and so takes a
			// propagation without MS_REC, which the runtime would apply to the bind too.
			recursive := !hasOpt(m.Options, "bind")
			sm.Options = slices.Clone(m.Options)
			if recursive {
				sm.Options = append([]string{"rbind"}, m.Options...)
			} else {
				for i, o := range sm.Options {
					if isPropagation(o) {
						sm.Options[i] = strings.TrimPrefix(o, "r")
					}
				}
			}
			switch {
			case slices.ContainsFunc(sm.Options, isPropagation):
			case recursive:
				sm.Options = append(sm.Options, "rprivate")
			default:
				sm.Options = append(sm.Options, "private")
			}
			if m.Type == "volume" {
				// A volume's files are the containers' to write: as podman's, no set-user-ID
				// bits and no device nodes are honoured in it unless suid or dev is asked for.
				if !hasOpt(m.Options, "suid") {
					sm.Options = append(sm.Options, "nosuid")
				}
				if !hasOpt(m.Options, "dev") {
					sm.Options = append(sm.Options, "nodev")
				}
			}
		}
		if m.ReadOnly {
			sm.Options = append(sm.Options, "ro")
		}
		mounts = dropMount(mounts, m.Destination)
		mounts = append(mounts, sm)
	}
	s.Mounts = mounts
	// A mount that receives (rslave) or shares (rshared) mount events needs a root that does too:
	// with the runtime's default private root, the events never reach the mount.
	for _, m := range cfg.Mounts {
		switch {
		case hasOpt(m.Options, "rshared") || hasOpt(m.Options, "shared"):
			s.Linux.RootfsPropagation = "rshared"
		case (hasOpt(m.Options, "rslave") || hasOpt(m.Options, "slave")) && s.Linux.RootfsPropagation == "":
			s.Linux.RootfsPropagation = "rslave"
		}
	}

	// Security.
	if cfg.Privileged {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		s.Linux.Devices = hostDevices()
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/sys" {
				s.Mounts[i].Options = removeOpt(s.Mounts[i].Options, "ro")
			}
		}
	} else {
		s.Linux.MaskedPaths = append([]string{}, oci.MaskedPaths...)
		s.Linux.ReadonlyPaths = append([]string{}, oci.ReadonlyPaths...)
		if cfg.OwnMasks {
			s.Linux.MaskedPaths = append([]string{}, cfg.MaskedPaths...)
			s.Linux.ReadonlyPaths = append([]string{}, cfg.ReadonlyPaths...)
		}
		s.Linux.Resources.Devices = oci.DefaultDeviceRules()
		s.Linux.Seccomp = in.seccomp
		s.Linux.MaskedPaths = unmasked(s.Linux.MaskedPaths, cfg.Unmask)
		s.Linux.ReadonlyPaths = unmasked(s.Linux.ReadonlyPaths, cfg.Unmask)
	}
	for _, p := range cfg.Mask {
		if !slices.Contains(s.Linux.MaskedPaths, p) {
			s.Linux.MaskedPaths = append(s.Linux.MaskedPaths, p)
		}
	}
	for _, d := range cfg.Devices {
		dev, rule, err := deviceFromHost(d)
		if err != nil {
			return nil, err
		}
		if rootless.Active() {
			// No device node can be made in a user namespace: the host's is bound, as
			// podman's rootless containers get theirs.
			s.Mounts = append(s.Mounts, specs.Mount{Destination: dev.Path, Type: "bind", Source: strings.Split(d, ":")[0],
				Options: []string{"bind", "nosuid", "noexec"}})
			continue
		}
		s.Linux.Devices = append(s.Linux.Devices, dev)
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, rule)
	}
	if len(cfg.Sysctls) > 0 {
		s.Linux.Sysctl = cfg.Sysctls
	}
	if err := addDefaultSysctls(s.Linux, cfg, in.sysctls); err != nil {
		return nil, err
	}

	// Resources.
	linuxResources(cfg.Resources, s.Linux.Resources)
	for _, rule := range cfg.Resources.DeviceCgroupRules {
		d, err := parseDeviceCgroupRule(rule)
		if err != nil {
			return nil, err
		}
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, d)
	}
	if len(cfg.CgroupConf) > 0 {
		s.Linux.Resources.Unified = maps.Clone(cfg.CgroupConf)
	}
	if cfg.Personality != "" {
		s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.LinuxPersonalityDomain(cfg.Personality)}
	}
	if cfg.Umask != "" {
		if n, err := strconv.ParseUint(cfg.Umask, 8, 32); err == nil {
			mask := uint32(n)
			s.Process.User.Umask = &mask
		}
	}
	if cfg.OOMScoreAdj != 0 {
		adj := cfg.OOMScoreAdj
		s.Process.OOMScoreAdj = &adj
	}
	return s, nil
}

// addDefaultSysctls adds to the spec each default sysctl the container does not set itself, and
// only where the namespace it belongs to is the container's own: a net.* one in a network
// namespace of its own (not the host's, another container's or a path's) and not from a user
// namespace of its own (the network namespace pea made belongs to the host's user namespace,
// whose sysctls container root may not write); an IPC one (kernel.msg*, kernel.sem, kernel.shm*,
// fs.mqueue.*) and a UTS one (kernel.hostname, kernel.domainname) likewise not in the host's or
// another's namespace, as podman leaves them out with --ipc host and --uts host. The default,
// podman's net.ipv4.ping_group_range=0 0, lets the container's groups open ICMP datagram sockets,
// so that ping works without CAP_NET_RAW.
func addDefaultSysctls(l *specs.Linux, cfg *model.ContainerConfig, defaults []string) error {
	if defaults == nil {
		defaults = []string{pingGroupRange + "=0 0"}
	}
	own := func(kind string) bool {
		m := cfg.NS(kind).Mode
		return m != model.NSModeHost && m != model.NSModeContainer && m != model.NSModePath
	}
	for _, kv := range defaults {
		k, v, ok := strings.Cut(kv, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return fmt.Errorf("containers.conf default_sysctls %q: want NAME=VALUE: %w", kv, errdefs.ErrInvalid)
		}
		if _, set := cfg.Sysctls[k]; set {
			continue
		}
		switch kind := sysctlKind(k); {
		case kind == model.NSNet:
			if !own(model.NSNet) || cfg.UserNS().Mode != model.NSModeHost {
				continue
			}
		case kind != "":
			if !own(kind) {
				continue
			}
		}
		sysctls := make(map[string]string, len(l.Sysctl)+1)
		for name, val := range l.Sysctl {
			sysctls[name] = val
		}
		sysctls[k] = strings.TrimSpace(v)
		l.Sysctl = sysctls
	}
	return nil
}

// linuxResources sets res's memory, CPU and PIDs limits from r (the spec's at creation, and
// `update`'s for a running container).
func linuxResources(r model.Resources, res *specs.LinuxResources) {
	if r.Memory > 0 || r.MemoryReservation > 0 {
		res.Memory = &specs.LinuxMemory{}
		if r.Memory > 0 {
			m := r.Memory
			res.Memory.Limit = &m
		}
		if r.MemorySwap != 0 {
			swap := r.MemorySwap
			res.Memory.Swap = &swap
		}
		if r.MemoryReservation > 0 {
			m := r.MemoryReservation
			res.Memory.Reservation = &m
		}
	}
	cpu := func() *specs.LinuxCPU {
		if res.CPU == nil {
			res.CPU = &specs.LinuxCPU{}
		}
		return res.CPU
	}
	if r.CPUs > 0 {
		period := uint64(100000)
		quota := int64(r.CPUs * float64(period))
		cpu().Period, cpu().Quota = &period, &quota
	}
	if r.CPUPeriod > 0 {
		period := r.CPUPeriod
		cpu().Period = &period
	}
	if r.CPUQuota > 0 { // -1: no quota, the kernel's default
		quota := r.CPUQuota
		cpu().Quota = &quota
	}
	if r.CPUShares > 0 {
		shares := r.CPUShares
		cpu().Shares = &shares
	}
	if r.CpusetCpus != "" {
		cpu().Cpus = r.CpusetCpus
	}
	if r.CpusetMems != "" {
		cpu().Mems = r.CpusetMems
	}
	if r.PidsLimit > 0 { // -1 is no limit: nothing to write (crun writes -1 as it is, which cgroup v1 refuses)
		p := r.PidsLimit
		res.Pids = &specs.LinuxPids{Limit: &p}
	}
	if r.MemorySwappiness != nil || r.OOMKillDisable {
		if res.Memory == nil {
			res.Memory = &specs.LinuxMemory{}
		}
		if r.MemorySwappiness != nil {
			sw := uint64(*r.MemorySwappiness)
			res.Memory.Swappiness = &sw
		}
		if r.OOMKillDisable {
			t := true
			res.Memory.DisableOOMKiller = &t
		}
	}
	if r.CPURtPeriod > 0 {
		p := r.CPURtPeriod
		cpu().RealtimePeriod = &p
	}
	if r.CPURtRuntime != 0 {
		rt := r.CPURtRuntime
		cpu().RealtimeRuntime = &rt
	}
	blkioResources(r, res)
}

// blkioResources sets res's block I/O weight and per-device limits from r, whose device lists
// hold DEVICE:VALUE (see resolveBlkioDevices); a device gone since is left out.
func blkioResources(r model.Resources, res *specs.LinuxResources) {
	if r.BlkioWeight == 0 && len(r.BlkioWeightDevice)+len(r.DeviceReadBps)+len(r.DeviceWriteBps)+len(r.DeviceReadIOps)+len(r.DeviceWriteIOps) == 0 {
		return
	}
	b := &specs.LinuxBlockIO{}
	if r.BlkioWeight != 0 {
		w := r.BlkioWeight
		b.Weight = &w
	}
	parse := func(s string) (maj, min int64, v uint64, ok bool) {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			return 0, 0, 0, false
		}
		v, err := strconv.ParseUint(s[i+1:], 10, 64)
		if err != nil {
			return 0, 0, 0, false
		}
		maj, min, err = blockDevice(s[:i])
		return maj, min, v, err == nil
	}
	for _, s := range r.BlkioWeightDevice {
		if maj, min, v, ok := parse(s); ok {
			w := uint16(v)
			d := specs.LinuxWeightDevice{Weight: &w}
			d.Major, d.Minor = maj, min
			b.WeightDevice = append(b.WeightDevice, d)
		}
	}
	throttle := func(list []string) []specs.LinuxThrottleDevice {
		var out []specs.LinuxThrottleDevice
		for _, s := range list {
			if maj, min, v, ok := parse(s); ok {
				d := specs.LinuxThrottleDevice{Rate: v}
				d.Major, d.Minor = maj, min
				out = append(out, d)
			}
		}
		return out
	}
	b.ThrottleReadBpsDevice = throttle(r.DeviceReadBps)
	b.ThrottleWriteBpsDevice = throttle(r.DeviceWriteBps)
	b.ThrottleReadIOPSDevice = throttle(r.DeviceReadIOps)
	b.ThrottleWriteIOPSDevice = throttle(r.DeviceWriteIOps)
	res.BlockIO = b
}

func specIDMaps(maps []model.IDMap) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, len(maps))
	for i, m := range maps {
		out[i] = specs.LinuxIDMapping{ContainerID: m.ContainerID, HostID: m.HostID, Size: m.Size}
	}
	return out
}

func nsType(kind string) specs.LinuxNamespaceType {
	switch kind {
	case model.NSPid:
		return specs.PIDNamespace
	case model.NSNet:
		return specs.NetworkNamespace
	case model.NSIpc:
		return specs.IPCNamespace
	case model.NSUts:
		return specs.UTSNamespace
	case model.NSMount:
		return specs.MountNamespace
	case model.NSCgroup:
		return specs.CgroupNamespace
	case model.NSUser:
		return specs.UserNamespace
	}
	return specs.LinuxNamespaceType(kind)
}

// ContainerEnvName is the value of the container variable a container's process gets:
// podman's is "podman", the name of the engine (systemd and others look for it).
const ContainerEnvName = "pea"

// appendRuntimeEnv adds what the runtime gives every container's process besides its image's
// and its user's variables, as podman: TERM (xterm, terminal or not), container, HOME (the
// user's) and HOSTNAME (the container's).
func appendRuntimeEnv(env []string, home, hostname string) []string {
	if !hasEnv(env, "TERM") {
		env = append(env, "TERM=xterm")
	}
	if !hasEnv(env, "container") {
		env = append(env, "container="+ContainerEnvName)
	}
	if !hasEnv(env, "HOME") {
		if home == "" {
			home = "/root"
		}
		env = append(env, "HOME="+home)
	}
	if !hasEnv(env, "HOSTNAME") && hostname != "" {
		env = append(env, "HOSTNAME="+hostname)
	}
	return env
}

// ReadOnlyTmpfs are where a read-only container gets a tmpfs of its own, seeded with the
// image's content, as podman's --read-only-tmpfs (its default): /tmp, /var/tmp and /run, where
// programs expect to write even when the root is read-only, unless the user mounts something
// there.
func ReadOnlyTmpfs(cfg *model.ContainerConfig) []string {
	if !cfg.ReadOnly || !cfg.ReadOnlyTmpfs {
		return nil
	}
	var out []string
	for _, dest := range []string{"/tmp", "/var/tmp", "/run"} {
		if !userMounts(cfg, dest) {
			out = append(out, dest)
		}
	}
	return out
}

// ReadOnlyTmpfsOptions are the mount options of ReadOnlyTmpfs's tmpfs.
func ReadOnlyTmpfsOptions() []string {
	return []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}
}

// JoinedHostname is the host name of the container whose UTS namespace c joins (a pod's
// infra), "" when it joins none.
func (r *Runtime) JoinedHostname(c *model.Container) string {
	if ns := c.Config.NS(model.NSUts); ns.Mode == model.NSModeContainer {
		if st, err := r.state(); err == nil {
			if dep, err := st.Container(ns.Value); err == nil {
				return containerHostname(dep.Config)
			}
		}
	}
	return ""
}

// containerHostname is the host name a container's process sees in HOSTNAME: the one it was
// given, else (in a UTS namespace of its own) its short ID, else the host's.
func containerHostname(cfg *model.ContainerConfig) string {
	if cfg.Hostname != "" {
		return cfg.Hostname
	}
	if ns := cfg.NS(model.NSUts); ns.Mode == model.NSModeHost {
		h, _ := os.Hostname()
		return h
	}
	return shortID(cfg.ID)
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if envKey(kv) == key {
			return true
		}
	}
	return false
}

func hasOpt(opts []string, o string) bool {
	for _, x := range opts {
		if x == o {
			return true
		}
	}
	return false
}

func removeOpt(opts []string, o string) []string {
	var out []string
	for _, x := range opts {
		if x != o {
			out = append(out, x)
		}
	}
	return out
}

func replaceOpt(opts []string, prefix, with string) []string {
	out := []string{}
	for _, x := range opts {
		if !strings.HasPrefix(x, prefix) {
			out = append(out, x)
		}
	}
	return append(out, with)
}

func dropMount(ms []specs.Mount, dest string) []specs.Mount {
	out := ms[:0]
	for _, m := range ms {
		if filepath.Clean(m.Destination) != filepath.Clean(dest) {
			out = append(out, m)
		}
	}
	return out
}

func userMounts(cfg *model.ContainerConfig, dest string) bool {
	for _, m := range cfg.Mounts {
		if filepath.Clean(m.Destination) == dest {
			return true
		}
	}
	return false
}

func mergeRlimits(base []specs.POSIXRlimit, ul []model.Ulimit) []specs.POSIXRlimit {
	for _, u := range ul {
		t := "RLIMIT_" + strings.ToUpper(u.Name)
		found := false
		for i := range base {
			if base[i].Type == t {
				base[i].Soft, base[i].Hard, found = u.Soft, u.Hard, true
			}
		}
		if !found {
			base = append(base, specs.POSIXRlimit{Type: t, Soft: u.Soft, Hard: u.Hard})
		}
	}
	return base
}

// deviceFromHost parses --device HOST[:CTR[:PERMS]] and reads the host node.
func deviceFromHost(spec string) (specs.LinuxDevice, specs.LinuxDeviceCgroup, error) {
	parts := strings.Split(spec, ":")
	src, dst, perms := parts[0], parts[0], "rwm"
	if len(parts) > 1 && parts[1] != "" {
		if strings.HasPrefix(parts[1], "/") {
			dst = parts[1]
		} else {
			perms = parts[1]
		}
	}
	if len(parts) > 2 {
		perms = parts[2]
	}
	d, err := statDevice(src)
	if err != nil {
		return d, specs.LinuxDeviceCgroup{}, err
	}
	d.Path = dst
	maj, min := d.Major, d.Minor
	return d, specs.LinuxDeviceCgroup{Allow: true, Type: d.Type, Major: &maj, Minor: &min, Access: perms}, nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// isPropagation reports whether a mount option sets the mount's propagation.
func isPropagation(o string) bool {
	switch o {
	case "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable":
		return true
	}
	return false
}

// unmasked is paths without those --security-opt unmask names: a path, a shell pattern
// (/proc/*), or ALL for every one.
func unmasked(paths, unmask []string) []string {
	if len(unmask) == 0 {
		return paths
	}
	var out []string
	for _, p := range paths {
		keep := true
		for _, u := range unmask {
			if ok, _ := filepath.Match(u, p); ok || u == "ALL" || u == p {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, p)
		}
	}
	return out
}

package view

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
)

// ContainerSpec is podman 4.3's SpecGenerator: what `generate spec` prints, and what POST
// /libpod/containers/create reads (internal/api, which refuses the fields it has none for). Its
// fields are in podman's order, under podman's names, omitted when empty where podman omits
// them. generate spec says every setting of the container that the endpoint reads, so that
// POSTing it makes the same container again; podman's own leaves most of them out (it copies
// the fields of its container config whose JSON names happen to match). The fields marked
// "read only" are ones podman's client sends that generate spec never sets (left out).
type ContainerSpec struct {
	// ContainerBasicConfig.
	Name             string            `json:"name,omitempty"`
	Pod              string            `json:"pod,omitempty"`
	Entrypoint       []string          `json:"entrypoint,omitempty"`
	Command          []string          `json:"command,omitempty"`
	EnvHost          bool              `json:"env_host,omitempty"`  // read only
	HTTPProxy        bool              `json:"httpproxy,omitempty"` // read only; absent: false (the client always sends its default, true)
	Env              map[string]string `json:"env,omitempty"`
	Terminal         bool              `json:"terminal,omitempty"`
	Stdin            bool              `json:"stdin,omitempty"`
	Labels           map[string]string `json:"labels,omitempty"`
	Annotations      map[string]string `json:"annotations,omitempty"`
	StopSignal       *int              `json:"stop_signal,omitempty"`
	StopTimeout      *uint             `json:"stop_timeout,omitempty"`
	Timeout          uint              `json:"timeout,omitempty"`
	LogConfiguration *SpecLog          `json:"log_configuration,omitempty"`
	ConmonPidFile    string            `json:"conmon_pid_file,omitempty"`
	RestartPolicy    string            `json:"restart_policy,omitempty"`
	RestartTries     *uint             `json:"restart_tries,omitempty"`
	OCIRuntime       string            `json:"oci_runtime,omitempty"` // read only
	Systemd          string            `json:"systemd,omitempty"`
	SdNotifyMode     string            `json:"sdnotifyMode,omitempty"`
	PidNS            SpecNamespace     `json:"pidns"`
	UtsNS            SpecNamespace     `json:"utsns"`
	Hostname         string            `json:"hostname,omitempty"`
	HostUsers        []string          `json:"hostusers,omitempty"`
	Sysctl           map[string]string `json:"sysctl,omitempty"`
	Remove           bool              `json:"remove,omitempty"`
	CreateCommand    []string          `json:"containerCreateCommand,omitempty"`
	Timezone         string            `json:"timezone,omitempty"`
	Dependencies     []string          `json:"dependencyContainers,omitempty"`
	EnvSecrets       map[string]string `json:"secret_env,omitempty"`
	InitContainer    string            `json:"init_container_type"`
	Personality      *SpecPersonality  `json:"personality,omitempty"`
	EnvMerge         []string          `json:"envmerge,omitempty"` // read only
	UnsetEnv         []string          `json:"unsetenv,omitempty"`
	UnsetEnvAll      bool              `json:"unsetenvall,omitempty"`
	ManagePassword   *bool             `json:"manage_password,omitempty"`
	PasswdEntry      string            `json:"passwd_entry,omitempty"`

	// ContainerStorageConfig.
	Image           string           `json:"image"`
	Rootfs          string           `json:"rootfs,omitempty"`
	RootfsOverlay   bool             `json:"rootfs_overlay,omitempty"`
	ImageVolumeMode string           `json:"image_volume_mode,omitempty"`
	VolumesFrom     []string         `json:"volumes_from,omitempty"`
	Init            bool             `json:"init,omitempty"`
	InitPath        string           `json:"init_path,omitempty"`
	Mounts          []SpecMount      `json:"mounts,omitempty"`
	Volumes         []SpecVolume     `json:"volumes,omitempty"`
	Devices         []SpecDevice     `json:"devices,omitempty"`
	DeviceRules     []SpecDeviceRule `json:"device_cgroup_rule,omitempty"`
	IpcNS           SpecNamespace    `json:"ipcns"`
	ShmSize         *int64           `json:"shm_size,omitempty"`
	WorkDir         string           `json:"work_dir,omitempty"`
	Secrets         []SpecSecret     `json:"secrets,omitempty"`
	ChrootDirs      []string         `json:"chroot_directories,omitempty"`

	// ContainerSecurityConfig.
	Privileged         bool            `json:"privileged,omitempty"`
	User               string          `json:"user,omitempty"`
	Groups             []string        `json:"groups,omitempty"`
	CapAdd             []string        `json:"cap_add,omitempty"`
	CapDrop            []string        `json:"cap_drop,omitempty"`
	SelinuxOpts        []string        `json:"selinux_opts,omitempty"`     // read only
	ApparmorProfile    string          `json:"apparmor_profile,omitempty"` // read only
	SeccompPolicy      string          `json:"seccomp_policy,omitempty"`
	SeccompProfilePath string          `json:"seccomp_profile_path,omitempty"`
	NoNewPrivileges    bool            `json:"no_new_privileges,omitempty"`
	UserNS             SpecNamespace   `json:"userns"`
	IDMappings         *SpecIDMappings `json:"idmappings,omitempty"`
	ReadOnly           bool            `json:"read_only_filesystem,omitempty"`
	Umask              string          `json:"umask,omitempty"`
	ProcOpts           []string        `json:"procfs_opts,omitempty"` // read only
	Mask               []string        `json:"mask,omitempty"`        // read only
	Unmask             []string        `json:"unmask,omitempty"`      // read only

	// ContainerCgroupConfig.
	CgroupNS     SpecNamespace `json:"cgroupns"`
	CgroupsMode  string        `json:"cgroups_mode,omitempty"`
	CgroupParent string        `json:"cgroup_parent,omitempty"`

	// ContainerNetworkConfig.
	NetNS          SpecNamespace          `json:"netns"`
	NetworkOptions map[string][]string    `json:"network_options,omitempty"` // slirp4netns's or pasta's, by mode
	PortMappings   []SpecPort             `json:"portmappings,omitempty"`
	PublishAll     bool                   `json:"publish_image_ports,omitempty"` // read only
	Expose         map[uint16]string      `json:"expose,omitempty"`              // read only
	Networks       map[string]SpecNetwork `json:"Networks"`
	UseImageResolv bool                   `json:"use_image_resolve_conf,omitempty"` // read only
	DNSServers     []string               `json:"dns_server,omitempty"`
	DNSSearch      []string               `json:"dns_search,omitempty"`
	DNSOptions     []string               `json:"dns_option,omitempty"`
	UseImageHosts  bool                   `json:"use_image_hosts"`
	HostAdd        []string               `json:"hostadd,omitempty"`
	BaseHostsFile  string                 `json:"base_hosts_file,omitempty"` // --hosts-file (podman 5.1)

	// ContainerResourceConfig.
	ResourceLimits *SpecResources             `json:"resource_limits,omitempty"`
	Rlimits        []SpecRlimit               `json:"r_limits,omitempty"`
	OOMScoreAdj    *int                       `json:"oom_score_adj,omitempty"`
	WeightDevice   map[string]SpecDeviceValue `json:"weightDevice,omitempty"`
	ReadBps        map[string]SpecDeviceValue `json:"throttleReadBpsDevice,omitempty"`
	WriteBps       map[string]SpecDeviceValue `json:"throttleWriteBpsDevice,omitempty"`
	ReadIOps       map[string]SpecDeviceValue `json:"throttleReadIOPSDevice,omitempty"`
	WriteIOps      map[string]SpecDeviceValue `json:"throttleWriteIOPSDevice,omitempty"`

	// ContainerHealthCheckConfig.
	Health          *SpecHealth `json:"healthconfig,omitempty"`
	HealthOnFailure int         `json:"health_check_on_failure_action,omitempty"`
	// StartupHealth is podman 4.4's startup check.
	StartupHealth *SpecStartupHealth `json:"startupHealthConfig,omitempty"`
	// podman 5's results' destination and limits.
	HealthLogDestination string `json:"healthLogDestination,omitempty"`
	HealthMaxLogCount    *int64 `json:"healthMaxLogCount,omitempty"`
	HealthMaxLogSize     *int64 `json:"healthMaxLogSize,omitempty"`
}

// SpecStartupHealth is a startup check (durations in nanoseconds).
type SpecStartupHealth struct {
	Test      []string      `json:"Test,omitempty"`
	Interval  time.Duration `json:"Interval,omitempty"`
	Timeout   time.Duration `json:"Timeout,omitempty"`
	Retries   int           `json:"Retries,omitempty"`
	Successes int           `json:"Successes,omitempty"`
}

type SpecLog struct {
	Driver  string            `json:"driver,omitempty"`
	Path    string            `json:"path,omitempty"`
	Size    int64             `json:"size,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

type SpecPersonality struct {
	Domain string   `json:"domain"`
	Flags  []string `json:"flags,omitempty"` // read only (and refused)
}

// SpecDevice is --device as podman's client sends it: the flag's value as the path (all the
// endpoint reads).
type SpecDevice struct {
	Path  string `json:"path"`
	Type  string `json:"type"`
	Major int64  `json:"major"`
	Minor int64  `json:"minor"`
}

// SpecDeviceRule is a --device-cgroup-rule (LinuxDeviceCgroup); no major or minor is any (the
// wildcard).
type SpecDeviceRule struct {
	Allow  bool   `json:"allow"`
	Type   string `json:"type,omitempty"`
	Major  *int64 `json:"major,omitempty"`
	Minor  *int64 `json:"minor,omitempty"`
	Access string `json:"access,omitempty"`
}

type SpecSecret struct {
	Source string
	Target string
	UID    uint32
	GID    uint32
	Mode   uint32
}

type SpecRlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// SpecHealth is the image manifest's health check (durations in nanoseconds).
type SpecHealth struct {
	Test        []string      `json:"Test,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

// NewContainerSpec is the SpecGenerator of the container src describes.
func NewContainerSpec(src *engine.SpecSource) *ContainerSpec {
	cfg := src.Container
	s := &ContainerSpec{
		Name: cfg.Name, Pod: cfg.Pod, Entrypoint: cfg.Entrypoint, Command: cfg.Cmd, Terminal: cfg.Terminal, Stdin: cfg.Stdin,
		Labels: cfg.Labels, Annotations: cfg.Annotations, Timeout: cfg.Timeout, ConmonPidFile: cfg.ConmonPidFile,
		Systemd: cfg.Systemd, SdNotifyMode: cfg.SdNotify, Hostname: cfg.Hostname, HostUsers: cfg.HostUsers,
		Sysctl: cfg.Sysctls, Remove: cfg.AutoRemove, CreateCommand: cfg.CreateCommand, Timezone: cfg.Timezone,
		Dependencies: cfg.Requires, InitContainer: cfg.InitContainerType, UnsetEnv: cfg.UnsetEnv, UnsetEnvAll: cfg.UnsetEnvAll,
		PasswdEntry: cfg.PasswdEntry,

		Image: src.Image, RootfsOverlay: cfg.RootfsOverlay, VolumesFrom: cfg.VolumesFrom, Init: cfg.Init, InitPath: cfg.InitPath,
		WorkDir: cfg.WorkingDir, ChrootDirs: cfg.ChrootDirs,

		Privileged: cfg.Privileged, User: cfg.User, Groups: cfg.GroupAdd, CapAdd: cfg.CapAdd, CapDrop: cfg.CapDrop,
		NoNewPrivileges: cfg.NoNewPrivileges, ReadOnly: cfg.ReadOnly, Umask: cfg.Umask,

		CgroupsMode: cfg.Cgroups, CgroupParent: cfg.CgroupParent,
		DNSServers: cfg.Network.DNSServers, DNSSearch: cfg.Network.DNSSearch, DNSOptions: cfg.Network.DNSOptions,
		UseImageHosts: cfg.Network.NoHosts, HostAdd: cfg.Network.AddHosts, BaseHostsFile: cfg.Network.HostsFile,
	}
	if cfg.Rootfs != "" {
		s.Image, s.Rootfs = "", cfg.Rootfs
	}
	if s.Umask == "" {
		s.Umask = "0022" // podman writes the default
	}
	if len(cfg.Env) > 0 {
		s.Env = make(map[string]string, len(cfg.Env))
		for _, kv := range cfg.Env {
			k, v, _ := strings.Cut(kv, "=")
			s.Env[k] = v
		}
	}
	if cfg.StopSignal != 0 {
		s.StopSignal = ptr(cfg.StopSignal)
	}
	s.StopTimeout = ptr(cfg.StopTimeout)
	if cfg.RestartPolicy != "" {
		policy, tries, ok := strings.Cut(cfg.RestartPolicy, ":")
		s.RestartPolicy = policy
		if n, err := strconv.ParseUint(tries, 10, 32); ok && err == nil {
			s.RestartTries = ptr(uint(n))
		}
	}
	if cfg.LogDriver != "" || cfg.LogPath != "" || cfg.LogSizeMax > 0 || cfg.LogTag != "" {
		s.LogConfiguration = &SpecLog{Driver: cfg.LogDriver, Path: cfg.LogPath, Size: cfg.LogSizeMax}
		if cfg.LogTag != "" {
			s.LogConfiguration.Options = map[string]string{"tag": cfg.LogTag}
		}
	}
	if cfg.Personality != "" {
		s.Personality = &SpecPersonality{Domain: cfg.Personality}
	}
	if cfg.NoPasswd {
		s.ManagePassword = ptr(false)
	}
	if cfg.OOMScoreAdj != 0 {
		s.OOMScoreAdj = ptr(cfg.OOMScoreAdj)
	}
	for _, sec := range cfg.Secrets {
		if sec.Type == "env" {
			if s.EnvSecrets == nil {
				s.EnvSecrets = map[string]string{}
			}
			target := sec.Target
			if target == "" {
				target = sec.Name
			}
			s.EnvSecrets[target] = sec.Name
			continue
		}
		s.Secrets = append(s.Secrets, SpecSecret{Source: sec.Name, Target: sec.Target, UID: sec.UID, GID: sec.GID, Mode: sec.Mode})
	}
	switch seccomp := cfg.Seccomp; {
	case seccomp == "":
	case src.SeccompFromImage:
		s.SeccompPolicy = "image" // the image's profile, written in the container's directory
	default:
		s.SeccompProfilePath = seccomp
	}
	s.specStorage(src)
	s.specNamespaces(cfg)
	s.specNetwork(cfg)
	s.specResources(cfg)
	s.specHealth(src)
	return s
}

// specStorage sets the mounts, named and anonymous volumes, the image's volumes and devices.
func (s *ContainerSpec) specStorage(src *engine.SpecSource) {
	cfg := src.Container
	copyUp := false
	for _, m := range cfg.Mounts {
		opts := slices.Clone(m.Options)
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		if m.ChownToUser {
			opts = append(opts, "U")
		}
		switch m.Type {
		case "volume":
			if m.CopyUp && m.Source == "" && slices.Contains(src.ImageVolumes, m.Destination) {
				copyUp = true // one of the image's VOLUMEs, which image_volume_mode makes again
				continue
			}
			if m.NoCopy {
				opts = append(opts, "nocopy")
			}
			s.Volumes = append(s.Volumes, SpecVolume{Name: m.Source, Dest: m.Destination, Options: opts, IsAnonymous: m.Source == ""})
		case "tmpfs":
			s.Mounts = append(s.Mounts, SpecMount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: opts})
		default:
			s.Mounts = append(s.Mounts, SpecMount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
		}
	}
	if cfg.ReadOnly && cfg.ReadOnlyTmpfs {
		// The tmpfs of --read-only-tmpfs, which podman's client sends as mounts.
		for _, dest := range []string{"/tmp", "/var/tmp", "/run"} {
			if !slices.ContainsFunc(cfg.Mounts, func(m model.Mount) bool { return m.Destination == dest }) {
				s.Mounts = append(s.Mounts, SpecMount{Destination: dest, Type: "tmpfs", Source: "tmpfs",
					Options: []string{"rw", "rprivate", "nosuid", "nodev", "tmpcopyup"}})
			}
		}
	}
	switch {
	case copyUp:
		s.ImageVolumeMode = "anonymous"
	case slices.ContainsFunc(src.ImageVolumes, func(dest string) bool {
		return !slices.ContainsFunc(cfg.Mounts, func(m model.Mount) bool { return m.Destination == dest })
	}):
		s.ImageVolumeMode = "ignore" // --image-volume ignore left a VOLUME without a mount
	}
	for _, d := range cfg.Devices {
		s.Devices = append(s.Devices, SpecDevice{Path: d})
	}
	for _, rule := range cfg.Resources.DeviceCgroupRules {
		if r, ok := specDeviceRule(rule); ok {
			s.DeviceRules = append(s.DeviceRules, r)
		}
	}
	if cfg.Resources.ShmSize > 0 {
		s.ShmSize = ptr(cfg.Resources.ShmSize)
	}
}

// specDeviceRule parses a device cgroup rule, "TYPE MAJOR:MINOR ACCESS" (* for any number).
func specDeviceRule(rule string) (SpecDeviceRule, bool) {
	f := strings.Fields(rule)
	if len(f) != 3 {
		return SpecDeviceRule{}, false
	}
	r := SpecDeviceRule{Allow: true, Type: f[0], Access: f[2]}
	major, minor, _ := strings.Cut(f[1], ":")
	num := func(s string) *int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil // *
		}
		return &n
	}
	r.Major, r.Minor = num(major), num(minor)
	return r, true
}

// specNamespaces sets the PID, UTS, IPC, cgroup and user namespaces. Kinds a pod member joins
// its pod for were taken out (engine.SpecSource) and are written empty, as podman does; a kind
// the config does not set is podman's default.
func (s *ContainerSpec) specNamespaces(cfg *model.ContainerConfig) {
	ns := func(kind, def string) SpecNamespace {
		n, ok := cfg.Namespaces[kind]
		switch {
		case !ok && cfg.Pod != "":
			return SpecNamespace{}
		case !ok:
			return SpecNamespace{Mode: def}
		}
		return SpecNamespace{Mode: n.Mode, Value: n.Value}
	}
	s.PidNS, s.UtsNS, s.IpcNS, s.CgroupNS = ns(model.NSPid, "default"), ns(model.NSUts, "private"), ns(model.NSIpc, "default"), ns(model.NSCgroup, "default")
	m := &SpecIDMappings{HostUIDMapping: true, HostGIDMapping: true}
	s.IDMappings = m
	user := cfg.UserNS()
	switch user.Mode {
	case model.NSModeHost:
		s.UserNS = SpecNamespace{Mode: "default"}
		if _, set := cfg.Namespaces[model.NSUser]; set {
			s.UserNS.Mode = model.NSModeHost
		}
		return
	case model.NSModePrivate:
		m.HostUIDMapping, m.HostGIDMapping = false, false
		if auto, size, ok := strings.Cut(user.Value, ":size="); auto == model.UserNSAuto {
			s.UserNS = SpecNamespace{Mode: "auto"}
			m.AutoUserNs = true
			if n, err := strconv.ParseUint(size, 10, 32); ok && err == nil {
				m.AutoUserNsOpts.Size = uint32(n)
			}
			return // new mappings are picked for the new container
		}
		s.UserNS = SpecNamespace{Mode: model.NSModePrivate}
		for _, e := range cfg.UIDMap {
			m.UIDMap = append(m.UIDMap, SpecIDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size})
		}
		for _, e := range cfg.GIDMap {
			m.GIDMap = append(m.GIDMap, SpecIDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size})
		}
	default: // container, path
		m.HostUIDMapping, m.HostGIDMapping = false, false
		s.UserNS = SpecNamespace{Mode: user.Mode, Value: user.Value}
	}
}

// specNetwork sets the network namespace, the networks with their static addresses and
// aliases, and the published ports. The default network is the key "default", as the libpod
// create endpoint reads it (podman writes the network's name).
func (s *ContainerSpec) specNetwork(cfg *model.ContainerConfig) {
	n, ok := cfg.Namespaces[model.NSNet]
	if !ok {
		return // a pod member on its pod's network: {} and no networks, as podman writes it
	}
	s.NetNS = SpecNamespace{Mode: n.Mode, Value: n.Value}
	if n.UserNet() {
		s.NetNS.Value = ""
		if n.Value != "" {
			s.NetworkOptions = map[string][]string{n.Mode: strings.Split(n.Value, ",")}
		}
	}
	for _, p := range cfg.Network.Ports {
		s.PortMappings = append(s.PortMappings, SpecPort{HostIP: p.HostIP, ContainerPort: p.ContainerPort, HostPort: p.HostPort,
			Range: max(p.Range, 1), Protocol: p.Protocol})
	}
	if n.Mode != model.NSModeBridge {
		return
	}
	s.Networks = specNetworks(cfg.Network, cfg.Network.Networks)
}

// specNetworks are the networks named (none: the default network) with what is asked of each:
// the first one's static addresses are nc's own, the others' in Addrs; aliases of all the
// networks ("*") go to each. The default network is the key "default", as the libpod create
// endpoints read it (podman writes the network's name), and only when something is asked of
// it: otherwise there are no networks, as podman's client sends the default network.
func specNetworks(nc model.NetworkConfig, names []string) map[string]SpecNetwork {
	if len(names) == 0 {
		if nc.StaticIP == "" && nc.StaticIP6 == "" && nc.StaticMAC == "" && len(nc.Aliases["*"]) == 0 {
			return nil
		}
		names = []string{"default"}
	}
	out := make(map[string]SpecNetwork, len(names))
	for i, name := range names {
		a := nc.Addrs[name]
		if i == 0 {
			a = model.NetworkAddr{IP: nc.StaticIP, IP6: nc.StaticIP6, MAC: nc.StaticMAC}
		}
		opts := SpecNetwork{StaticMAC: a.MAC, InterfaceName: "eth" + strconv.Itoa(i)}
		for _, ip := range []string{a.IP, a.IP6} {
			if ip != "" {
				opts.StaticIPs = append(opts.StaticIPs, ip)
			}
		}
		if name != "default" {
			opts.Aliases = slices.Clone(nc.Aliases[name])
		}
		opts.Aliases = append(opts.Aliases, nc.Aliases["*"]...)
		out[name] = opts
	}
	return out
}

// specResources sets the cgroup limits (--cpus as a quota of a 100ms period, as podman's client
// sends it), the rlimits and the per-device block I/O limits.
func (s *ContainerSpec) specResources(cfg *model.ContainerConfig) {
	s.ResourceLimits = specResources(cfg.Resources)
	if len(cfg.CgroupConf) > 0 {
		if s.ResourceLimits == nil {
			s.ResourceLimits = &SpecResources{}
		}
		s.ResourceLimits.Unified = cfg.CgroupConf
	}
	for _, u := range cfg.Ulimits {
		s.Rlimits = append(s.Rlimits, SpecRlimit{Type: "RLIMIT_" + strings.ToUpper(u.Name), Hard: u.Hard, Soft: u.Soft})
	}
	s.WeightDevice, s.ReadBps, s.WriteBps, s.ReadIOps, s.WriteIOps = specDeviceValues(cfg.Resources)
}

// specHealth sets the health check; a container that left its image's out gets ["NONE"].
func (s *ContainerSpec) specHealth(src *engine.SpecSource) {
	cfg := src.Container
	if h := cfg.Healthcheck; h != nil {
		s.Health = &SpecHealth{Test: h.Test, StartPeriod: h.StartPeriod, Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries}
	} else if src.ImageHealthcheck {
		s.Health = &SpecHealth{Test: []string{"NONE"}}
	}
	s.HealthLogDestination, s.HealthMaxLogCount, s.HealthMaxLogSize = cfg.HealthLogDestination, cfg.HealthMaxLogCount, cfg.HealthMaxLogSize
	if h := cfg.StartupHealthcheck; h != nil {
		s.StartupHealth = &SpecStartupHealth{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout, Retries: h.Retries, Successes: h.Successes}
	}
	switch cfg.HealthOnFailure {
	case "kill":
		s.HealthOnFailure = 2
	case "restart":
		s.HealthOnFailure = 3
	case "stop":
		s.HealthOnFailure = 4
	}
}

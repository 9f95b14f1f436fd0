package api

import "fmt"

// libpodSpec is podman 4.3's SpecGenerator as POST /libpod/containers/create takes it: the
// client has already turned `podman create/run`'s flags into it (sizes into bytes, --cpus into
// a quota and period, --read-only's tmpfs into mounts, -v into mounts or named volumes). Every
// field pea can honour is read; any other field the request sets is refused
// (checkLibpodSpecKeys), so that no setting is ever dropped without a word.
type libpodSpec struct {
	// Process and metadata.
	Name          string            `json:"name"`
	Pod           string            `json:"pod"`
	Image         string            `json:"image"`
	Rootfs        string            `json:"rootfs"`
	RootfsOverlay bool              `json:"rootfs_overlay"`
	Command       []string          `json:"command"`
	Entrypoint    []string          `json:"entrypoint"`
	Env           map[string]string `json:"env"`
	EnvHost       bool              `json:"env_host"`
	HTTPProxy     bool              `json:"httpproxy"` // absent: false (the client always sends its default, true)
	EnvMerge      []string          `json:"envmerge"`
	UnsetEnv      []string          `json:"unsetenv"`
	UnsetEnvAll   bool              `json:"unsetenvall"`
	Labels        map[string]string `json:"labels"`
	Annotations   map[string]string `json:"annotations"`
	WorkDir       string            `json:"work_dir"`
	User          string            `json:"user"`
	Groups        []string          `json:"groups"`
	Terminal      bool              `json:"terminal"`
	Stdin         bool              `json:"stdin"`
	Remove        bool              `json:"remove"`
	Hostname      string            `json:"hostname"`
	Sysctl        map[string]string `json:"sysctl"`
	Timezone      string            `json:"timezone"`
	Umask         string            `json:"umask"`
	Timeout       uint              `json:"timeout"`
	StopSignal    *int              `json:"stop_signal"`
	StopTimeout   *uint             `json:"stop_timeout"`
	Restart       string            `json:"restart_policy"`
	RestartTries  *uint             `json:"restart_tries"`
	Init          bool              `json:"init"`
	InitPath      string            `json:"init_path"`
	InitCtrType   string            `json:"init_container_type"`
	Requires      []string          `json:"dependencyContainers"`
	ConmonPidFile string            `json:"conmon_pid_file"`
	OCIRuntime    string            `json:"oci_runtime"`
	Systemd       string            `json:"systemd"`
	SdNotify      string            `json:"sdnotifyMode"`
	CreateCommand []string          `json:"containerCreateCommand"`
	Personality   *struct {
		Domain string   `json:"domain"`
		Flags  []string `json:"flags"`
	} `json:"personality"`
	Log *struct {
		Driver  string            `json:"driver"`
		Path    string            `json:"path"`
		Size    int64             `json:"size"`
		Options map[string]string `json:"options"`
	} `json:"log_configuration"`
	Secrets []struct {
		Source string `json:"Source"`
		Target string `json:"Target"`
		UID    uint32 `json:"UID"`
		GID    uint32 `json:"GID"`
		Mode   uint32 `json:"Mode"`
	} `json:"secrets"`
	EnvSecrets map[string]string `json:"secret_env"` // variable: secret
	Health     *struct {
		Test        []string `json:"Test"`
		Interval    int64    `json:"Interval"`
		Timeout     int64    `json:"Timeout"`
		StartPeriod int64    `json:"StartPeriod"`
		Retries     int      `json:"Retries"`
	} `json:"healthconfig"`
	// HealthOnFailure is podman's enumeration: 0 or 1 none, 2 kill, 3 restart, 4 stop.
	HealthOnFailure int `json:"health_check_on_failure_action"`

	// Storage.
	ImageVolume  string           `json:"image_volume_mode"`
	VolumesFrom  []string         `json:"volumes_from"`
	Mounts       []libpodMount    `json:"mounts"`
	Volumes      []libpodVolume   `json:"volumes"`
	ReadOnly     bool             `json:"read_only_filesystem"`
	ShmSize      *int64           `json:"shm_size"`
	ChrootDirs   []string         `json:"chroot_directories"`
	Devices      []libpodDevice   `json:"devices"`
	DeviceRules  []libpodCgDevice `json:"device_cgroup_rule"`
	ManagePasswd *bool            `json:"manage_password"`
	PasswdEntry  string           `json:"passwd_entry"`
	HostUsers    []string         `json:"hostusers"`

	// Security.
	Privileged      bool              `json:"privileged"`
	CapAdd          []string          `json:"cap_add"`
	CapDrop         []string          `json:"cap_drop"`
	SelinuxOpts     []string          `json:"selinux_opts"`
	ApparmorProfile string            `json:"apparmor_profile"`
	SeccompPolicy   string            `json:"seccomp_policy"`
	SeccompProfile  string            `json:"seccomp_profile_path"`
	NoNewPrivileges bool              `json:"no_new_privileges"`
	ProcOpts        []string          `json:"procfs_opts"`
	Mask            []string          `json:"mask"`
	Unmask          []string          `json:"unmask"`
	UserNS          libpodNamespace   `json:"userns"`
	IDMappings      *libpodIDMappings `json:"idmappings"`

	// Namespaces and cgroups.
	PidNS        libpodNamespace `json:"pidns"`
	UtsNS        libpodNamespace `json:"utsns"`
	IpcNS        libpodNamespace `json:"ipcns"`
	CgroupNS     libpodNamespace `json:"cgroupns"`
	CgroupsMode  string          `json:"cgroups_mode"`
	CgroupParent string          `json:"cgroup_parent"`

	// Network.
	NetNS          libpodNamespace              `json:"netns"`
	Networks       map[string]libpodNetworkOpts `json:"Networks"`
	PortMappings   []libpodPort                 `json:"portmappings"`
	PublishAll     bool                         `json:"publish_image_ports"`
	Expose         map[uint16]string            `json:"expose"`
	DNSServers     []string                     `json:"dns_server"`
	DNSSearch      []string                     `json:"dns_search"`
	DNSOptions     []string                     `json:"dns_option"`
	UseImageResolv bool                         `json:"use_image_resolve_conf"`
	UseImageHosts  bool                         `json:"use_image_hosts"`
	HostAdd        []string                     `json:"hostadd"`

	// Resources.
	Resources    *libpodResources             `json:"resource_limits"`
	Rlimits      []libpodRlimit               `json:"r_limits"`
	OOMScoreAdj  *int                         `json:"oom_score_adj"`
	WeightDevice map[string]libpodDeviceValue `json:"weightDevice"`
	ReadBps      map[string]libpodDeviceValue `json:"throttleReadBpsDevice"`
	WriteBps     map[string]libpodDeviceValue `json:"throttleWriteBpsDevice"`
	ReadIOps     map[string]libpodDeviceValue `json:"throttleReadIOPSDevice"`
	WriteIOps    map[string]libpodDeviceValue `json:"throttleWriteIOPSDevice"`
}

// libpodNamespace is podman's Namespace: nsmode "" (default), host, private, container (value:
// the container), path (value: the file), none, bridge, slirp4netns, keep-id, auto, ...
type libpodNamespace struct {
	Mode  string `json:"nsmode"`
	Value string `json:"value"`
}

// libpodMount is an OCI mount as the client sends -v SRC:DST (bind), --mount type=bind|tmpfs
// and --tmpfs.
type libpodMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options"`
}

// libpodVolume is a named volume (-v NAME:DST, --mount type=volume); an empty Name is an
// anonymous one (-v /DST).
type libpodVolume struct {
	Name    string   `json:"Name"`
	Dest    string   `json:"Dest"`
	Options []string `json:"Options"`
}

// libpodNetworkOpts is what the container asks of one network (--network NAME, --ip, --ip6,
// --mac-address, --network-alias).
type libpodNetworkOpts struct {
	StaticIPs     []string `json:"static_ips"`
	StaticMAC     string   `json:"static_mac"`
	Aliases       []string `json:"aliases"`
	InterfaceName string   `json:"interface_name"`
}

// libpodIDMappings are the ID maps of a user namespace (--uidmap, --gidmap, --userns
// auto:size=N).
type libpodIDMappings struct {
	UIDMap     []libpodIDMap `json:"UIDMap"`
	GIDMap     []libpodIDMap `json:"GIDMap"`
	AutoUserNs bool          `json:"AutoUserNs"`
	AutoOpts   struct {
		Size uint32 `json:"Size"`
	} `json:"AutoUserNsOpts"`
}

// strings are the maps as --uidmap and --gidmap values, and the size of an automatic one.
func (m *libpodIDMappings) strings() (uidmap, gidmap []string, autoSize uint32) {
	for _, e := range m.UIDMap {
		uidmap = append(uidmap, fmt.Sprintf("%d:%d:%d", e.ContainerID, e.HostID, e.Size))
	}
	for _, e := range m.GIDMap {
		gidmap = append(gidmap, fmt.Sprintf("%d:%d:%d", e.ContainerID, e.HostID, e.Size))
	}
	return uidmap, gidmap, m.AutoOpts.Size
}

type libpodIDMap struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// libpodDevice is --device: the client sends the flag's value as the path.
type libpodDevice struct {
	Path string `json:"path"`
}

// libpodCgDevice is --device-cgroup-rule; a missing major or minor is the wildcard.
type libpodCgDevice struct {
	Allow  bool   `json:"allow"`
	Type   string `json:"type"`
	Major  *int64 `json:"major"`
	Minor  *int64 `json:"minor"`
	Access string `json:"access"`
}

// libpodDeviceValue is a block I/O weight or rate of a device named by its path.
type libpodDeviceValue struct {
	Weight *uint16 `json:"weight"`
	Rate   uint64  `json:"rate"`
}

type libpodRlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// libpodResources is the OCI runtime spec's LinuxResources, which the client fills from the
// resource flags; the fields pea has no setting for are refused by checkLibpodSpecKeys.
type libpodResources struct {
	Memory *struct {
		Limit            *int64  `json:"limit"`
		Reservation      *int64  `json:"reservation"`
		Swap             *int64  `json:"swap"`
		Swappiness       *uint64 `json:"swappiness"`
		DisableOOMKiller *bool   `json:"disableOOMKiller"`
	} `json:"memory"`
	CPU *struct {
		Shares          *uint64 `json:"shares"`
		Quota           *int64  `json:"quota"`
		Period          *uint64 `json:"period"`
		RealtimeRuntime *int64  `json:"realtimeRuntime"`
		RealtimePeriod  *uint64 `json:"realtimePeriod"`
		Cpus            string  `json:"cpus"`
		Mems            string  `json:"mems"`
	} `json:"cpu"`
	Pids *struct {
		Limit int64 `json:"limit"`
	} `json:"pids"`
	BlockIO *struct {
		Weight *uint16 `json:"weight"`
	} `json:"blockIO"`
	Unified map[string]string `json:"unified"`
}

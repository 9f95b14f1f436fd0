package view

// The parts podman 4.3's SpecGenerator and PodSpecGenerator share, with their JSON names, order
// and omitted-when-empty rules: generate spec writes them, and the libpod create endpoints
// (internal/api) read them, whether podman's client or generate spec sent them. Where the two
// sides need different things of a field, it has the type that serves both (a pointer tells an
// absent value from a zero one); fields only one side uses are left out when empty.

// SpecNamespace is podman's Namespace: nsmode default, private, host, container (value: the
// container), path (value: the file), bridge, none, auto, ...
type SpecNamespace struct {
	Mode  string `json:"nsmode,omitempty"`
	Value string `json:"value,omitempty"`
}

// SpecMount is an OCI mount: a bind or a tmpfs (-v SRC:DST, --mount type=bind|tmpfs, --tmpfs).
type SpecMount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type,omitempty"`
	Source      string   `json:"source,omitempty"`
	Options     []string `json:"options,omitempty"`
}

// SpecVolume is a named volume (-v NAME:DST, --mount type=volume); an anonymous one (-v /DST)
// has no name.
type SpecVolume struct {
	Name        string   `json:"Name"`
	Dest        string   `json:"Dest"`
	Options     []string `json:"Options"`
	IsAnonymous bool     `json:"IsAnonymous"`
}

// SpecPort is a published port (netavark's PortMapping), also in the libpod container list.
type SpecPort struct {
	HostIP        string `json:"host_ip"`
	ContainerPort uint16 `json:"container_port"`
	HostPort      uint16 `json:"host_port"`
	Range         uint16 `json:"range"`
	Protocol      string `json:"protocol"`
}

// SpecNetwork is what is asked of one network (PerNetworkOptions: --network NAME, --ip, --ip6,
// --mac-address, --network-alias).
type SpecNetwork struct {
	StaticIPs     []string `json:"static_ips,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	StaticMAC     string   `json:"static_mac,omitempty"`
	InterfaceName string   `json:"interface_name,omitempty"`
}

// SpecIDMappings is containers/storage's IDMappingOptions, which podman always writes
// (--uidmap, --gidmap, --userns auto:size=N).
type SpecIDMappings struct {
	HostUIDMapping bool        `json:"HostUIDMapping"`
	HostGIDMapping bool        `json:"HostGIDMapping"`
	UIDMap         []SpecIDMap `json:"UIDMap"`
	GIDMap         []SpecIDMap `json:"GIDMap"`
	AutoUserNs     bool        `json:"AutoUserNs"`
	AutoUserNsOpts struct {
		Size                  uint32      `json:"Size"`
		InitialSize           uint32      `json:"InitialSize"`
		PasswdFile            string      `json:"PasswdFile"`
		GroupFile             string      `json:"GroupFile"`
		AdditionalUIDMappings []SpecIDMap `json:"AdditionalUIDMappings"`
		AdditionalGIDMappings []SpecIDMap `json:"AdditionalGIDMappings"`
	} `json:"AutoUserNsOpts"`
}

type SpecIDMap struct {
	ContainerID uint32 `json:"container_id"`
	HostID      uint32 `json:"host_id"`
	Size        uint32 `json:"size"`
}

// SpecResources is the OCI runtime spec's LinuxResources, as far as pea has settings for it
// (the endpoints refuse the others); also the body of POST /libpod/containers/{id}/update.
type SpecResources struct {
	Memory  *SpecMemory       `json:"memory,omitempty"`
	CPU     *SpecCPU          `json:"cpu,omitempty"`
	Pids    *SpecPids         `json:"pids,omitempty"`
	BlockIO *SpecBlockIO      `json:"blockIO,omitempty"`
	Unified map[string]string `json:"unified,omitempty"`
}

type SpecMemory struct {
	Limit            *int64  `json:"limit,omitempty"`
	Reservation      *int64  `json:"reservation,omitempty"`
	Swap             *int64  `json:"swap,omitempty"`
	Swappiness       *uint64 `json:"swappiness,omitempty"`
	DisableOOMKiller *bool   `json:"disableOOMKiller,omitempty"`
}

type SpecCPU struct {
	Shares          *uint64 `json:"shares,omitempty"`
	Quota           *int64  `json:"quota,omitempty"`
	Period          *uint64 `json:"period,omitempty"`
	RealtimeRuntime *int64  `json:"realtimeRuntime,omitempty"`
	RealtimePeriod  *uint64 `json:"realtimePeriod,omitempty"`
	Cpus            string  `json:"cpus,omitempty"`
	Mems            string  `json:"mems,omitempty"`
}

type SpecPids struct {
	Limit int64 `json:"limit"`
}

type SpecBlockIO struct {
	Weight *uint16 `json:"weight,omitempty"`
}

// SpecDeviceValue is a block I/O weight (LinuxWeightDevice) or rate (LinuxThrottleDevice) of
// the device whose path is its key.
type SpecDeviceValue struct {
	Major  int64   `json:"major"`
	Minor  int64   `json:"minor"`
	Weight *uint16 `json:"weight,omitempty"`
	Rate   uint64  `json:"rate,omitempty"`
}

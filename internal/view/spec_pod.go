package view

import (
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
)

// PodSpec is podman 4.3's PodSpecGenerator as `generate spec` prints it (fields in the order
// and with the omissions of podman 4.3's client, which sends the same type to
// /libpod/pods/create): every setting of the pod that endpoint reads; the endpoint
// (internal/api) reads it into this type too. The fields marked "read only" are ones the
// endpoint takes that generate spec never sets (left out).
type PodSpec struct {
	// PodBasicConfig.
	Name               string            `json:"name,omitempty"`
	Hostname           string            `json:"hostname,omitempty"`
	ExitPolicy         string            `json:"exit_policy,omitempty"`
	Labels             map[string]string `json:"labels,omitempty"`
	NoInfra            bool              `json:"no_infra,omitempty"`
	InfraConmonPidFile string            `json:"infra_conmon_pid_file,omitempty"`
	InfraCommand       []string          `json:"infra_command,omitempty"`
	InfraImage         string            `json:"infra_image,omitempty"`
	InfraName          string            `json:"infra_name,omitempty"`
	SharedNamespaces   []string          `json:"shared_namespaces,omitempty"`
	RestartPolicy      string            `json:"restart_policy,omitempty"` // pea's pod create --restart
	ShareParent        *bool             `json:"share_parent,omitempty"`
	CreateCommand      []string          `json:"pod_create_command,omitempty"`
	PidNS              SpecNamespace     `json:"pidns"`
	UserNS             SpecNamespace     `json:"userns"`
	UtsNS              SpecNamespace     `json:"utsns"`
	Devices            []string          `json:"pod_devices,omitempty"`
	Sysctl             map[string]string `json:"sysctl,omitempty"`

	// PodNetworkConfig.
	NetNS         SpecNamespace          `json:"netns"`
	NetworkOpts   map[string][]string    `json:"network_options,omitempty"` // slirp4netns's or pasta's, by mode
	StaticIP      string                 `json:"static_ip,omitempty"`       // read only
	StaticMAC     string                 `json:"static_mac,omitempty"`      // read only
	PortMappings  []SpecPort             `json:"portmappings,omitempty"`
	Networks      map[string]SpecNetwork `json:"Networks"`
	DNSServers    []string               `json:"dns_server,omitempty"`
	DNSSearch     []string               `json:"dns_search,omitempty"`
	DNSOptions    []string               `json:"dns_option,omitempty"`
	NoManageHosts bool                   `json:"no_manage_hosts,omitempty"`
	HostAdd       []string               `json:"hostadd,omitempty"`

	// PodCgroupConfig.
	CgroupParent string `json:"cgroup_parent,omitempty"`

	// PodResourceConfig (podman's client sends --cpus twice: in resource_limits and on its own).
	ResourceLimits *SpecResources             `json:"resource_limits,omitempty"`
	CPUPeriod      uint64                     `json:"cpu_period,omitempty"`
	CPUQuota       int64                      `json:"cpu_quota,omitempty"`
	WeightDevice   map[string]SpecDeviceValue `json:"weightDevice,omitempty"`
	ReadBps        map[string]SpecDeviceValue `json:"throttleReadBpsDevice,omitempty"`
	WriteBps       map[string]SpecDeviceValue `json:"throttleWriteBpsDevice,omitempty"`

	// PodStorageConfig.
	Mounts      []SpecMount  `json:"mounts,omitempty"`
	Volumes     []SpecVolume `json:"volumes,omitempty"`
	VolumesFrom []string     `json:"volumes_from,omitempty"`
	ShmSize     *int64       `json:"shm_size,omitempty"`

	// PodSecurityConfig.
	SecurityOpts []string        `json:"security_opt,omitempty"`
	IDMappings   *SpecIDMappings `json:"idmappings,omitempty"`
}

// NewPodSpec is the PodSpecGenerator of the pod src describes.
func NewPodSpec(src *engine.SpecSource) *PodSpec {
	cfg := src.Pod
	s := &PodSpec{
		Name: cfg.Name, Hostname: cfg.Hostname, ExitPolicy: cfg.ExitPolicy, Labels: cfg.Labels, NoInfra: !cfg.HasInfra,
		InfraConmonPidFile: cfg.InfraConmonPidFile, InfraCommand: cfg.InfraCommand, InfraImage: cfg.InfraImage,
		InfraName: cfg.InfraName, RestartPolicy: cfg.RestartPolicy, CreateCommand: cfg.CreateCommand,
		Devices: cfg.Devices, Sysctl: cfg.Sysctls, CgroupParent: cfg.CgroupParent, VolumesFrom: cfg.VolumesFrom,
		SecurityOpts: cfg.SecurityOpts,
		PidNS:        SpecNamespace{Mode: "default"}, UtsNS: SpecNamespace{Mode: "default"},
	}
	for _, k := range cfg.SharedKinds() {
		if k != model.NSUser && k != model.NSMount { // the user namespace follows userns
			s.SharedNamespaces = append(s.SharedNamespaces, k)
		}
	}
	if len(s.SharedNamespaces) == 0 && cfg.HasInfra {
		s.SharedNamespaces = []string{"none"} // nothing: the endpoint's default would be ipc, net, uts
	}
	if !cfg.UsePodCgroup {
		s.ShareParent = ptr(false)
	}
	if cfg.PidMode != "" {
		s.PidNS.Mode = cfg.PidMode
	}
	if cfg.UtsMode != "" {
		s.UtsNS.Mode = cfg.UtsMode
	}
	s.specPodUserNS(cfg)
	s.specPodNetwork(cfg)
	s.ResourceLimits = specResources(cfg.Resources)
	if cfg.Resources.CPUs > 0 {
		s.CPUPeriod, s.CPUQuota = 100000, int64(cfg.Resources.CPUs*100000)
	}
	s.WeightDevice, s.ReadBps, s.WriteBps, _, _ = specDeviceValues(cfg.Resources)
	for _, v := range cfg.Volumes {
		m, err := engine.ParseVolume(v)
		if err != nil {
			continue // checked when the pod was made
		}
		var opts []string // as given: -v SRC:DST:OPTS
		if parts := strings.Split(v, ":"); len(parts) == 3 {
			opts = strings.Split(parts[2], ",")
		}
		if m.Type == "bind" {
			s.Mounts = append(s.Mounts, SpecMount{Destination: m.Destination, Type: "bind", Source: m.Source, Options: opts})
		} else {
			s.Volumes = append(s.Volumes, SpecVolume{Name: m.Source, Dest: m.Destination, Options: opts, IsAnonymous: m.Source == ""})
		}
	}
	if cfg.Resources.ShmSize > 0 {
		s.ShmSize = ptr(cfg.Resources.ShmSize)
	}
	return s
}

func (s *PodSpec) specPodUserNS(cfg *model.PodConfig) {
	m := &SpecIDMappings{HostUIDMapping: true, HostGIDMapping: true}
	s.IDMappings, s.UserNS = m, SpecNamespace{Mode: "default"}
	switch cfg.UserNS.Mode {
	case "", model.NSModeHost:
	case model.NSModePrivate:
		m.HostUIDMapping, m.HostGIDMapping = false, false
		if auto, size, ok := strings.Cut(cfg.UserNS.Value, ":size="); auto == model.UserNSAuto {
			s.UserNS.Mode, m.AutoUserNs = "auto", true
			if n, err := strconv.ParseUint(size, 10, 32); ok && err == nil {
				m.AutoUserNsOpts.Size = uint32(n)
			}
			return
		}
		s.UserNS.Mode = model.NSModePrivate
		for _, e := range cfg.UIDMap {
			m.UIDMap = append(m.UIDMap, SpecIDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size})
		}
		for _, e := range cfg.GIDMap {
			m.GIDMap = append(m.GIDMap, SpecIDMap{ContainerID: e.ContainerID, HostID: e.HostID, Size: e.Size})
		}
	default: // path
		m.HostUIDMapping, m.HostGIDMapping = false, false
		s.UserNS = SpecNamespace{Mode: cfg.UserNS.Mode, Value: cfg.UserNS.Value}
	}
}

// specPodNetwork sets the pod's network namespace, networks (with the infra container's static
// addresses and aliases) and published ports, as for a container (specNetwork).
func (s *PodSpec) specPodNetwork(cfg *model.PodConfig) {
	nc := cfg.Infra
	s.DNSServers, s.DNSSearch, s.DNSOptions, s.NoManageHosts, s.HostAdd = nc.DNSServers, nc.DNSSearch, nc.DNSOptions, nc.NoHosts, nc.AddHosts
	for _, p := range nc.Ports {
		s.PortMappings = append(s.PortMappings, SpecPort{HostIP: p.HostIP, ContainerPort: p.ContainerPort, HostPort: p.HostPort,
			Range: max(p.Range, 1), Protocol: p.Protocol})
	}
	if !cfg.HasInfra {
		return
	}
	ns, names := engine.NetworkMode(cfg.NetworkMode)
	if len(nc.Networks) > 0 {
		names = nc.Networks
	}
	s.NetNS = SpecNamespace{Mode: ns.Mode, Value: ns.Value}
	if ns.UserNet() {
		s.NetNS.Value = ""
		if ns.Value != "" {
			s.NetworkOpts = map[string][]string{ns.Mode: strings.Split(ns.Value, ",")}
		}
	}
	if ns.Mode == model.NSModeBridge {
		s.Networks = specNetworks(nc, names)
	}
}

package view

import (
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

// Pod has podman 4.3's `pod inspect` keys: the ones podman leaves out when empty are left out.
type Pod struct {
	ID               string            `json:"Id"`
	Name             string            `json:"Name"`
	Namespace        string            `json:"Namespace,omitempty"`
	Created          time.Time         `json:"Created"`
	CreateCommand    []string          `json:"CreateCommand,omitempty"`
	ExitPolicy       string            `json:"ExitPolicy,omitempty"`
	State            string            `json:"State"`
	Hostname         string            `json:"Hostname"`
	Labels           map[string]string `json:"Labels,omitempty"`
	CreateCgroup     bool              `json:"CreateCgroup"`
	CgroupParent     string            `json:"CgroupParent,omitempty"`
	CgroupPath       string            `json:"CgroupPath,omitempty"`
	CreateInfra      bool              `json:"CreateInfra"`
	InfraContainerID string            `json:"InfraContainerID,omitempty"`
	InfraConfig      *PodInfraConfig   `json:"InfraConfig,omitempty"`
	SharedNamespaces []string          `json:"SharedNamespaces,omitempty"`
	NumContainers    int               `json:"NumContainers"`
	Containers       []PodContainer    `json:"Containers,omitempty"`
	CPUPeriod        uint64            `json:"cpu_period,omitempty"`
	CPUQuota         int64             `json:"cpu_quota,omitempty"`
	CPUShares        uint64            `json:"cpu_shares,omitempty"`
	CPUSetCPUs       string            `json:"cpuset_cpus,omitempty"`
	CPUSetMems       string            `json:"cpuset_mems,omitempty"`
	Mounts           []Mount           `json:"mounts,omitempty"`
	Devices          []Device          `json:"devices,omitempty"`
	SecurityOpts     []string          `json:"security_opt,omitempty"`
	MemoryLimit      uint64            `json:"memory_limit,omitempty"`
	MemorySwap       int64             `json:"memory_swap,omitempty"`
	// PidsLimit and ShmSize are pea's (podman 4.3's pod inspect has neither): there when set.
	PidsLimit int64 `json:"PidsLimit,omitempty"`
	ShmSize   int64 `json:"shm_size,omitempty"`
}

type PodInfraConfig struct {
	PortBindings       map[string][]HostPort `json:"PortBindings"`
	HostNetwork        bool                  `json:"HostNetwork"`
	StaticIP           string                `json:"StaticIP"`
	StaticMAC          string                `json:"StaticMAC"`
	NoManageResolvConf bool                  `json:"NoManageResolvConf"`
	DNSServer          []string              `json:"DNSServer"`
	DNSSearch          []string              `json:"DNSSearch"`
	DNSOption          []string              `json:"DNSOption"`
	NoManageHosts      bool                  `json:"NoManageHosts"`
	HostAdd            []string              `json:"HostAdd"`
	Networks           []string              `json:"Networks"`
	NetworkOptions     map[string][]string   `json:"NetworkOptions"`
	CPUPeriod          uint64                `json:"cpu_period,omitempty"`
	CPUQuota           int64                 `json:"cpu_quota,omitempty"`
	CPUSetCPUs         string                `json:"cpuset_cpus,omitempty"`
	PidNS              string                `json:"pid_ns,omitempty"`
	UserNS             string                `json:"userns,omitempty"`
	UtsNS              string                `json:"uts_ns,omitempty"`
}

type PodContainer struct {
	ID    string `json:"Id"`
	Name  string `json:"Name"`
	State string `json:"State"`
}

// Device is podman's InspectDevice: a host device given to a container (or every member of a
// pod).
type Device struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// NewDevice is the inspect view of a --device HOST[:CONTAINER][:PERMISSIONS].
func NewDevice(spec string) Device {
	parts := strings.Split(spec, ":")
	d := Device{PathOnHost: parts[0], PathInContainer: parts[0]}
	rest := parts[1:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], "/") {
		d.PathInContainer, rest = rest[0], rest[1:]
	}
	if len(rest) > 0 {
		d.CgroupPermissions = rest[0]
	}
	return d
}

// PodNetworks are the networks a pod's infra container joins, as podman's pod listing and
// inspect name them: the default one for a pod on the default bridge, none without an infra
// container or with the host's, no or a given network namespace.
func PodNetworks(cfg *model.PodConfig) []string {
	switch {
	case !cfg.HasInfra:
		return []string{}
	case len(cfg.Infra.Networks) > 0:
		return cfg.Infra.Networks
	case cfg.NetworkMode == "" || cfg.NetworkMode == "bridge":
		return []string{network.DefaultName}
	}
	return []string{}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func PodInspect(rt *engine.Runtime, p *engine.PodInfo) *Pod {
	cfg, st := p.Pod.Config, p.Pod.State
	v := &Pod{
		ID: cfg.ID, Name: cfg.Name, Namespace: cfg.Namespace, Created: cfg.Created, CreateCommand: cfg.CreateCommand,
		ExitPolicy: cfg.ExitPolicy, State: p.Status, Hostname: cfg.Hostname, Labels: cfg.Labels,
		CreateCgroup: cfg.UsePodCgroup, CgroupParent: cfg.CgroupParent, CgroupPath: st.CgroupPath,
		CreateInfra: cfg.HasInfra, InfraContainerID: st.InfraContainerID, SharedNamespaces: cfg.SharedKinds(),
		NumContainers: len(p.Members), CPUShares: cfg.Resources.CPUShares,
		CPUSetCPUs: cfg.Resources.CpusetCpus, CPUSetMems: cfg.Resources.CpusetMems, PidsLimit: cfg.Resources.PidsLimit,
		SecurityOpts: cfg.SecurityOpts, ShmSize: cfg.Resources.ShmSize,
	}
	if cfg.HostnameDefault {
		v.Hostname = "" // podman shows the hostname given, and none when the pod's name is used
	}
	if len(v.Labels) == 0 {
		v.Labels = nil
	}
	if cfg.Resources.CPUs > 0 {
		v.CPUPeriod, v.CPUQuota = 100000, int64(cfg.Resources.CPUs*100000)
	}
	if cfg.Resources.Memory > 0 {
		v.MemoryLimit = uint64(cfg.Resources.Memory)
		v.MemorySwap = cfg.Resources.MemorySwap
	}
	var mounts []model.Mount
	for _, vol := range cfg.Volumes {
		if m, err := engine.ParseVolume(vol); err == nil {
			mounts = append(mounts, m)
		}
	}
	if ms := inspectMounts(rt, mounts); len(ms) > 0 {
		v.Mounts = ms
	}
	for _, d := range cfg.Devices {
		v.Devices = append(v.Devices, NewDevice(d))
	}
	for _, m := range p.Members {
		v.Containers = append(v.Containers, PodContainer{ID: m.Config.ID, Name: m.Config.Name, State: m.State.Status})
	}
	if cfg.HasInfra {
		n := cfg.Infra
		ic := &PodInfraConfig{
			PortBindings: PortBindings(n.Ports), HostNetwork: cfg.NetworkMode == "host", StaticIP: n.StaticIP,
			StaticMAC: n.StaticMAC, DNSServer: nilIfEmpty(n.DNSServers), DNSSearch: nilIfEmpty(n.DNSSearch), DNSOption: nilIfEmpty(n.DNSOptions),
			NoManageHosts: n.NoHosts, HostAdd: nilIfEmpty(n.AddHosts), Networks: PodNetworks(cfg),
			CPUPeriod: v.CPUPeriod, CPUQuota: v.CPUQuota, CPUSetCPUs: v.CPUSetCPUs,
			PidNS: "private", UserNS: "host", UtsNS: "private",
		}
		if ns, _ := engine.NetworkMode(cfg.NetworkMode); ns.UserNet() && ns.Value != "" {
			ic.NetworkOptions = map[string][]string{ns.Mode: strings.Split(ns.Value, ",")}
		}
		if cfg.PidMode == model.NSModeHost {
			ic.PidNS = "host"
		}
		if cfg.UtsMode == model.NSModeHost {
			ic.UtsNS = "host"
		}
		switch cfg.UserNS.Mode {
		case model.NSModePrivate:
			ic.UserNS = "private"
			if cfg.UserNS.Value != "" {
				ic.UserNS = cfg.UserNS.Value // auto, as given
			}
		case model.NSModePath:
			ic.UserNS = "ns:" + cfg.UserNS.Value
		}
		v.InfraConfig = ic
	}
	return v
}

// PodListEntry is podman's ListPodsReport: one element of `pod ps --format json` and of the
// libpod API's pod list.
type PodListEntry struct {
	Cgroup     string            `json:"Cgroup"`
	Containers []PodListMember   `json:"Containers"`
	Created    time.Time         `json:"Created"`
	ID         string            `json:"Id"`
	InfraID    string            `json:"InfraId"`
	Name       string            `json:"Name"`
	Namespace  string            `json:"Namespace"`
	Networks   []string          `json:"Networks"`
	Status     string            `json:"Status"`
	Labels     map[string]string `json:"Labels"`
}

// PodListMember is one member in PodListEntry.
type PodListMember struct {
	ID     string `json:"Id"`
	Names  string `json:"Names"`
	Status string `json:"Status"`
}

// PodList is p's entry in a pod list; Cgroup is the pod's cgroup parent, as podman's.
func PodList(p *engine.PodInfo) PodListEntry {
	cfg := p.Pod.Config
	e := PodListEntry{Cgroup: cfg.CgroupParent, Created: cfg.Created, ID: cfg.ID, InfraID: p.Pod.State.InfraContainerID,
		Name: cfg.Name, Namespace: cfg.Namespace, Networks: PodNetworks(cfg), Status: p.Status, Labels: cfg.Labels,
		Containers: []PodListMember{}}
	if e.Labels == nil {
		e.Labels = map[string]string{}
	}
	for _, m := range p.Members {
		e.Containers = append(e.Containers, PodListMember{ID: m.Config.ID, Names: m.Config.Name, Status: m.State.Status})
	}
	return e
}

package view

import (
	"fmt"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
)

// Pod has podman's `pod inspect` keys.
type Pod struct {
	ID               string            `json:"Id"`
	Name             string            `json:"Name"`
	Namespace        string            `json:"Namespace"`
	Created          time.Time         `json:"Created"`
	CreateCommand    []string          `json:"CreateCommand"`
	ExitPolicy       string            `json:"ExitPolicy"`
	State            string            `json:"State"`
	Hostname         string            `json:"Hostname"`
	Labels           map[string]string `json:"Labels"`
	CreateCgroup     bool              `json:"CreateCgroup"`
	CgroupParent     string            `json:"CgroupParent"`
	CgroupPath       string            `json:"CgroupPath"`
	CreateInfra      bool              `json:"CreateInfra"`
	InfraContainerID string            `json:"InfraContainerID"`
	InfraConfig      *PodInfraConfig   `json:"InfraConfig,omitempty"`
	SharedNamespaces []string          `json:"SharedNamespaces"`
	NumContainers    int               `json:"NumContainers"`
	Containers       []PodContainer    `json:"Containers"`
	LockNumber       string            `json:"LockNumber"`
	CPUPeriod        uint64            `json:"cpu_period,omitempty"`
	CPUQuota         int64             `json:"cpu_quota,omitempty"`
	CPUSetCPUs       string            `json:"cpuset_cpus,omitempty"`
	CPUSetMems       string            `json:"cpuset_mems,omitempty"`
	MemoryLimit      uint64            `json:"memory_limit,omitempty"`
	MemorySwap       int64             `json:"memory_swap,omitempty"`
	PidsLimit        int64             `json:"PidsLimit,omitempty"`
	Mounts           []string          `json:"mounts,omitempty"`
	Devices          []string          `json:"devices,omitempty"`
	ShmSize          int64             `json:"shm_size,omitempty"`
	SecurityOpts     []string          `json:"security_opt,omitempty"`
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
	PidNS              string                `json:"pid_ns,omitempty"`
	UserNS             string                `json:"userns,omitempty"`
	UtsNS              string                `json:"uts_ns,omitempty"`
}

type PodContainer struct {
	ID    string `json:"Id"`
	Name  string `json:"Name"`
	State string `json:"State"`
}

func PodInspect(p *engine.PodInfo) *Pod {
	cfg, st := p.Pod.Config, p.Pod.State
	v := &Pod{
		ID: cfg.ID, Name: cfg.Name, Namespace: cfg.Namespace, Created: cfg.Created, CreateCommand: cfg.CreateCommand,
		ExitPolicy: cfg.ExitPolicy, State: p.Status, Hostname: cfg.Hostname, Labels: cfg.Labels,
		CreateCgroup: cfg.UsePodCgroup, CgroupParent: cfg.CgroupParent, CgroupPath: st.CgroupPath,
		CreateInfra: cfg.HasInfra, InfraContainerID: st.InfraContainerID, SharedNamespaces: nonNil(cfg.SharedKinds()),
		NumContainers: len(p.Members), Containers: []PodContainer{}, LockNumber: cfg.ID,
		CPUSetCPUs: cfg.Resources.CpusetCpus, CPUSetMems: cfg.Resources.CpusetMems, PidsLimit: cfg.Resources.PidsLimit, Mounts: cfg.Volumes, Devices: cfg.Devices,
		ShmSize: cfg.Resources.ShmSize, SecurityOpts: cfg.SecurityOpts,
	}
	if v.Labels == nil {
		v.Labels = map[string]string{}
	}
	if cfg.Resources.CPUs > 0 {
		v.CPUPeriod, v.CPUQuota = 100000, int64(cfg.Resources.CPUs*100000)
	}
	if cfg.Resources.Memory > 0 {
		v.MemoryLimit = uint64(cfg.Resources.Memory)
		v.MemorySwap = cfg.Resources.MemorySwap
	}
	for _, m := range p.Members {
		v.Containers = append(v.Containers, PodContainer{ID: m.Config.ID, Name: m.Config.Name, State: m.State.Status})
	}
	if cfg.HasInfra {
		n := cfg.Infra
		ic := &PodInfraConfig{
			PortBindings: map[string][]HostPort{}, HostNetwork: cfg.NetworkMode == "host", StaticIP: n.StaticIP,
			StaticMAC: n.StaticMAC, DNSServer: nonNil(n.DNSServers), DNSSearch: nonNil(n.DNSSearch), DNSOption: nonNil(n.DNSOptions),
			NoManageHosts: n.NoHosts, HostAdd: nonNil(n.AddHosts), Networks: nonNil(n.Networks), PidNS: cfg.PidMode, UtsNS: cfg.UtsMode,
		}
		for _, pm := range n.Ports {
			for i := uint16(0); i < max(pm.Range, 1); i++ {
				key := fmt.Sprintf("%d/%s", pm.ContainerPort+i, pm.Protocol)
				ic.PortBindings[key] = append(ic.PortBindings[key], HostPort{HostIP: pm.HostIP, HostPort: fmt.Sprint(pm.HostPort + i)})
			}
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
		if len(ic.Networks) == 0 && cfg.NetworkMode != "host" && cfg.NetworkMode != "none" {
			ic.Networks = []string{"pea"}
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
		Name: cfg.Name, Namespace: cfg.Namespace, Networks: nonNil(cfg.Infra.Networks), Status: p.Status, Labels: cfg.Labels,
		Containers: []PodListMember{}}
	if e.Labels == nil {
		e.Labels = map[string]string{}
	}
	for _, m := range p.Members {
		e.Containers = append(e.Containers, PodListMember{ID: m.Config.ID, Names: m.Config.Name, Status: m.State.Status})
	}
	return e
}

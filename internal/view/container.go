// Package view holds podman-shaped views of pea's objects that both the command line (inspect)
// and the API service (the libpod endpoints) show, so the two stay the same.
package view

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
)

// Container has podman's container inspect keys.
type Container struct {
	ID              string            `json:"Id"`
	Created         time.Time         `json:"Created"`
	Path            string            `json:"Path"`
	Args            []string          `json:"Args"`
	State           ContainerState    `json:"State"`
	Image           string            `json:"Image"`
	ImageName       string            `json:"ImageName"`
	Rootfs          string            `json:"Rootfs"`
	Pod             string            `json:"Pod"`
	ResolvConfPath  string            `json:"ResolvConfPath"`
	HostnamePath    string            `json:"HostnamePath"`
	HostsPath       string            `json:"HostsPath"`
	Namespace       string            `json:"Namespace"`
	Name            string            `json:"Name"`
	RestartCount    int               `json:"RestartCount"`
	Driver          string            `json:"Driver"`
	MountLabel      string            `json:"MountLabel"`
	ProcessLabel    string            `json:"ProcessLabel"`
	IsInfra         bool              `json:"IsInfra"`
	Mounts          []Mount           `json:"Mounts"`
	Dependencies    []string          `json:"Dependencies"`
	NetworkSettings Network           `json:"NetworkSettings"`
	Config          ContainerConfig   `json:"Config"`
	HostConfig      HostConfig        `json:"HostConfig"`
	CreateCommand   []string          `json:"CreateCommand,omitempty"`
	LogPath         string            `json:"LogPath"`
	ConmonPidFile   string            `json:"ConmonPidFile"`
	Labels          map[string]string `json:"-"`
}

type ContainerState struct {
	OciVersion string    `json:"OciVersion"`
	Status     string    `json:"Status"`
	Running    bool      `json:"Running"`
	Paused     bool      `json:"Paused"`
	Restarting bool      `json:"Restarting"`
	OOMKilled  bool      `json:"OOMKilled"`
	Dead       bool      `json:"Dead"`
	Pid        int       `json:"Pid"`
	ConmonPid  int       `json:"ConmonPid"`
	ExitCode   int32     `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// Health is there for a container with a health check.
	Health *Health `json:"Health,omitempty"`
}

type Health struct {
	Status        string      `json:"Status"`
	FailingStreak int         `json:"FailingStreak"`
	Log           []HealthLog `json:"Log"`
}

type HealthLog struct {
	Start    time.Time `json:"Start"`
	End      time.Time `json:"End"`
	ExitCode int       `json:"ExitCode"`
	Output   string    `json:"Output"`
}

type HealthConfig struct {
	Test        []string      `json:"Test"`
	Interval    time.Duration `json:"Interval,omitempty"`
	Timeout     time.Duration `json:"Timeout,omitempty"`
	StartPeriod time.Duration `json:"StartPeriod,omitempty"`
	Retries     int           `json:"Retries,omitempty"`
}

// NewHealth is newHealth for the libpod healthcheck endpoint.
func NewHealth(c *model.Container) *Health { return newHealth(c) }

// newHealth is a container's health as inspect shows it: nil without a health check;
// an empty status before its first start.
func newHealth(c *model.Container) *Health {
	if c.Config.Healthcheck == nil {
		return nil
	}
	h := &Health{Log: []HealthLog{}}
	if st := c.State.Health; st != nil {
		h.Status, h.FailingStreak = st.Status, st.FailingStreak
		for _, l := range st.Log {
			h.Log = append(h.Log, HealthLog(l))
		}
	}
	return h
}

type Mount struct {
	Type        string   `json:"Type"`
	Name        string   `json:"Name,omitempty"`
	Source      string   `json:"Source"`
	Destination string   `json:"Destination"`
	Driver      string   `json:"Driver"`
	Mode        string   `json:"Mode"`
	Options     []string `json:"Options"`
	RW          bool     `json:"RW"`
	Propagation string   `json:"Propagation"`
}

// Network is podman's NetworkSettings; the addresses at its top are those of the container's
// first network (by name), as the addresses of each are under Networks.
type Network struct {
	SandboxKey string                `json:"SandboxKey"`
	Ports      map[string][]HostPort `json:"Ports"`
	Addresses
	Networks map[string]NetworkDetail `json:"Networks,omitempty"`
}

// Addresses are podman's InspectBasicNetworkConfig: a network's first IPv4 and IPv6 address,
// each with its prefix length and gateway, and the MAC address.
type Addresses struct {
	Gateway             string `json:"Gateway"`
	IPAddress           string `json:"IPAddress"`
	IPPrefixLen         int    `json:"IPPrefixLen"`
	IPv6Gateway         string `json:"IPv6Gateway"`
	GlobalIPv6Address   string `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int    `json:"GlobalIPv6PrefixLen"`
	MacAddress          string `json:"MacAddress"`
}

// NewAddresses are the addresses of one of a container's networks.
func NewAddresses(n model.NetworkStatus) Addresses {
	a := Addresses{Gateway: n.Gateway, IPAddress: n.IPAddress, IPPrefixLen: n.PrefixLen, MacAddress: n.MacAddress,
		IPv6Gateway: n.IPv6Gateway, GlobalIPv6Address: n.IPv6, GlobalIPv6PrefixLen: n.IPv6PrefixLen}
	if strings.Contains(a.IPAddress, ":") && a.GlobalIPv6Address == "" {
		// Recorded by pea before dual stack, which kept an IPv6-only network's address here.
		a.GlobalIPv6Address, a.GlobalIPv6PrefixLen, a.IPv6Gateway = a.IPAddress, a.IPPrefixLen, a.Gateway
		a.IPAddress, a.IPPrefixLen, a.Gateway = "", 0, ""
	}
	return a
}

type NetworkDetail struct {
	Addresses
	NetworkID string `json:"NetworkID"`
}

type HostPort struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type ContainerConfig struct {
	Hostname      string            `json:"Hostname"`
	Domainname    string            `json:"Domainname,omitempty"`
	User          string            `json:"User"`
	Env           []string          `json:"Env"`
	Cmd           []string          `json:"Cmd"`
	Image         string            `json:"Image"`
	WorkingDir    string            `json:"WorkingDir"`
	Entrypoint    string            `json:"Entrypoint"`
	Labels        map[string]string `json:"Labels"`
	Annotations   map[string]string `json:"Annotations"`
	StopSignal    uint              `json:"StopSignal"`
	StopTimeout   uint              `json:"StopTimeout"`
	Tty           bool              `json:"Tty"`
	OpenStdin     bool              `json:"OpenStdin"`
	CreateCommand []string          `json:"CreateCommand,omitempty"`
	Healthcheck   *HealthConfig     `json:"Healthcheck,omitempty"`
}

// IDMappings are the mappings of a user namespace of the container's own, each as
// --uidmap takes it.
type IDMappings struct {
	UidMap []string `json:"UidMap"`
	GidMap []string `json:"GidMap"`
}

type HostConfig struct {
	Binds             []string              `json:"Binds"`
	CgroupMode        string                `json:"CgroupMode"`
	CgroupParent      string                `json:"CgroupParent"`
	NetworkMode       string                `json:"NetworkMode"`
	PidMode           string                `json:"PidMode"`
	IpcMode           string                `json:"IpcMode"`
	UTSMode           string                `json:"UTSMode"`
	UsernsMode        string                `json:"UsernsMode"`
	IDMappings        *IDMappings           `json:"IDMappings,omitempty"`
	Privileged        bool                  `json:"Privileged"`
	ReadonlyRootfs    bool                  `json:"ReadonlyRootfs"`
	CapAdd            []string              `json:"CapAdd"`
	CapDrop           []string              `json:"CapDrop"`
	SecurityOpt       []string              `json:"SecurityOpt"`
	Memory            int64                 `json:"Memory"`
	MemorySwap        int64                 `json:"MemorySwap"`
	MemoryReservation int64                 `json:"MemoryReservation"`
	CpuShares         uint64                `json:"CpuShares"`
	CpusetMems        string                `json:"CpusetMems"`
	OomScoreAdj       int                   `json:"OomScoreAdj"`
	NanoCpus          int64                 `json:"NanoCpus"`
	CpuPeriod         uint64                `json:"CpuPeriod"`
	CpuQuota          int64                 `json:"CpuQuota"`
	CpusetCpus        string                `json:"CpusetCpus"`
	PidsLimit         int64                 `json:"PidsLimit"`
	ShmSize           int64                 `json:"ShmSize"`
	AutoRemove        bool                  `json:"AutoRemove"`
	Init              bool                  `json:"Init"`
	PortBindings      map[string][]HostPort `json:"PortBindings"`
	Tmpfs             map[string]string     `json:"Tmpfs"`
	Sysctls           map[string]string     `json:"Sysctls"`
	Ulimits           []model.Ulimit        `json:"Ulimits"`
	Devices           []string              `json:"Devices"`
	RestartPolicy     struct {
		Name              string `json:"Name"`
		MaximumRetryCount uint   `json:"MaximumRetryCount"`
	} `json:"RestartPolicy"`
	LogConfig struct {
		Type string `json:"Type"`
		Path string `json:"Path"`
		Tag  string `json:"Tag"`
		Size string `json:"Size"`
	} `json:"LogConfig"`
	VolumesFrom          []string      `json:"VolumesFrom"`
	BlkioWeight          uint16        `json:"BlkioWeight"`
	BlkioWeightDevice    []BlkioDevice `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []BlkioDevice `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []BlkioDevice `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []BlkioDevice `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []BlkioDevice `json:"BlkioDeviceWriteIOps"`
	MemorySwappiness     int64         `json:"MemorySwappiness"`
	OomKillDisable       bool          `json:"OomKillDisable"`
}

// BlkioDevice is a per-device block I/O setting as inspect shows it (Rate is the weight for
// BlkioWeightDevice).
type BlkioDevice struct {
	Path string `json:"Path"`
	Rate uint64 `json:"Rate"`
}

// runFlags fills the HostConfig fields of the log driver, --volumes-from and the block I/O,
// swappiness and OOM settings.
func runFlags(h *HostConfig, cfg *model.ContainerConfig, logPath string) {
	h.LogConfig.Type = cfg.LogDriver
	if h.LogConfig.Type == "" {
		h.LogConfig.Type = engine.LogDriverK8sFile
	}
	if h.LogConfig.Type != engine.LogDriverNone && h.LogConfig.Type != engine.LogDriverPassthrough || cfg.LogPath != "" {
		h.LogConfig.Path = logPath
	}
	h.LogConfig.Tag, h.LogConfig.Size = cfg.LogTag, strconv.FormatInt(cfg.LogSizeMax, 10)+"B"
	h.VolumesFrom = cfg.VolumesFrom
	if h.VolumesFrom == nil {
		h.VolumesFrom = []string{}
	}
	r := cfg.Resources
	h.BlkioWeight, h.OomKillDisable, h.MemorySwappiness = r.BlkioWeight, r.OOMKillDisable, -1
	if r.MemorySwappiness != nil {
		h.MemorySwappiness = *r.MemorySwappiness
	}
	devs := func(list []string) []BlkioDevice {
		out := []BlkioDevice{}
		for _, s := range list {
			i := strings.LastIndex(s, ":")
			n, _ := strconv.ParseUint(s[i+1:], 10, 64)
			out = append(out, BlkioDevice{Path: s[:i], Rate: n})
		}
		return out
	}
	h.BlkioWeightDevice, h.BlkioDeviceReadBps, h.BlkioDeviceWriteBps = devs(r.BlkioWeightDevice), devs(r.DeviceReadBps), devs(r.DeviceWriteBps)
	h.BlkioDeviceReadIOps, h.BlkioDeviceWriteIOps = devs(r.DeviceReadIOps), devs(r.DeviceWriteIOps)
}

func ContainerInspect(rt *engine.Runtime, c *model.Container) *Container {
	cfg, st := c.Config, c.State
	cmd := cfg.Command()
	v := &Container{
		ID: cfg.ID, Created: cfg.Created, Image: cfg.Image, ImageName: cfg.ImageName, Pod: cfg.Pod,
		Name: cfg.Name, Namespace: cfg.Namespace, Driver: "overlay", IsInfra: cfg.IsInfra,
		Rootfs: cfg.Rootfs, Dependencies: []string{}, Mounts: []Mount{}, RestartCount: st.RestartCount,
		LogPath: rt.LogPath(cfg), CreateCommand: cfg.CreateCommand,
	}
	if len(cmd) > 0 {
		v.Path, v.Args = cmd[0], cmd[1:]
	}
	if v.Args == nil {
		v.Args = []string{}
	}
	v.ResolvConfPath, v.HostnamePath, v.HostsPath = rt.EtcPaths(c)
	v.State = ContainerState{
		OciVersion: "1.1.0", Status: st.Status, Running: st.Status == model.StatusRunning, Paused: st.Status == model.StatusPaused,
		OOMKilled: st.OOMKilled, Pid: st.Pid, ConmonPid: st.ConmonPid, ExitCode: st.ExitCode, Error: st.Error,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Health: newHealth(c),
	}
	for kind, ns := range cfg.Namespaces {
		if ns.Mode == model.NSModeContainer {
			v.Dependencies = append(v.Dependencies, ns.Value)
			_ = kind
		}
	}
	v.Dependencies = uniqStrings(append(v.Dependencies, cfg.Requires...))
	for _, m := range cfg.Mounts {
		im := Mount{Type: m.Type, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly, Options: m.Options, Propagation: "rprivate"}
		if m.Type == "volume" {
			im.Name, im.Source, im.Driver = m.Source, rt.VolumePath(m.Source), "local"
		}
		if im.Options == nil {
			im.Options = []string{}
		}
		if m.ReadOnly {
			im.Mode = "ro"
		}
		v.Mounts = append(v.Mounts, im)
	}
	v.NetworkSettings = Network{SandboxKey: st.NetNS, Ports: map[string][]HostPort{}}
	for _, p := range cfg.Network.Ports {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			key := fmt.Sprintf("%d/%s", p.ContainerPort+i, p.Protocol)
			v.NetworkSettings.Ports[key] = append(v.NetworkSettings.Ports[key], HostPort{HostIP: p.HostIP, HostPort: fmt.Sprint(p.HostPort + i)})
		}
	}
	if len(st.Networks) > 0 {
		v.NetworkSettings.Networks = map[string]NetworkDetail{}
		for i, name := range slices.Sorted(maps.Keys(st.Networks)) {
			a := NewAddresses(st.Networks[name])
			v.NetworkSettings.Networks[name] = NetworkDetail{Addresses: a, NetworkID: name}
			if i == 0 {
				v.NetworkSettings.Addresses = a
			}
		}
	}
	ep := strings.Join(cfg.Entrypoint, " ")
	v.Config = ContainerConfig{
		Hostname: cfg.Hostname, Domainname: cfg.Domainname, User: cfg.User, Env: cfg.Env, Cmd: cfg.Cmd, Image: cfg.ImageName, WorkingDir: cfg.WorkingDir,
		Entrypoint: ep, Labels: cfg.Labels, Annotations: cfg.Annotations, StopSignal: uint(cfg.StopSignal),
		StopTimeout: cfg.StopTimeout, Tty: cfg.Terminal, OpenStdin: cfg.Stdin, CreateCommand: cfg.CreateCommand,
	}
	if hc := cfg.Healthcheck; hc != nil {
		v.Config.Healthcheck = (*HealthConfig)(hc)
	}
	if v.Config.Hostname == "" {
		v.Config.Hostname = shortID(cfg.ID)
	}
	if v.Config.Labels == nil {
		v.Config.Labels = map[string]string{}
	}
	h := HostConfig{
		Binds: []string{}, CgroupParent: cfg.CgroupParent, Privileged: cfg.Privileged, ReadonlyRootfs: cfg.ReadOnly,
		CapAdd: nonNil(cfg.CapAdd), CapDrop: nonNil(cfg.CapDrop), SecurityOpt: []string{}, Memory: cfg.Resources.Memory,
		NanoCpus: int64(cfg.Resources.CPUs * 1e9), CpusetCpus: cfg.Resources.CpusetCpus, PidsLimit: cfg.Resources.PidsLimit,
		ShmSize: cfg.Resources.ShmSize, AutoRemove: cfg.AutoRemove, Init: cfg.Init, Tmpfs: map[string]string{},
		Sysctls: cfg.Sysctls, Ulimits: cfg.Ulimits, Devices: nonNil(cfg.Devices), PortBindings: v.NetworkSettings.Ports,
	}
	if h.ShmSize == 0 {
		h.ShmSize = 65536000
	}
	if cfg.Resources.CPUs > 0 {
		h.CpuPeriod, h.CpuQuota = 100000, int64(cfg.Resources.CPUs*100000)
	}
	if cfg.Resources.CPUPeriod != 0 || cfg.Resources.CPUQuota != 0 {
		h.CpuPeriod, h.CpuQuota = cfg.Resources.CPUPeriod, cfg.Resources.CPUQuota
		if h.CpuPeriod == 100000 && h.CpuQuota > 0 {
			h.NanoCpus = h.CpuQuota * 10000 // podman's CPUs of a quota of its default period
		}
	}
	h.MemorySwap, h.MemoryReservation = cfg.Resources.MemorySwap, cfg.Resources.MemoryReservation
	if h.MemorySwap < 0 {
		h.MemorySwap = 0 // unlimited swap, as podman shows it
	}
	h.CpuShares, h.CpusetMems, h.OomScoreAdj = cfg.Resources.CPUShares, cfg.Resources.CpusetMems, cfg.OOMScoreAdj
	policy, tries, _ := strings.Cut(cfg.RestartPolicy, ":")
	h.RestartPolicy.Name = policy
	if n, err := strconv.ParseUint(tries, 10, 32); err == nil {
		h.RestartPolicy.MaximumRetryCount = uint(n)
	}
	runFlags(&h, cfg, rt.LogPath(cfg))
	for _, m := range cfg.Mounts {
		switch m.Type {
		case "bind":
			b := m.Source + ":" + m.Destination
			if m.ReadOnly {
				b += ":ro"
			}
			h.Binds = append(h.Binds, b)
		case "tmpfs":
			h.Tmpfs[m.Destination] = strings.Join(m.Options, ",")
		}
	}
	if cfg.NoNewPrivileges {
		h.SecurityOpt = append(h.SecurityOpt, "no-new-privileges")
	}
	if cfg.Seccomp != "" {
		h.SecurityOpt = append(h.SecurityOpt, "seccomp="+cfg.Seccomp)
	}
	h.CgroupMode = NSModeString(cfg, model.NSCgroup, rt.DefaultCgroupNS())
	h.NetworkMode = NSModeString(cfg, model.NSNet, "bridge")
	h.PidMode = NSModeString(cfg, model.NSPid, "private")
	h.IpcMode = NSModeString(cfg, model.NSIpc, model.NSModeShareable)
	h.UTSMode = NSModeString(cfg, model.NSUts, "private")
	if ns := cfg.UserNS(); ns.Mode == model.NSModePrivate && strings.HasPrefix(ns.Value, model.UserNSAuto) {
		h.UsernsMode = ns.Value // auto, as given (keep-id and nomap are private, as podman shows them)
	} else if ns.Mode != model.NSModeHost {
		h.UsernsMode = NSModeString(cfg, model.NSUser, "")
	}
	if uid, gid := rt.IDMappings(cfg); len(uid) > 0 || len(gid) > 0 {
		h.IDMappings = &IDMappings{UidMap: []string{}, GidMap: []string{}}
		for _, m := range uid {
			h.IDMappings.UidMap = append(h.IDMappings.UidMap, engine.FormatIDMap(m))
		}
		for _, m := range gid {
			h.IDMappings.GidMap = append(h.IDMappings.GidMap, engine.FormatIDMap(m))
		}
	}
	v.HostConfig = h
	return v
}

// NSModeString renders a namespace setting as podman's HostConfig does: host, private,
// container:<id>, ns:<path>, bridge, none.
func NSModeString(cfg *model.ContainerConfig, kind, def string) string {
	ns, ok := cfg.Namespaces[kind]
	if !ok || ns.Mode == "" {
		return def
	}
	switch ns.Mode {
	case model.NSModeContainer:
		return "container:" + ns.Value
	case model.NSModePath:
		return "ns:" + ns.Value
	case model.NSModeBridge:
		if len(cfg.Network.Networks) > 0 {
			return strings.Join(cfg.Network.Networks, ",")
		}
		return "bridge"
	}
	return ns.Mode
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func uniqStrings(s []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

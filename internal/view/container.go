// Package view holds podman-shaped views of pea's objects that both the command line (inspect)
// and the API service (the libpod endpoints) show, so the two stay the same.
package view

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

// Container has podman 4.3's container inspect keys, in its order.
type Container struct {
	ID              string          `json:"Id"`
	Created         time.Time       `json:"Created"`
	Path            string          `json:"Path"`
	Args            []string        `json:"Args"`
	State           ContainerState  `json:"State"`
	Image           string          `json:"Image"`
	ImageDigest     string          `json:"ImageDigest"`
	ImageName       string          `json:"ImageName"`
	Rootfs          string          `json:"Rootfs"`
	Pod             string          `json:"Pod"`
	ResolvConfPath  string          `json:"ResolvConfPath"`
	HostnamePath    string          `json:"HostnamePath"`
	HostsPath       string          `json:"HostsPath"`
	StaticDir       string          `json:"StaticDir"`
	OCIConfigPath   string          `json:"OCIConfigPath,omitempty"`
	OCIRuntime      string          `json:"OCIRuntime,omitempty"`
	ConmonPidFile   string          `json:"ConmonPidFile"`
	PidFile         string          `json:"PidFile"`
	Name            string          `json:"Name"`
	RestartCount    int             `json:"RestartCount"`
	Driver          string          `json:"Driver"`
	MountLabel      string          `json:"MountLabel"`
	ProcessLabel    string          `json:"ProcessLabel"`
	AppArmorProfile string          `json:"AppArmorProfile"`
	EffectiveCaps   []string        `json:"EffectiveCaps"`
	BoundingCaps    []string        `json:"BoundingCaps"`
	ExecIDs         []string        `json:"ExecIDs"`
	GraphDriver     GraphDriver     `json:"GraphDriver"`
	SizeRw          *int64          `json:"SizeRw,omitempty"`
	SizeRootFs      int64           `json:"SizeRootFs,omitempty"`
	Mounts          []Mount         `json:"Mounts"`
	Dependencies    []string        `json:"Dependencies"`
	NetworkSettings Network         `json:"NetworkSettings"`
	Namespace       string          `json:"Namespace"`
	IsInfra         bool            `json:"IsInfra"`
	IsService       bool            `json:"IsService"`
	Config          ContainerConfig `json:"Config"`
	HostConfig      HostConfig      `json:"HostConfig"`
	// LogPath is Docker's name for the log file, which templates (--format) take; podman's
	// JSON has it as HostConfig.LogConfig.Path only.
	LogPath string            `json:"-"`
	Labels  map[string]string `json:"-"`
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
	ConmonPid  int       `json:"ConmonPid,omitempty"`
	ExitCode   int32     `json:"ExitCode"`
	Error      string    `json:"Error"`
	StartedAt  time.Time `json:"StartedAt"`
	FinishedAt time.Time `json:"FinishedAt"`
	// Health is there for every container (podman 4.3's): empty without a health check.
	Health         *Health   `json:"Health,omitempty"`
	CgroupPath     string    `json:"CgroupPath,omitempty"`
	CheckpointedAt time.Time `json:"CheckpointedAt"`
	RestoredAt     time.Time `json:"RestoredAt"`
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

// StartupHealthConfig is podman 4.4's Config.StartupHealthCheck.
type StartupHealthConfig struct {
	Test      []string      `json:"Test"`
	Interval  time.Duration `json:"Interval,omitempty"`
	Timeout   time.Duration `json:"Timeout,omitempty"`
	Retries   int           `json:"Retries,omitempty"`
	Successes int           `json:"Successes,omitempty"`
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
	EndpointID string `json:"EndpointID"`
	Addresses
	Bridge                 string                   `json:"Bridge"`
	SandboxID              string                   `json:"SandboxID"`
	HairpinMode            bool                     `json:"HairpinMode"`
	LinkLocalIPv6Address   string                   `json:"LinkLocalIPv6Address"`
	LinkLocalIPv6PrefixLen int                      `json:"LinkLocalIPv6PrefixLen"`
	Ports                  map[string][]HostPort    `json:"Ports"`
	SandboxKey             string                   `json:"SandboxKey"`
	Networks               map[string]NetworkDetail `json:"Networks,omitempty"`
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
	EndpointID string `json:"EndpointID"`
	Addresses
	NetworkID  string            `json:"NetworkID"`
	DriverOpts map[string]string `json:"DriverOpts"`
	IPAMConfig map[string]string `json:"IPAMConfig"`
	Links      []string          `json:"Links"`
	Aliases    []string          `json:"Aliases"`
}

type HostPort struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type ContainerConfig struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   string              `json:"Entrypoint"`
	OnBuild      []string            `json:"OnBuild"`
	Labels       map[string]string   `json:"Labels"`
	Annotations  map[string]string   `json:"Annotations"`
	StopSignal   uint                `json:"StopSignal"`
	Healthcheck  *HealthConfig       `json:"Healthcheck,omitempty"`
	// StartupHealthCheck is the startup check (--health-startup-*).
	StartupHealthCheck *StartupHealthConfig `json:"StartupHealthCheck,omitempty"`
	// podman 5's, when given.
	HealthLogDestination string `json:"HealthLogDestination,omitempty"`
	HealthMaxLogCount    *int64 `json:"HealthMaxLogCount,omitempty"`
	HealthMaxLogSize     *int64 `json:"HealthMaxLogSize,omitempty"`
	// HealthcheckOnFailureAction is none, kill, restart or stop.
	HealthcheckOnFailureAction string   `json:"HealthcheckOnFailureAction"`
	CreateCommand              []string `json:"CreateCommand,omitempty"`
	Umask                      string   `json:"Umask"`
	// Secrets are the secrets given as files (--secret, type mount).
	Secrets      []InspectSecret `json:"Secrets,omitempty"`
	Timeout      uint            `json:"Timeout"`
	StopTimeout  uint            `json:"StopTimeout"`
	Passwd       bool            `json:"Passwd"`
	SdNotifyMode string          `json:"sdNotifyMode"`
}

// InspectSecret is a secret a container gets as a file, as podman's inspect shows it.
type InspectSecret struct {
	Name string `json:"Name"`
	ID   string `json:"ID"`
	UID  uint32 `json:"UID"`
	GID  uint32 `json:"GID"`
	Mode uint32 `json:"Mode"`
}

// IDMappings are the mappings of a user namespace of the container's own, each as
// --uidmap takes it.
type IDMappings struct {
	UidMap []string `json:"UidMap"`
	GidMap []string `json:"GidMap"`
}

type HostConfig struct {
	Binds           []string              `json:"Binds"`
	CgroupManager   string                `json:"CgroupManager"`
	CgroupMode      string                `json:"CgroupMode"`
	ContainerIDFile string                `json:"ContainerIDFile"`
	LogConfig       LogConfig             `json:"LogConfig"`
	NetworkMode     string                `json:"NetworkMode"`
	PortBindings    map[string][]HostPort `json:"PortBindings"`
	RestartPolicy   struct {
		Name              string `json:"Name"`
		MaximumRetryCount uint   `json:"MaximumRetryCount"`
	} `json:"RestartPolicy"`
	AutoRemove           bool              `json:"AutoRemove"`
	VolumeDriver         string            `json:"VolumeDriver"`
	VolumesFrom          []string          `json:"VolumesFrom"`
	CapAdd               []string          `json:"CapAdd"`
	CapDrop              []string          `json:"CapDrop"`
	Dns                  []string          `json:"Dns"`
	DnsOptions           []string          `json:"DnsOptions"`
	DnsSearch            []string          `json:"DnsSearch"`
	ExtraHosts           []string          `json:"ExtraHosts"`
	GroupAdd             []string          `json:"GroupAdd"`
	IpcMode              string            `json:"IpcMode"`
	Cgroup               string            `json:"Cgroup"`
	Cgroups              string            `json:"Cgroups"`
	Links                []string          `json:"Links"`
	OomScoreAdj          int               `json:"OomScoreAdj"`
	PidMode              string            `json:"PidMode"`
	Privileged           bool              `json:"Privileged"`
	PublishAllPorts      bool              `json:"PublishAllPorts"`
	ReadonlyRootfs       bool              `json:"ReadonlyRootfs"`
	SecurityOpt          []string          `json:"SecurityOpt"`
	Tmpfs                map[string]string `json:"Tmpfs"`
	UTSMode              string            `json:"UTSMode"`
	UsernsMode           string            `json:"UsernsMode"`
	IDMappings           *IDMappings       `json:"IDMappings,omitempty"`
	ShmSize              int64             `json:"ShmSize"`
	Runtime              string            `json:"Runtime"`
	ConsoleSize          [2]uint           `json:"ConsoleSize"`
	Isolation            string            `json:"Isolation"`
	CpuShares            uint64            `json:"CpuShares"`
	Memory               int64             `json:"Memory"`
	NanoCpus             int64             `json:"NanoCpus"`
	CgroupParent         string            `json:"CgroupParent"`
	BlkioWeight          uint16            `json:"BlkioWeight"`
	BlkioWeightDevice    []BlkioDevice     `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []BlkioDevice     `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []BlkioDevice     `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []BlkioDevice     `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []BlkioDevice     `json:"BlkioDeviceWriteIOps"`
	CpuPeriod            uint64            `json:"CpuPeriod"`
	CpuQuota             int64             `json:"CpuQuota"`
	CpuRealtimePeriod    uint64            `json:"CpuRealtimePeriod"`
	CpuRealtimeRuntime   int64             `json:"CpuRealtimeRuntime"`
	CpusetCpus           string            `json:"CpusetCpus"`
	CpusetMems           string            `json:"CpusetMems"`
	Devices              []Device          `json:"Devices"`
	DiskQuota            uint64            `json:"DiskQuota"`
	KernelMemory         int64             `json:"KernelMemory"`
	MemoryReservation    int64             `json:"MemoryReservation"`
	MemorySwap           int64             `json:"MemorySwap"`
	MemorySwappiness     int64             `json:"MemorySwappiness"`
	OomKillDisable       bool              `json:"OomKillDisable"`
	Init                 bool              `json:"Init,omitempty"`
	PidsLimit            int64             `json:"PidsLimit"`
	Ulimits              []Ulimit          `json:"Ulimits"`
	CpuCount             uint64            `json:"CpuCount"`
	CpuPercent           uint64            `json:"CpuPercent"`
	IOMaximumIOps        uint64            `json:"IOMaximumIOps"`
	IOMaximumBandwidth   uint64            `json:"IOMaximumBandwidth"`
	CgroupConf           map[string]string `json:"CgroupConf"`
	// Sysctls are pea's (podman 4.3's inspect has none): there when set.
	Sysctls map[string]string `json:"Sysctls,omitempty"`
}

// LogConfig is the log driver and its file.
type LogConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
	Path   string            `json:"Path"`
	Tag    string            `json:"Tag"`
	Size   string            `json:"Size"`
}

// Ulimit is one of a container's resource limits, named RLIMIT_*.
type Ulimit struct {
	Name string `json:"Name"`
	Soft uint64 `json:"Soft"`
	Hard uint64 `json:"Hard"`
}

// BlkioDevice is a per-device block I/O setting as inspect shows it (Rate is the weight for
// BlkioWeightDevice).
type BlkioDevice struct {
	Path string `json:"Path"`
	Rate uint64 `json:"Rate"`
}

// runFlags fills the HostConfig fields of the log driver, --volumes-from and the block I/O,
// swappiness and OOM settings (podman's null for a list that is not set).
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
	r := cfg.Resources
	h.BlkioWeight, h.OomKillDisable = r.BlkioWeight, r.OOMKillDisable
	switch {
	case r.MemorySwappiness != nil:
		h.MemorySwappiness = *r.MemorySwappiness
	case r.Memory != 0 || r.MemoryReservation != 0 || r.MemorySwap != 0 || r.OOMKillDisable:
		h.MemorySwappiness = -1 // a memory limit without one: the kernel's default, as podman shows it
	}
	devs := func(list []string) []BlkioDevice {
		var out []BlkioDevice
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

// propagations are the mount propagation options.
func isPropagation(o string) bool {
	switch o {
	case "shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable":
		return true
	}
	return false
}

// newMount is a volume or bind mount as podman's inspect shows it: the propagation apart,
// rbind last among its options (a named volume's nosuid and nodev before it).
func newMount(rt *engine.Runtime, m model.Mount) Mount {
	im := Mount{Type: m.Type, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly, Options: []string{}, Propagation: "rprivate"}
	for _, o := range m.Options {
		if isPropagation(o) {
			im.Propagation = o
		} else if o != "rbind" && o != "bind" {
			im.Options = append(im.Options, o)
		}
	}
	if m.Type == "volume" {
		im.Name, im.Source, im.Driver = m.Source, rt.VolumePath(m.Source), "local"
		for _, o := range []string{"nosuid", "nodev"} {
			if !slices.Contains(im.Options, o) && !slices.Contains(im.Options, strings.TrimPrefix(o, "no")) {
				im.Options = append(im.Options, o)
			}
		}
	}
	im.Options = append(im.Options, "rbind")
	return im
}

// inspectMounts are a container's volume and bind mounts, named volumes first, each kind in
// the order of its destinations (podman's); tmpfs mounts are HostConfig.Tmpfs.
func inspectMounts(rt *engine.Runtime, mounts []model.Mount) []Mount {
	out := []Mount{}
	for _, kind := range []string{"volume", "bind"} {
		var ms []model.Mount
		for _, m := range mounts {
			if m.Type == kind {
				ms = append(ms, m)
			}
		}
		slices.SortStableFunc(ms, func(a, b model.Mount) int { return strings.Compare(a.Destination, b.Destination) })
		for _, m := range ms {
			out = append(out, newMount(rt, m))
		}
	}
	return out
}

// bindString is a mount in HostConfig.Binds: SOURCE:DESTINATION:OPTIONS with podman's
// defaults added (rw, rprivate, a named volume's nosuid and nodev, rbind).
func bindString(m model.Mount) string {
	var opts []string
	if m.ReadOnly {
		opts = append(opts, "ro")
	}
	opts = append(opts, m.Options...)
	if !m.ReadOnly && !slices.Contains(opts, "rw") {
		opts = append(opts, "rw")
	}
	if !slices.ContainsFunc(opts, isPropagation) {
		opts = append(opts, "rprivate")
	}
	if m.Type == "volume" {
		for _, o := range []string{"nosuid", "nodev"} {
			if !slices.Contains(opts, o) && !slices.Contains(opts, strings.TrimPrefix(o, "no")) {
				opts = append(opts, o)
			}
		}
	}
	if !slices.Contains(opts, "rbind") && !slices.Contains(opts, "bind") {
		opts = append(opts, "rbind")
	}
	return m.Source + ":" + m.Destination + ":" + strings.Join(opts, ",")
}

// tmpfsOptions are a tmpfs mount's options in HostConfig.Tmpfs, with podman's defaults added.
func tmpfsOptions(m model.Mount) string {
	opts := slices.Clone(m.Options)
	if m.ReadOnly {
		opts = append(opts, "ro")
	} else if !slices.Contains(opts, "rw") && !slices.Contains(opts, "ro") {
		opts = append(opts, "rw")
	}
	if !slices.ContainsFunc(opts, isPropagation) {
		opts = append(opts, "rprivate")
	}
	for _, o := range []string{"nosuid", "nodev"} {
		if !slices.Contains(opts, o) && !slices.Contains(opts, strings.TrimPrefix(o, "no")) {
			opts = append(opts, o)
		}
	}
	if !slices.Contains(opts, "notmpcopyup") && !slices.Contains(opts, "tmpcopyup") {
		opts = append(opts, "tmpcopyup")
	}
	return strings.Join(opts, ",")
}

// inspectHealth is State.Health: every container has one in podman 4.3's inspect, empty
// without a health check or before its first run.
func inspectHealth(c *model.Container) *Health {
	h := newHealth(c)
	if h == nil {
		h = &Health{}
	}
	if len(h.Log) == 0 {
		h.Log = nil
	}
	return h
}

// OverlayDirs is a container's GraphDriver.Data without MergedDir (which the API's views add by
// their own rules): its upper and work directories and its lower ones (the image's layers, top
// first) when the image is there.
func OverlayDirs(files engine.ContainerFiles) map[string]string {
	d := map[string]string{"UpperDir": files.Upper, "WorkDir": files.Work}
	if len(files.Lower) > 0 {
		d["LowerDir"] = strings.Join(files.Lower, ":")
	}
	return d
}

func ContainerInspect(rt *engine.Runtime, c *model.Container) *Container {
	cfg, st := c.Config, c.State
	cmd := cfg.Command()
	files := rt.ContainerFilesOf(c)
	caps := engine.ContainerCapabilities(cfg)
	v := &Container{
		ID: cfg.ID, Created: cfg.Created, Image: cfg.Image, ImageDigest: files.ImageDigest, ImageName: cfg.ImageName, Pod: cfg.Pod,
		Name: cfg.Name, Namespace: cfg.Namespace, Driver: "overlay", IsInfra: cfg.IsInfra, IsService: cfg.IsService,
		Rootfs: cfg.Rootfs, Dependencies: []string{}, RestartCount: st.RestartCount,
		StaticDir: files.StaticDir, OCIRuntime: rt.OCIRuntimeName(), ConmonPidFile: files.ConmonPidFile, PidFile: files.PidFile,
		EffectiveCaps: engine.ContainerEffectiveCaps(cfg), BoundingCaps: caps, ExecIDs: []string{},
		GraphDriver: GraphDriver{Name: "overlay", Data: OverlayDirs(files)},
		LogPath:     rt.LogPath(cfg), Labels: cfg.Labels,
	}
	if st.Mounted || st.Active() {
		v.GraphDriver.Data["MergedDir"] = files.Merged
	}
	if !st.StartedAt.IsZero() {
		v.OCIConfigPath = files.OCIConfig // written by the first start
	}
	if cfg.Init && !cfg.IsInfra {
		cmd = append([]string{engine.InitPath, "--"}, cmd...) // the process the runtime runs
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
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt, Health: inspectHealth(c),
	}
	if st.Active() {
		v.State.CgroupPath = rt.CgroupPathOf(c)
	}
	for _, ns := range cfg.Namespaces {
		if ns.Mode == model.NSModeContainer {
			v.Dependencies = append(v.Dependencies, ns.Value)
		}
	}
	v.Dependencies = uniqStrings(append(v.Dependencies, cfg.Requires...))
	v.Mounts = inspectMounts(rt, cfg.Mounts)
	own := networkSettings(c)
	v.NetworkSettings = own
	if ns := cfg.NS(model.NSNet); ns.Mode == model.NSModeContainer {
		// Its network is that of the container whose namespace it joins (a pod's infra): podman
		// shows that one's settings, addresses and published ports.
		if owner, err := rt.LookupContainer(ns.Value); err == nil {
			v.NetworkSettings = networkSettings(owner)
		}
	}
	ep := strings.Join(cfg.Entrypoint, " ")
	v.Config = ContainerConfig{
		Domainname: cfg.Domainname, User: cfg.User, Env: rt.ProcessEnv(c), Cmd: cfg.Cmd, Image: cfg.ImageName, WorkingDir: cfg.WorkingDir,
		Entrypoint: ep, Labels: cfg.Labels, Annotations: cfg.Annotations, StopSignal: uint(cfg.StopSignal),
		StopTimeout: cfg.StopTimeout, Tty: cfg.Terminal, OpenStdin: cfg.Stdin, CreateCommand: cfg.CreateCommand,
		HealthcheckOnFailureAction: cfg.HealthOnFailure, Umask: cfg.Umask, Timeout: cfg.Timeout, Passwd: !cfg.NoPasswd,
		SdNotifyMode: cfg.SdNotify,
	}
	for _, ref := range cfg.Secrets {
		if ref.Type == "mount" {
			v.Config.Secrets = append(v.Config.Secrets, InspectSecret{Name: ref.Name, ID: ref.ID, UID: ref.UID, GID: ref.GID, Mode: ref.Mode})
		}
	}
	if v.Config.HealthcheckOnFailureAction == "" {
		v.Config.HealthcheckOnFailureAction = "none"
	}
	if v.Config.Umask == "" {
		v.Config.Umask = "0022"
	}
	if v.Config.SdNotifyMode == "" {
		v.Config.SdNotifyMode = "container"
	}
	if hc := cfg.Healthcheck; hc != nil {
		v.Config.Healthcheck = &HealthConfig{Test: hc.Test, Interval: hc.Interval, Timeout: hc.Timeout, StartPeriod: hc.StartPeriod, Retries: hc.Retries}
	}
	v.Config.HealthLogDestination, v.Config.HealthMaxLogCount, v.Config.HealthMaxLogSize = cfg.HealthLogDestination, cfg.HealthMaxLogCount, cfg.HealthMaxLogSize
	if sc := cfg.StartupHealthcheck; sc != nil {
		v.Config.StartupHealthCheck = &StartupHealthConfig{Test: sc.Test, Interval: sc.Interval, Timeout: sc.Timeout, Retries: sc.Retries, Successes: sc.Successes}
	}
	// Its own, else its pod's (the UTS namespace it joins), else its short ID (also under --uts
	// host, as podman 4.3's).
	v.Config.Hostname = cmp.Or(cfg.Hostname, rt.JoinedHostname(c), shortID(cfg.ID))
	if v.Config.Annotations == nil {
		v.Config.Annotations = map[string]string{} // podman's has its own, never none
	}
	if len(v.Config.Labels) == 0 {
		v.Config.Labels = nil
	}
	capAdd, capDrop := engine.ContainerCapChanges(cfg, v.BoundingCaps)
	h := HostConfig{
		CapAdd: capAdd, CapDrop: capDrop,
		Binds: []string{}, CgroupManager: "cgroupfs", CgroupParent: cfg.CgroupParent, Privileged: cfg.Privileged, ReadonlyRootfs: cfg.ReadOnly,
		SecurityOpt: []string{}, Memory: cfg.Resources.Memory,
		NanoCpus: int64(cfg.Resources.CPUs * 1e9), CpusetCpus: cfg.Resources.CpusetCpus, PidsLimit: cfg.Resources.PidsLimit,
		ShmSize: cfg.Resources.ShmSize, AutoRemove: cfg.AutoRemove, Init: cfg.Init, Tmpfs: map[string]string{},
		Sysctls: cfg.Sysctls, Devices: []Device{}, PortBindings: own.Ports,
		Dns: nonNil(cfg.Network.DNSServers), DnsOptions: nonNil(cfg.Network.DNSOptions), DnsSearch: nonNil(cfg.Network.DNSSearch),
		ExtraHosts: nonNil(cfg.Network.AddHosts), GroupAdd: nonNil(cfg.GroupAdd), Cgroups: cfg.Cgroups, Runtime: "oci",
		Links: nilIfEmpty(cfg.Links), CgroupConf: cfg.CgroupConf,
	}
	if h.Cgroups == "" {
		h.Cgroups = "default"
	}
	for _, d := range cfg.Devices {
		h.Devices = append(h.Devices, NewDevice(d))
	}
	for _, l := range engine.ContainerRlimits(cfg) {
		h.Ulimits = append(h.Ulimits, Ulimit(l))
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
	for _, m := range v.Mounts {
		i := slices.IndexFunc(cfg.Mounts, func(cm model.Mount) bool { return cm.Destination == m.Destination && cm.Type == m.Type })
		if i >= 0 {
			h.Binds = append(h.Binds, bindString(cfg.Mounts[i]))
		}
	}
	for _, m := range cfg.Mounts {
		if m.Type == "tmpfs" {
			h.Tmpfs[m.Destination] = tmpfsOptions(m)
		}
	}
	for _, dest := range engine.ReadOnlyTmpfs(cfg) {
		h.Tmpfs[dest] = strings.Join(engine.ReadOnlyTmpfsOptions(), ",")
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

// PortBindings are published ports by "PORT/PROTOCOL", one entry per port of a range, as
// podman's inspects show them.
func PortBindings(ports []model.PortMapping) map[string][]HostPort {
	out := map[string][]HostPort{}
	for _, p := range ports {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			key := portKey(p, i)
			out[key] = append(out[key], HostPort{HostIP: p.HostIP, HostPort: fmt.Sprint(p.HostPort + i)})
		}
	}
	return out
}

// portKey is "PORT/PROTOCOL" of the i-th port of p's range.
func portKey(p model.PortMapping, i uint16) string {
	return fmt.Sprintf("%d/%s", p.ContainerPort+i, p.Protocol)
}

// networkSettings are c's own NetworkSettings: its published ports and the addresses of its
// networks (none while it is not attached).
func networkSettings(c *model.Container) Network {
	cfg, st := c.Config, c.State
	n := Network{SandboxKey: st.NetNS, Ports: PortBindings(cfg.Network.Ports)}
	if cfg.NS(model.NSNet).Mode == model.NSModeBridge {
		// Its exposed ports that are not published, bound to nothing (null), as podman's.
		for _, p := range cfg.Network.Expose {
			for i := uint16(0); i < max(p.Range, 1); i++ {
				if key := portKey(p, i); n.Ports[key] == nil {
					n.Ports[key] = nil
				}
			}
		}
	}
	nets := st.Networks
	if len(nets) == 0 && cfg.NS(model.NSNet).Mode == model.NSModeBridge {
		// Not attached (created, or stopped): its networks with no addresses, as podman's.
		nets = map[string]model.NetworkStatus{}
		names := cfg.Network.Networks
		if len(names) == 0 {
			names = []string{network.DefaultName}
		}
		for _, name := range names {
			nets[name] = model.NetworkStatus{}
		}
	}
	if len(nets) > 0 {
		n.Networks = map[string]NetworkDetail{}
		for i, name := range slices.Sorted(maps.Keys(nets)) {
			a := NewAddresses(nets[name])
			aliases := []string{shortID(cfg.ID)}
			if name != network.DefaultName {
				aliases = append(slices.Clone(cfg.Network.Aliases[name]), aliases...)
			}
			n.Networks[name] = NetworkDetail{Addresses: a, NetworkID: name, Aliases: aliases}
			if i == 0 {
				n.Addresses = a
			}
		}
	}
	return n
}

// NSModeString renders a namespace setting as podman's HostConfig does: host, private,
// container:<id>, ns:<path>, bridge (on any network: podman 4.3 does not name them, Docker's
// API does), none.
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

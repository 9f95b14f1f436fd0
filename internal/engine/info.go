package engine

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/rootless"
)

// Info describes the host and the store, with podman's field names.
type Info struct {
	Host       HostInfo            `json:"host"`
	Store      StoreInfo           `json:"store"`
	Registries map[string][]string `json:"registries"`
	Plugins    PluginsInfo         `json:"plugins"`
	Version    VersionInfo         `json:"version"`
}

// PluginsInfo lists the volume, network and log drivers pea has.
type PluginsInfo struct {
	Volume        []string `json:"volume"`
	Network       []string `json:"network"`
	Log           []string `json:"log"`
	Authorization []string `json:"authorization"`
}

// VersionInfo is pea's version (filled in by the command line, which knows it).
type VersionInfo struct {
	APIVersion string `json:"APIVersion"`
	Version    string `json:"Version"`
	GoVersion  string `json:"GoVersion"`
	GitCommit  string `json:"GitCommit"`
	BuiltTime  string `json:"BuiltTime"`
	Built      int64  `json:"Built"`
	OsArch     string `json:"OsArch"`
	Os         string `json:"Os"`
}

// CPUUtilization is the share of CPU time since boot, as podman's info.
type CPUUtilization struct {
	UserPercent   float64 `json:"userPercent"`
	SystemPercent float64 `json:"systemPercent"`
	IdlePercent   float64 `json:"idlePercent"`
}

// Distribution is the host's from /etc/os-release.
type Distribution struct {
	Distribution string `json:"distribution"`
	Version      string `json:"version"`
	Codename     string `json:"codename,omitempty"`
}

// RemoteSocket is the API service's default socket.
type RemoteSocket struct {
	Path   string `json:"path"`
	Exists bool   `json:"exists,omitempty"`
}

// HostInfo is the host part of Info.
type HostInfo struct {
	Arch           string        `json:"arch"`
	Hostname       string        `json:"hostname"`
	Kernel         string        `json:"kernel"`
	OS             string        `json:"os"`
	CPUs           int           `json:"cpus"`
	MemTotal       uint64        `json:"memTotal"`
	MemFree        uint64        `json:"memFree"`
	CgroupsVersion string        `json:"cgroupVersion"` // podman's field name, for templates
	CgroupManager  string        `json:"cgroupManager"`
	OCIRuntime     ComponentInfo `json:"ociRuntime"`
	Conmon         ComponentInfo `json:"conmon"`
	Catatonit      ComponentInfo `json:"catatonit"`
	NetworkBackend string        `json:"networkBackend"`
	Uptime         string        `json:"uptime"`
	Security       SecurityInfo  `json:"security"`
	// Further fields of podman's info.
	CgroupControllers  []string       `json:"cgroupControllers"`
	CPUUtilization     CPUUtilization `json:"cpuUtilization"`
	Distribution       Distribution   `json:"distribution"`
	EventLogger        string         `json:"eventLogger"`
	IDMappings         IDMappings     `json:"idMappings"`
	Linkmode           string         `json:"linkmode"`
	LogDriver          string         `json:"logDriver"`
	RemoteSocket       RemoteSocket   `json:"remoteSocket"`
	ServiceIsRemote    bool           `json:"serviceIsRemote"`
	Slirp4NetNS        SlirpInfo      `json:"slirp4netns"`
	Pasta              SlirpInfo      `json:"pasta"`              // podman 5's
	RootlessNetworkCmd string         `json:"rootlessNetworkCmd"` // podman 5's: slirp4netns or pasta
	SwapFree           uint64         `json:"swapFree"`
	SwapTotal          uint64         `json:"swapTotal"`
}

// SecurityInfo is info's security block; the field names are podman's, which --format
// templates use ({{.Host.Security.Rootless}}).
type SecurityInfo struct {
	AppArmorEnabled     bool   `json:"apparmorEnabled"`
	DefaultCapabilities string `json:"capabilities"`
	Rootless            bool   `json:"rootless"`
	SECCOMPEnabled      bool   `json:"seccompEnabled"`
	SECCOMPProfilePath  string `json:"seccompProfilePath"`
	SELinuxEnabled      bool   `json:"selinuxEnabled"`
}

// IDMappings are a rootless pea's user namespace maps (null as root).
type IDMappings struct {
	GIDMap []model.IDMap `json:"gidmap"`
	UIDMap []model.IDMap `json:"uidmap"`
}

// StoreCount is a store's object count ({{.Store.ImageStore.Number}}).
type StoreCount struct {
	Number int `json:"number"`
}

// ContainerCount counts the containers by state ({{.Store.ContainerStore.Running}}).
type ContainerCount struct {
	Number  int `json:"number"`
	Paused  int `json:"paused"`
	Running int `json:"running"`
	Stopped int `json:"stopped"`
}

// ComponentInfo names a helper binary and its version.
type ComponentInfo struct {
	Name    string `json:"name,omitempty"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// SlirpInfo is the slirp4netns binary (podman names its path "executable").
type SlirpInfo struct {
	Executable string `json:"executable"`
	Version    string `json:"version"`
}

// StoreInfo describes pea's storage.
type StoreInfo struct {
	GraphRoot       string            `json:"graphRoot"`
	RunRoot         string            `json:"runRoot"`
	GraphDriverName string            `json:"graphDriverName"`
	DatabasePath    string            `json:"databasePath"`
	ContainerStore  ContainerCount    `json:"containerStore"`
	PodStore        StoreCount        `json:"podStore"`
	ImageStore      StoreCount        `json:"imageStore"`
	VolumeStore     StoreCount        `json:"volumeStore"`
	Namespace       string            `json:"namespace,omitempty"`
	Extra           map[string]string `json:"-"`
	// Further fields of podman's info.
	ConfigFile         string            `json:"configFile"`
	GraphOptions       map[string]string `json:"graphOptions"`
	GraphRootAllocated uint64            `json:"graphRootAllocated"`
	GraphRootUsed      uint64            `json:"graphRootUsed"`
	GraphStatus        map[string]string `json:"graphStatus"`
	ImageCopyTmpDir    string            `json:"imageCopyTmpDir"`
	VolumePath         string            `json:"volumePath"`
}

// Info gathers what `pea info` shows.
func (r *Runtime) Info() (*Info, error) {
	var u unix.Utsname
	unix.Uname(&u)
	var si unix.Sysinfo_t
	unix.Sysinfo(&si)
	host, _ := os.Hostname()
	in := &Info{Host: HostInfo{
		Arch: runtime.GOARCH, OS: runtime.GOOS, Hostname: host, Kernel: cstr(u.Release[:]), CPUs: cpupin.NumCPU(),
		MemTotal: si.Totalram * uint64(si.Unit), MemFree: si.Freeram * uint64(si.Unit),
		CgroupsVersion: cgroups.Mode(), CgroupManager: cgroupManager(), NetworkBackend: "cni",
		Security: SecurityInfo{SECCOMPEnabled: true, Rootless: rootless.Active(), SELinuxEnabled: selinuxEnabled(),
			DefaultCapabilities: strings.Join(slices.Sorted(slices.Values(oci.DefaultCapabilities)), ",")},
	}}
	in.Host.Uptime = uptimeString(si.Uptime)
	in.Host.SwapTotal, in.Host.SwapFree = si.Totalswap*uint64(si.Unit), si.Freeswap*uint64(si.Unit)
	in.Host.CgroupControllers = cgroupControllers()
	in.Host.CPUUtilization = cpuUtilization()
	in.Host.Distribution = distribution()
	in.Host.EventLogger, in.Host.LogDriver, in.Host.Linkmode = "file", "k8s-file", "dynamic"
	if rootless.Active() {
		in.Host.IDMappings.UIDMap, in.Host.IDMappings.GIDMap = rootless.IDMaps()
	}
	in.Host.RemoteSocket.Path = filepath.Join(r.opts.RunRoot, "pea.sock")
	if fi, err := os.Stat(in.Host.RemoteSocket.Path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		in.Host.RemoteSocket.Exists = true
	}
	in.Plugins = PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "macvlan", "ipvlan"}, Log: []string{"k8s-file", "none", "passthrough"}}
	in.Registries = map[string][]string{}
	if reg, err := image.LoadRegistries(image.RegistriesConfPath()); err == nil && len(reg.Search) > 0 {
		in.Registries["search"] = reg.Search
	}
	name := r.opts.Runtime
	if name == "" {
		name = "crun"
	}
	in.Host.OCIRuntime = component(name)
	in.Host.Conmon = component("conmon")
	in.Host.Conmon.Name = "" // podman names the runtime only
	in.Host.Catatonit = component("catatonit")
	if sl := component("slirp4netns"); sl.Path != "" { // rootless networks' (podman shows it as root too)
		in.Host.Slirp4NetNS = SlirpInfo{Executable: sl.Path, Version: sl.Version}
	}
	in.Host.RootlessNetworkCmd = r.conf().Network.DefaultRootlessNetworkCmd
	if in.Host.RootlessNetworkCmd == "" {
		in.Host.RootlessNetworkCmd = model.NSModeSlirp
	}
	if pa := component("pasta"); pa.Path != "" {
		v, _, _ := strings.Cut(pa.Version, "\n") // then its copyright lines
		in.Host.Pasta = SlirpInfo{Executable: pa.Path, Version: v}
	}
	in.Store = StoreInfo{GraphRoot: r.opts.Root, RunRoot: r.opts.RunRoot, GraphDriverName: "overlay", Namespace: r.opts.Namespace,
		DatabasePath: r.opts.Root + "/pea.db", GraphOptions: map[string]string{},
		ImageCopyTmpDir: filepath.Join(r.opts.Root, "images", "tmp"), VolumePath: filepath.Join(r.opts.Root, "volumes")}
	var fs unix.Statfs_t
	if unix.Statfs(r.opts.Root, &fs) == nil {
		in.Store.GraphRootAllocated = fs.Blocks * uint64(fs.Bsize)
		in.Store.GraphRootUsed = (fs.Blocks - fs.Bfree) * uint64(fs.Bsize)
		in.Store.GraphStatus = map[string]string{"Backing Filesystem": fsName(fs.Type), "Native Overlay Diff": "true",
			"Supports d_type": "true", "Using metacopy": "false"}
	}
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	counts := ContainerCount{Number: len(cs)}
	for _, c := range cs {
		switch c.State.Status {
		case model.StatusRunning:
			counts.Running++
		case model.StatusPaused:
			counts.Paused++
		default:
			counts.Stopped++
		}
	}
	in.Store.ContainerStore = counts
	pods, err := r.ListPods()
	if err != nil {
		return nil, err
	}
	in.Store.PodStore = StoreCount{Number: len(pods)}
	imgs, err := r.ImageList()
	if err != nil {
		return nil, err
	}
	in.Store.ImageStore = StoreCount{Number: len(imgs)}
	vols, err := r.ListVolumes()
	if err != nil {
		return nil, err
	}
	in.Store.VolumeStore = StoreCount{Number: len(vols)}
	return in, nil
}

// component is a helper binary and what its --version prints, as podman's info shows it: the
// whole text (conmon's lines joined by ", ").
func component(name string) ComponentInfo {
	p, err := oci.FindBinary(name)
	if err != nil {
		return ComponentInfo{Name: name}
	}
	out, _ := cpupin.Command(p, "--version").Output()
	v := strings.TrimSpace(string(out))
	if name == "conmon" {
		v = strings.Join(strings.Split(v, "\n"), ", ")
	}
	return ComponentInfo{Name: name, Path: p, Version: v}
}

// uptimeString is the host's uptime as podman's info writes it: "17h 7m 28.00s (Approximately
// 0.71 days)", whole seconds, the days from the whole hours (none under an hour).
func uptimeString(secs int64) string {
	h, m, sec := secs/3600, secs/60%60, secs%60
	s := fmt.Sprintf("%dh %dm %d.00s", h, m, sec)
	if h > 0 {
		s += fmt.Sprintf(" (Approximately %.2f days)", float64(h)/24)
	}
	return s
}

// selinuxEnabled reports whether the kernel has SELinux on (its file system mounted).
func selinuxEnabled() bool {
	_, err := os.Stat("/sys/fs/selinux/enforce")
	return err == nil
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// cgroupControllers lists the cgroup controllers the host has: the root's cgroup.controllers
// on cgroup v2, the enabled hierarchies of /proc/cgroups on v1.
func cgroupControllers() []string {
	if b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return strings.Fields(string(b))
	}
	b, err := os.ReadFile("/proc/cgroups")
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		// subsys_name hierarchy num_cgroups enabled
		if len(f) == 4 && !strings.HasPrefix(f[0], "#") && f[1] != "0" && f[3] == "1" {
			out = append(out, f[0])
		}
	}
	return out
}

// cpuUtilization is the CPU time since boot, from /proc/stat's first line, in percent.
func cpuUtilization() CPUUtilization {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CPUUtilization{}
	}
	f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0])
	var v [8]float64 // user nice system idle iowait irq softirq steal
	for i := range v {
		if i+1 < len(f) {
			v[i], _ = strconv.ParseFloat(f[i+1], 64)
		}
	}
	total := v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7]
	if total == 0 {
		return CPUUtilization{}
	}
	pct := func(x float64) float64 { return math.Round(x/total*10000) / 100 }
	return CPUUtilization{UserPercent: pct(v[0] + v[1]), SystemPercent: pct(v[2] + v[5] + v[6]), IdlePercent: pct(v[3] + v[4])}
}

// distribution reads ID, VERSION_ID and VERSION_CODENAME from /etc/os-release.
func distribution() Distribution {
	var d Distribution
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return d
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ID":
			d.Distribution = v
		case "VERSION_ID":
			d.Version = v
		case "VERSION_CODENAME":
			d.Codename = v
		}
	}
	return d
}

// fsName names a file system type as podman's info does.
func fsName(t int64) string {
	switch t {
	case unix.EXT4_SUPER_MAGIC:
		return "extfs"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	}
	return fmt.Sprintf("0x%x", t)
}

// cgroupManager is info's cgroupManager: cgroupfs, or "none" for a rootless pea, whose containers
// run without cgroups (what Docker's rootless info says then).
func cgroupManager() string {
	if rootless.Active() {
		return "none"
	}
	return "cgroupfs"
}

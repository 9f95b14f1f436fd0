package engine

import (
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/model"
	"pea/internal/oci"
)

// Info describes the host and the store, with podman's field names.
type Info struct {
	Host  HostInfo  `json:"host"`
	Store StoreInfo `json:"store"`
}

// HostInfo is the host part of Info.
type HostInfo struct {
	Arch           string         `json:"arch"`
	Hostname       string         `json:"hostname"`
	Kernel         string         `json:"kernel"`
	OS             string         `json:"os"`
	CPUs           int            `json:"cpus"`
	MemTotal       uint64         `json:"memTotal"`
	MemFree        uint64         `json:"memFree"`
	CgroupVersion  string         `json:"cgroupVersion"`
	CgroupManager  string         `json:"cgroupManager"`
	OCIRuntime     ComponentInfo  `json:"ociRuntime"`
	Conmon         ComponentInfo  `json:"conmon"`
	Catatonit      ComponentInfo  `json:"catatonit"`
	NetworkBackend string         `json:"networkBackend"`
	Uptime         string         `json:"uptime"`
	Security       map[string]any `json:"security"`
}

// ComponentInfo names a helper binary and its version.
type ComponentInfo struct {
	Name    string `json:"name,omitempty"`
	Path    string `json:"path"`
	Version string `json:"version"`
}

// StoreInfo describes pea's storage.
type StoreInfo struct {
	GraphRoot       string            `json:"graphRoot"`
	RunRoot         string            `json:"runRoot"`
	GraphDriverName string            `json:"graphDriverName"`
	DatabasePath    string            `json:"databasePath"`
	ContainerStore  map[string]int    `json:"containerStore"`
	PodStore        map[string]int    `json:"podStore"`
	ImageStore      map[string]int    `json:"imageStore"`
	VolumeStore     map[string]int    `json:"volumeStore"`
	Namespace       string            `json:"namespace,omitempty"`
	Extra           map[string]string `json:"-"`
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
		CgroupVersion: cgroups.Mode(), CgroupManager: "cgroupfs", NetworkBackend: "cni",
		Security: map[string]any{"seccompEnabled": true, "rootless": os.Getuid() != 0},
	}}
	in.Host.Uptime = (timeDuration(si.Uptime)).String()
	name := r.opts.Runtime
	if name == "" {
		name = "crun"
	}
	in.Host.OCIRuntime = component(name)
	in.Host.Conmon = component("conmon")
	in.Host.Catatonit = component("catatonit")
	in.Store = StoreInfo{GraphRoot: r.opts.Root, RunRoot: r.opts.RunRoot, GraphDriverName: "overlay", Namespace: r.opts.Namespace,
		DatabasePath: r.opts.Root + "/pea.db"}
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	counts := map[string]int{"number": len(cs), "running": 0, "paused": 0, "stopped": 0}
	for _, c := range cs {
		switch c.State.Status {
		case model.StatusRunning:
			counts["running"]++
		case model.StatusPaused:
			counts["paused"]++
		default:
			counts["stopped"]++
		}
	}
	in.Store.ContainerStore = counts
	pods, err := r.ListPods()
	if err != nil {
		return nil, err
	}
	in.Store.PodStore = map[string]int{"number": len(pods)}
	imgs, err := r.ImageList()
	if err != nil {
		return nil, err
	}
	in.Store.ImageStore = map[string]int{"number": len(imgs)}
	vols, err := r.ListVolumes()
	if err != nil {
		return nil, err
	}
	in.Store.VolumeStore = map[string]int{"number": len(vols)}
	return in, nil
}

func component(name string) ComponentInfo {
	p, err := oci.FindBinary(name)
	if err != nil {
		return ComponentInfo{Name: name}
	}
	out, _ := cpupin.Command(p, "--version").Output()
	v := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	return ComponentInfo{Name: name, Path: p, Version: v}
}

func cstr(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

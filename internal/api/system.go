package api

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/fsx"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/rootless"
)

// getPing is GET and HEAD /_ping: "OK", with the API version in the headers (the docker client
// negotiates its version from them).
func (s *Server) getPing(w http.ResponseWriter, r *http.Request, _ *engine.Runtime) error {
	w.Header().Set("Cache-Control", "no-cache, no-store, must-revalidate")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		io.WriteString(w, "OK")
	}
	return nil
}

// getVersion is GET /version.
func (s *Server) getVersion(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	kernel := ""
	if info, err := rt.Info(); err == nil {
		kernel = info.Host.Kernel
	}
	component := map[string]any{"Name": "Engine", "Version": s.version, "Details": map[string]string{
		"ApiVersion": APIVersion, "Arch": runtime.GOARCH, "GoVersion": runtime.Version(), "KernelVersion": kernel,
		"MinAPIVersion": MinAPIVersion, "Os": runtime.GOOS,
	}}
	writeJSON(w, http.StatusOK, map[string]any{
		"Platform": map[string]string{"Name": "linux/" + runtime.GOARCH + "/pea"}, "Components": []any{component},
		"Version": s.version, "ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": "",
		"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH, "KernelVersion": kernel,
		"BuildTime": "", "Experimental": false,
	})
	return nil
}

// getInfo is GET /info.
func (s *Server) getInfo(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	info, err := rt.Info()
	if err != nil {
		return err
	}
	cs, err := rt.ListContainers()
	if err != nil {
		return err
	}
	var running, paused, stopped int
	for _, c := range cs {
		switch c.State.Status {
		case model.StatusRunning, model.StatusStopping:
			running++
		case model.StatusPaused:
			paused++
		default:
			stopped++
		}
	}
	imgs, _ := rt.ImageList()
	hostname, _ := os.Hostname()
	cgroupVersion := "1"
	if info.Host.CgroupsVersion == "v2" {
		cgroupVersion = "2"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ID": engineID(s.opts.Root), "Containers": len(cs), "ContainersRunning": running, "ContainersPaused": paused, "ContainersStopped": stopped,
		"Images": len(imgs), "Driver": "overlay", "DriverStatus": [][2]string{{"Backing Filesystem", "overlayfs"}},
		"DockerRootDir": s.opts.Root, "SystemTime": time.Now().Format(time.RFC3339Nano),
		"KernelVersion": info.Host.Kernel, "OperatingSystem": operatingSystem(), "OSType": "linux",
		"Architecture": info.Host.Arch, "NCPU": info.Host.CPUs, "MemTotal": info.Host.MemTotal, "Name": hostname,
		"ServerVersion": s.version, "CgroupDriver": info.Host.CgroupManager, "CgroupVersion": cgroupVersion,
		"DefaultRuntime": info.Host.OCIRuntime.Name, "Runtimes": map[string]any{info.Host.OCIRuntime.Name: map[string]string{"path": info.Host.OCIRuntime.Path}},
		"MemoryLimit": true, "SwapLimit": true, "CpuCfsPeriod": true, "CpuCfsQuota": true, "CPUShares": true, "CPUSet": true,
		"PidsLimit": true, "IPv4Forwarding": true, "BridgeNfIptables": true, "Debug": false, "LoggingDriver": "k8s-file",
		"Plugins":         map[string][]string{"Volume": {"local"}, "Network": {"bridge"}, "Log": {"k8s-file"}},
		"RegistryConfig":  map[string]any{"IndexConfigs": map[string]any{}, "InsecureRegistryCIDRs": []string{}},
		"SecurityOptions": securityOptions(), "Labels": []string{}, "ExperimentalBuild": false,
		"HttpProxy": os.Getenv("HTTP_PROXY"), "HttpsProxy": os.Getenv("HTTPS_PROXY"), "NoProxy": os.Getenv("NO_PROXY"),
		"InitBinary": "catatonit", "Warnings": []string{},
		"Swarm": map[string]any{"LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "", "ControlAvailable": false, "Error": "", "RemoteManagers": nil},
	})
	return nil
}

// engineID is the store's ID in the Docker API's info, as Docker's engine-id: a random UUID made
// at the first call and kept in the store's engine-id file, so that clients that tell engines
// apart by it (contexts, dashboards) see one engine across the service's restarts (it was
// empty; podman makes a new one at every call).
func engineID(root string) string {
	path := filepath.Join(root, "engine-id")
	kept := func() string {
		b, _ := os.ReadFile(path)
		return strings.TrimSpace(string(b))
	}
	if id := kept(); id != "" {
		return id
	}
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	id := fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
	if fsx.WriteFileAtomic(path, []byte(id+"\n"), 0o644) == nil {
		if k := kept(); k != "" {
			return k // a service that made one at the same moment may have replaced this one
		}
	}
	return id
}

// operatingSystem is the host's PRETTY_NAME.
func operatingSystem() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "linux"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			var s string
			if json.Unmarshal([]byte(v), &s) == nil {
				return s
			}
			return v
		}
	}
	return "linux"
}

// jsonEncode writes v to an answer whose header is already out.
func jsonEncode(w http.ResponseWriter, v any) error {
	json.NewEncoder(w).Encode(v)
	return nil
}

// getSystemDF is GET /system/df (docker system df): the images, containers and volumes with
// the space each takes.
func (s *Server) getSystemDF(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	du, err := rt.DiskUsage()
	if err != nil {
		return err
	}
	// Docker's rows are the images its list shows (not a build's steps); a layer several of
	// them hold is their shared size, counted once in LayersSize.
	all := make([]*image.Image, 0, len(du.Images))
	for _, u := range du.Images {
		all = append(all, u.Image)
	}
	hidden := image.Intermediates(all)
	holders, sizes := map[string]int{}, map[string]int64{}
	for _, img := range all {
		for i, l := range img.Layers {
			if i < len(img.LayerSizes) {
				sizes[l] = img.LayerSizes[i]
			}
			if !hidden[img.ID] && !slices.Contains(img.Layers[:i], l) {
				holders[l]++
			}
		}
	}
	var layers int64
	for _, n := range sizes {
		layers += n
	}
	imgs := []imageSummary{}
	for _, u := range du.Images {
		if hidden[u.Image.ID] {
			continue
		}
		sum := toImageSummary(u.Image, u.Image.Names, u.Containers)
		sum.SharedSize = 0 // computed here (the list's -1 means "not computed"); the client subtracts it
		for i, l := range u.Image.Layers {
			if holders[l] > 1 && i < len(u.Image.LayerSizes) && !slices.Contains(u.Image.Layers[:i], l) {
				sum.SharedSize += u.Image.LayerSizes[i]
			}
		}
		imgs = append(imgs, sum)
	}
	now := time.Now()
	ctrs := []listEntry{}
	for _, u := range du.Containers {
		if u.Container.Config.IsInfra {
			continue
		}
		e := toListEntry(rt, u.Container, now, false)
		size, rootfs := u.Size, u.Size // SizeRootFs: with the image's layers (df -v's "virtual")
		for _, iu := range du.Images {
			if iu.Image.ID == u.Container.Config.Image {
				rootfs += iu.Image.Size
			}
		}
		e.SizeRw, e.SizeRootFs = &size, &rootfs
		ctrs = append(ctrs, e)
	}
	type volumeDF struct {
		apiVolume
		UsageData struct {
			Size     int64 `json:"Size"`
			RefCount int   `json:"RefCount"`
		} `json:"UsageData"`
	}
	vols := []volumeDF{}
	for _, u := range du.Volumes {
		v := volumeDF{apiVolume: toAPIVolume(u.Volume)}
		v.UsageData.Size, v.UsageData.RefCount = u.Size, u.Containers
		vols = append(vols, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"LayersSize": layers, "Images": imgs, "Containers": ctrs,
		"Volumes": vols, "BuildCache": []any{}})
	return nil
}

// securityOptions are /info's: seccomp, and "name=rootless" for a rootless pea (the docker
// client prints it; tools read it to know that ports below 1024 and cgroups are out of reach).
func securityOptions() []string {
	if rootless.Active() {
		return []string{"name=seccomp,profile=default", "name=rootless"}
	}
	return []string{"name=seccomp,profile=default"}
}

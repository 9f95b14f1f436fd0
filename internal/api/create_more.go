package api

// The parts of Docker's create request beyond create.go's: block I/O and the other cgroup
// settings, mounts with their options, the log driver, links, and what pea refuses. A field
// pea cannot honour is refused with one error (400), never dropped when it changes what the
// container does; one whose effect Docker itself discards on such a host (kernel memory, CPU
// count and percent) is dropped with a warning, as Docker's create answers.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/oci"
)

// throttleDevice is Docker's per-device rate (bytes or operations a second).
type throttleDevice struct {
	Path string `json:"Path"`
	Rate uint64 `json:"Rate"`
}

// weightDevice is Docker's per-device block I/O weight.
type weightDevice struct {
	Path   string `json:"Path"`
	Weight uint16 `json:"Weight"`
}

// logConfig is Docker's HostConfig.LogConfig.
type logConfig struct {
	Type   string            `json:"Type"`
	Config map[string]string `json:"Config"`
}

// hostConfigMore is the rest of Docker's HostConfig (API 1.41), embedded in hostConfig.
type hostConfigMore struct {
	BlkioWeight          uint16            `json:"BlkioWeight"`
	BlkioWeightDevice    []weightDevice    `json:"BlkioWeightDevice"`
	BlkioDeviceReadBps   []throttleDevice  `json:"BlkioDeviceReadBps"`
	BlkioDeviceWriteBps  []throttleDevice  `json:"BlkioDeviceWriteBps"`
	BlkioDeviceReadIOps  []throttleDevice  `json:"BlkioDeviceReadIOps"`
	BlkioDeviceWriteIOps []throttleDevice  `json:"BlkioDeviceWriteIOps"`
	CPURealtimePeriod    int64             `json:"CpuRealtimePeriod"`
	CPURealtimeRuntime   int64             `json:"CpuRealtimeRuntime"`
	DeviceCgroupRules    []string          `json:"DeviceCgroupRules"`
	DeviceRequests       []deviceRequest   `json:"DeviceRequests"`
	KernelMemory         int64             `json:"KernelMemory"`
	KernelMemoryTCP      int64             `json:"KernelMemoryTCP"`
	MemorySwappiness     *int64            `json:"MemorySwappiness"`
	OomKillDisable       *bool             `json:"OomKillDisable"`
	CPUCount             int64             `json:"CpuCount"`
	CPUPercent           int64             `json:"CpuPercent"`
	IOMaximumIOps        uint64            `json:"IOMaximumIOps"`
	IOMaximumBandwidth   uint64            `json:"IOMaximumBandwidth"`
	LogConfig            logConfig         `json:"LogConfig"`
	VolumeDriver         string            `json:"VolumeDriver"`
	Links                []string          `json:"Links"`
	Cgroup               string            `json:"Cgroup"`
	Runtime              string            `json:"Runtime"`
	Isolation            string            `json:"Isolation"`
	StorageOpt           map[string]string `json:"StorageOpt"`
	MaskedPaths          []string          `json:"MaskedPaths"`
	ReadonlyPaths        []string          `json:"ReadonlyPaths"`
	Annotations          map[string]string `json:"Annotations"`
}

// bindOptions, volumeOptions and tmpfsOptions are the options of hostMount's kinds.
type bindOptions struct {
	Propagation            string `json:"Propagation,omitempty"`
	NonRecursive           bool   `json:"NonRecursive,omitempty"`
	CreateMountpoint       bool   `json:"CreateMountpoint,omitempty"`
	ReadOnlyNonRecursive   bool   `json:"ReadOnlyNonRecursive,omitempty"`
	ReadOnlyForceRecursive bool   `json:"ReadOnlyForceRecursive,omitempty"`
}

// volumeOptions: NoCopy leaves a new volume empty; Labels and DriverConfig.Options are the
// volume's when the mount makes it.
type volumeOptions struct {
	NoCopy       bool              `json:"NoCopy,omitempty"`
	Labels       map[string]string `json:"Labels,omitempty"`
	Subpath      string            `json:"Subpath,omitempty"`
	DriverConfig *struct {
		Name    string            `json:"Name,omitempty"`
		Options map[string]string `json:"Options,omitempty"`
	} `json:"DriverConfig,omitempty"`
}

type tmpfsOptions struct {
	SizeBytes int64      `json:"SizeBytes,omitempty"`
	Mode      uint32     `json:"Mode,omitempty"`
	Options   [][]string `json:"Options,omitempty"`
}

// deviceRequest is Docker's request of devices from a driver (docker run --gpus).
type deviceRequest struct {
	Driver       string     `json:"Driver"`
	Count        int        `json:"Count"`
	DeviceIDs    []string   `json:"DeviceIDs"`
	Capabilities [][]string `json:"Capabilities"`
}

// applyHostConfigMore sets on cfg and o what hostConfigMore and the request's other late
// fields ask, and refuses what pea cannot do.
func applyHostConfigMore(req *createRequest, cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	hc := &req.HostConfig
	if err := refuseUnsupported(hc); err != nil {
		return err
	}
	res := &cfg.Resources
	if hc.BlkioWeight != 0 && (hc.BlkioWeight < 10 || hc.BlkioWeight > 1000) {
		return badRequest("invalid BlkioWeight %d: the block I/O weight is from 10 to 1000", hc.BlkioWeight)
	}
	res.BlkioWeight = hc.BlkioWeight
	for _, d := range hc.BlkioWeightDevice {
		res.BlkioWeightDevice = append(res.BlkioWeightDevice, d.Path+":"+strconv.FormatUint(uint64(d.Weight), 10))
	}
	for _, l := range []struct {
		from []throttleDevice
		to   *[]string
	}{{hc.BlkioDeviceReadBps, &res.DeviceReadBps}, {hc.BlkioDeviceWriteBps, &res.DeviceWriteBps},
		{hc.BlkioDeviceReadIOps, &res.DeviceReadIOps}, {hc.BlkioDeviceWriteIOps, &res.DeviceWriteIOps}} {
		for _, d := range l.from {
			*l.to = append(*l.to, d.Path+":"+strconv.FormatUint(d.Rate, 10))
		}
	}
	if hc.CPURealtimePeriod < 0 {
		return badRequest("invalid CpuRealtimePeriod %d", hc.CPURealtimePeriod)
	}
	res.CPURtPeriod, res.CPURtRuntime = uint64(hc.CPURealtimePeriod), hc.CPURealtimeRuntime
	res.DeviceCgroupRules = hc.DeviceCgroupRules
	if s := hc.MemorySwappiness; s != nil && *s != -1 { // -1: the kernel's (older clients send it)
		if *s < 0 || *s > 100 {
			return badRequest("invalid MemorySwappiness %d: from 0 to 100, or -1 for the kernel's", *s)
		}
		sw := *s
		res.MemorySwappiness = &sw
	}
	res.OOMKillDisable = hc.OomKillDisable != nil && *hc.OomKillDisable
	if res.MemoryReservation != 0 && res.MemoryReservation < 6*1024*1024 {
		return badRequest("Minimum memory reservation allowed is 6MB")
	}
	if hc.NanoCpus > 0 && (hc.CPUPeriod > 0 || hc.CPUQuota > 0) {
		return badRequest("Conflicting options: NanoCpus cannot be set with CpuPeriod or CpuQuota (--cpus sets both)")
	}
	if n := cpupin.NumCPU(); hc.NanoCpus > int64(n)*1e9 {
		return badRequest("range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", n, n)
	}
	// The cpusets are checked by the engine's create (checkCpusets): 400, Docker's words.
	if err := applyLogConfig(hc.LogConfig, cfg); err != nil {
		return err
	}
	if err := applyMaskedPaths(hc, cfg); err != nil {
		return err
	}
	if err := applySecurityOpts(hc.SecurityOpt, cfg, o); err != nil {
		return err
	}
	cfg.Domainname = req.Domainname
	if req.MacAddress != "" && cfg.Network.StaticMAC == "" { // API < 1.44: the container's MAC
		cfg.Network.StaticMAC = req.MacAddress
	}
	if len(hc.Annotations) > 0 {
		cfg.Annotations = hc.Annotations
	}
	for _, l := range hc.Links {
		name, alias, _ := strings.Cut(strings.TrimPrefix(l, "/"), ":")
		if name == "" {
			return badRequest("invalid link %q: want NAME[:ALIAS]", l)
		}
		if alias == "" {
			alias = name
		}
		cfg.Links = append(cfg.Links, name+":"+filepath.Base(alias)) // inspect's /NAME:/CTR/ALIAS: the last part
	}
	return checkConflicts(req, cfg)
}

// refuseUnsupported refuses the fields whose effect pea cannot give.
func refuseUnsupported(hc *hostConfig) error {
	switch {
	case len(hc.DeviceRequests) > 0:
		caps := ""
		for _, d := range hc.DeviceRequests {
			caps += fmt.Sprint(d.Capabilities)
		}
		return badRequest("could not select device driver %q with capabilities: %s: pea has no device drivers (docker run --gpus is not supported)", hc.DeviceRequests[0].Driver, caps)
	case len(hc.StorageOpt) > 0:
		return badRequest("--storage-opt is not supported: pea's overlay storage has no per-container size or options")
	case hc.Isolation != "" && hc.Isolation != "default":
		return badRequest("invalid isolation %q: Linux containers only support 'default'", hc.Isolation)
	case hc.IOMaximumBandwidth != 0 || hc.IOMaximumIOps != 0:
		return badRequest("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps (use --device-read-bps and the like)")
	case hc.Cgroup != "":
		return badRequest("HostConfig.Cgroup %q is not supported: use CgroupnsMode (--cgroupns) or CgroupParent", hc.Cgroup)
	case hc.VolumeDriver != "" && hc.VolumeDriver != "local":
		return badRequest("volume driver %q is not supported: pea's volumes are local", hc.VolumeDriver)
	case hc.KernelMemory < 0 || hc.KernelMemory > 0 && hc.KernelMemory < 6*1024*1024:
		return badRequest("Minimum kernel memory limit allowed is 6MB")
	}
	return nil
}

// createWarnings are what the create answers besides the container: the settings it dropped,
// as Docker drops them on such a host, and what it honours only in part.
func createWarnings(req *createRequest) []string {
	hc := &req.HostConfig
	w := []string{}
	if hc.KernelMemory > 0 || hc.KernelMemoryTCP > 0 {
		w = append(w, "Kernel memory limits are not supported (deprecated by the kernel and ignored by OCI runtimes): KernelMemory discarded.")
	}
	if hc.CPUCount > 0 {
		w = append(w, "linux does not support CPU count. Count discarded.")
	}
	if hc.CPUPercent > 0 {
		w = append(w, "linux does not support CPU percent. Percent discarded.")
	}
	if hc.OomKillDisable != nil && *hc.OomKillDisable && hc.Memory == 0 {
		w = append(w, "OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.")
	}
	if _, ok := hc.LogConfig.Config["max-file"]; ok {
		w = append(w, "log option max-file: pea keeps one log file, which starts anew past max-size (no older files are kept).")
	}
	return w
}

// applyLogConfig sets the log driver and its options: pea's drivers and the options every
// driver of pea's takes; another driver or option is refused.
func applyLogConfig(lc logConfig, cfg *model.ContainerConfig) error {
	switch lc.Type {
	case "", engine.LogDriverJSONFile, engine.LogDriverK8sFile, engine.LogDriverNone, engine.LogDriverJournald:
	default:
		return badRequest("log driver %q is not supported: pea's are json-file (the default's format is k8s-file), k8s-file, journald and none", lc.Type)
	}
	if err := engine.ValidateLogDriver(lc.Type); err != nil {
		return err
	}
	cfg.LogDriver = lc.Type
	for _, k := range slices.Sorted(maps.Keys(lc.Config)) {
		v := lc.Config[k]
		switch k {
		case "max-file", "compress": // see createWarnings
			continue
		case "mode":
			if v == "" || v == "blocking" {
				continue
			}
		}
		known, err := engine.ApplyLogOpt(cfg, k, v)
		if err != nil {
			return err
		}
		if !known {
			return badRequest("unknown log opt %q for the %s log driver: pea takes max-size, max-file (one file is kept) and tag", k, orDefault(lc.Type, "default"))
		}
	}
	return nil
}

// applyMaskedPaths sets the masked and read-only paths (docker run --security-opt
// systempaths=unconfined sends both empty): one of them given replaces pea's defaults of that
// kind only.
func applyMaskedPaths(hc *hostConfig, cfg *model.ContainerConfig) error {
	if hc.MaskedPaths == nil && hc.ReadonlyPaths == nil {
		return nil
	}
	cfg.OwnMasks = true
	cfg.MaskedPaths, cfg.ReadonlyPaths = hc.MaskedPaths, hc.ReadonlyPaths
	if hc.MaskedPaths == nil {
		cfg.MaskedPaths = slices.Clone(oci.MaskedPaths)
	}
	if hc.ReadonlyPaths == nil {
		cfg.ReadonlyPaths = slices.Clone(oci.ReadonlyPaths)
	}
	for _, p := range append(slices.Clone(cfg.MaskedPaths), cfg.ReadonlyPaths...) {
		if !strings.HasPrefix(p, "/") {
			return badRequest("invalid masked or read-only path %q: must be absolute", p)
		}
	}
	return nil
}

// applySecurityOpts applies Docker's security options: those of pea's --security-opt, with a
// seccomp profile given by its content (the docker client reads the file and sends it).
func applySecurityOpts(opts []string, cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	for _, s := range opts {
		k, v, _ := strings.Cut(s, "=")
		if !strings.Contains(s, "=") {
			k, v, _ = strings.Cut(s, ":")
		}
		if k == "seccomp" && strings.HasPrefix(strings.TrimSpace(v), "{") {
			o.SeccompProfile = []byte(v)
			continue
		}
		if err := engine.ApplySecurityOpt(cfg, s); err != nil {
			return err
		}
	}
	return nil
}

// toMount turns one of Docker's HostConfig.Mounts into pea's mount.
func toMount(hm hostMount) (model.Mount, error) {
	if !strings.HasPrefix(hm.Target, "/") {
		return model.Mount{}, badRequest("invalid mount config: the mount target %q must be an absolute path", hm.Target)
	}
	m := model.Mount{Type: hm.Type, Source: hm.Source, Destination: filepath.Clean(hm.Target), ReadOnly: hm.ReadOnly, FromMount: true}
	if hm.BindOptions != nil && hm.Type != "bind" || hm.TmpfsOptions != nil && hm.Type != "tmpfs" ||
		hm.VolumeOptions != nil && hm.Type != "volume" {
		return m, badRequest("invalid mount config for type %q: options of another mount type given", hm.Type)
	}
	switch hm.Type {
	case "bind":
		if !strings.HasPrefix(hm.Source, "/") {
			return m, badRequest("invalid mount config for type \"bind\": invalid mount path: %q mount path must be absolute", hm.Source)
		}
		if _, err := os.Stat(hm.Source); err != nil {
			return m, badRequest("invalid mount config for type \"bind\": bind source path does not exist: %s", hm.Source)
		}
		if b := hm.BindOptions; b != nil {
			if b.Propagation != "" {
				if !isPropagation(b.Propagation) {
					return m, badRequest("invalid mount config for type \"bind\": invalid propagation mode %q", b.Propagation)
				}
				m.Options = append(m.Options, b.Propagation)
			}
			if b.NonRecursive {
				m.Options = append(m.Options, "bind")
			}
			if b.ReadOnlyNonRecursive || b.ReadOnlyForceRecursive {
				return m, badRequest("invalid mount config for type \"bind\": ReadOnlyNonRecursive and ReadOnlyForceRecursive are not supported")
			}
		}
	case "volume":
		if strings.HasPrefix(hm.Source, "/") {
			return m, badRequest("invalid mount config for type \"volume\": invalid volume name %q: a path is a bind mount", hm.Source)
		}
		if v := hm.VolumeOptions; v != nil {
			m.NoCopy = v.NoCopy
			if v.DriverConfig != nil && v.DriverConfig.Name != "" && v.DriverConfig.Name != "local" {
				return m, badRequest("volume driver %q is not supported: pea's volumes are local", v.DriverConfig.Name)
			}
			if v.Subpath != "" {
				return m, badRequest("invalid mount config for type \"volume\": a volume's Subpath is not supported")
			}
		}
	case "tmpfs":
		if hm.Source != "" {
			return m, badRequest("invalid mount config for type \"tmpfs\": Source must not be specified")
		}
		if t := hm.TmpfsOptions; t != nil {
			if t.SizeBytes < 0 {
				return m, badRequest("invalid mount config for type \"tmpfs\": invalid size %d", t.SizeBytes)
			}
			if t.SizeBytes > 0 {
				m.Options = append(m.Options, "size="+strconv.FormatInt(t.SizeBytes, 10))
			}
			if t.Mode != 0 {
				m.Options = append(m.Options, "mode="+strconv.FormatUint(uint64(t.Mode&0o7777), 8))
			}
			for _, opt := range t.Options {
				m.Options = append(m.Options, strings.Join(opt, "="))
			}
		}
	default:
		return m, badRequest("invalid mount config: mount type %q is not supported (bind, volume, tmpfs)", hm.Type)
	}
	return m, nil
}

// isPropagation reports whether p is a mount propagation Docker takes.
func isPropagation(p string) bool {
	switch p {
	case "private", "rprivate", "shared", "rshared", "slave", "rslave":
		return true
	}
	return false
}

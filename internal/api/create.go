package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
)

// strSlice is Docker's command and entrypoint: a JSON array, or one string.
type strSlice []string

func (s *strSlice) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = nil
		return nil
	}
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*s = many
	return nil
}

// containerConfig is Docker's container.Config, as POST /containers/create takes it and inspect
// shows it.
type containerConfig struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          strSlice            `json:"Cmd"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   strSlice            `json:"Entrypoint"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	StopTimeout  *int                `json:"StopTimeout,omitempty"`
	// MacAddress is the container's MAC address before API 1.44 (then the endpoint's).
	MacAddress string `json:"MacAddress,omitempty"`
	// NetworkDisabled is Docker's --network none of old clients.
	NetworkDisabled bool          `json:"NetworkDisabled,omitempty"`
	Healthcheck     *healthConfig `json:"Healthcheck,omitempty"`
}

// healthConfig is Docker's container.HealthConfig; durations in nanoseconds, 0 for the default.
type healthConfig struct {
	Test        []string `json:"Test"`
	Interval    int64    `json:"Interval,omitempty"`
	Timeout     int64    `json:"Timeout,omitempty"`
	StartPeriod int64    `json:"StartPeriod,omitempty"`
	Retries     int      `json:"Retries,omitempty"`
}

// applyHealthcheck sets a container's health check from a create request's: Docker's ["NONE"]
// turns the image's off, an empty test keeps the image's, zero values are the defaults.
func applyHealthcheck(cfg *model.ContainerConfig, o *engine.CreateOptions, h *healthConfig) error {
	if h == nil || len(h.Test) == 0 {
		return nil
	}
	switch h.Test[0] {
	case "NONE":
		o.NoHealthcheck = true
		return nil
	case "CMD", "CMD-SHELL":
	default:
		return fmt.Errorf("healthcheck test %q: the first element must be CMD, CMD-SHELL or NONE: %w", h.Test[0], errdefs.ErrInvalid)
	}
	hc := &model.HealthConfig{Test: h.Test, Interval: time.Duration(h.Interval), Timeout: time.Duration(h.Timeout),
		StartPeriod: time.Duration(h.StartPeriod), Retries: h.Retries}
	if hc.Interval == 0 {
		hc.Interval = engine.DefaultHealthInterval
	}
	if hc.Timeout == 0 {
		hc.Timeout = engine.DefaultHealthTimeout
	}
	if hc.Retries == 0 {
		hc.Retries = engine.DefaultHealthRetries
	}
	cfg.Healthcheck = hc
	return nil
}

type portBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

type restartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

type ulimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// hostMount is Docker's mount.Mount (HostConfig.Mounts, docker run --mount).
type hostMount struct {
	Type          string         `json:"Type"`
	Source        string         `json:"Source"`
	Target        string         `json:"Target"`
	ReadOnly      bool           `json:"ReadOnly"`
	Consistency   string         `json:"Consistency,omitempty"` // macOS's: nothing on Linux
	BindOptions   *bindOptions   `json:"BindOptions,omitempty"`
	VolumeOptions *volumeOptions `json:"VolumeOptions,omitempty"`
	TmpfsOptions  *tmpfsOptions  `json:"TmpfsOptions,omitempty"`
}

type deviceMapping struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
}

// hostConfig is Docker's container.HostConfig.
type hostConfig struct {
	Binds             []string                 `json:"Binds"`
	ContainerIDFile   string                   `json:"ContainerIDFile"`
	NetworkMode       string                   `json:"NetworkMode"`
	PortBindings      map[string][]portBinding `json:"PortBindings"`
	RestartPolicy     restartPolicy            `json:"RestartPolicy"`
	AutoRemove        bool                     `json:"AutoRemove"`
	VolumesFrom       []string                 `json:"VolumesFrom"`
	CapAdd            []string                 `json:"CapAdd"`
	CapDrop           []string                 `json:"CapDrop"`
	CgroupnsMode      string                   `json:"CgroupnsMode"`
	DNS               []string                 `json:"Dns"`
	DNSOptions        []string                 `json:"DnsOptions"`
	DNSSearch         []string                 `json:"DnsSearch"`
	ExtraHosts        []string                 `json:"ExtraHosts"`
	GroupAdd          []string                 `json:"GroupAdd"`
	IpcMode           string                   `json:"IpcMode"`
	OomScoreAdj       int                      `json:"OomScoreAdj"`
	PidMode           string                   `json:"PidMode"`
	Privileged        bool                     `json:"Privileged"`
	PublishAllPorts   bool                     `json:"PublishAllPorts"`
	ReadonlyRootfs    bool                     `json:"ReadonlyRootfs"`
	SecurityOpt       []string                 `json:"SecurityOpt"`
	Tmpfs             map[string]string        `json:"Tmpfs,omitempty"`
	UTSMode           string                   `json:"UTSMode"`
	UsernsMode        string                   `json:"UsernsMode"`
	ShmSize           int64                    `json:"ShmSize"`
	Sysctls           map[string]string        `json:"Sysctls,omitempty"`
	Init              *bool                    `json:"Init,omitempty"`
	CgroupParent      string                   `json:"CgroupParent"`
	Memory            int64                    `json:"Memory"`
	MemoryReservation int64                    `json:"MemoryReservation"`
	MemorySwap        int64                    `json:"MemorySwap"`
	NanoCpus          int64                    `json:"NanoCpus"`
	CPUShares         int64                    `json:"CpuShares"`
	CPUPeriod         int64                    `json:"CpuPeriod"`
	CPUQuota          int64                    `json:"CpuQuota"`
	CpusetCpus        string                   `json:"CpusetCpus"`
	CpusetMems        string                   `json:"CpusetMems"`
	PidsLimit         *int64                   `json:"PidsLimit"`
	Ulimits           []ulimit                 `json:"Ulimits"`
	Devices           []deviceMapping          `json:"Devices"`
	Mounts            []hostMount              `json:"Mounts,omitempty"`
	hostConfigMore
}

type endpointSettings struct {
	IPAMConfig *struct {
		IPv4Address string `json:"IPv4Address"`
		IPv6Address string `json:"IPv6Address"`
	} `json:"IPAMConfig"`
	Aliases    []string `json:"Aliases"`
	MacAddress string   `json:"MacAddress"`
}

// createRequest is the body of POST /containers/create.
type createRequest struct {
	containerConfig
	HostConfig       hostConfig `json:"HostConfig"`
	NetworkingConfig struct {
		EndpointsConfig map[string]*endpointSettings `json:"EndpointsConfig"`
	} `json:"NetworkingConfig"`
}

// postContainersCreate is POST /containers/create?name=: it creates the container, never
// pulling (the docker client pulls on 404 and asks again).
func (s *Server) postContainersCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req createRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	cfg, o, err := toContainerConfig(&req, r.URL.Query().Get("name"))
	if err != nil {
		return err
	}
	// Docker's default capabilities (with NET_RAW, ping works); the libpod endpoint keeps
	// podman's, as podman's server does.
	cfg.DefaultCaps = oci.DockerDefaultCapabilities()
	hc := &req.HostConfig
	if err := applyServerConf(rt.Conf(), cfg, confUnset{pid: hc.PidMode == "", uts: hc.UTSMode == "", ipc: hc.IpcMode == "",
		userns: hc.UsernsMode == "", tz: true, shmSize: hc.ShmSize == 0, noHosts: true}); err != nil {
		return err
	}
	if _, err := rt.ImageLookup(req.Image); errdefs.Is(err, errdefs.ErrNotFound) {
		return &apiError{http.StatusNotFound, "No such image: " + req.Image}
	}
	undo, err := prepareDockerCreate(r, rt, &req, cfg, &o)
	if err != nil {
		return notImageMissing(rt, req.Image, err)
	}
	c, err := rt.CreateContainer(r.Context(), cfg, o)
	if err != nil {
		undo()
		return notImageMissing(rt, req.Image, err)
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Id": c.Config.ID, "Warnings": createWarnings(&req)})
	return nil
}

// notImageMissing answers a create's failure: a 404 tells the docker client that the image is
// missing (it pulls it and creates again), so what else is not found (a network, a user, the
// container of --volumes-from) is a bad request while the image is there.
func notImageMissing(rt *engine.Runtime, img string, err error) error {
	if errorStatus(err) != http.StatusNotFound {
		return err
	}
	if _, lerr := rt.ImageLookup(img); lerr != nil {
		return err
	}
	return &apiError{http.StatusBadRequest, err.Error()}
}

// toContainerConfig turns Docker's create request into pea's container configuration.
func toContainerConfig(req *createRequest, name string) (*model.ContainerConfig, engine.CreateOptions, error) {
	hc := &req.HostConfig
	if req.Image == "" {
		return nil, engine.CreateOptions{}, badRequest("config.Image is required: the image to create the container from")
	}
	cfg := &model.ContainerConfig{
		Name: strings.TrimPrefix(name, "/"), ImageName: req.Image, Hostname: req.Hostname, WorkingDir: req.WorkingDir,
		User: req.User, PrimaryGroupApart: true, Env: req.Env, Cmd: req.Cmd, Labels: req.Labels,
		Terminal: req.Tty, Stdin: req.OpenStdin, KeepStdinOpen: req.OpenStdin && !req.StdinOnce,
		ReadOnly: hc.ReadonlyRootfs, ReadOnlyTmpfs: hc.ReadonlyRootfs, Privileged: hc.Privileged, AutoRemove: hc.AutoRemove,
		CapAdd: hc.CapAdd, CapDrop: hc.CapDrop, GroupAdd: hc.GroupAdd, CgroupParent: hc.CgroupParent,
		OOMScoreAdj: hc.OomScoreAdj, Sysctls: hc.Sysctls, StopTimeout: 10,
		Namespaces: map[string]model.Namespace{}, VolumesFrom: hc.VolumesFrom,
	}
	if hc.Init != nil {
		cfg.Init = *hc.Init
	}
	o := engine.CreateOptions{Pull: "never", CmdSet: len(req.Cmd) > 0, PublishAll: hc.PublishAllPorts, PortsAtStart: true,
		ImageVolume: "bind"} // as Docker's and podman's: an image's VOLUME is an anonymous volume
	if req.Entrypoint != nil {
		o.EntrypointSet = true
		cfg.Entrypoint = req.Entrypoint
		if len(cfg.Entrypoint) == 1 && cfg.Entrypoint[0] == "" {
			cfg.Entrypoint = nil
		}
	}
	if req.StopTimeout != nil && *req.StopTimeout >= 0 {
		cfg.StopTimeout = uint(*req.StopTimeout)
	}
	if err := applyHealthcheck(cfg, &o, req.Healthcheck); err != nil {
		return nil, o, err
	}
	if req.StopSignal != "" {
		sig, err := engine.ParseSignal(req.StopSignal)
		if err != nil {
			return nil, o, err
		}
		cfg.StopSignal = int(sig)
	}
	for _, c := range append(append([]string{}, hc.CapAdd...), hc.CapDrop...) {
		if _, err := oci.NormalizeCapability(c); err != nil {
			return nil, o, err
		}
	}
	if p := hc.RestartPolicy; p.Name != "" && p.Name != "no" {
		switch p.Name {
		case "always", "unless-stopped":
			cfg.RestartPolicy = p.Name
		case "on-failure":
			cfg.RestartPolicy = p.Name
			if p.MaximumRetryCount > 0 {
				cfg.RestartPolicy += ":" + strconv.Itoa(p.MaximumRetryCount)
			}
		default:
			return nil, o, badRequest("invalid restart policy %q (no, always, unless-stopped, on-failure)", p.Name)
		}
		if hc.AutoRemove {
			return nil, o, badRequest("conflicting options: RestartPolicy %s and AutoRemove", p.Name)
		}
	}
	for _, b := range hc.Binds {
		m, err := engine.ParseVolume(b)
		if err != nil {
			return nil, o, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	for _, hm := range hc.Mounts {
		m, err := toMount(hm)
		if err != nil {
			return nil, o, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	tmpfs := make([]string, 0, len(hc.Tmpfs))
	for dst := range hc.Tmpfs {
		tmpfs = append(tmpfs, dst)
	}
	sort.Strings(tmpfs)
	for _, dst := range tmpfs {
		spec := dst
		if opts := hc.Tmpfs[dst]; opts != "" {
			spec += ":" + opts
		}
		m, err := engine.ParseTmpfs(spec)
		if err != nil {
			return nil, o, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	// Anonymous volumes the request names (docker run -v /data).
	for dst := range req.Volumes {
		if !hasMountAt(cfg.Mounts, dst) {
			m, err := engine.ParseVolume(dst)
			if err != nil {
				return nil, o, err
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	for _, d := range hc.Devices {
		if _, err := os.Stat(d.PathOnHost); err != nil {
			return nil, o, badRequest("error gathering device information while adding custom device %q: %v", d.PathOnHost, errors.Unwrap(err))
		}
		spec := d.PathOnHost
		if d.PathInContainer != "" {
			spec += ":" + d.PathInContainer
		}
		if d.CgroupPermissions != "" {
			spec += ":" + d.CgroupPermissions
		}
		cfg.Devices = append(cfg.Devices, spec)
	}
	for _, u := range hc.Ulimits {
		cfg.Ulimits = append(cfg.Ulimits, model.Ulimit{Name: strings.ToLower(strings.TrimPrefix(strings.ToUpper(u.Name), "RLIMIT_")), Soft: uint64(u.Soft), Hard: uint64(u.Hard)})
	}
	res := &cfg.Resources
	res.Memory, res.MemorySwap, res.MemoryReservation = hc.Memory, hc.MemorySwap, hc.MemoryReservation
	if res.Memory != 0 && res.Memory < 6*1024*1024 {
		return nil, o, badRequest("Minimum memory limit allowed is 6MB")
	}
	if hc.NanoCpus < 0 {
		return nil, o, badRequest("invalid NanoCpus %d: must be positive", hc.NanoCpus)
	}
	res.CPUs = float64(hc.NanoCpus) / 1e9
	res.CPUShares, res.CPUPeriod, res.CPUQuota = uint64(max(hc.CPUShares, 0)), uint64(max(hc.CPUPeriod, 0)), hc.CPUQuota
	res.CpusetCpus, res.CpusetMems, res.ShmSize = hc.CpusetCpus, hc.CpusetMems, hc.ShmSize
	if hc.PidsLimit != nil && *hc.PidsLimit > 0 {
		res.PidsLimit = *hc.PidsLimit
	}
	for kind, v := range map[string]string{model.NSPid: hc.PidMode, model.NSIpc: hc.IpcMode, model.NSUts: hc.UTSMode} {
		switch {
		case kind == model.NSIpc && (v == model.NSModePrivate || v == model.NSModeShareable):
			cfg.Namespaces[kind] = model.Namespace{Mode: v} // private: others may not join it
		case v == "" || v == "private":
		case v == "host":
			cfg.Namespaces[kind] = model.Namespace{Mode: model.NSModeHost}
		case v == "none" && kind == model.NSIpc:
			cfg.Namespaces[kind] = model.Namespace{Mode: model.NSModeNone}
		case strings.HasPrefix(v, "container:"):
			cfg.Namespaces[kind] = model.Namespace{Mode: model.NSModeContainer, Value: strings.TrimPrefix(v, "container:")}
		default:
			return nil, o, badRequest("invalid %s mode %q", kind, v)
		}
	}
	switch hc.CgroupnsMode {
	case "":
	case "host", "private":
		cfg.Namespaces[model.NSCgroup] = model.Namespace{Mode: hc.CgroupnsMode}
	default:
		return nil, o, badRequest("invalid CgroupnsMode %q (host, private)", hc.CgroupnsMode)
	}
	switch hc.UsernsMode {
	case "", "host":
	default:
		ns, err := engine.ParseUserNS(hc.UsernsMode, false)
		if err != nil {
			return nil, o, err
		}
		if ns.Mode != model.NSModeHost {
			cfg.Namespaces[model.NSUser] = ns
		}
	}
	if err := toNetwork(req, cfg); err != nil {
		return nil, o, err
	}
	for p := range req.ExposedPorts {
		pm, err := parsePortProto(p)
		if err != nil {
			return nil, o, err
		}
		o.Expose = append(o.Expose, pm)
	}
	if err := applyHostConfigMore(req, cfg, &o); err != nil {
		return nil, o, err
	}
	return cfg, o, nil
}

func hasMountAt(ms []model.Mount, dst string) bool {
	for _, m := range ms {
		if m.Destination == dst {
			return true
		}
	}
	return false
}

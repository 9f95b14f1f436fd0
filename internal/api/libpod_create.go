package api

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// libpodSpec is the part of podman's SpecGenerator (POST /libpod/containers/create) pea
// reads. It is turned into Docker's create request, so both endpoints make containers the same
// way (toContainerConfig).
type libpodSpec struct {
	Name         string            `json:"name"`
	Image        string            `json:"image"`
	Command      []string          `json:"command"`
	Entrypoint   []string          `json:"entrypoint"`
	Env          map[string]string `json:"env"`
	Labels       map[string]string `json:"labels"`
	WorkDir      string            `json:"work_dir"`
	User         string            `json:"user"`
	Terminal     bool              `json:"terminal"`
	Stdin        bool              `json:"stdin"`
	Remove       bool              `json:"remove"`
	Hostname     string            `json:"hostname"`
	Pod          string            `json:"pod"`
	PortMappings []libpodPort      `json:"portmappings"`
	PublishAll   bool              `json:"publish_image_ports"`
	ImageVolume  string            `json:"image_volume_mode"`
	Mounts       []struct {
		Destination string   `json:"destination"`
		Type        string   `json:"type"`
		Source      string   `json:"source"`
		Options     []string `json:"options"`
	} `json:"mounts"`
	Volumes []struct {
		Name    string   `json:"Name"`
		Dest    string   `json:"Dest"`
		Options []string `json:"Options"`
	} `json:"volumes"`
	NetNS struct {
		Mode  string `json:"nsmode"`
		Value string `json:"value"`
	} `json:"netns"`
	Networks     map[string]any `json:"Networks"`
	Privileged   bool           `json:"privileged"`
	ReadOnly     bool           `json:"read_only_filesystem"`
	CapAdd       []string       `json:"cap_add"`
	CapDrop      []string       `json:"cap_drop"`
	Init         bool           `json:"init"`
	StopSignal   *int           `json:"stop_signal"`
	StopTimeout  *uint          `json:"stop_timeout"`
	Restart      string         `json:"restart_policy"`
	RestartTries *uint          `json:"restart_tries"`
	DNSServers   []string       `json:"dns_server"`
	DNSSearch    []string       `json:"dns_search"`
	DNSOptions   []string       `json:"dns_option"`
	HostAdd      []string       `json:"hostadd"`
}

// toCreateRequest turns a SpecGenerator into Docker's create request.
func (sp *libpodSpec) toCreateRequest() (*createRequest, error) {
	req := &createRequest{}
	c, hc := &req.containerConfig, &req.HostConfig
	c.Image, c.Cmd, c.Entrypoint, c.Labels = strings.TrimPrefix(sp.Image, "docker://"), sp.Command, sp.Entrypoint, sp.Labels
	c.WorkingDir, c.User, c.Tty, c.OpenStdin, c.Hostname = sp.WorkDir, sp.User, sp.Terminal, sp.Stdin, sp.Hostname
	c.StdinOnce = true // the container's stdin ends with the attached client's (podman run -i)
	if c.Image == "" {
		return nil, badRequest("no image given")
	}
	keys := make([]string, 0, len(sp.Env))
	for k := range sp.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c.Env = append(c.Env, k+"="+sp.Env[k])
	}
	if sp.StopSignal != nil {
		c.StopSignal = fmt.Sprint(*sp.StopSignal)
	}
	if sp.StopTimeout != nil {
		t := int(*sp.StopTimeout)
		c.StopTimeout = &t
	}
	hc.AutoRemove, hc.Privileged, hc.ReadonlyRootfs, hc.CapAdd, hc.CapDrop = sp.Remove, sp.Privileged, sp.ReadOnly, sp.CapAdd, sp.CapDrop
	hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts, hc.PublishAllPorts = sp.DNSServers, sp.DNSSearch, sp.DNSOptions, sp.HostAdd, sp.PublishAll
	if sp.Init {
		t := true
		hc.Init = &t
	}
	hc.RestartPolicy.Name = sp.Restart
	if sp.RestartTries != nil {
		hc.RestartPolicy.MaximumRetryCount = int(*sp.RestartTries)
	}
	hc.PortBindings = map[string][]portBinding{}
	for _, p := range sp.PortMappings {
		protos := p.Protocol
		if protos == "" {
			protos = "tcp"
		}
		for _, proto := range strings.Split(protos, ",") {
			for i := uint16(0); i < max(p.Range, 1); i++ {
				key := fmt.Sprintf("%d/%s", p.ContainerPort+i, proto)
				b := portBinding{HostIP: p.HostIP}
				if p.HostPort != 0 {
					b.HostPort = fmt.Sprint(p.HostPort + i)
				}
				hc.PortBindings[key] = append(hc.PortBindings[key], b)
			}
		}
	}
	for _, m := range sp.Mounts {
		switch m.Type {
		case "bind", "":
			b := m.Source + ":" + m.Destination
			if opts := strings.Join(m.Options, ","); opts != "" {
				b += ":" + opts
			}
			hc.Binds = append(hc.Binds, b)
		case "tmpfs":
			if hc.Tmpfs == nil {
				hc.Tmpfs = map[string]string{}
			}
			hc.Tmpfs[m.Destination] = strings.Join(m.Options, ",")
		default:
			return nil, badRequest("mount type %q is not supported by pea's libpod create (bind, tmpfs, named volumes)", m.Type)
		}
	}
	for _, v := range sp.Volumes {
		b := v.Name + ":" + v.Dest
		if opts := strings.Join(v.Options, ","); opts != "" {
			b += ":" + opts
		}
		hc.Binds = append(hc.Binds, b)
	}
	var nets []string
	for n := range sp.Networks {
		nets = append(nets, n)
	}
	sort.Strings(nets)
	switch sp.NetNS.Mode {
	case "", "default", "bridge", "private":
		if len(nets) > 0 {
			hc.NetworkMode = nets[0]
			req.NetworkingConfig.EndpointsConfig = map[string]*endpointSettings{}
			for _, n := range nets {
				req.NetworkingConfig.EndpointsConfig[n] = &endpointSettings{}
			}
		}
	case "host", "none":
		hc.NetworkMode = sp.NetNS.Mode
	case "container":
		hc.NetworkMode = "container:" + sp.NetNS.Value
	default:
		return nil, badRequest("network mode %q is not supported by pea's libpod create (bridge, host, none, container)", sp.NetNS.Mode)
	}
	return req, nil
}

// postLibpodContainerCreate is POST /libpod/containers/create with a SpecGenerator: 201
// {"Id", "Warnings"}. The image must be there (the podman client pulls first).
func (s *Server) postLibpodContainerCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var sp libpodSpec
	if err := decodeBody(r, &sp); err != nil {
		return err
	}
	req, err := sp.toCreateRequest()
	if err != nil {
		return err
	}
	cfg, o, err := toContainerConfig(req, sp.Name)
	if err != nil {
		return err
	}
	if _, err := rt.ImageLookup(req.Image); err != nil {
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("%s: image not known: %w", req.Image, errdefs.ErrNotFound)
		}
		return err
	}
	o.Pull = "never"
	if sp.ImageVolume != "" {
		o.ImageVolume = sp.ImageVolume
	}
	if sp.Pod != "" {
		if sp.NetNS.Mode == "" || sp.NetNS.Mode == "default" {
			delete(cfg.Namespaces, model.NSNet) // the pod's
		}
		o.Pod = sp.Pod
	}
	c, err := rt.CreateContainer(r.Context(), cfg, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Id": c.Config.ID, "Warnings": []string{}})
	return nil
}

package api

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/view"
)

// dockerTime is Docker's time format in inspect (RFC 3339 with nanoseconds; the zero time
// as Go's zero).
func dockerTime(t time.Time) string {
	if t.IsZero() {
		return "0001-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// imageRef is how Docker names an image ID.
func imageRef(id string) string {
	if id == "" || strings.HasPrefix(id, "sha256:") {
		return id
	}
	return "sha256:" + id
}

// dockerStatus is Docker's state name of a container.
func dockerStatus(st *model.ContainerState) string {
	switch st.Status {
	case model.StatusStopping:
		return "running"
	case model.StatusInitialized: // `pea init`: made in the runtime, not started
		return model.StatusCreated
	case model.StatusCreated, model.StatusRunning, model.StatusPaused, model.StatusExited, model.StatusRemoving:
		return st.Status
	}
	return st.Status
}

// humanDuration is Docker's "Up 3 seconds" wording of a duration.
func humanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case d.Minutes() < 2:
		return "About a minute"
	case d.Minutes() < 60:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d.Hours() < 2:
		return "About an hour"
	case d.Hours() < 48:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d.Hours() < 24*14:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d.Hours() < 24*60:
		return fmt.Sprintf("%d weeks", int(d.Hours()/24/7))
	case d.Hours() < 24*365*2:
		return fmt.Sprintf("%d months", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%d years", int(d.Hours()/24/365))
}

// statusText is the Status column of docker ps.
func statusText(st *model.ContainerState, now time.Time) string {
	switch st.Status {
	case model.StatusRunning, model.StatusStopping:
		if h := st.Health; h != nil && h.Status == model.HealthStarting {
			return "Up " + humanDuration(now.Sub(st.StartedAt)) + " (health: starting)"
		} else if h != nil {
			return "Up " + humanDuration(now.Sub(st.StartedAt)) + " (" + h.Status + ")"
		}
		return "Up " + humanDuration(now.Sub(st.StartedAt))
	case model.StatusPaused:
		return "Up " + humanDuration(now.Sub(st.StartedAt)) + " (Paused)"
	case model.StatusExited:
		if st.FinishedAt.IsZero() {
			return "Exited (" + strconv.Itoa(int(st.ExitCode)) + ")"
		}
		return "Exited (" + strconv.Itoa(int(st.ExitCode)) + ") " + humanDuration(now.Sub(st.FinishedAt)) + " ago"
	case model.StatusRemoving:
		return "Removal In Progress"
	}
	return "Created"
}

// networkMode is Docker's HostConfig.NetworkMode of a container.
func networkMode(cfg *model.ContainerConfig) string {
	ns := cfg.NS(model.NSNet)
	switch ns.Mode {
	case model.NSModeNone, model.NSModeHost:
		return ns.Mode
	case model.NSModeContainer:
		return "container:" + ns.Value
	case model.NSModePath:
		return "ns:" + ns.Value
	}
	if len(cfg.Network.Networks) > 0 {
		return cfg.Network.Networks[0]
	}
	return "bridge"
}

type apiPort struct {
	IP          string `json:"IP,omitempty"`
	PrivatePort uint16 `json:"PrivatePort"`
	PublicPort  uint16 `json:"PublicPort,omitempty"`
	Type        string `json:"Type"`
}

type endpoint struct {
	IPAMConfig          any      `json:"IPAMConfig"`
	Links               []string `json:"Links"`
	Aliases             []string `json:"Aliases"`
	NetworkID           string   `json:"NetworkID"`
	EndpointID          string   `json:"EndpointID"`
	Gateway             string   `json:"Gateway"`
	IPAddress           string   `json:"IPAddress"`
	IPPrefixLen         int      `json:"IPPrefixLen"`
	IPv6Gateway         string   `json:"IPv6Gateway"`
	GlobalIPv6Address   string   `json:"GlobalIPv6Address"`
	GlobalIPv6PrefixLen int      `json:"GlobalIPv6PrefixLen"`
	MacAddress          string   `json:"MacAddress"`
}

// endpoints are a container's networks: those it is attached to while it runs, the ones it is
// configured with otherwise (as Docker shows a created container's, without addresses).
func endpoints(rt *engine.Runtime, c *model.Container) map[string]endpoint {
	out := map[string]endpoint{}
	// Docker's NetworkID is the network's ID (compose compares it with the network's to decide
	// whether a container is still on its networks); the name where the network is gone.
	netID := func(name string) string {
		if n, err := rt.NetworkInspect(name); err == nil {
			return n.ID
		}
		return name
	}
	aliases := func(name string) []string {
		a := c.Config.Network.Aliases
		return append(append([]string{}, a[name]...), a["*"]...)
	}
	// The static addresses asked for a network (docker run --ip/--ip6, network connect --ip).
	ipam := func(name string) any {
		nc := c.Config.Network
		addr := nc.Addrs[name]
		if len(nc.Networks) > 0 && nc.Networks[0] == name || len(nc.Networks) == 0 && name == network.DefaultName {
			addr.IP, addr.IP6 = orDefault(addr.IP, nc.StaticIP), orDefault(addr.IP6, nc.StaticIP6)
		}
		if addr.IP == "" && addr.IP6 == "" {
			return nil
		}
		return map[string]string{"IPv4Address": addr.IP, "IPv6Address": addr.IP6}
	}
	for name, n := range c.State.Networks {
		a := view.NewAddresses(n)
		out[name] = endpoint{NetworkID: netID(name), Gateway: a.Gateway, IPAddress: a.IPAddress, IPPrefixLen: a.IPPrefixLen,
			IPv6Gateway: a.IPv6Gateway, GlobalIPv6Address: a.GlobalIPv6Address, GlobalIPv6PrefixLen: a.GlobalIPv6PrefixLen,
			MacAddress: a.MacAddress, Aliases: aliases(name), IPAMConfig: ipam(name)}
	}
	if len(c.State.Networks) == 0 && c.Config.NS(model.NSNet).Mode == model.NSModeBridge {
		nets := c.Config.Network.Networks
		if len(nets) == 0 {
			nets = []string{network.DefaultName}
		}
		for _, name := range nets {
			out[name] = endpoint{NetworkID: netID(name), Aliases: aliases(name), IPAMConfig: ipam(name)}
		}
	}
	return out
}

type apiMount struct {
	Type        string `json:"Type"`
	Name        string `json:"Name,omitempty"`
	Source      string `json:"Source"`
	Destination string `json:"Destination"`
	Driver      string `json:"Driver,omitempty"`
	Mode        string `json:"Mode"`
	RW          bool   `json:"RW"`
	Propagation string `json:"Propagation"`
}

func mounts(rt *engine.Runtime, cfg *model.ContainerConfig) []apiMount {
	out := []apiMount{}
	for _, m := range cfg.Mounts {
		am := apiMount{Type: m.Type, Source: m.Source, Destination: m.Destination, RW: !m.ReadOnly, Propagation: "rprivate"}
		if m.Type == "volume" {
			am.Name, am.Source, am.Driver = m.Source, rt.VolumePath(m.Source), "local"
		}
		if m.ReadOnly {
			am.Mode = "ro"
		}
		out = append(out, am)
	}
	return out
}

// listEntry is one container of GET /containers/json.
type listEntry struct {
	ID              string            `json:"Id"`
	Names           []string          `json:"Names"`
	Image           string            `json:"Image"`
	ImageID         string            `json:"ImageID"`
	Command         string            `json:"Command"`
	Created         int64             `json:"Created"`
	Ports           []apiPort         `json:"Ports"`
	SizeRw          *int64            `json:"SizeRw,omitempty"`
	SizeRootFs      *int64            `json:"SizeRootFs,omitempty"`
	Labels          map[string]string `json:"Labels"`
	State           string            `json:"State"`
	Status          string            `json:"Status"`
	HostConfig      map[string]string `json:"HostConfig"`
	NetworkSettings struct {
		Networks map[string]endpoint `json:"Networks"`
	} `json:"NetworkSettings"`
	Mounts []apiMount `json:"Mounts"`
}

func toListEntry(rt *engine.Runtime, c *model.Container, now time.Time, size bool) listEntry {
	cfg, st := c.Config, c.State
	e := listEntry{
		ID: cfg.ID, Names: []string{"/" + cfg.Name}, Image: cfg.ImageName, ImageID: imageRef(cfg.Image),
		Command: strings.Join(cfg.Command(), " "), Created: cfg.Created.Unix(), Ports: []apiPort{},
		Labels: cfg.Labels, State: dockerStatus(st), Status: statusText(st, now),
		HostConfig: map[string]string{"NetworkMode": networkMode(cfg)}, Mounts: mounts(rt, cfg),
	}
	if e.Labels == nil {
		e.Labels = map[string]string{}
	}
	for _, p := range dockerPorts(rt, c) {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			e.Ports = append(e.Ports, apiPort{IP: orDefault(p.HostIP, "0.0.0.0"), PrivatePort: p.ContainerPort + i, PublicPort: p.HostPort + i, Type: p.Protocol})
		}
	}
	for _, p := range cfg.Network.Expose { // exposed, not published (docker ps: 9000/tcp)
		e.Ports = append(e.Ports, apiPort{PrivatePort: p.ContainerPort, Type: p.Protocol})
	}
	e.NetworkSettings.Networks = endpoints(rt, c)
	if size {
		n, all := containerSizes(rt, cfg)
		e.SizeRw, e.SizeRootFs = &n, &all
	}
	return e
}

// containerSizes is a container's SizeRw (what it wrote) and SizeRootFs (that and its image's
// layers: docker ps -s's "virtual" size).
func containerSizes(rt *engine.Runtime, cfg *model.ContainerConfig) (rw, rootfs int64) {
	rw = rt.ContainerSize(cfg.ID)
	rootfs = rw
	if img, err := rt.ImageLookup(cfg.Image); err == nil {
		rootfs += img.Size
	}
	return rw, rootfs
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// getContainersList is GET /containers/json?all=&limit=&size=&filters=.
func (s *Server) getContainersList(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	cf, err := newContainerFilter(rt, f)
	if err != nil {
		return err
	}
	cs, err := rt.ListContainers()
	if err != nil {
		return err
	}
	all := boolParam(r, "all", false)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	sort.Slice(cs, func(i, j int) bool { return cs[i].Config.Created.After(cs[j].Config.Created) })
	now := time.Now()
	out := []listEntry{}
	for _, c := range cs {
		if c.Config.IsInfra {
			continue // Docker knows no pods: their infra containers stay out of its lists
		}
		if !all && limit <= 0 && c.State.Status != model.StatusRunning && c.State.Status != model.StatusPaused && len(f["status"]) == 0 {
			continue
		}
		if !cf.match(rt, c) {
			continue
		}
		out = append(out, toListEntry(rt, c, now, boolParam(r, "size", false)))
		if limit > 0 && len(out) == limit {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func matchFilter(c *model.Container, key, v string) bool {
	cfg := c.Config
	switch key {
	case "id":
		return strings.HasPrefix(cfg.ID, v)
	case "name":
		return strings.Contains(cfg.Name, strings.TrimPrefix(v, "/"))
	case "status":
		return dockerStatus(c.State) == v
	case "label":
		return model.LabelsMatch(cfg.Labels, v)
	case "label!":
		return !model.LabelsMatch(cfg.Labels, v)
	case "ancestor":
		return cfg.ImageName == v || strings.HasPrefix(cfg.Image, strings.TrimPrefix(v, "sha256:")) || strings.TrimPrefix(cfg.ImageName, "docker.io/library/") == v || strings.TrimSuffix(cfg.ImageName, ":latest") == v
	case "exited":
		return c.State.Status == model.StatusExited && strconv.Itoa(int(c.State.ExitCode)) == v
	case "health":
		if cfg.Healthcheck == nil {
			return v == "none"
		}
		return c.State.Health != nil && c.State.Health.Status == v
	case "network":
		for name := range c.State.Networks {
			if name == v {
				return true
			}
		}
		return false
	case "volume":
		for _, m := range cfg.Mounts {
			if m.Source == v || m.Destination == v {
				return true
			}
		}
		return false
	}
	return false
}

// getContainerInspect is GET /containers/{id}/json.
func (s *Server) getContainerInspect(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, containerJSON(rt, c, boolParam(r, "size", false)))
	return nil
}

// dockerPorts are the ports Docker's views show for c: a pod member's are its pod's (podman's),
// but a container in another one's network namespace (--network container:X, compose's
// network_mode: service:X) shows none, as Docker's.
func dockerPorts(rt *engine.Runtime, c *model.Container) []model.PortMapping {
	if c.Config.Pod == "" && c.Config.NS(model.NSNet).Mode == model.NSModeContainer {
		return nil
	}
	return rt.PortMappings(c)
}

// containerJSON is Docker's inspect of a container.
// graphDriverData is Docker's GraphDriver.Data of an overlay2 container: the lower, upper,
// work and merged directories, whether mounted or not (`docker inspect -f
// '{{.GraphDriver.Data.UpperDir}}'` finds a container's files).
func graphDriverData(rt *engine.Runtime, c *model.Container) map[string]string {
	files := rt.ContainerFilesOf(c)
	d := view.OverlayDirs(files)
	d["MergedDir"] = files.Merged
	if c.State.MountPoint != "" {
		d["MergedDir"] = c.State.MountPoint
	}
	return d
}

func containerJSON(rt *engine.Runtime, c *model.Container, size bool) map[string]any {
	cfg, st := c.Config, c.State
	cmd := cfg.Command()
	path, args := "", []string{}
	if len(cmd) > 0 {
		path, args = cmd[0], cmd[1:]
	}
	resolv, hostname, hosts := rt.EtcPaths(c)
	ports := map[string][]portBinding{}
	exposed := map[string]struct{}{}
	for _, p := range dockerPorts(rt, c) {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			key := fmt.Sprintf("%d/%s", p.ContainerPort+i, p.Protocol)
			exposed[key] = struct{}{}
			ports[key] = append(ports[key], portBinding{HostIP: orDefault(p.HostIP, "0.0.0.0"), HostPort: strconv.Itoa(int(p.HostPort + i))})
		}
	}
	for _, p := range cfg.Network.Expose { // exposed, not published: no bindings (null)
		key := fmt.Sprintf("%d/%s", p.ContainerPort, p.Protocol)
		exposed[key] = struct{}{}
		if _, ok := ports[key]; !ok {
			ports[key] = nil
		}
	}
	stopSignal := ""
	if cfg.StopSignal != 0 {
		stopSignal = engine.SignalName(syscall.Signal(cfg.StopSignal))
	}
	stopTimeout := int(cfg.StopTimeout)
	labels := cfg.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	out := map[string]any{
		"Id": cfg.ID, "Created": dockerTime(cfg.Created), "Path": path, "Args": args,
		"State": map[string]any{
			"Status": dockerStatus(st), "Running": st.Status == model.StatusRunning || st.Status == model.StatusPaused || st.Status == model.StatusStopping,
			"Paused": st.Status == model.StatusPaused, "Restarting": false, "OOMKilled": st.OOMKilled, "Dead": false,
			"Pid": st.Pid, "ExitCode": st.ExitCode, "Error": st.Error,
			"StartedAt": dockerTime(st.StartedAt), "FinishedAt": dockerTime(st.FinishedAt),
		},
		"Image": imageRef(cfg.Image), "ResolvConfPath": resolv, "HostnamePath": hostname, "HostsPath": hosts,
		"LogPath": rt.LogPath(cfg), "Name": "/" + cfg.Name, "RestartCount": st.RestartCount,
		"Driver": "overlay", "Platform": "linux", "MountLabel": "", "ProcessLabel": "", "AppArmorProfile": "",
		"ExecIDs":     nil,
		"HostConfig":  hostConfigView(rt, c, ports),
		"GraphDriver": map[string]any{"Name": "overlay", "Data": graphDriverData(rt, c)},
		"Mounts":      mounts(rt, cfg),
		"Config": map[string]any{
			"Hostname": orDefault(cfg.Hostname, shortID(cfg.ID)), "Domainname": cfg.Domainname, "User": cfg.User,
			"AttachStdin": false, "AttachStdout": false, "AttachStderr": false, "ExposedPorts": exposed,
			"Tty": cfg.Terminal, "OpenStdin": cfg.Stdin, "StdinOnce": cfg.Stdin && !cfg.KeepStdinOpen, "Env": cfg.Env, "Cmd": cfg.Cmd,
			"Image": cfg.ImageName, "Volumes": nil, "WorkingDir": cfg.WorkingDir, "Entrypoint": cfg.Entrypoint,
			"OnBuild": nil, "Labels": labels, "StopSignal": stopSignal, "StopTimeout": stopTimeout,
			"MacAddress": cfg.Network.StaticMAC,
		},
		"NetworkSettings": networkSettings(rt, c, ports),
	}
	if hc := cfg.Healthcheck; hc != nil {
		out["State"].(map[string]any)["Health"] = healthView(st.Health)
		out["Config"].(map[string]any)["Healthcheck"] = healthConfig{Test: hc.Test, Interval: int64(hc.Interval),
			Timeout: int64(hc.Timeout), StartPeriod: int64(hc.StartPeriod), Retries: hc.Retries}
	}
	if size {
		out["SizeRw"], out["SizeRootFs"] = containerSizes(rt, cfg)
	}
	return out
}

func networkSettings(rt *engine.Runtime, c *model.Container, ports map[string][]portBinding) map[string]any {
	st := c.State
	ns := map[string]any{
		"Bridge": "", "SandboxID": "", "HairpinMode": false, "LinkLocalIPv6Address": "", "LinkLocalIPv6PrefixLen": 0,
		"Ports": ports, "SandboxKey": st.NetNS, "SecondaryIPAddresses": nil, "SecondaryIPv6Addresses": nil,
		"EndpointID": "", "Gateway": "", "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "IPAddress": "",
		"IPPrefixLen": 0, "IPv6Gateway": "", "MacAddress": "", "Networks": endpoints(rt, c),
	}
	names := make([]string, 0, len(st.Networks))
	for name := range st.Networks {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		a := view.NewAddresses(st.Networks[names[0]])
		ns["IPAddress"], ns["IPPrefixLen"], ns["Gateway"], ns["MacAddress"] = a.IPAddress, a.IPPrefixLen, a.Gateway, a.MacAddress
		ns["GlobalIPv6Address"], ns["GlobalIPv6PrefixLen"], ns["IPv6Gateway"] = a.GlobalIPv6Address, a.GlobalIPv6PrefixLen, a.IPv6Gateway
	}
	return ns
}

// nsString is Docker's mode string of a namespace kind (def when private or unset).
func nsString(cfg *model.ContainerConfig, kind, def string) string {
	ns, ok := cfg.Namespaces[kind]
	if kind == model.NSIpc && ns.Mode == model.NSModePrivate {
		return ns.Mode // not shareable: another container may not join it
	}
	if !ok || ns.Mode == "" || ns.Mode == model.NSModePrivate {
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

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// healthView is Docker's State.Health of a container with a health check.
func healthView(h *model.HealthState) map[string]any {
	log := []map[string]any{}
	status, streak := "starting", 0
	if h != nil {
		status, streak = h.Status, h.FailingStreak
		for _, l := range h.Log {
			log = append(log, map[string]any{"Start": dockerTime(l.Start), "End": dockerTime(l.End), "ExitCode": l.ExitCode, "Output": l.Output})
		}
	}
	return map[string]any{"Status": status, "FailingStreak": streak, "Log": log}
}

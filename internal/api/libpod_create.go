package api

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

// postLibpodContainerCreate is POST /libpod/containers/create with a SpecGenerator: 201
// {"Id", "Warnings"}. The image must be there (the podman client pulls first). The part of the
// SpecGenerator that Docker's create request can say goes through it (toContainerConfig), so
// both endpoints make containers the same way; the rest is set on the config directly
// (libpod_spec_*.go), and a field pea cannot honour is refused (checkLibpodSpecKeys).
func (s *Server) postLibpodContainerCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody))
	if err != nil {
		return err
	}
	var sp libpodSpec
	if err := json.Unmarshal(body, &sp); err != nil {
		return badRequest("invalid JSON body: %v", err)
	}
	if err := checkLibpodSpecKeys(body); err != nil {
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
	if err := sp.apply(cfg, &o); err != nil {
		return err
	}
	unset := func(ns view.SpecNamespace) bool { return sp.Pod == "" && (ns.Mode == "" || ns.Mode == "default") }
	if err := applyServerConf(rt.Conf(), cfg, confUnset{pid: unset(sp.PidNS), uts: unset(sp.UtsNS), ipc: unset(sp.IpcNS),
		userns: unset(sp.UserNS) && sp.IDMappings == nil, netns: unset(sp.NetNS) && len(sp.Networks) == 0,
		tz: sp.Timezone == "", umask: sp.Umask == "", shmSize: sp.ShmSize == nil, stopTimeout: sp.StopTimeout == nil,
		noHosts: true}); err != nil {
		return err
	}
	if cfg.Rootfs == "" {
		if _, err := rt.ImageLookup(req.Image); err != nil {
			if errdefs.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("%s: image not known: %w", req.Image, errdefs.ErrNotFound)
			}
			return err
		}
	}
	c, err := rt.CreateContainer(r.Context(), cfg, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"Id": c.Config.ID, "Warnings": sp.logOptWarnings()})
	return nil
}

// toCreateRequest turns the part of a SpecGenerator that Docker's create request has words for
// into one.
func (sp *libpodSpec) toCreateRequest() (*createRequest, error) {
	req := &createRequest{}
	c, hc := &req.containerConfig, &req.HostConfig
	c.Image, c.Cmd, c.Entrypoint, c.Labels = strings.TrimPrefix(sp.Image, "docker://"), sp.Command, sp.Entrypoint, sp.Labels
	c.WorkingDir, c.User, c.Tty, c.OpenStdin, c.Hostname = sp.WorkDir, sp.User, sp.Terminal, sp.Stdin, sp.Hostname
	c.StdinOnce = true // the container's stdin ends with the attached client's (podman run -i)
	if sp.Rootfs != "" {
		if c.Image != "" {
			return nil, badRequest("both an image and a root filesystem (--rootfs) given")
		}
		if !filepath.IsAbs(sp.Rootfs) {
			return nil, badRequest("--rootfs %q: the service needs an absolute path", sp.Rootfs)
		}
		c.Image = sp.Rootfs // for toContainerConfig's check; apply makes it the root filesystem
	}
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
	hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts = sp.DNSServers, sp.DNSSearch, sp.DNSOptions, sp.HostAdd
	hc.PublishAllPorts, hc.GroupAdd, hc.Sysctls, hc.CgroupParent = sp.PublishAll, sp.Groups, sp.Sysctl, sp.CgroupParent
	hc.VolumesFrom = sp.VolumesFrom
	if sp.OOMScoreAdj != nil {
		hc.OomScoreAdj = *sp.OOMScoreAdj
	}
	if sp.Init {
		t := true
		hc.Init = &t
	}
	hc.RestartPolicy.Name = sp.RestartPolicy
	if sp.RestartTries != nil {
		hc.RestartPolicy.MaximumRetryCount = int(*sp.RestartTries)
	}
	mode, err := sp.networkMode()
	if err != nil {
		return nil, err
	}
	hc.NetworkMode = mode
	return req, nil
}

// networkMode is the SpecGenerator's network namespace as Docker's NetworkMode (pea's
// --network): the networks of a bridge namespace joined by commas (engine.NetworkMode).
func (sp *libpodSpec) networkMode() (string, error) {
	nets := sp.networkNames()
	switch sp.NetNS.Mode {
	case "", "default", "bridge", "private":
		return strings.Join(nets, ","), nil
	case "host", "none":
		if len(nets) > 0 {
			return "", badRequest("--network %s cannot be combined with networks (%s)", sp.NetNS.Mode, strings.Join(nets, ", "))
		}
		return sp.NetNS.Mode, nil
	case "container":
		return "container:" + sp.NetNS.Value, nil
	case "path":
		return "ns:" + sp.NetNS.Value, nil
	case model.NSModeSlirp, model.NSModePasta:
		if len(nets) > 0 {
			return "", badRequest("--network %s cannot be combined with networks (%s)", sp.NetNS.Mode, strings.Join(nets, ", "))
		}
		mode := sp.NetNS.Mode
		if opts := sp.NetworkOptions[mode]; len(opts) > 0 {
			mode += ":" + strings.Join(opts, ",")
		}
		return mode, nil
	}
	return "", fmt.Errorf("network mode %q is not one pea has (bridge, host, none, container, path, slirp4netns, pasta): %w", sp.NetNS.Mode, errdefs.ErrInvalid)
}

// networkNames are the networks the SpecGenerator names, in the order of their interfaces:
// that of their interface names (eth0, eth1, ... as generate spec writes them), else by name;
// "default" is the default network, which an empty list means.
func (sp *libpodSpec) networkNames() []string {
	return networkNames(sp.Networks)
}

func networkNames(networks map[string]view.SpecNetwork) []string {
	var nets []string
	for n := range networks {
		if n != "default" {
			nets = append(nets, n)
		}
	}
	index := func(n string) int {
		if i, err := strconv.Atoi(strings.TrimPrefix(networks[n].InterfaceName, "eth")); err == nil && strings.HasPrefix(networks[n].InterfaceName, "eth") {
			return i
		}
		return math.MaxInt
	}
	sort.Slice(nets, func(i, j int) bool {
		if a, b := index(nets[i]), index(nets[j]); a != b {
			return a < b
		}
		return nets[i] < nets[j]
	})
	return nets
}

// apply sets on cfg and o what toContainerConfig could not from Docker's request.
func (sp *libpodSpec) apply(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	if sp.Rootfs != "" {
		cfg.ImageName, cfg.Rootfs, cfg.RootfsOverlay = "", filepath.Clean(sp.Rootfs), sp.RootfsOverlay
	}
	for _, step := range []func(*model.ContainerConfig, *engine.CreateOptions) error{
		sp.applyProcess, sp.applyHealth, sp.applyStorage, sp.applySecurity, sp.applyNamespaces, sp.applyNetwork, sp.applyResources,
	} {
		if err := step(cfg, o); err != nil {
			return err
		}
	}
	return nil
}

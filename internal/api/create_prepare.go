package api

// What Docker's create does beside the container itself, before the engine makes it: checks
// against the engine (runtime, links) and the host (bind sources), and the volumes a mount
// makes with its own labels and options.

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// prepareDockerCreate applies to a Docker create what only Docker's endpoint asks (a libpod
// create is podman's, with podman's defaults): Docker's --read-only root has no tmpfs of
// pea's on /tmp, /var/tmp and /run, and the platform parameter names the image's platform.
// It returns an undo of what it made, for a create that fails later.
func prepareDockerCreate(r *http.Request, rt *engine.Runtime, req *createRequest, cfg *model.ContainerConfig, o *engine.CreateOptions) (undo func(), err error) {
	cfg.ReadOnlyTmpfs = false
	if p := r.URL.Query().Get("platform"); p != "" {
		parts := strings.Split(p, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, badRequest("invalid platform %q: want OS/ARCH[/VARIANT]", p)
		}
		o.Platform = engine.Platform{OS: parts[0], Arch: parts[1]}
		if len(parts) == 3 {
			o.Platform.Variant = parts[2]
		}
	}
	hc := &req.HostConfig
	if hc.Runtime != "" && hc.Runtime != rt.OCIRuntimeName() {
		return nil, badRequest("unknown or invalid runtime name: %s: pea runs its containers with %s only", hc.Runtime, rt.OCIRuntimeName())
	}
	for i, l := range cfg.Links {
		name, alias, _ := strings.Cut(l, ":")
		c, err := lookup(rt, name)
		if err != nil {
			return nil, badRequest("could not get container for %s: no such container", name)
		}
		cfg.Links[i] = c.Config.Name + ":" + alias
	}
	if ns := cfg.NS(model.NSNet); ns.Mode == model.NSModeContainer && cfg.Hostname == "" && cfg.NS(model.NSUts).Mode != model.NSModeContainer {
		// Docker gives a container on another's network that one's host and domain names
		// (as it shares its /etc/hosts); it had its own short ID.
		if target, err := lookup(rt, ns.Value); err == nil {
			cfg.Hostname, cfg.Domainname = target.Config.Hostname, target.Config.Domainname
			if cfg.Hostname == "" {
				cfg.Hostname = target.Config.ID[:12]
			}
		}
	}
	var made []string
	undo = func() {
		for _, v := range made {
			rt.RemoveVolume(v, true)
		}
	}
	for _, hm := range hc.Mounts {
		if hm.Type != "volume" || hm.Source == "" || hm.VolumeOptions == nil {
			continue
		}
		v := hm.VolumeOptions
		var opts map[string]string
		if v.DriverConfig != nil {
			opts = v.DriverConfig.Options
		}
		if len(v.Labels) == 0 && len(opts) == 0 {
			continue
		}
		if _, err := rt.LookupVolume(hm.Source); err == nil {
			continue // an existing volume keeps its own, as Docker's
		}
		if _, err := rt.CreateVolume(hm.Source, v.Labels, opts); err != nil {
			undo()
			return nil, fmt.Errorf("volume %s: %w", hm.Source, err)
		}
		made = append(made, hm.Source)
	}
	// A bind source of -v (Binds) that is not there is made, as Docker's -v does (--mount's
	// must exist).
	for _, m := range cfg.Mounts {
		if m.Type != "bind" || m.FromMount {
			continue
		}
		if _, err := os.Lstat(m.Source); err != nil && os.IsNotExist(err) {
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				undo()
				return nil, fmt.Errorf("making the bind source %s: %v: %w", m.Source, err, errdefs.ErrInvalid)
			}
		}
	}
	return undo, nil
}

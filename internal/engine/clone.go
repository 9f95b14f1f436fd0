package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// CloneOptions control CloneContainer.
type CloneOptions struct {
	Name      string         // the clone's name (default: the original's with -clone, -clone1, ...)
	Image     string         // another image for the clone
	Pod       string         // put the clone in this pod instead of the original's
	Resources ResourceUpdate // limits the clone has instead of the original's
	Destroy   bool           // remove the original once the clone exists
	Force     bool           // with Destroy: stop a running original first
	Run       bool           // start the clone
}

// CloneContainer creates a new container with the configuration of an existing one (`pea
// container clone`): a new ID, name and state, its own anonymous volumes, and what o changes.
func (r *Runtime) CloneContainer(ctx context.Context, nameOrID string, o CloneOptions) (*model.Container, error) {
	orig, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if orig.Config.IsInfra {
		return nil, fmt.Errorf("container %s is a pod's infra container: clone its pod instead: %w", orig.Config.Name, errdefs.ErrInvalid)
	}
	if orig.Config.IsService {
		return nil, fmt.Errorf("container %s is kube play's service container: play the YAML again instead: %w", orig.Config.Name, errdefs.ErrInvalid)
	}
	if o.Destroy && !o.Force && orig.State.Live() {
		return nil, fmt.Errorf("cannot destroy container %s as it is %s: use --force: %w", orig.Config.Name, orig.State.Status, errdefs.ErrCtrStateInvalid)
	}
	cfg, err := r.cloneConfig(orig.Config, o)
	if err != nil {
		return nil, err
	}
	pod := o.Pod
	if pod == "" {
		pod = orig.Config.Pod
	}
	co := CreateOptions{Pod: pod, Pull: "missing", EntrypointSet: true, CmdSet: true}
	if orig.Config.Pod != "" {
		// The namespaces the original chose instead of its pod's (run --pod P --uts private):
		// of the kinds that pod shares, those leavePod left in the config.
		if p, err := r.LookupPod(orig.Config.Pod); err == nil {
			for _, kind := range p.Config.SharedKinds() {
				if _, ok := cfg.Namespaces[kind]; ok && kind != model.NSUser {
					co.OwnNamespaces = append(co.OwnNamespaces, kind)
				}
			}
		}
	}
	if o.Destroy {
		co.replacing = orig.Config.ID // its ports go with it, before the clone can run
	}
	c, err := r.CreateContainer(ctx, cfg, co)
	if err != nil {
		return nil, err
	}
	if o.Destroy {
		if err := r.RemoveContainer(ctx, orig.Config.ID, RemoveOptions{Force: o.Force}); err != nil {
			return c, fmt.Errorf("clone %s created, but the original not destroyed: %w", c.Config.Name, err)
		}
	}
	if o.Run {
		return r.StartCreated(ctx, c, nil)
	}
	return c, nil
}

// cloneConfig is a deep copy of orig ready for CreateContainer: what made orig an object of its
// own (ID, name, creation time, anonymous volumes) and what its pod gave it (CreateContainer
// joins the pod again) are taken out.
func (r *Runtime) cloneConfig(orig *model.ContainerConfig, o CloneOptions) (*model.ContainerConfig, error) {
	b, err := json.Marshal(orig)
	if err != nil {
		return nil, err
	}
	cfg := &model.ContainerConfig{}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, err
	}
	cfg.ID, cfg.Created = "", time.Time{}
	if cfg.Name = o.Name; cfg.Name == "" {
		if cfg.Name, err = r.cloneName(orig.Name); err != nil {
			return nil, err
		}
	}
	if o.Image != "" {
		cfg.Image, cfg.ImageName = "", o.Image
	}
	o.Resources.apply(&cfg.Resources)
	if _, auto := isAutoUserNS(cfg.UserNS()); auto {
		cfg.UIDMap, cfg.GIDMap = nil, nil // picked anew: no two containers share auto mappings
	}
	for i, m := range cfg.Mounts {
		if m.Type != "volume" {
			continue
		}
		if v, err := r.LookupVolume(m.Source); err == nil && v.Labels["anonymous"] == "true" {
			cfg.Mounts[i].Source = "" // a new one of its own
		}
	}
	if cfg.Pod != "" {
		if err := r.leavePod(cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// leavePod takes out of a pod member's config what joinPod gave it, so that joining a pod again
// does not find it set twice.
func (r *Runtime) leavePod(cfg *model.ContainerConfig) error {
	pod, err := r.LookupPod(cfg.Pod)
	if err != nil {
		return fmt.Errorf("pod of container %s: %w", cfg.Name, err)
	}
	infra := pod.State.InfraContainerID
	for kind, ns := range cfg.Namespaces {
		if infra != "" && ns.Mode == model.NSModeContainer && ns.Value == infra {
			delete(cfg.Namespaces, kind)
		}
	}
	if (pod.State.CgroupPath != "" && cfg.CgroupParent == pod.State.CgroupPath) || cfg.CgroupParent == pod.Config.CgroupParent {
		cfg.CgroupParent = ""
	}
	if n := len(pod.Config.Devices); n > 0 && len(cfg.Devices) >= n && slices.Equal(cfg.Devices[:n], pod.Config.Devices) {
		cfg.Devices = cfg.Devices[n:]
	}
	cfg.Pod = ""
	return nil
}

// cloneName is podman's name for a clone of the container called name: name-clone, or the first
// of name-clone1, name-clone2... that is free.
func (r *Runtime) cloneName(name string) (string, error) {
	for i := 0; i < 1000; i++ {
		candidate := name + "-clone"
		if i > 0 {
			candidate += strconv.Itoa(i)
		}
		if c, err := r.LookupContainer(candidate); err != nil || c.Config.Name != candidate {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("no free name for a clone of %s: give one: %w", name, errdefs.ErrExists)
}

package engine

import (
	"context"
	"fmt"
	"path/filepath"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// RenameContainer gives a container a new name.
func (r *Runtime) RenameContainer(ctx context.Context, nameOrID, newName string) error {
	if !validName(newName) {
		return fmt.Errorf("container name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", newName, errdefs.ErrInvalid)
	}
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if c.Config.IsInfra {
		return fmt.Errorf("an infra container cannot be renamed: %w", errdefs.ErrInvalid)
	}
	oldName := c.Config.Name
	c.Config.Name = newName
	st, _ := r.state()
	if err := st.SaveContainerConfig(c.Config); err != nil {
		return err
	}
	r.containerEvent(c.Config, "rename", "oldName", oldName)
	if c.State.Active() {
		r.refreshPeerHosts(r.peerNetworksOf(c), nil) // its peers know it by its new name
	}
	return nil
}

// PruneContainers removes every stopped container (pod members of running pods aside) and
// returns the removed IDs.
func (r *Runtime) PruneContainers(ctx context.Context, f PruneFilter) ([]string, error) {
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, c := range cs {
		if c.State.Active() || c.Config.IsInfra || !f.Matches(c.Config.Labels, c.Config.Created) {
			continue
		}
		if err := r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Ignore: true}); err != nil {
			continue
		}
		removed = append(removed, c.Config.ID)
	}
	return removed, nil
}

// ContainerSize is the size of a container's writable layer in bytes.
func (r *Runtime) ContainerSize(id string) int64 {
	return PathSize(filepath.Join(r.ctrDir(id), "upper"))
}

// EtcPaths returns the host paths of a container's resolv.conf, hostname and hosts files.
func (r *Runtime) EtcPaths(c *model.Container) (resolv, hostname, hosts string) {
	dir := r.etcDir(c.Config.ID)
	if ns := c.Config.NS(model.NSNet); ns.Mode == model.NSModeContainer {
		dir = r.etcDir(ns.Value)
	}
	return filepath.Join(dir, "resolv.conf"), filepath.Join(r.etcDir(c.Config.ID), "hostname"), filepath.Join(dir, "hosts")
}

// VolumePath is where a named volume's data lives.
func (r *Runtime) VolumePath(name string) string { return r.volumePath(name) }

// DefaultCgroupNS is the cgroup namespace mode a container gets when none is asked: private on
// cgroup v2, host on v1 (as podman).
func (r *Runtime) DefaultCgroupNS() string {
	if cgroups.Mode() == "v2" {
		return "private"
	}
	return "host"
}

// OCIRuntimeName is the name of the OCI runtime that runs the containers (crun unless --runtime
// named another).
func (r *Runtime) OCIRuntimeName() string {
	if r.opts.Runtime == "" {
		return "crun"
	}
	return filepath.Base(r.opts.Runtime)
}

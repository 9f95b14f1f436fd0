package engine

import (
	"context"
	"fmt"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// UpdatePodPorts changes the ports a pod publishes: unpublish removes the mappings of those
// container ports (and host ports, when given), publish adds new ones. A running pod keeps
// running: only its port mappings change. podman cannot do this (issues 18309 and 5939).
func (r *Runtime) UpdatePodPorts(ctx context.Context, nameOrID string, publish, unpublish []model.PortMapping) (*model.Pod, error) {
	return r.withPod(nameOrID, func(pod *model.Pod, _ []*model.Container) error {
		if pod.State.InfraContainerID == "" || !pod.Config.ShareNet {
			return fmt.Errorf("pod %s has no shared network namespace to publish ports on: %w", pod.Config.Name, errdefs.ErrInvalid)
		}
		ports, err := r.updatePortsOf(ctx, pod.State.InfraContainerID, publish, unpublish)
		if err != nil {
			return err
		}
		pod.Config.Infra.Ports = ports
		st, _ := r.state()
		return st.SavePodConfig(pod.Config)
	})
}

// UpdateContainerPorts changes the ports of a container that owns its network namespace.
func (r *Runtime) UpdateContainerPorts(ctx context.Context, nameOrID string, publish, unpublish []model.PortMapping) (*model.Container, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if c.Config.Pod != "" && c.Config.NS(model.NSNet).Mode == model.NSModeContainer {
		return nil, fmt.Errorf("container %s uses its pod's network: update the pod's ports (pod update --publish): %w", c.Config.Name, errdefs.ErrInvalid)
	}
	if _, err := r.updatePortsOf(ctx, c.Config.ID, publish, unpublish); err != nil {
		return nil, err
	}
	return r.LookupContainer(c.Config.ID)
}

// updatePortsOf locks container id (the owner of a network namespace), computes its new port
// list, applies it to the running namespace and stores it.
func (r *Runtime) updatePortsOf(ctx context.Context, id string, publish, unpublish []model.PortMapping) ([]model.PortMapping, error) {
	l, c, err := r.lockContainer(id)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if m := c.Config.NS(model.NSNet).Mode; m != model.NSModeBridge {
		return nil, fmt.Errorf("ports can only be published on a bridge network (this one is %s): %w", m, errdefs.ErrInvalid)
	}
	var keep []model.PortMapping
	for _, p := range c.Config.Network.Ports {
		drop := false
		for _, u := range unpublish {
			if u.ContainerPort == p.ContainerPort && u.Protocol == p.Protocol && (u.HostPort == 0 || u.HostPort == p.HostPort) {
				drop = true
			}
		}
		if !drop {
			keep = append(keep, p)
		}
	}
	add := append([]model.PortMapping{}, publish...)
	if err := r.preparePortsExcept(add, id); err != nil {
		return nil, err
	}
	ports := append(keep, add...)
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if c.State.Active() && c.State.NetNS != "" {
		if err := r.networks().UpdatePorts(ctx, id, expandPorts(ports)); err != nil {
			return nil, err
		}
	}
	c.Config.Network.Ports = ports
	st, _ := r.state()
	return ports, st.SaveContainerConfig(c.Config)
}

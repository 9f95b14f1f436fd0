package engine

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
)

// A service container (kube play --service-container, podman's) stands for the pods one play
// of a YAML made, so that systemd can follow them as one process: catatonit in an empty root
// filesystem, outside any pod, with no network. Each of those pods names it
// (PodConfig.ServiceContainer). It is stopped once none of them has an application container
// that runs or is about to (serviceCheck, after a member's exit, a stop, a pod's stop or
// removal), so that its conmon, the unit's main process, ends; and it is removed with the
// last of them.

// CreateServiceContainer makes kube play's service container named name (not started);
// replace first removes a container of that name.
func (r *Runtime) CreateServiceContainer(ctx context.Context, name string, createCommand []string, replace bool) (*model.Container, error) {
	cfg := &model.ContainerConfig{
		Name:          name,
		IsService:     true,
		CreateCommand: createCommand,
		Entrypoint:    []string{"/catatonit", "-P"},
		Namespaces:    map[string]model.Namespace{model.NSNet: {Mode: model.NSModeNone}},
		StopSignal:    int(syscall.SIGTERM),
		StopTimeout:   10,
		SdNotify:      SdNotifyIgnore, // the play says READY for it, once the pods run
	}
	if replace {
		if err := r.removeServiceByName(ctx, name); err != nil {
			return nil, fmt.Errorf("replacing service container %s: %w", name, err)
		}
	}
	return r.CreateContainer(ctx, cfg, CreateOptions{EntrypointSet: true, CmdSet: true})
}

// removeServiceByName removes the service container called name, if there is one, whatever
// pods still name it (they are being replaced); another container of that name is left for
// the create to refuse.
func (r *Runtime) removeServiceByName(ctx context.Context, name string) error {
	c, err := r.LookupContainer(name)
	if err != nil || c.Config.Name != name || !c.Config.IsService {
		return nil
	}
	return r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true, podRemoval: true})
}

// startService starts the service container of pod, whose lock the caller holds, unless it
// runs: a pod's start starts it first, as podman's.
func (r *Runtime) startService(ctx context.Context, pod *model.Pod) error {
	id := pod.Config.ServiceContainer
	if id == "" {
		return nil
	}
	err := r.withCtrLock(id, func(c *model.Container) error {
		if err := r.syncLocked(c); err != nil || c.State.Active() {
			return err
		}
		return r.startLocked(ctx, c, nil)
	})
	if err != nil && !errdefs.Is(err, errdefs.ErrCtrRemoved) {
		return fmt.Errorf("starting the service container of pod %s: %w", pod.Config.Name, err)
	}
	return nil
}

// servicePods lists the pods that name service container id.
func (r *Runtime) servicePods(id string) ([]*model.Pod, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	pods, err := st.ListPods(r.opts.Namespace)
	if err != nil {
		return nil, err
	}
	var out []*model.Pod
	for _, p := range pods {
		if p.Config.ServiceContainer == id {
			out = append(out, p)
		}
	}
	return out, nil
}

// refuseServiceRemoval is podman's refusal to remove a service container whose pods exist.
func (r *Runtime) refuseServiceRemoval(c *model.Container) error {
	pods, err := r.servicePods(c.Config.ID)
	if err != nil || len(pods) == 0 {
		return err
	}
	ids := make([]string, len(pods))
	for i, p := range pods {
		ids[i] = p.Config.ID
	}
	return errdefs.Errorf(errdefs.ErrInUse, "container %s is the service container of pod(s) %s and cannot be removed without removing the pod(s)",
		c.Config.ID, strings.Join(ids, ", "))
}

// keepsService reports whether c, a member of a pod a service container stands for, keeps
// that container up: an application container that runs, or has not run yet.
func (r *Runtime) keepsService(c *model.Container) bool {
	if c.Config.IsInfra || c.Config.InitContainerType != "" {
		return false
	}
	switch c.State.Status {
	case model.StatusExited, model.StatusRemoving:
		return false
	}
	if c.State.Live() {
		if _, done := oci.ReadExitCode(r.exitDir(), c.Config.ID); done {
			return false // conmon wrote its exit; the cleanup that records it may still run
		}
	}
	return true
}

// serviceCheckPod is serviceCheck for the service container of pod podID, if it has one.
// Errors are logged: the operation that calls it has succeeded.
func (r *Runtime) serviceCheckPod(ctx context.Context, podID string) {
	st, err := r.state()
	if err != nil {
		return
	}
	pod, err := st.Pod(podID)
	if err != nil || pod.Config.ServiceContainer == "" {
		return
	}
	r.serviceCheck(ctx, pod.Config.ServiceContainer)
}

// serviceCheck stops service container id once no pod naming it keeps it (see keepsService),
// and removes it when no pod names it any more. The caller holds no lock.
func (r *Runtime) serviceCheck(ctx context.Context, id string) {
	err := r.serviceCheckErr(ctx, id)
	if err != nil && !errdefs.Is(err, errdefs.ErrNotFound) && !errdefs.Is(err, errdefs.ErrCtrRemoved) {
		slog.Warn("kube play's service container", "id", shortID(id), "err", err)
	}
}

func (r *Runtime) serviceCheckErr(ctx context.Context, id string) error {
	pods, err := r.servicePods(id)
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		return r.RemoveContainer(ctx, id, RemoveOptions{Force: true, Ignore: true, podRemoval: true})
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	for _, p := range pods {
		members, err := st.ListContainers("", p.Config.ID)
		if err != nil {
			return err
		}
		for _, c := range members {
			if r.keepsService(c) {
				return nil
			}
		}
	}
	return r.withCtrLock(id, func(c *model.Container) error { return r.stopLocked(c, nil) })
}

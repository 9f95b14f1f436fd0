package engine

import (
	"context"
	"fmt"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// InitContainer makes a created or exited container in the runtime without starting it
// (`pea init`): its root filesystem is mounted, its network attached, its spec written, conmon
// watches the runtime's process, which waits for the start. The container is then
// "initialized"; StartContainer starts it, stop, kill and rm treat it as a container with a
// process.
func (r *Runtime) InitContainer(ctx context.Context, nameOrID string) (*model.Container, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	if c.Config.Pod != "" && !c.Config.IsInfra {
		// Its namespaces are the infra container's: that one runs first, as for a start.
		pl, pod, err := r.lockPod(c.Config.Pod)
		if err != nil {
			return nil, err
		}
		defer pl.Unlock()
		if err := r.ensureInfraRunning(ctx, pod); err != nil {
			return nil, err
		}
	}
	l, c, err := r.lockContainer(c.Config.ID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if c.State.Live() {
		return nil, fmt.Errorf("container %s has already been created in runtime: %w", c.Config.ID, errdefs.ErrCtrStateInvalid)
	}
	warmAttach()
	return c, r.launchLocked(ctx, c, nil, true)
}

// recordInitialized records a container the runtime has created for `init`: pid is the
// runtime's process waiting for the start.
func (r *Runtime) recordInitialized(c *model.Container, pid, conmonPid int) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	c.State.Status = model.StatusInitialized
	c.State.Pid = pid
	c.State.ConmonPid = conmonPid
	c.State.FinishedAt = time.Time{}
	c.State.ExitCode = 0
	c.State.OOMKilled = false
	c.State.Error = ""
	c.State.StoppedByUser = false
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return err
	}
	r.containerEvent(c.Config, "init")
	return nil
}

// startInitialized starts an initialized container: only the runtime's start is left. On
// failure the container stays initialized (its process is still there for a later start).
func (r *Runtime) startInitialized(c *model.Container, attach *Streams) (err error) {
	var u undo
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	return r.finishStart(c, attach, c.State.Pid, c.State.ConmonPid, &u)
}

package engine

import (
	"context"
	"fmt"

	"pea/internal/errdefs"
)

// CleanupOptions control CleanupStopped.
type CleanupOptions struct {
	Remove      bool // remove the container afterwards (--rm)
	RemoveImage bool // and its image, when no other container uses it (--rmi)
}

// CleanupStopped is `pea container cleanup` asked for by a user (conmon's exit command is
// CleanupContainer): what a container that no longer runs still holds is released (its network,
// its root filesystem unless `pea mount` holds it), and with o.Remove the container goes too. A
// running container is refused. It returns the container's ID.
func (r *Runtime) CleanupStopped(ctx context.Context, nameOrID string, o CleanupOptions) (string, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return "", err
	}
	if err := r.syncLocked(c); err != nil {
		l.Unlock()
		return "", err
	}
	if c.State.Live() {
		l.Unlock()
		return "", fmt.Errorf("container %s is %s, refusing to clean up: %w", c.Config.ID, c.State.Status, errdefs.ErrCtrStateInvalid)
	}
	if c.State.Mounted || c.State.NetNS != "" {
		if err := r.cleanupLocked(c, int(c.State.ExitCode)); err != nil {
			l.Unlock()
			return "", err
		}
	}
	if !o.Remove {
		l.Unlock()
		return c.Config.ID, nil
	}
	if c.Config.IsInfra {
		l.Unlock()
		return "", fmt.Errorf("container %s is the infra container of pod %s and cannot be removed without removing the pod: %w",
			shortID(c.Config.ID), shortID(c.Config.Pod), errdefs.ErrInUse)
	}
	if err := r.removeAutoRemoved(c, l); err != nil {
		l.Unlock()
		return "", err
	}
	r.memberGone(ctx, c)
	if o.RemoveImage && c.Config.Image != "" {
		if _, _, err := r.ImageRemove(c.Config.Image, false); err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
			return c.Config.ID, fmt.Errorf("container %s removed, its image not: %w", c.Config.Name, err)
		}
	}
	return c.Config.ID, nil
}

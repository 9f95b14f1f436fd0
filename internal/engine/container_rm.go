package engine

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"

	"pea/internal/errdefs"
	"pea/internal/lock"
	"pea/internal/model"
	"pea/internal/trace"
)

// RemoveOptions control RemoveContainer.
type RemoveOptions struct {
	Force   bool  // stop a running container first
	Timeout *uint // stop timeout with Force
	Volumes bool  // also remove anonymous volumes
	Ignore  bool  // a container that does not exist is not an error
	Depend  bool  // first remove the containers that join it, and theirs (rm --depend)
	// Removed, when set, is told the ID of each container removed because of Depend.
	Removed func(id string)
	// podRemoval is set when the pod itself is being removed: the infra container may go (and
	// a service container whose pods are being removed).
	podRemoval bool
}

// RemoveContainer removes a container: stopped first with Force, refused while running
// otherwise, and refused for a pod's infra container unless the pod is removed.
func (r *Runtime) RemoveContainer(ctx context.Context, nameOrID string, o RemoveOptions) error {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		if o.Ignore && errdefs.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		return err
	}
	if o.Depend {
		deps, err := r.dependentsDeep(c.Config.ID)
		if err != nil {
			return err
		}
		for _, d := range deps {
			sub := o
			sub.Depend, sub.Ignore = false, true // what joins d is earlier in deps
			if err := r.RemoveContainer(ctx, d, sub); err != nil {
				return err
			}
			if o.Removed != nil {
				o.Removed(d)
			}
		}
	}
	if c.Config.IsInfra && !o.podRemoval {
		return fmt.Errorf("container %s is the infra container of pod %s and cannot be removed without removing the pod: %w",
			shortID(c.Config.ID), shortID(c.Config.Pod), errdefs.ErrInUse)
	}
	if c.Config.IsService && !o.podRemoval {
		if err := r.refuseServiceRemoval(c); err != nil {
			return err
		}
	}
	l, c, err := r.lockContainer(c.Config.ID)
	if err != nil {
		if o.Ignore && errdefs.Is(err, errdefs.ErrCtrRemoved) {
			return nil
		}
		return err
	}
	// Refused before anything is done: a running container others depend on keeps running.
	if err := r.checkNoDependents(c); err != nil {
		l.Unlock()
		return err
	}
	// The removal deletes the container's files while its network is detached and its conmon
	// and conmon's exit command finish, and waits for them at the end: nothing of the container
	// runs once it returns.
	var pending, stopPending *pendingCleanup
	removed := false
	defer func() { // last, once nothing of the container runs: its pod's exit policy
		if removed && !o.podRemoval {
			r.memberGone(ctx, c)
		}
	}()
	defer func() {
		pending.done()
		stopPending.done()
		if removed {
			// conmon, now gone, may have written the exit file only after the removal
			// moved it aside (the exit code came from the kernel first).
			r.keepExitFile(c.Config.ID)
		}
	}()
	pending, err = r.syncLockedLater(c)
	if err != nil {
		l.Unlock()
		return err
	}
	if c.State.Active() {
		if !o.Force {
			l.Unlock()
			return fmt.Errorf("cannot remove container %s as it is %s - running or paused containers cannot be removed without force: %w",
				c.Config.ID, c.State.Status, errdefs.ErrCtrStateInvalid)
		}
		if stopPending, err = r.stopLockedLater(c, o.Timeout, true); err != nil {
			l.Unlock()
			return err
		}
	}
	var cleaned []*pendingCleanup // nil: not cleaned up by this call
	if pending != nil || stopPending != nil {
		cleaned = []*pendingCleanup{pending, stopPending}
	}
	if err := r.removeLockedAfter(c, l, cleaned); err != nil {
		l.Unlock()
		return err
	}
	removed = true
	if o.Volumes {
		r.removeAnonymousVolumes(c)
	}
	return nil
}

// removeAnonymousVolumes removes the anonymous volumes (-v /path) a removed container had.
func (r *Runtime) removeAnonymousVolumes(c *model.Container) {
	for _, m := range c.Config.Mounts {
		if m.Type != "volume" {
			continue
		}
		if v, err := r.LookupVolume(m.Source); err == nil && v.Labels["anonymous"] == "true" {
			r.RemoveVolume(v.Name, false)
		}
	}
}

// removeAutoRemoved is removeLocked for a container removed because it was made with --rm (its
// exit, a stop, conmon's exit command): its anonymous volumes go with it, as podman's and
// Docker's --rm have them.
func (r *Runtime) removeAutoRemoved(c *model.Container, l *lock.Lock) error {
	if err := r.removeLocked(c, l); err != nil {
		return err
	}
	r.removeAnonymousVolumes(c)
	return nil
}

// removeLocked deletes a stopped container whose lock l the caller holds; on success the lock is
// released and its file removed.
func (r *Runtime) removeLocked(c *model.Container, l *lock.Lock) error {
	if err := r.checkNoDependents(c); err != nil {
		return err
	}
	return r.removeLockedAfter(c, l, nil)
}

// removeLockedAfter is removeLocked for a container this process has just cleaned up, with
// what that cleanup left running (pending, none when nil): it is not cleaned up again (a
// second detachment of the network would run alongside the first), and the database row goes
// only once the network is detached; the files go meanwhile. The caller has checked that no
// other container joins this one.
func (r *Runtime) removeLockedAfter(c *model.Container, l *lock.Lock, pending []*pendingCleanup) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	if pending == nil {
		if err := r.cleanupLocked(c, int(c.State.ExitCode)); err != nil {
			return err
		}
	}
	// The container's directories go side by side, and before the database row: each removal is
	// a string of system calls that mostly wait (the store's on a disk that may discard each
	// freed block), 2.4 ms one after the other at the end of every `run --rm`; the one in the
	// store goes to the trash (trash.go). A removal killed midway leaves a container without
	// some of its files, which a second `rm` removes.
	r.dropUserMounts(c)
	var dirs sync.WaitGroup
	dirs.Go(func() { r.discardDir(r.ctrDir(c.Config.ID)) })
	for _, dir := range []string{r.ctrRunDir(c.Config.ID), r.etcDir(c.Config.ID)} {
		dirs.Go(func() { os.RemoveAll(dir) })
	}
	for _, p := range pending {
		p.networkDone()
	}
	err = st.RemoveContainer(c.Config.ID)
	dirs.Wait()
	if err != nil {
		return fmt.Errorf("container %s: its files are removed but its record is not (run `pea rm -f %s` again): %w", c.Config.Name, c.Config.Name, err)
	}
	r.keepExitFile(c.Config.ID)
	l.Remove(r.locks)
	r.containerEvent(c.Config, "remove")
	trace.Mark("rm: removed")
	return nil
}

// checkNoDependents refuses the removal of a container that others join.
func (r *Runtime) checkNoDependents(c *model.Container) error {
	deps, err := r.dependents(c.Config.ID)
	if err != nil {
		return err
	}
	if len(deps) > 0 {
		return fmt.Errorf("container %s has dependent containers which must be removed before it: %v: %w", shortID(c.Config.ID), deps, errdefs.ErrInUse)
	}
	return nil
}

// dependentsDeep lists the IDs of the containers that join id, and of those that join them,
// each after every container that joins it: the order they can be removed in.
func (r *Runtime) dependentsDeep(id string) ([]string, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{id: true}
	var visit func(id string) error
	visit = func(id string) error {
		all, err := st.ContainersMentioning(id)
		if err != nil {
			return err
		}
		for _, c := range all {
			if seen[c.Config.ID] || !dependsOn(c, id) {
				continue
			}
			seen[c.Config.ID] = true
			if err := visit(c.Config.ID); err != nil {
				return err
			}
			out = append(out, c.Config.ID)
		}
		return nil
	}
	return out, visit(id)
}

// dependsOn reports whether c joins one of id's namespaces or requires it (--requires).
func dependsOn(c *model.Container, id string) bool {
	if slices.Contains(c.Config.Requires, id) {
		return true
	}
	for _, ns := range c.Config.Namespaces {
		if ns.Mode == model.NSModeContainer && ns.Value == id {
			return true
		}
	}
	return false
}

// dependents lists the containers that join one of id's namespaces.
func (r *Runtime) dependents(id string) ([]string, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	all, err := st.ContainersMentioning(id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range all {
		if dependsOn(c, id) {
			out = append(out, c.Config.Name)
		}
	}
	return out, nil
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/lock"
	"pea/internal/model"
)

// PodMembers returns a pod's containers, infra first, then in creation order.
func (r *Runtime) PodMembers(podID string) ([]*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	ms, err := st.ListContainers("", podID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Config.IsInfra && !ms[j].Config.IsInfra })
	return ms, nil
}

// withPod looks a pod up, takes its lock, re-reads it and its members, and runs f; the lock is
// released when f returns.
func (r *Runtime) withPod(nameOrID string, f func(pod *model.Pod, members []*model.Container) error) (*model.Pod, error) {
	pod, err := r.LookupPod(nameOrID)
	if err != nil {
		return nil, err
	}
	l, pod, err := r.lockPod(pod.Config.ID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	members, err := r.PodMembers(pod.Config.ID)
	if err != nil {
		return pod, err
	}
	return pod, f(pod, members)
}

// eachMember runs f on each member under its lock, in the given order, collecting failures.
func (r *Runtime) eachMember(members []*model.Container, f func(c *model.Container) error) CtrErrors {
	errs := CtrErrors{}
	for _, m := range members {
		if err := r.withCtrLock(m.Config.ID, f); err != nil {
			errs[m.Config.ID] = err
		}
	}
	return errs
}

// CtrErrors collects per-container failures of a pod operation.
type CtrErrors map[string]error

func (e CtrErrors) Error() string {
	var ids []string
	for id := range e {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	msg := ""
	for i, id := range ids {
		if i > 0 {
			msg += "; "
		}
		msg += fmt.Sprintf("%s: %v", shortID(id), e[id])
	}
	return msg
}

func (e CtrErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

// StartPod starts the infra container, then every member.
func (r *Runtime) StartPod(ctx context.Context, nameOrID string) (*model.Pod, error) {
	return r.withPodEvent(nameOrID, "start", func(pod *model.Pod, members []*model.Container) error {
		if len(members) == 0 { // podman's words for a pod with nothing to start
			return fmt.Errorf("no containers in pod %s have no dependencies, cannot start pod: %w", pod.Config.ID, errdefs.ErrNoSuchContainer)
		}
		warmAttach() // once the pod is found: see StartContainer
		if err := r.startService(ctx, pod); err != nil {
			return err
		}
		// Members start in parallel: each waits mostly on conmon and the runtime.
		startMembers := func(ctx context.Context) error {
			errs := CtrErrors{}
			var mu sync.Mutex
			isApp := func(c *model.Container) bool { return !c.Config.IsInfra && c.Config.InitContainerType == "" }
			r.eachParallel(members, isApp, false, func(m *model.Container) {
				if err := r.withCtrLock(m.Config.ID, func(c *model.Container) error {
					if err := r.syncLocked(c); err != nil {
						return err
					}
					if c.State.Active() {
						return nil
					}
					return r.startLocked(ctx, c, nil)
				}); err != nil {
					mu.Lock()
					errs[m.Config.ID] = err
					mu.Unlock()
				}
			})
			return errs.orNil()
		}
		if hasInitContainers(members) {
			// Init containers run to their end between the infra's start and the others'.
			if err := r.ensureInfraRunning(ctx, pod); err != nil {
				return err
			}
			if err := r.runInitContainers(ctx, members); err != nil {
				return err
			}
			return startMembers(ctx)
		}
		return r.startWithInfra(ctx, pod, startMembers)
	})
}

func hasInitContainers(members []*model.Container) bool {
	for _, m := range members {
		if m.Config.InitContainerType != "" {
			return true
		}
	}
	return false
}

// withPodEvent is withPod that logs the pod event status when f succeeds.
func (r *Runtime) withPodEvent(nameOrID, status string, f func(pod *model.Pod, members []*model.Container) error) (*model.Pod, error) {
	pod, err := r.withPod(nameOrID, f)
	if err == nil {
		r.podEvent(pod.Config, status)
	}
	return pod, err
}

func (r *Runtime) withCtrLock(id string, f func(c *model.Container) error) error {
	l, c, err := r.lockContainer(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return f(c)
}

// StopPod stops the application containers (in parallel), then the infra container.
func (r *Runtime) StopPod(ctx context.Context, nameOrID string, timeout *uint) (*model.Pod, error) {
	pod, err := r.stopPod(nameOrID, timeout, true)
	if pod != nil && pod.Config.ServiceContainer != "" {
		r.serviceCheck(ctx, pod.Config.ServiceContainer)
	}
	return pod, err
}

// stopPod is StopPod; with autoRemove, members made with --rm are removed once stopped, as
// their exit would have removed them (not for a restart).
func (r *Runtime) stopPod(nameOrID string, timeout *uint, autoRemove bool) (*model.Pod, error) {
	return r.withPodEvent(nameOrID, "stop", func(pod *model.Pod, _ []*model.Container) error {
		return r.stopPodLocked(pod, timeout, autoRemove)
	})
}

func (r *Runtime) stopPodLocked(pod *model.Pod, timeout *uint, autoRemove bool) error {
	members, err := r.PodMembers(pod.Config.ID)
	if err != nil {
		return err
	}
	errs := CtrErrors{}
	var mu sync.Mutex
	r.eachParallel(members, func(c *model.Container) bool { return !c.Config.IsInfra }, true, func(c *model.Container) {
		id := c.Config.ID
		var err error
		if autoRemove {
			var l *lock.Lock
			if l, c, err = r.lockContainer(id); err == nil {
				err = r.stopLockedRemoving(c, l, timeout) // a --rm member goes, as at its exit
			}
		} else {
			err = r.withCtrLock(id, func(c *model.Container) error { return r.stopLocked(c, timeout) })
		}
		if err != nil {
			mu.Lock()
			errs[id] = err
			mu.Unlock()
		}
	})
	if id := pod.State.InfraContainerID; id != "" {
		if err := r.withCtrLock(id, func(c *model.Container) error { return r.stopLocked(c, timeout) }); err != nil {
			errs[id] = err
		}
	}
	return errs.orNil()
}

// eachParallel runs f on the containers of cs that sel selects, up to 8 at a time, and
// returns once all are done. Among them, a container that joins another's namespace (or
// --requires it) comes after it, and with dependentsFirst before it: a pod's members may
// depend on each other (run --pod P --network container:M), and are started in the first order,
// stopped and removed in the second, as podman's dependency graph does.
func (r *Runtime) eachParallel(cs []*model.Container, sel func(*model.Container) bool, dependentsFirst bool, f func(*model.Container)) {
	var chosen []*model.Container
	done := map[string]chan struct{}{}
	for _, c := range cs {
		if sel(c) {
			chosen = append(chosen, c)
			done[c.Config.ID] = make(chan struct{})
		}
	}
	// waitFor[i]: the channels of the containers chosen[i] must wait for.
	waitFor := make([][]chan struct{}, len(chosen))
	for i, c := range chosen {
		for _, d := range chosen {
			switch {
			case d == c:
			case !dependentsFirst && dependsOn(c, d.Config.ID):
				waitFor[i] = append(waitFor[i], done[d.Config.ID])
			case dependentsFirst && dependsOn(d, c.Config.ID):
				waitFor[i] = append(waitFor[i], done[d.Config.ID])
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range chosen {
		wg.Go(func() {
			defer close(done[c.Config.ID])
			for _, ch := range waitFor[i] { // before the slot: the order has no cycle
				<-ch
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			f(c)
		})
	}
	wg.Wait()
}

// RestartPod stops and starts a pod.
func (r *Runtime) RestartPod(ctx context.Context, nameOrID string, timeout *uint) (*model.Pod, error) {
	if _, err := r.stopPod(nameOrID, timeout, false); err != nil {
		return nil, err
	}
	return r.StartPod(ctx, nameOrID)
}

// KillPod sends sig to every running member (infra last).
func (r *Runtime) KillPod(ctx context.Context, nameOrID string, sig syscall.Signal) (*model.Pod, error) {
	return r.withPodEvent(nameOrID, "kill", func(pod *model.Pod, members []*model.Container) error {
		reversed := make([]*model.Container, len(members)) // infra is first: kill it last
		for i, m := range members {
			reversed[len(members)-1-i] = m
		}
		running := 0
		errs := r.eachMember(reversed, func(c *model.Container) error {
			if err := r.syncLocked(c); err != nil {
				return err
			}
			if !c.State.Active() {
				return nil
			}
			running++
			if err := syscall.Kill(c.State.Pid, sig); err != nil {
				return err
			}
			r.containerEvent(c.Config, "kill", "signal", strconv.Itoa(int(sig)))
			return nil
		})
		if running == 0 && len(errs) == 0 {
			return fmt.Errorf("pod %s has no running containers to kill: %w", pod.Config.Name, errdefs.ErrPodStateInvalid)
		}
		return errs.orNil()
	})
}

// PausePod freezes every running member; with pause false it thaws them.
func (r *Runtime) PausePod(ctx context.Context, nameOrID string, pause bool) (*model.Pod, error) {
	status := "pause"
	if !pause {
		status = "unpause"
	}
	return r.withPodEvent(nameOrID, status, func(pod *model.Pod, members []*model.Container) error {
		return r.eachMember(members, func(c *model.Container) error {
			if err := r.syncLocked(c); err != nil {
				return err
			}
			if pause && c.State.Status == model.StatusRunning || !pause && c.State.Status == model.StatusPaused {
				return r.setPausedLocked(c, pause)
			}
			return nil
		}).orNil()
	})
}

// PodRemoveOptions control RemovePod.
type PodRemoveOptions struct {
	Force   bool
	Timeout *uint
	Ignore  bool
}

// RemovePod removes a pod with its containers (members first, infra last) and its cgroup.
// Without Force it is refused while any member runs.
func (r *Runtime) RemovePod(ctx context.Context, nameOrID string, o PodRemoveOptions) error {
	pod, err := r.LookupPod(nameOrID)
	if err != nil {
		if o.Ignore && errdefs.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		return err
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	l, pod, err := r.lockPod(pod.Config.ID)
	if err != nil {
		return err
	}
	members, err := r.PodMembers(pod.Config.ID)
	if err != nil {
		l.Unlock()
		return err
	}
	if !o.Force {
		for _, m := range members {
			if _, done := r.exited(m); m.State.Active() && !done {
				l.Unlock()
				return fmt.Errorf("pod %s has containers that are not ready to be removed: cannot remove container %s as it is running - running or paused containers cannot be removed without force: %w",
					pod.Config.ID, m.Config.ID, errdefs.ErrCtrStateInvalid)
			}
		}
	}
	if err := r.stopPodLocked(pod, o.Timeout, false); err != nil && !o.Force {
		l.Unlock()
		return err
	}
	var errs []error
	// Members first (in parallel), then the infra container.
	var mu sync.Mutex
	r.eachParallel(members, func(c *model.Container) bool { return !c.Config.IsInfra }, true, func(c *model.Container) {
		if err := r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true, podRemoval: true}); err != nil {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
	})
	if id := pod.State.InfraContainerID; id != "" {
		if err := r.RemoveContainer(ctx, id, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true, podRemoval: true}); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		l.Unlock()
		return fmt.Errorf("removing pod %s: %w", pod.Config.Name, errors.Join(errs...))
	}
	// The path is derived, not only read: a pea killed during pod create made the cgroup
	// before recording it.
	if cg := podCgroupPath(pod.Config); cg != "" {
		if err := cgroups.Remove(cg); err != nil {
			l.Unlock()
			return fmt.Errorf("removing the cgroup of pod %s: %w", pod.Config.Name, err)
		}
	}
	if err := st.RemovePod(pod.Config.ID); err != nil {
		l.Unlock()
		return err
	}
	l.Remove(r.locks)
	r.podEvent(pod.Config, "remove")
	r.removePodBelongings(pod.Config.Name)
	if svc := pod.Config.ServiceContainer; svc != "" {
		r.serviceCheck(ctx, svc) // removed with the last of its pods, else stopped once they are
	}
	return nil
}

// removePodBelongings removes the scratch volumes and the files a removed pod owned (kube play
// makes them); best effort: the pod itself is already gone.
func (r *Runtime) removePodBelongings(name string) {
	os.RemoveAll(model.PodFilesDir(r.opts.Root, name))
	vols, err := r.ListVolumes()
	if err != nil {
		return
	}
	for _, v := range vols {
		if v.Labels[model.LabelOwnerPod] == name && v.Labels[model.LabelEmptyDir] != "" {
			r.RemoveVolume(v.Name, false)
		}
	}
}

// runInitContainers runs a pod's init containers one after another, in creation order, each to
// completion; a failure stops the pod start. "once" containers are removed after they succeed.
// The caller holds the pod lock.
func (r *Runtime) runInitContainers(ctx context.Context, members []*model.Container) error {
	for _, m := range members {
		if m.Config.InitContainerType == "" {
			continue
		}
		l, c, err := r.lockContainer(m.Config.ID)
		if err != nil {
			return err
		}
		if err := r.syncLocked(c); err != nil {
			l.Unlock()
			return err
		}
		if !c.State.Active() {
			r.markHandled(c.Config.ID)
			err = r.startLocked(ctx, c, nil)
		}
		l.Unlock()
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Config.Name, err)
		}
		code, err := r.waitExit(ctx, c, -1)
		if err != nil {
			return fmt.Errorf("init container %s: %w", c.Config.Name, err)
		}
		l, c, err = r.lockContainer(m.Config.ID)
		if err != nil {
			return err
		}
		if err := r.syncLocked(c); err != nil {
			l.Unlock()
			return err
		}
		if code != 0 {
			l.Unlock()
			msg := fmt.Sprintf("init container %s exited with code %d", c.Config.Name, code)
			if tail := r.logTail(ctx, c, 5); tail != "" {
				msg += "; its last output: " + tail
			}
			return fmt.Errorf("%s; the pod's other containers were not started", msg)
		}
		if c.Config.InitContainerType == model.InitOnce {
			if err := r.removeLocked(c, l); err != nil {
				l.Unlock()
				return err
			}
			continue
		}
		l.Unlock()
	}
	return nil
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pea/internal/cpupin"
	"pea/internal/detach"
	"pea/internal/errdefs"
	"pea/internal/lock"
	"pea/internal/model"
	"pea/internal/trace"
)

// StartContainer starts a container (its pod's infra container first). With streams, the
// caller is attached before the process starts; use AttachWait to follow it.
func (r *Runtime) StartContainer(ctx context.Context, nameOrID string, streams *Streams) (*model.Container, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	return r.StartCreated(ctx, c, streams)
}

// StartCreated is StartContainer for a container the caller has just created (or looked up):
// it is not looked up again, only re-read under its lock.
func (r *Runtime) StartCreated(ctx context.Context, c *model.Container, streams *Streams) (*model.Container, error) {
	if len(c.Config.Requires) > 0 {
		if err := r.startRequired(ctx, c, map[string]bool{c.Config.ID: true}); err != nil {
			return nil, err
		}
	}
	return r.startOne(ctx, c, streams)
}

// startOne is StartCreated without the containers c requires.
func (r *Runtime) startOne(ctx context.Context, c *model.Container, streams *Streams) (*model.Container, error) {
	// From the first moment the start is sure to be asked for (see startLocked); not before the
	// lookup: a failing command would wait for the grace period at its exit.
	warmAttach()
	if c.Config.Pod == "" || c.Config.IsInfra {
		return r.startUnderLock(ctx, c.Config.ID, streams)
	}
	pl, pod, err := r.lockPod(c.Config.Pod)
	if err != nil {
		return nil, err
	}
	defer pl.Unlock()
	// The pod's infra container starts first, and this one is made meanwhile (infraGate).
	var out *model.Container
	err = r.startWithInfra(ctx, pod, func(ctx context.Context) error {
		var err error
		out, err = r.startUnderLock(ctx, c.Config.ID, streams)
		return err
	})
	return out, err
}

// startUnderLock takes container id's lock and starts it unless it runs.
func (r *Runtime) startUnderLock(ctx context.Context, id string, streams *Streams) (*model.Container, error) {
	l, c, err := r.lockContainer(id)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if c.State.Active() {
		if streams != nil {
			return nil, wrongState(c, "already running")
		}
		return c, nil // podman: starting a running container is not an error
	}
	return c, r.startLocked(ctx, c, streams)
}

// AttachWait follows an attached start until the container exits and returns its exit code;
// detach.ErrDetached when the client typed s.DetachKeys (the container goes on).
func (r *Runtime) AttachWait(ctx context.Context, c *model.Container, s *Streams) (int, error) {
	if s.conn != nil {
		s.conn.pump(s)
		s.conn.Close()
	}
	defer s.closeExitFD()
	if s.detached.Load() {
		return 0, detach.ErrDetached
	}
	fd := -1
	if s.hasExitFD {
		fd = s.exitFD
	}
	if s.Done != nil {
		select {
		case <-s.Done:
			return 0, context.Canceled // detached: the container goes on
		default:
		}
	}
	return r.waitExit(ctx, c, fd)
}

// waitExit waits for a started container's process to end and returns its exit code. pidfd,
// when not -1, is a pidfd of that process taken before it started.
func (r *Runtime) waitExit(ctx context.Context, c *model.Container, pidfd int) (int, error) {
	code, known, err := waitPidExitCode(ctx, c.State.Pid, pidfd)
	if err != nil {
		return 0, err
	}
	trace.Mark("wait: the container's process ended")
	// A SIGKILL under --timeout may be conmon's: it then records -1 (podman's exit code of a
	// container that timed out, 255 for run), which only its exit file tells.
	if known && !(c.Config.Timeout > 0 && code == 128+int(syscall.SIGKILL)) {
		r.exits.Store(c.Config.ID, knownExit{pid: c.State.Pid, code: code})
		return code, nil
	}
	if code, ok := r.exitCodeOf(c.Config.ID, 5*time.Second); ok {
		return code, nil
	}
	return 0, fmt.Errorf("container %s exited but conmon recorded no exit code", c.Config.Name)
}

// StopContainer stops a container: its stop signal, then SIGKILL after the timeout (the
// container's own when timeout is nil).
func (r *Runtime) StopContainer(ctx context.Context, nameOrID string, timeout *uint) (*model.Container, error) {
	return r.stopContainerAs(ctx, nameOrID, timeout, true)
}

// StopContainerNotByUser is StopContainer for the host's shutdown (`stop --not-stopped-by-user`,
// pea-restart.service's stop): the container stops as for any stop, and no restart policy
// brings it back meanwhile, but it is not left marked as stopped by the user, so that one of
// `--restart unless-stopped` is among those `--filter should-start-on-boot=true` starts again at
// the next boot (podman 4.3's unit started `always` ones only: its bug 17851).
func (r *Runtime) StopContainerNotByUser(ctx context.Context, nameOrID string, timeout *uint) (*model.Container, error) {
	return r.stopContainerAs(ctx, nameOrID, timeout, false)
}

func (r *Runtime) stopContainerAs(ctx context.Context, nameOrID string, timeout *uint, byUser bool) (*model.Container, error) {
	c, err := r.stopContainer(nameOrID, timeout, true, byUser)
	if err == nil {
		r.memberGone(ctx, c) // its pod's exit policy, which the stop (its own cleanup) may meet
	}
	if err == nil && c.Config.Pod != "" && !c.Config.IsInfra {
		r.serviceCheckPod(ctx, c.Config.Pod)
	}
	return c, err
}

// stopContainer stops a container; with autoRemove, one made with --rm is removed then, as
// its exit would have removed it (the stop does the cleanup conmon's exit command would have
// done, so that command finds nothing to do).
// With byUser false the stop does not count as the user's (see StopContainerNotByUser).
func (r *Runtime) stopContainer(nameOrID string, timeout *uint, autoRemove, byUser bool) (*model.Container, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	if !byUser && !c.State.StoppedByUser && !c.Config.AutoRemove {
		defer l.Unlock()
		conmon := c.State.ConmonPid
		if err := r.stopLocked(c, timeout); err != nil {
			return c, err
		}
		// The mark kept the exit command from restarting the container while it stopped; it
		// goes once conmon (and so that command) has ended (a zombie until init reaps it).
		if c.State.StoppedByUser && !c.State.Active() && waitPidExit(conmon, 0) {
			c.State.StoppedByUser = false
			st, err := r.state()
			if err != nil {
				return c, err
			}
			return c, st.SaveContainerState(c.Config.ID, c.State)
		}
		return c, nil
	}
	if !autoRemove {
		defer l.Unlock()
		return c, r.stopLocked(c, timeout)
	}
	return c, r.stopLockedRemoving(c, l, timeout)
}

// stopLockedRemoving stops c, whose lock l the caller holds, and removes it when it was made
// with --rm, as its exit would have (the stop does the cleanup conmon's exit command would
// have done, so that command finds nothing to do). l is released either way.
func (r *Runtime) stopLockedRemoving(c *model.Container, l *lock.Lock, timeout *uint) error {
	if err := r.stopLocked(c, timeout); err != nil {
		l.Unlock()
		return err
	}
	if c.Config.AutoRemove && !c.State.Active() {
		if err := r.removeAutoRemoved(c, l); err == nil {
			return nil // the lock went with the container
		}
		// Stopped all the same; what refused the removal (a container that joins this one)
		// keeps it, as an exit would have.
	}
	l.Unlock()
	return nil
}

func (r *Runtime) stopLocked(c *model.Container, timeout *uint) error {
	_, err := r.stopLockedLater(c, timeout, false)
	return err
}

// stopLockedLater is stopLocked that, with later set (a removal), leaves the network's
// detachment and the wait for conmon running and returns them (see cleanup).
func (r *Runtime) stopLockedLater(c *model.Container, timeout *uint, later bool) (*pendingCleanup, error) {
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if !c.State.StoppedByUser {
		c.State.StoppedByUser = true // no restart policy brings it back
		if st, err := r.state(); err == nil {
			st.SaveContainerState(c.Config.ID, c.State)
		}
	}
	if !c.State.Live() {
		// Already stopped: make sure nothing is left mounted or attached.
		if c.State.Mounted || c.State.NetNS != "" {
			return r.cleanup(c, int(c.State.ExitCode), later)
		}
		return nil, nil
	}
	t := c.Config.StopTimeout
	if timeout != nil {
		t = *timeout
	}
	rt, err := r.ociRuntime()
	if err != nil {
		return nil, err
	}
	if c.State.Status == model.StatusPaused {
		rt.Resume(c.Config.ID)
	}
	sig := syscall.Signal(c.Config.StopSignal)
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	// Every process of its cgroup; a container without one (--cgroups disabled) has only
	// its init's PID namespace, which ends with it.
	all := c.Config.Cgroups != CgroupsDisabled
	if t > 0 {
		syscall.Kill(c.State.Pid, sig)
		if !waitPidExit(c.State.Pid, time.Duration(t)*time.Second) {
			rt.Kill(c.Config.ID, syscall.SIGKILL, all)
		}
	} else {
		rt.Kill(c.Config.ID, syscall.SIGKILL, all)
	}
	if !waitPidExit(c.State.Pid, 5*time.Second) {
		syscall.Kill(c.State.Pid, syscall.SIGKILL)
		waitPidExit(c.State.Pid, 5*time.Second)
	}
	code, ok := r.exitCodeOf(c.Config.ID, 3*time.Second)
	if !ok {
		code = 137
	}
	p, err := r.cleanup(c, code, later)
	if err == nil && !later { // a removal's stop is its remove event
		r.containerEvent(c.Config, "stop")
	}
	return p, err
}

// KillContainer sends a signal to a running container.
func (r *Runtime) KillContainer(ctx context.Context, nameOrID string, sig syscall.Signal) (*model.Container, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if !c.State.Active() {
		return nil, fmt.Errorf("can only kill running containers. %s is in state %s: %w", c.Config.ID, c.State.Status, errdefs.ErrCtrStateInvalid)
	}
	rt, err := r.ociRuntime()
	if err != nil {
		return nil, err
	}
	if err := syscall.Kill(c.State.Pid, sig); err != nil {
		if err := rt.Kill(c.Config.ID, sig, false); err != nil {
			return nil, err
		}
	}
	r.containerEvent(c.Config, "kill", "signal", strconv.Itoa(int(sig)))
	return c, nil
}

// PauseContainer freezes a running container.
func (r *Runtime) PauseContainer(ctx context.Context, nameOrID string) (*model.Container, error) {
	return r.setPaused(nameOrID, true)
}

// UnpauseContainer thaws a paused container.
func (r *Runtime) UnpauseContainer(ctx context.Context, nameOrID string) (*model.Container, error) {
	return r.setPaused(nameOrID, false)
}

func (r *Runtime) setPaused(nameOrID string, pause bool) (*model.Container, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	return c, r.setPausedLocked(c, pause)
}

func (r *Runtime) setPausedLocked(c *model.Container, pause bool) error {
	if err := r.syncLocked(c); err != nil {
		return err
	}
	rt, err := r.ociRuntime()
	if err != nil {
		return err
	}
	st, _ := r.state()
	if pause {
		if c.State.Status == model.StatusPaused {
			return fmt.Errorf("%q is already paused: %w", c.Config.ID, errdefs.ErrCtrStateInvalid)
		}
		if c.State.Status != model.StatusRunning {
			return fmt.Errorf("%q is not running, can't pause: %w", c.Config.Name, errdefs.ErrCtrStateInvalid)
		}
		if err := rt.Pause(c.Config.ID); err != nil {
			return err
		}
		c.State.Status = model.StatusPaused
	} else {
		if c.State.Status != model.StatusPaused {
			return fmt.Errorf("%q is not paused, can't unpause: %w", c.Config.ID, errdefs.ErrCtrStateInvalid)
		}
		if err := rt.Resume(c.Config.ID); err != nil {
			return err
		}
		c.State.Status = model.StatusRunning
	}
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return err
	}
	if pause {
		r.containerEvent(c.Config, "pause")
	} else {
		r.containerEvent(c.Config, "unpause")
	}
	return nil
}

// RestartContainer stops (when running) and starts a container.
func (r *Runtime) RestartContainer(ctx context.Context, nameOrID string, timeout *uint) (*model.Container, error) {
	// A --rm container restarted is not removed by the stop.
	if _, err := r.stopContainer(nameOrID, timeout, false, true); err != nil {
		return nil, err
	}
	c, err := r.StartContainer(ctx, nameOrID, nil)
	if err == nil {
		r.containerEvent(c.Config, "restart")
	}
	return c, err
}

// CleanupContainer is conmon's exit command: it releases what an exited container held, removes
// it when it was started with --rm, and applies its pod's exit policy.
func (r *Runtime) CleanupContainer(ctx context.Context, id string) error {
	r.inExitCommand = true
	// The attached `run` or the stop/rm in progress cleans up itself: nothing to do, and conmon
	// (which waits for this command) can exit at once.
	if r.handledByOther(id) {
		return nil
	}
	// A store deleted while its container ran (a test's teardown, an rm -rf): nothing to
	// record, and opening the database would make the store's directory again.
	if _, err := os.Stat(r.dbPath()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	st, err := r.state()
	if err != nil {
		return err
	}
	// Wait for the lock, unless its holder said it cleans up after the container itself.
	var l *lock.Lock
	for {
		if !st.ContainerExists(id) {
			return nil // already removed (run --rm or rm did it)
		}
		var err error
		l, err = r.locks.TryLock(id)
		if err == nil {
			break
		}
		if !errors.Is(err, lock.ErrBusy) {
			return err
		}
		if r.handledByOther(id) {
			return nil
		}
		cpupin.Sleep(10 * time.Millisecond)
	}
	c, err := st.Container(id)
	if err != nil {
		l.Remove(r.locks)
		if errdefs.Is(err, errdefs.ErrCtrRemoved) {
			return nil
		}
		return err
	}
	if err := r.syncLocked(c); err != nil {
		l.Unlock()
		return err
	}
	if restart, delay := restartDue(c); restart {
		return r.restartAfterExit(ctx, l, c, delay)
	}
	if c.Config.AutoRemove && !c.State.Active() {
		err := r.removeAutoRemoved(c, l)
		if err != nil {
			l.Unlock()
			return err
		}
		if c.Config.Pod != "" && !c.Config.IsInfra && c.Config.InitContainerType == "" {
			return r.applyExitPolicy(ctx, c.Config.Pod, true)
		}
		return nil
	}
	l.Unlock()
	if c.Config.Pod != "" && !c.Config.IsInfra && !c.State.Active() {
		err := r.applyExitPolicy(ctx, c.Config.Pod, false)
		if c.Config.InitContainerType == "" {
			r.serviceCheckPod(ctx, c.Config.Pod)
		}
		return err
	}
	return nil
}

// WaitContainer waits for a container to reach one of the conditions (default: stopped or
// exited) and returns its exit code.
func (r *Runtime) WaitContainer(ctx context.Context, nameOrID string, conditions []string) (int32, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return -1, err
	}
	if len(conditions) == 0 {
		conditions = []string{"stopped", "exited"}
	}
	want := map[string]bool{}
	for _, cond := range conditions {
		switch cond {
		case "stopped", "exited":
			want[model.StatusExited] = true
		case "created", "configured":
			want[model.StatusCreated] = true
		case "running", "paused", "stopping", "removing":
			want[cond] = true
		default:
			return -1, fmt.Errorf("invalid condition %q (valid: created, running, paused, stopped, exited, removing): %w", cond, errdefs.ErrInvalid)
		}
	}
	st, _ := r.state()
	for {
		if err := ctx.Err(); err != nil {
			return -1, err
		}
		cur, err := st.Container(c.Config.ID)
		if err != nil {
			if errdefs.Is(err, errdefs.ErrCtrRemoved) && want[model.StatusExited] {
				if code, ok := r.exitCodeOf(c.Config.ID, 0); ok {
					return int32(code), nil
				}
			}
			return -1, err
		}
		status := cur.State.Status
		if code, done := r.exited(cur); done {
			status = model.StatusExited
			cur.State.ExitCode = int32(code)
		}
		if want[status] {
			if status != model.StatusExited {
				return -1, nil // podman's code of a condition that is not an exit
			}
			return cur.State.ExitCode, nil
		}
		if status == model.StatusRunning && want[model.StatusExited] {
			waitPidExit(cur.State.Pid, 250*time.Millisecond)
			continue
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-cpupin.After(100 * time.Millisecond):
		}
	}
}

// RunContainer creates and starts a detached container. A container that fails to start is
// left created (removed with --rm), as podman's; the error is then a *StartError.
func (r *Runtime) RunContainer(ctx context.Context, cfg *model.ContainerConfig, o CreateOptions) (*model.Container, error) {
	c, err := r.CreateContainer(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	started, err := r.StartCreated(ctx, c, nil)
	if err != nil {
		// As podman's run: a container that did not start stays, created, unless --rm.
		if cfg.AutoRemove {
			r.RemoveContainer(context.Background(), c.Config.ID, RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
		}
		return nil, &StartError{Err: err}
	}
	return started, nil
}

// StartError is a start that failed after the container was created (run's 126, podman's
// code for a container that could not be started).
type StartError struct{ Err error }

func (e *StartError) Error() string { return e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

func uintPtr(v uint) *uint { return &v }

// SyncContainer records a container's exit when its process has ended, without waiting for
// conmon's callback.
func (r *Runtime) SyncContainer(id string) error {
	l, c, err := r.lockContainer(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	return r.syncLocked(c)
}

// restartDue applies a container's restart policy to an exit conmon reported (a stop by the
// user never gets here: its caller cleans up itself). A container that ran for less than a
// second is restarted after a growing delay, so that one failing at once does not spin.
func restartDue(c *model.Container) (bool, time.Duration) {
	if c.State.Active() || c.Config.AutoRemove || c.State.StoppedByUser {
		return false, 0
	}
	policy, max := ParseRestartPolicy(c.Config.RestartPolicy)
	switch policy {
	case "always", "unless-stopped":
	case "on-failure":
		if c.State.ExitCode == 0 || max > 0 && c.State.RestartCount >= max {
			return false, 0
		}
	default:
		return false, 0
	}
	var delay time.Duration
	if c.State.FinishedAt.Sub(c.State.StartedAt) < time.Second {
		delay = min(time.Duration(c.State.RestartCount+1)*100*time.Millisecond, 5*time.Second)
	}
	return true, delay
}

// restartAfterExit starts an exited container again for its restart policy; l is its lock. The
// lock is released during the delay, and the container re-read: a stop or rm meanwhile wins.
func (r *Runtime) restartAfterExit(ctx context.Context, l *lock.Lock, c *model.Container, delay time.Duration) error {
	count := c.State.RestartCount
	if delay > 0 {
		l.Unlock()
		cpupin.Sleep(delay)
		var err error
		if l, c, err = r.lockContainer(c.Config.ID); err != nil {
			return nil // removed meanwhile
		}
		if c.State.Active() || c.State.RestartCount != count || c.State.StoppedByUser {
			l.Unlock()
			return nil // started or restarted by someone else meanwhile
		}
	}
	defer l.Unlock()
	c.State.RestartCount = count + 1
	if err := r.startLocked(ctx, c, nil); err != nil {
		return err
	}
	r.containerEvent(c.Config, "restart")
	return nil
}

// ParseRestartPolicy splits --restart (no, always, unless-stopped, on-failure[:N]) into the
// policy and on-failure's retry count (0: no limit).
func ParseRestartPolicy(s string) (policy string, maxRetries int) {
	name, n, _ := strings.Cut(s, ":")
	if name == "on-failure" && n != "" {
		maxRetries, _ = strconv.Atoi(n)
	}
	return name, maxRetries
}

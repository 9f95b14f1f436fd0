package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/lock"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/trace"
)

// lockContainer takes a container's lock and re-reads it: the only safe way to act on it.
func (r *Runtime) lockContainer(id string) (*lock.Lock, *model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, nil, err
	}
	return lockAndRead(r, id, st.Container, errdefs.ErrCtrRemoved)
}

// lockAndRead takes the lock of object id and reads the object afresh. When the object was
// removed meanwhile (removed is its error), the lock file that taking the lock re-created goes.
func lockAndRead[T any](r *Runtime, id string, read func(string) (T, error), removed error) (*lock.Lock, T, error) {
	var zero T
	l, err := r.locks.Lock(id)
	if err != nil {
		return nil, zero, err
	}
	v, err := read(id)
	if err != nil {
		if errdefs.Is(err, removed) {
			l.Remove(r.locks)
		} else {
			l.Unlock()
		}
		return nil, zero, err
	}
	return l, v, nil
}

// lookupAndLock resolves a name or ID and locks the container.
func (r *Runtime) lookupAndLock(nameOrID string) (*lock.Lock, *model.Container, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, nil, err
	}
	return r.lockContainer(c.Config.ID)
}

// handledMarker is created by a lock holder that will clean up after the container itself;
// conmon's exit command, finding it while the lock is busy, leaves at once instead of waiting.
func (r *Runtime) handledMarker(id string) string {
	return filepath.Join(r.ctrRunDir(id), "handled")
}

// markHandled records that this process will clean up after container id itself: conmon's exit
// command, finding the marker of a live process, leaves at once.
func (r *Runtime) markHandled(id string) {
	fsx.WriteFile(r.handledMarker(id), []byte(strconv.Itoa(os.Getpid())), 0o600)
}

// handledByOther reports whether another live process said it cleans up after container id.
func (r *Runtime) handledByOther(id string) bool {
	b, err := fsx.ReadFile(r.handledMarker(id))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && pid != os.Getpid() && alive(pid)
}

// awaitConmon waits for the container's conmon to finish (its exit command included), so that
// nothing of the container runs once the caller returns. Not for the exit command itself.
func (r *Runtime) awaitConmon(id string, conmonPid int) {
	if r.inExitCommand || conmonPid <= 0 || !alive(conmonPid) {
		return
	}
	r.markHandled(id)
	waitPidExit(conmonPid, 5*time.Second)
}

// exited reports whether an active container's process has ended, with its exit code: conmon
// wrote the exit file, or conmon itself is gone (killed, or a reboot wiped the runroot).
func (r *Runtime) exited(c *model.Container) (int, bool) {
	if !c.State.Live() {
		return int(c.State.ExitCode), false
	}
	// Taken, not read: the cleanup that follows records the code, and a long-running process
	// (the API servers) must not keep one entry per container it ever waited for.
	if k, ok := r.exits.LoadAndDelete(c.Config.ID); ok && k.(knownExit).pid == c.State.Pid {
		return k.(knownExit).code, true
	}
	if code, ok := oci.ReadExitCode(r.exitDir(), c.Config.ID); ok {
		return code, true
	}
	if c.State.ConmonPid > 0 && !alive(c.State.ConmonPid) && !alive(c.State.Pid) {
		return 137, true
	}
	return 0, false
}

// syncLocked brings a locked container's state up to date: when its process ended, the
// container is cleaned up and marked exited.
func (r *Runtime) syncLocked(c *model.Container) error {
	if code, done := r.exited(c); done {
		return r.cleanupLocked(c, code)
	}
	return nil
}

// syncLockedLater is syncLocked for a removal: what the cleanup leaves running is returned (see
// cleanup); nil when nothing is.
func (r *Runtime) syncLockedLater(c *model.Container) (*pendingCleanup, error) {
	if code, done := r.exited(c); done {
		return r.cleanup(c, code, true)
	}
	return nil, nil
}

// pendingCleanup is what a removal's cleanup leaves running while the removal goes on: the
// network's detachment (the CNI DEL waits for the kernel to unregister the veth, an RCU grace
// period of 5-20 ms here) and the wait for conmon to be gone (it waits for its exit command, a
// pea process of ~2 ms). A nil one has nothing running.
type pendingCleanup struct{ network, conmon sync.WaitGroup }

// networkDone waits for the network's detachment: the removal commits (deletes the database row)
// only after it, so that a removal killed midway leaves a container whose cleanup finds its
// attachments again, not a lease nobody owns.
func (p *pendingCleanup) networkDone() {
	if p != nil {
		p.network.Wait()
		trace.Mark("cleanup: network torn down")
	}
}

// done waits for everything: nothing of the container runs once it returns.
func (p *pendingCleanup) done() {
	if p != nil {
		p.network.Wait()
		p.conmon.Wait()
		trace.Mark("cleanup: conmon gone")
	}
}

// cleanupLocked releases what a stopped container held (runtime state and cgroup, network,
// rootfs mount) and records its exit. It is idempotent.
func (r *Runtime) cleanupLocked(c *model.Container, code int) error {
	_, err := r.cleanup(c, code, false)
	return err
}

// cleanup is cleanupLocked; with later set (a removal) the network's detachment and the wait for
// conmon are left running and returned, and what conmon may still write (the "oom" marker) is
// not read: the container is going away. The caller must call done on what is returned, also on
// error.
func (r *Runtime) cleanup(c *model.Container, code int, later bool) (*pendingCleanup, error) {
	p := &pendingCleanup{}
	id, conmonPid := c.Config.ID, c.State.ConmonPid // the state changes below, meanwhile
	if c.Config.Healthcheck != nil {
		r.stopHealthTimer(c)
	}
	p.conmon.Go(func() { r.awaitConmon(id, conmonPid) })
	st, err := r.state()
	if err != nil {
		p.done()
		return nil, err
	}
	// The runtime's delete (~1 ms when pea does it, ~5 ms for a `crun delete`) runs alongside
	// the teardown of the network and root filesystem: none of them needs another.
	var side sync.WaitGroup
	killedCreate := false
	if c.State.Status == model.StatusCreated {
		// Never started, as far as the database knows; a start killed after it launched conmon
		// may have left conmon running the runtime's create, which would make the container
		// after the check below: they go first.
		killedCreate = killStaleConmon(r.ctrRunDir(c.Config.ID), c.Config.ID)
	}
	if rt, err := r.ociRuntime(); err == nil && rt.Exists(c.Config.ID) {
		cg := r.CgroupPathOf(c)
		side.Go(func() { removeLeftContainer(rt, c.Config.ID, cg, killedCreate) })
	} else if err == nil && !c.State.Live() {
		// No runtime state, yet its cgroup may hold the first process of a create that died
		// after making it and before writing the state (its conmon killed): it would wait for
		// a start forever.
		cg := r.CgroupPathOf(c)
		side.Go(func() { cgroups.RemoveKilling(cg) })
	}
	peers := r.userNetworks(c) // those left on them forget its name once it is recorded stopped
	if detach := r.networkDetacher(c, true); detach != nil {
		p.network.Go(detach)
	}
	if !later {
		p.networkDone()
	}
	r.unmountRootfs(c)
	r.unmountImageVolumes(c)
	r.unmountShm(c.Config.ID)
	r.releaseVolumeMounts(c)
	trace.Mark("cleanup: rootfs unmounted")
	side.Wait()
	trace.Mark("cleanup: runtime deleted it")
	if !later {
		p.done()
		p = nil
	}
	died := c.State.Live()
	if died {
		c.State.Status = model.StatusExited
		c.State.ExitCode = int32(code)
		c.State.FinishedAt = time.Now()
		if fi, err := os.Stat(r.exitFile(c.Config.ID)); err == nil {
			c.State.FinishedAt = fi.ModTime()
		}
		if _, err := os.Stat(filepath.Join(r.ctrRunDir(c.Config.ID), "oom")); err == nil {
			c.State.OOMKilled = true
		}
	}
	c.State.Pid = 0
	c.State.ConmonPid = 0
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return p, err
	}
	if died {
		r.containerEvent(c.Config, "died", "exitCode", strconv.Itoa(code))
		r.containerEvent(c.Config, "cleanup") // podman's: its mounts and network are released
	}
	r.refreshPeerHosts(peers, nil)
	return p, nil
}

// keepExitFile keeps the exit code of a removed container for a while, so that a `run --rm`
// racing with conmon's cleanup still learns the code (podman keeps such codes in its database).
// Codes older than five minutes are dropped, in a sweep of the directory done at most once a
// minute (the time of the last is the mtime of a marker file there): one stat, not a listing
// with a stat per entry, on the path of every removal.
func (r *Runtime) keepExitFile(id string) {
	src := r.exitFile(id)
	if _, err := os.Stat(src); err == nil {
		os.Rename(src, filepath.Join(r.exitDir(), "removed-"+id))
	}
	marker := filepath.Join(r.exitDir(), ".swept")
	if fi, err := os.Stat(marker); err == nil && time.Since(fi.ModTime()) < time.Minute {
		return
	}
	fsx.WriteFile(marker, nil, 0o600)
	now := time.Now()
	os.Chtimes(marker, now, now)
	entries, _ := fsx.ReadDir(r.exitDir())
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "removed-") {
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > 5*time.Minute {
				os.Remove(filepath.Join(r.exitDir(), e.Name()))
			}
		}
	}
}

// exitCodeOf reads a container's recorded exit code, also after it was removed.
func (r *Runtime) exitCodeOf(id string, timeout time.Duration) (int, bool) {
	return oci.WaitExitCode(r.exitDir(), []string{id, "removed-" + id}, timeout)
}

func wrongState(c *model.Container, what string) error {
	return fmt.Errorf("container %s is %s: %w", c.Config.Name, what, errdefs.ErrCtrStateInvalid)
}

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"pea/internal/fsx"
	"pea/internal/model"
)

// The root filesystem mounts `pea mount` asks for are counted, as podman counts them: each
// mount adds one, each umount takes one away, and the overlay is unmounted only when the count
// is back at zero and the container is not running (a start mounts it too, a stop unmounts it
// only when nobody mounted it by hand). The count lives in the runroot, like the mounts it
// counts: <runroot>/mounts/<id> holds it in decimal; no file is a count of zero.

// mountsDir holds the counts of containers' user mounts.
func (r *Runtime) mountsDir() string { return filepath.Join(r.opts.RunRoot, "mounts") }

// userMounts is how many `pea mount`s of container id are not undone.
func (r *Runtime) userMounts(id string) int {
	return readCount(filepath.Join(r.mountsDir(), id))
}

// setUserMounts records the count of container id's user mounts; the caller holds its lock.
func (r *Runtime) setUserMounts(id string, n int) error {
	return writeCount(filepath.Join(r.mountsDir(), id), n)
}

// readCount reads a mount count file (none: zero).
func readCount(path string) int {
	b, err := fsx.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// writeCount writes a mount count file; a count of zero is no file.
func writeCount(path string, n int) error {
	if n <= 0 {
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(strconv.Itoa(n)), 0o600)
}

// MountContainer mounts a container's root filesystem on the host (`pea mount`) and returns
// where. A running or initialized container's is mounted already: that mount is counted too.
func (r *Runtime) MountContainer(nameOrID string) (string, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return "", err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return "", err
	}
	n := r.userMounts(c.Config.ID)
	path := c.State.MountPoint
	if !c.State.Live() || !c.State.Mounted {
		nsPath := ""
		if c.State.Live() && c.State.Pid > 0 {
			nsPath = fmt.Sprintf("/proc/%d/ns/user", c.State.Pid)
		}
		ns, err := r.openUserNS(c, nsPath)
		if err != nil {
			return "", err
		}
		defer ns.close()
		if path, err = r.mountRootfs(c, ns); err != nil {
			return "", err
		}
	}
	if err := r.setUserMounts(c.Config.ID, n+1); err != nil {
		if n == 0 && !c.State.Live() {
			r.unmountRootfs(c)
		}
		return "", err
	}
	// A root filesystem directory (--rootfs) or an infra container's empty root is not a mount
	// of pea's, but is where the container's files are, and listed as mounted.
	c.State.Mounted, c.State.MountPoint = true, path
	st, err := r.state()
	if err != nil {
		return "", err
	}
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return "", err
	}
	r.containerEvent(c.Config, "mount")
	return path, nil
}

// UnmountContainer undoes one MountContainer (all of them with force). The root filesystem is
// unmounted once none is left, unless the container runs. A container not mounted is not an
// error, as in podman.
func (r *Runtime) UnmountContainer(nameOrID string, force bool) error {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return err
	}
	n := r.userMounts(c.Config.ID) - 1
	if force {
		n = 0
	}
	if err := r.setUserMounts(c.Config.ID, n); err != nil {
		return err
	}
	if n > 0 || c.State.Live() || !c.State.Mounted {
		return nil
	}
	r.unmountRootfs(c)
	st, err := r.state()
	if err != nil {
		return err
	}
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return err
	}
	r.containerEvent(c.Config, "unmount")
	return nil
}

// MountedContainers lists the containers whose root filesystem is mounted (by `pea mount` or
// because they run).
func (r *Runtime) MountedContainers() ([]*model.Container, error) {
	all, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	var out []*model.Container
	for _, c := range all {
		if c.State.Mounted {
			out = append(out, c)
		}
	}
	return out, nil
}

// dropUserMounts forgets the user mounts of a container being removed and unmounts its root
// filesystem: nothing may stay mounted in a directory about to be deleted.
func (r *Runtime) dropUserMounts(c *model.Container) {
	if r.userMounts(c.Config.ID) > 0 {
		r.setUserMounts(c.Config.ID, 0)
	}
	r.unmountRootfs(c)
}

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// POSIX shared memory (shm_open, sem_open) lives in files under /dev/shm, not in the IPC
// namespace: containers that share an IPC namespace (a pod's members and its infra container,
// `--ipc container:X`) must see the same /dev/shm too, as podman's do. So a container that owns
// a shareable IPC namespace (the default, podman's "shareable") gets a tmpfs that pea mounts on
// the host at shmDir, bound at its /dev/shm; a container that joins its namespace binds the same
// tmpfs. The other IPC modes: "private" keeps a tmpfs of its own that the runtime mounts inside
// (nobody may join it), "none" has no /dev/shm at all, "host" binds the host's /dev/shm.

// defaultShmSize is the size of /dev/shm when --shm-size is not given, podman's 64m.
const defaultShmSize = 65536000

// ipcMode is how cfg gets its IPC namespace, with the default (unset) made explicit.
func ipcMode(cfg *model.ContainerConfig) string {
	ns, ok := cfg.Namespaces[model.NSIpc]
	if !ok || ns.Mode == "" {
		return model.NSModeShareable
	}
	return ns.Mode
}

// shmDir is where pea mounts the /dev/shm tmpfs of container id on the host.
func (r *Runtime) shmDir(id string) string { return filepath.Join(r.ctrDir(id), "shm") }

// shmMount says what the container's /dev/shm is: a host directory to bind (source), none at
// all (none), or, both empty, a tmpfs of its own that the runtime mounts.
type shmMount struct {
	source string
	none   bool
}

// prepareShm decides container c's /dev/shm and, when c owns a shareable IPC namespace, mounts
// its tmpfs on the host (undone by unmountShm).
func (r *Runtime) prepareShm(c *model.Container) (shmMount, error) {
	cfg := c.Config
	switch ipcMode(cfg) {
	case model.NSModeHost:
		return shmMount{source: "/dev/shm"}, nil
	case model.NSModeNone:
		return shmMount{none: true}, nil
	case model.NSModeShareable:
		if userMounts(cfg, "/dev/shm") {
			return shmMount{}, nil // the user's mount there wins (buildSpec)
		}
		dir := r.shmDir(cfg.ID)
		if isMountpoint(dir) {
			return shmMount{source: dir}, nil
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return shmMount{}, err
		}
		size := cfg.Resources.ShmSize
		if size <= 0 {
			size = defaultShmSize
		}
		data := "mode=1777,size=" + strconv.FormatInt(size, 10)
		if err := unix.Mount("shm", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data); err != nil {
			return shmMount{}, fmt.Errorf("mount /dev/shm of container %s: %w", cfg.Name, err)
		}
		return shmMount{source: dir}, nil
	case model.NSModeContainer:
		return r.joinedShm(cfg)
	}
	return shmMount{}, nil // private, or a namespace file: a tmpfs of its own
}

// joinedShm is the /dev/shm of the container whose IPC namespace cfg joins, following a chain
// of joins (a container that joins a pod member joins the infra container's namespace).
func (r *Runtime) joinedShm(cfg *model.ContainerConfig) (shmMount, error) {
	st, err := r.state()
	if err != nil {
		return shmMount{}, err
	}
	id := cfg.NS(model.NSIpc).Value
	for range 16 {
		dep, err := st.Container(id)
		if err != nil {
			return shmMount{}, fmt.Errorf("ipc namespace: %w", err)
		}
		switch ipcMode(dep.Config) {
		case model.NSModeContainer:
			id = dep.Config.NS(model.NSIpc).Value
			continue
		case model.NSModeHost:
			return shmMount{source: "/dev/shm"}, nil
		case model.NSModeNone:
			return shmMount{none: true}, nil
		case model.NSModeShareable:
			if dir := r.shmDir(dep.Config.ID); isMountpoint(dir) {
				return shmMount{source: dir}, nil
			}
			// Started by a pea that kept /dev/shm inside its containers: nothing to share.
			return shmMount{}, nil
		default:
			return shmMount{}, fmt.Errorf("cannot join the IPC namespace of container %s: it is not shareable (--ipc %s): %w",
				dep.Config.Name, ipcMode(dep.Config), errdefs.ErrInvalid)
		}
	}
	return shmMount{}, fmt.Errorf("ipc namespace of container %s: too many containers joined in a chain: %w", cfg.Name, errdefs.ErrInvalid)
}

// unmountShm undoes the host mount of prepareShm; it is idempotent. Containers that joined the
// namespace keep their own binds of the tmpfs, and with them its files, until they stop too.
func (r *Runtime) unmountShm(id string) {
	dir := r.shmDir(id)
	for isMountpoint(dir) {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			break
		}
	}
}

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

// ownsShm reports whether pea mounts a /dev/shm tmpfs on the host for cfg: it owns a shareable
// IPC namespace and has no /dev/shm mount of the user's (which wins in buildSpec).
func ownsShm(cfg *model.ContainerConfig) bool {
	return ipcMode(cfg) == model.NSModeShareable && !userMounts(cfg, "/dev/shm")
}

// errNotShareable refuses to join the IPC namespace of a private container.
func errNotShareable(donor *model.ContainerConfig) error {
	return fmt.Errorf("cannot join the IPC namespace of container %s: it is not shareable (--ipc private); create it with --ipc shareable: %w",
		donor.Name, errdefs.ErrInvalid)
}

// shmDir is where pea mounts the /dev/shm tmpfs of container id on the host.
func (r *Runtime) shmDir(id string) string { return filepath.Join(r.ctrDir(id), "shm") }

// shmMount says what the container's /dev/shm is: a host directory to bind (source), none at
// all (none), or, both empty, a tmpfs of its own that the runtime mounts.
type shmMount struct {
	source string
	none   bool
}

// prepareShm mounts container c's /dev/shm tmpfs on the host when it owns one (undone by
// unmountShm), and says what its /dev/shm is. In a user namespace (userns) the tmpfs belongs
// to container root, as one the runtime mounts inside would.
func (r *Runtime) prepareShm(c *model.Container, userns *userNS) (shmMount, error) {
	cfg := c.Config
	if !ownsShm(cfg) {
		return r.shmOf(cfg)
	}
	dir := r.shmDir(cfg.ID)
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) { // PrepareRun may have made it
		return shmMount{}, err
	}
	size := cfg.Resources.ShmSize
	if size <= 0 {
		size = defaultShmSize
	}
	data := "mode=1777,size=" + strconv.FormatInt(size, 10)
	if userns != nil {
		data += fmt.Sprintf(",uid=%d,gid=%d", userns.uid, userns.gid)
	}
	if err := unix.Mount("shm", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, data); err != nil {
		return shmMount{}, fmt.Errorf("mount /dev/shm of container %s: %w", cfg.Name, err)
	}
	return shmMount{source: dir}, nil
}

// shmOf is the /dev/shm of a container with cfg that does not own one, following the
// containers whose IPC namespace it joins (a container that joins a pod member joins the infra
// container's namespace).
func (r *Runtime) shmOf(cfg *model.ContainerConfig) (shmMount, error) {
	for hop := range 16 {
		switch ipcMode(cfg) {
		case model.NSModeHost:
			return shmMount{source: "/dev/shm"}, nil
		case model.NSModeNone:
			return shmMount{none: true}, nil
		case model.NSModeContainer:
			st, err := r.state()
			if err != nil {
				return shmMount{}, err
			}
			dep, err := st.Container(cfg.NS(model.NSIpc).Value)
			if err != nil {
				return shmMount{}, fmt.Errorf("ipc namespace: %w", err)
			}
			cfg = dep.Config
			continue
		case model.NSModeShareable:
			if dir := r.shmDir(cfg.ID); hop > 0 && isMountpoint(dir) {
				return shmMount{source: dir}, nil
			}
			// The user's own /dev/shm, or a donor started by a pea that kept /dev/shm inside
			// its containers: nothing to share.
			return shmMount{}, nil
		case model.NSModePrivate:
			if hop > 0 {
				return shmMount{}, errNotShareable(cfg) // refused at creation already
			}
		}
		return shmMount{}, nil // a tmpfs of its own: private, or a namespace file
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

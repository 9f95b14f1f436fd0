package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// NewNetNS creates a network namespace with its loopback up and pins it with a bind mount at
// runDir/netns/<name>, so that it outlives every process in it. The path is what crun's
// config.json and CNI's CNI_NETNS take.
// NetNSPath is where NewNetNS(name) pins its namespace.
func (m *Manager) NetNSPath(name string) string { return filepath.Join(m.netnsDir(), name) }

func (m *Manager) NewNetNS(name string) (string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", invalidf("network namespace name %q", name)
	}
	if err := os.MkdirAll(m.netnsDir(), 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(m.netnsDir(), name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("network namespace %s: %w", path, errdefs.ErrExists)
		}
		return "", err
	}
	f.Close()

	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: when this goroutine returns, the runtime ends the thread
		// instead of handing it, still inside the new namespace, to other goroutines.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare network namespace: %w", err)
			return
		}
		src := fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())
		if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
			errc <- fmt.Errorf("pin network namespace at %s: %w", path, err)
			return
		}
		const loopbackIndex = 1 // lo is always the first link of a new namespace
		if err := rtnlLink(unix.RTM_NEWLINK, loopbackIndex, unix.IFF_UP, unix.IFF_UP); err != nil {
			errc <- fmt.Errorf("bring up lo: %w", err)
			return
		}
		errc <- nil
	}()
	if err := <-errc; err != nil {
		m.RemoveNetNS(path)
		return "", err
	}
	return path, nil
}

// RemoveNetNS unpins a namespace made by NewNetNS; the kernel frees it once no process is left
// in it. A path that is already gone is not an error. Call Teardown first.
func (m *Manager) RemoveNetNS(path string) error {
	if filepath.Dir(filepath.Clean(path)) != filepath.Clean(m.netnsDir()) {
		return invalidf("%s is not a network namespace of this store (%s)", path, m.netnsDir())
	}
	for {
		err := unix.Unmount(path, unix.MNT_DETACH)
		if err == nil {
			continue // bind mounts may be stacked; remove them all
		}
		if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmount network namespace %s: %w", path, err)
		}
		break
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

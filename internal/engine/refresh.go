package engine

import (
	"os"
	"path/filepath"
	"strings"

	"pea/internal/fsx"
	"pea/internal/model"
)

// refreshIfRebooted resets runtime state after a reboot: every process pea started is gone, so
// containers are marked exited, their runtime fields cleared, and mounts left over released.
// The marker holds the kernel's boot ID: a runroot that is not a tmpfs (it survives the reboot)
// or one that was wiped both lead to a refresh.
func (r *Runtime) refreshIfRebooted() error {
	marker := filepath.Join(r.opts.RunRoot, "alive")
	boot := bootID()
	if b, err := fsx.ReadFile(marker); err == nil && string(b) == boot {
		return nil
	}
	l, err := r.locks.Lock("refresh")
	if err != nil {
		return err
	}
	defer l.Unlock()
	if b, err := os.ReadFile(marker); err == nil && string(b) == boot {
		return nil // another process refreshed meanwhile
	}
	os.RemoveAll(r.mountsDir()) // the mounts they counted went with the boot
	os.RemoveAll(r.imageMountCounts())
	os.RemoveAll(r.volumeMountsDir()) // and the volumes' file systems
	all, err := r.store.ListContainers("", "")
	if err != nil {
		return err
	}
	for _, c := range all {
		cl, err := r.locks.Lock(c.Config.ID)
		if err != nil {
			return err
		}
		r.unmountRootfs(c)
		r.unmountShm(c.Config.ID)
		switch {
		case c.State.Active():
			c.State.Status = model.StatusExited
		case c.State.Status == model.StatusInitialized:
			c.State.Status = model.StatusCreated // the runtime's process went with the boot
		}
		c.State.Pid, c.State.ConmonPid = 0, 0
		c.State.NetNS = ""
		c.State.Networks = nil
		err = r.store.SaveContainerState(c.Config.ID, c.State)
		cl.Unlock()
		if err != nil {
			return err
		}
	}
	return os.WriteFile(marker, []byte(boot), 0o600)
}

// bootID identifies the current boot of the kernel.
func bootID() string {
	b, err := fsx.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

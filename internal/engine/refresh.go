package engine

import (
	"os"
	"path/filepath"

	"pea/internal/model"
)

// refreshIfRebooted resets runtime state after a reboot. The runroot is a tmpfs, so an absent
// marker file means every process pea started is gone: containers are marked exited and their
// runtime fields cleared, and mounts left over are released.
func (r *Runtime) refreshIfRebooted() error {
	marker := filepath.Join(r.opts.RunRoot, "alive")
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	l, err := r.locks.Lock("refresh")
	if err != nil {
		return err
	}
	defer l.Unlock()
	if _, err := os.Stat(marker); err == nil {
		return nil // another process refreshed meanwhile
	}
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
		if c.State.Active() {
			c.State.Status = model.StatusExited
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
	return os.WriteFile(marker, nil, 0o600)
}

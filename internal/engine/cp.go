package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// CopyPath copies between the host and a container: src or dst (not both) is CONTAINER:PATH.
// A running container is reached through /proc/<pid>/root, so its volumes and tmpfs mounts are
// seen as its processes see them; a stopped one through its mounted root filesystem.
func (r *Runtime) CopyPath(ctx context.Context, src, dst string) error {
	sc, sp, sIn := splitCtrPath(src)
	dc, dp, dIn := splitCtrPath(dst)
	if sIn == dIn {
		return fmt.Errorf("copying needs exactly one side to be CONTAINER:PATH: %w", errdefs.ErrInvalid)
	}
	name, path := sc, sp
	if dIn {
		name, path = dc, dp
	}
	l, c, err := r.lookupAndLock(name)
	if err != nil {
		return err
	}
	defer l.Unlock()
	paths := map[string]string{}
	if c.Config.UserNS().Mode != model.NSModeHost {
		if err := r.namespacePaths(c, paths); err != nil {
			return err
		}
	}
	ns, err := r.openUserNS(c, paths)
	if err != nil {
		return err
	}
	defer ns.close()
	var root string
	if c.State.Active() && c.State.Pid > 0 {
		root = fmt.Sprintf("/proc/%d/root", c.State.Pid)
	} else {
		wasMounted := c.State.Mounted
		if root, err = r.mountRootfs(c, ns); err != nil {
			return err
		}
		if !wasMounted {
			defer r.unmountRootfs(c)
		}
	}
	inside := filepath.Join(root, filepath.Clean("/"+path))
	if sIn {
		return copyTree(inside, dst)
	}
	target := inside
	if st, err := os.Stat(inside); err == nil && st.IsDir() {
		target = filepath.Join(inside, filepath.Base(filepath.Clean(src)))
	}
	if err := copyTree(src, inside); err != nil {
		return err
	}
	if ns == nil {
		return nil
	}
	// In a user namespace, what the host's root copied in belongs to the container's root, as
	// its own files do (host IDs of no meaning inside would show as nobody).
	return filepath.WalkDir(target, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return chownToRoot(ns, p)
	})
}

func splitCtrPath(s string) (string, string, bool) {
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return "", s, false
	}
	c, p, ok := strings.Cut(s, ":")
	if !ok || c == "" {
		return "", s, false
	}
	return c, p, true
}

func copyTree(src, dst string) error {
	if _, err := os.Lstat(src); err != nil {
		return fmt.Errorf("%s: %w", src, errdefs.ErrNotFound)
	}
	out, err := cpupin.Command("cp", "-a", "--", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("copy: %s", strings.TrimSpace(string(out)))
	}
	return nil
}

// Attach connects streams to a running container until it exits, returning its exit code.
func (r *Runtime) Attach(ctx context.Context, nameOrID string, s *Streams) (int, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	if c.State.Status != model.StatusRunning {
		return 0, fmt.Errorf("you can only attach to running containers: %w", errdefs.ErrCtrStateInvalid)
	}
	conn, err := dialAttach(r.ctrRunDir(c.Config.ID))
	if err != nil {
		return 0, err
	}
	s.conn = conn
	return r.AttachWait(ctx, c, s)
}

// PortMappings returns the published ports of a container (its pod's, for a member that shares
// the pod's network).
func (r *Runtime) PortMappings(c *model.Container) []model.PortMapping {
	if ns := c.Config.NS(model.NSNet); ns.Mode == model.NSModeContainer {
		st, err := r.state()
		if err == nil {
			if infra, err := st.Container(ns.Value); err == nil {
				return infra.Config.Network.Ports
			}
		}
	}
	return c.Config.Network.Ports
}

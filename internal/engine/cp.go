package engine

import (
	"context"
	"fmt"
	"os"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// CopyPath copies between the host and a container: src or dst (not both) is CONTAINER:PATH.
// A running container is reached through /proc/<pid>/root, so its volumes and tmpfs mounts are
// seen as its processes see them; a stopped one through its mounted root filesystem. The copy
// itself runs chroot'ed in that root (copier.go): no link of the container's leads out of it.
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
	running := c.State.Active() && c.State.Pid > 0
	nsPath := ""
	if running {
		nsPath = fmt.Sprintf("/proc/%d/ns/user", c.State.Pid)
	}
	ns, err := r.openUserNS(c, nsPath)
	if err != nil {
		return err
	}
	defer ns.close()
	var root string
	if running {
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
	if sIn {
		return copyOut(root, path, dst)
	}
	if _, err := os.Lstat(src); err != nil {
		return fmt.Errorf("%s: %w", src, errdefs.ErrNotFound)
	}
	// What is copied in belongs to the container's user, as in podman: its host IDs through
	// the container's mappings when it has a user namespace.
	uid, gid, _, _, err := lookupUser(root, c.Config.User)
	if err != nil {
		return err
	}
	if ns != nil {
		if uid, gid, err = ns.hostIDs(uid, gid); err != nil {
			return err
		}
	}
	return copyIn(root, src, path, &[2]uint32{uid, gid})
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

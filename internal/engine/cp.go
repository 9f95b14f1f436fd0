package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// CopyPath copies between the host and a container: src or dst (not both) is CONTAINER:PATH.
// A running container is reached through /proc/<pid>/root, so its volumes and tmpfs mounts are
// seen as its processes see them; a stopped one through its mounted root filesystem. The copy
// itself runs chroot'ed in that root (copier.go): no link of the container's leads out of it.
func (r *Runtime) CopyPath(ctx context.Context, src, dst string) error {
	return r.CopyPathWith(ctx, src, dst, CopyOptions{})
}

// CopyOptions change how CopyPathWith copies.
type CopyOptions struct {
	// Overwrite (cp --overwrite) lets a directory replace a file and a file a directory (the
	// directory's tree removed) at the destination.
	Overwrite bool
	// KeepOwners (cp --archive=false) leaves what is copied into a container the owners the
	// source's files have, instead of the container's user. A container with a user namespace
	// still gets its user's: the source's IDs mean nothing in it.
	KeepOwners bool
	// NoFollow copies a link the container's path names as the link (Docker's cp without
	// -L), rather than what it leads to (podman's cp).
	NoFollow bool
}

// CopyPathWith is CopyPath as o says.
func (r *Runtime) CopyPathWith(ctx context.Context, src, dst string, o CopyOptions) error {
	sc, sp, sIn := splitCtrPath(src)
	dc, dp, dIn := splitCtrPath(dst)
	if sIn == dIn {
		return fmt.Errorf("copying needs exactly one side to be CONTAINER:PATH: %w", errdefs.ErrInvalid)
	}
	name, path := sc, sp
	if dIn {
		name, path = dc, dp
	}
	return r.inContainerRoot(name, path, func(c *model.Container, ns *userNS, root, fsRoot, path string) error {
		if sIn {
			return copyOut(root, path, dst, o.Overwrite, o.NoFollow)
		}
		if _, err := os.Lstat(src); err != nil {
			return fmt.Errorf("%s: %w", src, errdefs.ErrNotFound)
		}
		if o.KeepOwners && ns == nil {
			return copyIn(root, src, path, nil, o.Overwrite)
		}
		// What is copied in belongs to the container's user, as in podman: its host IDs
		// through the container's mappings when it has a user namespace.
		uid, gid, _, _, err := lookupUser(fsRoot, c.Config.User)
		if err != nil {
			return err
		}
		if ns != nil {
			if uid, gid, err = ns.hostIDs(uid, gid); err != nil {
				return err
			}
		}
		return copyIn(root, src, path, &[2]uint32{uid, gid}, o.Overwrite)
	})
}

// PathStat describes a path in a container (Docker's archive stat: its mode is Go's
// os.FileMode bits).
type PathStat struct {
	Name       string    `json:"name"`
	Size       int64     `json:"size"`
	Mode       uint32    `json:"mode"`
	Mtime      time.Time `json:"mtime"`
	LinkTarget string    `json:"linkTarget"`
}

// StatPath describes path in a container, as its processes see it (a link is not followed;
// LinkTarget is where it leads), from a copier process chroot'ed in its root.
func (r *Runtime) StatPath(ctx context.Context, nameOrID, path string) (*PathStat, error) {
	var st *PathStat
	err := r.inContainerRoot(nameOrID, path, func(_ *model.Container, _ *userNS, root, _, path string) error {
		var out strings.Builder
		if err := runCopier([]string{CopierArg, "stat", root, path}, &out); err != nil {
			return err
		}
		st = &PathStat{}
		return json.Unmarshal([]byte(out.String()), st)
	})
	return st, err
}

// inContainerRoot locks the container and calls f with the root its processes see: a running
// container's /proc/<pid>/root (with its mounts), or a stopped one's root filesystem, mounted
// for the call. For a stopped container, root and path are moved to the source of a volume
// or bind that path is below; fsRoot stays the root filesystem.
func (r *Runtime) inContainerRoot(name, path string, f func(c *model.Container, ns *userNS, root, fsRoot, path string) error) error {
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
	fsRoot := root
	if !running {
		root, path = r.mountedAt(c, root, path)
	}
	return f(c, ns, root, fsRoot, path)
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

// mountedAt returns where path of stopped container c is: below the destination of one of its
// volume or bind mounts (the deepest), the mount's source and the rest of the path; else root
// (its root filesystem) and path. The match is by the path as written: a link of the
// container's that leads into a mount is followed in the root filesystem.
func (r *Runtime) mountedAt(c *model.Container, root, path string) (string, string) {
	clean := filepath.Clean("/" + path)
	best, bestRoot, rest := "", root, path
	for _, m := range r.resolveMounts(c.Config.Mounts) {
		if m.Type == "tmpfs" || m.Source == "" {
			continue
		}
		dest := filepath.Clean(m.Destination)
		if clean != dest && !strings.HasPrefix(clean, dest+"/") || len(dest) <= len(best) {
			continue
		}
		best, bestRoot = dest, m.Source
		rest = "/" + strings.TrimPrefix(strings.TrimPrefix(clean, dest), "/")
		if strings.HasSuffix(path, "/.") {
			rest = strings.TrimSuffix(rest, "/") + "/."
		} else if strings.HasSuffix(path, "/") && rest != "/" {
			rest += "/"
		}
	}
	return bestRoot, rest
}

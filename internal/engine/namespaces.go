package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// namespacePaths fills paths with the namespace files c joins: /proc/<pid>/ns/<kind> of the
// container it shares with (a pod's infra container), or a file given by path. starting, when
// not nil, is the gate of an infra container whose start goes on (its process made, not yet
// recorded running): c joins that process's namespaces.
func (r *Runtime) namespacePaths(c *model.Container, paths map[string]string, starting *infraGate) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	for kind, ns := range c.Config.Namespaces {
		switch ns.Mode {
		case model.NSModePath:
			paths[kind] = ns.Value
		case model.NSModeContainer:
			if starting != nil && starting.pid != 0 && ns.Value == starting.id {
				paths[kind] = starting.nsPath(kind)
				continue
			}
			dep, err := st.Container(ns.Value)
			if err != nil {
				return fmt.Errorf("%s namespace: %w", kind, err)
			}
			if _, done := r.exited(dep); done || !dep.State.Active() || dep.State.Pid == 0 {
				return fmt.Errorf("container %s joins the %s namespace of %s, which is not running: %w", c.Config.Name, kind, dep.Config.Name, errdefs.ErrCtrStateInvalid)
			}
			if kind == model.NSNet && dep.State.NetNS != "" {
				paths[kind] = dep.State.NetNS
				continue
			}
			paths[kind] = filepath.Join("/proc", fmt.Sprint(dep.State.Pid), "ns", procNSName(kind))
		}
	}
	return nil
}

func procNSName(kind string) string {
	if kind == model.NSMount {
		return "mnt"
	}
	return kind
}

// cgroupsPath is where the runtime puts the container's cgroup: under its pod's cgroup, its
// own --cgroup-parent, or pea's default parent.
func (r *Runtime) cgroupsPath(c *model.Container) (string, error) {
	parent := c.Config.CgroupParent
	if parent == "" {
		parent = defaultCgroupParent
	}
	return filepath.Join(parent, "pea-"+c.Config.ID), nil
}

// CgroupPathOf is the cgroup c's processes run in (podman's State.CgroupPath).
func (r *Runtime) CgroupPathOf(c *model.Container) string {
	p, _ := r.cgroupsPath(c)
	return p
}

// defaultCgroupParent is the cgroup (in every hierarchy) under which pea puts its containers
// and pods.
const defaultCgroupParent = "/pea"

// NamespaceIDs returns the inode numbers of the namespaces of process pid (ps --ns), by kind:
// cgroup, ipc, mnt, net, pid, user, uts. A kind that cannot be read is left out.
func NamespaceIDs(pid int) map[string]string {
	out := make(map[string]string, 7)
	for _, kind := range []string{model.NSCgroup, model.NSIpc, model.NSMount, model.NSNet, model.NSPid, model.NSUser, model.NSUts} {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, procNSName(kind)))
		if err != nil {
			continue
		}
		// "net:[4026531840]"
		if _, rest, ok := strings.Cut(link, ":["); ok {
			out[kind] = strings.TrimSuffix(rest, "]")
		}
	}
	return out
}

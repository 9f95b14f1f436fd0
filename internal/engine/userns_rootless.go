package engine

// User namespaces of a rootless container's own (--userns keep-id, nomap, auto, --uidmap).
//
// A rootless pea is root of the user's namespace (internal/rootless), whose IDs are 0 (the user)
// and 1... (the user's subordinate IDs): a rootless container's mappings take their host IDs
// from those, as podman's do. The image's layers were unpacked in that namespace with the
// image's own IDs (root's files belong to 0, the user), so a container whose namespace maps its
// root elsewhere would see its image's files shifted, and could not write its own root
// filesystem. As root, pea mounts ID-mapped views of the layers (userns.go); Linux lets only the
// host's root make those of host file systems. A rootless pea mounts such a container's root
// filesystem with fuse-overlayfs instead, whose uidmapping and gidmapping options present every
// file's owner through the container's mappings (container ID on disk, pea's ID in the mount;
// in reverse for what the container writes). So the upper directory holds the container's own
// IDs: commit and diff read it as it is, where a root pea's upper directory holds host IDs.
//
// keep-id maps the user's own ID to itself (or to uid=/gid=), container IDs below it to the
// subordinate IDs 1..., and those above to the same IDs; the container's process runs as the
// user by default, and /etc/passwd and /etc/group get the user's lines when the image lacks
// them. nomap maps the subordinate IDs alone, from container root.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/rootless"
)

// rootlessAutoSize is the number of IDs a rootless --userns auto maps without size=: podman's
// smallest automatic size, which leaves a user's usual 65536 subordinate IDs to 64 containers.
const rootlessAutoSize = 1024

// parseRootlessUserNS parses --userns keep-id[:uid=N,gid=N] and nomap of a rootless pea.
func parseRootlessUserNS(v string) (model.Namespace, error) {
	if v == model.UserNSNoMap {
		return model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSNoMap}, nil
	}
	ns := model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSKeepID}
	opts, _ := strings.CutPrefix(strings.TrimPrefix(v, model.UserNSKeepID), ":")
	if opts == "" {
		return ns, nil
	}
	var uid, gid string
	for _, o := range strings.Split(opts, ",") {
		k, val, _ := strings.Cut(o, "=")
		if _, err := strconv.ParseUint(val, 10, 32); err != nil || (k != "uid" && k != "gid") {
			return model.Namespace{}, fmt.Errorf("invalid --userns keep-id option %q (uid=N, gid=N): %w", o, errdefs.ErrInvalid)
		}
		if k == "uid" {
			uid = val
		} else {
			gid = val
		}
	}
	var set []string
	if uid != "" {
		set = append(set, "uid="+uid)
	}
	if gid != "" {
		set = append(set, "gid="+gid)
	}
	ns.Value += ":" + strings.Join(set, ",")
	return ns, nil
}

// keepID returns the IDs a keep-id namespace ns maps the user to (its own unless uid= or gid=
// say otherwise), and whether they are the user's own (no option given); ok is false for any
// other namespace.
func keepID(ns model.Namespace) (uid, gid uint32, own, ok bool) {
	if ns.Mode != model.NSModePrivate || (ns.Value != model.UserNSKeepID && !strings.HasPrefix(ns.Value, model.UserNSKeepID+":")) {
		return 0, 0, false, false
	}
	uid, gid = uint32(rootless.HostUID()), uint32(rootless.HostGID())
	opts, _ := strings.CutPrefix(ns.Value, model.UserNSKeepID+":")
	for _, o := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(o, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		switch {
		case err != nil:
		case k == "uid":
			uid = uint32(n)
		case k == "gid":
			gid = uint32(n)
		}
	}
	return uid, gid, ns.Value == model.UserNSKeepID, true
}

// keepIDMap maps container ID id to pea's 0 (the user), the IDs below it to the subordinate
// IDs 1..., and those above it to the same subordinate IDs, as far as the sub subordinate IDs
// reach.
func keepIDMap(id, sub uint32) []model.IDMap {
	var m []model.IDMap
	if n := min(id, sub); n > 0 {
		m = append(m, model.IDMap{ContainerID: 0, HostID: 1, Size: n})
	}
	m = append(m, model.IDMap{ContainerID: id, HostID: 0, Size: 1})
	if sub > id {
		m = append(m, model.IDMap{ContainerID: id + 1, HostID: id + 1, Size: sub - id})
	}
	return m
}

// rootlessMappings readies a rootless container's user namespace at its creation: keep-id and
// nomap get their mappings (auto gets them later, pickAutoMappings), --uidmap and --gidmap are
// checked against the IDs pea's namespace has, a namespace file is refused (its mappings,
// which the root filesystem needs, cannot be known), and a pod member of a keep-id pod runs as
// the user, as a keep-id container does.
func rootlessMappings(cfg *model.ContainerConfig, pod *model.Pod) error {
	ns := cfg.UserNS()
	nu, ng := rootless.IDCounts()
	if pod != nil && ns.Mode == model.NSModeContainer && pod.Config.ShareUser {
		if uid, gid, _, ok := keepID(pod.Config.UserNS); ok && cfg.User == "" {
			cfg.User = fmt.Sprintf("%d:%d", uid, gid)
		}
	}
	switch ns.Mode {
	case model.NSModePath:
		return fmt.Errorf("--userns ns:%s: a rootless pea cannot tell a namespace file's mappings, which the container's root filesystem needs: %w", ns.Value, errdefs.ErrInvalid)
	case model.NSModePrivate:
	default:
		return nil
	}
	if uid, gid, _, ok := keepID(ns); ok {
		if nu <= 1 || ng <= 1 {
			return fmt.Errorf("keep-id requires additional UIDs or GIDs defined in /etc/subuid and /etc/subgid to function correctly: %w", errdefs.ErrInvalid)
		}
		cfg.UIDMap, cfg.GIDMap = keepIDMap(uid, nu-1), keepIDMap(gid, ng-1)
		if cfg.User == "" && !cfg.IsInfra {
			cfg.User = fmt.Sprintf("%d:%d", uid, gid)
		}
	} else if ns.Value == model.UserNSNoMap {
		if nu <= 1 || ng <= 1 {
			return fmt.Errorf("nomap requires additional UIDs or GIDs defined in /etc/subuid and /etc/subgid to function correctly: %w", errdefs.ErrInvalid)
		}
		cfg.UIDMap = []model.IDMap{{ContainerID: 0, HostID: 1, Size: nu - 1}}
		cfg.GIDMap = []model.IDMap{{ContainerID: 0, HostID: 1, Size: ng - 1}}
	}
	for _, c := range []struct {
		flag  string
		maps  []model.IDMap
		count uint32
	}{{"--uidmap", cfg.UIDMap, nu}, {"--gidmap", cfg.GIDMap, ng}} {
		for _, m := range c.maps {
			if uint64(m.HostID)+uint64(m.Size) > uint64(c.count) {
				return fmt.Errorf("%s %s: a rootless container's host IDs are those of the user's namespace, 0 (the user) to %d (its subordinate IDs in /etc/subuid and /etc/subgid): %w",
					c.flag, FormatIDMap(m), c.count-1, errdefs.ErrInvalid)
			}
		}
	}
	return fuseUsable()
}

// fuseUsable checks that fuse-overlayfs can mount a root filesystem here.
func fuseUsable() error {
	if _, err := exec.LookPath("fuse-overlayfs"); err != nil {
		return fmt.Errorf("a rootless container with a user namespace of its own gets its root filesystem from fuse-overlayfs, which is not installed: %w", errdefs.ErrInvalid)
	}
	if err := unix.Access("/dev/fuse", unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("a rootless container with a user namespace of its own gets its root filesystem from fuse-overlayfs, which needs /dev/fuse (mode 0666): %w: %w", err, errdefs.ErrInvalid)
	}
	return nil
}

// rootlessUserNS is openUserNS of a rootless pea: the container's mappings (its own, or those
// of the container whose namespace it joins), nil for pea's own namespace (also when it joins
// a container that runs in that one).
func (r *Runtime) rootlessUserNS(cfg *model.ContainerConfig) (*userNS, error) {
	switch cfg.UserNS().Mode {
	case model.NSModeHost:
		return nil, nil
	case model.NSModePath:
		return nil, fmt.Errorf("container %s: a rootless pea cannot tell a namespace file's mappings: %w", cfg.Name, errdefs.ErrInvalid)
	}
	uidMap, gidMap := r.IDMappings(cfg)
	if len(uidMap) == 0 || len(gidMap) == 0 {
		return nil, nil // it joins a container that runs in pea's own namespace
	}
	u := &userNS{fd: -1, uidMap: uidMap, gidMap: gidMap}
	var err error
	if u.uid, u.gid, err = u.hostIDs(0, 0); err != nil {
		return nil, fmt.Errorf("user namespace of %s: container root: %w", cfg.Name, err)
	}
	if containerID(uidMap, 0) == 65534 {
		// Container root is not the user, whose directories the path to the root filesystem
		// leads through, and which may be the user's alone (keep-id's container root may
		// enter them: the user is in its namespace).
		if err := r.openStorePath(); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// fuseIDMapping writes mappings as fuse-overlayfs's uidmapping and gidmapping take them: the
// triples CONTAINER:HOST:SIZE one after another, colon-separated (a comma would end the option).
func fuseIDMapping(maps []model.IDMap) string {
	parts := make([]string, len(maps))
	for i, m := range maps {
		parts[i] = FormatIDMap(m)
	}
	return strings.Join(parts, ":")
}

// mountFuseOverlay mounts lower (top first), upper and work on merged with fuse-overlayfs,
// owners shifted by ns's mappings; volatile skips every fsync (a --rm container's, as the
// kernel overlay's volatile option). fuse-overlayfs returns once the mount is made and serves
// it from a daemon of its own that ends when the mount goes (unmountRootfs).
func mountFuseOverlay(lower []string, upper, work, merged string, ns *userNS, volatile bool) error {
	for _, d := range append([]string{upper, work, merged}, lower...) {
		if strings.ContainsAny(d, ",:") {
			return fmt.Errorf("fuse-overlayfs cannot take the path %s (a comma or colon): %w", d, errdefs.ErrInvalid)
		}
	}
	opts := "lowerdir=" + strings.Join(lower, ":") + ",upperdir=" + upper + ",workdir=" + work +
		",uidmapping=" + fuseIDMapping(ns.uidMap) + ",gidmapping=" + fuseIDMapping(ns.gidMap)
	if volatile {
		opts += ",volatile"
	}
	cmd := cpupin.Command("fuse-overlayfs", "-o", opts, merged)
	cmd.Dir = "/"
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("fuse-overlayfs: %s: %w", strings.TrimSpace(string(out)), err)
	}
	if !isMountpoint(merged) {
		return fmt.Errorf("fuse-overlayfs exited without mounting %s: %s", merged, strings.TrimSpace(string(out)))
	}
	return nil
}

// keepIDUser returns the /etc/passwd and /etc/group lines of the user that a keep-id container
// without uid=/gid= gets when the image's files lack the user (by name or ID) and the group:
// the user's name, ID, group ID and comment from the host's /etc/passwd, home the container's
// working directory; the group's name from the host's /etc/group, the user its member. Both ""
// for any other container, with --passwd=false, or when the host has no line of the user.
func keepIDUser(cfg *model.ContainerConfig, passwd, group [][]string) (pwLine, grLine string) {
	uid, gid, own, ok := keepID(cfg.UserNS())
	if !ok || !own || cfg.NoPasswd {
		return "", ""
	}
	f := strings.Split(hostPasswdLine(strconv.FormatUint(uint64(uid), 10)), ":")
	if len(f) < 7 || f[2] != strconv.FormatUint(uint64(uid), 10) {
		return "", ""
	}
	name, gecos := f[0], f[4]
	has := func(lines [][]string, name, id string) bool {
		for _, l := range lines {
			if len(l) >= 3 && (l[0] == name || l[2] == id) {
				return true
			}
		}
		return false
	}
	if !has(passwd, name, f[2]) {
		home := cfg.WorkingDir
		if home == "" {
			home = "/"
		}
		pwLine = fmt.Sprintf("%s:*:%d:%d:%s:%s:/bin/sh", name, uid, gid, gecos, home)
	}
	gidStr := strconv.FormatUint(uint64(gid), 10)
	if gname := hostGroupName(gidStr); gname != "" && !has(group, gname, gidStr) {
		grLine = fmt.Sprintf("%s:x:%d:%s", gname, gid, name)
	}
	return pwLine, grLine
}

// hostGroupName is the name of group gid in the host's /etc/group ("" without one).
func hostGroupName(gid string) string {
	data, err := os.ReadFile("/etc/group")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Split(line, ":"); len(f) >= 3 && f[2] == gid {
			return f[0]
		}
	}
	return ""
}

// groupFile writes a copy of the image's /etc/group with line added in the container's etc
// directory and returns its path ("" when line is).
func (r *Runtime) groupFile(cfg *model.ContainerConfig, rootfs, line string, ns *userNS) (string, error) {
	if line == "" {
		return "", nil
	}
	return r.etcFileWith(cfg, rootfs, "group", []string{line}, ns)
}

// keepIDFiles gives a keep-id container its user, as podman does: the /etc/passwd line that
// passwdFile adds (returned), the /etc/group file, the home of that line when the process runs
// as the user, and the user's group among the process's groups (whoever it runs as).
func (r *Runtime) keepIDFiles(cfg *model.ContainerConfig, rootfs string, in *specInputs, ns *userNS) (string, error) {
	uid, gid, _, ok := keepID(cfg.UserNS())
	if !ok {
		return "", nil
	}
	if !slices.Contains(in.groups, gid) {
		in.groups = append(in.groups, gid)
	}
	pw, gr := keepIDUser(cfg, readColonFile(rootfs, "etc/passwd"), readColonFile(rootfs, "etc/group"))
	if f := strings.Split(pw, ":"); len(f) == 7 && in.uid == uid {
		in.home = f[5]
	}
	f, err := r.groupFile(cfg, rootfs, gr, ns)
	if err != nil {
		return "", err
	}
	if f != "" && !userMounts(cfg, "/etc/group") {
		in.etcFiles["/etc/group"] = f
	}
	return pw, nil
}

// awaitCommand waits, for at most a second, until process pid of container id has become the
// container's command. Until then it is the runtime's init finishing the container's set-up
// (crun create's command line names the container), which in a rootless container with a user
// namespace of its own can take milliseconds after the start returned (its files are closed
// and its command opened through fuse-overlayfs). Having changed to the container's user, that
// process is not dumpable, and crun exec, which joins the container's user namespace before
// its other namespaces, is refused the second join (EPERM, from the kernel's ptrace check; seen
// with keep-id, whose user is pea's own ID, in about one exec in ten right after a start).
func awaitCommand(pid int, id string) {
	mark := []byte("\x00" + id + "\x00")
	deadline := time.Now().Add(time.Second)
	for {
		b, err := fsx.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.Contains(b, mark) || time.Now().After(deadline) {
			return
		}
		cpupin.Sleep(time.Millisecond)
	}
}

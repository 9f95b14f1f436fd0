package engine

// User namespaces. A container runs in the host's (the default), in one of its own with the ID
// mappings of --uidmap/--gidmap, or in another's (--userns container:ID or ns:PATH; a pod's
// members join the infra container's, and the pod's --uidmap/--gidmap make the infra's).
//
// The image's files belong to host IDs (0 for root). Seen from a namespace that maps container
// root to host 100000 they would belong to nobody, and the container's root could not write its
// own root filesystem. pea mounts the overlay on ID-mapped views of the layers instead
// (mount_setattr(MOUNT_ATTR_IDMAP) with the container's user namespace; overlayfs takes such
// layers since Linux 5.19): a file owned by 0 on disk shows as the host ID container root maps
// to, and is copied up as such; new files land in the upper directory with the host IDs of
// their creators, and the upper directory itself belongs to mapped root. No layer is copied or
// chowned, and the views are unmounted as soon as the overlay holds them. A rootless pea may
// not make ID-mapped mounts of host file systems: its containers' root filesystems are
// fuse-overlayfs's (userns_rootless.go).

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/rootless"
)

// holdUserNSArg is the argument that makes the pea binary wait, before its Go runtime starts,
// until its standard input closes (cmd/pea): started in a new user namespace with the mappings
// written, it holds that namespace while its file is opened (newUserNS).
const holdUserNSArg = "__pea-hold-userns"

// maxIDMapLines is the kernel's limit of lines in a uid_map or gid_map.
const maxIDMapLines = 340

// ParseIDMaps parses --uidmap and --gidmap values, CONTAINER_ID:HOST_ID:SIZE each. One side
// given alone serves for both, as in podman.
func ParseIDMaps(uidSpecs, gidSpecs []string) (uid, gid []model.IDMap, err error) {
	if uid, err = parseIDMapList("--uidmap", uidSpecs); err != nil {
		return nil, nil, err
	}
	if gid, err = parseIDMapList("--gidmap", gidSpecs); err != nil {
		return nil, nil, err
	}
	switch {
	case len(gid) == 0:
		gid = uid
	case len(uid) == 0:
		uid = gid
	}
	return uid, gid, nil
}

func parseIDMapList(flag string, list []string) ([]model.IDMap, error) {
	var out []model.IDMap
	for _, s := range list {
		parts := strings.Split(s, ":")
		var v [3]uint32
		ok := len(parts) == 3
		for i := 0; ok && i < 3; i++ {
			n, err := strconv.ParseUint(parts[i], 10, 32)
			ok = err == nil
			v[i] = uint32(n)
		}
		if !ok {
			return nil, fmt.Errorf("invalid %s %q: want CONTAINER_ID:HOST_ID:SIZE, three numbers below 2^32: %w", flag, s, errdefs.ErrInvalid)
		}
		m := model.IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]}
		switch {
		case m.Size == 0:
			return nil, fmt.Errorf("invalid %s %q: the size must be at least 1: %w", flag, s, errdefs.ErrInvalid)
		case uint64(m.ContainerID)+uint64(m.Size) > math.MaxUint32 || uint64(m.HostID)+uint64(m.Size) > math.MaxUint32:
			return nil, fmt.Errorf("invalid %s %q: a range must end below %d: %w", flag, s, uint32(math.MaxUint32), errdefs.ErrInvalid)
		}
		for _, o := range out {
			if overlaps(m.ContainerID, o.ContainerID, m.Size, o.Size) || overlaps(m.HostID, o.HostID, m.Size, o.Size) {
				return nil, fmt.Errorf("invalid %s %q: it overlaps %s (ranges may not share an ID on either side): %w", flag, s, FormatIDMap(o), errdefs.ErrInvalid)
			}
		}
		out = append(out, m)
	}
	if len(out) > maxIDMapLines {
		return nil, fmt.Errorf("%d %s ranges: the kernel takes at most %d: %w", len(out), flag, maxIDMapLines, errdefs.ErrInvalid)
	}
	return out, nil
}

func overlaps(a, b, na, nb uint32) bool {
	return uint64(a) < uint64(b)+uint64(nb) && uint64(b) < uint64(a)+uint64(na)
}

// FormatIDMap writes m as --uidmap takes it (and podman's inspect shows it).
func FormatIDMap(m model.IDMap) string {
	return fmt.Sprintf("%d:%d:%d", m.ContainerID, m.HostID, m.Size)
}

// mapsID reports whether id (inside the namespace) has a host ID under maps.
func mapsID(maps []model.IDMap, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// hostIDOf is the host ID that ID id inside a user namespace with maps is; without maps (the
// host's namespace), or an ID they leave out, id itself.
func hostIDOf(maps []model.IDMap, id uint32) uint32 {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return m.HostID + (id - m.ContainerID)
		}
	}
	return id
}

// containerID returns the ID inside a user namespace with maps that host ID host is; one the
// maps leave out is the kernel's overflow ID, 65534, as the kernel shows it.
func containerID(maps []model.IDMap, host uint32) uint32 {
	for _, m := range maps {
		if host >= m.HostID && uint64(host) < uint64(m.HostID)+uint64(m.Size) {
			return m.ContainerID + host - m.HostID
		}
	}
	return 65534
}

// ParseUserNS turns --userns into the user namespace setting: host (or empty) for the host's,
// auto for one of its own with host IDs pea picks (userns_auto.go), keep-id or nomap for a
// rootless one whose mappings follow from the user's (userns_rootless.go), container:ID or
// ns:PATH to join one. A namespace of the container's own with given mappings comes with --uidmap and
// --gidmap, which cannot be combined with --userns.
func ParseUserNS(v string, hasMaps bool) (model.Namespace, error) {
	if v != "" && hasMaps {
		return model.Namespace{}, fmt.Errorf("--userns and --uidmap/--gidmap are mutually exclusive: %w", errdefs.ErrInvalid)
	}
	switch {
	case hasMaps:
		return model.Namespace{Mode: model.NSModePrivate}, nil
	case v == "" || v == "host":
		return model.Namespace{Mode: model.NSModeHost}, nil
	case v == "auto" || strings.HasPrefix(v, "auto:"):
		return parseAutoUserNS(strings.TrimPrefix(strings.TrimPrefix(v, "auto"), ":"))
	case (v == "keep-id" || strings.HasPrefix(v, "keep-id:") || v == "nomap") && rootless.Active():
		return parseRootlessUserNS(v)
	case v == "keep-id" || strings.HasPrefix(v, "keep-id:") || v == "nomap":
		return model.Namespace{}, fmt.Errorf("--userns %s is only for rootless mode; as root, give the mappings with --uidmap and --gidmap: %w", v, errdefs.ErrInvalid)
	case strings.HasPrefix(v, "container:") && len(v) > len("container:"):
		return model.Namespace{Mode: model.NSModeContainer, Value: strings.TrimPrefix(v, "container:")}, nil
	case strings.HasPrefix(v, "ns:") && len(v) > len("ns:"):
		p := strings.TrimPrefix(v, "ns:")
		if _, err := os.Stat(p); err != nil {
			return model.Namespace{}, fmt.Errorf("--userns %s: cannot find the user namespace file: %w", v, errdefs.ErrNotFound)
		}
		return model.Namespace{Mode: model.NSModePath, Value: p}, nil
	}
	return model.Namespace{}, fmt.Errorf("invalid --userns %q (host, auto[:size=N], container:ID, ns:PATH; or --uidmap/--gidmap for a namespace of its own): %w", v, errdefs.ErrInvalid)
}

// userNS is the user namespace a starting container's processes run in, held open for the
// ID-mapped mounts of its root filesystem. A rootless pea makes no ID-mapped mounts: it knows
// the namespace by its mappings alone (fd -1), and its root filesystem is fuse-overlayfs's
// (userns_rootless.go).
type userNS struct {
	fd       int
	uid, gid uint32 // the host IDs container root is
	probeDir string // where hostIDs may make its probe
	// uidMap and gidMap are a rootless container's mappings, whose host IDs are those of pea's
	// own user namespace.
	uidMap, gidMap []model.IDMap
}

func (u *userNS) close() {
	if u != nil && u.fd >= 0 {
		unix.Close(u.fd)
	}
}

// fuse reports whether the container's root filesystem is a fuse-overlayfs mount that shifts
// the layers' owners (a rootless container with a user namespace of its own).
func (u *userNS) fuse() bool { return u != nil && u.fd < 0 }

// openUserNS returns the user namespace container c runs in, or nil for the host's. nsPath is
// the file of the namespace it joins, when it joins one that exists now (namespacePaths); a
// container that joins another's (a pod member, --userns container:X) that is not running, as
// `cp` into a stopped pod member finds it, gets a namespace with the mappings of the container
// that has them, which maps every ID the same way.
func (r *Runtime) openUserNS(c *model.Container, nsPath string) (*userNS, error) {
	cfg := c.Config
	if rootless.Active() {
		return r.rootlessUserNS(cfg)
	}
	var fd int
	var err error
	switch ns := cfg.UserNS(); {
	case ns.Mode == model.NSModeHost:
		return nil, nil
	case ns.Mode == model.NSModePrivate:
		fd, err = newUserNS(cfg.UIDMap, cfg.GIDMap)
	case nsPath != "":
		fd, err = unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	case ns.Mode == model.NSModePath:
		fd, err = unix.Open(ns.Value, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	default:
		var owner *model.ContainerConfig
		if owner, err = r.userNSOwner(cfg); err == nil {
			fd, err = newUserNS(owner.UIDMap, owner.GIDMap)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("user namespace of %s: %w", cfg.Name, err)
	}
	if err := r.openStorePath(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	u := &userNS{fd: fd, probeDir: r.ctrDir(cfg.ID)}
	if u.uid, u.gid, err = u.hostIDs(0, 0); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("user namespace of %s: %w", cfg.Name, err)
	}
	return u, nil
}

// IDMappings returns the mappings of the user namespace a container with cfg runs in: its
// own, or those of the container whose namespace it joins (a pod member's are the infra
// container's); none for the host's or a namespace file's.
func (r *Runtime) IDMappings(cfg *model.ContainerConfig) (uid, gid []model.IDMap) {
	if m := cfg.UserNS().Mode; m != model.NSModePrivate && m != model.NSModeContainer {
		return nil, nil
	}
	owner, err := r.userNSOwner(cfg)
	if err != nil {
		return nil, nil
	}
	return owner.UIDMap, owner.GIDMap
}

// userNSOwner follows the containers whose user namespace cfg joins to the one that has it
// with mappings of its own.
func (r *Runtime) userNSOwner(cfg *model.ContainerConfig) (*model.ContainerConfig, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	for range 16 {
		ns := cfg.UserNS()
		switch ns.Mode {
		case model.NSModePrivate:
			return cfg, nil
		case model.NSModeContainer:
			dep, err := st.Container(ns.Value)
			if err != nil {
				return nil, err
			}
			cfg = dep.Config
			continue
		}
		return nil, fmt.Errorf("container %s, whose user namespace it joins, is not running and has no mappings of its own: %w", cfg.Name, errdefs.ErrCtrStateInvalid)
	}
	return nil, fmt.Errorf("too many containers joined in a chain: %w", errdefs.ErrInvalid)
}

// openStorePath lets everyone search (not list) the store and its containers directory: the
// runtime reaches a root filesystem under them as container root, a host ID of no privilege
// (containers/storage does the same for ID-mapped containers); the container's own directory
// is made 0711 and stays root's (mountRootfs). The directories above the store are not pea's
// to change: one that others cannot search is an error that says so, rather than the
// runtime's "Permission denied" on the root filesystem. A rootless pea opens those that are
// the user's (pea's 0) as well, as podman does.
func (r *Runtime) openStorePath() error {
	root, err := filepath.Abs(r.opts.Root)
	if err != nil {
		return err
	}
	for _, d := range []string{root, filepath.Join(root, "containers")} {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(d, st.Mode().Perm()|0o111); err != nil {
				return err
			}
		}
	}
	for d := filepath.Dir(root); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 && rootless.Active() && st.Sys().(*syscall.Stat_t).Uid == 0 {
			// The user's own (a home directory of mode 0700): opened as podman does.
			if err := os.Chmod(d, st.Mode().Perm()|0o011); err != nil {
				return err
			}
			continue
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the store %s is below %s (mode %04o), which only its owner may enter: a container in a user namespace could not reach its root filesystem; let others search it (chmod o+x): %w", root, d, st.Mode().Perm(), errdefs.ErrInvalid)
		}
		if d == "/" {
			return nil
		}
	}
}

// newUserNS makes a user namespace with the given mappings and returns a file descriptor of
// it: the pea binary, started in it (holdUserNSArg), holds it until the file is open.
func newUserNS(uidMap, gidMap []model.IDMap) (int, error) {
	conv := func(ms []model.IDMap) []syscall.SysProcIDMap {
		out := make([]syscall.SysProcIDMap, len(ms))
		for i, m := range ms {
			out[i] = syscall.SysProcIDMap{ContainerID: int(m.ContainerID), HostID: int(m.HostID), Size: int(m.Size)}
		}
		return out
	}
	cmd := cpupin.CommandPinned(selfExe(), holdUserNSArg) // it only waits
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: conv(uidMap), GidMappings: conv(gidMap), GidMappingsEnableSetgroups: true,
		Pdeathsig: syscall.SIGKILL,
	}
	hold, err := cmd.StdinPipe()
	if err != nil {
		return -1, err
	}
	if err := cpupin.StartPinned(cmd); err != nil {
		hold.Close()
		return -1, fmt.Errorf("making a user namespace with the mappings: %w", err)
	}
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/user", cmd.Process.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	hold.Close()
	cmd.Wait()
	return fd, err
}

// hostIDs returns the host IDs that uid and gid inside the namespace are: the owner of a
// directory that uid and gid own on disk, seen through a view of it ID-mapped by the namespace.
// It works for any namespace, joined ones included, whose mappings pea never wrote.
func (u *userNS) hostIDs(uid, gid uint32) (hostUID, hostGID uint32, err error) {
	if u.fd < 0 {
		if !mapsID(u.uidMap, uid) || !mapsID(u.gidMap, gid) {
			return 0, 0, fmt.Errorf("%d:%d is not mapped by the container's user namespace: %w", uid, gid, errdefs.ErrInvalid)
		}
		return hostIDOf(u.uidMap, uid), hostIDOf(u.gidMap, gid), nil
	}
	probe, err := os.MkdirTemp(u.probeDir, ".idprobe")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(probe)
	if err := os.Lchown(probe, int(uid), int(gid)); err != nil {
		return 0, 0, err
	}
	tree, err := idmappedTree(probe, u.fd)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Close(tree)
	var st unix.Stat_t
	if err := unix.Fstat(tree, &st); err != nil {
		return 0, 0, err
	}
	return st.Uid, st.Gid, nil
}

// idmappedTree returns a detached mount of path (not its submounts) whose IDs the user
// namespace usernsFD maps.
func idmappedTree(path string, usernsFD int) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("open_tree %s: %w", path, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(usernsFD)}
	if err := unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(tree)
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
			return -1, fmt.Errorf("an ID-mapped mount of %s: the file system or the kernel (5.19+) cannot make one: %w", path, err)
		}
		return -1, fmt.Errorf("an ID-mapped mount of %s: %w", path, err)
	}
	return tree, nil
}

// idmapMount mounts an ID-mapped view of src (see idmappedTree) on dst.
func idmapMount(src, dst string, usernsFD int) error {
	tree, err := idmappedTree(src, usernsFD)
	if err != nil {
		return err
	}
	defer unix.Close(tree)
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, dst, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("mount the ID-mapped view of %s on %s: %w", src, dst, err)
	}
	return nil
}

// idmappedLayers mounts ID-mapped views of the layer directories under dir/idmap, in the same
// order, for an overlay mount; the caller releases them (releaseIdmapViews) once the overlay is
// mounted, which holds its own references to them.
func idmappedLayers(dir string, layers []string, ns *userNS) ([]string, error) {
	base := idmapDir(dir)
	if !releaseIdmapViews(dir) { // an interrupted start's leftovers
		return nil, fmt.Errorf("%s: leftover mounts that will not go", base)
	}
	if err := os.Mkdir(base, 0o700); err != nil {
		return nil, err
	}
	views := make([]string, 0, len(layers))
	for i, l := range layers {
		v := filepath.Join(base, strconv.Itoa(i))
		err := os.Mkdir(v, 0o700)
		if err == nil {
			err = idmapMount(l, v, ns.fd)
		}
		if err != nil {
			releaseIdmapViews(dir)
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

func idmapDir(ctrDir string) string { return filepath.Join(ctrDir, "idmap") }

// releaseIdmapViews unmounts the ID-mapped layer views under container directory dir and
// removes their mount points, and reports whether none is left. Each view is the image's
// layer itself: it is only ever rmdir'ed, never deleted recursively, and a directory holding one
// must not be deleted (discardDir asks first).
func releaseIdmapViews(dir string) bool {
	base := idmapDir(dir)
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		return true
	}
	if err != nil {
		return false // not a directory of pea's (a link, say): touch nothing
	}
	names, err := dirNames(fd)
	unix.Close(fd)
	if err != nil {
		return false
	}
	for _, name := range names {
		v := filepath.Join(base, name)
		// Unmounted until it is not a mount point (EINVAL): a view is a bind mount on the
		// store's own file system, which a device number comparison cannot tell.
		for unix.Unmount(v, unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW) == nil {
		}
		unix.Rmdir(v) // EBUSY while still mounted: left, with the directory holding it
	}
	unix.Rmdir(base)
	_, err = os.Lstat(base)
	return os.IsNotExist(err)
}

// chownToRoot gives paths to container root of ns (nothing for the host's namespace).
func chownToRoot(ns *userNS, paths ...string) error {
	if ns == nil {
		return nil
	}
	for _, p := range paths {
		if err := os.Lchown(p, int(ns.uid), int(ns.gid)); err != nil {
			return err
		}
	}
	return nil
}

// chownMountSources gives the sources of the mounts with the U option, recursively, to the
// process user uid:gid of the container: its host IDs through ns when it has a user namespace.
func chownMountSources(mounts []model.Mount, ns *userNS, uid, gid uint32) error {
	for _, m := range mounts {
		if !m.ChownToUser || m.Type == "tmpfs" {
			continue
		}
		hu, hg := uid, gid
		if ns != nil {
			var err error
			if hu, hg, err = ns.hostIDs(uid, gid); err != nil {
				return err
			}
		}
		if err := chownTree(m.Source, int(hu), int(hg)); err != nil {
			return fmt.Errorf("U option of %s: %w", m.Destination, err)
		}
	}
	return nil
}

// chownTree gives path and everything below it to uid:gid. It walks directory descriptors
// opened O_NOFOLLOW (walkTree), not paths: a running container that shares the tree and swaps
// one of its directories for a link meanwhile cannot send the walk elsewhere.
func chownTree(path string, uid, gid int) error {
	if err := os.Lchown(path, uid, gid); err != nil {
		return err
	}
	err := walkTree(path, func(dfd int, name, rel string, _ *unix.Stat_t) (bool, error) {
		if err := unix.Fchownat(dfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return false, fmt.Errorf("%s: %w", rel, err)
		}
		return true, nil
	})
	if errors.Is(err, errWalkRoot) && (errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP)) {
		return nil // a file, or a link (changed itself above)
	}
	return err
}

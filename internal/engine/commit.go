package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/rootless"
)

// CommitOptions describe `pea commit`.
type CommitOptions struct {
	Ref     string   // the new image's name ("" leaves it untagged)
	Author  string   // --author
	Message string   // --message, the history entry's comment
	Changes []string // --change instructions applied to the new image's config
	// IncludeVolumes adds the container's volume destinations to the image's volumes.
	IncludeVolumes bool
	// Squash makes the image one layer: the container's whole root filesystem.
	Squash bool
}

// CommitContainer makes an image of a container: its image's layers and one more holding what
// the container changed (its overlay upper directory, whiteouts in the OCI layer format), with
// the container's command, environment, working directory, user and labels as the image's
// defaults, and --change on top.
func (r *Runtime) CommitContainer(ctx context.Context, nameOrID string, o CommitOptions) (*image.Image, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	cfg := c.Config
	if cfg.IsInfra {
		return nil, fmt.Errorf("container %s is a pod's infra container, which has nothing to commit: %w", cfg.Name, errdefs.ErrInvalid)
	}
	if cfg.IsService {
		return nil, fmt.Errorf("container %s is kube play's service container, which has nothing to commit: %w", cfg.Name, errdefs.ErrInvalid)
	}
	if cfg.Rootfs != "" {
		return nil, fmt.Errorf("container %s runs a root filesystem directory, not an image: %w", cfg.Name, errdefs.ErrInvalid)
	}
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	var base *image.Image
	var conf image.Config
	if cfg.Image != "" {
		if base, err = is.Lookup(cfg.Image); err != nil {
			return nil, fmt.Errorf("image of container %s: %w", cfg.Name, err)
		}
		conf = base.Config.Config
	}
	conf.Cmd, conf.Entrypoint, conf.Env = cfg.Cmd, cfg.Entrypoint, cfg.Env
	conf.WorkingDir, conf.User = cfg.WorkingDir, cfg.User
	if len(cfg.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range conf.Labels {
			labels[k] = v
		}
		for k, v := range cfg.Labels {
			labels[k] = v
		}
		conf.Labels = labels
	}
	if o.IncludeVolumes {
		for _, m := range cfg.Mounts {
			if m.Type != "volume" {
				continue
			}
			if conf.Volumes == nil {
				conf.Volumes = map[string]struct{}{}
			}
			conf.Volumes[m.Destination] = struct{}{}
		}
	}
	if err := image.ApplyChanges(&conf, numericStopSignal(o.Changes)); err != nil {
		return nil, err
	}
	// Host IDs of a user namespace's files are the container's own in the image. A rootless
	// pea's upper directories hold the container's own IDs already (fuse-overlayfs maps them
	// back as they are written; without a namespace of the container's own they are pea's).
	uidMap, gidMap := r.IDMappings(cfg)
	if rootless.Active() {
		uidMap, gidMap = nil, nil
	}
	pr, pw := io.Pipe()
	write := func() error { return writeChanges(pw, filepath.Join(r.ctrDir(cfg.ID), "upper"), uidMap, gidMap) }
	parent := base
	if o.Squash {
		// One layer of the whole tree, on no parent (the base's config is kept).
		write = func() error { return r.exportLocked(c, pw) }
		parent = nil
	}
	go func() { pw.CloseWithError(write()) }()
	img, err := is.Commit(parent, pr, conf, image.CommitOptions{Ref: o.Ref, Author: o.Author, Comment: o.Message,
		CreatedBy: "pea commit " + cfg.Name})
	pr.CloseWithError(io.ErrClosedPipe) // ends the writer if the store stopped reading early
	if err == nil {
		r.containerEvent(cfg, "commit", "imageID", img.ID)
	}
	return img, err
}

// writeChanges writes an overlay upper directory as a layer tar: an overlay whiteout (a 0:0
// character device) becomes a .wh. file, an opaque directory gets a .wh..wh..opq entry.
func writeChanges(w io.Writer, upper string, uidMap, gidMap []model.IDMap) error {
	return writeTree(w, upper, uidMap, gidMap, true)
}

// writeTree writes the tree at root as a tar, host IDs mapped to the container's (uidMap,
// gidMap; none: as they are); isUpper says that root is an overlay's upper directory (see
// writeChanges). The tree is a container's, which may change it meanwhile: it is walked by
// directory descriptors opened O_NOFOLLOW, a file is read only after its opened descriptor is
// checked to be the regular file listed (a FIFO or a device swapped in is never opened for
// reading), device nodes are written as nodes, never read, sockets are left out, and a file
// linked more than once is written once and linked.
func writeTree(w io.Writer, root string, uidMap, gidMap []model.IDMap, isUpper bool) error {
	tw := tar.NewWriter(w)
	t := &treeWriter{tw: tw, uidMap: uidMap, gidMap: gidMap, isUpper: isUpper, links: map[[2]uint64]string{}}
	if err := walkTree(root, t.entry); err != nil {
		if !isUpper || !errors.Is(err, unix.ENOENT) || !errors.Is(err, errWalkRoot) {
			return err
		}
		// never started: no changes
	}
	return tw.Close()
}

// errWalkRoot marks walkTree's failure to open the root itself.
var errWalkRoot = errors.New("the tree's root")

// walkTree calls visit for every entry below root, a directory before its entries, names
// sorted, by directory descriptors opened O_NOFOLLOW: a tree that a container changes meanwhile
// (swapping a directory for a link) cannot lead the walk out of it. visit gets the entry's
// directory, name, path below root and lstat; for a directory, descend says whether to walk
// into it.
func walkTree(root string, visit func(dfd int, name, rel string, st *unix.Stat_t) (descend bool, err error)) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%w %s: %w", errWalkRoot, root, err)
	}
	return walkDir(fd, "", visit)
}

// walkDir walks directory dfd (which it closes) for walkTree, its entries' paths prefixed.
func walkDir(dfd int, prefix string, visit func(dfd int, name, rel string, st *unix.Stat_t) (bool, error)) error {
	defer unix.Close(dfd)
	names, err := dirNames(dfd)
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		rel := prefix + name
		var st unix.Stat_t
		if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // removed meanwhile
			}
			return fmt.Errorf("%s: %w", rel, err)
		}
		descend, err := visit(dfd, name, rel, &st)
		if err != nil {
			return err
		}
		if !descend || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		sub, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if err := walkDir(sub, rel+"/", visit); err != nil {
			return err
		}
	}
	return nil
}

type treeWriter struct {
	tw             *tar.Writer
	uidMap, gidMap []model.IDMap
	isUpper        bool
	links          map[[2]uint64]string // (device, inode) -> the name written first
}

func (t *treeWriter) id(maps []model.IDMap, id uint32) int {
	if len(maps) == 0 {
		return int(id)
	}
	return int(containerID(maps, id))
}

// entry writes one entry of the tree (walkTree's visit).
func (t *treeWriter) entry(dfd int, name, rel string, st *unix.Stat_t) (bool, error) {
	typ := st.Mode & unix.S_IFMT
	if t.isUpper && runtimeMade(dfd, name, rel, st) {
		return false, nil // a mount point the runtime made, not the container's change
	}
	if t.isUpper && fuseOpaqueMarker(name, st) {
		return false, nil // its directory is written opaque (opaque)
	}
	hdr := &tar.Header{Name: rel, Mode: int64(st.Mode & 0o7777), Uid: t.id(t.uidMap, st.Uid), Gid: t.id(t.gidMap, st.Gid),
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), Format: tar.FormatPAX}
	switch typ {
	case unix.S_IFCHR, unix.S_IFBLK:
		if t.isUpper && typ == unix.S_IFCHR && st.Rdev == 0 { // an overlay whiteout
			return false, t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path.Join(path.Dir(rel), ".wh."+name), Mode: 0o600, Format: tar.FormatPAX})
		}
		hdr.Typeflag = tar.TypeChar
		if typ == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		return false, t.tw.WriteHeader(hdr)
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
		return false, t.tw.WriteHeader(hdr)
	case unix.S_IFSOCK:
		return false, nil // a socket is no file to keep, as podman's
	case unix.S_IFLNK:
		target, err := readlinkat(dfd, name)
		if err != nil {
			return false, err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		return false, t.tw.WriteHeader(hdr)
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, rel+"/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return false, err
		}
		if t.isUpper && opaque(dfd, name) {
			return true, t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel + "/.wh..wh..opq", Mode: 0o600, Format: tar.FormatPAX})
		}
		return true, nil
	case unix.S_IFREG:
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if st.Nlink > 1 {
			if first, ok := t.links[key]; ok {
				hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
				return false, t.tw.WriteHeader(hdr)
			}
		}
		fd, err := unix.Openat(dfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return false, fmt.Errorf("%s: %w", rel, err)
		}
		f := os.NewFile(uintptr(fd), rel)
		defer f.Close()
		var fst unix.Stat_t
		if err := unix.Fstat(fd, &fst); err != nil {
			return false, err
		}
		if fst.Mode&unix.S_IFMT != unix.S_IFREG || fst.Ino != st.Ino || fst.Dev != st.Dev {
			return false, fmt.Errorf("%s: changed while it was read", rel)
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, fst.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return false, err
		}
		if _, err := io.CopyN(t.tw, f, fst.Size); err != nil {
			return false, fmt.Errorf("%s: changed while it was read: %w", rel, err)
		}
		if st.Nlink > 1 {
			t.links[key] = rel
		}
		return false, nil
	}
	return false, nil
}

// runtimeMountPoints are the files the runtime creates in a root filesystem that lacks them, to
// bind pea's own over them: empty in the upper directory whatever the container writes to
// them (that goes to the bound file). diff and commit leave them out, as podman does.
var runtimeMountPoints = map[string]bool{"etc/hosts": true, "etc/hostname": true, "etc/resolv.conf": true,
	"etc/localtime": true, "run/pea-init": true, "run/.containerenv": true}

// runtimeMade reports whether entry name (rel from the root) of an upper directory, in
// directory dfd, is one the start made rather than the container: an empty mount point, or the
// /etc/mtab link (linkMtab).
func runtimeMade(dfd int, name, rel string, st *unix.Stat_t) bool {
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		return runtimeMountPoints[rel] && st.Size == 0
	case unix.S_IFLNK:
		if rel != "etc/mtab" || st.Size != int64(len(mtabTarget)) {
			return false
		}
		buf := make([]byte, len(mtabTarget)+1)
		n, err := unix.Readlinkat(dfd, name, buf)
		return err == nil && string(buf[:n]) == mtabTarget
	}
	return false
}

// onlyRuntimeMountPoints reports whether directory rel of the upper directory holds nothing
// but what the start made (runtimeMade): the runtime made it for them (/run in an image
// without one).
func onlyRuntimeMountPoints(upper, rel string) bool {
	dfd, err := unix.Open(filepath.Join(upper, rel), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	d := os.NewFile(uintptr(dfd), rel)
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil || len(names) == 0 {
		return false
	}
	for _, n := range names {
		var st unix.Stat_t
		if unix.Fstatat(dfd, n, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || !runtimeMade(dfd, n, rel+"/"+n, &st) {
			return false
		}
	}
	return true
}

// Change is one path a container changed: A added, C changed, D deleted (podman's diff).
type Change struct {
	Kind string
	Path string
}

// opaque reports whether directory name in dfd is an overlay opaque directory (it hides what
// the layers below have there). fuse-overlayfs, which cannot write trusted.* in a user
// namespace, marks its opaque directories with an attribute of its own.
func opaque(dfd int, name string) bool {
	buf := make([]byte, 8)
	p := fmt.Sprintf("/proc/self/fd/%d/%s", dfd, name)
	n, err := unix.Lgetxattr(p, rootless.OpaqueXattr(), buf)
	if err == nil && string(buf[:n]) == "y" {
		return true
	}
	if !rootless.Active() {
		return false
	}
	n, err = unix.Lgetxattr(p, fuseOpaqueXattr, buf)
	return err == nil && string(buf[:n]) == "y"
}

// fuseOpaqueXattr marks a directory fuse-overlayfs made opaque in an upper directory.
const fuseOpaqueXattr = "user.fuseoverlayfs.opaque"

// fuseOpaqueMarker reports whether entry name of an upper directory is one of the marks
// fuse-overlayfs leaves in a directory it makes opaque, beside its attribute: a file
// .wh..wh..opq and a whiteout .wh..opq. Neither is the container's (a rootless pea's upper
// directories alone are fuse-overlayfs's).
func fuseOpaqueMarker(name string, st *unix.Stat_t) bool {
	if !rootless.Active() {
		return false
	}
	switch typ := st.Mode & unix.S_IFMT; name {
	case ".wh..wh..opq":
		return typ == unix.S_IFREG
	case ".wh..opq":
		return typ == unix.S_IFCHR && st.Rdev == 0
	}
	return false
}

// ContainerChanges lists what container nameOrID changed in its image's files, by path.
func (r *Runtime) ContainerChanges(nameOrID string) ([]Change, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return nil, err
	}
	var lower []string // top layer first
	if c.Config.Image != "" {
		is, err := r.imageStore()
		if err != nil {
			return nil, err
		}
		img, err := is.Lookup(c.Config.Image)
		if err != nil {
			return nil, fmt.Errorf("image of container %s: %w", c.Config.Name, err)
		}
		layers, err := is.LayerDirs(img)
		if err != nil {
			return nil, err
		}
		lower = lowerDirs(layers)
	}
	var out []Change
	upper := filepath.Join(r.ctrDir(c.Config.ID), "upper")
	err = walkTree(upper, func(dfd int, name, rel string, st *unix.Stat_t) (bool, error) {
		switch {
		case fuseOpaqueMarker(name, st):
		case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0:
			out = append(out, Change{"D", "/" + rel})
		case inLayers(lower, rel):
			out = append(out, Change{"C", "/" + rel})
		case runtimeMade(dfd, name, rel, st):
		case st.Mode&unix.S_IFMT == unix.S_IFDIR && onlyRuntimeMountPoints(upper, rel):
		default:
			out = append(out, Change{"A", "/" + rel})
		}
		return true, nil
	})
	if errors.Is(err, errWalkRoot) && errors.Is(err, unix.ENOENT) {
		return nil, nil // never started: no changes
	}
	return out, err
}

// inLayers reports whether path rel exists in the image whose layer directories are lower
// (top first, overlay form): a layer whose entry for it, or for a directory above it, is a
// whiteout (a 0:0 character device) hides it in the layers below, as does an opaque directory
// above it (trusted.overlay.opaque=y) that lacks it.
func inLayers(lower []string, rel string) bool {
	for _, l := range lower {
		var st unix.Stat_t
		if unix.Lstat(filepath.Join(l, rel), &st) == nil {
			return !(st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0)
		}
		for p := filepath.Dir(rel); p != "." && p != "/" && p != ""; p = filepath.Dir(p) {
			full := filepath.Join(l, p)
			if unix.Lstat(full, &st) != nil {
				continue
			}
			if st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
				return false
			}
			var buf [1]byte
			if n, err := unix.Lgetxattr(full, rootless.OpaqueXattr(), buf[:]); err == nil && n == 1 && buf[0] == 'y' {
				return false
			}
		}
	}
	return false
}

// ExportContainer writes container nameOrID's root filesystem (its image with its changes,
// without its volumes or the kernel file systems) to w as a tar, IDs as the container sees
// them.
func (r *Runtime) ExportContainer(ctx context.Context, nameOrID string, w io.Writer) error {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if c.Config.IsInfra && c.Config.Image == "" {
		return fmt.Errorf("container %s is a pod's infra container, which has no root filesystem to export: %w", c.Config.Name, errdefs.ErrInvalid)
	}
	if c.Config.IsService {
		return fmt.Errorf("container %s is kube play's service container, which has no root filesystem to export: %w", c.Config.Name, errdefs.ErrInvalid)
	}
	return r.exportLocked(c, w)
}

// exportLocked writes the root filesystem of c, whose lock the caller holds, as a tar: mounted
// for the time (in the container's user namespace when it has one), IDs as the container sees
// them.
func (r *Runtime) exportLocked(c *model.Container, w io.Writer) error {
	nsPath := ""
	if c.State.Active() && c.State.Pid > 0 {
		nsPath = fmt.Sprintf("/proc/%d/ns/user", c.State.Pid)
	}
	ns, err := r.openUserNS(c, nsPath)
	if err != nil {
		return err
	}
	defer ns.close()
	wasMounted := c.State.Mounted
	root, err := r.mountRootfs(c, ns)
	if err != nil {
		return err
	}
	if !wasMounted {
		defer r.unmountRootfs(c)
	}
	uidMap, gidMap := r.IDMappings(c.Config)
	return exportTree(w, root, uidMap, gidMap)
}

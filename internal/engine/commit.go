package engine

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// CommitOptions describe `pea commit`.
type CommitOptions struct {
	Ref     string   // the new image's name ("" leaves it untagged)
	Author  string   // --author
	Message string   // --message, the history entry's comment
	Changes []string // --change instructions applied to the new image's config
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
	if err := image.ApplyChanges(&conf, o.Changes); err != nil {
		return nil, err
	}
	// Host IDs of a user namespace's files are the container's own in the image.
	uidMap, gidMap := r.IDMappings(cfg)
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeChanges(pw, filepath.Join(r.ctrDir(cfg.ID), "upper"), uidMap, gidMap))
	}()
	img, err := is.Commit(base, pr, conf, image.CommitOptions{Ref: o.Ref, Author: o.Author, Comment: o.Message,
		CreatedBy: "pea commit " + cfg.Name})
	pr.CloseWithError(io.ErrClosedPipe) // ends the writer if the store stopped reading early
	return img, err
}

// writeChanges writes an overlay upper directory as a layer tar: an overlay whiteout (a 0:0
// character device) becomes a .wh. file, an opaque directory gets a .wh..wh..opq entry.
func writeChanges(w io.Writer, upper string, uidMap, gidMap []model.IDMap) error {
	return writeTree(w, upper, uidMap, gidMap, true)
}

// writeTree writes the tree at root as a tar, host IDs mapped to the container's (uidMap,
// gidMap; none: as they are); upper says that root is an overlay's upper directory (see
// writeChanges).
func writeTree(w io.Writer, upper string, uidMap, gidMap []model.IDMap, isUpper bool) error {
	tw := tar.NewWriter(w)
	toCtr := func(maps []model.IDMap, id uint32) int {
		if len(maps) == 0 {
			return int(id)
		}
		for _, m := range maps {
			if id >= m.HostID && uint64(id) < uint64(m.HostID)+uint64(m.Size) {
				return int(m.ContainerID + id - m.HostID)
			}
		}
		return 65534
	}
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == upper {
				return filepath.SkipDir // never started: no changes
			}
			return err
		}
		if p == upper {
			return nil
		}
		rel, err := filepath.Rel(upper, p)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if isUpper && runtimeMountPoints[rel] && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0 {
			return nil // a mount point the runtime made, not the container's change
		}
		if isUpper && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0 {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: filepath.Join(filepath.Dir(rel), ".wh."+filepath.Base(rel)), Mode: 0o600, Format: tar.FormatPAX})
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		hdr.Name, hdr.Uname, hdr.Gname = rel, "", ""
		hdr.Uid, hdr.Gid = toCtr(uidMap, st.Uid), toCtr(gidMap, st.Gid)
		hdr.Format = tar.FormatPAX
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		if isUpper && fi.IsDir() {
			buf := make([]byte, 8)
			if n, err := unix.Lgetxattr(p, "trusted.overlay.opaque", buf); err == nil && string(buf[:n]) == "y" {
				return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel + "/.wh..wh..opq", Mode: 0o600, Format: tar.FormatPAX})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// runtimeMountPoints are the files the runtime creates in a root filesystem that lacks them, to
// bind pea's own over them: empty in the upper directory whatever the container writes to
// them (that goes to the bound file). diff and commit leave them out, as podman does.
var runtimeMountPoints = map[string]bool{"etc/hosts": true, "etc/hostname": true, "etc/resolv.conf": true,
	"etc/localtime": true, "run/pea-init": true}

// Change is one path a container changed: A added, C changed, D deleted (podman's diff).
type Change struct {
	Kind string
	Path string
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
	err = filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && p == upper {
				return filepath.SkipDir
			}
			return err
		}
		if p == upper {
			return nil
		}
		rel, _ := filepath.Rel(upper, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		switch {
		case st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0:
			out = append(out, Change{"D", "/" + rel})
		case inLayers(lower, rel):
			out = append(out, Change{"C", "/" + rel})
		case runtimeMountPoints[rel] && st.Size == 0:
		default:
			out = append(out, Change{"A", "/" + rel})
		}
		return nil
	})
	return out, err
}

// inLayers reports whether path rel exists in the image whose layer directories are lower
// (top first): a layer that lacks it but whites it (or a directory above it) out, or makes a
// directory above it opaque, hides it in the layers below.
func inLayers(lower []string, rel string) bool {
	exists := func(p string) bool { _, err := os.Lstat(p); return err == nil }
	for _, l := range lower {
		if exists(filepath.Join(l, rel)) {
			return true
		}
		for p := rel; p != "." && p != "/" && p != ""; p = filepath.Dir(p) {
			dir := filepath.Join(l, filepath.Dir(p))
			if exists(filepath.Join(dir, ".wh."+filepath.Base(p))) || exists(filepath.Join(dir, ".wh..wh..opq")) {
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

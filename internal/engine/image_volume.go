package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/rootless"
)

// Image volumes: a mount of type "image" (podman's --mount type=image, a CRI mount that names an
// image) shows an image's file system at a path of the container. The image is resolved when
// the container is made (Mount.ImageID); each start mounts an overlay of its layers under the
// container's directory, image-volumes/<n>/merged — read-only, or with rw=true over an upper
// directory of its own whose changes go with the stop — and binds it (or its SubPath) into the
// container; the cleanup unmounts it. A container that mounts an image keeps it from removal,
// as one that runs it does (state's ContainerImages).

const imageVolumeType = "image"

func (r *Runtime) imageVolumeDir(id string, n int) string {
	return filepath.Join(r.ctrDir(id), "image-volumes", strconv.Itoa(n))
}

// resolveImageVolumes looks up the image of each image mount of a new container, records its
// ID, and checks that a SubPath is in it.
func (r *Runtime) resolveImageVolumes(cfg *model.ContainerConfig) error {
	for i := range cfg.Mounts {
		m := &cfg.Mounts[i]
		if m.Type != imageVolumeType {
			continue
		}
		if m.Source == "" {
			return fmt.Errorf("image mount at %s: an image is needed: %w", m.Destination, errdefs.ErrInvalid)
		}
		is, err := r.imageStore()
		if err != nil {
			return err
		}
		img, err := is.Lookup(m.Source)
		if err != nil {
			return fmt.Errorf("creating image volume %q:%q: %w", m.Source, m.Destination, err)
		}
		m.ImageID = img.ID
		if m.SubPath != "" {
			if err := r.checkImageSubPath(is, img, m.SubPath); err != nil {
				return fmt.Errorf("image mount at %s: %w", m.Destination, err)
			}
		}
	}
	return nil
}

// checkImageSubPath checks that sub is a path in img, by mounting the image for a moment.
func (r *Runtime) checkImageSubPath(is *image.Store, img *image.Image, sub string) error {
	tmp, err := os.MkdirTemp(r.opts.RunRoot, "image-volume-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	merged := filepath.Join(tmp, "merged")
	if err := mountImageLayers(is, img, merged, filepath.Join(tmp, "empty"), ""); err != nil {
		return err
	}
	defer unix.Unmount(merged, unix.MNT_DETACH)
	_, err = pathInRoot(merged, sub)
	return err
}

// mountImageLayers mounts an overlay of img's layers at merged: read-only, or over upper (with
// its work directory beside it) when upper is given. empty is made as the bottom layer, as
// overlayfs without an upper directory wants two lower ones and an image may have one layer.
func mountImageLayers(is *image.Store, img *image.Image, merged, empty, upper string) error {
	layers, err := is.LayerDirs(img)
	if err != nil {
		return err
	}
	dirs := []string{merged, empty}
	if upper != "" {
		dirs = append(dirs, upper, upper+".work")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	opts := "lowerdir=" + strings.Join(append(lowerDirs(layers), empty), ":")
	flags := uintptr(unix.MS_RDONLY)
	if upper != "" {
		opts += ",upperdir=" + upper + ",workdir=" + upper + ".work"
		flags = 0
	}
	opts += rootless.OverlayOptions()
	if len(opts) > 4000 {
		return fmt.Errorf("image %.12s has too many layers for one overlay mount (%d)", img.ID, len(layers))
	}
	if err := unix.Mount("overlay", merged, "overlay", flags, opts); err != nil {
		return fmt.Errorf("mount image %.12s: %w", img.ID, err)
	}
	return nil
}

// pathInRoot resolves rel inside root as the container will (its links cannot lead out of
// root) and returns the path on the host.
func pathInRoot(root, rel string) (string, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", err
	}
	defer unix.Close(rfd)
	fd, err := unix.Openat2(rfd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return "", fmt.Errorf("path %q is not in the image: %w", rel, errdefs.ErrNotFound)
	}
	defer unix.Close(fd)
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", err
	}
	if p != root && !strings.HasPrefix(p, root+"/") {
		return "", fmt.Errorf("path %q of the image resolves out of it: %w", rel, errdefs.ErrInvalid)
	}
	return p, nil
}

// mountImageVolumes mounts the images of c's image mounts, and the overlays of its overlay
// mounts (-v SRC:DST:O, mountOverlayVolume), and returns mounts with each of them made a bind
// of its mount (or its SubPath); the unmounts go to u.
func (r *Runtime) mountImageVolumes(c *model.Container, mounts []model.Mount, u *undo) ([]model.Mount, error) {
	out := slices.Clone(mounts)
	for i, m := range mounts {
		if m.Overlay { // only -v sets it, on a bind or a named volume
			mounted, err := r.mountOverlayVolume(c, i, m, u)
			if err != nil {
				return nil, err
			}
			out[i] = mounted
			continue
		}
		if m.Type != imageVolumeType {
			continue
		}
		is, err := r.imageStore()
		if err != nil {
			return nil, err
		}
		img, err := is.Lookup(m.ImageID)
		if err != nil {
			return nil, fmt.Errorf("image volume %q:%q: %w", m.Source, m.Destination, err)
		}
		dir := r.imageVolumeDir(c.Config.ID, i)
		r.unmountImageVolume(dir) // a start after a crash finds the last one's
		upper := ""
		if !m.ReadOnly {
			upper = filepath.Join(dir, "upper")
		}
		merged := filepath.Join(dir, "merged")
		if err := mountImageLayers(is, img, merged, filepath.Join(dir, "empty"), upper); err != nil {
			return nil, err
		}
		u.add(func() { r.unmountImageVolume(dir) })
		src := merged
		if m.SubPath != "" {
			if src, err = pathInRoot(merged, m.SubPath); err != nil {
				return nil, fmt.Errorf("image mount at %s: %w", m.Destination, err)
			}
		}
		out[i] = model.Mount{Type: "bind", Source: src, Destination: m.Destination, ReadOnly: m.ReadOnly,
			Options: append([]string{"nodev", "nosuid"}, m.Options...)}
	}
	return out, nil
}

// mountOverlayVolume mounts mount i of c, an overlay mount (-v SRC:DST:O), for a start: an
// overlay of its source (a named volume's data) under an upper directory, discarded with the
// rest of its directory when the container stops, or the user's (upperdir=, workdir=). It
// returns the bind mount of the overlay the spec gets. The directory is an image volume's: the
// same unmount and removal serve both.
func (r *Runtime) mountOverlayVolume(c *model.Container, i int, m model.Mount, u *undo) (model.Mount, error) {
	lower := m.Source
	if m.Type == "volume" {
		lower = r.volumePath(m.Source)
	}
	if fi, err := os.Stat(lower); err != nil || !fi.IsDir() {
		return m, fmt.Errorf("overlay mount at %s: its source %s is not a directory: %w", m.Destination, lower, errdefs.ErrInvalid)
	}
	dir := r.imageVolumeDir(c.Config.ID, i)
	r.unmountImageVolume(dir) // a start after a crash finds the last one's
	merged := filepath.Join(dir, "merged")
	upper, work := m.UpperDir, m.WorkDir
	if upper == "" {
		upper, work = filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	}
	for _, d := range []string{merged, upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return m, err
		}
	}
	opts := "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work + rootless.OverlayOptions()
	if err := unix.Mount("overlay", merged, "overlay", 0, opts); err != nil {
		os.RemoveAll(dir)
		return m, fmt.Errorf("overlay mount of %s at %s: %w", lower, m.Destination, err)
	}
	u.add(func() { r.unmountImageVolume(dir) })
	return model.Mount{Type: "bind", Source: merged, Destination: m.Destination, ReadOnly: m.ReadOnly, Options: m.Options}, nil
}

// unmountImageVolumes undoes mountImageVolumes; it is idempotent.
func (r *Runtime) unmountImageVolumes(c *model.Container) {
	for i, m := range c.Config.Mounts {
		if m.Type == imageVolumeType || m.Overlay {
			r.unmountImageVolume(r.imageVolumeDir(c.Config.ID, i))
		}
	}
}

// unmountImageVolume unmounts one image volume and removes its directories (with a rw=true
// one's changes).
func (r *Runtime) unmountImageVolume(dir string) {
	merged := filepath.Join(dir, "merged")
	for isMountpoint(merged) {
		if unix.Unmount(merged, unix.MNT_DETACH) != nil {
			return // kept: removing it would go into the mounted image
		}
	}
	os.RemoveAll(dir)
}

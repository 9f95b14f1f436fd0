package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/image"
	"pea/internal/lock"
	"pea/internal/rootless"
)

// Images mounted by hand (`pea image mount`) are read-only overlays of their layers at
// <root>/image-mounts/<id>/merged, with an empty directory as the bottom layer (overlayfs
// without an upper directory wants two lower ones, and an image may have one layer). They are
// counted as containers' mounts are (mount.go), in <runroot>/image-mounts/<id>; an image is
// unmounted when its count is back at zero, and not removed while it is mounted unless forced.

func (r *Runtime) imageMountDir(id string) string {
	return filepath.Join(r.opts.Root, "image-mounts", id)
}
func (r *Runtime) imageMountCounts() string { return filepath.Join(r.opts.RunRoot, "image-mounts") }

func (r *Runtime) imageMounts(id string) int {
	return readCount(filepath.Join(r.imageMountCounts(), id))
}

// lockImageMount takes the lock of image id's mount count (the lock manager comes with the
// state, which also refreshes the counts after a reboot).
func (r *Runtime) lockImageMount(id string) (*lock.Lock, error) {
	if _, err := r.state(); err != nil {
		return nil, err
	}
	return r.locks.Lock("image-mount-" + id)
}

// MountedImage is an image mounted by `pea image mount`, and where.
type MountedImage struct {
	Image *image.Image
	Path  string
}

// ImageMount mounts an image's layers read-only on the host and returns where.
func (r *Runtime) ImageMount(nameOrID string) (string, error) {
	is, err := r.imageStore()
	if err != nil {
		return "", err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return "", err
	}
	l, err := r.lockImageMount(img.ID)
	if err != nil {
		return "", err
	}
	defer l.Unlock()
	dir := r.imageMountDir(img.ID)
	merged := filepath.Join(dir, "merged")
	n := r.imageMounts(img.ID)
	if !isMountpoint(merged) {
		layers, err := is.LayerDirs(img)
		if err != nil {
			return "", err
		}
		empty := filepath.Join(dir, "empty")
		for _, d := range []string{merged, empty} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return "", err
			}
		}
		lower := append(lowerDirs(layers), empty)
		opts := "lowerdir=" + strings.Join(lower, ":") + rootless.OverlayOptions()
		if len(opts) > 4000 {
			return "", fmt.Errorf("image %.12s has too many layers for one overlay mount (%d)", img.ID, len(layers))
		}
		if err := unix.Mount("overlay", merged, "overlay", unix.MS_RDONLY, opts); err != nil {
			return "", fmt.Errorf("mount image %.12s: %w", img.ID, err)
		}
		n = 0 // a count without its mount (a crash between the two) starts over
	}
	if err := writeCount(filepath.Join(r.imageMountCounts(), img.ID), n+1); err != nil {
		if n == 0 {
			unix.Unmount(merged, unix.MNT_DETACH)
		}
		return "", err
	}
	return merged, nil
}

// ImageUnmount undoes one ImageMount (all of them with force) and returns the image's ID and
// whether it was mounted at all.
func (r *Runtime) ImageUnmount(nameOrID string, force bool) (string, bool, error) {
	is, err := r.imageStore()
	if err != nil {
		return "", false, err
	}
	img, err := is.Lookup(nameOrID)
	if err != nil {
		return "", false, err
	}
	l, err := r.lockImageMount(img.ID)
	if err != nil {
		return "", false, err
	}
	defer l.Unlock()
	n := r.imageMounts(img.ID)
	if n == 0 {
		return img.ID, false, nil
	}
	if force {
		n = 0
	} else {
		n--
	}
	if n == 0 {
		if err := r.unmountImage(img.ID); err != nil {
			return "", false, err
		}
	}
	return img.ID, true, writeCount(filepath.Join(r.imageMountCounts(), img.ID), n)
}

// unmountImage unmounts a mounted image and removes its directory.
func (r *Runtime) unmountImage(id string) error {
	dir := r.imageMountDir(id)
	merged := filepath.Join(dir, "merged")
	for isMountpoint(merged) {
		if err := unix.Unmount(merged, unix.MNT_DETACH); err != nil {
			return fmt.Errorf("unmount image %.12s: %w", id, err)
		}
	}
	os.RemoveAll(dir)
	return nil
}

// MountedImages lists the images `pea image mount` mounted.
func (r *Runtime) MountedImages() ([]MountedImage, error) {
	entries, err := fsx.ReadDir(r.imageMountCounts())
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	var out []MountedImage
	for _, e := range entries {
		img, err := is.Lookup(e.Name())
		if err != nil || r.imageMounts(img.ID) == 0 {
			continue
		}
		out = append(out, MountedImage{Image: img, Path: filepath.Join(r.imageMountDir(img.ID), "merged")})
	}
	slices.SortFunc(out, func(a, b MountedImage) int { return strings.Compare(a.Image.ID, b.Image.ID) })
	return out, nil
}

// releaseImageMount is called before an image's layers may be deleted: a mounted image is
// refused, or with force unmounted first.
func (r *Runtime) releaseImageMount(img *image.Image, force bool) error {
	if r.imageMounts(img.ID) == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("image %.12s is mounted: unmount it first (pea image umount): %w", img.ID, errdefs.ErrInUse)
	}
	if err := r.unmountImage(img.ID); err != nil {
		return err
	}
	return writeCount(filepath.Join(r.imageMountCounts(), img.ID), 0)
}

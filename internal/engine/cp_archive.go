package engine

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"pea/internal/errdefs"
)

// CopyOutArchive copies the container's path (the PATH of src, CONTAINER:PATH) as a tar
// stream whose top entry is the path's base name (a directory's contents alone for "/" or a
// path ending in "/."): podman's `cp CONTAINER:PATH -` and Docker's GET archive. The copier
// copies the path into a private temporary directory first; start is called only then, and
// returns where the tar goes: an error found before it leaves nothing written.
func (r *Runtime) CopyOutArchive(ctx context.Context, src string, o CopyOptions, start func() (io.Writer, error)) error {
	_, p, in := splitCtrPath(src)
	if !in {
		return fmt.Errorf("%s: want CONTAINER:PATH: %w", src, errdefs.ErrInvalid)
	}
	tmp, err := os.MkdirTemp("", "pea-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	base := path.Base(path.Clean("/" + p))
	if base == "/" || strings.HasSuffix(p, "/.") {
		base = "."
	}
	dst := filepath.Join(tmp, "x")
	if err := r.CopyPathWith(ctx, src, dst, o); err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err != nil {
		// The copier copies no devices, FIFOs or sockets out of a container.
		return fmt.Errorf("%s is not a file, directory or link: it cannot be copied out: %w", src, errdefs.ErrInvalid)
	}
	w, err := start()
	if err != nil {
		return err
	}
	tw := tar.NewWriter(w)
	if err := TarTree(tw, dst, base); err != nil {
		return err
	}
	return tw.Close()
}

// CopyInArchive unpacks the tar stream rd into the container's directory (the PATH of dst,
// CONTAINER:PATH; a link to a directory is followed): podman's `cp - CONTAINER:PATH` and
// Docker's PUT archive. The tar is unpacked into a private temporary directory first, so a
// broken archive changes nothing in the container; the copier then copies it in, as CopyPath.
func (r *Runtime) CopyInArchive(ctx context.Context, rd io.Reader, dst string) error {
	name, p, in := splitCtrPath(dst)
	if !in {
		return fmt.Errorf("%s: want CONTAINER:PATH: %w", dst, errdefs.ErrInvalid)
	}
	st, err := r.StatPath(ctx, name, p)
	if err != nil {
		return fmt.Errorf("%s in container %s: %w", p, name, errdefs.ErrNotFound)
	}
	if fs.FileMode(st.Mode)&fs.ModeSymlink != 0 && st.LinkTarget != "" {
		if st, err = r.StatPath(ctx, name, st.LinkTarget); err != nil {
			return err
		}
	}
	if !fs.FileMode(st.Mode).IsDir() {
		return fmt.Errorf("extraction point is not a directory: %s: %w", p, errdefs.ErrInvalid)
	}
	tmp, err := os.MkdirTemp("", "pea-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := Untar(rd, tmp); err != nil {
		return fmt.Errorf("reading the archive: %v: %w", err, errdefs.ErrInvalid)
	}
	return r.CopyPath(ctx, tmp+"/.", name+":"+strings.TrimSuffix(p, "/")+"/")
}

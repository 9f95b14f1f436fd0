package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/rootless"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	whiteoutMeta   = ".wh..wh."
)

// unpackTar extracts an uncompressed layer tar stream into dir (an empty directory), converting
// whiteouts to overlayfs form: ".wh.name" becomes a 0:0 character device "name", and
// ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its directory. Every path, including the
// targets of hard links, is resolved inside dir: "..", absolute names and symlinks cannot lead out.
// With strict, a stream without an end-of-archive marker is refused as truncated.
func unpackTar(dir string, r io.Reader, strict bool) error {
	cr := &countingReader{r: r}
	tr := tar.NewReader(cr)
	u := &unpacker{root: dir, root0: os.Geteuid() == 0 && !rootless.Active(), owners: os.Geteuid() == 0 && !rootless.SingleID(),
		whiteouts: os.Geteuid() == 0}
	entries := 0
	for {
		before := cr.n
		hdr, err := tr.Next()
		if err == io.EOF {
			// Whatever preceded the marker was the last entry's padding (< 512 bytes).
			if strict && cr.n-before < 512 {
				if entries == 0 {
					return fmt.Errorf("not a tar archive, or an empty one: %w", errdefs.ErrInvalid)
				}
				return fmt.Errorf("tar archive is truncated (no end-of-archive marker): %w", errdefs.ErrInvalid)
			}
			break
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", corrupt(err))
		}
		entries++
		if err := u.entry(hdr, tr); err != nil {
			return err
		}
		// Read the rest of the entry's data so the count above sees only padding and the marker.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return fmt.Errorf("reading tar: %w", corrupt(err))
		}
	}
	return u.finish()
}

type unpacker struct {
	root  string
	root0 bool // running as root of the host: device nodes must succeed
	// owners: files' owners must be kept (root of the host, or of a rootless namespace that maps
	// a range of IDs); whiteouts: whiteouts must be made (root, of the host or of a namespace:
	// Linux lets a user namespace's root make them)
	owners, whiteouts bool
	dirs              []dirTime
}

type dirTime struct {
	path  string
	mtime time.Time
	atime time.Time
}

// resolve maps rel (a cleaned, rooted path such as "/usr/bin") to a host path under u.root,
// following symlinks as if u.root were "/". Components that do not exist yet are kept as given.
func (u *unpacker) resolve(rel string) (string, error) {
	var done []string
	pending := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	links := 0
	for len(pending) > 0 {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		p := filepath.Join(u.root, filepath.Join(done...), c)
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = append(done, c)
			continue
		}
		if links++; links > 40 {
			return "", fmt.Errorf("%s: too many levels of symbolic links: %w", rel, errdefs.ErrInvalid)
		}
		target, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = nil
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return filepath.Join(u.root, filepath.Join(done...)), nil
}

// parentOf resolves the directory that will hold name, creating missing directories.
func (u *unpacker) parentOf(name string) (string, string, error) {
	clean := path.Clean("/" + name)
	dirRel, base := path.Split(clean)
	parent, err := u.resolve(dirRel)
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", "", fmt.Errorf("layer entry %q: %w", name, err)
	}
	return parent, base, nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	clean := path.Clean("/" + hdr.Name)
	if clean == "/" {
		// The layer's root directory itself: keep its metadata.
		return u.attrs(u.root, hdr)
	}
	parent, base, err := u.parentOf(hdr.Name)
	if err != nil {
		return err
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(parent, base, hdr)
	}
	p := filepath.Join(parent, base)
	fi, err := os.Lstat(p)
	if err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("layer file %q: %w", hdr.Name, corrupt(err))
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, p); err != nil {
			return err
		}
	case tar.TypeLink:
		tparent, tbase, err := u.parentOf(hdr.Linkname)
		if err != nil {
			return err
		}
		target := filepath.Join(tparent, tbase)
		if tfi, err := os.Lstat(target); err != nil || tfi.IsDir() {
			return fmt.Errorf("layer hard link %q -> %q: the target is not a file in this layer: %w", hdr.Name, hdr.Linkname, errdefs.ErrInvalid)
		}
		// A hard link shares the target's inode and metadata: nothing more to set.
		return os.Link(target, p)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(p, mode, int(dev)); err != nil {
			if u.root0 {
				return fmt.Errorf("layer device %q: %w", hdr.Name, err)
			}
			return nil // unprivileged: device nodes cannot be made; skip them
		}
	default:
		return nil // other kinds (e.g. Solaris extensions) have no place in a Linux layer
	}
	return u.attrs(p, hdr)
}

// whiteout turns the AUFS-style whiteout base (in parent) into its overlayfs form.
func (u *unpacker) whiteout(parent, base string, hdr *tar.Header) error {
	if base == whiteoutOpaque {
		if err := unix.Lsetxattr(parent, rootless.OpaqueXattr(), []byte("y"), 0); err != nil && u.whiteouts {
			return fmt.Errorf("opaque whiteout %q: %w", hdr.Name, err)
		}
		return nil
	}
	if strings.HasPrefix(base, whiteoutMeta) {
		return nil // AUFS bookkeeping (hard link directories), not content
	}
	name := base[len(whiteoutPrefix):]
	if name == "" || name == "." || name == ".." {
		return fmt.Errorf("layer entry %q is not a valid whiteout: %w", hdr.Name, errdefs.ErrInvalid)
	}
	p := filepath.Join(parent, name)
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	if err := unix.Mknod(p, unix.S_IFCHR, 0); err != nil {
		if u.whiteouts {
			return fmt.Errorf("whiteout %q: %w", hdr.Name, err)
		}
		return nil
	}
	return u.lchown(p, hdr)
}

func (u *unpacker) lchown(p string, hdr *tar.Header) error {
	if err := os.Lchown(p, hdr.Uid, hdr.Gid); err != nil && u.owners {
		return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
	}
	return nil
}

// attrs sets owner, mode, xattrs and times, in that order (chown clears set-id bits).
func (u *unpacker) attrs(p string, hdr *tar.Header) error {
	if err := u.lchown(p, hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := unix.Fchmodat(unix.AT_FDCWD, p, uint32(hdr.Mode&0o7777), 0); err != nil {
			return fmt.Errorf("layer entry %q: chmod: %w", hdr.Name, err)
		}
	}
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(p, name, []byte(v), 0); err != nil && u.root0 &&
			!errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("layer entry %q: xattr %s: %w", hdr.Name, name, err)
		}
	}
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	if hdr.Typeflag == tar.TypeDir {
		// Entries written below later would change a directory's mtime: set it at the end.
		u.dirs = append(u.dirs, dirTime{path: p, mtime: hdr.ModTime, atime: atime})
		return nil
	}
	return setTimes(p, atime, hdr.ModTime)
}

func setTimes(p string, atime, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil && !errors.Is(err, unix.ENOTSUP) {
		return fmt.Errorf("%s: set times: %w", p, err)
	}
	return nil
}

func (u *unpacker) finish() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		if err := setTimes(d.path, d.atime, d.mtime); err != nil {
			return err
		}
	}
	return nil
}

package api

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// The archive endpoints are docker cp's: HEAD stats a path in a container, GET reads it as a
// tar, PUT writes a tar's contents into a directory. The container's side of every copy is done
// by pea's copier, chroot'ed in the container's root (engine.CopyPath, engine.StatPath): no
// link of the container's leads out. The service's side is a private temporary directory.

const pathStatHeader = "X-Docker-Container-Path-Stat"

// archivePath reads ?path=, which is required.
func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", badRequest("path is required: the path in the container")
	}
	return p, nil
}

// statHeader sets Docker's path stat header for path in the container.
func statHeader(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, id, p string) error {
	st, err := rt.StatPath(r.Context(), id, p)
	if err != nil {
		if strings.Contains(err.Error(), "no such file or directory") || errdefs.Is(err, errdefs.ErrNotFound) {
			return &apiError{http.StatusNotFound, fmt.Sprintf("Could not find the file %s in container %s", p, id)}
		}
		return err
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(js))
	return nil
}

// headContainerArchive is HEAD /containers/{id}/archive?path=.
func (s *Server) headContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := statHeader(w, r, rt, c.Config.ID, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getContainerArchive is GET /containers/{id}/archive?path=: path (a file, or a directory and
// what it holds) as a tar whose top entry is its base name.
func (s *Server) getContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := statHeader(w, r, rt, c.Config.ID, p); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "pea-api-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	base := path.Base(path.Clean("/" + p))
	if base == "/" || strings.HasSuffix(p, "/.") {
		base = "."
	}
	dst := filepath.Join(tmp, "x")
	if err := rt.CopyPath(r.Context(), c.Config.ID+":"+p, dst); err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err != nil {
		// The copier copies no devices, FIFOs or sockets out of a container.
		return badRequest("%s in container %s is not a file, directory or link: it cannot be copied out", p, c.Config.ID)
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	tw := tar.NewWriter(w)
	if err := writeTar(tw, dst, base); err != nil {
		// The answer has begun: only breaking the connection tells the client.
		panic(http.ErrAbortHandler)
	}
	return tw.Close()
}

// writeTar writes the tree at dir into tw, its top entry named name ("." for the contents
// alone).
func writeTar(tw *tar.Writer, dir, name string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		entry := path.Join(name, filepath.ToSlash(rel))
		if entry == "." {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // sockets and the like are not copied
		}
		hdr.Name = entry
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uname, hdr.Gname = "", ""
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
			return err
		}
		return nil
	})
}

// putContainerArchive is PUT /containers/{id}/archive?path=: the tar in the body is unpacked
// into path, which must be a directory in the container.
func (s *Server) putContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	st, err := rt.StatPath(r.Context(), c.Config.ID, p)
	if err != nil {
		return &apiError{http.StatusNotFound, fmt.Sprintf("Could not find the file %s in container %s", p, c.Config.ID)}
	}
	if fs.FileMode(st.Mode)&fs.ModeSymlink != 0 && st.LinkTarget != "" {
		if st, err = rt.StatPath(r.Context(), c.Config.ID, st.LinkTarget); err != nil {
			return err
		}
	}
	if !fs.FileMode(st.Mode).IsDir() {
		return badRequest("extraction point is not a directory: %s", p)
	}
	tmp, err := os.MkdirTemp("", "pea-api-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := untar(r.Body, tmp); err != nil {
		return badRequest("reading the archive: %v", err)
	}
	if err := rt.CopyPath(r.Context(), tmp+"/.", c.Config.ID+":"+strings.TrimSuffix(p, "/")+"/"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// untar unpacks a tar into dir (a fresh directory of the service's): directories, regular
// files, symbolic links and hard links (to a file unpacked before); devices and FIFOs are not
// copied into containers. A name that climbs out of dir is refused; no operation follows a
// link the archive made (parents are checked a component at a time, an entry replaces what
// is at its name, modes and times are set without following links).
func untar(rd io.Reader, dir string) error {
	tr := tar.NewReader(rd)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if c := path.Clean(hdr.Name); c == ".." || strings.HasPrefix(c, "../") {
			return fmt.Errorf("entry %q leaves the destination", hdr.Name)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		target := filepath.Join(dir, name)
		if err := mkdirsBelow(dir, path.Dir(name)); err != nil {
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
		fi, lerr := os.Lstat(target)
		exists := lerr == nil
		if exists && !(hdr.Typeflag == tar.TypeDir && fi.IsDir()) {
			// A later entry replaces an earlier one; a directory is not merged into a link.
			if err := os.RemoveAll(target); err != nil {
				return err
			}
			exists = false
		}
		mode := hdr.FileInfo().Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if !exists {
				if err := os.Mkdir(target, 0o700); err != nil {
					return err
				}
			}
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			// The first name of the file, unpacked before: a regular file of ours, reached
			// through real directories only.
			src := path.Clean("/" + hdr.Linkname)
			if err := mkdirsBelow(dir, path.Dir(src)); err != nil {
				return fmt.Errorf("entry %q: %w", hdr.Name, err)
			}
			if sfi, err := os.Lstat(filepath.Join(dir, src)); err != nil || !sfi.Mode().IsRegular() {
				return fmt.Errorf("entry %q links to %q, which is not a file of the archive", hdr.Name, hdr.Linkname)
			}
			if err := os.Link(filepath.Join(dir, src), target); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		os.Lchown(target, hdr.Uid, hdr.Gid) // first: a chown clears the setuid and setgid bits
		if hdr.Typeflag != tar.TypeSymlink {
			if err := unix.Fchmodat(unix.AT_FDCWD, target, uint32(unixMode(mode)), 0); err != nil {
				return err
			}
		}
		ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
}

// unixMode is the permission bits of m as chmod(2) takes them.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		u |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		u |= syscall.S_ISVTX
	}
	return u
}

// mkdirsBelow makes the directories of rel (a clean absolute path) below dir, one component
// at a time; a component that is there and is not a directory (a link, say) is an error.
func mkdirsBelow(dir, rel string) error {
	cur := dir
	for _, part := range strings.Split(strings.Trim(rel, "/"), "/") {
		if part == "" {
			continue
		}
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case os.IsNotExist(err):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case !fi.IsDir():
			return fmt.Errorf("%s is not a directory", strings.TrimPrefix(cur, dir))
		}
	}
	return nil
}

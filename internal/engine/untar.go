package engine

import (
	"archive/tar"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Untar unpacks a tar into dir (a directory of pea's own: the API's scratch directories, a
// volume no running container uses): directories, regular
// files, symbolic links and hard links (to a file unpacked before); devices and FIFOs are not
// copied into containers. A name that climbs out of dir is refused; no operation follows a
// link the archive made (parents are checked a component at a time, an entry replaces what
// is at its name, modes and times are set without following links).
func Untar(rd io.Reader, dir string) error {
	tr := tar.NewReader(rd)
	// A directory's time is set again once the entries below it are written (which change
	// it), deepest last written first: a build context keeps its directories' times, which
	// its COPY's cache key holds.
	type dirTime struct {
		path string
		ts   []unix.Timespec
	}
	var dirTimes []dirTime
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			for i := len(dirTimes) - 1; i >= 0; i-- {
				unix.UtimesNanoAt(unix.AT_FDCWD, dirTimes[i].path, dirTimes[i].ts, unix.AT_SYMLINK_NOFOLLOW)
			}
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
		if hdr.Typeflag == tar.TypeDir {
			dirTimes = append(dirTimes, dirTime{target, ts})
		}
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

// TarTree writes the tree at dir (a file, a link or a directory) into tw, its top entry named
// name ("." for a directory's contents alone). Devices, FIFOs and sockets are left out.
func TarTree(tw *tar.Writer, dir, name string) error {
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

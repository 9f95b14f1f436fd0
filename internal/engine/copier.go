package engine

// `pea cp` copies between the host and a container's root filesystem, which the container's
// processes write: a symbolic link in it (/x -> /etc) resolved from the host would send a copy
// to the host's own /etc. The copy therefore runs in a pea process of its own that has opened
// the host side first and then chroot(2)ed into the container's root (/proc/<pid>/root of a
// running container, with its mounts; its mounted overlay otherwise): every path inside is
// resolved as the container resolves it, and cannot leave it. The tree is copied with *at
// system calls that never follow a link: links are copied as links, every entry is created
// afresh (O_EXCL, after removing what was there) and directories are opened O_NOFOLLOW, so a
// container that swaps a directory for a link meanwhile gets an error, not a way out.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// CopierArg is the first argument of the copier process (cli.Main hands it to RunCopier).
const CopierArg = "__pea-copy"

// copierNotFound is the copier's exit code when the source does not exist.
const copierNotFound = 3

// copyIn copies host path src into path dst of the container whose root is root; with owner
// set, what it creates belongs to owner (container root of a user namespace), else it keeps
// the source's owners.
func copyIn(root, src, dst string, owner *[2]uint32, overwrite bool) error {
	args := []string{CopierArg, "in", root, src, dst}
	if overwrite {
		args = slices.Insert(args, 1, copierOverwrite)
	}
	if owner != nil {
		args = append(args, strconv.FormatUint(uint64(owner[0]), 10), strconv.FormatUint(uint64(owner[1]), 10))
	}
	return runCopier(args, nil)
}

// copyOut copies path src of the container whose root is root to host path dst.
func copyOut(root, src, dst string, overwrite, noFollow bool) error {
	args := []string{CopierArg, "out", root, dst, src}
	if noFollow {
		args = slices.Insert(args, 1, copierNoFollow)
	}
	if overwrite {
		args = slices.Insert(args, 1, copierOverwrite)
	}
	return runCopier(args, nil)
}

// copierOverwrite, first of the copier's arguments, lets a copy replace a directory by a
// file or a file by a directory.
const copierOverwrite = "--overwrite"

// copierNoFollow, before the direction, copies out a link the container's path names as the
// link itself.
const copierNoFollow = "--no-follow"

// runCopier runs the copier process with args, its standard output to stdout (nil: none),
// and turns its failure into an error of its message.
func runCopier(args []string, stdout io.Writer) error {
	cmd := cpupin.Command(selfExe(), args...)
	var errb strings.Builder
	cmd.Stdout, cmd.Stderr = stdout, &errb
	err := cmd.Run()
	msg := strings.TrimSpace(errb.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ee.ExitCode() == copierNotFound {
			return fmt.Errorf("%s: %w", msg, errdefs.ErrNotFound)
		}
		return fmt.Errorf("copy: %s", msg)
	}
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	return nil
}

// RunCopier is the copier process: in|out ROOT HOST CTR [UID GID]. It returns the exit code.
func RunCopier(args []string) int {
	if err := copier(args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, unix.ENOENT) {
			return copierNotFound
		}
		return 1
	}
	return 0
}

func copier(args []string) error {
	if len(args) == 4 && args[0] == "export" {
		// export ROOT UIDMAPS GIDMAPS: the tree at ROOT as a tar on stdout, from inside it.
		uidMap, err1 := parseIDMapArg(args[2])
		gidMap, err2 := parseIDMapArg(args[3])
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad mappings %q %q", args[2], args[3])
		}
		if err := unix.Chroot(args[1]); err != nil {
			return fmt.Errorf("chroot %s: %w", args[1], err)
		}
		if err := unix.Chdir("/"); err != nil {
			return err
		}
		return writeTree(os.Stdout, "/", uidMap, gidMap, false)
	}
	if len(args) == 3 && args[0] == "stat" {
		// stat ROOT PATH: PATH's lstat as JSON (PathStat), from inside ROOT.
		if err := unix.Chroot(args[1]); err != nil {
			return fmt.Errorf("chroot %s: %w", args[1], err)
		}
		if err := unix.Chdir("/"); err != nil {
			return err
		}
		p := path.Clean("/" + args[2])
		fi, err := os.Lstat(p)
		if err != nil {
			var errno unix.Errno
			if errors.As(err, &errno) {
				err = errno
			}
			return fmt.Errorf("%s in the container: %w", p, err)
		}
		st := PathStat{Name: fi.Name(), Size: fi.Size(), Mode: uint32(fi.Mode()), Mtime: fi.ModTime()}
		if fi.Mode()&os.ModeSymlink != 0 {
			if target, err := filepath.EvalSymlinks(p); err == nil {
				st.LinkTarget = target
			} else if target, err := os.Readlink(p); err == nil {
				st.LinkTarget = target
			}
		}
		return json.NewEncoder(os.Stdout).Encode(st)
	}
	overwrite := len(args) > 0 && args[0] == copierOverwrite
	if overwrite {
		args = args[1:]
	}
	noFollow := len(args) > 0 && args[0] == copierNoFollow
	if noFollow {
		args = args[1:]
	}
	if len(args) != 4 && len(args) != 6 {
		return fmt.Errorf("usage: %s [%s] [%s] in|out ROOT HOST CTR [UID GID]", CopierArg, copierOverwrite, copierNoFollow)
	}
	dir, root, host, ctr := args[0], args[1], cleanKeepDot(args[2]), cleanKeepDot("/"+args[3])
	// A destination written with a trailing slash must be a directory, as for cp(1).
	hostDir, ctrDir := strings.HasSuffix(args[2], "/"), strings.HasSuffix(args[3], "/")
	var owner *[2]uint32
	if len(args) == 6 {
		u, err1 := strconv.ParseUint(args[4], 10, 32)
		g, err2 := strconv.ParseUint(args[5], 10, 32)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("bad owner %s:%s", args[4], args[5])
		}
		owner = &[2]uint32{uint32(u), uint32(g)}
	}
	enter := func() error {
		if err := unix.Chroot(root); err != nil {
			return fmt.Errorf("chroot %s: %w", root, err)
		}
		return unix.Chdir("/")
	}
	switch dir {
	case "in":
		srcDir, srcName, err := openParent(host)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Fstatat(srcDir, srcName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("%s: %w", host, err)
		}
		if err := enter(); err != nil {
			return err
		}
		dstDir, dstName, err := openTarget(ctr, srcName, ctrDir)
		if err != nil {
			return err
		}
		return copyNode(srcDir, srcName, dstDir, dstName, copyOpts{owner: owner, overwrite: overwrite})
	case "out":
		// The host side first: the destination's directory, opened before the chroot.
		dstDir, dstName, err := openTarget(host, path.Base(ctr), hostDir)
		if err != nil {
			return err
		}
		// A device, FIFO or socket there is refused, as podman refuses it: the copy would
		// replace it with a file (cp k1:/f /dev/null removed the host's /dev/null).
		var dst unix.Stat_t
		if err := unix.Fstatat(dstDir, dstName, &dst, 0); err == nil {
			if t := dst.Mode & unix.S_IFMT; t != unix.S_IFREG && t != unix.S_IFDIR {
				return fmt.Errorf("invalid destination: %q must be a directory or a regular file", args[2])
			}
		}
		if err := enter(); err != nil {
			return err
		}
		// A link named on the command line is followed, as podman's cp does (inside the
		// chroot: it resolves in the container); links below a copied directory stay links,
		// and so does the named one with --no-follow (Docker's cp).
		if resolved, err := filepath.EvalSymlinks(ctr); err == nil && resolved != ctr && !strings.HasSuffix(ctr, "/.") && !noFollow {
			ctr = resolved
		}
		srcDir, srcName, err := openParent(ctr)
		if err == nil {
			var st unix.Stat_t
			err = unix.Fstatat(srcDir, srcName, &st, unix.AT_SYMLINK_NOFOLLOW)
		}
		if err != nil {
			var errno unix.Errno
			if errors.As(err, &errno) {
				err = errno
			}
			return fmt.Errorf("%s in the container: %w", ctr, err)
		}
		// What comes out is the caller's, as podman's: a container's IDs mean nothing here.
		caller := [2]uint32{uint32(os.Getuid()), uint32(os.Getgid())}
		return copyNode(srcDir, srcName, dstDir, dstName, copyOpts{owner: &caller, out: true, overwrite: overwrite})
	}
	return fmt.Errorf("unknown direction %q", dir)
}

// cleanKeepDot cleans p but keeps a final "/.", which asks for a directory's contents rather
// than the directory (docker's and podman's cp).
func cleanKeepDot(p string) string {
	if p == "." || strings.HasSuffix(p, "/.") {
		return strings.TrimSuffix(path.Clean(p), "/") + "/."
	}
	return path.Clean(p)
}

// openParent opens the directory holding p and returns it with p's last element ("." for /).
func openParent(p string) (int, string, error) {
	dir, name := path.Split(p)
	if name == "" {
		dir, name = p, "."
	}
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("%s: %w", dir, err)
	}
	return fd, name, nil
}

// openTarget opens where a copy named srcName lands at p, as cp(1) decides: into p when it is
// a directory, else as p itself.
func openTarget(p, srcName string, mustBeDir bool) (int, string, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	switch {
	case err == nil && (srcName == "." || srcName == "/"):
		return fd, ".", nil
	case err == nil:
		return fd, srcName, nil
	case mustBeDir:
		return -1, "", fmt.Errorf("%s/: %w", p, err)
	}
	return openParent(p)
}

// copyOpts are how copyNode copies: owner set gives everything it makes that owner (the
// container's user when copying in, the caller when copying out), else the source's owners are
// kept; out says the source is a container's, whose device nodes and FIFOs are not copied.
type copyOpts struct {
	owner     *[2]uint32
	out       bool
	overwrite bool // a directory may replace a non-directory and the other way round
}

// copyNode copies entry srcName of directory srcDir to entry dstName of dstDir, recursively,
// following no link on either side. A directory that exists already keeps its owner and mode.
func copyNode(srcDir int, srcName string, dstDir int, dstName string, o copyOpts) error {
	var st unix.Stat_t
	if err := unix.Fstatat(srcDir, srcName, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("%s: %w", srcName, err)
	}
	uid, gid := int(st.Uid), int(st.Gid)
	if o.owner != nil {
		uid, gid = int(o.owner[0]), int(o.owner[1])
	}
	perm := uint32(st.Mode) & 0o7777
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		created := true
		if err := unix.Mkdirat(dstDir, dstName, 0o700); errors.Is(err, unix.EEXIST) {
			var dst unix.Stat_t
			if err := unix.Fstatat(dstDir, dstName, &dst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return err
			}
			switch {
			case dst.Mode&unix.S_IFMT == unix.S_IFDIR:
				created = false
			case !o.overwrite:
				return fmt.Errorf("%s: the destination must be a directory when copying a directory (--overwrite replaces it)", dstName)
			default:
				if err := unix.Unlinkat(dstDir, dstName, 0); err != nil {
					return fmt.Errorf("%s: %w", dstName, err)
				}
				if err := unix.Mkdirat(dstDir, dstName, 0o700); err != nil {
					return fmt.Errorf("%s: %w", dstName, err)
				}
			}
		} else if err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		sfd, err := unix.Openat(srcDir, srcName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", srcName, err)
		}
		defer unix.Close(sfd)
		dfd, err := unix.Openat(dstDir, dstName, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		defer unix.Close(dfd)
		var names []string
		if !o.out || !kernelFS(sfd) {
			if names, err = dirNames(sfd); err != nil {
				return err
			}
		}
		for _, n := range names {
			if err := copyNode(sfd, n, dfd, n, o); err != nil {
				return err
			}
		}
		if !created {
			return nil
		}
		if err := unix.Fchown(dfd, uid, gid); err != nil {
			return err
		}
		if err := unix.Fchmod(dfd, perm); err != nil {
			return err
		}
	case unix.S_IFREG:
		sfd, err := unix.Openat(srcDir, srcName, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", srcName, err)
		}
		in := os.NewFile(uintptr(sfd), srcName)
		defer in.Close()
		// What was listed as a regular file must still be one: a FIFO or a device swapped in
		// meanwhile is not read.
		var fst unix.Stat_t
		if err := unix.Fstat(sfd, &fst); err != nil {
			return err
		}
		if fst.Mode&unix.S_IFMT != unix.S_IFREG || fst.Ino != st.Ino || fst.Dev != st.Dev {
			return fmt.Errorf("%s: changed while it was copied", srcName)
		}
		if err := clearEntry(dstDir, dstName, o.overwrite); err != nil {
			return err
		}
		dfd, err := unix.Openat(dstDir, dstName, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		out := os.NewFile(uintptr(dfd), dstName)
		defer out.Close()
		if _, err := io.Copy(out, in); err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		if err := unix.Fchown(dfd, uid, gid); err != nil {
			return err
		}
		if err := unix.Fchmod(dfd, perm); err != nil { // after the chown, which clears setuid bits
			return err
		}
	case unix.S_IFLNK:
		target, err := readlinkat(srcDir, srcName)
		if err != nil {
			return err
		}
		if err := clearEntry(dstDir, dstName, o.overwrite); err != nil {
			return err
		}
		if err := unix.Symlinkat(target, dstDir, dstName); err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		if err := unix.Fchownat(dstDir, dstName, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	default: // devices, FIFOs, sockets
		if o.out {
			return nil // a container's device node on the host would be the host's device
		}
		if err := clearEntry(dstDir, dstName, o.overwrite); err != nil {
			return err
		}
		if err := unix.Mknodat(dstDir, dstName, st.Mode, int(st.Rdev)); err != nil {
			return fmt.Errorf("%s: %w", dstName, err)
		}
		if err := unix.Fchownat(dstDir, dstName, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		if err := unix.Fchmodat(dstDir, dstName, perm, 0); err != nil {
			return err
		}
	}
	times := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dstDir, dstName, times, unix.AT_SYMLINK_NOFOLLOW)
}

// kernelFS reports whether the directory fd is on one of the kernel's own filesystems (proc,
// sysfs, cgroup, devpts, mqueue...): a running container's /proc, /sys, /dev/pts. Copied out of
// a container, such a directory comes out empty, as podman's copy of the container's mounted
// root has it: its files describe the host's kernel, and some cannot be read.
func kernelFS(fd int) bool {
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch uint32(fs.Type) {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC, unix.DEVPTS_SUPER_MAGIC,
		0x19800202 /* mqueue */, unix.SECURITYFS_MAGIC, unix.DEBUGFS_MAGIC, unix.TRACEFS_MAGIC, unix.BPF_FS_MAGIC:
		return true
	}
	return false
}

// clearEntry removes what is at name in dir, unless nothing is; a directory is not replaced
// by something else, as cp(1) does, unless overwrite (then its whole tree goes).
func clearEntry(dir int, name string, overwrite bool) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW); errors.Is(err, unix.ENOENT) {
		return nil
	} else if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if !overwrite {
			return fmt.Errorf("cannot overwrite directory %s with non-directory (--overwrite replaces it)", name)
		}
		return removeTreeAt(dir, name)
	}
	return unix.Unlinkat(dir, name, 0)
}

// removeTreeAt removes directory name of dir and everything under it, by descriptors opened
// O_NOFOLLOW: a link in the tree is removed, never followed.
func removeTreeAt(dir int, name string) error {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	names, err := dirNames(fd)
	if err != nil {
		unix.Close(fd)
		return err
	}
	for _, n := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			unix.Close(fd)
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			err = removeTreeAt(fd, n)
		} else {
			err = unix.Unlinkat(fd, n, 0)
		}
		if err != nil {
			unix.Close(fd)
			return err
		}
	}
	unix.Close(fd)
	return unix.Unlinkat(dir, name, unix.AT_REMOVEDIR)
}

func dirNames(fd int) ([]string, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(dup), "dir")
	defer f.Close()
	return f.Readdirnames(-1)
}

func readlinkat(dir int, name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(dir, name, buf)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// idMapArg writes mappings as one argument of the copier, parseIDMapArg reads them back.
func idMapArg(maps []model.IDMap) string {
	out := make([]string, len(maps))
	for i, m := range maps {
		out[i] = FormatIDMap(m)
	}
	return strings.Join(out, ",")
}

func parseIDMapArg(s string) ([]model.IDMap, error) {
	if s == "" {
		return nil, nil
	}
	m, _, err := ParseIDMaps(strings.Split(s, ","), nil)
	return m, err
}

// exportTree writes the tree at root (a container's mounted root filesystem) as a tar to w,
// from a copier process chroot'ed in it, so that no link of the container's leads out.
func exportTree(w io.Writer, root string, uidMap, gidMap []model.IDMap) error {
	return runCopier([]string{CopierArg, "export", root, idMapArg(uidMap), idMapArg(gidMap)}, w)
}

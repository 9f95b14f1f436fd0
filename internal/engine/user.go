package engine

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// lookupUser resolves user[:group] (names or numbers) against the image's /etc/passwd and
// /etc/group, returning the uid, gid, supplementary groups and home directory.
func lookupUser(rootfs, spec string) (uid, gid uint32, groups []uint32, home string, err error) {
	if spec == "" {
		spec = "0"
	}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	passwd := readColonFile(rootfs, "etc/passwd")
	var userName string
	home = "/"
	if n, perr := strconv.ParseUint(userPart, 10, 32); perr == nil {
		uid = uint32(n)
		for _, f := range passwd {
			if len(f) >= 6 && f[2] == userPart {
				userName, home = f[0], f[5]
				if g, err := strconv.ParseUint(f[3], 10, 32); err == nil {
					gid = uint32(g)
				}
				break
			}
		}
		if userName == "" && uid == 0 {
			home = "/root"
		}
	} else {
		found := false
		for _, f := range passwd {
			if len(f) >= 6 && f[0] == userPart {
				u, err1 := strconv.ParseUint(f[2], 10, 32)
				g, err2 := strconv.ParseUint(f[3], 10, 32)
				if err1 != nil || err2 != nil {
					continue
				}
				uid, gid, userName, home, found = uint32(u), uint32(g), f[0], f[5], true
				break
			}
		}
		if !found {
			return 0, 0, nil, "", errdefs.Errorf(errdefs.ErrInvalid, "unable to find user %s: no matching entries in passwd file", userPart)
		}
	}
	grp := readColonFile(rootfs, "etc/group")
	if hasGroup {
		if n, perr := strconv.ParseUint(groupPart, 10, 32); perr == nil {
			gid = uint32(n)
		} else {
			found := false
			for _, f := range grp {
				if len(f) >= 3 && f[0] == groupPart {
					g, err := strconv.ParseUint(f[2], 10, 32)
					if err == nil {
						gid, found = uint32(g), true
						break
					}
				}
			}
			if !found {
				return 0, 0, nil, "", errdefs.Errorf(errdefs.ErrInvalid, "unable to find group %s: no matching entries in group file", groupPart)
			}
		}
	}
	if userName != "" {
		for _, f := range grp {
			if len(f) < 4 {
				continue
			}
			for _, m := range strings.Split(f[3], ",") {
				if m == userName {
					if g, err := strconv.ParseUint(f[2], 10, 32); err == nil && uint32(g) != gid {
						groups = append(groups, uint32(g))
					}
				}
			}
		}
	}
	return uid, gid, groups, home, nil
}

// readColonFile splits the lines of a passwd or group file, rel in the tree at root, into
// fields, without comments and blank lines. The tree is a container's: the file is read as the
// container resolves it (readInRoot), never through a link of its own to a host file, and only
// if it is a regular file of a sane size. It reads through fsx: `top` reads these files and
// starts no process, and an os.Open would create Go's poller for it.
func readColonFile(root, rel string) [][]string {
	b, err := readInRoot(root, rel, maxIDFile)
	if err != nil {
		return nil
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}

// maxIDFile is the largest passwd or group file pea reads of a container's.
const maxIDFile = 4 << 20

// readInRoot reads file rel of the tree at root as a process chroot'ed there would find it
// (openat2 RESOLVE_IN_ROOT: absolute links and .. stay inside root), only when it is a regular
// file of at most max bytes: a container's /etc/passwd that links to /dev/zero, a FIFO or a
// host file is refused, not read. root "/" reads the host's own file.
func readInRoot(root, rel string, max int64) ([]byte, error) {
	if root == "" {
		root = "/"
	}
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(rfd)
	fd, err := unix.Openat2(rfd, rel, &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > max {
		return nil, fmt.Errorf("%s: not a regular file of at most %d bytes", rel, max)
	}
	buf := make([]byte, 0, st.Size+1)
	for int64(len(buf)) <= max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if n > 0 {
			buf = buf[:len(buf)+n]
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d bytes", rel, max)
}

// lookupGroup resolves a group name or number against the image's /etc/group (--group-add).
func lookupGroup(rootfs, group string) (uint32, error) {
	if n, err := strconv.ParseUint(group, 10, 32); err == nil {
		return uint32(n), nil
	}
	for _, f := range readColonFile(rootfs, "etc/group") {
		if len(f) >= 3 && f[0] == group {
			if g, err := strconv.ParseUint(f[2], 10, 32); err == nil {
				return uint32(g), nil
			}
		}
	}
	return 0, fmt.Errorf("unable to find group %s (--group-add): no matching entries in group file", group)
}

package engine

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// statDevice describes the host device node at path.
func statDevice(path string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return specs.LinuxDevice{}, fmt.Errorf("device %s: %w", path, errdefs.ErrNotFound)
	}
	var t string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		t = "c"
	case unix.S_IFBLK:
		t = "b"
	default:
		return specs.LinuxDevice{}, fmt.Errorf("%s is not a device node: %w", path, errdefs.ErrInvalid)
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	return specs.LinuxDevice{
		Path: path, Type: t,
		Major: int64(unix.Major(uint64(st.Rdev))), Minor: int64(unix.Minor(uint64(st.Rdev))),
		FileMode: &mode, UID: &uid, GID: &gid,
	}, nil
}

// hostDevices lists the host's device nodes under /dev, for --privileged (as podman gives every
// host device to a privileged container). Pseudo-terminals, shm, mqueue and the console stay
// the container's own.
func hostDevices() []specs.LinuxDevice {
	var out []specs.LinuxDevice
	var walk func(dir string)
	walk = func(dir string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			p := dir + "/" + e.Name()
			switch p {
			case "/dev/pts", "/dev/shm", "/dev/mqueue", "/dev/console", "/dev/ptmx", "/dev/fd":
				continue
			}
			if e.IsDir() {
				walk(p)
				continue
			}
			if e.Type()&os.ModeDevice == 0 {
				continue
			}
			if d, err := statDevice(p); err == nil {
				out = append(out, d)
			}
		}
	}
	walk("/dev")
	return out
}

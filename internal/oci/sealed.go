package oci

import (
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// crun protects the host's binary against a container that would overwrite it through
// /proc/<pid>/exe (CVE-2019-5736): unless its /proc/self/exe is already safe, every crun
// process, even `crun --version`, bind-mounts its own binary read-only on a file in /tmp,
// unmounts it lazily and executes itself again from that handle. That second start (ten shared
// libraries linked again) and the mount and unmount cost 1.5-2 ms of each crun process here
// (`crun --version` 3.1 -> 1.7 ms).
//
// crun takes /proc/self/exe as safe when it is a memfd sealed against any change, or — with
// _LIBCONTAINER_CLONED_BINARY set in its environment — a file on a read-only mount. pea gives
// crun the second, made as crun would make it, once per pea process: a detached read-only bind
// mount of the binary (open_tree and mount_setattr: two system calls, ~20 µs, and gone with the
// process), run through /proc/<pea's pid>/fd/<n>, a path conmon's children can open too while
// pea lives, which it does for as long as they need it (pea waits for conmon's answer to a
// create, and for an exec). Where the kernel does not allow that (before Linux 5.12, or without
// CAP_SYS_ADMIN) it copies the binary into a memfd with exactly the seals crun checks for
// (~0.1-0.5 ms). Either way a container can no more change it than crun's own copy.
const sealedSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// clonedEnv marks, for crun, a binary on a read-only mount as its own safe copy.
const clonedEnv = "_LIBCONTAINER_CLONED_BINARY=1"

// safeRuntime is the safe copy of one runtime binary, made on first use.
type safeRuntime struct {
	once sync.Once
	file *os.File // kept open (and referenced) for the life of the process
	path string   // empty when no copy could be made: the binary is run from its own path
	env  []string // what the runtime's environment needs for it to take the copy as safe
}

var safeCopies sync.Map // binary path -> *safeRuntime

func (r *Runtime) safe() *safeRuntime {
	v, _ := safeCopies.LoadOrStore(r.Path, &safeRuntime{})
	s := v.(*safeRuntime)
	s.once.Do(func() {
		if !r.isCrun() || !isELF(r.Path) {
			return // only a program copies itself: a wrapper script would gain nothing
		}
		if f, err := readOnlyMount(r.Path); err == nil {
			s.file, s.env = f, []string{clonedEnv}
		} else if f, err := sealedCopy(r.Path); err == nil {
			s.file = f
		} else {
			return
		}
		s.path = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), s.file.Fd())
	})
	return s
}

// Executable is the path to execute the runtime by: a safe copy for crun when the kernel
// allows one, else the binary's own path. ExecEnv goes into the environment it runs with.
func (r *Runtime) Executable() string {
	if s := r.safe(); s.path != "" {
		return s.path
	}
	return r.Path
}

// ExecEnv is what the environment of a runtime started from Executable needs (nothing, or the
// variable that makes crun take a read-only copy as safe).
func (r *Runtime) ExecEnv() []string { return r.safe().env }

func isELF(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	_, err = f.ReadAt(magic[:], 0)
	return err == nil && string(magic[:]) == "\x7fELF"
}

// readOnlyMount returns a handle on a detached, read-only bind mount of the file at path.
func readOnlyMount(path string) (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, path, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return nil, err
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err != nil {
		unix.Close(fd)
		return nil, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Flags&unix.ST_RDONLY == 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("%s: the bind mount is not read-only", path)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// sealedCopy copies the binary at path into a memfd and seals it.
func sealedCopy(path string) (*os.File, error) {
	// MFD_EXEC keeps the memfd executable where vm.memfd_noexec would make memfds
	// non-executable by default; kernels before 6.3 do not know the flag.
	fd, err := unix.MemfdCreate("crun", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("crun", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, err
	}
	mem := os.NewFile(uintptr(fd), "crun")
	fail := func(err error) (*os.File, error) {
		mem.Close()
		return nil, err
	}
	src, err := os.Open(path)
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return fail(err)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fail(fmt.Errorf("%s is not executable", path))
	}
	for left := fi.Size(); left > 0; {
		n, err := unix.Sendfile(fd, int(src.Fd()), nil, int(left))
		if err != nil {
			return fail(err)
		}
		if n == 0 {
			return fail(fmt.Errorf("%s: shorter than its size", path))
		}
		left -= int64(n)
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, sealedSeals); err != nil {
		return fail(err)
	}
	if seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err != nil || seals != sealedSeals {
		return fail(fmt.Errorf("memfd seals %#x, want %#x", seals, sealedSeals))
	}
	return mem, nil
}

package oci

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// crun protects the host's binary against a container that would overwrite it through
// /proc/<pid>/exe (CVE-2019-5736): unless /proc/self/exe is already a memfd sealed against any
// change, every crun process, even `crun --version`, bind-mounts its own binary read-only on a
// file in /tmp, unmounts it lazily and executes itself again from that handle. That second
// start (ten shared libraries linked again) and the mount and unmount cost 1.5-2 ms of each
// crun process here (`crun --version` 3.0 -> 1.45 ms, `crun run` of a busybox bundle 9.4 ->
// 7.5 ms).
//
// pea gives crun what it would make for itself: a memfd holding a copy of the binary, sealed
// against writes, growth, shrinking and further seals — exactly the seals crun checks for (a
// container can no more change it than crun's own copy) — and runs crun from it. The copy is
// made once per pea process, the first time it runs the runtime (~0.1 ms), and executed through
// /proc/<pea's pid>/fd/<n>, a path conmon's children can open too while pea lives, which it
// does for as long as they need it (pea waits for conmon's answer to a create, and for an exec).
const sealedSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE

// sealedRuntime is the sealed copy of one runtime binary, made on first use.
type sealedRuntime struct {
	once sync.Once
	file *os.File // kept open (and referenced) for the life of the process
	path string   // empty when no copy could be made: the binary is run from its own path
}

var sealedCopies sync.Map // binary path -> *sealedRuntime

// Executable is the path to execute the runtime by: the sealed copy for crun when the kernel allows
// one, else the binary's own path.
func (r *Runtime) Executable() string {
	if !strings.Contains(filepath.Base(r.Path), "crun") {
		return r.Path
	}
	v, _ := sealedCopies.LoadOrStore(r.Path, &sealedRuntime{})
	s := v.(*sealedRuntime)
	s.once.Do(func() {
		f, err := sealedCopy(r.Path)
		if err == nil {
			s.file, s.path = f, fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd())
		}
	})
	if s.path == "" {
		return r.Path
	}
	return s.path
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
	// Only a program copies itself: a wrapper script would gain nothing from a sealed copy.
	var magic [4]byte
	if _, err := src.ReadAt(magic[:], 0); err != nil || string(magic[:]) != "\x7fELF" {
		return fail(fmt.Errorf("%s is not an ELF program", path))
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

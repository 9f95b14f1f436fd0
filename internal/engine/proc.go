package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/fsx"
	"pea/internal/oci"
)

// alive reports whether a process exists (signal 0).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := unix.Kill(pid, 0)
	return err == nil || err == unix.EPERM
}

// waitPidExit waits until pid is gone or timeout passes, using a pidfd (which works for
// processes that are not our children) and falling back to polling.
func waitPidExit(pid int, timeout time.Duration) bool {
	if pid <= 0 {
		return true
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return !alive(pid) || pollExit(pid, timeout)
	}
	defer unix.Close(fd)
	ms := int(timeout / time.Millisecond)
	if timeout < 0 {
		ms = -1
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(timeout)
	for {
		n, err := unix.Poll(fds, ms)
		if err == unix.EINTR {
			if timeout >= 0 {
				ms = int(time.Until(deadline) / time.Millisecond)
				if ms < 0 {
					ms = 0
				}
			}
			continue
		}
		return err == nil && n > 0
	}
}

func pollExit(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if timeout >= 0 && time.Now().After(deadline) {
			return false
		}
		cpupin.Sleep(10 * time.Millisecond)
	}
	return true
}

// pidfdInfo is struct pidfd_info of <linux/pidfd.h>, in its first version (64 bytes).
type pidfdInfo struct {
	Mask                                                              uint64
	CgroupID                                                          uint64
	Pid, Tgid, Ppid, Ruid, Rgid, Euid, Egid, Suid, Sgid, Fsuid, Fsgid uint32
	ExitCode                                                          int32 // a wait status
}

const (
	pidfdInfoExit = 1 << 3 // PIDFD_INFO_EXIT
	// pidfdGetInfo is PIDFD_GET_INFO, _IOWR(0xFF, 11, struct pidfd_info).
	pidfdGetInfo = 0xC0000000 | uintptr(unsafe.Sizeof(pidfdInfo{}))<<16 | 0xFF<<8 | 11
)

// pidfdExitCode asks the kernel for the exit code of the process of a pidfd taken while it
// lived, as conmon records it: the exit status, or 128 + the signal that ended it. Linux 6.15
// keeps it once the process was reaped (conmon reaps the container's, about a millisecond
// before it has written the exit file). supported is false where the kernel has no such
// request (the caller then reads conmon's exit file).
func pidfdExitCode(fd int) (code int, ok, supported bool) {
	info := pidfdInfo{Mask: pidfdInfoExit}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), pidfdGetInfo, uintptr(unsafe.Pointer(&info))); e != 0 {
		return 0, false, e != unix.ESRCH // ESRCH: reaped before this pidfd knew its exit
	}
	if info.Mask&pidfdInfoExit == 0 {
		return 0, false, true // not reaped yet
	}
	ws := unix.WaitStatus(info.ExitCode)
	switch {
	case ws.Exited():
		return ws.ExitStatus(), true, true
	case ws.Signaled():
		return 128 + int(ws.Signal()), true, true
	}
	return 0, false, false
}

// waitPidExitCode waits for process pid to end (until ctx is done) and returns its exit code
// from the kernel when it has it (see pidfdExitCode), within a few milliseconds of the end:
// known is false when the caller must read conmon's exit file instead. pidfd, when not -1, is
// a pidfd of the process taken before it could end (the caller keeps it); without one, one is
// taken now, and is too late for the code if the process ended and was reaped already.
func waitPidExitCode(ctx context.Context, pid, pidfd int) (code int, known bool, err error) {
	fd := pidfd
	if fd < 0 {
		if fd, err = unix.PidfdOpen(pid, 0); err != nil {
			for !waitPidExit(pid, 200*time.Millisecond) {
				if ctx.Err() != nil {
					return 0, false, ctx.Err()
				}
			}
			return 0, false, nil
		}
		defer unix.Close(fd)
	}
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 200)
		if n > 0 {
			break
		}
		if err != nil && err != unix.EINTR {
			return 0, false, nil
		}
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
	}
	// Ended; its parent (conmon) reaps it at once.
	for deadline := time.Now().Add(5 * time.Millisecond); ; {
		code, ok, supported := pidfdExitCode(fd)
		if ok || !supported {
			return code, ok, nil
		}
		if time.Now().After(deadline) {
			return 0, false, nil
		}
		cpupin.Sleep(50 * time.Microsecond)
	}
}

// killStaleConmon ends, with SIGKILL (no exit code written, no exit command run), the conmon
// last launched for the bundle if it still runs container id, and waits until it is gone.
// The runtime's create that conmon runs goes first, with the container's first process it made
// (both have the runtime's command line, `create` and the ID): killed alone, conmon would leave
// a create that goes on and makes the container after the caller looked for it, with a first
// process waiting for a start forever. It reports whether it killed a create: one killed
// midway may leave a state directory without its state, which the runtime cannot delete, and
// a cgroup it did not record (removeKilledCreate).
func killStaleConmon(bundle, id string) (killedCreate bool) {
	pid := oci.ConmonPID(bundle)
	if pid <= 0 {
		return false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false // gone
	}
	defer unix.Close(fd)
	// The PID is the one checked: its command line names the container (conmon's -c, see
	// oci.Launch); a PID reused by another process is left alone.
	cmdline, err := fsx.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !bytes.Contains(cmdline, []byte("\x00-c\x00"+id+"\x00")) {
		return false
	}
	// conmon is a subreaper: what a killed create leaves (its child, the container's first
	// process) becomes conmon's child, found on the next round.
	for range 20 {
		if killCreates(pid, id) == 0 {
			break
		}
		killedCreate = true
	}
	if unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == nil {
		waitPidExit(pid, 5*time.Second)
	}
	return killedCreate
}

// removeLeftContainer deletes what is left in the runtime of container id, whose cgroup is cg.
// After killedCreate (killStaleConmon) it also removes a state directory the runtime could not
// delete and the cgroup, with anything in it: the container never started.
func removeLeftContainer(rt *oci.Runtime, id, cg string, killedCreate bool) {
	if rt.Exists(id) {
		if err := rt.Delete(id, true); err != nil && killedCreate {
			os.RemoveAll(filepath.Join(rt.StateDir, id))
		}
	}
	if killedCreate && cg != "" {
		cgroups.RemoveKilling(cg)
	}
}

// killCreates SIGKILLs the children of process parent that run the runtime's create of
// container id (or are its first process, not yet started), waits until they are gone, and
// returns how many it killed. Zombies, and other children (an exit command), are left.
func killCreates(parent int, id string) int {
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(parent) + "/task")
	var kids []int
	for _, t := range tasks {
		b, err := fsx.ReadFile("/proc/" + strconv.Itoa(parent) + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range bytes.Fields(b) {
			if k, err := strconv.Atoi(string(f)); err == nil {
				kids = append(kids, k)
			}
		}
	}
	n := 0
	for _, k := range kids {
		fd, err := unix.PidfdOpen(k, 0)
		if err != nil {
			continue
		}
		dir := "/proc/" + strconv.Itoa(k)
		cmd, err1 := fsx.ReadFile(dir + "/cmdline")
		stat, err2 := fsx.ReadFile(dir + "/stat")
		zombie := err2 == nil && bytes.Contains(stat, []byte(") Z "))
		if err1 == nil && !zombie && bytes.Contains(cmd, []byte("\x00create\x00")) && bytes.Contains(cmd, []byte(id)) &&
			unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == nil {
			waitPidExit(k, 5*time.Second)
			n++
		}
		unix.Close(fd)
	}
	return n
}

// smallHeap has a pea process that lives as long as a container keep its heap in small pages
// (see cmd/pea/hugeheap.go): huge ones would double its private memory.
func smallHeap(cmd *exec.Cmd) {
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, "PEA_HUGE_HEAP=0")
}

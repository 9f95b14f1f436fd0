package engine

import (
	"time"

	"golang.org/x/sys/unix"
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
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

package engine

import (
	"context"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"

	"pea/internal/model"
)

// TestPidfdExitCode: the exit code the kernel keeps for a pidfd is the one conmon writes: the
// exit status, or 128 + the signal that ended the process. Where the kernel is older than
// 6.15 the request is unsupported, and the test says so.
func TestPidfdExitCode(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 7", 7},
		{"kill -TERM $$", 143},
		{"kill -KILL $$", 137},
	} {
		cmd := exec.Command("sh", "-c", tc.script)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd.Wait() // reaps it, as conmon does the container's
		code, ok, supported := pidfdExitCode(fd)
		if !supported {
			unix.Close(fd)
			t.Skip("the kernel keeps no exit code for pidfds (Linux 6.15 and later do)")
		}
		if !ok || code != tc.want {
			t.Errorf("%q: code %d (known %v), want %d", tc.script, code, ok, tc.want)
		}
		// waitPidExitCode with the pidfd taken before the end says the same.
		code, known, err := waitPidExitCode(context.Background(), cmd.Process.Pid, fd)
		if err != nil || !known || code != tc.want {
			t.Errorf("%q: waitPidExitCode %d (known %v, %v), want %d", tc.script, code, known, err, tc.want)
		}
		unix.Close(fd)
	}
}

// TestKnownExitTakenOnce: an exit code learned from the kernel answers exited for the process it
// came from, once (the cleanup that follows records it), and not for a later process of the
// same container.
func TestKnownExitTakenOnce(t *testing.T) {
	r := newTestRuntime(t)
	c := &model.Container{Config: &model.ContainerConfig{ID: "k"}, State: &model.ContainerState{Status: model.StatusRunning, Pid: 1 << 30}}
	r.exits.Store("k", knownExit{pid: 1 << 30, code: 7})
	if code, done := r.exited(c); !done || code != 7 {
		t.Fatalf("exited: %d %v, want 7 true", code, done)
	}
	if _, ok := r.exits.Load("k"); ok {
		t.Fatal("the known exit code stays after it was taken")
	}
	r.exits.Store("k", knownExit{pid: 1<<30 - 1, code: 9}) // an earlier process of the container
	if code, done := r.exited(c); done && code == 9 {
		t.Fatal("an exit code of another process answered")
	}
	if _, ok := r.exits.Load("k"); ok {
		t.Fatal("a stale known exit code stays")
	}
}

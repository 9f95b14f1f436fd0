package cgroups

import (
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWarmAttachWritesOwnCgroup: the C thread finds the same cgroup.procs file as the package's
// own detection, its write is accepted by the kernel (so it took the attach lock), and the
// process is still in every cgroup it was in before.
func TestWarmAttachWritesOwnCgroup(t *testing.T) {
	testHost(t)
	want := ownProcsFile()
	if want == "" {
		t.Skip("the process's cgroup is not found under /sys/fs/cgroup")
	}
	if err := unix.Access(want, unix.W_OK); err != nil {
		t.Skipf("%s is not writable here (%v): nothing to warm", want, err)
	}
	if got := warmTarget(); got != want {
		t.Fatalf("C side writes to %q, the package's detection says %q", got, want)
	}
	before, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	WarmAttach()
	WarmAttach() // while the first is on its way: no second thread
	deadline := time.Now().Add(30 * time.Second)
	for warmRunning() {
		if time.Now().After(deadline) {
			t.Fatal("the write has not returned after 30 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := warmResult(); err != nil {
		t.Fatalf("write to %s: %v", want, err)
	}
	after, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatalf("the process moved:\nbefore %s\nafter  %s", before, after)
	}
}

package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestOnStore(t *testing.T) {
	cmdline := []byte("pea\x00--root\x00/x/root\x00ps\x00")
	for root, want := range map[string]bool{"/x/root": true, "/x/roo": false, "/x/root/sub": false, "": true} {
		if got := onStore(cmdline, root); got != want {
			t.Errorf("onStore(%q) = %v, want %v", root, got, want)
		}
	}
}

// TestLeftoverWait: a process of an engine's binary with the engine's store on its command line
// is found and waited for; the wait ends when it does.
func TestLeftoverWait(t *testing.T) {
	root := t.TempDir()
	w := &leftoverWaiter{}
	w.setEngines([]*engine{{name: "sh", bin: "sh", root: root}})
	cmd := exec.Command("sh", "-c", "sleep 0.3", root)
	other := exec.Command("sh", "-c", "sleep 5", root+"-other")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	if pids := w.find(); !slices.Contains(pids, cmd.Process.Pid) || slices.Contains(pids, other.Process.Pid) {
		t.Fatalf("find() = %v; want %d and not %d", pids, cmd.Process.Pid, other.Process.Pid)
	}
	go cmd.Wait() // reap it, or it stays as a zombie whose cmdline is empty but exe lingers
	start := time.Now()
	w.wait(context.Background())
	if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
		t.Errorf("waited %v for a process that lived 0.3 s", d)
	}
	if len(w.waits) != 1 || w.checks != 1 || w.capHits != 0 {
		t.Errorf("waits %v, checks %d, cut %d; want one wait, not cut", w.waits, w.checks, w.capHits)
	}
	w.wait(context.Background()) // nothing left: no wait
	if len(w.waits) != 1 || w.checks != 2 {
		t.Errorf("a check with nothing left counted as a wait: %v", w.waits)
	}
}

// resolveBin turns a command name, as -podman may give it, into the file /proc/PID/exe names;
// a missing one is reported, not guessed.
func TestResolveBin(t *testing.T) {
	want, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	if want, err = filepath.EvalSymlinks(want); err != nil {
		t.Fatal(err)
	}
	if got, ok := resolveBin("sh"); !ok || got != want {
		t.Errorf("resolveBin(sh) = %q, %v; want %q", got, ok, want)
	}
	if got, ok := resolveBin(filepath.Join(t.TempDir(), "nothing")); ok {
		t.Errorf("a missing binary resolved to %q", got)
	}
}

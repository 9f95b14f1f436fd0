package oci_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/oci"
)

// TestExecutableIsASealedCopyOfCrun: crun is run from a memfd holding its bytes, sealed with
// exactly the seals crun checks for, and a crun started from it runs a container without
// copying itself again (a crun that re-executes itself from its own copy marks its environment
// with _LIBCONTAINER_CLONED_BINARY, and /proc/<pid>/exe names the copy).
func TestExecutableIsASealedCopyOfCrun(t *testing.T) {
	h := newCrunHarness(t)
	r := &oci.Runtime{Path: h.crun, StateDir: h.state}
	path := r.Executable()
	if path == h.crun || !strings.HasPrefix(path, "/proc/"+strconv.Itoa(os.Getpid())+"/fd/") {
		t.Fatalf("Executable() = %q, want a /proc/%d/fd path", path, os.Getpid())
	}
	if again := r.Executable(); again != path {
		t.Fatalf("a second call made another copy: %q, then %q", path, again)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE; seals != want {
		t.Fatalf("seals %#x, want %#x", seals, want)
	}
	copied, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(h.crun)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(copied, orig) {
		t.Fatalf("the copy (%d bytes) is not crun (%d bytes)", len(copied), len(orig))
	}
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("the sealed copy took a write")
	}

	// A container run by crun from the copy: while it sleeps, crun waits for it.
	bundle := filepath.Join(h.dir, "sealed")
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(crunSpec(h.rootfs, filepath.Join(h.cgroup, "sealed"), oci.DefaultCapabilities, nil, []string{"sleep", "30"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path, "--root", h.state, "run", "--bundle", bundle, "sealed")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(h.crun, "--root", h.state, "kill", "sealed", "KILL").Run()
		cmd.Wait()
		exec.Command(h.crun, "--root", h.state, "delete", "--force", "sealed").Run()
	})
	pid := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command(h.crun, "--root", h.state, "state", "sealed").Output()
		if strings.Contains(string(out), `"running"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not start: %s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	env, err := os.ReadFile("/proc/" + pid + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(env, []byte("_LIBCONTAINER_CLONED_BINARY")) {
		t.Fatal("crun re-executed itself from a copy of its own")
	}
	if exe, _ := os.Readlink("/proc/" + pid + "/exe"); !strings.Contains(exe, "memfd:crun") {
		t.Fatalf("crun runs from %q, not from the sealed copy", exe)
	}
}

// TestExecutableOfOtherRuntimesIsTheirPath: only crun is copied; a wrapper script named crun is
// run from its own path (a copy would gain nothing: the program it starts copies itself).
func TestExecutableOfOtherRuntimesIsTheirPath(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "crun")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{script, "/usr/bin/runc-not-crun"} {
		if got := (&oci.Runtime{Path: p}).Executable(); got != p {
			t.Errorf("Executable() of %s = %q", p, got)
		}
	}
}

package oci_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/oci"
)

// runSleeping runs a sleeping container with `crun run` started from exe with env added, and
// returns the crun process's PID once the container runs.
func (h *crunHarness) runSleeping(t *testing.T, id, exe string, env []string) string {
	t.Helper()
	bundle := filepath.Join(h.dir, id)
	if err := os.MkdirAll(bundle, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(crunSpec(h.rootfs, filepath.Join(h.cgroup, id), oci.DefaultCapabilities, nil, []string{"sleep", "30"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--root", h.state, "run", "--bundle", bundle, id)
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command(h.crun, "--root", h.state, "kill", id, "KILL").Run()
		cmd.Wait()
		exec.Command(h.crun, "--root", h.state, "delete", "--force", id).Run()
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command(h.crun, "--root", h.state, "state", id).Output()
		if strings.Contains(string(out), `"running"`) {
			return strconv.Itoa(cmd.Process.Pid)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not start: %s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mountID(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &st); err != nil {
		t.Fatal(err)
	}
	return st.Mnt_id
}

func sameBytes(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s (%d bytes) is not %s (%d bytes)", a, len(x), b, len(y))
	}
}

// TestExecutableIsAReadOnlyCopyOfCrun: as root, crun is run from a read-only bind mount of its
// binary, with the variable that makes crun take it as its own safe copy, and a crun started
// from it runs a container without copying itself again (a crun that does runs from a copy of
// its own, on another mount — as crun started from its installed path does).
func TestExecutableIsAReadOnlyCopyOfCrun(t *testing.T) {
	h := newCrunHarness(t)
	if f, err := oci.ReadOnlyMount(h.crun); err != nil {
		t.Skipf("this kernel refuses a detached read-only bind mount (open_tree, mount_setattr): %v; the memfd copy is tested on its own", err)
	} else {
		f.Close()
	}
	r := &oci.Runtime{Path: h.crun, StateDir: h.state}
	path := r.Executable()
	if path == h.crun || !strings.HasPrefix(path, "/proc/"+strconv.Itoa(os.Getpid())+"/fd/") {
		t.Fatalf("Executable() = %q, want a /proc/%d/fd path", path, os.Getpid())
	}
	if again := r.Executable(); again != path {
		t.Fatalf("a second call made another copy: %q, then %q", path, again)
	}
	if env := r.ExecEnv(); !slices.Equal(env, []string{"_LIBCONTAINER_CLONED_BINARY=1"}) {
		t.Fatalf("ExecEnv() = %q", env)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil || st.Flags&unix.ST_RDONLY == 0 {
		t.Fatalf("the copy's mount is not read-only: %v, flags %#x", err, st.Flags)
	}
	if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatal("the copy opens for writing")
	}
	sameBytes(t, path, h.crun)

	pid := h.runSleeping(t, "robind", path, r.ExecEnv())
	if got, want := mountID(t, "/proc/"+pid+"/exe"), mountID(t, path); got != want {
		t.Fatalf("crun runs from mount %d, not from pea's read-only copy (mount %d): it copied itself again", got, want)
	}
	// The check sees a copy: crun started from its installed path runs from one of its own.
	pid = h.runSleeping(t, "installed", h.crun, nil)
	if got, installed := mountID(t, "/proc/"+pid+"/exe"), mountID(t, h.crun); got == installed {
		t.Fatalf("crun started from %s runs from its mount (%d): this crun does not copy itself, the test shows nothing", h.crun, got)
	}
}

// TestSealedCopyOfCrun: the fallback, a memfd holding crun's bytes sealed with exactly the
// seals crun checks for; a crun started from it runs a container without copying itself again
// (one that does marks its environment with _LIBCONTAINER_CLONED_BINARY).
func TestSealedCopyOfCrun(t *testing.T) {
	h := newCrunHarness(t)
	f, err := oci.SealedCopy(h.crun)
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
	path := fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), f.Fd())
	sameBytes(t, path, h.crun)
	if _, err := f.Write([]byte("x")); err == nil {
		t.Fatal("the sealed copy took a write")
	}
	pid := h.runSleeping(t, "sealed", path, nil)
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
		r := &oci.Runtime{Path: p}
		if got := r.Executable(); got != p || len(r.ExecEnv()) != 0 {
			t.Errorf("Executable() of %s = %q, ExecEnv %q", p, got, r.ExecEnv())
		}
	}
}

// TestDefaultSeccompKey: the key of pea's default profile follows the capabilities (in any
// order or case) and the runtime, and is empty for a runtime that is not crun.
func TestDefaultSeccompKey(t *testing.T) {
	dir := t.TempDir()
	crun := filepath.Join(dir, "crun")
	if err := os.WriteFile(crun, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &oci.Runtime{Path: crun}
	a := r.DefaultSeccompKey([]string{"CAP_CHOWN", "CAP_KILL"})
	if a == "" || a != r.DefaultSeccompKey([]string{"cap_kill", "CAP_CHOWN"}) {
		t.Fatalf("not stable across order and case: %q", a)
	}
	if a == r.DefaultSeccompKey([]string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_ADMIN"}) {
		t.Fatal("a capability more (which changes the profile) keeps the key")
	}
	os.WriteFile(crun, []byte("#!/bin/sh\n# upgraded\n"), 0o755)
	if a == r.DefaultSeccompKey([]string{"CAP_CHOWN", "CAP_KILL"}) {
		t.Fatal("another runtime binary keeps the key")
	}
	if k := (&oci.Runtime{Path: "/usr/bin/runc"}).DefaultSeccompKey([]string{"CAP_KILL"}); k != "" {
		t.Fatalf("runc: %q", k)
	}
}

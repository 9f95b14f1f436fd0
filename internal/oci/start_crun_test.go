package oci_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/oci"
)

// createForStart makes a container with `crun create` (no conmon) whose process writes "ran" to
// a file of the host, and returns the file's path.
func (h *crunHarness) createForStart(t *testing.T, id string) string {
	t.Helper()
	bundle := filepath.Join(h.dir, id)
	out := filepath.Join(h.dir, id+"-out")
	for _, d := range []string{bundle, out} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := crunSpec(h.rootfs, filepath.Join(h.cgroup, id), oci.DefaultCapabilities, nil, []string{"sh", "-c", "echo ran > /mnt/out"})
	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/mnt", Type: "bind", Source: out, Options: []string{"rbind"}})
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command(h.crun, "--root", h.state, "delete", "--force", id).Run() })
	// Not CombinedOutput: the container's process would hold the pipe open.
	errFile := filepath.Join(h.dir, id+"-stderr")
	f, err := os.Create(errFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(h.crun, "--root", h.state, "create", "--bundle", bundle, id)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		b, _ := os.ReadFile(errFile)
		t.Fatalf("crun create: %v: %s", err, b)
	}
	return filepath.Join(out, "out")
}

// recordingCrun is a program named crun that logs its verbs and runs the real crun.
func recordingCrun(t *testing.T, real string) (path, log string) {
	dir := t.TempDir()
	path, log = filepath.Join(dir, "crun"), filepath.Join(dir, "log")
	script := fmt.Sprintf("#!/bin/sh\necho \"$2\" >> %s\nexec %s \"$@\"\n", log, real)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, log
}

// TestStartReleasesCrunsExecFifo: Start lets a container crun created run without running
// `crun start`, and crun then sees it started; a container whose init is gone, or one crun does
// not know, gets crun start's error, not a hang.
func TestStartReleasesCrunsExecFifo(t *testing.T) {
	h := newCrunHarness(t)
	wrapper, log := recordingCrun(t, h.crun)
	rt := &oci.Runtime{Path: wrapper, StateDir: h.state}

	id := fmt.Sprintf("pea-oci-start-%d", os.Getpid())
	out := h.createForStart(t, id)
	if err := rt.Start(id); err != nil {
		t.Fatalf("start: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) == "ran" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container's process did not run after Start")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "start") {
		t.Fatalf("crun start was run:\n%s", b)
	}
	if _, err := os.Lstat(filepath.Join(h.state, id, "exec.fifo")); !os.IsNotExist(err) {
		t.Fatalf("exec.fifo is still there: %v", err)
	}
	state, err := exec.Command(h.crun, "--root", h.state, "state", id).Output()
	if err != nil {
		t.Fatalf("crun state: %v", err)
	}
	var st struct{ Status string }
	if err := json.Unmarshal(state, &st); err != nil || st.Status != "running" && st.Status != "stopped" {
		t.Fatalf("crun sees the container %q (%v), want running or stopped:\n%s", st.Status, err, state)
	}

	// The init killed before the start: no reader on the fifo.
	dead := id + "-dead"
	h.createForStart(t, dead)
	if b, err := exec.Command(h.crun, "--root", h.state, "kill", dead, "KILL").CombinedOutput(); err != nil {
		t.Fatalf("crun kill: %v: %s", err, b)
	}
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(5 * time.Millisecond) {
		if b, _ := exec.Command(h.crun, "--root", h.state, "state", dead).Output(); strings.Contains(string(b), `"status": "stopped"`) {
			break
		}
	}
	done := make(chan error, 1)
	go func() { done <- rt.Start(dead) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("start of a container whose init is gone succeeded")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("start of a container whose init is gone hangs")
	}
	if err := rt.Start("pea-oci-start-nonexistent"); err == nil {
		t.Fatal("start of a container crun does not know succeeded")
	}
}

// TestDeleteEndedWithoutCrun: Delete of a container whose process has ended removes crun's
// state and the container's cgroup without running `crun delete`, and crun no longer knows the
// container; a container whose init still lives goes to `crun delete`. (Here the ended init
// may stay a zombie for a while, crun create's child with no subreaper to reap it: that counts
// as ended, as it does for crun.)
func TestDeleteEndedWithoutCrun(t *testing.T) {
	h := newCrunHarness(t)
	wrapper, log := recordingCrun(t, h.crun)
	rt := &oci.Runtime{Path: wrapper, StateDir: h.state}

	id := fmt.Sprintf("pea-oci-delete-%d", os.Getpid())
	out := h.createForStart(t, id)
	if err := rt.Start(id); err != nil {
		t.Fatalf("start: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := exec.Command(h.crun, "--root", h.state, "state", id).Output()
		if strings.Contains(string(b), `"status": "stopped"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the container did not stop:\n%s", b)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if b, _ := os.ReadFile(out); strings.TrimSpace(string(b)) != "ran" {
		t.Fatalf("the container's process did not run: %q", b)
	}
	cgroupDirs := func(id string) []string {
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup/*", h.cgroup, id))
		more, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", h.cgroup, id))
		return append(dirs, more...)
	}
	if len(cgroupDirs(id)) == 0 {
		t.Fatal("test setup: crun made no cgroup for the container")
	}
	if err := rt.Delete(id, true); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "delete") {
		t.Fatalf("crun delete was run for an ended container:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(h.state, id)); !os.IsNotExist(err) {
		t.Fatalf("crun's state directory is still there: %v", err)
	}
	if left := cgroupDirs(id); len(left) > 0 {
		t.Fatalf("cgroups left behind: %v", left)
	}
	if err := exec.Command(h.crun, "--root", h.state, "state", id).Run(); err == nil {
		t.Fatal("crun still knows the deleted container")
	}

	// Created, not started: its init waits on the exec.fifo, alive.
	live := id + "-live"
	h.createForStart(t, live)
	if err := rt.Delete(live, true); err != nil {
		t.Fatalf("delete of a live container: %v", err)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "delete") {
		t.Fatal("a container whose init lives was deleted without crun delete")
	}
	if _, err := os.Stat(filepath.Join(h.state, live)); !os.IsNotExist(err) {
		t.Fatalf("crun's state directory of the live container is still there: %v", err)
	}
}

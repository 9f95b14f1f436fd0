package engine

import (
	"context"
	"os"
	"strings"
	"testing"

	"pea/internal/errdefs"
	"pea/internal/model"
)

func newTestRuntime(t *testing.T) *Runtime {
	t.Helper()
	dir := t.TempDir()
	r, err := New(Options{Root: dir + "/root", RunRoot: dir + "/run"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// TestRemovedPodHandle: a handle to a pod that another process removed fails with "pod removed",
// never a crash, and leaves no lock file behind.
func TestRemovedPodHandle(t *testing.T) {
	ctx := context.Background()
	a, b := newTestRuntime(t), newTestRuntime(t)
	b.opts = a.opts // two processes on one store
	cfg := &model.PodConfig{Name: "gone", ExitPolicy: model.ExitPolicyContinue}
	pod, err := a.CreatePod(ctx, cfg, PodCreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.RemovePod(ctx, "gone", PodRemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.lockPod(pod.Config.ID); !errdefs.Is(err, errdefs.ErrPodRemoved) {
		t.Fatalf("lock of a removed pod: %v", err)
	}
	member := &model.ContainerConfig{Name: "late", Pod: pod.Config.ID, Entrypoint: []string{"true"}}
	if _, err := a.CreateContainer(ctx, member, CreateOptions{}); !errdefs.Is(err, errdefs.ErrPodRemoved) {
		t.Fatalf("a member of a removed pod: %v", err)
	}
	if _, err := a.StartPod(ctx, pod.Config.ID); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("start of a removed pod: %v", err)
	}
	if left, _ := readDirNames(a.locks.Dir()); len(left) > 1 || len(left) == 1 && left[0] != "refresh" {
		t.Fatalf("lock files left: %v", left)
	}
}

func readDirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, err
}

// TestGeneratedPodNameTaken: a generated pod name that is taken is drawn again (pod create failed
// with "name already in use" once a store held a few dozen pods), and the pod's default hostname
// is the name it got.
func TestGeneratedPodNameTaken(t *testing.T) {
	ctx := context.Background()
	r := newTestRuntime(t)
	if _, err := r.CreatePod(ctx, &model.PodConfig{Name: "taken_name"}, PodCreateOptions{}); err != nil {
		t.Fatal(err)
	}
	draws := []string{"taken_name", "taken_name", "free_name"}
	old := randomName
	t.Cleanup(func() { randomName = old })
	randomName = func() string { n := draws[0]; draws = draws[1:]; return n }
	pod, err := r.CreatePod(ctx, &model.PodConfig{}, PodCreateOptions{})
	if err != nil {
		t.Fatalf("pod create with a taken generated name: %v", err)
	}
	if pod.Config.Name != "free_name" || pod.Config.Hostname != "free_name" {
		t.Fatalf("name %q, hostname %q: want free_name for both", pod.Config.Name, pod.Config.Hostname)
	}
	if _, err := r.CreatePod(ctx, &model.PodConfig{Name: "taken_name"}, PodCreateOptions{}); !errdefs.Is(err, errdefs.ErrExists) {
		t.Fatalf("a name the user gave that is taken: %v", err)
	}
	// Every draw taken: the error says what to do, and no pod is left half-made.
	randomName = func() string { return "taken_name" }
	_, err = r.CreatePod(ctx, &model.PodConfig{}, PodCreateOptions{})
	if !errdefs.Is(err, errdefs.ErrExists) || !strings.Contains(err.Error(), "--name") {
		t.Fatalf("no free generated name: %v", err)
	}
	if pods, _ := r.ListPods(); len(pods) != 2 {
		t.Fatalf("%d pods after the failed create, want 2", len(pods))
	}
}

// TestNoWarmUpForMissingObjects: a start, exec or pod start of something that does not exist
// fails without readying the cgroup attach lock: the failing command would otherwise wait for a
// kernel grace period (5-20 ms here) at its exit.
func TestNoWarmUpForMissingObjects(t *testing.T) {
	r := newTestRuntime(t)
	calls := 0
	old := warmAttach
	warmAttach = func() { calls++ }
	t.Cleanup(func() { warmAttach = old })
	ctx := context.Background()
	if _, err := r.StartContainer(ctx, "nosuch", nil); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("start: %v", err)
	}
	if _, err := r.Exec(ctx, "nosuch", ExecOptions{Cmd: []string{"true"}}); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("exec: %v", err)
	}
	if _, err := r.StartPod(ctx, "nosuch"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("pod start: %v", err)
	}
	if calls != 0 {
		t.Fatalf("the attach lock was readied %d times for objects that do not exist", calls)
	}
}

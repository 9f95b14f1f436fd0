package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podman kube play/down/generate and generate systemd --remote, against pea's kube package
// and pea generate systemd: what the client prints is what pea's own commands print.
func TestLibpodKube(t *testing.T) {
	a := newAPIEnv(t)
	yaml := filepath.Join(t.TempDir(), "pod.yaml")
	os.WriteFile(yaml, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: kp
spec:
  containers:
  - name: web
    image: localhost/bb
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
  - name: side
    image: localhost/bb
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"]
    env:
    - name: GREETING
      value: hi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: claim1
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`), 0o644)
	out := a.mustPodman("kube", "play", yaml)
	podID := a.Pea("pod", "inspect", "--format", "{{.ID}}", "kp")
	web := a.Pea("inspect", "--format", "{{.ID}}", "kp-web")
	side := a.Pea("inspect", "--format", "{{.ID}}", "kp-side")
	if want := "Volumes:\nclaim1\nPod:\n" + podID + "\nContainers:\n" + web + "\n" + side; out != want {
		t.Fatalf("kube play printed %q, want %q", out, want)
	}
	if got := a.Pea("ps", "--format", "{{.Names}}", "--filter", "pod=kp", "--filter", "status=running", "--sort", "names"); !strings.Contains(got, "kp-side") || !strings.Contains(got, "kp-web") {
		t.Fatalf("the pod's containers: %q", got)
	}
	if got := a.Pea("exec", "kp-side", "sh", "-c", "echo $GREETING"); got != "hi" {
		t.Fatalf("env of kp-side: %q", got)
	}
	if r := a.podmanRemote("kube", "play", yaml); r.Code != 125 || !strings.Contains(r.Stderr, "already exists") {
		t.Fatalf("a second play: %s", r)
	}

	// generate: the same YAML as pea kube generate's; the systemd units pea generate systemd's.
	if got, want := a.mustPodman("kube", "generate", "kp"), a.Pea("kube", "generate", "kp"); got != want {
		t.Fatalf("kube generate: %q\npea kube generate: %q", got, want)
	}
	if r := a.podmanRemote("generate", "kube", "nope"); r.Code != 125 || !strings.Contains(r.Stderr, "nope") {
		t.Fatalf("generate kube nope: %s", r)
	}
	units := func(out string) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("units %q: %v", out, err)
		}
		return m
	}
	flags := []string{"--no-header", "--name", "--restart-policy", "always", "--restart-sec", "3", "--after", "x.target", "--format", "json"}
	got := units(a.mustPodman(append(append([]string{"generate", "systemd"}, flags...), "kp")...))
	want := units(a.Pea(append(append([]string{"generate", "systemd"}, flags...), "kp")...))
	if len(got) != 3 || got["pod-kp"] != want["pod-kp"] || got["container-kp-web"] != want["container-kp-web"] ||
		!strings.Contains(got["pod-kp"], "ExecStart="+peaBin+" --root "+a.Root) || !strings.Contains(got["pod-kp"], "RestartSec=3\n") {
		t.Fatalf("generate systemd: %q\npea generate systemd: %q", got, want)
	}
	// --new re-reads the command that made a container with pea run's flags.
	a.Pea("create", "--name", "made", "-e", "K=V", "localhost/bb", "sleep", "1")
	gotNew := a.mustPodman("generate", "systemd", "--new", "--no-header", "--name", "made")
	if wantNew := a.Pea("generate", "systemd", "--new", "--no-header", "--name", "made"); gotNew != wantNew || !strings.Contains(gotNew, "--env=K=V localhost/bb sleep 1") {
		t.Fatalf("generate systemd --new: %q\npea generate systemd --new: %q", gotNew, wantNew)
	}
	if r := a.podmanRemote("generate", "systemd", "nope"); r.Code != 125 || !strings.Contains(r.Stderr, "nope") {
		t.Fatalf("generate systemd nope: %s", r)
	}
	if r := a.podmanRemote("generate", "systemd", "--restart-policy", "bogus", "kp"); r.Code != 125 || !strings.Contains(r.Stderr, "bogus") {
		t.Fatalf("generate systemd --restart-policy bogus: %s", r)
	}

	// --replace tears the pod down first (the client's DELETE), then plays it again; the
	// second play's options reach the pods.
	out = a.mustPodman("kube", "play", "--replace", "--start=false", "--annotation", "team=blue", yaml)
	newID := a.Pea("pod", "inspect", "--format", "{{.ID}}", "kp")
	if !strings.HasPrefix(out, "Pods stopped:\n"+podID+"\nPods removed:\n"+podID+"\n") || !strings.Contains(out, "Pod:\n"+newID+"\n") || newID == podID {
		t.Fatalf("kube play --replace: %q (old pod %s, new %s)", out, podID, newID)
	}
	if got := a.Pea("inspect", "--format", "{{.State.Status}} {{index .Config.Annotations \"team\"}}", "kp-web"); got != "created blue" {
		t.Fatalf("after play --replace --start=false --annotation: %q", got)
	}

	// down removes the pods; the claim's volume stays (the 4.3 client has no --force).
	if out := a.mustPodman("kube", "down", yaml); out != "Pods stopped:\n"+newID+"\nPods removed:\n"+newID {
		t.Fatalf("kube down: %q", out)
	}
	if got := a.Pea("pod", "ps", "-q"); got != "" {
		t.Fatalf("pods after kube down: %q", got)
	}
	if got := a.Pea("volume", "ls", "-q"); got != "claim1" {
		t.Fatalf("volumes after kube down: %q", got)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("kind: Pod\nmetadata: [\n"), 0o644)
	if r := a.podmanRemote("kube", "play", bad); r.Code != 125 {
		t.Fatalf("kube play of bad YAML: %s", r)
	}
}

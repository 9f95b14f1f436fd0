package tests

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kube play --service-container, --wait and the sd-notify handshake (podman's service
// container for systemd units; see internal/kube/service.go and engine/service.go).

// waitingPod is a Pod whose one container runs until a file /tmp/stop appears in it.
func waitingPod(name string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: localhost/bb:latest
    command: [sh, -c, "until test -e /tmp/stop; do sleep 0.1; done"]
`
}

// serviceNameOf is podman's name of the service container of a YAML file: the first 12 hex
// digits of its SHA-256, and "-service".
func serviceNameOf(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12] + "-service"
}

// kubeAllGone checks that nothing of the given containers and pods (full IDs) is left: no
// store object, no conmon or other process naming them, no mount under the store, no network
// namespace pin, no cgroup.
func (e *Env) kubeAllGone(ids ...string) {
	e.t.Helper()
	e.kubeNothingLeft()
	assertNothingLeft(e.t, e)
	if data, _ := os.ReadFile("/proc/self/mounts"); bytes.Contains(data, []byte(" "+e.Dir+"/")) {
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, " "+e.Dir+"/") {
				e.t.Errorf("mount left: %s", l)
			}
		}
	}
	if pins, _ := os.ReadDir(filepath.Join(e.RunRoot, "network", "netns")); len(pins) > 0 {
		e.t.Errorf("network namespace pins left: %v", pins)
	}
	for _, id := range ids {
		for _, pat := range []string{"/sys/fs/cgroup/*/pea/*" + id + "*", "/sys/fs/cgroup/*/pea/*/*" + id + "*", "/sys/fs/cgroup/pea/*" + id + "*", "/sys/fs/cgroup/pea/*/*" + id + "*"} {
			if m, _ := filepath.Glob(pat); len(m) > 0 {
				e.t.Errorf("cgroups left: %v", m)
			}
		}
		if out, _ := exec.Command("pgrep", "-af", id).Output(); len(out) > 0 {
			e.t.Errorf("processes of %s left: %s", id[:12], out)
		}
	}
}

// ids returns the full IDs of every container and pod of e.
func (e *Env) ids() []string {
	e.t.Helper()
	return strings.Fields(e.Pea("ps", "-aq", "--no-trunc") + "\n" + e.Pea("pod", "ps", "-q", "--no-trunc"))
}

// statusOf is a container's State.Status.
func (e *Env) statusOf(ctr string) string {
	e.t.Helper()
	return e.Pea("inspect", "--format", "{{.State.Status}}", ctr)
}

// The service container: made and started before the pods, named as podman names it, flagged
// IsService, catatonit with no network, named by every pod; refused removal while they
// exist; exits once every container of every pod of the YAML has (not before), and kube down
// removes it with the pods, leaving nothing.
func TestKubeServiceContainerLifecycle(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("svc.yaml", waitingPod("sva")+"---\n"+waitingPod("svb"))
	svc := serviceNameOf(t, y)
	out := e.Pea("kube", "play", "--service-container", y)
	if !regexp.MustCompile(`^Pod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}\n\nPod:\n[0-9a-f]{64}\nContainer:\n[0-9a-f]{64}$`).MatchString(out) {
		t.Errorf("play output %q (the service container is not listed, as podman's)", out)
	}
	got := e.Pea("inspect", "--format", "{{.IsService}} {{.IsInfra}} {{.State.Status}} {{.Path}} {{.Args}} {{.HostConfig.NetworkMode}} {{.Pod}}|{{.Config.SdNotifyMode}}", svc)
	if got != "true false running /catatonit [-P] none |ignore" {
		t.Fatalf("service container %s: %q", svc, got)
	}
	svcID := e.Pea("inspect", "--format", "{{.ID}}", svc)
	for _, c := range []string{"sva-main", "svb-main"} {
		if got := e.Pea("inspect", "--format", "{{.IsService}} {{.State.Status}}", c); got != "false running" {
			t.Errorf("%s: %q", c, got)
		}
	}
	// Started first: before either pod's infra container.
	svcStart := e.Pea("inspect", "--format", "{{.State.StartedAt.UnixNano}}", svc)
	for _, p := range []string{"sva", "svb"} {
		infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", p)
		if s := e.Pea("inspect", "--format", "{{.State.StartedAt.UnixNano}}", infra); s < svcStart {
			t.Errorf("pod %s's infra started at %s, before the service container (%s)", p, s, svcStart)
		}
	}
	if ps := e.Pea("ps", "--format", "{{.Names}}"); !strings.Contains(ps, svc) {
		t.Errorf("ps does not show the running service container: %q", ps)
	}
	r := e.Fails(125, "rm", "-f", svc)
	if !strings.Contains(r.Stderr, "is the service container of pod(s)") || !strings.Contains(r.Stderr, "cannot be removed without removing the pod(s)") {
		t.Errorf("rm of the service container: %s", r)
	}
	e.Fails(125, "kube", "play", "--service-container", "--start=false", y)

	e.Pea("exec", "sva-main", "touch", "/tmp/stop")
	eventually(t, 10*time.Second, func() error {
		if s := e.statusOf("sva-main"); s != "exited" {
			return fmt.Errorf("sva-main is %s", s)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // the exit's cleanup has run by now
	if s := e.statusOf(svc); s != "running" {
		t.Fatalf("the service container is %s while pod svb still runs", s)
	}
	conmon := e.Pea("inspect", "--format", "{{.State.ConmonPid}}", svc)
	e.Pea("exec", "svb-main", "touch", "/tmp/stop")
	eventually(t, 15*time.Second, func() error {
		if s := e.statusOf(svc); s != "exited" {
			return fmt.Errorf("service container is %s after every pod's container exited", s)
		}
		return nil
	})
	if code := e.Pea("inspect", "--format", "{{.State.ExitCode}}", svc); code != "0" {
		t.Errorf("service container exit code %s", code)
	}
	eventually(t, 5*time.Second, func() error {
		if _, err := os.Stat("/proc/" + conmon); err == nil {
			return fmt.Errorf("the service container's conmon %s (a unit's main PID) still runs", conmon)
		}
		return nil
	})
	ids := e.ids()
	if !strings.Contains(strings.Join(ids, " "), svcID) {
		t.Fatalf("service container %s gone before kube down", svcID)
	}
	down := e.Pea("kube", "down", y)
	if strings.Contains(down, svcID) {
		t.Errorf("kube down lists the service container: %q", down)
	}
	e.kubeAllGone(ids...)
}

// --replace replaces the pods and the service container; a changed YAML (another service
// container name) still removes the old one; pod rm of the last pod takes it too.
func TestKubeServiceContainerReplace(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("rep.yaml", waitingPod("rep"))
	e.Pea("kube", "play", "--service-container", y)
	svc := serviceNameOf(t, y)
	first := e.Pea("inspect", "--format", "{{.ID}}", svc)
	firstPod := e.Pea("pod", "inspect", "--format", "{{.ID}}", "rep")
	gone := e.ids()
	e.Pea("kube", "play", "--replace", "--service-container", y)
	second := e.Pea("inspect", "--format", "{{.ID}} {{.State.Status}}", svc)
	if second == first+" running" || !strings.HasSuffix(second, " running") {
		t.Fatalf("service container after --replace: %q (was %s)", second, first)
	}
	if r := e.Try("container", "exists", first); r.Code != 1 {
		t.Errorf("the replaced service container %s is still there: %s", first[:12], r)
	}
	if r := e.Try("pod", "exists", firstPod); r.Code != 1 {
		t.Errorf("the replaced pod is still there")
	}
	// The YAML changes: its service container's name does too, and the old one goes.
	os.WriteFile(y, []byte(waitingPod("rep")+"# changed\n"), 0o644)
	e.Pea("kube", "play", "--replace", "--service-container", y)
	if r := e.Try("container", "exists", svc); r.Code != 1 {
		t.Errorf("the service container of the old YAML (%s) is still there: %s", svc, r)
	}
	svc2 := serviceNameOf(t, y)
	if s := e.statusOf(svc2); s != "running" {
		t.Fatalf("new service container %s: %s", svc2, s)
	}
	gone = append(gone, e.ids()...)
	e.Pea("pod", "rm", "-f", "-t", "0", "rep") // the last pod takes its service container along
	e.kubeAllGone(gone...)
}

// A user's stop of the pod's last container, or of the pod, stops the service container; the
// pod's start starts it again first. rm -fa removes it with the pods.
func TestKubeServiceContainerStopStart(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("ss.yaml", waitingPod("ss"))
	e.Pea("kube", "play", "--service-container", y)
	svc := serviceNameOf(t, y)
	waitStatus := func(want string) {
		t.Helper()
		eventually(t, 15*time.Second, func() error {
			if s := e.statusOf(svc); s != want {
				return fmt.Errorf("service container %s, want %s", s, want)
			}
			return nil
		})
	}
	e.Pea("stop", "-t", "0", "ss-main")
	waitStatus("exited")
	e.Pea("pod", "start", "ss")
	if s := e.statusOf(svc); s != "running" {
		t.Fatalf("pod start left the service container %s", s)
	}
	e.Pea("pod", "stop", "-t", "0", "ss")
	waitStatus("exited")
	e.Pea("pod", "start", "ss")
	ids := e.ids()
	svcID := e.Pea("inspect", "--format", "{{.ID}}", svc)
	out := e.Pea("rm", "-fa", "-t", "0")
	if !strings.Contains(out, svcID) {
		t.Errorf("rm -fa does not list the service container %s: %q", svcID[:12], out)
	}
	e.kubeAllGone(ids...)
}

// --wait: play stays until the pods' containers exit, then removes what it made (claims'
// volumes too); a SIGTERM brings it all down at once.
func TestKubePlayWait(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("wait.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: wclaim}
---
apiVersion: v1
kind: Pod
metadata: {name: wquick}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: localhost/bb:latest
    command: [sh, -c, "echo hi > /data/x; sleep 1"]
    volumeMounts: [{name: d, mountPath: /data}]
  volumes:
  - {name: d, persistentVolumeClaim: {claimName: wclaim}}
`)
	start := time.Now()
	out := e.Pea("kube", "play", "--wait", y)
	if !strings.HasPrefix(out, "Use ctrl+c to clean up or wait for pods to exit\n") || !strings.HasSuffix(out, "\nCleaning up containers, pods, and volumes...") ||
		!strings.Contains(out, "Volumes:\nwclaim\nPod:\n") {
		t.Errorf("--wait output %q", out)
	}
	if time.Since(start) < time.Second {
		t.Errorf("--wait returned after %v, before the pod's container (sleep 1) exited", time.Since(start))
	}
	e.kubeAllGone()

	long := e.kubeFile("long.yaml", waitingPod("wlong"))
	cmd := exec.Command(peaBin, e.args("kube", "play", "--wait", long)...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	eventually(t, 20*time.Second, func() error {
		if r := e.Try("inspect", "--format", "{{.State.Status}}", "wlong-main"); strings.TrimSpace(r.Stdout) != "running" {
			return fmt.Errorf("wlong-main: %s", r)
		}
		return nil
	})
	ids := e.ids()
	select {
	case err := <-done:
		t.Fatalf("--wait returned while the pod runs: %v %s", err, stdout.String())
	case <-time.After(500 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("--wait after SIGTERM: %v %s", err, stdout.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("--wait did not end after SIGTERM: %s", stdout.String())
	}
	if !strings.HasSuffix(stdout.String(), "\n\nCleaning up containers, pods, and volumes...\n") {
		t.Errorf("--wait output after SIGTERM: %q", stdout.String())
	}
	e.kubeAllGone(ids...)
}

// listenNotify makes a unixgram socket, as systemd's NOTIFY_SOCKET.
func listenNotify(t *testing.T) (string, *net.UnixConn) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return sock, conn
}

// buildSdnotify builds tests/sdnotify statically into dir.
func buildSdnotify(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sdnotify")
	build := exec.Command("go", "build", "-o", bin, "./sdnotify")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build sdnotify: %v %s", err, out)
	}
	return bin
}

// With NOTIFY_SOCKET, play --service-container says MAINPID=<the service container's conmon>
// and READY=1, once every container the io.containers.sdnotify annotations name has said
// READY=1 itself (mode container: on the socket the play gave it; mode conmon: pea for it). A
// container that exits before it does fails the play, which leaves nothing.
func TestKubeServiceNotify(t *testing.T) {
	e := newEnv(t).withBusybox()
	bin := buildSdnotify(t, e.Dir)
	yaml := `apiVersion: v1
kind: Pod
metadata:
  name: ntf
  annotations:
    io.containers.sdnotify: conmon
    io.containers.sdnotify/late: container
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: late
    image: localhost/bb:latest
    command: [sh, -c, "sleep 2; touch /tmp/notified; /sdnotify READY=1 STATUS=up; sleep 1000"]
    volumeMounts: [{name: bin, mountPath: /sdnotify}]
  - name: other
    image: localhost/bb:latest
    command: [sleep, "1000"]
  volumes:
  - name: bin
    hostPath: {path: ` + bin + `, type: File}
`
	y := e.kubeFile("ntf.yaml", yaml)
	sock, conn := listenNotify(t)
	r := e.runEnv(nil, []string{"NOTIFY_SOCKET=" + sock}, "kube", "play", "--service-container", y)
	if r.Code != 0 {
		t.Fatalf("play: %s", r)
	}
	// Play returned once late said READY=1, which it does after it made /tmp/notified.
	if r := e.Try("exec", "ntf-late", "test", "-e", "/tmp/notified"); r.Code != 0 {
		t.Fatalf("play returned before the container said READY=1: %s", r)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no sd_notify message: %v", err)
	}
	msg := string(buf[:n])
	svc := serviceNameOf(t, y)
	conmon := e.Pea("inspect", "--format", "{{.State.ConmonPid}}", svc)
	if msg != "MAINPID="+conmon+"\nREADY=1" {
		t.Fatalf("sd_notify message %q, want MAINPID=%s (the service container's conmon) and READY=1", msg, conmon)
	}
	pid, _ := strconv.Atoi(conmon)
	if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "conmon" {
		t.Fatalf("MAINPID=%d is %q, not conmon", pid, comm)
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("a second message reached NOTIFY_SOCKET (the containers' go to the play's sockets): %q", buf[:n])
	}
	if got := e.Pea("inspect", "--format", "{{.Config.SdNotifyMode}}", "ntf-late", "ntf-other"); got != "container\nconmon" {
		t.Errorf("sd-notify modes: %q", got)
	}
	if ents, _ := filepath.Glob(filepath.Join(e.RunRoot, "kube-notify-*")); len(ents) > 0 {
		t.Errorf("the play's notify sockets are left: %v", ents)
	}
	ids := e.ids()
	e.Pea("kube", "down", y)
	e.kubeAllGone(ids...)

	// late exits before it says READY=1: the play fails and undoes itself.
	bad := e.kubeFile("bad.yaml", strings.Replace(yaml, "sleep 2; touch", "exit 3; touch", 1))
	r = e.runEnv(nil, []string{"NOTIFY_SOCKET=" + sock}, "kube", "play", "--service-container", bad)
	if r.Code != 125 || !strings.Contains(r.Stderr, "container ntf-late stopped running before READY message was received") {
		t.Fatalf("play of a container that never notifies: %s", r)
	}
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("READY sent for a failed play: %q", buf[:n])
	}
	e.kubeAllGone()
	e.Fails(125, "kube", "play", e.kubeFile("inv.yaml", strings.Replace(yaml, "sdnotify: conmon", "sdnotify: bogus", 1)))
	e.kubeAllGone()
}

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// termSleeper is a container command that ends at SIGTERM (a bare sleep as PID 1 ignores it,
// which would make every restart wait out the stop timeout).
var termSleeper = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"}

// A startup health check (podman 4.4's --health-startup-*) runs in place of the regular check
// from each start until it has succeeded --health-startup-success times; then the regular
// check runs. Too many failures (--health-startup-retries) restart the container.
func TestStartupHealthcheck(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea(append([]string{"run", "-d", "--name", "gated", "--network", "none",
		"--health-cmd", "test -f /tmp/ready", "--health-interval", "1s", "--health-retries", "2",
		"--health-startup-cmd", "test -f /tmp/started", "--health-startup-interval", "1s", "--health-startup-success", "2",
		"localhost/bb"}, termSleeper...)...)
	if out := e.Pea("inspect", "--format", "{{json .Config.StartupHealthCheck}}", "gated"); out != `{"Test":["CMD-SHELL","test -f /tmp/started"],"Interval":1000000000,"Timeout":30000000000,"Successes":2}` {
		t.Fatalf("inspect's StartupHealthCheck: %s", out)
	}
	// Failing startup checks keep it starting, however many (no retries given).
	r := e.Try("healthcheck", "run", "gated")
	if r.Code != 1 || strings.TrimSpace(r.Stdout) != "starting" {
		t.Fatalf("healthcheck run of a failing startup check: %s", r)
	}
	time.Sleep(2500 * time.Millisecond)
	if out := e.Pea("inspect", "--format", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "gated"); out != "starting 0" {
		t.Fatalf("while the startup check fails: %q", out)
	}
	e.Pea("exec", "gated", "touch", "/tmp/started")
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("inspect", "--format", "{{.State.Health.Status}}", "gated"); out != "healthy" {
			return fmt.Errorf("after the startup check passed: %s", out)
		}
		return nil
	})
	// The regular check runs from now on: /tmp/ready is missing, so it turns unhealthy.
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("inspect", "--format", "{{.State.Health.Status}}", "gated"); out != "unhealthy" {
			return fmt.Errorf("the regular check after the startup check: %s", out)
		}
		return nil
	})
	if r := e.Try("healthcheck", "run", "gated"); r.Code != 1 || strings.TrimSpace(r.Stdout) != "unhealthy" {
		t.Fatalf("healthcheck run of the regular check: %s", r)
	}
	// A start begins with the startup check again.
	e.Pea("restart", "-t", "0", "gated")
	if r := e.Try("healthcheck", "run", "gated"); r.Code != 0 {
		t.Fatalf("the startup check after a restart (/tmp/started is there): %s", r)
	}
	if r := e.Try("healthcheck", "run", "gated"); r.Code != 0 || e.Pea("inspect", "--format", "{{.State.Health.Status}}", "gated") != "healthy" {
		t.Fatalf("the startup check's second success: %s", r)
	}

	// Retries: two failed startup checks restart the container.
	e.Pea(append([]string{"run", "-d", "--name", "never-up", "--network", "none", "--health-cmd", "true",
		"--health-startup-cmd", "false", "--health-startup-interval", "disable", "--health-startup-retries", "2",
		"localhost/bb"}, termSleeper...)...)
	started := e.Pea("inspect", "--format", "{{.State.StartedAt}}", "never-up")
	e.Fails(1, "healthcheck", "run", "never-up")
	if now := e.Pea("inspect", "--format", "{{.State.StartedAt}}", "never-up"); now != started {
		t.Fatalf("restarted after one failure of two allowed")
	}
	e.Fails(1, "healthcheck", "run", "never-up")
	eventually(t, 10*time.Second, func() error {
		out := e.Pea("inspect", "--format", "{{.State.StartedAt}} {{.State.Status}} {{.State.Health.Status}}", "never-up")
		if strings.HasPrefix(out, started) || !strings.HasSuffix(out, " running starting") {
			return fmt.Errorf("after the startup check's last retry: %q (started %s)", out, started)
		}
		return nil
	})

	// Bad input: one line, 125, nothing made.
	e.Fails(125, "create", "--name", "no-regular", "--health-startup-cmd", "true", "localhost/bb", "true")
	e.Fails(125, "create", "--name", "no-check", "--no-healthcheck", "--health-startup-cmd", "true", "localhost/bb", "true")
	e.Fails(125, "create", "--name", "bad-interval", "--health-cmd", "true", "--health-startup-cmd", "true", "--health-startup-interval", "soon", "localhost/bb", "true")
	e.Fails(125, "create", "--name", "bad-retries", "--health-cmd", "true", "--health-startup-cmd", "true", "--health-startup-retries", "-1", "localhost/bb", "true")
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); strings.Contains(out, "no-") || strings.Contains(out, "bad-") {
		t.Fatalf("a refused create left %q", out)
	}
}

// kube play's probes: a liveness probe is the container's health check (podman 4.3.1's
// mapping of periodSeconds, timeoutSeconds, failureThreshold and initialDelaySeconds) whose
// failure restarts the container; a startup probe is its startup check. httpGet and tcpSocket
// probes are made by pea from the pod's network namespace: busybox has no curl and its nc no
// -z, so podman's commands for them would fail in this image. generate kube writes them back.
func TestKubeProbes(t *testing.T) {
	e := newEnv(t).withBusybox()
	yaml := filepath.Join(t.TempDir(), "probes.yaml")
	os.WriteFile(yaml, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: probed
spec:
  containers:
  - name: app
    image: localhost/bb:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/alive; sleep 1000 & wait"]
    livenessProbe:
      exec:
        command: ["sh", "-c", "test -f /tmp/alive"]
      periodSeconds: 1
      timeoutSeconds: 2
      failureThreshold: 2
      initialDelaySeconds: 3
  - name: web
    image: localhost/bb:latest
    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]
    ports:
    - name: http
      containerPort: 8080
    livenessProbe:
      httpGet:
        path: /hostname
        port: http
      periodSeconds: 1
    startupProbe:
      tcpSocket:
        port: 8080
      periodSeconds: 1
      failureThreshold: 10
`), 0o644)
	e.Pea("kube", "play", yaml)
	if out := e.Pea("inspect", "--format", "{{json .Config.Healthcheck}} {{.Config.HealthcheckOnFailureAction}}", "probed-app"); out != `{"Test":["CMD","sh","-c","test -f /tmp/alive"],"Interval":1000000000,"Timeout":2000000000,"StartPeriod":3000000000,"Retries":2} restart` {
		t.Fatalf("the exec liveness probe as a health check: %s", out)
	}
	eventually(t, 15*time.Second, func() error {
		out := e.Pea("inspect", "--format", "{{.State.Health.Status}} {{range .State.Health.Log}}{{.Output}}|{{end}}", "probed-web")
		if !strings.HasPrefix(out, "healthy ") || !strings.Contains(out, "connected to 127.0.0.1:8080") || !strings.Contains(out, "HTTP/1.1 200 OK") {
			return fmt.Errorf("the web container's probes: %q", out)
		}
		return nil
	})
	// A liveness failure restarts the container, as the kubelet would.
	started := e.Pea("inspect", "--format", "{{.State.StartedAt}}", "probed-app")
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("inspect", "--format", "{{.State.Health.Status}}", "probed-app"); out != "healthy" {
			return fmt.Errorf("the exec probe: %s", out)
		}
		return nil
	})
	e.Pea("exec", "probed-app", "rm", "/tmp/alive")
	eventually(t, 15*time.Second, func() error {
		out := e.Pea("inspect", "--format", "{{.State.StartedAt}} {{.State.Status}}", "probed-app")
		if strings.HasPrefix(out, started) || !strings.HasSuffix(out, " running") {
			return fmt.Errorf("after the liveness probe failed: %q (started %s)", out, started)
		}
		return nil
	})
	gen := e.Pea("generate", "kube", "probed")
	for _, want := range []string{"livenessProbe:", "httpGet:", "path: /hostname", "port: 8080", "startupProbe:", "tcpSocket:",
		"failureThreshold: 10", "initialDelaySeconds: 3", "- test -f /tmp/alive"} {
		if !strings.Contains(gen, want) {
			t.Fatalf("generate kube lacks %q:\n%s", want, gen)
		}
	}
	e.Pea("kube", "down", yaml)

	// Probes pea cannot make are refused, before anything is made.
	for _, probe := range []string{"grpc: {port: 9000}", "httpGet: {port: 8080, scheme: HTTPS}", "httpGet: {port: nameless}"} {
		os.WriteFile(yaml, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: refused
spec:
  containers:
  - name: app
    image: localhost/bb:latest
    command: ["sleep", "1000"]
    livenessProbe:
      `+probe+`
`), 0o644)
		if r := e.Try("kube", "play", yaml); r.Code != 125 || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Fatalf("kube play with %s: %s", probe, r)
		}
		if out := e.Pea("pod", "ps", "-q"); out != "" {
			t.Fatalf("a refused play left a pod: %q", out)
		}
	}
}

// podman 5's --health-log-destination, --health-max-log-count and --health-max-log-size: where
// the results go besides the state, how many are kept and how much of each.
func TestHealthLogOptions(t *testing.T) {
	e := newEnv(t).withBusybox()
	dir := t.TempDir()
	id := e.Pea("run", "-d", "--name", "logged", "--network", "none", "--health-cmd", "echo abcdefghij", "--health-interval", "disable",
		"--health-max-log-count", "2", "--health-max-log-size", "4", "--health-log-destination", dir, "localhost/bb", "sleep", "1000")
	for range 3 {
		e.Pea("healthcheck", "run", "logged")
	}
	if out := e.Pea("inspect", "--format", "{{len .State.Health.Log}} {{range .State.Health.Log}}{{.Output}}|{{end}} {{.Config.HealthMaxLogCount}} {{.Config.HealthMaxLogSize}}", "logged"); out != "2 abcd|abcd| 2 4" {
		t.Fatalf("results kept: %q", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, id+"-healthcheck.log"))
	if err != nil || !strings.HasPrefix(string(b), `{"Status":"healthy","FailingStreak":0,"Log":[{"Start":"`) || strings.Count(string(b), `"Output":"abcd"`) != 2 {
		t.Fatalf("the directory's log file: %s (%v)", b, err)
	}
	// 0: every result.
	e.Pea("run", "-d", "--name", "all-kept", "--network", "none", "--health-cmd", "true", "--health-interval", "disable",
		"--health-max-log-count", "0", "localhost/bb", "sleep", "1000")
	for range 7 {
		e.Pea("healthcheck", "run", "all-kept")
	}
	if out := e.Pea("inspect", "--format", "{{len .State.Health.Log}}", "all-kept"); out != "7" {
		t.Fatalf("--health-max-log-count 0 kept %s results", out)
	}
	// events_logger: each result in its health_status event.
	e.Pea("run", "-d", "--name", "evented", "--network", "none", "--health-cmd", "echo hello", "--health-interval", "disable",
		"--health-log-destination", "events_logger", "localhost/bb", "sleep", "1000")
	e.Pea("healthcheck", "run", "evented")
	if out := e.Pea("events", "--stream=false", "--filter", "container=evented", "--filter", "event=health_status", "--format", "json"); !strings.Contains(out, `"health_log":"{\"Start\":`) || !strings.Contains(out, `\"Output\":\"hello\\n\"`) {
		t.Fatalf("the health_status event: %s", out)
	}
	e.Fails(125, "create", "--name", "bad-dest", "--health-cmd", "true", "--health-log-destination", "relative/dir", "localhost/bb", "true")
	e.Fails(125, "create", "--name", "bad-dest2", "--health-cmd", "true", "--health-log-destination", filepath.Join(dir, "missing"), "localhost/bb", "true")
	e.Fails(125, "create", "--name", "bad-count", "--health-cmd", "true", "--health-max-log-count", "-1", "localhost/bb", "true")
}

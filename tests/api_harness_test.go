package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// APIEnv is a throw-away store served by `pea system service` on a unix socket of its own,
// with the real docker client pointed at it.
type APIEnv struct {
	*Env
	Sock   string
	client *http.Client
	docker string // the docker client's path
	config string // DOCKER_CONFIG: the client writes nothing under the caller's home
	pid    int    // the service's process
	// stdinForPodman is the podman client's next stdin (api_libpod_test.go)
	stdinForPodman string
}

// dockerClient is the docker command line client: the one on PATH, else the one
// scripts/testdeps.sh unpacked from Debian's docker.io package (the client only; no daemon runs).
func dockerClient(t *testing.T) string {
	return clientTool(t, "docker", "../.build/docker-client/docker")
}

// clientTool is a client program the tests drive: name on PATH, else the copy scripts/testdeps.sh
// put at built.
func clientTool(t *testing.T, name, built string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p, _ := filepath.Abs(built)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no %s: not on PATH, and scripts/testdeps.sh did not put one at %s", name, p)
	}
	return p
}

// newAPIEnv starts the service on a fresh store holding localhost/bb:latest. The service is
// stopped before the store is torn down.
func newAPIEnv(t *testing.T) *APIEnv {
	t.Helper()
	return newAPIEnvWith(t, newEnv(t).withBusybox(), nil)
}

// newAPIEnvWith serves e, the service's environment having env added.
func newAPIEnvWith(t *testing.T, e *Env, env []string) *APIEnv {
	t.Helper()
	a := &APIEnv{Env: e, Sock: filepath.Join(e.Dir, "api.sock"), docker: dockerClient(t), config: filepath.Join(e.Dir, "docker-config")}
	os.MkdirAll(a.config, 0o700)
	a.pid = startServiceEnv(t, e, env, "system", "service", "--time", "0", "unix://"+a.Sock)
	a.client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.Sock)
	}}}
	eventually(t, 10*time.Second, func() error {
		_, err := a.client.Get("http://pea/_ping")
		return err
	})
	return a
}

// startService starts a pea service (pea system ...) on the env's store and returns its pid;
// it is stopped (SIGTERM, then SIGKILL after 10 s) when the test ends, and its output shown
// if the test failed.
func startService(t *testing.T, e *Env, args ...string) int {
	t.Helper()
	return startServiceEnv(t, e, nil, args...)
}

// startServiceEnv is startService with env added to the service's environment.
func startServiceEnv(t *testing.T, e *Env, env []string, args ...string) int {
	t.Helper()
	cmd := exec.Command(peaBin, e.args(args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("service log:\n%s", log.String())
		}
	})
	return cmd.Process.Pid
}

// Docker runs the docker client against the service and returns its result.
func (a *APIEnv) Docker(args ...string) Result { return a.DockerIn("", args...) }

// DockerIn runs the docker client with stdin.
func (a *APIEnv) DockerIn(stdin string, args ...string) Result {
	cmd := exec.Command(a.docker, args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config, "DOCKER_CLI_HINTS=false")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	return runCmd(cmd)
}

// MustDocker runs the docker client, fails the test unless it exits 0, and returns its
// trimmed stdout.
func (a *APIEnv) MustDocker(args ...string) string {
	a.t.Helper()
	r := a.Docker(args...)
	if r.Code != 0 {
		a.t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout)
}

// Request sends one API request (body: nil, a string, or a value sent as JSON) and returns
// the status and the body.
func (a *APIEnv) Request(method, path string, body any) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, "http://pea"+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// RequestJSON sends a request, requires the status want, and decodes the answer into v (when
// not nil).
func (a *APIEnv) RequestJSON(method, path string, body any, want int, v any) {
	a.t.Helper()
	code, out := a.Request(method, path, body)
	if code != want {
		a.t.Fatalf("%s %s: want status %d, got %d: %s", method, path, want, code, out)
	}
	if v != nil {
		if err := json.Unmarshal(out, v); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, out)
		}
	}
}

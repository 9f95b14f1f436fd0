package tests

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// composeLeftovers lists what a `pea compose` of the store at root may leave behind: its
// API service and the directory of that service's socket.
func composeLeftovers(root string) []string {
	var out []string
	if b, err := exec.Command("pgrep", "-af", "--", root+" .*pea-compose-").Output(); err == nil && len(b) > 0 {
		out = append(out, "service: "+strings.TrimSpace(string(b)))
	}
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pea-compose-*"))
	return append(out, dirs...)
}

// `pea compose` runs a Compose provider against pea (podman 4.7+'s `podman compose`): the real
// Compose v2 client and Debian's docker-compose v1 drive a project through the API service
// pea starts for them, the provider's exit code is pea's, and nothing of the service stays.
func TestComposeVerb(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	os.WriteFile(file, []byte(fmt.Sprintf(`services:
  web:
    image: localhost/bb
    command: httpd -f -p 80 -h /etc
    ports: ["127.0.0.1:%d:80"]
  client:
    image: localhost/bb
    command: sh -c "until wget -qO /tmp/got http://web/hostname; do sleep 0.2; done; sleep 1000"
    depends_on: [web]
`, port)), 0o644)
	v2 := []string{"PEA_COMPOSE_PROVIDER=" + clientTool(t, "docker-compose-v2", "../.build/compose/docker-compose"), "COMPOSE_PROGRESS=plain"}
	compose := func(env []string, args ...string) Result {
		t.Helper()
		return e.runEnv(nil, env, append([]string{"compose", "-f", file, "-p", "verb"}, args...)...)
	}
	if r := compose(v2, "up", "-d"); r.Code != 0 {
		t.Fatalf("compose up -d: %s", r)
	}
	if out := e.Pea("ps", "--format", "{{.Names}}"); !strings.Contains(out, "verb-web-1") || !strings.Contains(out, "verb-client-1") {
		t.Fatalf("ps after compose up: %q", out)
	}
	var body []byte
	eventually(t, 10*time.Second, func() error {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hostname", port))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	if len(strings.TrimSpace(string(body))) != 12 {
		t.Fatalf("the published port answered %q", body)
	}
	// The client found the web service by its name.
	eventually(t, 10*time.Second, func() error {
		if r := compose(v2, "exec", "-T", "client", "cat", "/tmp/got"); r.Code != 0 || strings.TrimSpace(r.Stdout) != strings.TrimSpace(string(body)) {
			return fmt.Errorf("client's fetch of web: %s", r)
		}
		return nil
	})
	if r := compose(v2, "exec", "-T", "web", "sh", "-c", "exit 7"); r.Code != 7 {
		t.Fatalf("the provider's exit code is not pea's: %s", r)
	}
	if r := compose(v2, "ps", "--format", "{{.Service}} {{.State}}"); r.Code != 0 || !strings.Contains(r.Stdout, "web running") {
		t.Fatalf("compose ps: %s", r)
	}
	if r := compose(v2, "down", "-t", "0"); r.Code != 0 {
		t.Fatalf("compose down: %s", r)
	}
	if out := e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("containers after compose down: %q", out)
	}
	if left := composeLeftovers(e.Root); len(left) > 0 {
		t.Fatalf("compose left %v", left)
	}

	// Debian's docker-compose (v1, what setup installs) is found on $PATH by default.
	if _, err := exec.LookPath("docker-compose"); err == nil {
		if r := compose([]string{"PEA_COMPOSE_PROVIDER=", "PODMAN_COMPOSE_PROVIDER="}, "up", "-d", "web"); r.Code != 0 {
			t.Fatalf("compose up with docker-compose v1: %s", r)
		}
		if out := e.Pea("ps", "--format", "{{.Names}}"); !strings.Contains(out, "web") {
			t.Fatalf("ps after docker-compose v1's up: %q", out)
		}
		if r := compose([]string{"PEA_COMPOSE_PROVIDER=", "PODMAN_COMPOSE_PROVIDER="}, "down", "-t", "0"); r.Code != 0 {
			t.Fatalf("compose down with docker-compose v1: %s", r)
		}
	}

	// pea compose killed outright: its service goes with it, and the next compose removes the
	// socket's directory once it is a minute old.
	slow := filepath.Join(dir, "slow-provider")
	os.WriteFile(slow, []byte("#!/bin/sh\necho \"$$ $DOCKER_HOST\"\nexec sleep 30\n"), 0o755)
	killed := exec.Command(peaBin, e.args("compose", "up")...)
	killed.Env = append(os.Environ(), "PEA_COMPOSE_PROVIDER="+slow)
	out, _ := killed.StdoutPipe()
	if err := killed.Start(); err != nil {
		t.Fatal(err)
	}
	line := make([]byte, 200)
	n, _ := out.Read(line) // the provider runs: the service answers
	pid, host, _ := strings.Cut(strings.TrimSpace(string(line[:n])), " ")
	killed.Process.Kill()
	killed.Wait()
	exec.Command("kill", pid).Run() // the provider, left running as podman's would be
	sock, ok := strings.CutPrefix(host, "unix://")
	sockDir := filepath.Dir(sock)
	if !ok || !strings.HasPrefix(filepath.Base(sockDir), "pea-compose-") {
		t.Fatalf("the provider's DOCKER_HOST: %q", host)
	}
	eventually(t, 5*time.Second, func() error {
		if b, err := exec.Command("pgrep", "-af", "--", sockDir).Output(); err == nil && len(b) > 0 {
			return fmt.Errorf("the service outlived its pea compose: %s", b)
		}
		return nil
	})
	old := time.Now().Add(-2 * time.Minute)
	os.Chtimes(sockDir, old, old)
	quick := filepath.Join(dir, "quick-provider")
	os.WriteFile(quick, []byte("#!/bin/sh\nexit 0\n"), 0o755)
	if r := e.runEnv(nil, []string{"PEA_COMPOSE_PROVIDER=" + quick}, "compose", "version"); r.Code != 0 {
		t.Fatalf("compose with a provider that exits 0: %s", r)
	}
	if _, err := os.Stat(sockDir); err == nil {
		t.Fatalf("the socket directory of a killed pea compose was not swept: %s", sockDir)
	}

	// No provider: one line, 125, nothing started.
	conf := filepath.Join(dir, "containers.conf")
	os.WriteFile(conf, []byte("[engine]\ncompose_providers = [\"/nonexistent/compose-x\"]\n"), 0o644)
	r := e.runEnv(nil, []string{"CONTAINERS_CONF=" + conf, "PEA_COMPOSE_PROVIDER=", "PODMAN_COMPOSE_PROVIDER="}, "compose", "ps")
	if r.Code != 125 || !strings.Contains(r.Stderr, "/nonexistent/compose-x") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("compose without a provider: %s", r)
	}
	if r := e.runEnv(nil, []string{"PEA_COMPOSE_PROVIDER=/nonexistent/compose-y"}, "compose", "ps"); r.Code != 125 {
		t.Fatalf("compose with a missing $PEA_COMPOSE_PROVIDER: %s", r)
	}
	if left := composeLeftovers(e.Root); len(left) > 0 {
		t.Fatalf("compose left %v", left)
	}
}

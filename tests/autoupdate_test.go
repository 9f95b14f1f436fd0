package tests

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// TestAutoUpdateLocal: auto-update finds the running containers labelled
// io.containers.autoupdate=local whose image name now names a newer image and restarts their
// systemd unit (PODMAN_SYSTEMD_UNIT, taken from the environment at create); a unit that fails
// to restart is rolled back to the old image. systemctl is a stand-in on PATH that logs its
// arguments and does what a `generate systemd --new` unit's restart does: it makes the
// container anew from the image's name.
func TestAutoUpdateLocal(t *testing.T) {
	e := newEnv(t).withBusybox()
	build := func(v string) string {
		ctx := t.TempDir()
		os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN echo "+v+" > /v\n"), 0o644)
		return e.Pea("build", "-q", "-t", "localhost/au", ctx)
	}
	v1 := build("1")
	bin := t.TempDir()
	log := filepath.Join(bin, "log")
	fail := filepath.Join(bin, "fail-once")
	runArgs := "--root " + e.Root + " --runroot " + e.RunRoot
	script := fmt.Sprintf(`#!/bin/sh
echo "$@" >> %[1]s
if [ -e %[2]s ]; then rm %[2]s; exit 1; fi
%[3]s %[4]s rm -f -t 0 au >/dev/null
PODMAN_SYSTEMD_UNIT=au.service %[3]s %[4]s run -d --name au --network none --label io.containers.autoupdate=local localhost/au sleep 300 >/dev/null
`, log, fail, peaBin, runArgs)
	os.WriteFile(filepath.Join(bin, "systemctl"), []byte(script), 0o755)
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PODMAN_SYSTEMD_UNIT=au.service"}
	pea := func(args ...string) Result { return e.runEnv(nil, env, args...) }

	if r := pea("run", "-d", "--name", "au", "--network", "none", "--label", "io.containers.autoupdate=local", "localhost/au", "sleep", "300"); r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	if out := e.Pea("inspect", "-f", "{{index .Config.Labels \"PODMAN_SYSTEMD_UNIT\"}}", "au"); out != "au.service" {
		t.Fatalf("the unit label taken from the environment: %q", out)
	}
	row := func(r Result) string {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("auto-update: %s", r)
		}
		return strings.Join(strings.Fields(strings.TrimSpace(r.Stdout)), " ")
	}
	if out := row(pea("auto-update", "--dry-run", "--format", "{{.Unit}} {{.ContainerName}} {{.Image}} {{.Policy}} {{.Updated}}")); out != "au.service au localhost/au:latest local false" {
		t.Fatalf("dry run, nothing newer: %q", out)
	}
	v2 := build("2")
	if out := row(pea("auto-update", "--dry-run", "--format", "{{.Updated}}")); out != "pending" {
		t.Fatalf("dry run, a newer image: %q", out)
	}
	if _, err := os.Stat(log); err == nil {
		t.Fatal("a dry run restarted the unit")
	}
	out := row(pea("auto-update"))
	if !strings.HasPrefix(out, "UNIT CONTAINER IMAGE POLICY UPDATED au.service ") || !strings.HasSuffix(out, "(au) localhost/au:latest local true") {
		t.Fatalf("auto-update: %q", out)
	}
	if b, _ := os.ReadFile(log); string(b) != "restart au.service\n" {
		t.Fatalf("systemctl was run with %q", b)
	}
	if got := e.Pea("exec", "au", "cat", "/v"); got != "2" || e.Pea("inspect", "-f", "{{.Image}}", "au") != v2 {
		t.Fatalf("after the update the container runs image %s (/v %q)", e.Pea("inspect", "-f", "{{.Image}}", "au"), got)
	}
	// A restart that fails: the name goes back to the image that ran, restarted again.
	build("3")
	os.WriteFile(fail, nil, 0o644)
	r := pea("auto-update", "--format", "{{.Updated}}")
	if r.Code != 125 || strings.TrimSpace(r.Stdout) != "rolled back" || !strings.Contains(r.Stderr, "restarting unit au.service") {
		t.Fatalf("a failing restart: %s", r)
	}
	if id := e.Pea("image", "inspect", "-f", "{{.ID}}", "localhost/au"); id != v2 {
		t.Fatalf("after the rollback localhost/au is %s, want %s (v1 %s)", id, v2, v1)
	}
	// A labelled container that no unit runs is an error of its own.
	e.Pea("run", "-d", "--name", "stray", "--network", "none", "--label", "io.containers.autoupdate=local", "localhost/au", "sleep", "300")
	if r := e.Try("auto-update", "--dry-run"); r.Code != 125 || !strings.Contains(r.Stderr, "no PODMAN_SYSTEMD_UNIT label") {
		t.Fatalf("a container without a unit: %s", r)
	}
}

// TestAutoUpdateRegistry: the registry policy compares the registry's manifest of the name
// with the container's image, pulls the newer one and restarts the unit.
func TestAutoUpdateRegistry(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/acc/au:1"
	build := func(v string) string {
		ctx := t.TempDir()
		os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN echo "+v+" > /v\n"), 0o644)
		id := e.Pea("build", "-q", "-t", ref, ctx)
		e.Pea("push", "--tls-verify=false", ref)
		return id
	}
	v1 := build("1")
	bin := t.TempDir()
	log := filepath.Join(bin, "log")
	os.WriteFile(filepath.Join(bin, "systemctl"), []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755)
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH"), "PODMAN_SYSTEMD_UNIT=reg.service"}
	if r := e.runEnv(nil, env, "run", "-d", "--name", "r", "--network", "none", "--label", "io.containers.autoupdate=registry", ref, "sleep", "300"); r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	check := func(want string, args ...string) {
		t.Helper()
		r := e.runEnv(nil, env, append([]string{"auto-update", "--tls-verify=false", "--format", "{{.Policy}} {{.Updated}}"}, args...)...)
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != want {
			t.Fatalf("auto-update %v: %s, want %q", args, r, want)
		}
	}
	check("registry false", "--dry-run")
	v2 := build("2")
	e.Pea("tag", v1, ref) // this machine has not seen v2 under the name
	check("registry pending", "--dry-run")
	check("registry true")
	if id := e.Pea("image", "inspect", "-f", "{{.ID}}", ref); id != v2 {
		t.Fatalf("the name after the update: %s, want the pulled %s", id, v2)
	}
	if b, _ := os.ReadFile(log); string(b) != "restart reg.service\n" {
		t.Fatalf("systemctl was run with %q", b)
	}
}

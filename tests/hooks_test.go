package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// hookEnv is a store with a hooks directory and a hook program that appends "STAGE NAME" to a
// file for every run, NAME being the container's name from the state the runtime gives it.
type hookEnv struct {
	*Env
	hooks, log, prog string
}

func newHookEnv(t *testing.T) *hookEnv {
	e := newEnv(t).withBusybox()
	h := &hookEnv{Env: e, hooks: filepath.Join(e.Dir, "hooks.d"), log: filepath.Join(e.Dir, "hooks.log"), prog: filepath.Join(e.Dir, "hook.sh")}
	os.Mkdir(h.hooks, 0o755)
	// The state arrives on stdin (its annotations name the container); jq is not needed: sed.
	script := "#!/bin/sh\nname=$(sed -n 's/.*\"io.pea.container.name\":\"\\([^\"]*\\)\".*/\\1/p')\necho \"$1 $name\" >> " + h.log + "\n"
	if err := os.WriteFile(h.prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return h
}

// hook writes a hook file of schema 1.0.0.
func (h *hookEnv) hook(file string, when map[string]any, stages ...string) {
	for _, st := range stages {
		b, _ := json.Marshal(map[string]any{"version": "1.0.0", "hook": map[string]any{"path": h.prog, "args": []string{"hook.sh", st}},
			"when": when, "stages": []string{st}})
		os.WriteFile(filepath.Join(h.hooks, fmt.Sprintf("%s-%s.json", file, st)), b, 0o644)
	}
}

func (h *hookEnv) lines() []string {
	b, _ := os.ReadFile(h.log)
	return strings.Fields(strings.ReplaceAll(string(b), "\n", " | "))
}

func (h *hookEnv) ran() string {
	b, _ := os.ReadFile(h.log)
	os.Remove(h.log)
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", ";")
}

// OCI hooks: the conditions of 1.0.0 files (annotations, commands, hasBindMounts, always),
// every stage in its order, the older 0.1.0 schema, masking by file name across directories.
func TestOCIHooks(t *testing.T) {
	h := newHookEnv(t)
	hd := []string{"--hooks-dir", h.hooks}
	h.hook("10-ann", map[string]any{"annotations": map[string]string{"^hooks\\.test$": "^on$"}}, "prestart", "createRuntime", "poststart", "poststop")
	h.hook("20-cmd", map[string]any{"commands": []string{"^/bin/hooked$"}}, "createRuntime")
	h.hook("30-bind", map[string]any{"hasBindMounts": true}, "createRuntime")

	h.Pea(append(hd, "run", "--rm", "--network", "none", "--name", "plain", "localhost/bb", "true")...)
	if got := h.ran(); got != "" {
		t.Fatalf("hooks ran for a container none is for: %q", got)
	}
	h.Pea(append(hd, "run", "--rm", "--network", "none", "--annotation", "hooks.test=on", "--name", "annotated", "localhost/bb", "true")...)
	// (createContainer and startContainer hooks run in the container's mount namespace, where
	// the log is not.)
	want := "prestart annotated;createRuntime annotated;poststart annotated;poststop annotated"
	if got := h.ran(); got != want {
		t.Fatalf("stages:\n got %q\nwant %q", got, want)
	}
	// Without --hooks-dir, the default directories (none here) are read: nothing runs.
	h.Pea("run", "--rm", "--network", "none", "--annotation", "hooks.test=on", "localhost/bb", "true")
	if got := h.ran(); got != "" {
		t.Fatalf("hooks of a directory not asked for: %q", got)
	}
	os.WriteFile(filepath.Join(h.Dir, "file"), nil, 0o644)
	h.Pea(append(hd, "run", "--rm", "--network", "none", "-v", filepath.Join(h.Dir, "file")+":/file", "--name", "bound", "localhost/bb", "true")...)
	if got := h.ran(); got != "createRuntime bound" {
		t.Fatalf("hasBindMounts: %q", got)
	}
	// commands: the container's command, not pea's init in front of it.
	h.Pea(append(hd, "create", "--network", "none", "--init", "--name", "cmd", "localhost/bb", "/bin/hooked")...)
	h.Try(append(hd, "start", "cmd")...) // /bin/hooked does not exist: the hook ran before that
	if got := h.ran(); got != "createRuntime cmd" {
		t.Fatalf("commands: %q", got)
	}
	h.Pea("rm", "-f", "cmd")

	// A file of a later directory masks one of the same name; 0.1.0 files still work.
	later := filepath.Join(h.Dir, "later.d")
	os.Mkdir(later, 0o755)
	old, _ := json.Marshal(map[string]any{"hook": h.prog, "arguments": []string{"legacy"}, "stages": []string{"prestart"}, "cmds": []string{"true$"}})
	os.WriteFile(filepath.Join(later, "20-cmd-createRuntime.json"), old, 0o644)
	h.Pea("--hooks-dir", h.hooks, "--hooks-dir", later, "run", "--rm", "--network", "none", "--name", "masked", "localhost/bb", "true")
	if got := h.ran(); got != "legacy masked" {
		t.Fatalf("masking and 0.1.0: %q", got)
	}

	// A restart by the restart policy (conmon's exit command, another pea) runs them too.
	h.hook("40-always", map[string]any{"always": true}, "prestart")
	h.Pea(append(hd, "run", "-d", "--network", "none", "--restart", "on-failure:2", "--name", "again", "localhost/bb", "sh", "-c", "exit 3")...)
	eventually(t, 30*time.Second, func() error {
		if n := strings.Count(strings.Join(h.lines(), " "), "prestart again"); n != 3 {
			return fmt.Errorf("%d prestart hooks so far", n)
		}
		return nil
	})
	h.Pea("rm", "-f", "again")

	// A broken hook file fails the start with its name, and leaves nothing running.
	os.WriteFile(filepath.Join(h.hooks, "99-broken.json"), []byte(`{"version":"1.0.0","hook":{"path":"relative"},"when":{"always":true},"stages":["prestart"]}`), 0o644)
	r := h.Fails(126, append(hd, "run", "--rm", "--network", "none", "localhost/bb", "true")...) // a failed start: podman's 126
	if !strings.Contains(r.Stderr, "99-broken.json") || !strings.Contains(r.Stderr, "absolute") {
		t.Fatalf("broken hook: %s", r)
	}
	if out := h.Pea("ps", "-aq"); out != "" {
		t.Fatalf("left after a broken hook: %q", out)
	}
	if out, _ := exec.Command("pgrep", "-f", "conmon.*"+h.RunRoot).Output(); len(out) > 0 {
		t.Fatalf("conmon left after a broken hook: %s", out)
	}
}

// podman's other global flags.
func TestGlobalFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("--version"); !strings.HasPrefix(out, "pea version ") {
		t.Fatalf("--version: %q", out)
	}
	if r := e.Try("--noout", "images"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("--noout: %s", r)
	}
	if r := e.Fails(125, "--storage-driver", "vfs", "ps"); !strings.Contains(r.Stderr, "overlay") {
		t.Fatalf("--storage-driver vfs: %s", r)
	}
	e.Pea("--storage-driver", "overlay", "--cgroup-manager", "cgroupfs", "--ssh", "native", "ps")
	if r := e.Try("--cgroup-manager", "systemd", "ps"); r.Code != 0 || !strings.Contains(r.Stderr, "cgroupfs") {
		t.Fatalf("--cgroup-manager systemd: %s", r)
	}
	e.Fails(125, "--cgroup-manager", "nosuch", "ps")
	e.Fails(125, "--events-backend", "nosuch", "ps")
	// --events-backend none records nothing.
	before := e.Pea("events", "--stream=false")
	e.Pea("--events-backend", "none", "run", "--rm", "--network", "none", "localhost/bb", "true")
	if after := e.Pea("events", "--stream=false"); after != before {
		t.Fatalf("events recorded with --events-backend none:\n%s", strings.TrimPrefix(after, before))
	}
	// --runtime-flag reaches the runtime (an unknown one makes it fail); --conmon is used.
	if r := e.Try("--runtime-flag", "no-such-runtime-flag", "run", "--rm", "--network", "none", "localhost/bb", "true"); r.Code != 126 || !strings.Contains(r.Stderr, "no-such-runtime-flag") {
		t.Fatalf("--runtime-flag: %s", r)
	}
	if r := e.Fails(125, "--conmon", filepath.Join(e.Dir, "no-conmon"), "run", "--rm", "--network", "none", "localhost/bb", "true"); !strings.Contains(r.Stderr, "no-conmon") {
		t.Fatalf("--conmon: %s", r)
	}
	conmon, err := exec.LookPath("conmon")
	if err != nil {
		t.Fatal(err)
	}
	if out := e.Pea("--conmon", conmon, "--runtime-flag", "debug", "run", "--rm", "--network", "none", "localhost/bb", "echo", "ok"); out != "ok" {
		t.Fatalf("--conmon and --runtime-flag debug: %q", out)
	}
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("left: %q", out)
	}
}

package tests

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// healthTimers lists the live processes whose command line names id: the container's health
// check timer (conmon and the container are gone once a stop returns).
func healthTimers(t *testing.T, id string) []string {
	t.Helper()
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			continue // gone, or a zombie
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, id) && strings.Contains(cmd, "healthcheck timer") {
			found = append(found, filepath.Base(filepath.Dir(p))+": "+cmd)
		}
	}
	return found
}

func healthStatus(e *Env, ctr string) string {
	return e.Pea("inspect", "-f", "{{.State.Health.Status}}", ctr)
}

// A check with an interval runs on its own (through the timer process) and makes the container
// healthy; inspect and ps show it; the stop kills the timer.
func TestHealthTimerHealthy(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "--name", "hc", "--health-cmd", "echo ok", "--health-interval", "1s", "localhost/bb", "sleep", "100")
	if got := e.Pea("inspect", "-f", "{{json .Config.Healthcheck}}", "hc"); !strings.Contains(got, `"Test":["CMD-SHELL","echo ok"]`) || !strings.Contains(got, `"Interval":1000000000`) || !strings.Contains(got, `"Retries":3`) {
		t.Fatalf("Config.Healthcheck: %s", got)
	}
	if len(healthTimers(t, id)) != 1 {
		t.Fatalf("timer processes: %q", healthTimers(t, id))
	}
	eventually(t, 10*time.Second, func() error {
		if s := healthStatus(e, "hc"); s != "healthy" {
			return fmt.Errorf("status %q", s)
		}
		return nil
	})
	if got := e.Pea("inspect", "-f", "{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "hc"); got != "0 0 ok" {
		t.Fatalf("health: %q", got)
	}
	if st := e.Pea("ps", "--format", "{{.Status}}"); !strings.HasSuffix(st, "(healthy)") || !strings.HasPrefix(st, "Up ") {
		t.Fatalf("ps status %q", st)
	}
	if got := e.Pea("ps", "--filter", "health=healthy", "--format", "{{.Names}}"); got != "hc" {
		t.Fatalf("health=healthy: %q", got)
	}
	if got := e.Pea("ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"); got != "" {
		t.Fatalf("health=unhealthy: %q", got)
	}
	if ev := e.Pea("events", "--stream=false", "--filter", "event=health_status", "--format", "{{.Status}}"); !strings.Contains(ev, "health_status") {
		t.Fatalf("no health_status event: %q", ev)
	}
	e.Pea("stop", "-t", "0", "hc")
	if p := healthTimers(t, id); len(p) != 0 {
		t.Fatalf("the timer outlived the stop: %q", p)
	}
	// A start gets a timer again, a removal ends it.
	e.Pea("start", "hc")
	if healthStatus(e, "hc") != "starting" || len(healthTimers(t, id)) != 1 {
		t.Fatalf("after a start: %q, timers %q", healthStatus(e, "hc"), healthTimers(t, id))
	}
	e.Pea("rm", "-f", "-t", "0", "hc")
	if p := healthTimers(t, id); len(p) != 0 {
		t.Fatalf("the timer outlived the removal: %q", p)
	}
}

// Failures make it unhealthy after --health-retries of them in a row.
func TestHealthTimerUnhealthy(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "--name", "sick", "--health-cmd", "false", "--health-retries", "2", "--health-interval", "500ms", "localhost/bb", "sleep", "100")
	eventually(t, 10*time.Second, func() error {
		if s := healthStatus(e, "sick"); s != "unhealthy" {
			return fmt.Errorf("status %q", s)
		}
		return nil
	})
	if n, _ := strconv.Atoi(e.Pea("inspect", "-f", "{{.State.Health.FailingStreak}}", "sick")); n < 2 {
		t.Fatalf("streak %d", n)
	}
	if st := e.Pea("ps", "--filter", "health=unhealthy", "--format", "{{.Status}}"); !strings.HasSuffix(st, "(unhealthy)") {
		t.Fatalf("ps status %q", st)
	}
	e.Pea("kill", "sick")
	eventually(t, 10*time.Second, func() error {
		if p := healthTimers(t, id); len(p) != 0 {
			return fmt.Errorf("the timer outlived the container's exit: %q", p)
		}
		return nil
	})
}

// `pea healthcheck run`: 0 healthy, 1 unhealthy, 125 without a check or a running container;
// without an interval no timer runs, and a check is run only when asked.
func TestHealthcheckRun(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "--name", "once", "--health-cmd", "test -e /tmp/ok", "--health-interval", "disable", "--health-retries", "1", "localhost/bb", "sleep", "100")
	if p := healthTimers(t, id); len(p) != 0 {
		t.Fatalf("a timer without an interval: %q", p)
	}
	if s := healthStatus(e, "once"); s != "starting" {
		t.Fatalf("before any check: %q", s)
	}
	if r := e.Fails(1, "healthcheck", "run", "once"); strings.TrimSpace(r.Stdout) != "unhealthy" {
		t.Fatalf("failed check: %s", r)
	}
	if s := healthStatus(e, "once"); s != "unhealthy" {
		t.Fatalf("after a failure with --health-retries 1: %q", s)
	}
	e.Pea("exec", "once", "touch", "/tmp/ok")
	if out := e.Pea("healthcheck", "run", "once"); out != "" {
		t.Fatalf("healthy check printed %q", out)
	}
	if s := healthStatus(e, "once"); s != "healthy" {
		t.Fatalf("after a success: %q", s)
	}
	if n := e.Pea("inspect", "-f", "{{len .State.Health.Log}}", "once"); n != "2" {
		t.Fatalf("log entries %s", n)
	}

	e.Pea("run", "-d", "--network", "none", "--name", "plain", "localhost/bb", "sleep", "100")
	if r := e.Fails(125, "healthcheck", "run", "plain"); !strings.Contains(r.Stderr, "has no defined healthcheck") {
		t.Fatalf("no check: %s", r)
	}
	if got := e.Pea("ps", "--filter", "health=none", "--format", "{{.Names}}"); got != "plain" {
		t.Fatalf("health=none: %q", got)
	}
	if st := e.Pea("ps", "--filter", "name=plain", "--format", "{{.Status}}"); strings.Contains(st, "(") {
		t.Fatalf("a container without a check shows a health: %q", st)
	}
	e.Pea("stop", "-t", "0", "once")
	if r := e.Fails(125, "healthcheck", "run", "once"); !strings.Contains(r.Stderr, "is not running") {
		t.Fatalf("stopped: %s", r)
	}
	e.Fails(125, "healthcheck", "run", "nosuch")
	// A timeout fails the check.
	e.Pea("run", "-d", "--network", "none", "--name", "slow", "--health-cmd", "sleep 5", "--health-interval", "disable", "--health-timeout", "500ms", "localhost/bb", "sleep", "100")
	start := time.Now()
	e.Fails(1, "healthcheck", "run", "slow")
	if time.Since(start) > 4*time.Second {
		t.Fatalf("the timeout did not stop the check: %s", time.Since(start))
	}
	if got := e.Pea("inspect", "-f", "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}", "slow"); !strings.HasPrefix(got, "-1 ") || !strings.Contains(got, "timeout") {
		t.Fatalf("timed-out entry: %q", got)
	}
}

// Failures within the start period do not count; after it, they do.
func TestHealthStartPeriod(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "sp", "--health-cmd", "false", "--health-interval", "disable", "--health-retries", "1", "--health-start-period", "2s", "localhost/bb", "sleep", "100")
	e.Fails(1, "healthcheck", "run", "sp")
	if got := e.Pea("inspect", "-f", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "sp"); got != "starting 0" {
		t.Fatalf("within the start period: %q", got)
	}
	time.Sleep(2 * time.Second)
	e.Fails(1, "healthcheck", "run", "sp")
	if got := e.Pea("inspect", "-f", "{{.State.Health.Status}} {{.State.Health.FailingStreak}}", "sp"); got != "unhealthy 1" {
		t.Fatalf("after the start period: %q", got)
	}
}

// Bad health flags fail with 125, one line, and create nothing.
func TestHealthBadFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, args := range [][]string{
		{"--health-cmd", "true", "--health-interval", "-1s"},
		{"--health-cmd", "true", "--health-timeout", "soon"},
		{"--health-cmd", "true", "--health-start-period", "-5s"},
		{"--health-cmd", "true", "--health-retries", "0"},
		{"--health-cmd", "true", "--no-healthcheck"},
		{"--health-cmd", "[]"},
		{"--health-cmd", `["CMD"]`},
	} {
		for _, verb := range []string{"create", "run"} {
			r := e.Fails(125, append(append([]string{verb, "--network", "none"}, args...), "localhost/bb", "true")...)
			if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 {
				t.Errorf("%s %q: want one line, got %q", verb, args, r.Stderr)
			}
		}
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("bad flags left containers: %q", got)
	}
	// A JSON array is a command as is; --no-healthcheck alone is fine.
	e.Pea("create", "--name", "arr", "--health-cmd", `["/bin/true"]`, "localhost/bb", "true")
	if got := e.Pea("inspect", "-f", "{{json .Config.Healthcheck.Test}}", "arr"); got != `["CMD","/bin/true"]` {
		t.Fatalf("array test: %s", got)
	}
	e.Pea("create", "--name", "nohc", "--no-healthcheck", "localhost/bb", "true")
	if got := e.Pea("inspect", "-f", "{{.Config.Healthcheck}}", "nohc"); got != "<nil>" {
		t.Fatalf("--no-healthcheck: %s", got)
	}
}

// The image's HEALTHCHECK is the default; --no-healthcheck turns it off.
func TestHealthFromImage(t *testing.T) {
	e := newEnv(t).withBusybox()
	loadWithHealthcheck(t, e, "localhost/bbhc:latest", map[string]any{"Test": []string{"CMD", "true"}, "Interval": int64(time.Second), "Retries": 4})
	id := e.Pea("run", "-d", "--network", "none", "--name", "img", "localhost/bbhc", "sleep", "100")
	if got := e.Pea("inspect", "-f", "{{json .Config.Healthcheck.Test}} {{.Config.Healthcheck.Retries}} {{.Config.Healthcheck.Timeout}}", "img"); got != `["CMD","true"] 4 30s` {
		t.Fatalf("image's check: %s", got)
	}
	eventually(t, 10*time.Second, func() error {
		if s := healthStatus(e, "img"); s != "healthy" {
			return fmt.Errorf("status %q", s)
		}
		return nil
	})
	e.Pea("create", "--name", "off", "--no-healthcheck", "localhost/bbhc")
	if got := e.Pea("inspect", "-f", "{{.Config.Healthcheck}}", "off"); got != "<nil>" {
		t.Fatalf("--no-healthcheck: %s", got)
	}
	e.Pea("rm", "-f", "-t", "0", "img")
	if p := healthTimers(t, id); len(p) != 0 {
		t.Fatalf("the timer outlived the removal: %q", p)
	}
}

// Docker's create body's Healthcheck and inspect's State.Health, through the docker client.
func TestAPIHealth(t *testing.T) {
	a := newAPIEnv(t)
	id := a.MustDocker("run", "-d", "--network", "none", "--name", "web", "--health-cmd", "true", "--health-interval", "1s", "localhost/bb", "sleep", "100")
	eventually(t, 10*time.Second, func() error {
		if s := a.MustDocker("inspect", "-f", "{{.State.Health.Status}}", "web"); s != "healthy" {
			return fmt.Errorf("status %q", s)
		}
		return nil
	})
	if got := a.MustDocker("inspect", "-f", "{{json .Config.Healthcheck}}", "web"); !strings.Contains(got, `"Test":["CMD-SHELL","true"]`) || !strings.Contains(got, `"Interval":1000000000`) {
		t.Fatalf("Config.Healthcheck: %s", got)
	}
	if st := a.MustDocker("ps", "--format", "{{.Status}}"); !strings.HasSuffix(st, "(healthy)") {
		t.Fatalf("docker ps status %q", st)
	}
	if got := a.MustDocker("ps", "--filter", "health=healthy", "-q"); !strings.HasPrefix(id, got) || got == "" {
		t.Fatalf("health=healthy: %q", got)
	}
	// pea sees the same.
	if s := healthStatus(a.Env, "web"); s != "healthy" {
		t.Fatalf("pea inspect: %q", s)
	}
	a.MustDocker("rm", "-f", "web")
	if p := healthTimers(t, id); len(p) != 0 {
		t.Fatalf("the timer outlived the removal: %q", p)
	}
	if r := a.Docker("run", "-d", "--health-cmd", "true", "--health-retries", "-1", "localhost/bb", "true"); r.Code == 0 {
		t.Fatalf("negative retries accepted: %s", r)
	}
}

// loadWithHealthcheck loads into e localhost/bb saved again as name with a HEALTHCHECK in its
// config (pea's --change takes no HEALTHCHECK, as podman's): the docker-archive's config is
// rewritten under its new digest.
func loadWithHealthcheck(t *testing.T, e *Env, name string, health map[string]any) {
	t.Helper()
	src := filepath.Join(e.Dir, "bb-save.tar")
	e.Pea("save", "-o", src, "localhost/bb")
	files := map[string][]byte{}
	var order []string
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
		order = append(order, h.Name)
	}
	f.Close()
	var manifest []map[string]any
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("manifest.json: %v %s", err, files["manifest.json"])
	}
	oldCfg := manifest[0]["Config"].(string)
	var cfg map[string]any
	if err := json.Unmarshal(files[oldCfg], &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["config"].(map[string]any)["Healthcheck"] = health
	newCfgBytes, _ := json.Marshal(cfg)
	newCfg := fmt.Sprintf("%x.json", sha256.Sum256(newCfgBytes))
	files[newCfg] = newCfgBytes
	if pm, ok := manifest[0]["PeaManifest"].(string); ok {
		delete(files, pm)
		delete(manifest[0], "PeaManifest")
	}
	manifest[0]["Config"], manifest[0]["RepoTags"] = newCfg, []string{name}
	files["manifest.json"], _ = json.Marshal(manifest)
	delete(files, oldCfg)
	order = append(order, newCfg)
	dst := filepath.Join(e.Dir, "bb-health.tar")
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(out)
	for _, n := range order {
		b, ok := files[n]
		if !ok {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.Close()
	out.Close()
	e.Pea("load", "-i", dst)
}

// --health-on-failure: once the container turns unhealthy, kill and stop end it, restart
// starts it again (a process of its own, which outlives the health timer the stop kills);
// a bad action is refused with nothing made.
func TestHealthOnFailure(t *testing.T) {
	e := newEnv(t).withBusybox()
	run := func(name, action string) {
		e.Pea("run", "-d", "--network", "none", "--name", name, "--health-cmd", "test ! -e /tmp/sick", "--health-retries", "1",
			"--health-interval", "500ms", "--health-on-failure", action, "--stop-timeout", "1",
			"localhost/bb", "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait")
		e.Pea("exec", name, "touch", "/tmp/sick")
	}
	run("k", "kill")
	run("s", "stop")
	startedAt := func(name string) string { return e.Pea("inspect", "--format", "{{.State.StartedAt}}", name) }
	run("r", "restart")
	first := startedAt("r")
	for name, want := range map[string]string{"k": "exited 137", "s": "exited 0"} {
		eventually(t, 15*time.Second, func() error {
			if got := e.Pea("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name); got != want {
				return fmt.Errorf("%s: %q, want %q", name, got, want)
			}
			return nil
		})
	}
	// Restarted: started again (the same container, /tmp/sick still there: it turns unhealthy
	// and restarts again and again, as podman's does).
	eventually(t, 15*time.Second, func() error {
		if n := strings.Count(e.Pea("events", "--stream=false", "--filter", "container=r", "--format", "{{.Status}}"), "restart"); n < 1 {
			return fmt.Errorf("r: %d restarts", n)
		}
		return nil
	})
	eventually(t, 15*time.Second, func() error {
		if s := startedAt("r"); s == first {
			return fmt.Errorf("r was not started again")
		}
		return nil
	})
	e.Pea("rm", "-f", "-t", "0", "r")
	r := e.Fails(125, "run", "--name", "bad", "--health-cmd", "true", "--health-on-failure", "explode", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, "--health-on-failure") {
		t.Fatalf("a bad action: %v", r)
	}
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}", "--filter", "name=bad"); got != "" {
		t.Fatalf("a refused run made %q", got)
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unitValue is the value of key= in a unit's text.
func unitValue(t *testing.T, unit, key string) string {
	t.Helper()
	for _, l := range strings.Split(unit, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s= in the unit:\n%s", key, unit)
	return ""
}

// runUnitLine runs an Exec line of a unit as systemd would (no shell: words split on spaces).
func runUnitLine(t *testing.T, line string) {
	t.Helper()
	argv := strings.Fields(line)
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", line, err, out)
	}
}

// verifyUnits checks units with systemd-analyze verify where systemd is installed.
func verifyUnits(t *testing.T, files ...string) {
	t.Helper()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		return
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify"}, files...)...).CombinedOutput()
	switch {
	case strings.Contains(string(out), ".service"):
		// What it says of the units themselves (a bad line, a missing binary) fails the test.
		t.Fatalf("systemd-analyze verify: %v %s", err, out)
	case err != nil:
		t.Logf("systemd-analyze cannot verify here: %v %s", err, out) // a machine without a usable systemd
	}
}

// conmonPID reads a unit's PID file and checks it names a live conmon.
func conmonPID(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("PIDFile: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	comm, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if strings.TrimSpace(string(comm)) != "conmon" {
		t.Fatalf("PIDFile names %d (%q), not a conmon", pid, comm)
	}
	return pid
}

// generate systemd: a container's unit starts it (ExecStart, with systemd following conmon
// through PIDFile) and stops it; a pod's units start the pod and bind its members to it. The
// units pass systemd-analyze verify; --new is refused.
func TestGenerateSystemd(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "web", "--network", "none", "--stop-timeout", "3", "localhost/bb", "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait")
	unit := e.Pea("generate", "systemd", "--name", "web")
	if !strings.HasPrefix(unit, "# container-web.service\n") || unitValue(t, unit, "Type") != "forking" || unitValue(t, unit, "TimeoutStopSec") != "63" {
		t.Fatalf("unit:\n%s", unit)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "container-web.service")
	os.WriteFile(path, []byte(unit+"\n"), 0o644)
	verifyUnits(t, path)
	runUnitLine(t, unitValue(t, unit, "ExecStart"))
	conmonPID(t, unitValue(t, unit, "PIDFile"))
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "web"); st != "running" {
		t.Fatalf("after ExecStart: %s", st)
	}
	runUnitLine(t, unitValue(t, unit, "ExecStop"))
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "web"); st != "exited" {
		t.Fatalf("after ExecStop: %s", st)
	}

	e.Pea("pod", "create", "--name", "pp", "--network", "none")
	e.Pea("create", "--pod", "pp", "--name", "m1", "localhost/bb", "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait")
	cmd := exec.Command(peaBin, e.args("generate", "systemd", "--files", "--name", "pp")...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(out)); len(got) != 2 || got[0] != filepath.Join(dir, "pod-pp.service") || got[1] != filepath.Join(dir, "container-m1.service") {
		t.Fatalf("--files: %q", out)
	}
	podUnit, _ := os.ReadFile(filepath.Join(dir, "pod-pp.service"))
	memberUnit, _ := os.ReadFile(filepath.Join(dir, "container-m1.service"))
	// The pod's unit wants its containers' (podman 4.3's Wants, not Requires).
	if !strings.Contains(string(podUnit), "\nWants=container-m1.service\nBefore=container-m1.service\n") || unitValue(t, string(memberUnit), "BindsTo") != "pod-pp.service" {
		t.Fatalf("pod units:\n%s\n%s", podUnit, memberUnit)
	}
	verifyUnits(t, filepath.Join(dir, "pod-pp.service"), filepath.Join(dir, "container-m1.service"))
	runUnitLine(t, unitValue(t, string(podUnit), "ExecStart"))
	runUnitLine(t, unitValue(t, string(memberUnit), "ExecStart"))
	conmonPID(t, unitValue(t, string(podUnit), "PIDFile")) // the infra container's conmon
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "m1"); st != "running" {
		t.Fatalf("member after the pod's ExecStart: %s", st)
	}
	runUnitLine(t, unitValue(t, string(podUnit), "ExecStop"))
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "m1"); st != "exited" {
		t.Fatalf("member after the pod's ExecStop: %s", st)
	}
	r := e.Fails(125, "generate", "systemd", "--new", "pp")
	if !strings.Contains(r.Stderr, "--new is for a container") {
		t.Fatalf("--new of a pod: %v", r)
	}
	e.Fails(125, "generate", "systemd", "nosuch")
}

// systemdWords splits an Exec line as systemd does for these units: words on spaces outside
// double quotes (in which \" and \\ escape), then the specifiers: %t (runtime directory), %n
// (the unit's name), %% and $$.
func systemdWords(line, runtimeDir, unitName string) []string {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
		case c == '"':
			quoted, inWord = !quoted, true
		case c == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	for i, w := range words {
		w = strings.ReplaceAll(w, "%%", "\x00")
		w = strings.ReplaceAll(w, "%t", runtimeDir)
		w = strings.ReplaceAll(w, "%n", unitName)
		w = strings.ReplaceAll(w, "\x00", "%")
		words[i] = strings.ReplaceAll(w, "$$", "$")
	}
	return words
}

// generate systemd --new: the unit runs the container afresh from the command that created it
// (quoting, $ and % kept), follows its conmon through --conmon-pidfile, replaces it when
// started again, and stops and removes it (stop and rm --cidfile).
func TestGenerateSystemdNew(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "web", "--network", "none", "-e", "X=a b", "--stop-timeout", "3", "-it", "--label", "l=1",
		"localhost/bb", "sh", "-c", `trap "exit 0" TERM; echo "$X 100%"; sleep 1000 & wait`)
	unit := e.Pea("generate", "systemd", "--new", "--name", "web")
	dir := t.TempDir()
	path := filepath.Join(dir, "container-web.service")
	os.WriteFile(path, []byte(unit+"\n"), 0o644)
	verifyUnits(t, path)
	e.Pea("rm", "web") // --new makes it again
	run := func(key string) {
		t.Helper()
		w := systemdWords(unitValue(t, unit, key), dir, "container-web.service")
		if out, err := exec.Command(w[0], w[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", key, err, out)
		}
	}
	pidFile := systemdWords(unitValue(t, unit, "PIDFile"), dir, "container-web.service")[0]
	for round := 0; round < 2; round++ { // started twice: the second replaces the first
		run("ExecStartPre")
		run("ExecStart")
		conmonPID(t, pidFile)
		eventually(t, 10*time.Second, func() error {
			if out := e.Pea("logs", "web"); !strings.Contains(out, "a b 100%") {
				return fmt.Errorf("logs: %q", out)
			}
			return nil
		})
		if got := e.Pea("inspect", "--format", "{{.State.Status}} {{.Config.Labels.l}} {{.Config.Tty}}", "web"); got != "running 1 true" {
			t.Fatalf("the container the unit made: %q", got)
		}
	}
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}"); got != "web" {
		t.Fatalf("containers after two starts: %q", got)
	}
	run("ExecStop")
	run("ExecStopPost")
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("after the unit stopped: %q", got)
	}
	run("ExecStop") // again, with nothing to stop: --ignore
	r := e.Fails(125, "generate", "systemd", "--new", "nosuch")
	if !strings.Contains(r.Stderr, "nosuch") {
		t.Fatalf("--new of nothing: %v", r)
	}
}

// generate systemd's further flags: --template (a NAME@.service whose instance runs NAME-INST),
// --env, --start-timeout, --stop-timeout, --no-header, --format json; bad combinations refused.
func TestGenerateSystemdFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "tpl", "--network", "none", "localhost/bb", "sleep", "1000")
	var units map[string]string
	out := e.Pea("generate", "systemd", "--new", "--template", "--name", "--no-header", "-e", "GREETING=hi there",
		"--start-timeout", "33", "--stop-timeout", "4", "--format", "json", "tpl")
	if err := json.Unmarshal([]byte(out), &units); err != nil {
		t.Fatalf("--format json: %v %s", err, out)
	}
	unit, ok := units["container-tpl"]
	if !ok || len(units) != 1 {
		t.Fatalf("--format json: %v", units)
	}
	if strings.HasPrefix(unit, "#") || unitValue(t, unit, "TimeoutStartSec") != "33" || unitValue(t, unit, "TimeoutStopSec") != "64" ||
		!strings.Contains(unit, "\nEnvironment=\"GREETING=hi there\"\n") || !strings.Contains(unit, "--name tpl-%i ") {
		t.Fatalf("the template unit:\n%s", unit)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "container-tpl@.service")
	os.WriteFile(path, []byte(unit), 0o644)
	verifyUnits(t, path)
	// Instance "a": %i is systemd's instance name.
	inst := "container-tpl@a.service"
	run := func(key string) {
		t.Helper()
		w := systemdWords(strings.ReplaceAll(unitValue(t, unit, key), "%i", "a"), dir, inst)
		if out, err := exec.Command(w[0], w[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", key, err, out)
		}
	}
	run("ExecStartPre")
	run("ExecStart")
	if got := e.Pea("inspect", "--format", "{{.State.Status}}", "tpl-a"); got != "running" {
		t.Fatalf("the instance's container: %q", got)
	}
	run("ExecStop")
	run("ExecStopPost")
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}"); got != "tpl" {
		t.Fatalf("after the instance stopped: %q", got)
	}
	e.Fails(125, "generate", "systemd", "--template", "tpl")
	e.Fails(125, "generate", "systemd", "--format", "yaml", "tpl")
	e.Fails(125, "generate", "systemd", "-e", "NOEQUALS", "tpl")
}

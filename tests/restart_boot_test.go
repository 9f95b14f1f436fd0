package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// unitCommand returns the arguments pea is given by a line (ExecStart=, ExecStop=) of one of
// the project's systemd units, so that the test runs what the unit runs.
func unitCommand(t *testing.T, unit, key string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "contrib", "systemd", unit))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			f := strings.Fields(v)
			if len(f) == 0 || filepath.Base(f[0]) != "pea" {
				t.Fatalf("%s: %s does not run pea: %q", unit, key, v)
			}
			return f[1:]
		}
	}
	t.Fatalf("%s has no %s=", unit, key)
	return nil
}

// A reboot brings back `--restart always` containers and `unless-stopped` ones the user did
// not stop, through what contrib/systemd/pea-restart.service runs: podman 4.3's unit started
// `always` ones only (its bugs 17851 and 20418), and a stop at shutdown must neither count as
// the user's nor let the restart policy start the container again meanwhile.
func TestRestartPoliciesAcrossReboot(t *testing.T) {
	e := newEnv(t).withBusybox()
	sleep := []string{"localhost/bb", "sleep", "1000"}
	run := func(name string, args ...string) {
		e.Pea(append(append([]string{"run", "-d", "--name", name}, args...), sleep...)...)
	}
	run("keep-always", "--network", "none", "--restart", "always")
	run("keep-unless", "--network", "none", "--restart", "unless-stopped")
	run("user-stopped", "--network", "none", "--restart", "unless-stopped")
	run("fail-only", "--network", "none", "--restart", "on-failure")
	run("no-policy", "--network", "none")
	e.Pea("pod", "create", "--name", "bootpod", "--network", "none")
	run("pod-always", "--pod", "bootpod", "--restart", "always")
	e.Pea("stop", "-t", "0", "user-stopped")

	bootSet := func() []string {
		t.Helper()
		out := strings.Fields(e.Pea("ps", "-a", "--filter", "should-start-on-boot=true", "--format", "{{.Names}}"))
		slices.Sort(out)
		return out
	}
	want := []string{"keep-always", "keep-unless", "pod-always"}
	if got := bootSet(); !slices.Equal(got, want) {
		t.Fatalf("should-start-on-boot=true: %v, want %v", got, want)
	}
	if out := e.Pea("ps", "-a", "--filter", "should-start-on-boot=false", "--format", "{{.Names}}"); !strings.Contains(out, "user-stopped") || strings.Contains(out, "keep-unless") {
		t.Fatalf("should-start-on-boot=false: %q", out)
	}
	e.Fails(125, "ps", "--filter", "should-start-on-boot=maybe")

	// Shutdown: the unit's stop.
	stop := unitCommand(t, "pea-restart.service", "ExecStop")
	if !slices.Contains(stop, "--not-stopped-by-user") {
		t.Fatalf("the unit's stop marks the containers as stopped by the user: %v", stop)
	}
	e.Pea(append(stop[:1:1], append([]string{"-t", "0"}, stop[1:]...)...)...)
	time.Sleep(1500 * time.Millisecond) // time enough for a restart policy to act, were it to
	for _, n := range want {
		if st := e.Pea("inspect", "--format", "{{.State.Status}} {{.RestartCount}}", n); st != "exited 0" {
			t.Fatalf("%s after the shutdown's stop: %q, want exited and not restarted", n, st)
		}
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "no-policy"); st != "running" {
		t.Fatalf("the shutdown's stop reached a container without a policy: %s", st)
	}
	if got := bootSet(); !slices.Equal(got, want) {
		t.Fatalf("after the shutdown's stop, should-start-on-boot=true: %v, want %v", got, want)
	}

	// The reboot: every process gone (conmon first, so that no exit command runs), the runroot
	// kept with another boot's ID in its marker.
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "bootpod")
	for _, c := range []string{"no-policy", infra} {
		conmon := e.Pea("inspect", "--format", "{{.State.ConmonPid}}", c)
		pid := e.Pea("inspect", "--format", "{{.State.Pid}}", c)
		exec.Command("kill", "-9", conmon, pid).Run()
	}
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(e.RunRoot, "alive"), []byte("a-previous-boot"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := bootSet(); !slices.Equal(got, want) {
		t.Fatalf("after the reboot, should-start-on-boot=true: %v, want %v", got, want)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", infra); st != "exited" {
		t.Fatalf("the infra container after the reboot: %s", st)
	}

	// Boot: the unit's start.
	e.Pea(unitCommand(t, "pea-restart.service", "ExecStart")...)
	for _, n := range []string{"keep-always", "keep-unless", "pod-always"} {
		if st := e.Pea("inspect", "--format", "{{.State.Status}}", n); st != "running" {
			t.Fatalf("%s after boot: %s", n, st)
		}
	}
	for _, n := range []string{"user-stopped", "fail-only", "no-policy"} {
		if st := e.Pea("inspect", "--format", "{{.State.Status}}", n); st != "exited" {
			t.Fatalf("%s after boot: %s, want it left stopped", n, st)
		}
	}
	if st := e.Pea("pod", "inspect", "--format", "{{.State}}", "bootpod"); st != "Running" {
		t.Fatalf("the member's pod after boot: %s", st)
	}
	// A stop by the user still counts as one.
	e.Pea("stop", "-t", "0", "keep-unless")
	if got := bootSet(); slices.Contains(got, "keep-unless") {
		t.Fatalf("a user's stop of an unless-stopped container: still in the boot set %v", got)
	}
}

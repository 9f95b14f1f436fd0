package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A pod's members are made while its infra container starts (engine/infragate.go), but their
// processes run only once the infra's start is over, network and all: a member's first
// instruction already sees the pod's address, by `pod start` (three pods of two members) and by
// `run --pod` into a stopped pod. Without the wait for the infra's start the members would run
// while the CNI plugins still attach the namespace (~50 ms here) and find eth0 with no address.
func TestPodMembersStartAfterNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	addr := []string{"sh", "-c", "ip -4 -o addr show eth0 | grep -o 'inet [0-9.]*' || echo NONE"}
	for i := range 3 {
		p := fmt.Sprintf("p%d", i)
		e.Pea("pod", "create", "--name", p)
		for m := range 2 {
			e.Pea(append([]string{"create", "--pod", p, "--name", fmt.Sprintf("%s-m%d", p, m), "localhost/bb"}, addr...)...)
		}
	}
	for i := range 3 {
		e.Pea("pod", "start", fmt.Sprintf("p%d", i))
	}
	for i := range 3 {
		p := fmt.Sprintf("p%d", i)
		ip := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", p)
		ip = e.Pea("inspect", "--format", "{{.NetworkSettings.IPAddress}}", ip)
		for m := range 2 {
			n := fmt.Sprintf("%s-m%d", p, m)
			e.Pea("wait", n)
			if out := e.Pea("logs", n); out != "inet "+ip {
				t.Errorf("member %s saw eth0 as %q at its start, want %q", n, out, "inet "+ip)
			}
		}
	}
	e.Pea("pod", "create", "--name", "q")
	ip := e.Pea(append([]string{"run", "--pod", "q", "localhost/bb"}, addr...)...)
	want := e.Pea("inspect", "--format", "{{.NetworkSettings.IPAddress}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "q"))
	if ip != "inet "+want {
		t.Errorf("run --pod into a stopped pod saw eth0 as %q, want %q", ip, "inet "+want)
	}
}

// An infra start that fails after its process was made (the network's plugin refuses, slowly,
// so the members are made meanwhile) fails the pod start with the plugin's error, and leaves
// the members as they were: created, no process, no runtime container, no mount, no conmon.
// The next start, with a working plugin, brings the whole pod up.
func TestPodInfraFailsWhileMembersAreMade(t *testing.T) {
	e := newEnv(t).withBusybox()
	plugins := filepath.Join(e.Dir, "cni")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	script := `#!/bin/sh
case "$CNI_COMMAND" in
ADD) sleep 0.4; echo '{"cniVersion":"1.0.0","code":11,"msg":"test plugin refuses"}'; exit 1 ;;
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]}' ;;
esac
exit 0
`
	if err := os.WriteFile(filepath.Join(plugins, "bridge"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := confFile(t, e, "broken.conf", fmt.Sprintf("[network]\ncni_plugin_dirs = [%q]\n", plugins))
	e.Pea("pod", "create", "--name", "p")
	var ids []string
	for m := range 2 {
		ids = append(ids, e.Pea("create", "--pod", "p", "--name", fmt.Sprintf("m%d", m), "localhost/bb", "sleep", "300"))
	}
	r := e.runEnv(nil, broken, "pod", "start", "p")
	if r.Code != 125 || !strings.Contains(r.Stderr, "test plugin refuses") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("pod start with a refusing plugin: want one line naming its error, exit 125; got %s", r)
	}
	if out := e.Pea("ps", "-a", "--filter", "pod=p", "--format", "{{.Names}} {{.State}}", "--sort", "names"); !strings.Contains(strings.ToLower(out), "m0 created") || !strings.Contains(strings.ToLower(out), "m1 created") {
		t.Fatalf("members after the failed start:\n%s", out)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if strings.Contains(string(mounts), id) {
			t.Errorf("member %.12s left a mount:\n%s", id, mounts)
		}
		if out := e.Pea("inspect", "--format", "{{.State.Pid}} {{.State.ConmonPid}}", id); out != "0 0" {
			t.Errorf("member %.12s: pid and conmon pid %q after the failed start", id, out)
		}
		if _, err := os.Stat(filepath.Join(e.RunRoot, "runtime", id)); err == nil {
			t.Errorf("member %.12s is still known to the runtime", id)
		}
		// Its conmon may still be running its exit command when the start returns.
		eventually(t, 5*time.Second, func() error {
			if pids := conmonsFor(t, id); len(pids) > 0 {
				return fmt.Errorf("member %.12s: conmon %v still runs", id, pids)
			}
			return nil
		})
	}
	e.Pea("pod", "start", "p")
	if out := e.Pea("ps", "--filter", "pod=p", "--format", "{{.Names}}", "--sort", "names"); len(strings.Fields(out)) != 3 {
		t.Fatalf("after a working start, want the infra and both members running:\n%s", out)
	}
}

// conmonsFor lists the conmon processes of container id.
func conmonsFor(t *testing.T, id string) []string {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmd), "\x00")
		if len(args) > 0 && filepath.Base(args[0]) == "conmon" && strings.Contains(string(cmd), "\x00"+id+"\x00") {
			out = append(out, d.Name())
		}
	}
	return out
}

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pod clone takes pod create's --uidmap/--gidmap (and --subuidname/--subgidname), --pid,
// --uts, --cgroup-parent, --volumes-from and --infra-conmon-pidfile: the clone's infra and
// its cloned members run with them, and the original pod keeps its own.
func TestPodCloneCreateFlags(t *testing.T) {
	// Registered first, so run last: after the teardown has removed the pods in it.
	parent := fmt.Sprintf("pea-podclone-test-%d", os.Getpid())
	t.Cleanup(func() { removeCgroupDirs(parent) })
	e := newEnv(t).withBusybox().withUserNS()
	vol := t.TempDir()
	os.Chmod(vol, 0o755)
	os.WriteFile(filepath.Join(vol, "f"), []byte("from-src\n"), 0o644)
	e.Pea("create", "--network", "none", "--name", "src", "-v", vol+":/shared", "localhost/bb", "true")
	e.Pea("pod", "create", "--name", "p", "--network", "none")
	e.Pea("create", "--pod", "p", "--name", "pm", "localhost/bb", "sleep", "1000")
	pidfile := filepath.Join(e.Dir, "infra-conmon.pid")
	e.Pea("pod", "clone", "--start", "--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", "--pid", "host", "--uts", "host",
		"--cgroup-parent", "/"+parent, "--volumes-from", "src", "--infra-conmon-pidfile", pidfile, "p", "c1")
	pid := func(ctr string) string { return e.Pea("inspect", "--format", "{{.State.Pid}}", ctr) }
	ns := func(p, kind string) string {
		t.Helper()
		l, err := os.Readlink("/proc/" + p + "/ns/" + kind)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "c1")
	member := "pm-clone"
	if got := strings.Join(strings.Fields(e.Pea("exec", member, "cat", "/proc/self/uid_map", "/proc/self/gid_map")), " "); got != "0 100000 65536 0 100000 65536" {
		t.Fatalf("the cloned member's ID maps: %q", got)
	}
	if ns(pid(infra), "pid") != ns("self", "pid") {
		t.Fatal("--pid host: the clone's infra is not in the host's PID namespace")
	}
	if ns(pid(member), "uts") != ns("self", "uts") {
		t.Fatal("--uts host: the cloned member (sharing the pod's UTS) is not in the host's")
	}
	if cg, _ := os.ReadFile("/proc/" + pid(member) + "/cgroup"); !strings.Contains(string(cg), "/"+parent+"/") {
		t.Fatalf("--cgroup-parent: the member's cgroups: %s", cg)
	}
	if got := e.Pea("exec", member, "cat", "/shared/f"); got != "from-src" {
		t.Fatalf("--volumes-from: /shared/f is %q", got)
	}
	b, err := os.ReadFile(pidfile)
	if comm, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/comm"); err != nil || strings.TrimSpace(string(comm)) != "conmon" {
		t.Fatalf("--infra-conmon-pidfile: %q is no conmon (%q, %v)", b, comm, err)
	}
	// The original keeps its settings.
	e.Pea("pod", "start", "p")
	if got := strings.Join(strings.Fields(e.Pea("exec", "pm", "cat", "/proc/self/uid_map")), " "); got != "0 0 4294967295" {
		t.Fatalf("the original member's UID map: %q", got)
	}
	if ns(pid("pm"), "uts") == ns("self", "uts") {
		t.Fatal("the original pod's member is in the host's UTS namespace")
	}
	// --subuidname/--subgidname: the maps of the names' /etc/subuid and /etc/subgid ranges.
	if r := e.withSubIDs("bob:200000:65536\n", "bob:300000:65536\n", "pod", "clone", "--subuidname", "bob", "p", "c2"); r.Code != 0 {
		t.Fatalf("pod clone --subuidname: %s", r)
	}
	e.Pea("pod", "start", "c2")
	if got := strings.Join(strings.Fields(e.Pea("exec", "pm-clone1", "cat", "/proc/self/uid_map", "/proc/self/gid_map")), " "); got != "0 200000 65536 0 300000 65536" {
		t.Fatalf("pod clone --subuidname: the member's maps %q", got)
	}
	e.Pea("pod", "create", "--name", "noinfra", "--infra=false")
	for _, c := range [][]string{
		{"pea", "--pid", "container:x", "p"},
		{"pea", "--userns", "container:pm", "p"},
		{"pea", "--uidmap", "0:1", "p"},
		{"pea", "--uidmap", "0:100000:10", "noinfra"},
		{"pea", "--infra-conmon-pidfile", pidfile, "noinfra"},
		{"pea", "--volumes-from", "nosuch", "p"},
	} {
		before := e.Pea("pod", "ps", "-q")
		r := e.Fails(125, append([]string{"pod", "clone"}, c[1:]...)...)
		if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Fatalf("pod clone %v: want one error line, got %q", c[1:], r.Stderr)
		}
		if after := e.Pea("pod", "ps", "-q"); after != before {
			t.Fatalf("pod clone %v left a pod: %q", c[1:], after)
		}
	}
}

package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Crash safety at fixed points: pea SIGKILLs itself at a trace mark (PEA_TRACE_KILL, see
// internal/trace), which stands for a pea killed there; scripts/killfuzz.sh found these points
// by killing pea at random delays.

// killedAt runs pea until it reaches mark and fails the test unless it died there.
func (e *Env) killedAt(mark string, args ...string) {
	e.t.Helper()
	r := e.runEnv(nil, []string{"PEA_TRACE_KILL=" + mark}, args...)
	if r.Code != -1 {
		e.t.Fatalf("pea %s was to be killed at %q: %s", strings.Join(args, " "), mark, r)
	}
}

// A network connect killed after the bridge plugin made the interface (before libcni's cache
// entry), or after the attachment was made but before the container's record: the container
// stays off the network, and the next connect attaches it (it failed on "eth1 already exists",
// or "already connected" while the record said not). A disconnect killed in its DEL: the next
// disconnect leaves.
func TestNetworkConnectKilled(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "kill-net")
	e.Pea("run", "-d", "--name", "kconn", "localhost/bb", "sleep", "1000")
	for _, mark := range []string{"cni ADD bridge", "network connect: attached"} {
		e.killedAt(mark, "network", "connect", "kill-net", "kconn")
		e.Pea("network", "connect", "kill-net", "kconn")
		if got := e.Pea("exec", "kconn", "sh", "-c", "ip -o link | grep -c eth1@"); got != "1" {
			t.Fatalf("after a connect killed at %q, then one that finished: %s eth1", mark, got)
		}
		if got := e.Pea("inspect", "--format", "{{len .NetworkSettings.Networks}}", "kconn"); got != "2" {
			t.Fatalf("networks after the connect: %s", got)
		}
		e.killedAt("cni DEL bridge", "network", "disconnect", "kill-net", "kconn")
		e.Pea("network", "disconnect", "kill-net", "kconn")
		if got := e.Pea("inspect", "--format", "{{len .NetworkSettings.Networks}}", "kconn"); got != "1" {
			t.Fatalf("networks after the disconnect: %s", got)
		}
	}
	// The killed connects left no address lease and no mark behind.
	e.Pea("rm", "-f", "-t", "0", "kconn")
	leases, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "ipam", "kill-net", "10.*"))
	marks, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "cni-cache", "pending", "*"))
	if len(leases)+len(marks) > 0 {
		t.Fatalf("left after the removal: %v %v", leases, marks)
	}
}

// save -o and export -o killed while writing left a partial archive under the name asked for:
// not an archive, and save's retry refused it ("doesn't support modifying existing images").
// The file is now written without a name and named once whole.
func TestSaveExportKilled(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "kexp", "localhost/bb", "true")
	out := filepath.Join(e.Dir, "out.tar")
	for _, c := range [][]string{{"save: written", "save", "-o", out, "localhost/bb"}, {"export: written", "export", "-o", out, "kexp"}} {
		e.killedAt(c[0], c[1:]...)
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Fatalf("%s killed before its end left %s (%v)", c[1], out, err)
		}
		if left, _ := os.ReadDir(e.Dir); len(left) != 2 { // root and run
			t.Fatalf("%s killed left files beside its output: %v", c[1], left)
		}
		e.Pea(c[1:]...)
		if list, err := exec.Command("tar", "-tf", out).Output(); err != nil || len(list) == 0 {
			t.Fatalf("%s's archive: %v %q", c[1], err, list)
		}
		os.Remove(out)
	}
	// As podman: an empty file is written over, one with something in it is refused (save).
	os.WriteFile(out, nil, 0o644)
	e.Pea("save", "-o", out, "localhost/bb")
	e.Fails(125, "save", "-o", out, "localhost/bb")
	// A device is written to as it is.
	e.Pea("save", "-o", "/dev/null", "localhost/bb")
	e.Pea("export", "-o", "/dev/null", "kexp")
}

// A SIGTERM, SIGINT or SIGHUP in the middle of a verb that changes state used to end pea there,
// as a SIGKILL: `run -d` left a container created and not started, a connect an interface
// unrecorded. Those verbs now finish, then die of the signal.
func TestInterruptsHeld(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "held-net")
	for _, c := range []struct{ at, name string }{
		{"SIGTERM:start: rootfs mounted", "kheld1"},
		{"SIGINT:start: runtime created the container", "kheld2"},
		{"SIGHUP:start: spec written", "kheld3"},
	} {
		r := e.runEnv(nil, []string{"PEA_TRACE_KILL=" + c.at}, "run", "-d", "--name", c.name, "localhost/bb", "sleep", "1000")
		if r.Code != -1 || len(strings.TrimSpace(r.Stdout)) != 64 {
			t.Fatalf("run -d with %s: want its ID printed, then death by the signal: %s", c.at, r)
		}
		if st := e.Pea("inspect", "--format", "{{.State.Status}}", c.name); st != "running" {
			t.Fatalf("run -d with %s: %s", c.at, st)
		}
	}
	r := e.runEnv(nil, []string{"PEA_TRACE_KILL=SIGTERM:cni ADD bridge"}, "network", "connect", "held-net", "kheld1")
	if r.Code != -1 {
		t.Fatalf("network connect with a SIGTERM: %s", r)
	}
	if got := e.Pea("inspect", "--format", "{{len .NetworkSettings.Networks}}", "kheld1"); got != "2" {
		t.Fatalf("networks after a connect that got a SIGTERM: %s", got)
	}
	r = e.runEnv(nil, []string{"PEA_TRACE_KILL=SIGTERM:cleanup: network torn down"}, "rm", "-f", "-t", "0", "kheld2")
	if r.Code != -1 {
		t.Fatalf("rm -f with a SIGTERM: %s", r)
	}
	e.Fails(1, "container", "exists", "kheld2")
}

// A create (or run, whose conmon is launched ahead of the container's row) killed after its
// first directory and before its row left root/containers/<id> (and runroot/containers/<id>)
// with nothing to name them: no removal ever found them. system prune and rm --all now remove
// them, and leave those of the containers that exist.
func TestCreateKilledOrphans(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "kkeep", "localhost/bb", "sleep", "1000")
	e.killedAt("create: directory made", "create", "--name", "korph1", "localhost/bb", "true")
	e.killedAt("run: conmon launched ahead", "run", "-d", "--name", "korph2", "localhost/bb", "sleep", "1000")
	dirs := func() int {
		a, _ := filepath.Glob(filepath.Join(e.Root, "containers", "*"))
		b, _ := filepath.Glob(filepath.Join(e.RunRoot, "containers", "*"))
		return len(a) + len(b)
	}
	if n := dirs(); n < 5 {
		t.Fatalf("%d container directories: the killed creations left none?", n)
	}
	e.Fails(1, "container", "exists", "korph1")
	e.Pea("system", "prune", "-f")
	if n := dirs(); n != 2 { // kkeep's, in the store and its bundle
		t.Fatalf("%d container directories after system prune, want kkeep's 2", n)
	}
	e.Pea("exec", "kkeep", "true")
	e.Pea("run", "--rm", "--name", "korph2", "localhost/bb", "true")
	// rm --all removes them too, with their lock files.
	e.killedAt("create: directory made", "create", "--name", "korph1", "localhost/bb", "true")
	e.killedAt("run: conmon launched ahead", "run", "-d", "--name", "korph2", "localhost/bb", "sleep", "1000")
	e.Pea("rm", "-af", "-t", "0")
	locks, _ := os.ReadDir(filepath.Join(e.RunRoot, "locks"))
	for _, l := range locks {
		if len(l.Name()) == 64 {
			t.Errorf("lock file left: %s", l.Name())
		}
	}
	if n := dirs(); n != 0 {
		t.Fatalf("%d container directories after rm -af", n)
	}
}

// A creation killed after it took the new container's lock and before its first directory left
// only the lock file (TestKilledPeaLeavesNothingAfterRm found it: run -d killed at random): the
// sweep of system prune and rm --all removes such a file too, and keeps a running pod's.
func TestCreateKilledLockOnly(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctr := e.Pea("create", "--name", "klock", "localhost/bb", "true")
	pod := e.Pea("pod", "create", "--name", "klockpod")
	e.Pea("container", "start", "klock") // its lock file exists from here on at the latest
	orphan := strings.Repeat("ab12", 16)
	if err := os.WriteFile(filepath.Join(e.RunRoot, "locks", orphan), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.Pea("pod", "start", "klockpod")
	e.Pea("system", "prune", "-f") // klock has exited: removed; the running pod kept
	if _, err := os.Stat(filepath.Join(e.RunRoot, "locks", orphan)); err == nil {
		t.Fatalf("the killed creation's lock file is left after system prune")
	}
	if _, err := os.Stat(filepath.Join(e.RunRoot, "locks", pod)); err != nil {
		t.Fatalf("system prune removed the running pod's lock file: %v", err)
	}
	e.Fails(1, "container", "exists", ctr)
	e.Pea("pod", "stop", "klockpod")
	e.Pea("pod", "start", "klockpod")
	e.Pea("pod", "rm", "-f", "klockpod")
}

// A start (restart, pod restart...) killed after it pinned the container's network namespace and
// before it recorded it left the pin: every later start failed on "network namespace ...
// already exists", for good. The start now detaches and unpins what the killed one left.
func TestStartKilledNetns(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "kstart", "localhost/bb", "sleep", "1000")
	leases := func() int {
		l, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "ipam", "*", "10.*"))
		return len(l)
	}
	for _, mark := range []string{"cni ADD bridge", "start: runtime created the container", "start: runtime started it"} {
		e.killedAt(mark, "restart", "-t", "0", "kstart")
		e.Pea("start", "kstart")
		e.Pea("exec", "kstart", "true")
		if n := leases(); n != 1 {
			t.Fatalf("after a restart killed at %q and a start: %d address leases", mark, n)
		}
	}
	e.Pea("pod", "create", "--name", "kstart-pod")
	e.Pea("run", "-d", "--pod", "kstart-pod", "--name", "kstart-m", "localhost/bb", "sleep", "1000")
	e.killedAt("start: runtime created the container", "pod", "restart", "kstart-pod")
	e.Pea("pod", "restart", "kstart-pod")
	e.Pea("exec", "kstart-m", "true")
}

// A create whose conmon died after the runtime put the container's first process in its cgroup
// and before the runtime's state was written (found by the kill fuzz: `crun create` child left
// waiting on exec.fifo after the store's reset) left that process for good: rm found no state to
// delete. The state is prepared by hand here: a container created and never started, and a
// process in its cgroup. rm now kills it and removes the cgroup.
func TestRemoveKillsLeftInCgroup(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("create", "--name", "kcg", "localhost/bb", "sleep", "1000")
	dirs, _ := filepath.Glob("/sys/fs/cgroup/pids")
	if len(dirs) == 0 {
		dirs = []string{"/sys/fs/cgroup"} // v2
	}
	cg := filepath.Join(dirs[0], "pea", "pea-"+id)
	if err := os.MkdirAll(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	left := exec.Command("sleep", "1000")
	if err := left.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- left.Wait() }()
	t.Cleanup(func() {
		left.Process.Kill()
		<-done // out of the cgroup, which can then go
		os.Remove(cg)
	})
	if err := os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(strconv.Itoa(left.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	e.Pea("rm", "kcg")
	select {
	case err := <-done:
		done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("the process left in the removed container's cgroup still runs")
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Fatalf("the cgroup is left: %v", err)
	}
}

// A volume removal deleted the record, then the files: killed while deleting them (a large
// volume takes long) it left root/volumes/<name> that nothing named. The files now go to the
// trash first; a removal killed after that leaves the volume listed, and the next removal ends it.
func TestVolumeRemoveKilled(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("volume", "create", "kvol")
	e.Pea("run", "--rm", "-v", "kvol:/d", "localhost/bb", "sh", "-c", "seq 1000 > /d/x")
	e.killedAt("volume rm: files in the trash", "volume", "rm", "kvol")
	if out := e.Pea("volume", "ls", "-q"); out != "kvol" {
		t.Fatalf("volumes after a removal killed half-way: %q", out)
	}
	e.Pea("volume", "rm", "kvol")
	e.Pea("system", "prune", "-f") // empties the trash
	if left, _ := os.ReadDir(filepath.Join(e.Root, "volumes")); len(left) != 0 {
		t.Fatalf("left in the store's volumes: %v", left)
	}
	if left, _ := os.ReadDir(filepath.Join(e.Root, "trash")); len(left) != 0 {
		t.Fatalf("left in the trash: %v", left)
	}
	e.Pea("volume", "create", "kvol")
	e.Pea("run", "--rm", "-v", "kvol:/d", "localhost/bb", "test", "!", "-e", "/d/x")
}

// A start killed after the runtime's create leaves conmon waiting with its created container;
// the next start ends that conmon before it deletes the container. It did not: the runtime's
// delete ended the old container, whose conmon then wrote an exit code and ran its exit
// command, both taken for the new run's — the new container was recorded "Exited (137)" and
// torn down while it ran (TestDNSStartKilled failed so, now and then, in CI).
func TestStartAfterKilledCreate(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "kcreated", "localhost/bb", "sleep", "1000")
	e.killedAt("start: runtime created the container", "start", "kcreated")
	id := e.Pea("inspect", "-f", "{{.Id}}", "kcreated")
	b, err := os.ReadFile(filepath.Join(e.RunRoot, "containers", id, "conmon.pid"))
	if err != nil {
		t.Fatalf("the killed start left no conmon.pid: %v", err)
	}
	old, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if !pidAlive(old) {
		t.Fatalf("the killed start's conmon %d is not running", old)
	}
	e.Pea("start", "kcreated")
	if pidAlive(old) {
		t.Fatalf("the killed start's conmon %d outlived the next start", old)
	}
	if _, err := os.Stat(filepath.Join(e.RunRoot, "exits", id)); err == nil {
		t.Fatal("an exit code is recorded for the running container")
	}
	time.Sleep(200 * time.Millisecond) // an exit command would have run by now
	if got := e.Pea("inspect", "-f", "{{.State.Status}}", "kcreated"); got != "running" {
		t.Fatalf("after the start: %s", got)
	}
	e.Pea("exec", "kcreated", "true")
}

package tests

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestRunExitCodes(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "localhost/bb", "echo", "hi"); out != "hi" {
		t.Fatalf("echo: %q", out)
	}
	e.Fails(3, "run", "--rm", "localhost/bb", "sh", "-c", "exit 3")
	r := e.Fails(127, "run", "--rm", "localhost/bb", "/nonexistent")
	if !strings.Contains(r.Stderr, "not found") {
		t.Fatalf("127 without a clear message: %s", r)
	}
	e.Fails(126, "run", "--rm", "localhost/bb", "/etc/passwd")
	// A directory as the command: crun says "Operation not permitted"; podman's code is 126 too.
	if r := e.Fails(126, "run", "--rm", "localhost/bb", "/etc"); !strings.Contains(r.Stderr, "OCI permission denied") {
		t.Fatalf("directory as the command: %s", r)
	}
	r = e.Fails(125, "run", "--rm", "localhost/nosuch:1", "true")
	if !strings.Contains(r.Stderr, "image not known") || strings.Count(r.Stderr, "Error:") != 1 {
		t.Fatalf("unknown image: want one line with 'image not known': %s", r)
	}
	// Nothing half-created by the failures: no container, no directory made for one before its
	// creation failed, no conmon launched ahead of it (engine.PrepareRun) still waiting.
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("failed runs left containers: %q", out)
	}
	if out, _ := exec.Command("pgrep", "-f", "conmon.*"+e.RunRoot).Output(); len(out) > 0 {
		t.Fatalf("conmon left by a failed run: %s", out)
	}
	for _, d := range []string{filepath.Join(e.Root, "containers"), filepath.Join(e.RunRoot, "containers")} {
		if entries, _ := os.ReadDir(d); len(entries) > 0 {
			t.Fatalf("failed runs left %d directories in %s", len(entries), d)
		}
	}
}

func TestStdinEnvWorkdirUser(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.PeaIn("piped\n", "run", "--rm", "-i", "localhost/bb", "cat"); out.Stdout != "piped\n" {
		t.Fatalf("stdin: %s", out)
	}
	out := e.Pea("run", "--rm", "-e", "FOO=bar", "-w", "/tmp", "-u", "bob:staff", "localhost/bb",
		"sh", "-c", "echo $FOO $(pwd) $(id -u) $(id -g) $HOME")
	if out != "bar /tmp 1000 50 /home/bob" {
		t.Fatalf("env/workdir/user: %q", out)
	}
	envFile := filepath.Join(e.Dir, "env")
	os.WriteFile(envFile, []byte("# comment\nA=1\nB=two words\n"), 0o644)
	if out := e.Pea("run", "--rm", "--env-file", envFile, "localhost/bb", "sh", "-c", "echo $A-$B"); out != "1-two words" {
		t.Fatalf("env-file: %q", out)
	}
	e.Fails(126, "run", "--rm", "-u", "nosuchuser", "localhost/bb", "true") // podman's code for a start that failed
	// That start failed after conmon was launched (the user is looked up in the mounted root
	// filesystem, while conmon starts): no conmon is left waiting for its word.
	if out, _ := exec.Command("pgrep", "-f", "conmon.*"+e.RunRoot).Output(); len(out) > 0 {
		t.Fatalf("conmon left by a failed start: %s", out)
	}
	assertNothingLeft(t, e)
}

func TestSecurityDefaults(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "localhost/bb", "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, "00000000800405fb") {
		t.Fatalf("default caps: %q", out)
	}
	if out := e.Pea("run", "--rm", "--cap-drop", "all", "localhost/bb", "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, "0000000000000000") {
		t.Fatalf("cap-drop all: %q", out)
	}
	if out := e.Pea("run", "--rm", "--cap-add", "net_admin", "localhost/bb", "grep", "CapEff", "/proc/self/status"); !strings.Contains(out, "00000000800415fb") {
		t.Fatalf("cap-add net_admin: %q", out)
	}
	// Masked paths read as empty; /proc/sys is read-only.
	if out := e.Pea("run", "--rm", "localhost/bb", "sh", "-c", "cat /proc/keys /proc/timer_list 2>/dev/null | wc -c"); out != "0" {
		t.Fatalf("masked paths readable: %q", out)
	}
	e.Fails(1, "run", "--rm", "localhost/bb", "sh", "-c", "echo 1 > /proc/sys/kernel/domainname")
	// The filter crun compiled is handed back to it by annotation, without the spec's seccomp
	// section: still in force on the runs that follow the first.
	for i := 0; i < 2; i++ {
		if out := e.Pea("run", "--rm", "localhost/bb", "grep", "^Seccomp:", "/proc/self/status"); !strings.Contains(out, "2") {
			t.Fatalf("run %d: seccomp not in filter mode: %q", i, out)
		}
	}
	// seccomp blocks namespaces and mounts; unconfined lets unshare through where caps allow.
	e.Fails(1, "run", "--rm", "localhost/bb", "unshare", "-U", "true")
	if r := e.Fails(1, "run", "--rm", "localhost/bb", "mount", "-t", "tmpfs", "x", "/mnt"); !strings.Contains(r.Stderr, "permission denied") {
		t.Fatalf("mount: %s", r)
	}
	if r := e.Try("run", "--rm", "--security-opt", "seccomp=unconfined", "--cap-add", "sys_admin", "localhost/bb", "unshare", "-m", "true"); r.Code != 0 {
		t.Fatalf("unconfined + sys_admin unshare: %s", r)
	}
	if out := e.Pea("run", "--rm", "--security-opt", "no-new-privileges", "localhost/bb", "grep", "NoNewPrivs", "/proc/self/status"); !strings.Contains(out, "1") {
		t.Fatalf("no-new-privileges: %q", out)
	}
}

func TestMountsAndReadOnly(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := filepath.Join(e.Dir, "data")
	os.MkdirAll(host, 0o755)
	os.WriteFile(filepath.Join(host, "f"), []byte("hostdata"), 0o644)
	if out := e.Pea("run", "--rm", "-v", host+":/data:ro", "localhost/bb", "cat", "/data/f"); out != "hostdata" {
		t.Fatalf("bind: %q", out)
	}
	e.Fails(1, "run", "--rm", "-v", host+":/data:ro", "localhost/bb", "touch", "/data/g")
	e.Fails(1, "run", "--rm", "--read-only", "localhost/bb", "touch", "/x")
	e.Pea("run", "--rm", "--read-only", "--tmpfs", "/scratch", "localhost/bb", "touch", "/scratch/x")
	// Named volumes persist across containers.
	e.Pea("run", "--rm", "-v", "vol1:/v", "localhost/bb", "sh", "-c", "echo kept > /v/f")
	if out := e.Pea("run", "--rm", "--mount", "type=volume,src=vol1,dst=/w", "localhost/bb", "cat", "/w/f"); out != "kept" {
		t.Fatalf("volume: %q", out)
	}
	if out := e.Pea("volume", "ls", "-q"); out != "vol1" {
		t.Fatalf("volume ls: %q", out)
	}
	e.Pea("volume", "rm", "vol1")
	// Bad -v and --memory: one clear line, nothing created.
	for _, args := range [][]string{
		{"run", "--rm", "-v", "/nonexistent-pea-dir:/x", "localhost/bb", "true"},
		{"run", "--rm", "-v", "a:b:c:d", "localhost/bb", "true"},
		{"run", "--rm", "--memory", "lots", "localhost/bb", "true"},
	} {
		r := e.Fails(125, args...)
		if n := strings.Count(strings.TrimSpace(r.Stderr), "\n"); n != 0 {
			t.Fatalf("%v: want one error line: %s", args, r)
		}
	}
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("bad input left containers: %q", out)
	}
}

func TestMemoryLimitInCgroup(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--memory", "64m", "--pids-limit", "50", "localhost/bb", "sleep", "300")
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", id)
	limit := readCgroupFile(t, pid, "memory", "memory.limit_in_bytes", "memory.max")
	if limit != fmt.Sprint(64<<20) {
		t.Fatalf("memory limit in the cgroup: %q", limit)
	}
	if pids := readCgroupFile(t, pid, "pids", "pids.max", "pids.max"); pids != "50" {
		t.Fatalf("pids limit: %q", pids)
	}
}

// readCgroupFile reads a controller file of pid's cgroup (v1 hierarchy or v2).
func readCgroupFile(t *testing.T, pid, ctrl, v1file, v2file string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == ctrl {
				b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, f[2], v1file))
				if err != nil {
					t.Fatal(err)
				}
				return strings.TrimSpace(string(b))
			}
		}
		if f[0] == "0" && f[1] == "" {
			if b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", f[2], v2file)); err == nil {
				return strings.TrimSpace(string(b))
			}
		}
	}
	t.Fatalf("no %s cgroup for %s", ctrl, pid)
	return ""
}

func TestLifecyclePauseStopLogs(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "k1", "localhost/bb", "sh", "-c", "echo started; trap '' TERM; while true; do date +%s > /tmp/tick; sleep 0.2; done")
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("logs", "k1"); out != "started" {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	e.Pea("pause", "k1")
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "k1"); st != "paused" {
		t.Fatalf("status after pause: %s", st)
	}
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", "k1")
	tick := "/proc/" + pid + "/root/tmp/tick"
	b, _ := os.ReadFile(tick)
	before := string(b)
	time.Sleep(600 * time.Millisecond)
	if b, _ := os.ReadFile(tick); string(b) != before {
		t.Fatal("a paused container kept running")
	}
	if r := e.Try("exec", "k1", "true"); r.Code == 0 {
		t.Fatal("exec in a paused container should fail")
	}
	e.Pea("unpause", "k1")
	eventually(t, 3*time.Second, func() error {
		if now, _ := os.ReadFile(tick); string(now) == before {
			return fmt.Errorf("unpause did not resume: tick still %s", now)
		}
		return nil
	})
	// The process ignores SIGTERM: stop -t 1 escalates to SIGKILL.
	start := time.Now()
	e.Pea("stop", "-t", "1", "k1")
	if el := time.Since(start); el > 8*time.Second {
		t.Fatalf("stop took %v", el)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "k1"); st != "exited 137" {
		t.Fatalf("after stop: %s", st)
	}
	// Logs survive the exit; stop of a stopped container is fine.
	if out := e.Pea("logs", "k1"); out != "started" {
		t.Fatalf("logs after exit: %q", out)
	}
	e.Pea("stop", "k1")
	e.Pea("start", "k1")
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "k1"); st != "running" {
		t.Fatalf("restart: %s", st)
	}
	r := e.Fails(2, "rm", "k1")
	if !strings.Contains(r.Stderr, "running") {
		t.Fatalf("rm running: %s", r)
	}
	e.Pea("rm", "-f", "-t", "0", "k1")
	e.Fails(1, "container", "exists", "k1")
}

func TestExecExitCodes(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "x", "localhost/bb", "sleep", "300")
	e.Fails(7, "exec", "x", "sh", "-c", "exit 7")
	e.Fails(127, "exec", "x", "/nonexistent")
	e.Fails(126, "exec", "x", "/etc/passwd")
	e.Fails(126, "exec", "x", "/etc") // was 255: crun's "open executable: Operation not permitted"
	if out := e.Pea("exec", "-e", "V=1", "-w", "/tmp", "x", "sh", "-c", "echo $V $(pwd)"); out != "1 /tmp" {
		t.Fatalf("exec env/workdir: %q", out)
	}
	if out := e.PeaIn("in\n", "exec", "-i", "x", "cat"); out.Stdout != "in\n" {
		t.Fatalf("exec -i: %s", out)
	}
	if out := e.Pea("top", "x"); !strings.Contains(out, "sleep 300") {
		t.Fatalf("top: %q", out)
	}
	e.Fails(125, "run", "-d", "--name", "x", "localhost/bb", "true") // duplicate name
}

func TestDetachedExitCleansUp(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "localhost/bb", "true")
	auto := e.Pea("run", "-d", "--rm", "localhost/bb", "true")
	eventually(t, 10*time.Second, func() error {
		if st := e.Pea("inspect", "--format", "{{.State.Status}}", id); st != "exited" {
			return fmt.Errorf("status %s", st)
		}
		if r := e.Try("container", "exists", auto); r.Code != 1 {
			return fmt.Errorf("--rm container still there")
		}
		if mounts := overlayMountsUnder(e.Dir); mounts != 0 {
			return fmt.Errorf("%d overlay mounts left", mounts)
		}
		return nil
	})
	if code := e.Pea("wait", id); code != "0" {
		t.Fatalf("wait: %s", code)
	}
}

func overlayMountsUnder(dir string) int {
	data, _ := os.ReadFile("/proc/self/mounts")
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 2 && f[2] == "overlay" && strings.HasPrefix(f[1], dir) {
			n++
		}
	}
	return n
}

func TestParallelRunRm(t *testing.T) {
	e := newEnv(t).withBusybox()
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if r := e.Try("run", "--rm", "localhost/bb", "echo", fmt.Sprint(i)); r.Code != 0 || strings.TrimSpace(r.Stdout) != fmt.Sprint(i) {
				errs <- r.String()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("left containers: %q", out)
	}
	assertNothingLeft(t, e)
}

// assertNothingLeft checks that no conmon of e runs, no overlay is mounted under it, and no lock
// file is left for removed objects.
func assertNothingLeft(t *testing.T, e *Env) {
	t.Helper()
	eventually(t, 5*time.Second, func() error {
		if out, _ := exec.Command("pgrep", "-f", "conmon.*"+e.RunRoot).Output(); len(out) > 0 {
			return fmt.Errorf("conmon still running: %s", out)
		}
		if n := overlayMountsUnder(e.Dir); n > 0 {
			return fmt.Errorf("%d overlay mounts left", n)
		}
		return nil
	})
	locks, _ := os.ReadDir(filepath.Join(e.RunRoot, "locks"))
	ids := e.Pea("ps", "-aq", "--no-trunc") + "\n" + e.Pea("pod", "ps", "-q", "--no-trunc")
	for _, l := range locks {
		if l.Name() == "refresh" {
			continue
		}
		if !strings.Contains(ids, l.Name()) {
			t.Errorf("lock file of a removed object left: %s", l.Name())
		}
	}
}

func TestRmLeavesNoConmon(t *testing.T) {
	// Regression: rm -f returned while conmon was still running its exit command.
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "r1", "localhost/bb", "sleep", "300")
	e.Pea("rm", "-f", "-t", "0", "r1")
	if out, _ := exec.Command("pgrep", "-f", "conmon.*"+e.RunRoot).Output(); len(out) > 0 {
		t.Fatalf("conmon still running right after rm -f: %s", out)
	}
	assertNothingLeft(t, e)
}

// TestRemovalGoesThroughTheTrash: a removed container's directory leaves the store at once and
// the trash is emptied after the command returned, by a process of its own; `system prune`
// empties what an interrupted emptying left.
func TestRemovalGoesThroughTheTrash(t *testing.T) {
	e := newEnv(t).withBusybox()
	trash := filepath.Join(e.Root, "trash")
	emptyTrash := func() error {
		if entries, _ := os.ReadDir(trash); len(entries) > 0 {
			return fmt.Errorf("trash holds %d entries", len(entries))
		}
		return nil
	}
	id := e.Pea("create", "--network", "none", "localhost/bb", "true")
	e.Pea("start", "-a", id)
	if _, err := os.Stat(filepath.Join(e.Root, "containers", id)); err != nil {
		t.Fatalf("the container's directory: %v", err)
	}
	e.Pea("rm", id)
	if _, err := os.Stat(filepath.Join(e.Root, "containers", id)); !os.IsNotExist(err) {
		t.Fatalf("the removed container's directory is still in the store: %v", err)
	}
	eventually(t, 5*time.Second, emptyTrash)

	e.Pea("run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "echo data > /file")
	if entries, _ := os.ReadDir(filepath.Join(e.Root, "containers")); len(entries) > 0 {
		t.Fatalf("run --rm left %d container directories", len(entries))
	}
	eventually(t, 5*time.Second, emptyTrash)

	// What a killed emptying leaves (a tree with a directory no one may enter) goes with prune.
	left := filepath.Join(trash, "left-behind", "upper", "work")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(left, "f"), []byte("x"), 0o600)
	os.Chmod(left, 0)
	e.Pea("system", "prune", "-f")
	if err := emptyTrash(); err != nil {
		t.Fatalf("after system prune: %v", err)
	}
}

// TestRunProxiesSignals: a signal sent to an attached `pea run` reaches the container's process
// (which here exits with its own code on SIGUSR1), and pea exits with the container's code.
func TestRunProxiesSignals(t *testing.T) {
	e := newEnv(t).withBusybox()
	cmd := exec.Command(peaBin, "--root", e.Root, "--runroot", e.RunRoot, "run", "--rm", "--network", "none", "localhost/bb",
		"sh", "-c", `trap "echo got; exit 7" USR1; echo ready; while true; do sleep 0.05; done`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var got string
	for !strings.Contains(got, "ready") {
		n, err := out.Read(buf)
		if err != nil {
			t.Fatalf("before ready: %v (%q)", err, got)
		}
		got += string(buf[:n])
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	rest, _ := io.ReadAll(out)
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 || !strings.Contains(string(rest), "got") {
		t.Fatalf("after SIGUSR1: %v, output %q", err, got+string(rest))
	}
	assertNothingLeft(t, e)
}

// TestRmContainersMountVolatile: a --rm container's overlay is mounted volatile (no sync of its
// upper directory at unmount), another container's is not; a --rm container can still be mounted
// again after such an unmount (a volatile unmount leaves a marker that refuses later mounts).
func TestRmContainersMountVolatile(t *testing.T) {
	var u unix.Utsname
	unix.Uname(&u)
	var major, minor int
	fmt.Sscanf(unix.ByteSliceToString(u.Release[:]), "%d.%d", &major, &minor)
	if major < 5 || major == 5 && minor < 10 {
		t.Skip("overlayfs has no volatile option before Linux 5.10")
	}
	e := newEnv(t).withBusybox()
	mountOptions := func(id string) string {
		data, _ := os.ReadFile("/proc/self/mountinfo")
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, id) && strings.Contains(line, " overlay ") {
				return line
			}
		}
		return ""
	}
	rm := e.Pea("run", "-d", "--rm", "--network", "none", "localhost/bb", "sleep", "300")
	kept := e.Pea("run", "-d", "--network", "none", "localhost/bb", "sleep", "300")
	if m := mountOptions(rm); !strings.Contains(m, "volatile") {
		t.Fatalf("--rm container's overlay: %q", m)
	}
	if m := mountOptions(kept); m == "" || strings.Contains(m, "volatile") {
		t.Fatalf("other container's overlay: %q", m)
	}
	e.Pea("restart", "-t", "0", rm)
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", rm); st != "running" {
		t.Fatalf("--rm container after a restart: %s", st)
	}
	if m := mountOptions(rm); !strings.Contains(m, "volatile") {
		t.Fatalf("--rm container's overlay after a restart: %q", m)
	}
	e.Pea("rm", "-f", "-t", "0", rm, kept)
	assertNothingLeft(t, e)
}

// TestTrashEmptierWaitsForItsCommand: the emptier a command starts deletes nothing until that
// command (the process its pidfd names) has exited: what the command puts in the trash later is
// deleted too.
func TestTrashEmptierWaitsForItsCommand(t *testing.T) {
	e := newEnv(t)
	trash := filepath.Join(e.Root, "trash")
	if err := os.MkdirAll(filepath.Join(trash, "first", "upper"), 0o700); err != nil {
		t.Fatal(err)
	}
	command := exec.Command("sleep", "0.5")
	if err := command.Start(); err != nil {
		t.Fatal(err)
	}
	defer command.Wait()
	pidfd, err := unix.PidfdOpen(command.Process.Pid, 0)
	if err != nil {
		t.Skip("no pidfd:", err)
	}
	pf := os.NewFile(uintptr(pidfd), "pidfd")
	emptier := exec.Command(peaBin, "--root", e.Root, "--runroot", e.RunRoot, "system", "empty-trash", "--after-fd", "3")
	emptier.ExtraFiles = []*os.File{pf}
	if err := emptier.Start(); err != nil {
		t.Fatal(err)
	}
	pf.Close()
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(trash, "first")); err != nil {
		t.Fatalf("the emptier did not wait for its command: %v", err)
	}
	os.MkdirAll(filepath.Join(trash, "later"), 0o700) // put in the trash by the command, later
	if err := emptier.Wait(); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(trash); len(entries) > 0 {
		t.Fatalf("the trash still holds %d entries", len(entries))
	}
}

// TestExitCommandReturnsAtOnceWhenHandled: conmon's exit command ends before Go starts when the
// container's "handled" marker names another live process (cmd/pea/exitfast.go): with
// PEA_TRACE set, the Go side would print its trace. With a dead process in the marker, the Go
// side runs and decides.
func TestExitCommandReturnsAtOnceWhenHandled(t *testing.T) {
	e := newEnv(t)
	id := strings.Repeat("ab", 32)
	dir := filepath.Join(e.RunRoot, "containers", id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	holder := exec.Command("sleep", "30")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	marker := filepath.Join(dir, "handled")
	os.WriteFile(marker, []byte(strconv.Itoa(holder.Process.Pid)), 0o600)
	exitCommand := func(extra ...string) Result {
		return e.Traced(append(extra, "container", "cleanup", id)...)
	}
	for _, extra := range [][]string{nil, {"--runtime", "crun"}} {
		if r := exitCommand(extra...); r.Code != 0 || r.Stderr != "" {
			t.Fatalf("handled by a live process (%v): %s", extra, r)
		}
	}
	os.WriteFile(marker, []byte("999999999"), 0o600)
	if r := exitCommand(); r.Code != 0 || !strings.Contains(r.Stderr, "trace") {
		t.Fatalf("handled by a dead process: the Go side did not run: %s", r)
	}
}

// TestDependentsBlockRemoval: a container another joins (here its network namespace) cannot be
// removed before that one, even with -f; once it is gone, it can. Other containers, which do not
// refer to it, do not block it.
func TestDependentsBlockRemoval(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "a", "--network", "none", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--name", "other", "--network", "none", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "b", "--network", "container:a", "localhost/bb", "true")
	r := e.Try("rm", "-f", "-t", "0", "a")
	if r.Code == 0 || !strings.Contains(r.Stderr, "dependent containers") || !strings.Contains(r.Stderr, "b") {
		t.Fatalf("rm of a container b joins: %s", r)
	}
	if e.Pea("inspect", "--format", "{{.State.Status}}", "a") != "running" {
		t.Fatal("the refused removal stopped the container")
	}
	e.Pea("rm", "b")
	e.Pea("rm", "-f", "-t", "0", "a")
	e.Pea("rm", "-f", "-t", "0", "other")
	assertNothingLeft(t, e)
}

func TestRefreshAfterReboot(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "localhost/bb", "sleep", "300")
	conmon := e.Pea("inspect", "--format", "{{.State.ConmonPid}}", id)
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", id)
	// Simulate a reboot: kill the monitor and the container, wipe the runroot.
	exec.Command("kill", "-9", conmon, pid).Run()
	time.Sleep(200 * time.Millisecond)
	exec.Command("umount", "-R", e.RunRoot).Run()
	if err := os.RemoveAll(e.RunRoot); err != nil {
		t.Fatal(err)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", id); st != "exited" {
		t.Fatalf("after reboot: %s", st)
	}
	e.Pea("start", id)
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", id); st != "running" {
		t.Fatalf("start after reboot: %s", st)
	}
}

func TestPsFormatsAndFilters(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "a1", "-l", "app=web", "localhost/bb", "sleep", "300")
	e.Fails(2, "run", "--name", "b1", "localhost/bb", "sh", "-c", "exit 2")
	if out := e.Pea("ps", "--format", "{{.Names}}"); out != "a1" {
		t.Fatalf("ps running: %q", out)
	}
	if out := e.Pea("ps", "-a", "--filter", "exited=2", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "b1 Exited (2)") {
		t.Fatalf("exited filter: %q", out)
	}
	if out := e.Pea("ps", "-a", "--filter", "label=app=web", "-q"); len(out) != 12 {
		t.Fatalf("label filter: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "json"); !strings.Contains(out, `"Names": [`) || !strings.Contains(out, `"a1"`) {
		t.Fatalf("json: %q", out)
	}
	if out := e.Pea("ps", "-a", "--sort", "names", "--format", "{{.Names}}"); out != "a1\nb1" {
		t.Fatalf("sort: %q", out)
	}
	e.Fails(125, "ps", "--filter", "bogus=1")
	if out := e.Pea("inspect", "--format", "{{.HostConfig.CgroupMode}} {{.Config.Labels.app}}", "a1"); out != "host web" && out != "private web" {
		t.Fatalf("inspect cgroupns/labels: %q", out)
	}
}

func TestAmbiguousPrefix(t *testing.T) {
	e := newEnv(t).withBusybox()
	// Create containers until two share a first hex digit.
	seen := map[byte]bool{}
	var prefix string
	for i := 0; i < 20 && prefix == ""; i++ {
		id := e.Pea("create", "localhost/bb", "true")
		if seen[id[0]] {
			prefix = id[:1]
		}
		seen[id[0]] = true
	}
	if prefix == "" {
		t.Skip("no shared prefix")
	}
	r := e.Fails(125, "inspect", "--type", "container", prefix)
	if !strings.Contains(r.Stderr, "more than one") {
		t.Fatalf("ambiguous prefix: %s", r)
	}
}

func TestKilledPeaLeavesNothingAfterRm(t *testing.T) {
	// Regression: a pea killed between attaching the network and recording it leaked the pinned
	// namespace, veth, leases and rules, since only the recorded state led to them.
	e := newEnv(t).withBusybox()
	for i := 0; i < 12; i++ {
		cmd := exec.Command(peaBin, "--root", e.Root, "--runroot", e.RunRoot, "run", "-d", "--name", fmt.Sprintf("k%d", i), "localhost/bb", "sleep", "300")
		cmd.Start()
		time.Sleep(time.Duration(5+i*7) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
	}
	if check := sqliteIntegrity(t, e); check != "ok" {
		t.Fatalf("integrity: %s", check)
	}
	ids := strings.Fields(e.Pea("ps", "-aq", "--no-trunc"))
	e.Pea("rm", "-af", "-t", "0")
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
	// A removal that ended a killed run's create midway (its conmon's, see killStaleConmon)
	// left the cgroup that create had made and not recorded: 2 runs in 8.
	for _, id := range ids {
		if cgs, _ := filepath.Glob("/sys/fs/cgroup/*/pea/pea-" + id); len(cgs) > 0 {
			t.Errorf("cgroups of removed container %.12s left: %v", id, cgs)
		}
	}
	pins, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "netns", "*"))
	leases, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "ipam", "*", "10.*"))
	if len(pins)+len(leases) > 0 {
		t.Fatalf("left behind: netns %v, leases %v", pins, leases)
	}
	data, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(data), e.Dir) {
		t.Fatalf("mounts left under the store")
	}
	assertNothingLeft(t, e)
}

func TestCachedSeccompFilterStillBlocks(t *testing.T) {
	// The compiled filter is cached after the first start, relaid out for a faster load, and
	// handed to crun afterwards: the later containers must be as confined as the first, and
	// still run what the profile allows.
	e := newEnv(t).withBusybox()
	first := e.Pea("run", "-d", "--network", "none", "localhost/bb", "sleep", "300")
	compiled, err := os.ReadFile(filepath.Join(e.RunRoot, "runtime", first, "seccomp.bpf"))
	if err != nil {
		t.Fatal(err)
	}
	cached, _ := filepath.Glob(filepath.Join(e.RunRoot, "seccomp", "*"))
	if len(cached) != 1 {
		t.Fatalf("want one cached filter, got %v", cached)
	}
	kept, err := os.ReadFile(cached[0])
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(kept, compiled) {
		t.Errorf("the cached filter is crun's compilation as it is, not relaid out")
	}
	e.Pea("rm", "-f", "-t", "0", first)
	for i := 0; i < 3; i++ {
		// linux32 calls personality(PER_LINUX32), which the profile allows by its argument.
		if r := e.Try("run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "ls / >/dev/null && date >/dev/null && linux32 true"); r.Code != 0 {
			t.Fatalf("run %d under the cached filter: %s", i, r)
		}
		r := e.Try("run", "--rm", "localhost/bb", "unshare", "-U", "true")
		if r.Code == 0 || !strings.Contains(r.Stderr+r.Stdout, "not permitted") {
			t.Fatalf("run %d: unshare not refused by the filter: %s", i, r)
		}
	}
	if cached, _ = filepath.Glob(filepath.Join(e.RunRoot, "seccomp", "*")); len(cached) != 1 {
		t.Fatalf("want one cached filter, got %v", cached)
	}
	// A different profile (more capabilities) is compiled and cached on its own.
	if r := e.Try("run", "--rm", "--cap-add", "sys_admin", "localhost/bb", "unshare", "-m", "true"); r.Code != 0 {
		t.Fatalf("sys_admin unshare: %s", r)
	}
	if cached, _ = filepath.Glob(filepath.Join(e.RunRoot, "seccomp", "*")); len(cached) != 2 {
		t.Fatalf("want two cached filters, got %v", cached)
	}
}

func TestRefreshWhenRunrootSurvivesReboot(t *testing.T) {
	// A runroot that is not a tmpfs survives a reboot: the boot ID in the marker tells.
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "localhost/bb", "sleep", "300")
	conmon := e.Pea("inspect", "--format", "{{.State.ConmonPid}}", id)
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", id)
	exec.Command("kill", "-9", conmon, pid).Run()
	time.Sleep(200 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(e.RunRoot, "alive"), []byte("a-previous-boot"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.Pea("ps", "-a") // any command refreshes
	// The refresh is recorded in the database, not only shown by readers.
	out, err := exec.Command("sqlite3", filepath.Join(e.Root, "pea.db"),
		"SELECT json_extract(state, '$.status') || ' ' || ifnull(json_extract(state, '$.pid'), 0) FROM containers WHERE id = '"+id+"'").Output()
	if err != nil || strings.TrimSpace(string(out)) != "exited 0" {
		t.Fatalf("after a reboot with the runroot kept: %q %v", out, err)
	}
	e.Pea("start", id)
}

func TestFailedCreateLeavesNoVolume(t *testing.T) {
	// Regression: a create that failed after making its named and anonymous volumes left them.
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "taken", "localhost/bb", "true")
	e.Fails(125, "create", "--name", "taken", "-v", "newvol:/data", "-v", "/anon", "localhost/bb", "true")
	if out := e.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("a failed create left volumes: %q", out)
	}
}

func TestRestartPolicy(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "fail", "--restart", "on-failure:2", "localhost/bb", "sh", "-c", "sleep 0.2; exit 1")
	e.Pea("run", "-d", "--name", "ok", "--restart", "on-failure", "localhost/bb", "true")
	e.Pea("run", "-d", "--name", "always", "--restart", "always", "localhost/bb", "sh", "-c", "sleep 0.2")
	eventually(t, 15*time.Second, func() error {
		if out := e.Pea("inspect", "--format", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "fail"); out != "2 exited 1" {
			return fmt.Errorf("on-failure:2: %q", out)
		}
		if n, _ := strconv.Atoi(e.Pea("inspect", "--format", "{{.RestartCount}}", "always")); n < 2 {
			return fmt.Errorf("always: restarted %d times", n)
		}
		return nil
	})
	if out := e.Pea("inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "ok"); out != "0 exited" {
		t.Fatalf("on-failure after success: %q", out)
	}
	// A stop by the user is final, even in the middle of the restart delay.
	e.Pea("stop", "-t", "0", "always")
	count := e.Pea("inspect", "--format", "{{.RestartCount}}", "always")
	time.Sleep(1500 * time.Millisecond)
	if out := e.Pea("inspect", "--format", "{{.RestartCount}} {{.State.Status}}", "always"); out != count+" exited" {
		t.Fatalf("restarted after stop: %q (count was %s)", out, count)
	}
	e.Fails(125, "run", "--restart", "sometimes", "localhost/bb", "true")
	e.Fails(125, "run", "--rm", "--restart", "always", "localhost/bb", "true")
}

// pea starts on one CPU with a 5 ms timer slack in every thread (cmd/pea/pin.go), and a process
// inherits both from the thread that forks it and keeps them across exec. Every process pea
// starts must get every CPU and the slack pea was started with: a container's, its monitor's,
// an exec session's and a pod's infra's (with the wide slack every sleep in a container would
// wake up to 5 ms late).
func TestContainersGetEveryCPUAndPreciseTimers(t *testing.T) {
	e := newEnv(t).withBusybox()
	cpus, slack := cpusAllowed(t, "self"), timerSlack(t, "self")
	report := []string{"sh", "-c", "grep Cpus_allowed_list /proc/self/status; cat /proc/self/timerslack_ns"}
	reported := func(what, out string) {
		t.Helper()
		if want := "Cpus_allowed_list:\t" + cpus + "\n" + slack; out != want {
			t.Fatalf("%s: %q, want %q (pea's CPUs and timer slack)", what, out, want)
		}
	}
	check := func(what, pid string) {
		t.Helper()
		if got := cpusAllowed(t, pid); got != cpus {
			t.Fatalf("%s: CPUs %q, host %q", what, got, cpus)
		}
		if got := timerSlack(t, pid); got != slack {
			t.Fatalf("%s: timer slack %q, pea's %q", what, got, slack)
		}
	}
	reported("run", e.Pea(append([]string{"run", "--rm", "localhost/bb"}, report...)...))
	id := e.Pea("run", "-d", "localhost/bb", "sleep", "100")
	check("conmon", e.Pea("inspect", "--format", "{{.State.ConmonPid}}", id))
	check("container", e.Pea("inspect", "--format", "{{.State.Pid}}", id))
	reported("exec", e.Pea(append([]string{"exec", id}, report...)...))
	e.Pea("pod", "create", "--name", "p")
	e.Pea("pod", "start", "p")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")
	check("infra", e.Pea("inspect", "--format", "{{.State.Pid}}", infra))
}

// A short command runs in two threads: the main one and the runtime's monitor. Go's own start
// makes two more, one only to start the collector and cgo's template thread (tools/rtpatch,
// which scripts/build.sh applies: 0.25 ms of a 1.9 ms `ps -a`). A command that gives its CPUs
// back gets them all in GOMAXPROCS, after the cgroup CPU limit the patched runtime reads then.
func TestShortCommandsStartTwoThreads(t *testing.T) {
	e := newEnv(t).withBusybox()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpus := set.Count()
	if cpus < 2 {
		t.Skip("one CPU: pea does not pin, and starts as Go does")
	}
	traced := func(args ...string) (threads, procs int) {
		t.Helper()
		r := e.Traced(args...)
		if r.Code != 0 {
			t.Fatalf("%v: %s", args, r)
		}
		for _, l := range strings.Split(r.Stderr, "\n") {
			if _, err := fmt.Sscanf(l, "trace threads: %d, GOMAXPROCS %d", &threads, &procs); err == nil {
				return threads, procs
			}
		}
		t.Fatalf("%v: no thread count in %s", args, r.Stderr)
		return 0, 0
	}
	// The fewest threads of five runs: on a busy machine a run may be slow enough for the
	// runtime's monitor to hand the P to another thread while the main one is in a system call.
	// The collector's start makes its thread in every run of an unpatched pea.
	for _, args := range [][]string{{"version"}, {"ps", "-a"}, {"pod", "ps"}} {
		fewest := 0
		for range 5 {
			threads, procs := traced(args...)
			if procs != 1 {
				t.Fatalf("%v: GOMAXPROCS %d, want 1 (pinned)", args, procs)
			}
			if fewest == 0 || threads < fewest {
				fewest = threads
			}
		}
		if fewest > 2 {
			t.Errorf("%v: %d threads at the fewest, want 2", args, fewest)
		}
	}
	if _, procs := traced("run", "--rm", "--network", "none", "localhost/bb", "true"); procs != cpus {
		t.Errorf("run --rm: GOMAXPROCS %d after giving the CPUs back, want %d", procs, cpus)
	}
}

func timerSlack(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func cpusAllowed(t *testing.T, pid string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no Cpus_allowed_list in /proc/%s/status", pid)
	return ""
}

// top reads /proc as podman does: the container's PIDs (its namespace), its users, the host's
// PID under hpid, and every descriptor has a value (ps(1), which top used to run, printed no row
// at all when asked for seccomp).
func TestTopFromProc(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "x", "--network", "none", "localhost/bb", "sh", "-c", "sleep 1000 & exec sleep 2000")
	hostPid := e.Pea("inspect", "--format", "{{.State.Pid}}", "x")
	var rows [][]string
	for i := 0; i < 50; i++ { // the shell starts its sleep, then becomes the other
		rows = nil
		for _, line := range strings.Split(e.Pea("top", "x", "pid", "ppid", "hpid", "args"), "\n")[1:] {
			rows = append(rows, strings.Fields(line))
		}
		if len(rows) == 2 && strings.Join(rows[0][3:], " ") == "sleep 2000" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(rows) != 2 || rows[0][0] != "1" || rows[0][1] != "0" || rows[0][2] != hostPid ||
		rows[1][0] != "2" || rows[1][1] != "1" || strings.Join(rows[1][3:], " ") != "sleep 1000" {
		t.Fatalf("top pid ppid hpid args: %q (host PID %s)", rows, hostPid)
	}
	all := []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "comm", "group", "nice", "pgid",
		"rgroup", "ruser", "vsz", "rss", "state", "seccomp", "capeff", "hpid", "huser", "label"}
	out := strings.Split(e.Pea(append([]string{"top", "x"}, all...)...), "\n")
	if len(out) != 3 {
		t.Fatalf("top with every descriptor: %q", out)
	}
	for _, line := range out[1:] {
		f := strings.Fields(line)
		if len(f) != len(all) {
			t.Fatalf("top with every descriptor: %d values for %d descriptors: %q", len(f), len(all), line)
		}
		if f[16] != "filter" || !strings.Contains(f[17], "CHOWN") || strings.Contains(f[17], "SYS_ADMIN") || f[19] != "root" || f[15] != "S" {
			t.Errorf("seccomp %q, capeff %q, huser %q, state %q", f[16], f[17], f[19], f[15])
		}
	}
	// A descriptor top does not know goes to the container's ps(1), as podman's (busybox's
	// ignores it and lists the processes).
	if out := e.Pea("top", "x", "nosuch"); !strings.Contains(out, "PID") || !strings.Contains(out, "sleep 2000") {
		t.Fatalf("top with an unknown descriptor: %q", out)
	}
}

// TestLargeWALIsCopiedAfterTheCommand: a command that leaves the WAL past the size at which it
// is copied into the database does not copy it itself (the fsyncs took 3-6 ms of the command):
// the process that works after the command does, once the command has exited, and the data is
// whole and readable after.
func TestLargeWALIsCopiedAfterTheCommand(t *testing.T) {
	e := newEnv(t)
	wal := filepath.Join(e.Root, "pea.db-wal")
	handedOff := 0
	for i := 0; i < 12; i++ {
		r := e.Traced("pod", "create", "--name", fmt.Sprintf("wal%d", i))
		if r.Code != 0 {
			t.Fatalf("pod create: %s", r)
		}
		if strings.Contains(r.Stderr, "copying a WAL") {
			t.Fatalf("pod create %d copied the WAL itself:\n%s", i, r.Stderr)
		}
		if strings.Contains(r.Stderr, "the WAL is copied after the command") {
			handedOff++
		}
	}
	if handedOff == 0 {
		t.Fatal("12 pod creates never grew the WAL past the size at which it is copied")
	}
	eventually(t, 10*time.Second, func() error {
		fi, err := os.Stat(wal)
		if err != nil {
			return err
		}
		if fi.Size() > 128<<10 {
			return fmt.Errorf("the WAL still holds %d bytes", fi.Size())
		}
		return nil
	})
	if got := strings.Fields(e.Pea("pod", "ps", "-q")); len(got) != 12 {
		t.Fatalf("pod ps lists %d pods, want 12", len(got))
	}
	e.Pea("pod", "rm", "-fa")
}

// TestEmptierCreatesNoStore: the process that works after a command may start after `system
// reset` removed the store; it must not make a new one (it once opened the database to see
// whether the WAL needed copying, which created it again).
func TestEmptierCreatesNoStore(t *testing.T) {
	e := newEnv(t)
	root := filepath.Join(t.TempDir(), "gone")
	cmd := exec.Command(peaBin, "--root", root, "--runroot", e.RunRoot, "system", "empty-trash")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("empty-trash: %v: %s", err, out)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		entries, _ := os.ReadDir(root)
		t.Fatalf("empty-trash made the store %s (%v): %v", root, err, entries)
	}
}

// The IPC modes decide /dev/shm as podman's do: a container's own namespace is shareable by
// default, and --ipc container:X then shares X's /dev/shm with the namespace; private keeps its
// /dev/shm to itself and cannot be joined; none has no /dev/shm; host has the host's.
func TestIpcModesAndDevShm(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "donor", "localhost/bb", "sleep", "300")
	if mode := e.Pea("inspect", "--format", "{{.HostConfig.IpcMode}}", "donor"); mode != "shareable" {
		t.Fatalf("default IpcMode: %q", mode)
	}
	e.Pea("exec", "donor", "sh", "-c", "echo shared > /dev/shm/seg")
	if out := e.Pea("run", "--rm", "--network", "none", "--ipc", "container:donor", "localhost/bb", "cat", "/dev/shm/seg"); out != "shared" {
		t.Fatalf("--ipc container:donor reads the donor's /dev/shm: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "--ipc", "shareable", "localhost/bb", "ls", "/dev/shm"); out != "" {
		t.Fatalf("a container of its own sees files in /dev/shm: %q", out)
	}

	e.Pea("run", "-d", "--network", "none", "--ipc", "private", "--name", "priv", "localhost/bb", "sleep", "300")
	before := e.Pea("ps", "-aq")
	r := e.Fails(125, "run", "--rm", "--network", "none", "--ipc", "container:priv", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, "not shareable") || strings.Count(r.Stderr, "\n") > 1 {
		t.Fatalf("joining a private IPC namespace: %s", r)
	}
	if after := e.Pea("ps", "-aq"); after != before {
		t.Fatalf("a refused join left a container: %q, before %q", after, before)
	}
	e.Fails(125, "run", "--rm", "--ipc", "bogus", "localhost/bb", "true")
	e.Fails(125, "run", "--rm", "--ipc", "host", "--shm-size", "1m", "localhost/bb", "true")

	r = e.Try("run", "--rm", "--network", "none", "--ipc", "none", "localhost/bb", "ls", "/dev/shm")
	if r.Code == 0 || !strings.Contains(r.Stderr, "No such file") {
		t.Fatalf("--ipc none has a /dev/shm: %s", r)
	}

	f, err := os.CreateTemp("/dev/shm", "pea-test-")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	defer os.Remove(f.Name())
	if out := e.Pea("run", "--rm", "--network", "none", "--ipc", "host", "localhost/bb", "ls", f.Name()); out != f.Name() {
		t.Fatalf("--ipc host does not see the host's %s: %q", f.Name(), out)
	}

	// A /dev/shm of the user's wins, and pea mounts none on the host for it.
	e.Pea("run", "-d", "--network", "none", "--name", "own", "--tmpfs", "/dev/shm:size=2m", "localhost/bb", "sleep", "300")
	if out := e.Pea("exec", "own", "df", "-k", "/dev/shm"); !strings.Contains(out, " 2048 ") {
		t.Fatalf("--tmpfs /dev/shm:size=2m: %q", out)
	}

	// Only the shareable donor has a tmpfs on the host, and its stop takes it away.
	if n := shmMounts(t, e); n != 1 {
		t.Fatalf("%d /dev/shm mounts on the host, want 1 (the donor's)", n)
	}
	e.Pea("stop", "-t", "0", "donor")
	if n := shmMounts(t, e); n != 0 {
		t.Fatalf("%d /dev/shm mounts on the host after the donor's stop", n)
	}
}

// exec -d returns once the process started, not when it ends: the process waits for a file
// that only appears after exec returned (pea held the process's output pipes and waited for
// them before; `timeout` turns such a hang into a failure).
func TestExecDetachReturnsAtOnce(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "c", "localhost/bb", "sleep", "300")
	args := append([]string{"-s", "KILL", "20", peaBin}, e.args("exec", "-d", "c", "sh", "-c", "while [ ! -e /go ]; do sleep 0.1; done; touch /done")...)
	r := runCmd(exec.Command("timeout", args...))
	if r.Code != 0 {
		t.Fatalf("exec -d: %s", r)
	}
	e.Pea("exec", "c", "touch", "/go")
	for e.Try("exec", "c", "test", "-e", "/done").Code != 0 {
	}
	e.Fails(127, "exec", "-d", "c", "/nonexistent")
}

// exec runs with the container's supplementary groups (--group-add, and the user's own from
// /etc/group), as the container's process and as podman's exec do; crun exec's options have
// none, so pea hands it the process as a file (regression: exec had no supplementary groups).
func TestExecKeepsSupplementaryGroups(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "g", "--network", "none", "--group-add", "1234", "--user", "bob", "localhost/bb", "sleep", "1000")
	if out := e.Pea("exec", "g", "id", "-G"); out != "1000 50 1234" {
		t.Fatalf("exec id -G: %q, want the process's groups 1000 50 1234", out)
	}
	// The user's own group is among them, as podman's process has it for a --user.
	if out := e.Pea("exec", "g", "cat", "/proc/1/status"); !strings.Contains(out, "Groups:\t50 1000 1234") {
		t.Fatalf("the container's process: %q", out)
	}
	// The exec's own settings still apply with the process in a file.
	if out := e.Pea("exec", "-e", "X=1", "-w", "/tmp", "g", "sh", "-c", "echo $X; pwd; grep CapEff /proc/self/status"); out != "1\n/tmp\nCapEff:\t0000000000000000" {
		t.Fatalf("exec -e -w as bob: %q", out)
	}
	if out := e.Pea("exec", "--privileged", "g", "grep", "CapEff", "/proc/self/status"); out == "CapEff:\t0000000000000000" {
		t.Fatalf("exec --privileged has no capabilities: %q", out)
	}
	if r := e.run(nil, "exec", "g", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("exit code through the process file: %v", r)
	}
	if out := e.Pea("exec", "--user", "root", "g", "id", "-G"); out != "0" {
		t.Fatalf("exec --user root: %q", out)
	}
	if ents, _ := filepath.Glob(filepath.Join(e.RunRoot, "containers", "*", "exec-*.json")); len(ents) != 0 {
		t.Fatalf("process files left behind: %v", ents)
	}
}

// Bind mounts with rslave receive the host's mount events and rshared sends the container's
// back, from a shared source mount; rprivate gets none. The container's root must propagate
// too (rootfsPropagation), or the events never reach the mounts (regression: it stayed private).
func TestBindMountPropagation(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := filepath.Join(e.Dir, "prop")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	if out, err := exec.Command("sh", "-c", "mount --bind "+src+" "+src+" && mount --make-shared "+src).CombinedOutput(); err != nil {
		t.Fatalf("making a shared mount: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-R", src).Run() })
	for _, o := range []string{"rslave", "rshared", "rprivate"} {
		e.Pea("run", "-d", "--name", "p"+o, "--network", "none", "--privileged", "-v", src+":/prop:"+o, "localhost/bb", "sleep", "1000")
	}
	// The containers' mounts go before the test's cleanup unmounts the source.
	t.Cleanup(func() { e.run(nil, "rm", "-fa", "-t", "0") })
	if out, err := exec.Command("sh", "-c", "mount -t tmpfs tmpfs "+src+"/sub && touch "+src+"/sub/flag").CombinedOutput(); err != nil {
		t.Fatalf("host mount: %v %s", err, out)
	}
	for o, want := range map[string]string{"rslave": "flag", "rshared": "flag", "rprivate": ""} {
		if out := e.Pea("exec", "p"+o, "ls", "/prop/sub"); out != want {
			t.Errorf("%s: the host's mount shows %q in the container, want %q", o, out, want)
		}
	}
	e.Pea("exec", "prshared", "sh", "-c", "mkdir /prop/back && mount -t tmpfs t /prop/back && touch /prop/back/fromctr")
	if _, err := os.Stat(filepath.Join(src, "back", "fromctr")); err != nil {
		t.Errorf("rshared: the container's mount did not reach the host: %v", err)
	}
}

// --log-opt path=FILE: conmon writes the log there (k8s-file format); logs and inspect follow
// it; another option is ignored with a warning.
func TestLogOptPath(t *testing.T) {
	e := newEnv(t).withBusybox()
	p := filepath.Join(e.Dir, "logs", "sub", "c.log") // its directory is made
	e.Pea("run", "--name", "l", "--network", "none", "--log-opt", "path="+p, "localhost/bb", "sh", "-c", "echo to-out; echo to-err >&2")
	b, err := os.ReadFile(p)
	if err != nil || !strings.Contains(string(b), " stdout F to-out\n") || !strings.Contains(string(b), " stderr F to-err\n") {
		t.Fatalf("log file: %q %v", b, err)
	}
	if r := e.run(nil, "logs", "l"); r.Stdout != "to-out\n" || r.Stderr != "to-err\n" {
		t.Fatalf("logs: %v", r)
	}
	if out := e.Pea("inspect", "--format", "{{.LogPath}}", "l"); out != p {
		t.Fatalf("inspect LogPath: %q", out)
	}
	// An option pea does not have (Docker's mode, max-file) is ignored with a warning, as
	// podman ignores it; one without a value is refused.
	r := e.run(nil, "create", "--name", "other", "--log-opt", "mode=non-blocking", "--log-opt", "max-file=3", "localhost/bb")
	if r.Code != 0 || !strings.Contains(r.Stderr, "--log-opt mode=non-blocking is ignored") || !strings.Contains(r.Stderr, "--log-opt max-file=3 is ignored") {
		t.Fatalf("--log-opt mode, max-file: %v", r)
	}
	e.Fails(125, "create", "--name", "bad", "--log-opt", "novalue", "localhost/bb")
	e.Pea("rm", "other")
	// A create that fails (here its image) leaves no directory of the log path behind.
	other := filepath.Join(e.Dir, "logs2", "c.log")
	e.Fails(125, "run", "--name", "nolog", "--network", "none", "--log-opt", "path="+other, "localhost/nosuch", "true")
	if _, err := os.Stat(filepath.Dir(other)); err == nil {
		t.Fatalf("a failed run made the log path's directory")
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "l" {
		t.Fatalf("a refused create made a container: %q", out)
	}
}

// volume export writes a volume's files as a tar, links as links; volume import unpacks one
// into another volume, refuses entries that climb out, and a volume a running container uses.
func TestVolumeExportImport(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("volume", "create", "src")
	e.Pea("run", "--rm", "--network", "none", "-v", "src:/v", "localhost/bb", "sh", "-c",
		"mkdir -p /v/d && echo data > /v/d/f && ln -s /etc/shadow /v/link && chmod 600 /v/d/f")
	tarPath := filepath.Join(e.Dir, "src.tar")
	e.Pea("volume", "export", "--output", tarPath, "src")
	out, err := exec.Command("tar", "-tvf", tarPath).Output()
	if err != nil || !strings.Contains(string(out), "d/f") || !strings.Contains(string(out), "link -> /etc/shadow") {
		t.Fatalf("the export: %s %v", out, err)
	}
	e.Pea("volume", "create", "dst")
	e.Pea("volume", "import", "dst", tarPath)
	if got := e.Pea("run", "--rm", "--network", "none", "-v", "dst:/v", "localhost/bb", "sh", "-c", "cat /v/d/f; stat -c %a /v/d/f; readlink /v/link"); got != "data\n600\n/etc/shadow" {
		t.Fatalf("the imported volume: %q", got)
	}
	// A tar whose entry climbs out of the volume.
	evil := filepath.Join(e.Dir, "evil.tar")
	if b, err := exec.Command("sh", "-c", "cd "+e.Dir+" && mkdir -p x && echo pwned > x/p && tar --transform 's,^x/p,../../escaped,' -cf "+evil+" x/p").CombinedOutput(); err != nil {
		t.Fatalf("making the tar: %v %s", err, b)
	}
	r := e.Fails(125, "volume", "import", "dst", evil)
	if !strings.Contains(r.Stderr, "leaves the destination") {
		t.Fatalf("import of a climbing entry: %v", r)
	}
	e.Pea("run", "-d", "--name", "user", "--network", "none", "-v", "dst:/v", "localhost/bb", "sleep", "1000")
	r = e.Fails(125, "volume", "import", "dst", tarPath)
	if !strings.Contains(r.Stderr, "used by running container user") {
		t.Fatalf("import into a volume in use: %v", r)
	}
}

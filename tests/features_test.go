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

func TestTerminalSize(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) missing")
	}
	e := newEnv(t).withBusybox()
	cmd := fmt.Sprintf("stty cols 100 rows 30; %s --root %s --runroot %s run --rm -it localhost/bb sh -c 'tty; stty size'", peaBin, e.Root, e.RunRoot)
	out, err := exec.Command("script", "-qc", cmd, "/dev/null").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "/dev/pts/") || !strings.Contains(string(out), "30 100") {
		t.Fatalf("run -it: %v %q", err, out)
	}
}

func TestInitAndJoinedNamespaces(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "--init", "localhost/bb", "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "/run/pea-init") {
		t.Fatalf("--init: PID 1 is %q", out)
	}
	e.Pea("run", "-d", "--name", "owner", "localhost/bb", "sleep", "300")
	if out := e.Pea("run", "--rm", "--pid", "container:owner", "localhost/bb", "ps"); !strings.Contains(out, "sleep 300") {
		t.Fatalf("--pid container: %q", out)
	}
	if nsOf(t, e, "owner", "uts") == "" {
		t.Fatal("no uts")
	}
	hostUTS, _ := os.Readlink("/proc/self/ns/uts")
	e.Pea("run", "-d", "--name", "hostuts", "--uts", "host", "localhost/bb", "sleep", "300")
	if nsOf(t, e, "hostuts", "uts") != hostUTS {
		t.Fatal("--uts host did not use the host's namespace")
	}
	// A container whose namespace others join cannot be removed before them.
	e.Pea("run", "-d", "--name", "joiner", "--ipc", "container:owner", "localhost/bb", "sleep", "300")
	e.Fails(125, "rm", "-f", "owner")
}

func TestCopyRenameWaitPrune(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "k1", "localhost/bb", "sleep", "300")
	src := filepath.Join(e.Dir, "in.txt")
	os.WriteFile(src, []byte("copied"), 0o644)
	e.Pea("cp", src, "k1:/tmp/in.txt")
	if out := e.Pea("exec", "k1", "cat", "/tmp/in.txt"); out != "copied" {
		t.Fatalf("cp in: %q", out)
	}
	dst := filepath.Join(e.Dir, "passwd")
	e.Pea("cp", "k1:/etc/passwd", dst)
	if b, _ := os.ReadFile(dst); !strings.HasPrefix(string(b), "root:") {
		t.Fatalf("cp out: %q", b)
	}
	e.Pea("rename", "k1", "k2")
	e.Fails(125, "inspect", "--type", "container", "k1")
	if r := e.Fails(125, "inspect", "--type", "bogus", "k2"); !strings.Contains(r.Stderr, `invalid type "bogus"`) || r.Stdout != "" {
		t.Fatalf("inspect --type bogus: %s", r) // podman's words; it printed [] and "no such object"
	}
	// A condition that is not an exit has podman's code -1.
	if out := e.Pea("wait", "--condition", "running", "k2"); out != "-1" {
		t.Fatalf("wait running: %q", out)
	}
	e.Pea("create", "--name", "idle", "localhost/bb", "true")
	e.Fails(2, "run", "--name", "ended", "localhost/bb", "sh", "-c", "exit 2")
	if out := e.Pea("wait", "ended"); out != "2" {
		t.Fatalf("wait exit code: %q", out)
	}
	pruned := e.Pea("container", "prune", "-f")
	if strings.Count(pruned, "\n") != 1 {
		t.Fatalf("prune should remove the two stopped containers: %q", pruned)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "k2" {
		t.Fatalf("after prune: %q", out)
	}
}

func TestLibpodNamespacesAreInvisibleToEachOther(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("--namespace", "one", "pod", "create", "--name", "p")
	e.Pea("--namespace", "one", "run", "-d", "--pod", "p", "--name", "c", "localhost/bb", "sleep", "300")
	if out := e.Pea("--namespace", "two", "ps", "-aq"); out != "" {
		t.Fatalf("namespace two sees containers: %q", out)
	}
	if out := e.Pea("--namespace", "two", "pod", "ps", "-q"); out != "" {
		t.Fatalf("namespace two sees pods: %q", out)
	}
	e.Fails(125, "--namespace", "two", "pod", "inspect", "p")
	// The same names are free in another namespace.
	e.Pea("--namespace", "two", "pod", "create", "--name", "p")
	e.Pea("--namespace", "two", "pod", "rm", "p")
	e.Pea("--namespace", "one", "pod", "rm", "-f", "-t", "0", "p")
}

func TestLogsOptions(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "l", "localhost/bb", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; sleep 1.5; echo late")
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("logs", "--tail", "2", "l"); out != "line4\nline5" {
			return fmt.Errorf("--tail 2: %q", out)
		}
		return nil
	})
	if out := e.Pea("logs", "-f", "l"); !strings.HasSuffix(out, "line5\nlate") {
		t.Fatalf("-f follows until the exit: %q", out)
	}
	if out := e.Pea("logs", "--since", "1s", "l"); out != "late" {
		t.Fatalf("--since: %q", out)
	}
	if out := e.Pea("logs", "-t", "--tail", "1", "l"); !strings.HasSuffix(out, " late") || !strings.HasPrefix(out, "20") {
		t.Fatalf("-t: %q", out)
	}

	// --tail counts a last line without a newline as a line (it took the line before it too),
	// and a line longer than conmon's buffer, logged in pieces, as one line.
	e.Pea("run", "--name", "p", "--network", "none", "localhost/bb", "sh", "-c",
		`printf 'a\n'; head -c 20000 /dev/zero | tr '\0' x; printf '\nb\nno-newline'`)
	long := strings.Repeat("x", 20000)
	for n, want := range map[string]string{"1": "no-newline", "2": "b\nno-newline", "3": long + "\nb\nno-newline", "4": "a\n" + long + "\nb\nno-newline"} {
		if r := e.run(nil, "logs", "--tail", n, "p"); r.Code != 0 || r.Stdout != want {
			t.Errorf("--tail %s of output ending without a newline: %d, %.60q...", n, r.Code, r.Stdout)
		}
	}
}

func TestPodOptionsReachMembers(t *testing.T) {
	e := newEnv(t).withBusybox()
	labels := filepath.Join(e.Dir, "labels")
	os.WriteFile(labels, []byte("# team\nteam=pea\n"), 0o644)
	idFile := filepath.Join(e.Dir, "pod.id")
	shared := filepath.Join(e.Dir, "shared")
	os.MkdirAll(shared, 0o755)
	os.WriteFile(filepath.Join(shared, "f"), []byte("from-pod-volume"), 0o644)
	e.Pea("pod", "create", "--name", "opts", "--label-file", labels, "--infra-name", "opts-infra", "--pod-id-file", idFile,
		"--sysctl", "net.ipv4.ip_unprivileged_port_start=0", "-v", shared+":/shared:ro", "--cpus", "0.5", "--pids-limit", "100",
		"--shm-size", "32m")
	id, _ := os.ReadFile(idFile)
	if got := e.Pea("pod", "inspect", "--format", "{{.ID}} {{.Labels.team}} {{.CPUQuota}} {{.PidsLimit}}", "opts"); got != string(id)+" pea 50000 100" {
		t.Fatalf("pod inspect: %q", got)
	}
	out := e.Pea("run", "--rm", "--pod", "opts", "localhost/bb", "sh", "-c",
		"cat /proc/sys/net/ipv4/ip_unprivileged_port_start /shared/f; df -k /dev/shm | tail -1")
	if !strings.HasPrefix(out, "0\nfrom-pod-volume") || !strings.Contains(out, "32768") {
		t.Fatalf("pod options in a member: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "opts-infra" {
		t.Fatalf("infra name: %q", out)
	}
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", "opts-infra")
	if q := readCgroupFile(t, pid, "cpu", "../cpu.cfs_quota_us", "../cpu.max"); !strings.HasPrefix(q, "50000") {
		t.Fatalf("pod cpu quota: %q", q)
	}
}

func TestPodPauseKillRestart(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "pk")
	e.Pea("run", "-d", "--pod", "pk", "localhost/bb", "sleep", "300")
	e.Pea("pod", "pause", "pk")
	if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Paused" {
		t.Fatalf("paused pod: %s", st)
	}
	e.Pea("pod", "unpause", "pk")
	e.Pea("pod", "kill", "-s", "KILL", "pk")
	eventually(t, 5*time.Second, func() error {
		if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Exited" {
			return fmt.Errorf("killed pod: %s", st)
		}
		return nil
	})
	e.Pea("pod", "restart", "pk")
	if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Running" {
		t.Fatalf("restarted pod: %s", st)
	}
	e.Fails(125, "pod", "kill", "-s", "NOSUCH", "pk")
}

func TestInfraImageAndCommand(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "ii", "--infra-image", "localhost/bb", "--infra-command", "sleep 1000")
	e.Pea("pod", "start", "ii")
	if out := e.Pea("pod", "top", "ii"); !strings.Contains(out, "sleep 1000") {
		t.Fatalf("infra command: %q", out)
	}
}

func TestExecWithoutImagePath(t *testing.T) {
	// Regression: exec in a container whose image sets no PATH found no command.
	e := newEnv(t)
	e.Pea("import", busyboxTar(t), "localhost/nopath")
	e.Pea("run", "-d", "--name", "np", "localhost/nopath", "sleep", "300")
	if out := e.Pea("exec", "np", "echo", "ok"); out != "ok" {
		t.Fatalf("exec: %q", out)
	}
	e.Pea("exec", "-d", "np", "sh", "-c", "echo detached > /tmp/d")
	eventually(t, 5*time.Second, func() error {
		if r := e.Try("exec", "np", "cat", "/tmp/d"); strings.TrimSpace(r.Stdout) != "detached" {
			return fmt.Errorf("exec -d: %s", r)
		}
		return nil
	})
}

func TestAnonymousVolumesAndPublishAll(t *testing.T) {
	e := newEnv(t)
	e.Pea("import", "--change", "EXPOSE 8080", "--change", "EXPOSE 53/udp", busyboxTar(t), "localhost/exposed")
	e.Pea("run", "--name", "av", "-v", "/data", "localhost/exposed", "touch", "/data/x")
	if n := len(strings.Fields(e.Pea("volume", "ls", "-q"))); n != 1 {
		t.Fatalf("anonymous volume not created: %d", n)
	}
	e.Pea("rm", "-v", "av")
	if out := e.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("rm -v left the anonymous volume: %q", out)
	}
	e.Pea("create", "--name", "pa", "-P", "localhost/exposed", "true")
	out := e.Pea("port", "pa")
	if !strings.Contains(out, "8080/tcp -> 0.0.0.0:") || !strings.Contains(out, "53/udp -> 0.0.0.0:") {
		t.Fatalf("-P: %q", out)
	}
}

func TestAttach(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "at", "localhost/bb", "sh", "-c", "sleep 1; echo from-attach; exit 4")
	r := e.Try("attach", "--no-stdin", "at")
	if r.Code != 4 || !strings.Contains(r.Stdout, "from-attach") {
		t.Fatalf("attach: %s", r)
	}
}

func TestDevicesAndPrivileged(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "--device", "/dev/null:/dev/mynull", "localhost/bb", "sh", "-c", "echo x > /dev/mynull && echo wrote"); out != "wrote" {
		t.Fatalf("--device: %q", out)
	}
	out := e.Pea("run", "--rm", "--privileged", "localhost/bb", "sh", "-c", "grep CapEff /proc/self/status; ls /dev")
	if strings.Contains(out, "00000000800405fb") {
		t.Fatalf("--privileged kept the default capabilities: %q", out)
	}
	// Every host disk is visible to a privileged container.
	entries, _ := os.ReadDir("/dev")
	for _, d := range entries {
		if strings.HasPrefix(d.Name(), "vd") || strings.HasPrefix(d.Name(), "sd") || strings.HasPrefix(d.Name(), "nvme") {
			if !strings.Contains(out, d.Name()) {
				t.Fatalf("--privileged lacks /dev/%s: %q", d.Name(), out)
			}
		}
	}
	if out := e.Pea("run", "--rm", "--ulimit", "nofile=1024:2048", "localhost/bb", "sh", "-c", "ulimit -n; ulimit -Hn"); out != "1024\n2048" {
		t.Fatalf("--ulimit: %q", out)
	}
	e.Fails(125, "run", "--rm", "--ulimit", "nofile=abc", "localhost/bb", "true")
}

func TestStopSignal(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "ss", "--stop-signal", "SIGINT", "localhost/bb", "sh", "-c", `trap "echo got INT; exit 0" INT; while :; do sleep 0.1; done`)
	time.Sleep(300 * time.Millisecond)
	e.Pea("stop", "ss")
	if out := e.Pea("logs", "ss"); out != "got INT" {
		t.Fatalf("stop signal: %q", out)
	}
	if out := e.Pea("inspect", "--format", "{{.State.ExitCode}} {{.Config.StopSignal}}", "ss"); out != "0 2" {
		t.Fatalf("inspect: %q", out)
	}
}

func TestSystemPruneAndReset(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "done", "localhost/bb", "true")
	e.Pea("pod", "create", "--name", "idle")
	e.Pea("pod", "start", "idle") // a pod that ran and stopped: podman's prunes keep a created one
	e.Pea("pod", "stop", "-t", "0", "idle")
	e.Pea("run", "-d", "--name", "busy", "localhost/bb", "sleep", "300")
	out := e.Pea("system", "prune", "-f")
	if !strings.Contains(out, "Deleted Pods") || !strings.Contains(out, "Deleted Containers") {
		t.Fatalf("system prune: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "busy" {
		t.Fatalf("after prune: %q", out)
	}
	e.Pea("system", "reset", "-f")
	if _, err := os.Stat(e.Root); !os.IsNotExist(err) {
		t.Fatalf("reset kept the root: %v", err)
	}
	assertNothingLeft(t, e)
}

// A missing or unknown (sub)command is a usage error, worded and coded as podman's (regression:
// `pea pod nosuch` printed the help and exited 0). Only the named subcommand's tree is built,
// so pod verbs are also checked to still resolve, aliases included.
func TestUnknownAndMissingCommands(t *testing.T) {
	e := newEnv(t)
	for args, want := range map[string]string{
		"":               "missing command 'pea COMMAND'",
		"nosuch":         "unrecognized command `pea nosuch`",
		"pod":            "missing command 'pea pod COMMAND'",
		"pod nosuch":     "unrecognized command `pea pod nosuch`",
		"network nosuch": "unrecognized command `pea network nosuch`",
	} {
		r := e.Fails(125, strings.Fields(args)...)
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("pea %s: %q, want %q", args, r.Stderr, want)
		}
	}
	e.Pea("pod", "create", "--name", "p1")
	if out := e.Pea("pod", "ls", "--format", "{{.Name}}"); out != "p1" {
		t.Fatalf("pod ls: %q", out)
	}
	e.Pea("pod", "exists", "p1")
	e.Pea("pod", "rm", "p1")
}

// A container's links are its own: `cp` into it resolves them inside its root filesystem,
// running or stopped, and never writes the host's files they name (podman and docker had this
// bug: CVE-2018-15664, CVE-2019-14271 kin). Before, pea's cp followed /x -> HOSTDIR out of the
// container.
func TestCopyStaysInsideTheContainer(t *testing.T) {
	e := newEnv(t).withBusybox()
	hostDir := filepath.Join(e.Dir, "hostdir")
	hostFile := filepath.Join(e.Dir, "hostfile")
	if err := os.MkdirAll(hostDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hostFile, []byte("host's"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(e.Dir, "src")
	if err := os.WriteFile(src, []byte("copied"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.Pea("run", "-d", "--network", "none", "--name", "c", "localhost/bb", "sh", "-c",
		"ln -s "+hostDir+" /x && ln -s "+hostFile+" /f && mkdir -p "+hostDir+" && touch /ready && sleep 300")
	for e.Try("exec", "c", "test", "-e", "/ready").Code != 0 {
	}
	check := func(when string) {
		t.Helper()
		if entries, _ := os.ReadDir(hostDir); len(entries) != 0 {
			t.Fatalf("%s: cp wrote %d entries into the host's %s", when, len(entries), hostDir)
		}
		if b, _ := os.ReadFile(hostFile); string(b) != "host's" {
			t.Fatalf("%s: cp changed the host's file: %q", when, b)
		}
	}
	e.Pea("cp", src, "c:/x/")
	e.Pea("cp", src, "c:/x/in")
	e.Pea("cp", src, "c:/f")
	check("running")
	// Inside, the copies went where the container's own links lead.
	if out := e.Pea("exec", "c", "cat", hostDir+"/src", hostDir+"/in", "/f"); out != "copiedcopiedcopied" {
		t.Fatalf("the copies inside: %q", out)
	}
	e.Pea("stop", "-t", "0", "c")
	e.Pea("cp", src, "c:/x/stopped")
	check("stopped")
	// Out of the container, a link named on the command line is followed inside it, as podman
	// does: /x names the container's own hostDir, which holds the copies made above, not the
	// host's (empty) one. A link below a copied directory stays a link.
	out := filepath.Join(e.Dir, "out")
	e.Pea("cp", "c:/x", out)
	if b, err := os.ReadFile(filepath.Join(out, "in")); err != nil || string(b) != "copied" {
		t.Fatalf("copied out through the container's link: %q, %v", b, err)
	}
	e.Pea("cp", "c:/", filepath.Join(e.Dir, "whole"))
	if target, err := os.Readlink(filepath.Join(e.Dir, "whole", "x")); err != nil || target != hostDir {
		t.Fatalf("a link below a copied directory: %q, %v", target, err)
	}
	// DIR/. copies the directory's contents, DIR the directory, both ways.
	tree := filepath.Join(e.Dir, "tree")
	if err := os.MkdirAll(filepath.Join(tree, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "sub", "f"), []byte("f"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.Pea("cp", tree+"/.", "c:/etc")
	e.Pea("cp", tree, "c:/etc")
	back, back2 := filepath.Join(e.Dir, "back"), filepath.Join(e.Dir, "back2")
	e.Pea("cp", "c:/etc/tree/.", back) // tree's contents, from tree copied in
	e.Pea("cp", "c:/etc/sub", back2)   // sub, from tree's contents copied in
	for _, p := range []string{filepath.Join(back, "sub", "f"), filepath.Join(back2, "f")} {
		if b, err := os.ReadFile(p); err != nil || string(b) != "f" {
			t.Fatalf("%s: %q %v", p, b, err)
		}
	}
}

// Memory, swap, CPU weight and bandwidth, memory nodes and the OOM score reach the container's
// cgroup and process (read from inside, through its own cgroup namespace on v1), inspect shows
// them, and a memory limit alone limits swap to as much again where the kernel counts swap per
// cgroup, as podman does.
func TestContainerResourceLimits(t *testing.T) {
	e := newEnv(t).withBusybox()
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err != nil {
		t.Skip("reads cgroup v1 files with swap accounting, as this suite's host has")
	}
	out := e.Pea("run", "--rm", "--network", "none", "-m", "64m", "--memory-swap", "96m", "--memory-reservation", "32m",
		"--cpu-shares", "512", "--cpuset-mems", "0", "--cpu-period", "50000", "--cpu-quota", "25000", "--oom-score-adj", "100",
		"localhost/bb", "sh", "-c", "cd /sys/fs/cgroup && cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes "+
			"memory/memory.soft_limit_in_bytes cpu/cpu.shares cpuset/cpuset.mems cpu/cpu.cfs_period_us cpu/cpu.cfs_quota_us /proc/self/oom_score_adj")
	if got := strings.Join(strings.Fields(out), " "); got != "67108864 100663296 33554432 512 0 50000 25000 100" {
		t.Fatalf("limits inside: %q", got)
	}
	e.Pea("create", "--name", "c", "-m", "64m", "-c", "256", "localhost/bb", "true")
	if got := e.Pea("inspect", "--format", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}}", "c"); got != "67108864 134217728 256" {
		t.Fatalf("inspect: %q", got)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "-m", "64m", "localhost/bb", "cat", "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); out != "134217728" {
		t.Fatalf("default swap limit: %q", out)
	}
	before := e.Pea("ps", "-aq")
	for _, bad := range [][]string{
		{"--memory-swap", "100m"}, {"-m", "100m", "--memory-swap", "50m"}, {"-m", "64m", "--memory-swap", "-2"},
		{"-m", "64m", "--memory-swap", "0"},
		{"-m", "64m", "--memory-reservation", "128m"}, {"--cpus", "1", "--cpu-quota", "10000"}, {"--cpu-period", "10"},
		{"--oom-score-adj", "2000"},
	} {
		r := e.Fails(125, append(append([]string{"create"}, bad...), "localhost/bb", "true")...)
		if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Fatalf("%v: %q", bad, r.Stderr)
		}
	}
	if after := e.Pea("ps", "-aq"); after != before {
		t.Fatalf("refused creations left containers: %q", after)
	}
}

// A pod's memory and swap limit and memory nodes land on its cgroup; pod inspect shows them
// with podman 4.3's keys.
func TestPodResourceLimits(t *testing.T) {
	e := newEnv(t).withBusybox()
	if _, err := os.Stat("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"); err != nil {
		t.Skip("reads cgroup v1 files with swap accounting, as this suite's host has")
	}
	e.Pea("pod", "create", "--name", "p", "-m", "64m", "--memory-swap", "96m", "--cpuset-mems", "0")
	e.Pea("pod", "create", "--name", "q", "-m", "64m")
	for pod, want := range map[string]string{"p": "67108864 100663296", "q": "67108864 134217728"} {
		cg := e.Pea("pod", "inspect", "--format", "{{.CgroupPath}}", pod)
		var got []string
		for _, f := range []string{"memory.limit_in_bytes", "memory.memsw.limit_in_bytes"} {
			b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/memory", cg, f))
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimSpace(string(b)))
		}
		if strings.Join(got, " ") != want {
			t.Fatalf("pod %s cgroup: %v, want %s", pod, got, want)
		}
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(e.Pea("pod", "inspect", "p")), &v); err != nil {
		t.Fatal(err)
	}
	if v["memory_limit"] != float64(67108864) || v["memory_swap"] != float64(100663296) || v["cpuset_mems"] != "0" {
		t.Fatalf("pod inspect: memory_limit %v memory_swap %v cpuset_mems %v", v["memory_limit"], v["memory_swap"], v["cpuset_mems"])
	}
	e.Fails(125, "pod", "create", "--memory-swap", "100m")
}

// podman's smaller run options: each does what podman's does.
func TestRunOptionsLikePodman(t *testing.T) {
	e := newEnv(t).withBusybox()
	run := func(args ...string) string {
		t.Helper()
		return e.Pea(append([]string{"run", "--rm", "--network", "none"}, args...)...)
	}
	// --read-only keeps /tmp, /var/tmp and /run writable (tmpfs) unless --read-only-tmpfs=false.
	if out := run("--read-only", "localhost/bb", "sh", "-c", "touch /tmp/a /var/tmp/b /run/c && echo ok; touch /etc/x 2>/dev/null || echo ro"); out != "ok\nro" {
		t.Fatalf("--read-only: %q", out)
	}
	e.Fails(1, "run", "--rm", "--network", "none", "--read-only", "--read-only-tmpfs=false", "localhost/bb", "touch", "/tmp/a")
	// --tz: the zone's file at /etc/localtime.
	if _, err := os.Stat("/usr/share/zoneinfo/Europe/Paris"); err == nil {
		if out := run("--tz", "Europe/Paris", "localhost/bb", "date", "+%Z"); out != "CET" && out != "CEST" {
			t.Fatalf("--tz Europe/Paris: %q", out)
		}
	}
	e.Fails(125, "run", "--rm", "--tz", "No/Such_Zone", "localhost/bb", "true")
	e.Fails(125, "run", "--rm", "--tz", "../../etc/passwd", "localhost/bb", "true")
	// --umask, --group-add, --env-host.
	if out := run("--umask", "0077", "localhost/bb", "sh", "-c", "umask; touch /tmp/f; stat -c %a /tmp/f"); out != "0077\n600" {
		t.Fatalf("--umask: %q", out)
	}
	e.Fails(125, "run", "--rm", "--umask", "999", "localhost/bb", "true")
	if out := run("--group-add", "1234", "--group-add", "root", "localhost/bb", "id", "-G"); out != "0 1234" {
		t.Fatalf("--group-add: %q", out)
	}
	e.Fails(126, "run", "--rm", "--group-add", "nosuchgroup", "localhost/bb", "true")
	t.Setenv("PEA_TEST_HOST_VAR", "host")
	if out := run("--env-host", "-e", "X=1", "localhost/bb", "sh", "-c", "echo $PEA_TEST_HOST_VAR $X"); out != "host 1" {
		t.Fatalf("--env-host: %q", out)
	}
	// --label-file, -l winning over the file.
	lf := filepath.Join(e.Dir, "labels")
	os.WriteFile(lf, []byte("a=1\n# comment\n\nb=2\n"), 0o644)
	e.Pea("create", "--name", "lab", "--label-file", lf, "-l", "b=3", "localhost/bb", "true")
	if out := e.Pea("inspect", "--format", "{{.Config.Labels.a}} {{.Config.Labels.b}}", "lab"); out != "1 3" {
		t.Fatalf("--label-file: %q", out)
	}
	// --replace: the container of that name goes first; it needs --name.
	old := e.Pea("run", "-d", "--network", "none", "--name", "rp", "--stop-timeout", "0", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--network", "none", "--name", "rp", "--replace", "localhost/bb", "sleep", "300")
	if ids := e.Pea("ps", "-aq", "--no-trunc", "--filter", "name=rp"); ids == old || strings.Count(ids, "\n") != 0 {
		t.Fatalf("--replace: %q, old %s", ids, old)
	}
	e.Fails(125, "create", "--replace", "localhost/bb", "true")
	// --pidfile: the process's host PID.
	pidFile := filepath.Join(e.Dir, "pid")
	e.Pea("run", "-d", "--network", "none", "--name", "pf", "--pidfile", pidFile, "localhost/bb", "sleep", "300")
	if b, _ := os.ReadFile(pidFile); string(b) != e.Pea("inspect", "--format", "{{.State.Pid}}", "pf") {
		t.Fatalf("--pidfile holds %q", b)
	}
	// --expose with -P: published on random host ports.
	e.Pea("run", "-d", "--name", "ex", "-P", "--expose", "8080", "--expose", "9000-9001/udp", "localhost/bb", "sleep", "300")
	if out := e.Pea("port", "ex"); !strings.Contains(out, "8080/tcp ->") || !strings.Contains(out, "9001/udp ->") {
		t.Fatalf("--expose with -P: %q", out)
	}
	e.Fails(125, "run", "--rm", "--expose", "0", "localhost/bb", "true")
	// --rmi: the name run goes with the container (another name of the image stays).
	e.Pea("tag", "localhost/bb", "localhost/bb-rmi:1")
	e.Pea("run", "--network", "none", "--rmi", "localhost/bb-rmi:1", "true")
	if out := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); strings.Contains(out, "bb-rmi") || !strings.Contains(out, "localhost/bb:latest") {
		t.Fatalf("--rmi: images %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}", "--filter", "ancestor=localhost/bb-rmi:1"); out != "" {
		t.Fatalf("--rmi left its container: %q", out)
	}
}

// cp out of a container gives the host nothing the container could aim at it: no device node
// (it would be the host's device), no owner or mode on an existing directory, no directory in
// place of a file; the copies are the caller's. A container's /etc/passwd that links to
// /dev/zero does not make pea read /dev/zero.
func TestCopyOutOfAHostileContainer(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "h", "--cap-add", "MKNOD", "localhost/bb", "sh", "-c",
		"mkdir -p /d && mknod /d/disk b 7 0 && chmod 666 /d/disk && echo x > /d/f && chown -R 4242:4242 /d && chmod 4777 /d && "+
			"ln -sf /dev/zero /etc/passwd && touch /ready && sleep 300")
	for e.Try("exec", "h", "test", "-e", "/ready").Code != 0 {
	}
	out := filepath.Join(e.Dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	e.Pea("cp", "h:/d/.", out)
	if _, err := os.Lstat(filepath.Join(out, "disk")); err == nil {
		t.Fatal("a container's device node was copied to the host")
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o755 || st.Mode()&os.ModeSetuid != 0 || fileIDs(t, out) != "0:0" {
		t.Fatalf("the existing host directory was changed: %v %s %v", st.Mode(), fileIDs(t, out), err)
	}
	if got := fileIDs(t, filepath.Join(out, "f")); got != "0:0" {
		t.Fatalf("the copy belongs to %s, want the caller's 0:0", got)
	}
	hostFile := filepath.Join(e.Dir, "file")
	os.WriteFile(hostFile, []byte("keep"), 0o644)
	e.Fails(125, "cp", "h:/d", hostFile)
	if b, _ := os.ReadFile(hostFile); string(b) != "keep" {
		t.Fatalf("a directory copy replaced the host's file: %q", b)
	}
	// The copy in looks the container's user up: its passwd links to /dev/zero, read no more.
	e.Pea("cp", hostFile, "h:/in")
	if got := e.Pea("exec", "h", "cat", "/in"); got != "keep" {
		t.Fatalf("cp in: %q", got)
	}
}

// cp into and out of a stopped container reaches its volumes and binds, as its processes will
// see them once it runs, not the root filesystem below their mount points.
func TestCopyStoppedContainerVolumes(t *testing.T) {
	e := newEnv(t).withBusybox()
	bind := filepath.Join(e.Dir, "bind")
	os.MkdirAll(bind, 0o755)
	src := filepath.Join(e.Dir, "src")
	os.WriteFile(src, []byte("F"), 0o644)
	e.Pea("create", "--name", "c", "--network", "none", "-v", "vol:/data", "-v", bind+":/b", "localhost/bb", "sh", "-c", "cat /data/in /b/in")
	e.Pea("cp", src, "c:/data/in")
	e.Pea("cp", src, "c:/b/in")
	if b, err := os.ReadFile(filepath.Join(bind, "in")); err != nil || string(b) != "F" {
		t.Fatalf("the bind's source: %q %v", b, err)
	}
	if r := e.Try("start", "-a", "c"); r.Code != 0 || r.Stdout != "FF" {
		t.Fatalf("the container reads the copies in its volume and bind: %s", r)
	}
	back := filepath.Join(e.Dir, "back")
	e.Pea("cp", "c:/data/in", back)
	if b, _ := os.ReadFile(back); string(b) != "F" {
		t.Fatalf("cp out of the volume: %q", b)
	}
}

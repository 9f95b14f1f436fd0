package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// refused runs a create or run that must be refused as podman does: exit 125, one line on
// stderr holding want, and no container (nor pod) left behind.
func (e *Env) refused(want string, args ...string) {
	e.t.Helper()
	ctrs, pods := e.Pea("ps", "-aq", "--no-trunc"), e.Pea("pod", "ps", "-q", "--no-trunc")
	r := e.Fails(125, args...)
	msg := strings.TrimSpace(r.Stderr)
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, want) {
		e.t.Fatalf("pea %s: want one line with %q, got %q", strings.Join(args, " "), want, msg)
	}
	if now := e.Pea("ps", "-aq", "--no-trunc"); now != ctrs {
		e.t.Fatalf("pea %s left a container behind: %s (before: %s)", strings.Join(args, " "), now, ctrs)
	}
	if now := e.Pea("pod", "ps", "-q", "--no-trunc"); now != pods {
		e.t.Fatalf("pea %s left a pod behind: %s (before: %s)", strings.Join(args, " "), now, pods)
	}
}

// TestVolumesFrom: --volumes-from copies the other container's bind mounts and named volumes
// (not its tmpfs) at the same destinations with their options; :ro and :rw override them; a
// mount of the container's own at the same destination wins; pod create --volumes-from gives
// them to every member.
func TestVolumesFrom(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "f"), []byte("from-host"), 0o644)
	e.Pea("create", "--name", "src", "-v", host+":/hb:ro", "-v", "vf-vol:/data", "--tmpfs", "/scratch", "localhost/bb", "true")
	e.Pea("run", "--rm", "-v", "vf-vol:/data", "localhost/bb", "sh", "-c", "echo in-volume > /data/v")

	out := e.Pea("run", "--rm", "--volumes-from", "src", "localhost/bb", "sh", "-c",
		"cat /hb/f; echo; cat /data/v; touch /hb/x 2>/dev/null || echo hb-ro; touch /data/w && echo data-rw; mount | grep -c ' /scratch ' || true")
	for _, want := range []string{"from-host", "in-volume", "hb-ro", "data-rw"} {
		if !strings.Contains(out, want) {
			t.Fatalf("--volumes-from src: want %q in %q", want, out)
		}
	}
	if !strings.HasSuffix(out, "0") {
		t.Fatalf("--volumes-from copied the tmpfs too: %q", out)
	}
	out = e.Pea("run", "--rm", "--volumes-from", "src:ro", "localhost/bb", "sh", "-c", "touch /data/y 2>/dev/null || echo data-ro")
	if out != "data-ro" {
		t.Fatalf("--volumes-from src:ro: %q", out)
	}
	out = e.Pea("run", "--rm", "--volumes-from", "src:rw", "localhost/bb", "sh", "-c", "touch /hb/made && echo hb-rw")
	if out != "hb-rw" {
		t.Fatalf("--volumes-from src:rw: %q", out)
	}
	other := t.TempDir()
	out = e.Pea("run", "--rm", "-v", other+":/hb", "--volumes-from", "src", "localhost/bb", "ls", "/hb")
	if out != "" {
		t.Fatalf("the container's own mount at /hb should win over --volumes-from: ls shows %q", out)
	}
	id := e.Pea("create", "--volumes-from", "src", "localhost/bb", "true")
	if got := e.Pea("inspect", "-f", "{{.HostConfig.VolumesFrom}}", id); got != "[src]" {
		t.Fatalf("HostConfig.VolumesFrom: %q", got)
	}
	e.Pea("rm", id)

	// Pod: every member gets the mounts.
	e.Pea("pod", "create", "--name", "vfpod", "--volumes-from", "src")
	out = e.Pea("run", "--rm", "--pod", "vfpod", "localhost/bb", "sh", "-c", "cat /hb/f; echo; cat /data/v")
	if !strings.Contains(out, "from-host") || !strings.Contains(out, "in-volume") {
		t.Fatalf("pod --volumes-from: member sees %q", out)
	}
	e.Pea("pod", "rm", "-f", "vfpod")

	e.refused(`looking up container "nope" for volumes-from`, "create", "--volumes-from", "nope", "localhost/bb", "true")
	e.refused(`looking up container "nope" for volumes-from`, "run", "--rm", "--volumes-from", "nope", "localhost/bb", "true")
	e.Pea("create", "--name", "src2", "-v", host+":/hb", "localhost/bb", "true")
	e.Fails(125, "run", "--rm", "--volumes-from", "src2:bogus", "localhost/bb", "true")
	e.Fails(125, "pod", "create", "--volumes-from", "nope")
	if left := e.Pea("pod", "ps", "-q"); left != "" {
		t.Fatalf("a refused pod create left %s", left)
	}
}

// TestLogDrivers: k8s-file is the default; json-file is kept under its name and read back;
// none keeps nothing and logs says so; passthrough hands the caller's stdio to the container
// and refuses a terminal; journald without a journal and unknown drivers are refused.
func TestLogDrivers(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "dflt", "localhost/bb", "echo", "dflt-out")
	if got := e.Pea("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "dflt"); got != "k8s-file" {
		t.Fatalf("default log driver: %q", got)
	}
	e.Pea("run", "--name", "js", "--log-driver", "json-file", "localhost/bb", "echo", "js-out")
	if got := e.Pea("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "js"); got != "json-file" {
		t.Fatalf("json-file: inspect says %q", got)
	}
	if got := e.Pea("logs", "js"); got != "js-out" {
		t.Fatalf("logs of a json-file container: %q", got)
	}
	out := e.Pea("run", "--name", "nolog", "--log-driver", "none", "localhost/bb", "echo", "still-attached")
	if out != "still-attached" {
		t.Fatalf("--log-driver none: an attached run should still print: %q", out)
	}
	if got := e.Pea("inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "nolog"); got != "none" {
		t.Fatalf("none: inspect says %q", got)
	}
	r := e.Fails(125, "logs", "nolog")
	if !strings.Contains(r.Stderr, "this container is using the 'none' log driver, cannot read logs") {
		t.Fatalf("logs of a none container: %s", r)
	}
	if _, err := os.Stat(e.Pea("inspect", "-f", "{{.LogPath}}", "nolog")); err == nil {
		t.Fatal("--log-driver none: conmon wrote a log file")
	}

	// passthrough: the container writes to pea's own stdout and stderr, reads its stdin.
	cmd := exec.Command(peaBin, e.args("run", "--rm", "-i", "--log-driver", "passthrough", "localhost/bb",
		"sh", "-c", "read l; echo out:$l; echo err:$l >&2; exit 3")...)
	cmd.Stdin = strings.NewReader("typed\n")
	r = runCmd(cmd)
	if r.Code != 3 || strings.TrimSpace(r.Stdout) != "out:typed" || strings.TrimSpace(r.Stderr) != "err:typed" {
		t.Fatalf("passthrough: %s", r)
	}
	e.refused("cannot be used with a terminal", "create", "-t", "--log-driver", "passthrough", "localhost/bb", "true")

	e.refused("invalid log driver", "run", "--rm", "--log-driver", "syslog", "localhost/bb", "true")
	if _, err := os.Stat("/run/systemd/journal/socket"); err != nil {
		e.refused("no journal on this host", "create", "--log-driver", "journald", "localhost/bb", "true")
	}
}

// TestRootfs: --rootfs runs a container from a directory: plainly the container writes into
// it; with :O an overlay takes the writes and the directory is unchanged; rm never deletes it.
func TestRootfs(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	if out, err := exec.Command("tar", "-C", dir, "-xf", busyboxTar(t)).CombinedOutput(); err != nil {
		t.Fatalf("tar: %s", out)
	}
	e.Pea("run", "--rm", "--rootfs", dir, "/bin/sh", "-c", "echo plain > /made")
	if b, _ := os.ReadFile(filepath.Join(dir, "made")); strings.TrimSpace(string(b)) != "plain" {
		t.Fatalf("--rootfs DIR: the container's write is not in the directory: %q", b)
	}
	out := e.Pea("run", "--name", "ov", "--rootfs", dir+":O", "/bin/sh", "-c", "echo overlay > /made2; cat /made2; rm /made; ls /made 2>&1 || true")
	if !strings.Contains(out, "overlay") {
		t.Fatalf("--rootfs DIR:O: %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "made2")); err == nil {
		t.Fatal("--rootfs DIR:O: the container's write reached the directory")
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); err != nil {
		t.Fatal("--rootfs DIR:O: the container's removal reached the directory")
	}
	if got := e.Pea("inspect", "-f", "{{.Rootfs}}|{{.ImageName}}", "ov"); got != dir+"|" {
		t.Fatalf("inspect .Rootfs: %q", got)
	}
	e.Pea("start", "-a", "ov") // the overlay is mounted again with its own upper directory
	e.Pea("rm", "ov")
	e.Pea("run", "--name", "plain", "--rootfs", dir, "/bin/true")
	e.Pea("rm", "plain")
	if _, err := os.Stat(filepath.Join(dir, "bin", "busybox")); err != nil {
		t.Fatalf("rm deleted the user's root filesystem: %v", err)
	}
	data, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(data), e.Dir) {
		t.Fatalf("an overlay is left mounted:\n%s", data)
	}
	e.refused("--rootfs /nonexistent", "run", "--rm", "--rootfs", "/nonexistent", "/bin/true")
	e.refused("no command", "create", "--rootfs", dir)
}

// TestEnvFlags: --unsetenv removes an image or default variable, --unsetenv-all keeps only
// the user's, --env-merge expands the image's value.
func TestEnvFlags(t *testing.T) {
	e := newEnv(t)
	e.Pea("import", "--change", "ENV PATH=/usr/bin:/bin", "--change", "ENV IMGVAR=img", busyboxTar(t), "localhost/envimg")
	out := e.Pea("run", "--rm", "--unsetenv", "IMGVAR", "localhost/envimg", "/bin/env")
	if strings.Contains(out, "IMGVAR") || !strings.Contains(out, "PATH=/usr/bin:/bin") {
		t.Fatalf("--unsetenv IMGVAR: %q", out)
	}
	out = e.Pea("run", "--rm", "--unsetenv", "PATH", "localhost/envimg", "/bin/env")
	if strings.Contains(out, "PATH=") {
		t.Fatalf("--unsetenv PATH: %q", out)
	}
	out = e.Pea("run", "--rm", "--unsetenv-all", "-e", "MINE=1", "localhost/envimg", "/bin/env")
	for _, gone := range []string{"IMGVAR", "PATH=", "TERM=", "container="} {
		if strings.Contains(out, gone) {
			t.Fatalf("--unsetenv-all kept %s: %q", gone, out)
		}
	}
	// HOSTNAME stays, as podman 4.3.1 sets it whatever the flags.
	if !strings.Contains(out, "MINE=1") || !strings.Contains(out, "HOSTNAME=") {
		t.Fatalf("--unsetenv-all dropped the user's variable or HOSTNAME: %q", out)
	}
	out = e.Pea("run", "--rm", "-e", "A=x", "--env-merge", "PATH=/opt/bin:${PATH}", "--env-merge", "IMGVAR=${IMGVAR}-more", "--env-merge", "B=${A}y",
		"localhost/envimg", "/bin/env")
	for _, want := range []string{"PATH=/opt/bin:/usr/bin:/bin", "IMGVAR=img-more", "B=xy"} {
		if !strings.Contains(out, want) {
			t.Fatalf("--env-merge: want %q in %q", want, out)
		}
	}
	e.refused("invalid --env-merge", "run", "--rm", "--env-merge", "NOEQUALS", "localhost/envimg", "/bin/true")
}

// TestRequiresTimeoutPersonality: --requires starts the required containers first (and they
// cannot be removed before it); --timeout kills the container; --personality LINUX32 changes
// uname's machine.
func TestRequiresTimeoutPersonality(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "db", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "cache", "--requires", "db", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "app", "--requires", "cache", "localhost/bb", "sleep", "300")
	e.Pea("start", "app")
	for _, n := range []string{"db", "cache", "app"} {
		if st := e.Pea("inspect", "-f", "{{.State.Status}}", n); st != "running" {
			t.Fatalf("%s after start app: %s", n, st)
		}
	}
	dbID := e.Pea("inspect", "-f", "{{.ID}}", "db")
	if deps := e.Pea("inspect", "-f", "{{.Dependencies}}", "cache"); deps != "["+dbID+"]" {
		t.Fatalf("cache's Dependencies: %s", deps)
	}
	r := e.Fails(125, "rm", "-f", "db")
	if !strings.Contains(r.Stderr, "dependent containers") {
		t.Fatalf("rm of a required container: %s", r)
	}
	e.Pea("rm", "-fa", "-t", "0") // dependents first
	if left := e.Pea("ps", "-aq"); left != "" {
		t.Fatalf("rm -a left %s", left)
	}
	e.refused("--requires nope", "create", "--requires", "nope", "localhost/bb", "true")

	// A container that runs past --timeout is killed by conmon, which records -1: podman's
	// exit code for it (run exits 255), attached or not. It was 137 for an attached run.
	r = e.Fails(255, "run", "--rm", "--timeout", "1", "localhost/bb", "sleep", "60")
	if left := e.Pea("ps", "-aq"); left != "" {
		t.Fatalf("--timeout --rm left %s", left)
	}
	e.Fails(255, "run", "--name", "to", "--timeout", "1", "localhost/bb", "sleep", "60")
	if out := e.Pea("inspect", "--format", "{{.State.ExitCode}}", "to"); out != "-1" {
		t.Fatalf("exit code of a container that timed out: %s", out)
	}
	e.Pea("rm", "to")
	// A kill before the timeout is the kill's 137.
	// (killed once it runs, however long its start takes on a loaded host)
	go func() {
		for deadline := time.Now().Add(50 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if e.Try("kill", "to2").Code == 0 {
				return
			}
		}
	}()
	e.Fails(137, "run", "--rm", "--name", "to2", "--timeout", "100", "localhost/bb", "sleep", "60")

	var un unix.Utsname
	unix.Uname(&un)
	if m := unix.ByteSliceToString(un.Machine[:]); m == "x86_64" {
		if got := e.Pea("run", "--rm", "--personality", "LINUX32", "localhost/bb", "uname", "-m"); got != "i686" {
			t.Fatalf("--personality LINUX32: uname -m says %q", got)
		}
		if got := e.Pea("run", "--rm", "--personality", "LINUX", "localhost/bb", "uname", "-m"); got != "x86_64" {
			t.Fatalf("--personality LINUX: uname -m says %q", got)
		}
	}
	e.refused("invalid --personality", "run", "--rm", "--personality", "BSD", "localhost/bb", "true")
}

// TestBlkioMemoryDeviceFlags: the per-device block I/O throttles, the memory swappiness and
// OOM killer switch, and device cgroup rules reach the container's cgroup; block I/O weights
// are refused where the host's controller cannot take them; pod create's CPU shares and
// throttles reach the pod cgroup.
func TestBlkioMemoryDeviceFlags(t *testing.T) {
	if _, err := os.Stat("/sys/fs/cgroup/blkio"); err != nil {
		t.Skip("the cgroup files read here are cgroup v1's")
	}
	e := newEnv(t).withBusybox()
	dev, majmin := hostBlockDevice(t)
	out := e.Pea("run", "--rm", "--device-read-bps", dev+":1mb", "--device-write-bps", dev+":2mb",
		"--device-read-iops", dev+":100", "--device-write-iops", dev+":200", "localhost/bb", "sh", "-c",
		"cd /sys/fs/cgroup/blkio && cat blkio.throttle.read_bps_device blkio.throttle.write_bps_device blkio.throttle.read_iops_device blkio.throttle.write_iops_device")
	want := fmt.Sprintf("%[1]s 1048576\n%[1]s 2097152\n%[1]s 100\n%[1]s 200", majmin)
	if out != want {
		t.Fatalf("block I/O throttles: got %q, want %q", out, want)
	}
	id := e.Pea("create", "--device-read-bps", dev+":1mb", "--memory-swappiness", "7", "--oom-kill-disable", "localhost/bb", "true")
	if got := e.Pea("inspect", "-f", "{{range .HostConfig.BlkioDeviceReadBps}}{{.Path}}={{.Rate}}{{end}} {{.HostConfig.MemorySwappiness}} {{.HostConfig.OomKillDisable}}", id); got != dev+"=1048576 7 true" {
		t.Fatalf("inspect: %q", got)
	}
	e.Pea("rm", id)
	out = e.Pea("run", "--rm", "--memory-swappiness", "7", "--oom-kill-disable", "localhost/bb", "sh", "-c",
		"cat /sys/fs/cgroup/memory/memory.swappiness; grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control")
	if out != "7\noom_kill_disable 1" {
		t.Fatalf("memory flags: %q", out)
	}
	// /dev/net/tun (10:200) is not among the default devices: opened, it answers EBADFD
	// (no interface attached) where the cgroup allows it, EPERM where it does not.
	tun := "mknod /tmp/tun c 10 200 && cat /tmp/tun"
	r := e.Try("run", "--rm", "--cap-add", "MKNOD", "--device-cgroup-rule", "c 10:200 rwm", "localhost/bb", "sh", "-c", tun)
	if !strings.Contains(r.Stderr+r.Stdout, "bad state") {
		t.Fatalf("--device-cgroup-rule c 10:200 rwm: %s", r)
	}
	r = e.Try("run", "--rm", "--cap-add", "MKNOD", "localhost/bb", "sh", "-c", tun)
	if !strings.Contains(r.Stderr+r.Stdout, "not permitted") {
		t.Fatalf("without the rule the device should be refused: %s", r)
	}

	e.refused("invalid device cgroup rule", "run", "--rm", "--device-cgroup-rule", "x 1:2 r", "localhost/bb", "true")
	e.refused("invalid --memory-swappiness", "run", "--rm", "--memory-swappiness", "101", "localhost/bb", "true")
	e.refused("not a block device", "run", "--rm", "--device-read-bps", "/dev/null:1mb", "localhost/bb", "true")
	e.refused("--device-write-iops", "run", "--rm", "--device-write-iops", dev+":lots", "localhost/bb", "true")
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err != nil {
		e.refused("not supported on this host", "run", "--rm", "--blkio-weight", "300", "localhost/bb", "true")
		e.refused("not supported on this host", "pod", "create", "--blkio-weight", "300")
	} else {
		if got := e.Pea("run", "--rm", "--blkio-weight", "300", "localhost/bb", "cat", "/sys/fs/cgroup/blkio/blkio.weight"); got != "300" {
			t.Fatalf("--blkio-weight: %q", got)
		}
	}
	e.refused("from 10 to 1000", "run", "--rm", "--blkio-weight", "5", "localhost/bb", "true")

	// Pod: on the pod cgroup; the infra's conmon PID written.
	pidFile := filepath.Join(t.TempDir(), "infra-conmon.pid")
	e.Pea("pod", "create", "--name", "rp", "--cpu-shares", "333", "--device-read-bps", dev+":3mb", "--device-write-bps", dev+":4mb", "--infra-conmon-pidfile", pidFile)
	cg := e.Pea("pod", "inspect", "-f", "{{.CgroupPath}}", "rp")
	read := func(ctrl, file string) string {
		b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup", ctrl, cg, file))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	if got := read("cpu", "cpu.shares"); got != "333" {
		t.Fatalf("pod --cpu-shares: %s", got)
	}
	if got := read("blkio", "blkio.throttle.read_bps_device"); got != majmin+" 3145728" {
		t.Fatalf("pod --device-read-bps: %s", got)
	}
	if got := read("blkio", "blkio.throttle.write_bps_device"); got != majmin+" 4194304" {
		t.Fatalf("pod --device-write-bps: %s", got)
	}
	e.Pea("pod", "start", "rp")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if comm, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/comm"); strings.TrimSpace(string(comm)) != "conmon" {
		t.Fatalf("--infra-conmon-pidfile names %s, a %q", b, comm)
	}
	e.Pea("pod", "rm", "-f", "rp")
	e.refused("--infra-conmon-pidfile needs an infra container", "pod", "create", "--infra=false", "--infra-conmon-pidfile", pidFile)
}

// hostBlockDevice returns a whole-disk block device of the host, as a path and MAJOR:MINOR.
func hostBlockDevice(t *testing.T) (string, string) {
	t.Helper()
	entries, _ := os.ReadDir("/sys/block")
	for _, en := range entries {
		name := en.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") || strings.HasPrefix(name, "zram") {
			continue
		}
		mm, err := os.ReadFile(filepath.Join("/sys/block", name, "dev"))
		if err != nil {
			continue
		}
		if _, err := os.Stat("/dev/" + name); err == nil {
			return "/dev/" + name, strings.TrimSpace(string(mm))
		}
	}
	t.Skip("no block device on this host")
	return "", ""
}

// TestPasswdAndInitPath: a numeric --user the image lacks gets an /etc/passwd line (podman's
// --passwd), shaped by --passwd-entry, none with --passwd=false; --init-path is the init
// --init runs, and is refused without --init.
func TestPasswdAndInitPath(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "-u", "4321", "localhost/bb", "sh", "-c", "grep ^4321 /etc/passwd; whoami"); out != "4321:*:4321:0:container user:/:/bin/sh\n4321" {
		t.Fatalf("--user 4321: %q", out)
	}
	out := e.Pea("run", "--rm", "-u", "4321:55", "-w", "/tmp", "--passwd-entry", "$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false", "localhost/bb", "grep", "^4321", "/etc/passwd")
	if out != "4321:x:4321:55:container user:/tmp:/bin/false" {
		t.Fatalf("--passwd-entry: %q", out)
	}
	if r := e.Try("run", "--rm", "-u", "4321", "--passwd=false", "localhost/bb", "grep", "^4321", "/etc/passwd"); r.Code != 1 {
		t.Fatalf("--passwd=false still added the user: %s", r)
	}
	if out := e.Pea("run", "--rm", "-u", "1000", "localhost/bb", "grep", "-c", ":1000:", "/etc/passwd"); out != "1" {
		t.Fatalf("a user the image has got a second line: %q", out)
	}

	initScript := filepath.Join(t.TempDir(), "my-init")
	os.WriteFile(initScript, []byte("#!/bin/sh\nshift\necho my-init-ran\nexec \"$@\"\n"), 0o755)
	if out := e.Pea("run", "--rm", "--init", "--init-path", initScript, "localhost/bb", "echo", "cmd-ran"); out != "my-init-ran\ncmd-ran" {
		t.Fatalf("--init-path: %q", out)
	}
	e.refused("needs --init", "run", "--rm", "--init-path", initScript, "localhost/bb", "true")
	e.refused("not an executable file", "run", "--rm", "--init", "--init-path", "/nonexistent", "localhost/bb", "true")
	e.refused("--passwd-entry cannot be combined", "create", "--passwd=false", "--passwd-entry", "x", "localhost/bb", "true")
}

// TestCgroupsModeAndPlatform: --cgroups disabled leaves the container in the caller's cgroups
// (no pea- cgroup), refuses limits; split and unknown modes are refused; --cgroup-conf needs
// cgroup v2; --platform/--arch/--os pick the local image only when it is of that platform.
func TestCgroupsModeAndPlatform(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--cgroups", "disabled", "localhost/bb", "sleep", "60")
	pid := e.Pea("inspect", "-f", "{{.State.Pid}}", id)
	cg, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cg), "pea-"+id) {
		t.Fatalf("--cgroups disabled: the container has a cgroup of its own:\n%s", cg)
	}
	e.Pea("rm", "-f", "-t", "0", id)
	id = e.Pea("run", "-d", "--cgroups", "no-conmon", "localhost/bb", "sleep", "60")
	pid = e.Pea("inspect", "-f", "{{.State.Pid}}", id)
	if cg, _ = os.ReadFile("/proc/" + pid + "/cgroup"); !strings.Contains(string(cg), "pea-"+id) {
		t.Fatalf("--cgroups no-conmon: the container should have its cgroup:\n%s", cg)
	}
	e.Pea("rm", "-f", "-t", "0", id)
	e.refused("cannot have resource limits", "run", "--rm", "--cgroups", "disabled", "-m", "64m", "localhost/bb", "true")
	e.refused("--cgroups split is not supported", "create", "--cgroups", "split", "localhost/bb", "true")
	e.refused("invalid --cgroups", "create", "--cgroups", "sometimes", "localhost/bb", "true")
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		e.refused("cannot use --cgroup-conf without cgroup v2", "create", "--cgroup-conf", "memory.high=1000000", "localhost/bb", "true")
	} else if got := e.Pea("run", "--rm", "--cgroup-conf", "memory.high=8388608", "localhost/bb", "cat", "/sys/fs/cgroup/memory.high"); got != "8388608" {
		t.Fatalf("--cgroup-conf memory.high: %q", got)
	}

	arch := e.Pea("image", "inspect", "-f", "{{.Architecture}}", "localhost/bb")
	if got := e.Pea("run", "--rm", "--platform", "linux/"+arch, "localhost/bb", "echo", "ok"); got != "ok" {
		t.Fatalf("--platform linux/%s: %q", arch, got)
	}
	if got := e.Pea("run", "--rm", "--os", "linux", "--arch", arch, "localhost/bb", "echo", "ok"); got != "ok" {
		t.Fatalf("--os/--arch: %q", got)
	}
	other := "arm64"
	if arch == "arm64" {
		other = "amd64"
	}
	e.refused("image not known", "run", "--rm", "--arch", other, "localhost/bb", "true")
	e.refused("image not known", "create", "--platform", "linux/"+arch+"/v9", "localhost/bb", "true")
	e.refused("--platform option can not be specified with --arch or --os", "create", "--platform", "linux/"+arch, "--arch", arch, "localhost/bb", "true")
	e.refused("invalid --platform", "create", "--platform", "linux", "localhost/bb", "true")
}

// TestImageVolumeAndSeccompPolicy: --image-volume tmpfs puts a tmpfs holding the image's
// content on each VOLUME, bind (the default, as podman's) an anonymous volume filled with it,
// ignore nothing;
// --seccomp-policy image takes the profile from the image's io.containers.seccomp.profile label.
func TestImageVolumeAndSeccompPolicy(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(`FROM localhost/bb
RUN mkdir -p /data && echo seeded > /data/seed
VOLUME /data
LABEL io.containers.seccomp.profile='{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}'
`), 0o644)
	e.Pea("build", "-q", "-t", "localhost/volimg", ctx)

	if out := e.Pea("run", "--rm", "--image-volume", "ignore", "localhost/volimg", "sh", "-c", "mount | grep -c ' /data ' || true; cat /data/seed"); out != "0\nseeded" {
		t.Fatalf("--image-volume ignore: %q", out)
	}
	// The default is podman's (and Docker's): an anonymous volume, which run --rm removes.
	if out := e.Pea("run", "--rm", "localhost/volimg", "sh", "-c", "mount | grep -c ' /data '; cat /data/seed"); out != "1\nseeded" {
		t.Fatalf("default (bind): %q", out)
	}
	if out := e.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("run --rm left the anonymous volume: %q", out)
	}
	if out := e.Pea("run", "--rm", "--image-volume", "tmpfs", "localhost/volimg", "sh", "-c", "mount | grep ' /data ' | cut -d' ' -f1,3; cat /data/seed"); out != "tmpfs /data\nseeded" {
		t.Fatalf("--image-volume tmpfs: %q", out)
	}
	id := e.Pea("create", "--image-volume", "bind", "localhost/volimg", "sh", "-c", "cat /data/seed; touch /data/new")
	vol := e.Pea("inspect", "-f", "{{range .Mounts}}{{if eq .Destination \"/data\"}}{{.Name}}{{end}}{{end}}", id)
	if vol == "" {
		t.Fatal("--image-volume bind: no volume on /data")
	}
	if out := e.Pea("start", "-a", id); out != "seeded" {
		t.Fatalf("--image-volume bind: the image's content was not copied into the volume: %q", out)
	}
	if _, err := os.Stat(filepath.Join(e.Pea("volume", "inspect", "-f", "{{.Mountpoint}}", vol), "new")); err != nil {
		t.Fatalf("--image-volume bind: the write is not in volume %s: %v", vol, err)
	}
	e.Pea("rm", "-v", id)
	e.refused("invalid --image-volume", "create", "--image-volume", "copy", "localhost/volimg", "true")

	if out := e.Pea("run", "--rm", "localhost/volimg", "sh", "-c", "mkdir /x && echo made"); out != "made" {
		t.Fatalf("--seccomp-policy default: %q", out)
	}
	r := e.Try("run", "--rm", "--seccomp-policy", "image", "localhost/volimg", "mkdir", "/x")
	if r.Code == 0 || !strings.Contains(r.Stderr, "not permitted") {
		t.Fatalf("--seccomp-policy image: mkdir should be refused by the image's profile: %s", r)
	}
	if out := e.Pea("run", "--rm", "--seccomp-policy", "image", "localhost/bb", "sh", "-c", "mkdir /x && echo made"); out != "made" {
		t.Fatalf("--seccomp-policy image on an image without a profile: %q", out)
	}
	e.refused("invalid --seccomp-policy", "create", "--seccomp-policy", "strict", "localhost/volimg", "true")
}

// TestSdNotify: with NOTIFY_SOCKET set, --sdnotify container (the default) gives the container
// the socket at /run/notify/notify.sock; conmon has pea send READY=1 with conmon's PID once
// the container started; ignore gives nothing.
func TestSdNotify(t *testing.T) {
	e := newEnv(t).withBusybox()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	env := []string{"NOTIFY_SOCKET=" + sock}
	r := e.runEnv(nil, env, "run", "--rm", "localhost/bb", "sh", "-c", "echo $NOTIFY_SOCKET; ls -l /run/notify/notify.sock | cut -c1")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "/run/notify/notify.sock\ns" {
		t.Fatalf("--sdnotify container: %s", r)
	}
	r = e.runEnv(nil, env, "run", "--rm", "--sdnotify", "ignore", "localhost/bb", "sh", "-c", "echo [$NOTIFY_SOCKET]; ls /run/notify 2>&1 | grep -c notify.sock")
	if r.Code == 0 || !strings.HasPrefix(r.Stdout, "[]\n0") {
		t.Fatalf("--sdnotify ignore: %s", r)
	}
	r = e.runEnv(nil, env, "run", "-d", "--sdnotify", "conmon", "localhost/bb", "sleep", "60")
	if r.Code != 0 {
		t.Fatalf("--sdnotify conmon: %s", r)
	}
	conmon := e.Pea("inspect", "-f", "{{.State.ConmonPid}}", strings.TrimSpace(r.Stdout))
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	buf := make([]byte, 256)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		t.Fatalf("--sdnotify conmon: nothing on the socket: %v", err)
	}
	if got := string(buf[:n]); got != "MAINPID="+conmon+"\nREADY=1\n" {
		t.Fatalf("--sdnotify conmon sent %q (conmon is %s)", got, conmon)
	}
	e.refused("invalid --sdnotify", "create", "--sdnotify", "systemd", "localhost/bb", "true")
}

// TestSystemdMode: --systemd always mounts tmpfs on /run, /run/lock, /tmp and
// /var/log/journal and a writable cgroup file system (keeping --init's binary under /run
// visible); true (the default) turns it on for an init command and stops it with SIGRTMIN+3;
// false never.
func TestSystemdMode(t *testing.T) {
	e := newEnv(t).withBusybox()
	out := e.Pea("run", "--rm", "--init", "--systemd", "always", "localhost/bb", "sh", "-c",
		"for d in /run /run/lock /tmp /var/log/journal; do mount | grep \" $d type tmpfs\" | cut -d' ' -f3; done; grep ' /sys/fs/cgroup' /proc/self/mounts | grep -c ' ro,' ; ls /run/pea-init")
	if out != "/run\n/run/lock\n/tmp\n/var/log/journal\n0\n/run/pea-init" {
		t.Fatalf("--systemd always: %q", out)
	}
	if out := e.Pea("run", "--rm", "localhost/bb", "sh", "-c", "mount | grep -c ' /run type tmpfs' || true"); out != "0" {
		t.Fatalf("default: a tmpfs on /run without systemd: %q", out)
	}
	for _, c := range []struct {
		args []string
		sig  string
	}{
		{[]string{"localhost/bb", "/sbin/init"}, "37"},
		{[]string{"localhost/bb", "/usr/lib/systemd/systemd"}, "37"},
		{[]string{"--systemd", "false", "localhost/bb", "/sbin/init"}, "15"},
		{[]string{"--stop-signal", "SIGINT", "localhost/bb", "/sbin/init"}, "2"},
		{[]string{"localhost/bb", "sleep", "1"}, "15"},
	} {
		id := e.Pea(append([]string{"create"}, c.args...)...)
		if got := e.Pea("inspect", "-f", "{{.Config.StopSignal}}", id); got != c.sig {
			t.Fatalf("create %v: stop signal %s, want %s", c.args, got, c.sig)
		}
		e.Pea("rm", id)
	}
	e.refused("invalid --systemd", "create", "--systemd", "maybe", "localhost/bb", "true")
}

// TestMoreRunFlags: --ip6 on an IPv6 network, --log-opt max-size, --cpu-rt-period (and the
// refusal of --cpu-rt-runtime while the parent cgroup has no real-time time), --chrootdirs,
// --hostuser, --subuidname without subordinate IDs.
func TestMoreRunFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "fd00:7e57:5::/64", "rf6net")
	out := e.Pea("run", "--rm", "--network", "rf6net", "--ip6", "fd00:7e57:5::42", "localhost/bb", "sh", "-c", "ip -6 addr show eth0 | grep -o 'fd00:7e57:5::42/64'")
	if out != "fd00:7e57:5::42/64" {
		t.Fatalf("--ip6: %q", out)
	}
	e.refused("outside the subnets", "run", "--rm", "--network", "rf6net", "--ip6", "fd00:1::1", "localhost/bb", "true")
	e.refused("invalid --ip6", "create", "--ip6", "10.1.2.3", "localhost/bb", "true")
	e.Pea("pod", "create", "--name", "p6", "--network", "rf6net", "--ip6", "fd00:7e57:5::77")
	if out := e.Pea("run", "--rm", "--pod", "p6", "localhost/bb", "sh", "-c", "ip -6 addr show eth0 | grep -o 'fd00:7e57:5::77/64'"); out != "fd00:7e57:5::77/64" {
		t.Fatalf("pod create --ip6: %q", out)
	}
	e.Pea("pod", "rm", "-f", "p6")
	e.refused("no subordinate IDs", "pod", "create", "--subuidname", "no-such-user-here")
	e.refused("outside the subnets", "create", "--ip", "10.88.0.9", "--ip6", "fd00::9", "localhost/bb", "true")

	id := e.Pea("run", "-d", "--log-opt", "max-size=1k", "localhost/bb", "sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done")
	e.Pea("wait", id)
	st, err := os.Stat(e.Pea("inspect", "-f", "{{.LogPath}}", id))
	if err != nil || st.Size() > 1024 {
		t.Fatalf("--log-opt max-size=1k: the log is %v bytes (%v)", st, err)
	}
	if !strings.Contains(e.Pea("logs", id), "line-299-") {
		t.Fatal("--log-opt max-size: the last lines are not in the log")
	}
	if got := e.Pea("inspect", "-f", "{{.HostConfig.LogConfig.Size}}", id); got != "1024B" {
		t.Fatalf("inspect LogConfig.Size: %q", got)
	}
	e.refused("invalid --log-opt max-size", "create", "--log-opt", "max-size=huge", "localhost/bb", "true")

	if _, err := os.Stat("/sys/fs/cgroup/cpu/cpu.rt_period_us"); err == nil {
		if got := e.Pea("run", "--rm", "--cpu-rt-period", "50000", "localhost/bb", "cat", "/sys/fs/cgroup/cpu/cpu.rt_period_us"); got != "50000" {
			t.Fatalf("--cpu-rt-period: %q", got)
		}
		b, _ := os.ReadFile("/sys/fs/cgroup/cpu/pea/cpu.rt_runtime_us")
		if strings.TrimSpace(string(b)) == "0" {
			e.refused("has 0 microseconds of real-time CPU time", "run", "--rm", "--cpu-rt-runtime", "10000", "localhost/bb", "true")
		}
	}
	e.refused("longer than --cpu-rt-period", "create", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "5000", "localhost/bb", "true")

	out = e.Pea("run", "--rm", "--hostname", "jailed", "--chrootdirs", "/jail", "localhost/bb", "sh", "-c", "cat /jail/etc/hostname; grep -c nameserver /jail/etc/resolv.conf")
	if !strings.HasPrefix(out, "jailed\n") {
		t.Fatalf("--chrootdirs: %q", out)
	}
	e.refused("an absolute path", "create", "--chrootdirs", "jail", "localhost/bb", "true")

	hostLine := ""
	if b, err := os.ReadFile("/etc/passwd"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "daemon:") {
				hostLine = l
			}
		}
	}
	if hostLine != "" {
		if out := e.Pea("run", "--rm", "--hostuser", "daemon", "localhost/bb", "grep", "^daemon:", "/etc/passwd"); out != hostLine {
			t.Fatalf("--hostuser daemon: %q, the host has %q", out, hostLine)
		}
	}
	e.refused("no such user in the host's /etc/passwd", "create", "--hostuser", "no-such-user-here", "localhost/bb", "true")
	e.refused("no subordinate IDs for no-such-user-here", "create", "--subuidname", "no-such-user-here", "localhost/bb", "true")
}

// TestHTTPProxyFlag: the host's proxy variables reach the container unless --http-proxy=false;
// the user's own setting wins; --disable-content-trust is accepted and does nothing.
func TestHTTPProxyFlag(t *testing.T) {
	e := newEnv(t).withBusybox()
	env := []string{"http_proxy=http://proxy.invalid:3128", "NO_PROXY=localhost"}
	r := e.runEnv(nil, env, "run", "--rm", "localhost/bb", "sh", "-c", "echo $http_proxy $NO_PROXY")
	if strings.TrimSpace(r.Stdout) != "http://proxy.invalid:3128 localhost" {
		t.Fatalf("--http-proxy (default): %s", r)
	}
	r = e.runEnv(nil, env, "run", "--rm", "--http-proxy=false", "localhost/bb", "sh", "-c", "echo [$http_proxy]")
	if strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("--http-proxy=false: %s", r)
	}
	r = e.runEnv(nil, env, "run", "--rm", "-e", "http_proxy=mine", "localhost/bb", "sh", "-c", "echo $http_proxy")
	if strings.TrimSpace(r.Stdout) != "mine" {
		t.Fatalf("-e http_proxy: %s", r)
	}
	e.Pea("run", "--rm", "--disable-content-trust", "localhost/bb", "true")
}

// TestPreserveFDs: run --preserve-fds N hands fds 3.. of the calling pea to the process (and
// only to its first start); an fd that is not open and create are refused.
func TestPreserveFDs(t *testing.T) {
	e := newEnv(t).withBusybox()
	f := filepath.Join(t.TempDir(), "passed")
	os.WriteFile(f, []byte("through-fd-3"), 0o644)
	fh, err := os.Open(f)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	cmd := exec.Command(peaBin, e.args("run", "--rm", "--preserve-fds", "1", "localhost/bb", "sh", "-c", "cat <&3")...)
	cmd.ExtraFiles = []*os.File{fh}
	if r := runCmd(cmd); r.Code != 0 || strings.TrimSpace(r.Stdout) != "through-fd-3" {
		t.Fatalf("--preserve-fds 1: %s", r)
	}
	e.refused("file descriptor 3 was not given to pea", "run", "--rm", "--preserve-fds", "1", "localhost/bb", "true")
	// exec --preserve-fds too; the Go runtime's own descriptors (close-on-exec) are never
	// taken for the caller's.
	e.Pea("run", "-d", "--name", "fdx", "localhost/bb", "sleep", "300")
	cmd = exec.Command(peaBin, e.args("exec", "--preserve-fds", "1", "fdx", "sh", "-c", "cat <&3; echo; ls /proc/self/fd | grep -c .")...)
	fh.Seek(0, 0)
	cmd.ExtraFiles = []*os.File{fh}
	if r := runCmd(cmd); r.Code != 0 || strings.Fields(r.Stdout)[0] != "through-fd-3" {
		t.Fatalf("exec --preserve-fds 1: %s", r)
	}
	if r := e.Fails(125, "exec", "--preserve-fds", "2", "fdx", "true"); !strings.Contains(r.Stderr, "was not given to pea") {
		t.Fatalf("exec --preserve-fds without the descriptors: %s", r)
	}
	e.refused("--preserve-fds is run's", "create", "--preserve-fds", "1", "localhost/bb", "true")
}

// TestRunAttach: run -a names the streams attached; the others are not shown (they are
// still in the log) and stdin is not read unless named.
func TestRunAttach(t *testing.T) {
	e := newEnv(t).withBusybox()
	r := e.Try("run", "--name", "a1", "-a", "stderr", "localhost/bb", "sh", "-c", "echo out; echo err >&2")
	if r.Code != 0 || r.Stdout != "" || strings.TrimSpace(r.Stderr) != "err" {
		t.Fatalf("-a stderr: %s", r)
	}
	if logs := e.Pea("logs", "a1"); !strings.Contains(logs, "out") {
		t.Fatalf("-a stderr: stdout is not in the log: %q", logs)
	}
	r = e.Try("run", "--rm", "-a", "stdout", "localhost/bb", "sh", "-c", "echo out; echo err >&2")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "out" || r.Stderr != "" {
		t.Fatalf("-a stdout: %s", r)
	}
	if r := e.PeaIn("typed\n", "run", "--rm", "-i", "-a", "stdin", "-a", "stdout", "localhost/bb", "cat"); strings.TrimSpace(r.Stdout) != "typed" {
		t.Fatalf("-a stdin -a stdout: %s", r)
	}
	e.refused("invalid stream", "run", "--rm", "-a", "stdfoo", "localhost/bb", "true")
	// podman 4.3 takes -d with -a: detached, nothing attached.
	if out := e.Pea("run", "-d", "-a", "stdout", "localhost/bb", "echo", "x"); len(out) != 64 {
		t.Fatalf("run -d -a stdout: %q", out)
	}
}

// TestAPIVolumesFrom: the compat API's HostConfig.VolumesFrom is honoured like the flag.
func TestAPIVolumesFrom(t *testing.T) {
	a := newAPIEnv(t)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "f"), []byte("api-shared"), 0o644)
	a.Pea("create", "--name", "vsrc", "--network", "none", "-v", host+":/shared", "localhost/bb", "true")
	var created struct{ Id string }
	a.RequestJSON("POST", "/v1.41/containers/create?name=vuser", map[string]any{"Image": "localhost/bb", "Cmd": []string{"cat", "/shared/f"},
		"HostConfig": map[string]any{"NetworkMode": "none", "VolumesFrom": []string{"vsrc:ro"}}}, 201, &created)
	a.Pea("start", "-a", "vuser")
	if out := a.Pea("logs", "vuser"); out != "api-shared" {
		t.Fatalf("API VolumesFrom: %q", out)
	}
	// A missing --volumes-from container is a 400, not Docker's 404: the docker client takes
	// any 404 of a create for a missing image, pulls it and hides the error (api/create.go's
	// notImageMissing).
	var e struct{ Message string }
	a.RequestJSON("POST", "/v1.41/containers/create?name=bad", map[string]any{"Image": "localhost/bb",
		"HostConfig": map[string]any{"NetworkMode": "none", "VolumesFrom": []string{"nosuch"}}}, 400, &e)
	if !strings.Contains(e.Message, `no container with name or ID "nosuch"`) {
		t.Fatalf("the error of a missing --volumes-from container: %q", e.Message)
	}
}

// TestPassthroughStartAttach: a passthrough container created first runs on `start -a`'s
// stdio, which waits for its exit code.
func TestPassthroughStartAttach(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "pt", "--log-driver", "passthrough", "localhost/bb", "sh", "-c", "echo from-pt; exit 4")
	r := e.Try("start", "-a", "pt")
	if r.Code != 4 || strings.TrimSpace(r.Stdout) != "from-pt" {
		t.Fatalf("start -a of a passthrough container: %s", r)
	}
}

// TestRunRmAnonymousVolumes: run --rm removes the container's anonymous volumes (podman's
// --rm), attached or detached, but not one another container still uses (--volumes-from).
func TestRunRmAnonymousVolumes(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--rm", "-v", "/anon", "localhost/bb", "true")
	id := e.Pea("run", "-d", "--rm", "-v", "/anon2", "localhost/bb", "true")
	eventually(t, 10*time.Second, func() error {
		if e.Try("container", "exists", id).Code == 0 {
			return fmt.Errorf("the detached --rm container is still there")
		}
		return nil
	})
	if vols := e.Pea("volume", "ls", "-q"); vols != "" {
		t.Fatalf("run --rm left anonymous volumes: %s", vols)
	}
	e.Pea("create", "--name", "holder", "-v", "/kept", "localhost/bb", "true")
	e.Pea("run", "--rm", "--volumes-from", "holder", "localhost/bb", "touch", "/kept/x")
	if vols := e.Pea("volume", "ls", "-q"); vols == "" {
		t.Fatal("run --rm removed the anonymous volume of the container it took it from")
	}
}

// TestDNSNoneAndUnlimitedPids: --dns none leaves the image's own /etc/resolv.conf (regression: it
// wrote "nameserver none"); --pids-limit -1 is no limit (regression: crun wrote -1 to pids.max,
// which cgroup v1 refuses).
func TestDNSNoneAndUnlimitedPids(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "resolv.conf"), []byte("nameserver 192.0.2.53\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nCOPY resolv.conf /etc/resolv.conf\n"), 0o644)
	e.Pea("build", "-q", "-t", "localhost/dnsimg", ctx)
	if out := e.Pea("run", "--rm", "--network", "none", "--dns", "none", "localhost/dnsimg", "cat", "/etc/resolv.conf"); out != "nameserver 192.0.2.53" {
		t.Fatalf("--dns none: %q", out)
	}
	e.refused("--dns none cannot be combined", "create", "--dns", "none", "--dns", "1.1.1.1", "localhost/bb")
	e.refused("not an IP address", "create", "--dns", "dns.example", "localhost/bb")
	if out := e.Pea("run", "--rm", "--network", "none", "--pids-limit", "-1", "localhost/bb", "sh", "-c", "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max"); out != "max" {
		t.Fatalf("--pids-limit -1: %q", out)
	}
}

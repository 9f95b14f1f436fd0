package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rootlessUID is the unprivileged user the rootless tests run pea as: an ID no account has
// (nothing on the host is changed for the tests; without an /etc/subuid range, pea maps the
// user alone, as podman does).
const rootlessUID = 52731

// RootlessEnv is a throw-away store of an unprivileged user, with its own copy of pea (the
// test binary's directory is root's alone).
type RootlessEnv struct {
	*Env
	bin, home string
	uid       uint32
	// mountNS is the PID of a process holding a mount namespace of the test's that every pea
	// of the user runs in (0: the host's); see newRangedEnv.
	mountNS int
}

func newRootlessEnv(t *testing.T) *RootlessEnv { return newRootlessEnvAs(t, rootlessUID) }

// newRootlessEnvAs is a RootlessEnv of user uid.
func newRootlessEnvAs(t *testing.T, uid uint32) *RootlessEnv {
	t.Helper()
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Fatal("no /dev/net/tun")
	}
	dir, err := os.MkdirTemp("", "pea-rootless-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	e := &RootlessEnv{Env: &Env{t: t, Dir: dir, Root: filepath.Join(dir, "u", "root"), RunRoot: filepath.Join(dir, "u", "run")},
		bin: filepath.Join(dir, "pea"), home: filepath.Join(dir, "u", "home"), uid: uid}
	t.Cleanup(e.teardown)
	// pea and its helpers (pea-service, pea-registry, ...), which it finds beside itself.
	bins, _ := filepath.Glob(filepath.Join(filepath.Dir(peaBin), "pea*"))
	for _, b := range bins {
		dst := filepath.Join(dir, filepath.Base(b))
		if out, err := exec.Command("cp", b, dst).CombinedOutput(); err != nil {
			t.Fatalf("copy pea: %s", out)
		}
		os.Chmod(dst, 0o755)
	}
	os.MkdirAll(e.home, 0o700)
	if out, err := exec.Command("chown", "-R", fmt.Sprintf("%d:%d", uid, uid), filepath.Join(dir, "u")).CombinedOutput(); err != nil {
		t.Fatalf("chown: %s", out)
	}
	return e
}

// user runs pea as the unprivileged user.
func (e *RootlessEnv) user(args ...string) Result { return e.userEnv(nil, args...) }

// userEnv runs pea as the user with env in its environment (a PATH there replaces the default).
func (e *RootlessEnv) userEnv(env []string, args ...string) Result {
	cmd := exec.Command(e.bin, e.args(args...)...)
	if e.mountNS != 0 {
		// nsenter enters the mount namespace as root, then becomes the user (no groups).
		id := strconv.Itoa(int(e.uid))
		cmd = exec.Command("nsenter", append([]string{"-t", strconv.Itoa(e.mountNS), "-m", "-S", id, "-G", id, "--", e.bin}, e.args(args...)...)...)
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: e.uid, Gid: e.uid, Groups: []uint32{}}}
	}
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			cmd.Env[1] = kv
		} else {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Dir = e.home
	return runCmd(cmd)
}

// U runs pea as the user and fails the test unless it exits 0; it returns trimmed stdout.
func (e *RootlessEnv) U(args ...string) string {
	e.t.Helper()
	r := e.user(args...)
	if r.Code != 0 {
		e.t.Fatalf("pea (uid %d) %s: %s", e.uid, strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout)
}

// withBusybox imports the busybox rootfs as the user's localhost/bb.
func (e *RootlessEnv) withBusybox() *RootlessEnv {
	e.t.Helper()
	tar := filepath.Join(e.home, "bb.tar")
	if out, err := exec.Command("cp", busyboxTar(e.t), tar).CombinedOutput(); err != nil {
		e.t.Fatalf("copy: %s", out)
	}
	os.Chown(tar, int(e.uid), int(e.uid))
	e.U("import", "--change", `CMD ["/bin/sh"]`, tar, "localhost/bb:latest")
	return e
}

// userProcs lists the processes of user uid as "PID COMM".
func userProcs(uid uint32) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, d := range ents {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+d.Name(), &st) != nil || st.Uid != uid {
			continue
		}
		if stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(stat), ") Z ") {
			continue // exited, not yet reaped by init
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		out = append(out, fmt.Sprintf("%d %s", pid, strings.TrimSpace(string(comm))))
	}
	return out
}

func (e *RootlessEnv) teardown() {
	e.user("pod", "rm", "-af", "-t", "0")
	e.user("rm", "-af", "-t", "0")
	e.user("system", "reset", "-f")
	// Whatever the user still runs (a test that failed half-way): the pause process, conmon,
	// slirp4netns, the containers. Their mounts live in the user's mount namespace and go with it.
	for _, p := range userProcs(e.uid) {
		pid, _ := strconv.Atoi(strings.Fields(p)[0])
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(userProcs(e.uid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if e.mountNS != 0 {
		syscall.Kill(e.mountNS, syscall.SIGKILL)
	}
	os.RemoveAll(e.Dir)
}

// A user without privilege runs containers: pea works as root of a user namespace of the
// user's (held by a pause process every later pea joins), mounts only there, and the files the
// container makes belong to the user on the host.
func TestRootlessRunsContainers(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	info := e.U("info", "--format", "{{.Host.Security.Rootless}} {{.Host.IDMappings.UIDMap}} {{.Store.GraphRoot}}")
	if want := fmt.Sprintf("true [{0 %d 1}] %s", rootlessUID, e.Root); info != want {
		t.Fatalf("info: %q, want %q", info, want)
	}
	pause := func() string {
		b, _ := os.ReadFile(filepath.Join(e.RunRoot, "pause.pid"))
		return strings.Fields(string(b) + " x")[0]
	}
	first := pause()
	if first == "x" {
		t.Fatal("no pause process recorded")
	}

	vol := filepath.Join(e.home, "vol")
	os.Mkdir(vol, 0o755)
	os.Chown(vol, rootlessUID, rootlessUID)
	out := e.U("run", "--rm", "--network", "none", "-v", vol+":/vol", "localhost/bb", "sh", "-c", "id -u; echo made > /vol/f; cat /proc/self/uid_map")
	if f := strings.Fields(out); len(f) != 4 || f[0] != "0" || f[2] != strconv.Itoa(rootlessUID) {
		t.Fatalf("container's view: %q", out)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(vol, "f"), &st); err != nil || st.Uid != rootlessUID {
		t.Fatalf("file the container made: %v uid %d, want the user's", err, st.Uid)
	}

	e.U("run", "-d", "--name", "keep", "--network", "none", "localhost/bb", "sh", "-c", "echo x > /made; sleep 300")
	// The root filesystem is mounted in the user's mount namespace, not on the host's.
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), e.Dir) {
		t.Fatalf("a rootless mount is on the host's mount table:\n%s", mounts)
	}
	if got := e.U("exec", "keep", "cat", "/made"); got != "x" {
		t.Fatalf("exec: %q", got)
	}
	top := e.U("top", "keep", "user", "pid", "args", "huser")
	if lines := strings.Split(top, "\n"); len(lines) != 2 || !strings.Contains(lines[1], "root") || !strings.Contains(lines[1], "sleep 300") {
		t.Fatalf("top lists the container's process alone, as root: %q", top)
	} else if f := strings.Fields(lines[1]); f[len(f)-1] != strconv.Itoa(rootlessUID) {
		t.Fatalf("top's HUSER is the user on the host (pea's root): %q", top)
	}
	e.U("stop", "-t", "0", "keep")
	e.U("start", "keep")
	if got := e.U("inspect", "--format", "{{.State.Status}}", "keep"); got != "running" {
		t.Fatalf("restarted: %q", got)
	}
	if pause() != first {
		t.Fatalf("each pea must join the one pause process: %s then %s", first, pause())
	}
	e.U("rm", "-f", "-t", "0", "keep")

	// A layer's deletions (whiteouts) and opaque directories are kept: in a user namespace
	// overlayfs reads user.overlay.* attributes.
	ctx := filepath.Join(e.home, "ctx")
	os.Mkdir(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN rm /bin/vi && mkdir /d && touch /d/a\nRUN rm -rf /d && mkdir /d && touch /d/b\n"), 0o644)
	exec.Command("chown", "-R", strconv.Itoa(rootlessUID), ctx).Run()
	e.U("build", "-q", "-t", "localhost/wh", ctx)
	check := func() {
		t.Helper()
		if got := e.U("run", "--rm", "--network", "none", "localhost/wh", "sh", "-c", "ls /d; test -e /bin/vi && echo vi-still-there; true"); got != "b" {
			t.Fatalf("whiteouts: %q, want only /d/b", got)
		}
	}
	check()
	tar := filepath.Join(e.home, "wh.tar")
	e.U("save", "-o", tar, "localhost/wh")
	e.U("rmi", "localhost/wh")
	e.U("load", "-i", tar)
	check()

	// unshare runs a command in the user namespace, as its root, with the store's paths.
	if got := e.U("unshare", "sh", "-c", "id -u; echo $CONTAINERS_GRAPHROOT"); got != "0\n"+e.Root {
		t.Fatalf("unshare: %q", got)
	}

	// system migrate ends the pause process; the next pea makes another.
	e.U("system", "migrate")
	if _, err := os.Stat(filepath.Join(e.RunRoot, "pause.pid")); err == nil {
		t.Fatal("system migrate left the pause process")
	}
	e.U("ps", "-a")
	if p := pause(); p == first || p == "x" {
		t.Fatalf("after migrate: pause %q (was %s)", p, first)
	}
}

// A rootless pod gets user-mode networking (slirp4netns): its published port answers on the
// host's loopback, its members reach each other on localhost, and slirp4netns goes with the
// pod's network namespace.
func TestRootlessPodPublishesThroughSlirp(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	port := freeHostPort(t)
	e.U("pod", "create", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	e.U("run", "-d", "--pod", "web", "--name", "srv", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "rootless-page", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	get := func() {
		t.Helper()
		eventually(t, 10*time.Second, func() error {
			body, err := httpGet(url)
			if err != nil || body != "rootless-page" {
				return fmt.Errorf("GET %s: %q %v", url, body, err)
			}
			return nil
		})
	}
	get()
	if got := e.U("run", "--rm", "--pod", "web", "localhost/bb", "wget", "-qO-", "http://localhost:80/"); got != "rootless-page" {
		t.Fatalf("member to member: %q", got)
	}
	ctr := e.U("run", "--rm", "localhost/bb", "sh", "-c", "ip -4 addr show tap0 | grep -o 'inet [0-9.]*'; grep nameserver /etc/resolv.conf | head -1")
	if ctr != "inet 10.0.2.100\nnameserver 10.0.2.3" {
		t.Fatalf("a standalone container's user-mode network: %q", ctr)
	}
	slirps := func() int {
		n := 0
		for _, p := range userProcs(rootlessUID) {
			if strings.HasSuffix(p, " slirp4netns") {
				n++
			}
		}
		return n
	}
	// The run --rm's slirp4netns was killed without a wait (it forwarded no port).
	eventually(t, 5*time.Second, func() error {
		if n := slirps(); n != 1 {
			return fmt.Errorf("slirp4netns processes with the pod running: %d, want 1", n)
		}
		return nil
	})
	// A second container may not take the published port while the pod holds it.
	if r := e.user("run", "--rm", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "true"); r.Code != 125 {
		t.Fatalf("port taken twice: %s", r)
	}
	e.U("pod", "stop", "-t", "0", "web")
	eventually(t, 5*time.Second, func() error {
		if n := slirps(); n != 0 {
			return fmt.Errorf("slirp4netns processes after pod stop: %d", n)
		}
		return nil
	})
	if _, err := httpGet(url); err == nil {
		t.Fatal("the port still answers with the pod stopped")
	}
	e.U("pod", "start", "web")
	get()
	e.U("pod", "rm", "-f", "-t", "0", "web")
	if n := slirps(); n != 0 {
		t.Fatalf("slirp4netns processes after pod rm: %d", n)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.RunRoot, "network", "slirp")); len(ents) != 0 {
		t.Fatalf("slirp4netns files left: %v", ents)
	}
}

// What a rootless pea cannot do is refused (or, for resource limits, dropped with podman's
// warning) and leaves nothing made.
func TestRootlessRefusals(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	r := e.user("run", "--rm", "--network", "somenet", "localhost/bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "somenet") {
		t.Fatalf("missing network: %s", r)
	}
	r = e.user("pod", "create", "--network", "somenet")
	if r.Code != 125 {
		t.Fatalf("pod on a missing network: %s", r)
	}
	r = e.user("run", "--rm", "--network", "slirp4netns:mtu=1", "localhost/bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "mtu") {
		t.Fatalf("bad slirp4netns option: %s", r)
	}
	r = e.user("run", "--rm", "--network", "slirp4netns:mtu=9000", "--memory", "64m", "localhost/bb", "sh", "-c", "cat /sys/class/net/tap0/mtu")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "9000" || !strings.Contains(r.Stderr, "Resource limits are not supported") {
		t.Fatalf("limits are dropped with a warning, slirp4netns options apply: %s", r)
	}
	// A user namespace of a container's own needs IDs beyond the user's own, which this user
	// has none of (no /etc/subuid range): refused with podman's words for keep-id.
	for _, c := range []struct {
		flags []string
		err   string
	}{
		{[]string{"--userns", "keep-id"}, "keep-id requires additional UIDs or GIDs defined in /etc/subuid and /etc/subgid"},
		{[]string{"--userns", "nomap"}, "nomap requires additional UIDs or GIDs"},
		{[]string{"--userns", "auto"}, "no subordinate IDs"},
		{[]string{"--uidmap", "0:1:100"}, "0 (the user) to 0"},
		{[]string{"--userns", "keep-id:uid=x"}, "invalid --userns keep-id option"},
	} {
		r = e.user(append(append([]string{"run", "--rm", "--network", "none"}, c.flags...), "localhost/bb", "true")...)
		if r.Code != 125 || !strings.Contains(r.Stderr, c.err) {
			t.Fatalf("%v: %s", c.flags, r)
		}
	}
	// The user's own ID alone may be mapped (a namespace of the container's own all the same,
	// its root filesystem from fuse-overlayfs).
	if got := e.U("run", "--rm", "--network", "none", "--uidmap", "0:0:1", "localhost/bb", "sh", "-c", "cat /proc/self/uid_map; stat -c %u /bin/busybox; touch /made && echo wrote"); strings.Join(strings.Fields(got), " ") != "0 0 1 0 wrote" {
		t.Fatalf("--uidmap 0:0:1: %q", got)
	}
	r = e.user("run", "--rm", "-p", "127.0.0.1:80:80", "localhost/bb", "true")
	if r.Code != 125 || !strings.Contains(r.Stderr, "privileged port 80") {
		t.Fatalf("port below ip_unprivileged_port_start: %s", r)
	}
	// --device: no node can be made in a user namespace; the host's is bound.
	if got := e.U("run", "--rm", "--network", "none", "--device", "/dev/null:/dev/xnull", "localhost/bb", "sh", "-c", "echo x > /dev/xnull && echo wrote"); got != "wrote" {
		t.Fatalf("--device: %q", got)
	}
	e.U("run", "-d", "--name", "st", "--network", "none", "localhost/bb", "sleep", "300")
	r = e.user("stats", "--no-stream", "st")
	if r.Code != 125 || !strings.Contains(r.Stderr, "rootless") {
		t.Fatalf("stats: %s", r)
	}
	if got := e.U("ps", "-a", "--format", "{{.Names}}"); got != "st" {
		t.Fatalf("refused commands left containers: %q", got)
	}
}

// The API service runs rootless too: the docker client runs a container through it, and /info
// says rootless.
func TestRootlessDockerAPI(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	sock := filepath.Join(e.RunRoot, "api.sock")
	cmd := exec.Command(e.bin, e.args("system", "service", "--time", "0", "unix://"+sock)...)
	cmd.Env = []string{"HOME=" + e.home, "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: rootlessUID, Gid: rootlessUID, Groups: []uint32{}}}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	docker := func(args ...string) Result {
		c := exec.Command("docker", args...)
		c.Env = []string{"HOME=" + e.home, "DOCKER_HOST=unix://" + sock, "PATH=/usr/bin:/bin"}
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: rootlessUID, Gid: rootlessUID, Groups: []uint32{}}}
		return runCmd(c)
	}
	eventually(t, 10*time.Second, func() error {
		if r := docker("version"); r.Code != 0 {
			return fmt.Errorf("service not answering: %s (log %s)", r, logs.String())
		}
		return nil
	})
	if r := docker("info", "--format", "{{.SecurityOptions}}"); !strings.Contains(r.Stdout, "name=rootless") {
		t.Fatalf("info: %s", r)
	}
	if r := docker("run", "--rm", "localhost/bb", "sh", "-c", "ip -4 addr show tap0 | grep -c 10.0.2.100"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "1" {
		t.Fatalf("docker run: %s", r)
	}
}

// Named networks of a rootless pea are bridges in the user's rootless network namespace:
// containers find each other by name, a published port answers on the host (slirp4netns
// forwards it into the namespace, whose DNAT rule takes it to the container), and nothing is
// made in the host's network namespace.
func TestRootlessBridgeNetwork(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	linksBefore, _ := exec.Command("ip", "-br", "link").Output()
	e.U("network", "create", "appnet")
	port := freeHostPort(t)
	e.U("run", "-d", "--name", "web", "--network", "appnet", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "bridge-page", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "bridge-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	// slirp4netns of the rootless network namespace killed: the next pea that works on the
	// networks starts another on the same namespace (the containers keep their bridge) and
	// forwards the published ports again.
	b, err := os.ReadFile(filepath.Join(e.RunRoot, "network", "slirp", "rootless-net.pid"))
	if err != nil {
		t.Fatal(err)
	}
	slirpPID, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	syscall.Kill(slirpPID, syscall.SIGKILL)
	eventually(t, 5*time.Second, func() error {
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", slirpPID)); err == nil && !strings.Contains(string(stat), ") Z ") {
			return fmt.Errorf("slirp4netns %d has not exited yet", slirpPID)
		}
		return nil
	})
	if _, err := httpGet(url); err == nil {
		t.Fatal("the port still answers with slirp4netns gone")
	}
	if got := e.U("run", "--rm", "--network", "appnet", "localhost/bb", "wget", "-qO-", "http://web/"); got != "bridge-page" {
		t.Fatalf("by name on the network: %q", got)
	}
	// And over DNS: the store's aardvark-dns runs in the rootless network namespace, on the
	// network's gateway, which resolv.conf names first.
	webIP := e.U("inspect", "-f", "{{.NetworkSettings.Networks.appnet.IPAddress}}", "web")
	if got := e.U("run", "--rm", "--network", "appnet", "localhost/bb", "nslookup", "web"); !strings.Contains(got, "Address: "+webIP+"\n") && !strings.HasSuffix(got, "Address: "+webIP) {
		t.Fatalf("nslookup web in the rootless network namespace:\n%s", got)
	}
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "bridge-page" {
			return fmt.Errorf("GET %s after slirp4netns was replaced: %q %v", url, body, err)
		}
		return nil
	})
	linksDuring, _ := exec.Command("ip", "-br", "link").Output()
	if string(linksDuring) != string(linksBefore) {
		t.Fatalf("a rootless network made links on the host:\nbefore %s\nafter %s", linksBefore, linksDuring)
	}
	e.U("rm", "-f", "-t", "0", "web")
	if _, err := httpGet(url); err == nil {
		t.Fatal("the port still answers with its container gone")
	}
	if fwd, _ := filepath.Glob(filepath.Join(e.RunRoot, "network", "slirp", "forwards-*")); len(fwd) != 0 {
		t.Fatalf("forwards left: %v", fwd)
	}
	e.U("network", "rm", "appnet")
	e.U("system", "reset", "-f")
	for _, p := range userProcs(rootlessUID) {
		if strings.HasSuffix(p, " slirp4netns") || strings.HasSuffix(p, " aardvark-dns") {
			t.Fatalf("system reset left the rootless network namespace's slirp4netns or aardvark-dns: %v", userProcs(rootlessUID))
		}
	}
}

// The pause process killed while containers run: the next pea joins the namespaces of a
// running container's conmon (a new pause process would bring empty ones, without the
// containers' mounts) and starts a new pause process there.
func TestRootlessPauseKilledWhileRunning(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	e.U("run", "-d", "--name", "k1", "--network", "none", "localhost/bb", "sleep", "300")
	record := func() []string {
		b, _ := os.ReadFile(filepath.Join(e.RunRoot, "pause.pid"))
		return strings.Fields(string(b))
	}
	before := record()
	if len(before) != 2 {
		t.Fatalf("pause record: %q", before)
	}
	pid, _ := strconv.Atoi(before[0])
	syscall.Kill(pid, syscall.SIGKILL)
	// A SIGKILL takes effect a moment after kill returns: the exec below once ran while the
	// pause process still lived (on a loaded machine), and rightly joined it.
	eventually(t, 10*time.Second, func() error {
		if pidAlive(pid) {
			return fmt.Errorf("pause process %d still runs after SIGKILL", pid)
		}
		return nil
	})
	if got := e.U("exec", "k1", "echo", "alive"); got != "alive" {
		t.Fatalf("exec after the pause process went: %q", got)
	}
	after := record()
	if len(after) != 2 || after[0] == before[0] || after[1] != before[1] {
		t.Fatalf("pause record: %q, want a new process in the same user namespace as %q", after, before)
	}
	if comm, _ := os.ReadFile("/proc/" + after[0] + "/comm"); strings.TrimSpace(string(comm)) != "catatonit" {
		t.Fatalf("new pause process %s is %q", after[0], comm)
	}
	e.U("rm", "-f", "-t", "0", "k1")
	if got := e.U("unshare", "sh", "-c", "grep -c "+e.Dir+" /proc/self/mountinfo || true"); got != "0" {
		t.Fatalf("mounts left in the user's namespace: %s", got)
	}
}

// auto-update of a rootless container restarts the user's unit: `systemctl --user` (systemctl
// is a stand-in on PATH that logs its arguments; there is no systemd on the test machine).
func TestRootlessAutoUpdateRestartsUserUnit(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	bin := filepath.Join(e.home, "bin")
	os.Mkdir(bin, 0o755)
	log := filepath.Join(e.home, "systemctl.log")
	os.WriteFile(filepath.Join(bin, "systemctl"), []byte("#!/bin/sh\necho \"$@\" >> "+log+"\n"), 0o755)
	exec.Command("chown", "-R", fmt.Sprintf("%d:%d", e.uid, e.uid), bin).Run()
	env := []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "PODMAN_SYSTEMD_UNIT=web.service"}
	if r := e.userEnv(env, "run", "-d", "--name", "au", "--network", "none", "--label", "io.containers.autoupdate=local", "localhost/bb", "sleep", "300"); r.Code != 0 {
		t.Fatalf("run: %s", r)
	}
	ctx := filepath.Join(e.home, "ctx")
	os.Mkdir(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN echo 2 > /v\n"), 0o644)
	exec.Command("chown", "-R", fmt.Sprintf("%d:%d", e.uid, e.uid), ctx).Run()
	e.U("build", "-q", "-t", "localhost/bb", ctx)
	r := e.userEnv(env, "auto-update", "--format", "{{.Unit}} {{.Policy}} {{.Updated}}")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "web.service local true" {
		t.Fatalf("auto-update: %s", r)
	}
	if b, _ := os.ReadFile(log); string(b) != "--user restart web.service\n" {
		t.Fatalf("systemctl was run with %q", b)
	}
}

// A rootless container on pasta (podman 5's rootless default, chosen here by containers.conf's
// default_rootless_network_cmd): the host's address inside, its published port on the host's
// loopback, and nothing left after its removal.
func TestRootlessPasta(t *testing.T) {
	e := newRootlessEnv(t).withBusybox()
	conf := filepath.Join(e.home, "containers.conf")
	os.WriteFile(conf, []byte("[network]\ndefault_rootless_network_cmd = \"pasta\"\n"), 0o644)
	env := []string{"CONTAINERS_CONF=" + conf}
	addr := hostRouteAddr(t)
	if r := e.userEnv(env, "info", "--format", "{{.Host.RootlessNetworkCmd}} {{.Host.Pasta.Executable}}"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "pasta /usr/bin/pasta" {
		t.Fatalf("info's rootlessNetworkCmd and pasta: %s", r)
	}
	r := e.userEnv(env, "run", "--rm", "localhost/bb", "sh", "-c", "ip -4 -o addr show | grep -v ' lo ' | grep -o 'inet [0-9.]*'")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "inet "+addr {
		t.Fatalf("a rootless container on the default network with pasta: %s", r)
	}
	port := freeHostPort(t)
	r = e.userEnv(env, "run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "rootless-pasta", 80))
	if r.Code != 0 {
		t.Fatalf("run -d: %s", r)
	}
	if got := e.U("inspect", "--format", "{{.HostConfig.NetworkMode}}", "web"); got != "pasta" {
		t.Fatalf("NetworkMode %q", got)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "rootless-pasta" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	e.U("rm", "-f", "-t", "0", "web")
	if n := pastaProcs(t, e.RunRoot); len(n) != 0 {
		t.Fatalf("pasta left: %v", n)
	}
	if _, err := httpGet(url); err == nil {
		t.Fatal("the port still answers after the removal")
	}
}

package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Verbs of podman 4.3 added late: init, mount/umount, container and pod clone, unshare,
// network reload, and container cleanup as a user's verb.

// pidAlive reports whether process pid runs; a zombie does not (this VM's init reaps late).
func pidAlive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// inspectInt reads one integer field of a container's inspect output.
func inspectInt(t *testing.T, e *Env, ctr, field string) int {
	t.Helper()
	n, err := strconv.Atoi(e.Pea("inspect", "--format", "{{"+field+"}}", ctr))
	if err != nil {
		t.Fatalf("inspect %s %s: %v", ctr, field, err)
	}
	return n
}

func TestInitThenStart(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "c", "--network", "none", "localhost/bb", "top")
	if out := e.Pea("init", "c"); out != "c" {
		t.Fatalf("init printed %q", out)
	}
	if ev := e.Pea("events", "--stream=false", "--filter", "event=init", "--format", "{{.Name}}"); ev != "c" {
		t.Fatalf("init event: %q", ev)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "c"); st != "initialized" {
		t.Fatalf("state after init: %q", st)
	}
	if ps := e.Pea("ps", "-a", "--format", "{{.Status}}"); ps != "Initialized" {
		t.Fatalf("ps STATUS: %q", ps)
	}
	if ps := e.Pea("ps", "-a", "--filter", "status=initialized", "--format", "{{.Names}}"); ps != "c" {
		t.Fatalf("ps --filter status=initialized: %q", ps)
	}
	if ps := e.Pea("ps", "-q"); ps != "" {
		t.Fatalf("an initialized container is not running, ps lists %q", ps)
	}
	pid, conmon := inspectInt(t, e, "c", ".State.Pid"), inspectInt(t, e, "c", ".State.ConmonPid")
	if !pidAlive(pid) || !pidAlive(conmon) {
		t.Fatalf("the runtime's process %d and conmon %d must be there after init", pid, conmon)
	}
	id := e.Pea("inspect", "--format", "{{.ID}}", "c")
	merged := filepath.Join(e.Root, "containers", id, "merged")
	if !mounted(merged) {
		t.Fatalf("init mounts the root filesystem: %s is not mounted", merged)
	}
	// A second init is the wrong state, as podman words it.
	r := e.Fails(125, "init", "c")
	if !strings.Contains(r.Stderr, "has already been created in runtime") {
		t.Fatalf("second init: %s", r)
	}
	// Not running: kill and exec refuse, as podman's.
	if r := e.Fails(125, "kill", "c"); !strings.Contains(r.Stderr, "in state initialized") {
		t.Fatalf("kill of an initialized container: %s", r)
	}
	e.Pea("start", "c")
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "c"); st != "running" {
		t.Fatalf("state after start: %q", st)
	}
	if got := inspectInt(t, e, "c", ".State.Pid"); got != pid {
		t.Fatalf("start runs the process init made (%d), got %d", pid, got)
	}
	if out := e.Pea("exec", "c", "echo", "hi"); out != "hi" {
		t.Fatalf("exec after init+start: %q", out)
	}
	e.Pea("rm", "-f", "-t", "0", "c")
	if pidAlive(conmon) || mounted(merged) {
		t.Fatal("rm left conmon or the mount behind")
	}
	if r := e.Fails(125, "init", "nope"); !strings.Contains(r.Stderr, `no container with name or ID "nope" found`) {
		t.Fatalf("init of an unknown container: %s", r)
	}
}

func TestInitializedRemovedOrStoppedLeavesNothing(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "a", "localhost/bb", "top") // on the default network: a namespace too
	e.Pea("init", "a")
	pid, conmon := inspectInt(t, e, "a", ".State.Pid"), inspectInt(t, e, "a", ".State.ConmonPid")
	id := e.Pea("inspect", "--format", "{{.ID}}", "a")
	// Not running: rm needs no -f, as podman's.
	e.Pea("rm", "a")
	if pidAlive(pid) || pidAlive(conmon) {
		t.Fatalf("rm of an initialized container left process %d or conmon %d", pid, conmon)
	}
	if n := overlayMountsUnder(e.Dir); n != 0 {
		t.Fatalf("%d overlay mounts left", n)
	}
	if _, err := os.Stat(filepath.Join(e.RunRoot, "network", "netns", id)); err == nil {
		t.Fatal("network namespace pin left")
	}

	e.Pea("create", "--name", "b", "--network", "none", "localhost/bb", "top")
	e.Pea("init", "--latest")
	e.Pea("stop", "-t", "0", "b")
	if st := e.Pea("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", "b"); st != "exited 137" {
		t.Fatalf("stop of an initialized container: %q", st)
	}
	if n := overlayMountsUnder(e.Dir); n != 0 {
		t.Fatalf("stop left %d overlay mounts", n)
	}
	// An exited container can be initialized again, and --all picks it.
	if out := e.Pea("init", "--all"); !strings.Contains(out, e.Pea("inspect", "--format", "{{.ID}}", "b")) {
		t.Fatalf("init --all: %q", out)
	}
	e.Pea("start", "b")
	e.Pea("rm", "-f", "-t", "0", "b")
}

func TestMountUmountCounted(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("create", "--name", "m", "--network", "none", "localhost/bb", "sleep", "1000")
	path := e.Pea("mount", "m")
	if !mounted(path) {
		t.Fatalf("mount printed %q, which is not mounted", path)
	}
	if err := os.WriteFile(filepath.Join(path, "from-host"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if again := e.Pea("container", "mount", "m"); again != path {
		t.Fatalf("second mount: %q, want %q", again, path)
	}
	if list := e.Pea("mount"); list != id[:12]+"  "+path {
		t.Fatalf("mount listing: %q", list)
	}
	if list := e.Pea("mount", "--no-trunc"); list != id+"  "+path {
		t.Fatalf("mount --no-trunc: %q", list)
	}
	var js []struct {
		ID         string   `json:"id"`
		Names      []string `json:"Names"`
		Mountpoint string   `json:"mountpoint"`
	}
	if err := json.Unmarshal([]byte(e.Pea("mount", "--format", "json")), &js); err != nil || len(js) != 1 || js[0].ID != id || js[0].Names[0] != "m" || js[0].Mountpoint != path {
		t.Fatalf("mount --format json: %+v %v", js, err)
	}
	e.Fails(125, "mount", "--format", "{{.ID}}")
	// Mounted twice: the first umount keeps it.
	e.Pea("umount", "m")
	if !mounted(path) {
		t.Fatal("one umount of two mounts unmounted it")
	}
	// The file written through the mount is the container's; a stop keeps the hand-made mount.
	e.Pea("start", "m")
	if out := e.Pea("exec", "m", "cat", "/from-host"); out != "hello" {
		t.Fatalf("file written in the mount, seen in the container: %q", out)
	}
	e.Pea("stop", "-t", "0", "m")
	if !mounted(path) {
		t.Fatal("stop unmounted a root filesystem `pea mount` holds")
	}
	e.Pea("unmount", "m")
	if mounted(path) {
		t.Fatal("the last umount left it mounted")
	}
	if out := e.Pea("umount", "m"); out != "m" {
		t.Fatalf("umount of a container not mounted: %q (podman: no error)", out)
	}
	if list := e.Pea("mount"); list != "" {
		t.Fatalf("nothing mounted, listing: %q", list)
	}
	// --force drops every count at once; --all picks the mounted containers.
	e.Pea("mount", "m")
	e.Pea("mount", "m")
	e.Pea("umount", "--force", "m")
	if mounted(path) {
		t.Fatal("umount --force left it mounted")
	}
	e.Pea("mount", "m")
	if out := e.Pea("umount", "-a"); out != id {
		t.Fatalf("umount -a: %q", out)
	}
	// rm of a mounted container unmounts it.
	e.Pea("mount", "m")
	e.Pea("rm", "m")
	if mounted(path) || overlayMountsUnder(e.Dir) != 0 {
		t.Fatal("rm left the mount behind")
	}
	if _, err := os.Stat(filepath.Join(e.RunRoot, "mounts", id)); err == nil {
		t.Fatal("rm left the mount count behind")
	}
	ev := e.Pea("events", "--stream=false", "--filter", "container=m", "--format", "{{.Status}}")
	if !strings.Contains(ev, "mount") || !strings.Contains(ev, "unmount") {
		t.Fatalf("mount and unmount events: %q", ev)
	}
	for _, verb := range []string{"mount", "umount"} {
		if r := e.Fails(125, verb, "nope"); !strings.Contains(r.Stderr, `no container with name or ID "nope" found`) {
			t.Fatalf("%s nope: %s", verb, r)
		}
	}
}

func TestMountOfRunningContainer(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "r", "--network", "none", "localhost/bb", "sleep", "1000")
	path := e.Pea("mount", "r")
	// The running container's own root filesystem: what it writes shows through the mount.
	e.Pea("exec", "r", "sh", "-c", "echo inside > /from-ctr")
	if b, err := os.ReadFile(filepath.Join(path, "from-ctr")); err != nil || string(b) != "inside\n" {
		t.Fatalf("container's file through the mount: %q %v", b, err)
	}
	e.Pea("umount", "r")
	if !mounted(path) {
		t.Fatal("umount unmounted a running container's root filesystem")
	}
	e.Pea("stop", "-t", "0", "r")
	if mounted(path) {
		t.Fatal("stop left the root filesystem mounted with no user mount")
	}
}

func TestContainerClone(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "k", "--network", "none", "-v", "/data", "--memory", "64m", "-e", "FOO=bar", "localhost/bb", "sleep", "1000")
	id1 := e.Pea("container", "clone", "k")
	if n := e.Pea("inspect", "--format", "{{.Name}}", id1); n != "k-clone" {
		t.Fatalf("first clone's name: %q", n)
	}
	e.Pea("container", "clone", "k")
	if !strings.Contains(e.Pea("ps", "-a", "--format", "{{.Names}}"), "k-clone1") {
		t.Fatal("second clone is not k-clone1")
	}
	// Same config, fresh state and its own anonymous volume.
	if env := e.Pea("inspect", "--format", "{{range .Config.Env}}{{.}} {{end}}", "k-clone"); !strings.Contains(env, "FOO=bar") {
		t.Fatalf("clone's env: %q", env)
	}
	if m := e.Pea("inspect", "--format", "{{.HostConfig.Memory}}", "k-clone"); m != "67108864" {
		t.Fatalf("clone's memory limit: %q", m)
	}
	v := func(c string) string { return e.Pea("inspect", "--format", "{{range .Mounts}}{{.Name}}{{end}}", c) }
	if v("k") == "" || v("k") == v("k-clone") {
		t.Fatalf("a clone has an anonymous volume of its own: %q %q", v("k"), v("k-clone"))
	}
	// NAME, a resource override and --run.
	e.Pea("container", "clone", "--memory", "32m", "--run", "k", "k2")
	if st := e.Pea("inspect", "--format", "{{.State.Status}} {{.HostConfig.Memory}}", "k2"); st != "running 33554432" {
		t.Fatalf("clone --run --memory 32m: %q", st)
	}
	// --destroy of a running original needs --force; nothing is created when refused.
	n := len(strings.Fields(e.Pea("ps", "-aq")))
	e.Fails(125, "container", "clone", "--destroy", "k2", "k3")
	if len(strings.Fields(e.Pea("ps", "-aq"))) != n {
		t.Fatal("a refused clone left a container")
	}
	e.Pea("container", "clone", "--destroy", "-f", "k2", "k3")
	e.Fails(1, "container", "exists", "k2")
	e.Pea("container", "exists", "k3")
	if r := e.Fails(125, "container", "clone", "nope"); !strings.Contains(r.Stderr, `no container with name or ID "nope" found`) {
		t.Fatalf("clone nope: %s", r)
	}
	e.Fails(125, "container", "clone", "k", "a", "b", "c")
	e.Fails(125, "container", "clone", "--name", "x", "k", "y")

	// A published host port is the original's: a clone that replaces it (--destroy) takes it
	// over and answers on it; one beside it would clash (pea refuses that at creation).
	port := freeHostPort(t)
	e.Pea("run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "clone-page", 80))
	e.Fails(125, "container", "clone", "web")
	e.Pea("container", "clone", "--destroy", "-f", "--run", "web")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "clone-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	e.Fails(1, "container", "exists", "web")
}

func TestPodClone(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "p", "--network", "none")
	e.Pea("create", "--pod", "p", "--name", "pm", "localhost/bb", "sleep", "1000")
	e.Pea("pod", "clone", "p")
	names := e.Pea("ps", "-a", "--pod", "--format", "{{.Names}}@{{.PodName}}")
	if !strings.Contains(names, "pm-clone@p-clone") || !strings.Contains(names, "-infra-clone@p-clone") {
		t.Fatalf("pod clone's containers: %q", names)
	}
	e.Pea("pod", "clone", "--name", "p3", "--start", "p")
	if st := e.Pea("pod", "inspect", "--format", "{{.State}}", "p3"); st != "Running" {
		t.Fatalf("pod clone --start: %q", st)
	}
	// Its member runs in the new pod's namespaces, not the old one's.
	infra3 := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p3")
	ipc := func(c string) string {
		pid := e.Pea("inspect", "--format", "{{.State.Pid}}", c)
		l, err := os.Readlink("/proc/" + pid + "/ns/ipc")
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if ipc("pm-clone1") != ipc(infra3) {
		t.Fatal("the cloned member does not share the new pod's IPC namespace")
	}
	// Pod-wide options added to the clone reach its members.
	vol := t.TempDir()
	os.WriteFile(filepath.Join(vol, "f"), []byte("pod-volume\n"), 0o644)
	e.Pea("pod", "clone", "--start", "-v", vol+":/podvol", "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "32m", "p", "p4")
	if out := e.Pea("exec", "pm-clone2", "cat", "/podvol/f"); out != "pod-volume" {
		t.Fatalf("pod clone -v reaches the member: %q", out)
	}
	if out := e.Pea("exec", "pm-clone2", "df", "-k", "/dev/shm"); !strings.Contains(out, "32768") {
		t.Fatalf("pod clone --shm-size: %q", out)
	}
	e.Pea("pod", "clone", "--destroy", "p")
	e.Fails(1, "pod", "exists", "p")
	e.Fails(1, "container", "exists", "pm")
	if r := e.Fails(125, "pod", "clone", "nope"); !strings.Contains(r.Stderr, "no pod with name or ID") {
		t.Fatalf("pod clone nope: %s", r)
	}
}

func TestUnshare(t *testing.T) {
	e := newEnv(t)
	out := e.Pea("unshare", "sh", "-c", "echo $CONTAINERS_GRAPHROOT $CONTAINERS_RUNROOT")
	if out != e.Root+" "+e.RunRoot {
		t.Fatalf("unshare's environment: %q", out)
	}
	if r := e.Try("unshare", "sh", "-c", "exit 7"); r.Code != 7 {
		t.Fatalf("unshare exits with the command's code: %s", r)
	}
	// The default command is $SHELL, with pea's stdin.
	r := e.runEnv([]byte("echo from-shell\n"), []string{"SHELL=/bin/sh"}, "unshare")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "from-shell" {
		t.Fatalf("unshare with no command: %s", r)
	}
	e.Fails(127, "unshare", "no-such-command-here")
	e.Fails(126, "unshare", "/etc/passwd")
	e.Fails(125, "unshare", "--rootless-netns", "true")
}

func TestNetworkReload(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	id := e.Pea("run", "-d", "--name", "w", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "reload-page", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	answers := func() error {
		body, err := httpGet(url)
		if err != nil || body != "reload-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	}
	eventually(t, 10*time.Second, answers)
	// Remove the container's rules, as a firewall reload would: its DNAT chain emptied and its
	// jumps deleted.
	rules, err := exec.Command("iptables-save", "-t", "nat").Output()
	if err != nil {
		t.Skipf("iptables-save: %v", err)
	}
	chain := ""
	for _, l := range strings.Split(string(rules), "\n") {
		if strings.Contains(l, "pea ports "+id) && strings.HasPrefix(l, "-A PREROUTING") {
			f := strings.Fields(l)
			chain = f[len(f)-1]
			if out, err := exec.Command("iptables", append([]string{"-w", "-t", "nat", "-D"}, unquoteRule(f[1:])...)...).CombinedOutput(); err != nil {
				t.Fatalf("delete %q: %s", l, out)
			}
		}
	}
	if chain == "" {
		t.Fatalf("no rule of %s in the nat table", id)
	}
	if out, err := exec.Command("iptables", "-w", "-t", "nat", "-F", chain).CombinedOutput(); err != nil {
		t.Fatalf("flush %s: %s", chain, out)
	}
	if answers() == nil {
		t.Fatal("the port still answers with its rules removed")
	}
	if out := e.Pea("network", "reload", "w"); out != id {
		t.Fatalf("network reload printed %q", out)
	}
	eventually(t, 5*time.Second, answers)
	// Reloading rules that are there does not double them.
	count := func() int {
		b, _ := exec.Command("iptables-save", "-t", "nat").Output()
		return strings.Count(string(b), "pea ports "+id)
	}
	before := count()
	e.Pea("network", "reload", "--all")
	if after := count(); after != before {
		t.Fatalf("reload of rules in place: %d rules, then %d", before, after)
	}
	// The network's outbound NAT and forwarding chains, flushed, are made again too. Their
	// names hash the store's network directory, the network and its subnet (masq_net.go).
	var nets []struct {
		Subnets []struct {
			Subnet string `json:"subnet"`
		} `json:"subnets"`
	}
	if err := json.Unmarshal([]byte(e.Pea("network", "inspect", "pea")), &nets); err != nil || len(nets) != 1 || len(nets[0].Subnets) == 0 {
		t.Fatalf("network inspect pea: %+v %v", nets, err)
	}
	sum := sha256.Sum256([]byte(filepath.Join(e.Root, "networks") + "\x00pea\x00" + nets[0].Subnets[0].Subnet))
	hash := hex.EncodeToString(sum[:])[:12]
	chainRules := func(table, chain string) int {
		out, _ := exec.Command("iptables", "-w", "-t", table, "-S", chain).Output()
		return strings.Count(string(out), "-A "+chain+" ")
	}
	masq, fwd := "PEA-MASQ-"+hash, "PEA-FWD-"+hash
	if chainRules("nat", masq) == 0 || chainRules("filter", fwd) == 0 {
		t.Fatalf("chains %s and %s not found with rules", masq, fwd)
	}
	exec.Command("iptables", "-w", "-t", "nat", "-F", masq).Run()
	exec.Command("iptables", "-w", "-t", "filter", "-F", fwd).Run()
	e.Pea("network", "reload", "w")
	if chainRules("nat", masq) == 0 || chainRules("filter", fwd) == 0 {
		t.Fatalf("reload did not fill %s and %s again", masq, fwd)
	}

	// A pod member's network is its infra's: reloading the member remakes the pod's ports.
	pport := freeHostPort(t)
	e.Pea("pod", "create", "--name", "rp", "-p", fmt.Sprintf("127.0.0.1:%d:80", pport))
	e.Pea("run", "-d", "--pod", "rp", "--name", "member", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "pod-page", 80))
	purl := fmt.Sprintf("http://127.0.0.1:%d/", pport)
	podAnswers := func() error {
		body, err := httpGet(purl)
		if err != nil || body != "pod-page" {
			return fmt.Errorf("GET %s: %q %v", purl, body, err)
		}
		return nil
	}
	eventually(t, 10*time.Second, podAnswers)
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "rp")
	b, _ := exec.Command("iptables-save", "-t", "nat").Output()
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "pea ports "+infra) && strings.HasPrefix(l, "-A OUTPUT") {
			f := strings.Fields(l)
			exec.Command("iptables", "-w", "-t", "nat", "-F", f[len(f)-1]).Run()
		}
	}
	if podAnswers() == nil {
		t.Fatal("the pod's port still answers with its DNAT chain flushed")
	}
	e.Pea("network", "reload", "member")
	eventually(t, 5*time.Second, podAnswers)

	e.Pea("create", "--name", "idle", "localhost/bb", "true")
	if r := e.Fails(125, "network", "reload", "idle"); !strings.Contains(r.Stderr, "cannot reload network unless container network has been configured") {
		t.Fatalf("reload of a created container: %s", r)
	}
	e.Fails(125, "network", "reload", "nope")
	e.Pea("rm", "-f", "-t", "0", "w")
	if count() != 0 {
		t.Fatal("rules left after rm")
	}
}

// unquoteRule turns iptables-save's fields (a comment quoted) into iptables arguments.
func unquoteRule(f []string) []string {
	var out []string
	for i := 0; i < len(f); i++ {
		if strings.HasPrefix(f[i], `"`) {
			s := f[i]
			for !strings.HasSuffix(s, `"`) && i+1 < len(f) {
				i++
				s += " " + f[i]
			}
			out = append(out, strings.Trim(s, `"`))
			continue
		}
		out = append(out, f[i])
	}
	return out
}

func TestContainerCleanupVerb(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--name", "x", "localhost/bb", "true")
	eventually(t, 10*time.Second, func() error {
		if st := e.Pea("inspect", "--format", "{{.State.Status}}", "x"); st != "exited" {
			return fmt.Errorf("state %s", st)
		}
		return nil
	})
	if out := e.Pea("container", "cleanup", "x"); out != "x" {
		t.Fatalf("cleanup printed %q", out)
	}
	if out := e.Pea("container", "cleanup", "--all"); out != id {
		t.Fatalf("cleanup --all: %q", out)
	}
	e.Pea("container", "cleanup", "--rm", "x")
	e.Fails(1, "container", "exists", "x")
	e.Pea("run", "-d", "--name", "busy", "--network", "none", "localhost/bb", "sleep", "1000")
	if r := e.Fails(125, "container", "cleanup", "busy"); !strings.Contains(r.Stderr, "refusing to clean up") {
		t.Fatalf("cleanup of a running container: %s", r)
	}
	e.Fails(125, "container", "cleanup")
	if r := e.Fails(125, "container", "cleanup", "nope"); !strings.Contains(r.Stderr, `no container with name or ID "nope" found`) {
		t.Fatalf("cleanup nope: %s", r)
	}
	// conmon's call (the full ID, no flag) still records exits and removes --rm containers.
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "echo", "gone"); out != "gone" {
		t.Fatalf("run --rm: %q", out)
	}
	e.Pea("run", "-d", "--rm", "--name", "auto", "--network", "none", "localhost/bb", "true")
	eventually(t, 10*time.Second, func() error {
		if r := e.Try("container", "exists", "auto"); r.Code != 1 {
			return fmt.Errorf("--rm container still there: %s", r)
		}
		return nil
	})
	// --rmi removes the image with the container.
	e.Pea("tag", "localhost/bb", "localhost/other:1")
	e.Pea("create", "--name", "img", "--network", "none", "localhost/other:1", "true")
	e.Pea("untag", "localhost/bb", "localhost/bb:latest")
	e.Pea("rm", "-f", "-t", "0", "busy")
	e.Pea("container", "cleanup", "--rmi", "img")
	if e.Try("image", "exists", "localhost/other:1").Code != 1 {
		t.Fatal("cleanup --rmi left the image")
	}
}

func TestImageMountUmount(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("image", "inspect", "--format", "{{.ID}}", "localhost/bb")
	path := e.Pea("image", "mount", "localhost/bb")
	if !mounted(path) {
		t.Fatalf("image mount printed %q, which is not mounted", path)
	}
	if _, err := os.Stat(filepath.Join(path, "bin", "busybox")); err != nil {
		t.Fatalf("the image's files under the mount: %v", err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o644); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("an image mount is read-only: %v", err)
	}
	if again := e.Pea("image", "mount", "localhost/bb"); again != path {
		t.Fatalf("second image mount: %q", again)
	}
	if list := e.Pea("image", "mount"); list != "localhost/bb:latest  "+path {
		t.Fatalf("image mount listing: %q", list)
	}
	var js []struct {
		ID           string   `json:"id"`
		Repositories []string `json:"Repositories"`
		Mountpoint   string   `json:"mountpoint"`
	}
	if err := json.Unmarshal([]byte(e.Pea("image", "mount", "--format", "json")), &js); err != nil || len(js) != 1 || js[0].ID != id || js[0].Mountpoint != path {
		t.Fatalf("image mount --format json: %+v %v", js, err)
	}
	// A mounted image is not removed (its layers are under the mount) unless forced.
	e.Fails(2, "rmi", "localhost/bb")
	if out := e.Pea("image", "umount", "localhost/bb"); out != id || !mounted(path) {
		t.Fatalf("first of two umounts: %q, mounted %v", out, mounted(path))
	}
	e.Pea("image", "unmount", "localhost/bb")
	if mounted(path) {
		t.Fatal("the last image umount left it mounted")
	}
	if out := e.Pea("image", "umount", "localhost/bb"); out != "" {
		t.Fatalf("umount of an image not mounted printed %q", out)
	}
	e.Pea("image", "mount", "localhost/bb")
	e.Pea("image", "mount", "localhost/bb")
	if out := e.Pea("image", "umount", "--all"); out != id || mounted(path) {
		t.Fatalf("image umount --all: %q, mounted %v", out, mounted(path))
	}
	e.Pea("image", "mount", "localhost/bb")
	e.Pea("rmi", "-f", "localhost/bb")
	if mounted(path) || overlayMountsUnder(e.Dir) != 0 {
		t.Fatal("rmi -f left the image mounted")
	}
	e.Fails(125, "image", "mount", "nope")
	e.Fails(125, "image", "umount", "nope")
}

// An attached start of an initialized container gets all of its output and its exit code.
func TestInitThenAttachedStart(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "sa", "--network", "none", "localhost/bb", "sh", "-c", "echo attached-out; exit 3")
	e.Pea("init", "sa")
	r := e.Try("start", "-a", "sa")
	if r.Code != 3 || strings.TrimSpace(r.Stdout) != "attached-out" {
		t.Fatalf("start -a of an initialized container: %s", r)
	}
	e.Pea("create", "--name", "ia", "-i", "--network", "none", "localhost/bb", "cat")
	e.Pea("container", "init", "ia")
	if r := e.PeaIn("piped\n", "start", "-ai", "ia"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "piped" {
		t.Fatalf("start -ai of an initialized container: %s", r)
	}
}

// conmon's exit command for a store deleted meanwhile (rm -rf of --root while a container ran,
// or a test's teardown) ends without a word and leaves the store deleted: it opened the database,
// which made the store's directory again.
func TestExitCommandOfDeletedStore(t *testing.T) {
	e := newEnv(t)
	if err := os.RemoveAll(e.Dir); err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("ab", 32)
	if r := e.Try("container", "cleanup", id); r.Code != 0 {
		t.Fatalf("exit command of a deleted store: %s", r)
	}
	if _, err := os.Stat(e.Root); !os.IsNotExist(err) {
		t.Fatalf("the exit command made the deleted store again: %v", err)
	}
}

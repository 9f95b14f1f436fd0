package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSysctlsCheckedAtCreate: a sysctl no container may set is refused by the create, in one
// line with exit 125 and nothing made, as podman refuses it (it used to reach the runtime, which
// failed the start with 126 and left the container created); the namespaced ones work.
func TestSysctlsCheckedAtCreate(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.refused("not namespaced", "create", "--network", "none", "--sysctl", "vm.swappiness=10", "localhost/bb", "true")
	e.refused("not namespaced", "run", "--rm", "--network", "none", "--sysctl", "kernel.pea_no_such=1", "localhost/bb", "true")
	e.refused("--hostname", "run", "--rm", "--network", "none", "--sysctl", "kernel.hostname=x", "localhost/bb", "true")
	e.refused("want KEY=VALUE", "create", "--network", "none", "--sysctl", "net.ipv4.ip_forward", "localhost/bb", "true")
	e.refused("--network host", "create", "--network", "host", "--sysctl", "net.ipv4.ip_forward=1", "localhost/bb", "true")
	e.refused("--ipc host", "create", "--network", "none", "--ipc", "host", "--sysctl", "kernel.shmmax=100000", "localhost/bb", "true")
	e.refused("not namespaced", "pod", "create", "--sysctl", "fs.file-max=100")
	for _, c := range []struct{ kv, file, want string }{
		{"net.ipv4.ip_forward=1", "/proc/sys/net/ipv4/ip_forward", "1"},
		{"kernel.shmmni=1234", "/proc/sys/kernel/shmmni", "1234"},
		{"fs.mqueue.queues_max=77", "/proc/sys/fs/mqueue/queues_max", "77"},
	} {
		if out := e.Pea("run", "--rm", "--network", "none", "--sysctl", c.kv, "localhost/bb", "cat", c.file); out != c.want {
			t.Errorf("--sysctl %s: %s reads %q", c.kv, c.file, out)
		}
	}
}

// TestSeccompProfileCheckedAtCreate: a --security-opt seccomp=FILE that is missing or not a
// profile is refused by the create (125, nothing made), as podman reads it there; it used to
// fail each start with 126. containers/common's profile format (podman's seccomp.json, with
// its errno names) is accepted and enforced.
func TestSeccompProfileCheckedAtCreate(t *testing.T) {
	e := newEnv(t).withBusybox()
	bad := filepath.Join(e.Dir, "bad.json")
	os.WriteFile(bad, []byte("{bad"), 0o644)
	e.refused("no such file", "create", "--network", "none", "--security-opt", "seccomp="+filepath.Join(e.Dir, "missing.json"), "localhost/bb", "true")
	e.refused("not a seccomp profile", "run", "--rm", "--network", "none", "--security-opt", "seccomp="+bad, "localhost/bb", "true")
	common := filepath.Join(e.Dir, "common.json")
	os.WriteFile(common, []byte(`{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["chdir"], "action": "SCMP_ACT_ERRNO", "errno": "EACCES"}]}`), 0o644)
	r := e.Try("run", "--rm", "--network", "none", "--security-opt", "seccomp="+common, "localhost/bb", "sh", "-c", "cd /tmp")
	if r.Code == 0 || !strings.Contains(r.Stderr, "ermission denied") {
		t.Fatalf("a chdir the profile refuses with EACCES: %s", r)
	}
}

// TestCpusetCheckedAtCreate: --cpuset-cpus/--cpuset-mems naming a CPU or node the host does not
// have is refused by the create (125, nothing made), as podman's; the start used to fail (126).
func TestCpusetCheckedAtCreate(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.refused("Requested CPUs are not available", "run", "--rm", "--network", "none", "--cpuset-cpus", "4095", "localhost/bb", "true")
	e.refused("Requested memory nodes are not available", "create", "--network", "none", "--cpuset-mems", "0-300", "localhost/bb", "true")
	e.refused("want a list", "create", "--network", "none", "--cpuset-cpus", "a-b", "localhost/bb", "true")
	if out := e.Pea("run", "--rm", "--network", "none", "--cpuset-cpus", "0", "localhost/bb", "sh", "-c", "grep Cpus_allowed_list /proc/self/status"); !strings.HasSuffix(out, "\t0") {
		t.Fatalf("--cpuset-cpus 0: %q", out)
	}
}

// TestSecurityOptMaskUnmask: --security-opt mask=PATHS masks more paths and unmask=PATHS|ALL
// (shell patterns too) takes default ones out, as podman's; pea took both and did nothing,
// so a path the user asked to hide stayed readable.
func TestSecurityOptMaskUnmask(t *testing.T) {
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "--network", "none", "--security-opt", "mask=/etc:/var", "localhost/bb", "sh", "-c", "ls -A /etc | wc -l"); out != "0" {
		t.Fatalf("mask=/etc: %s entries in /etc", out)
	}
	mounts := `echo "$(grep -c ' /proc/sys ' /proc/mounts) $(grep -c ' /sys/firmware ' /proc/mounts)"`
	for _, c := range []struct{ opt, want string }{
		{"", "1 1"},
		{"unmask=/proc/*", "0 1"},
		{"unmask=/proc/sys", "0 1"},
		{"unmask=ALL", "0 0"},
	} {
		args := []string{"run", "--rm", "--network", "none"}
		if c.opt != "" {
			args = append(args, "--security-opt", c.opt)
		}
		if out := e.Pea(append(args, "localhost/bb", "sh", "-c", mounts)...); out != c.want {
			t.Errorf("%q: /proc/sys and /sys/firmware mounted %q, want %q", c.opt, out, c.want)
		}
	}
	e.refused("want absolute paths", "create", "--network", "none", "--security-opt", "mask=etc", "localhost/bb", "true")
	e.refused("want absolute paths", "create", "--network", "none", "--security-opt", "unmask=proc", "localhost/bb", "true")
}

// TestStaticAddressesNeedBridge: --ip, --ip6 and --mac-address outside the bridge mode are
// refused as podman refuses them, and nothing is created; pea used to accept and ignore them.
func TestStaticAddressesNeedBridge(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "x", "--network", "none", "localhost/bb", "true")
	for _, mode := range []string{"none", "host", "container:x", "slirp4netns"} {
		for _, f := range [][2]string{{"--ip", "10.88.0.50"}, {"--ip6", "fd00::5"}, {"--mac-address", "02:42:ac:11:00:02"}} {
			r := e.Fails(125, "create", "--network", mode, f[0], f[1], "localhost/bb", "true")
			if want := "Error: " + f[0] + " can only be set when the network mode is bridge: invalid argument\n"; r.Stderr != want {
				t.Errorf("%s with --network %s: want %q, got %s", f[0], mode, want, r)
			}
		}
	}
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}"); got != "x" {
		t.Errorf("refused creates left containers: %q", got)
	}
}

// TestGroupAddKeepGroups: --group-add keep-groups keeps the caller's supplementary groups in
// the container (crun's run.oci.keep_original_groups), as podman's; pea looked it up as a
// group name and failed the start with 126. It cannot be mixed with other groups.
func TestGroupAddKeepGroups(t *testing.T) {
	e := newEnv(t).withBusybox()
	groupsIn := func(extra ...string) Result {
		cmd := exec.Command(peaBin, e.args(append(append([]string{"run", "--rm", "--network", "none"}, extra...), "localhost/bb", "grep", "^Groups:", "/proc/self/status")...)...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{4242, 4343}}}
		return runCmd(cmd)
	}
	if r := groupsIn("--group-add", "keep-groups"); r.Code != 0 || !strings.Contains(r.Stdout, "4242 4343") {
		t.Errorf("keep-groups: want the caller's groups 4242 4343, got %s", r)
	}
	if r := groupsIn(); r.Code != 0 || strings.Contains(r.Stdout, "4242") {
		t.Errorf("without keep-groups the caller's groups must not reach the container: %s", r)
	}
	e.Pea("create", "--name", "kg", "--network", "none", "--group-add", "keep-groups", "localhost/bb", "true")
	if got := e.Pea("inspect", "--format", `{{.HostConfig.GroupAdd}} {{index .Config.Annotations "run.oci.keep_original_groups"}}`, "kg"); got != "[] 1" {
		t.Errorf("inspect of a keep-groups container: %q", got)
	}
	r := e.Fails(125, "create", "--network", "none", "--group-add", "keep-groups", "--group-add", "10", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, "not allowed with any other --group-add options") {
		t.Errorf("keep-groups with another group: %s", r)
	}
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}"); got != "kg" {
		t.Errorf("containers after the refused create: %q", got)
	}
}

// TestNetworkNoneHasNoResolvConf: a container without a network gets no /etc/resolv.conf (it
// has no DNS to ask), nor do the members of a pod without one, as in podman; DNS flags with
// --network none are refused as podman refuses them.
func TestNetworkNoneHasNoResolvConf(t *testing.T) {
	e := newEnv(t).withBusybox()
	if r := e.Try("run", "--rm", "--network", "none", "localhost/bb", "test", "-e", "/etc/resolv.conf"); r.Code != 1 {
		t.Errorf("--network none: /etc/resolv.conf is there: %s", r)
	}
	for _, f := range [][]string{{"--dns", "1.1.1.1"}, {"--dns-search", "example.com"}, {"--dns-option", "ndots:1"}} {
		r := e.Fails(125, append(append([]string{"create", "--network", "none"}, f...), "localhost/bb", "true")...)
		if r.Stderr != "Error: conflicting options: dns and the network mode: none: invalid argument\n" {
			t.Errorf("%v with --network none: %s", f, r)
		}
	}
	r := e.Fails(125, "pod", "create", "--name", "p", "--network", "none", "--dns", "1.1.1.1")
	if r.Stderr != "Error: conflicting options: dns and the network mode: none: invalid argument\n" {
		t.Errorf("pod create --dns with --network none: %s", r)
	}
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}"); got != "" {
		t.Errorf("containers left: %q", got)
	}
	e.Pea("pod", "create", "--name", "p", "--network", "none")
	if r := e.Try("run", "--rm", "--pod", "p", "localhost/bb", "sh", "-c", "test -e /etc/resolv.conf || grep -c . /etc/hosts"); r.Code != 0 || r.Stdout == "" {
		t.Errorf("member of a pod without a network: %s", r)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "p")
}

// TestPortsDroppedOutsideBridge: -p with --network host, none or container: is dropped with
// podman's warning, not refused (pea refused host and none, and kept container:'s bindings
// that nothing published); a pod without a network of its own still refuses -p, as podman's.
func TestPortsDroppedOutsideBridge(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "owner", "--network", "none", "localhost/bb", "true")
	for i, mode := range []string{"host", "none", "container:owner"} {
		name := fmt.Sprintf("c%d", i)
		r := e.run(nil, "create", "--name", name, "--network", mode, "-p", "127.0.0.1:18080:80", "localhost/bb", "true")
		if r.Code != 0 || !strings.Contains(r.Stderr, "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use") {
			t.Errorf("-p with --network %s: %s", mode, r)
			continue
		}
		if got := e.Pea("inspect", "--format", "{{len .HostConfig.PortBindings}}", name); got != "0" {
			t.Errorf("-p with --network %s kept %s bindings", mode, got)
		}
	}
	r := e.Fails(125, "pod", "create", "--name", "p", "--network", "host", "-p", "18080:80")
	if !strings.Contains(r.Stderr, "PortMappings can only be used with Bridge or slirp4netns networking") {
		t.Errorf("pod create --network host -p: %s", r)
	}
}

// TestMountDevpts: --mount type=devpts mounts a devpts instance of the container's own, with
// its uid, gid, mode and max; pea refused the type. The devpts keys are refused on other types.
func TestMountDevpts(t *testing.T) {
	e := newEnv(t).withBusybox()
	out := e.Pea("run", "--rm", "--network", "none", "--mount", "type=devpts,dst=/dev/pts2,uid=1000,gid=1000,mode=0600,max=10",
		"localhost/bb", "grep", " /dev/pts2 ", "/proc/mounts")
	for _, want := range []string{"devpts /dev/pts2 devpts ", "nosuid", "noexec", "uid=1000", "gid=1000", "mode=600", "ptmxmode=666", "max=10"} {
		if !strings.Contains(out, want) {
			t.Errorf("devpts mount: want %q in %q", want, out)
		}
	}
	e.refused("uid wants a number", "create", "--mount", "type=devpts,dst=/p,uid=abc", "localhost/bb")
	e.refused("are for type=devpts", "create", "--mount", "type=tmpfs,dst=/t,uid=5", "localhost/bb")
}

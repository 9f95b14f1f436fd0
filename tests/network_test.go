package tests

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeHostPort returns a TCP port nothing listens on at the moment.
func freeHostPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}

const httpdCmd = "mkdir -p /www && echo %s > /www/index.html && exec httpd -f -p %d -h /www"

func TestPodPublishedPortAnswersOnLoopback(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	e.Pea("pod", "create", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		"--add-host", "db.example:192.0.2.7", "--dns", "192.0.2.53", "--dns-search", "example.org")
	e.Pea("run", "-d", "--pod", "web", "--name", "h", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "pea-page", 80))
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "pea-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	hosts := e.Pea("exec", "h", "cat", "/etc/hosts")
	if !strings.Contains(hosts, "192.0.2.7\tdb.example") {
		t.Fatalf("--add-host: %q", hosts)
	}
	// The pod's address is attached while the infra container is created, and /etc/hosts,
	// bind-mounted by then, must still name it (regression: written before the address was known).
	ip := e.Pea("inspect", "--format", "{{.NetworkSettings.IPAddress}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "web"))
	if ip == "" || !strings.Contains(hosts, ip+"\tweb") {
		t.Fatalf("/etc/hosts does not name the pod's address %q: %q", ip, hosts)
	}
	if out := e.Pea("exec", "h", "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 192.0.2.53") || !strings.Contains(out, "search example.org") {
		t.Fatalf("--dns: %q", out)
	}
	if out := e.Pea("port", "h"); out != fmt.Sprintf("80/tcp -> 127.0.0.1:%d", port) {
		t.Fatalf("port: %q", out)
	}
	if out := e.Pea("pod", "inspect", "--format", "{{json .InfraConfig.PortBindings}}", "web"); !strings.Contains(out, fmt.Sprint(port)) {
		t.Fatalf("pod inspect port bindings: %q", out)
	}
	// A second pod on the same host port is refused, naming the first.
	r := e.Fails(125, "pod", "create", "--name", "web2", "-p", fmt.Sprintf("127.0.0.1:%d:80", port))
	if !strings.Contains(r.Stderr, "web") {
		t.Fatalf("port conflict should name the pod: %s", r)
	}
	e.Fails(1, "pod", "exists", "web2")
	// Beyond podman: publish one more port on the running pod, then drop the first.
	port2 := freeHostPort(t)
	started := e.Pea("inspect", "--format", "{{.State.StartedAt}}", "h")
	e.Pea("pod", "update", "--publish", fmt.Sprintf("127.0.0.1:%d:80", port2), "web")
	eventually(t, 5*time.Second, func() error {
		body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port2))
		if body != "pea-page" {
			return fmt.Errorf("new port: %q %v", body, err)
		}
		return nil
	})
	e.Pea("pod", "update", "--unpublish", fmt.Sprintf("%d:80", port), "web")
	if _, err := httpGet(url); err == nil {
		t.Fatal("unpublished port still answers")
	}
	if now := e.Pea("inspect", "--format", "{{.State.StartedAt}}", "h"); now != started {
		t.Fatal("pod update restarted the container")
	}
	// Teardown: no rules for either port survive pod rm -f.
	e.Pea("pod", "rm", "-f", "-t", "0", "web")
	rules, _ := exec.Command("iptables-save").Output()
	for _, p := range []int{port, port2} {
		if strings.Contains(string(rules), fmt.Sprintf("dport %d", p)) {
			t.Fatalf("iptables rule for port %d left", p)
		}
	}
}

// TestPublishOnPodStartedWithoutPorts: a pod attached without ports gets port rules when a port
// is published later; the port answers, and pod rm -f leaves no rule for it.
func TestPublishOnPodStartedWithoutPorts(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "late")
	e.Pea("run", "-d", "--pod", "late", "--name", "lh", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "late-page", 80))
	port := freeHostPort(t)
	e.Pea("pod", "update", "--publish", fmt.Sprintf("127.0.0.1:%d:80", port), "late")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "late-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	e.Pea("pod", "rm", "-f", "-t", "0", "late")
	rules, _ := exec.Command("iptables-save").Output()
	if strings.Contains(string(rules), fmt.Sprintf("dport %d", port)) {
		t.Fatalf("iptables rule for port %d left after pod rm -f", port)
	}
}

func TestTwoPodsReachEachOther(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.199.77.0/24", "peatestnet")
	e.Pea("pod", "create", "--name", "a", "--network", "peatestnet", "--ip", "10.199.77.10", "--mac-address", "02:42:ac:11:00:0a")
	e.Pea("pod", "create", "--name", "b", "--network", "peatestnet")
	e.Pea("run", "-d", "--pod", "a", "--name", "srv", "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "from-a", 8080))
	if out := e.Pea("exec", "srv", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(out, "10.199.77.10/24") {
		t.Fatalf("static IP: %q", out)
	}
	if out := e.Pea("exec", "srv", "cat", "/sys/class/net/eth0/address"); out != "02:42:ac:11:00:0a" {
		t.Fatalf("static MAC: %q", out)
	}
	eventually(t, 10*time.Second, func() error {
		r := e.Try("run", "--rm", "--pod", "b", "localhost/bb", "wget", "-qO-", "http://10.199.77.10:8080/")
		if strings.TrimSpace(r.Stdout) != "from-a" {
			return fmt.Errorf("pod b to pod a: %s", r)
		}
		return nil
	})
	// Removing a network in use is refused; an address outside the subnet too.
	r := e.Fails(2, "network", "rm", "peatestnet") // podman's code for an object in use
	if !strings.Contains(r.Stderr, "used") {
		t.Fatalf("network rm in use: %s", r)
	}
	e.Fails(125, "pod", "create", "--name", "zc", "--network", "peatestnet", "--ip", "10.1.2.3")
	e.Fails(1, "pod", "exists", "zc")
	e.Fails(125, "network", "create", "--subnet", "10.199.77.128/25", "overlapping")
	e.Fails(125, "run", "--rm", "-p", "notaport", "localhost/bb", "true")
}

func TestHostAndNoneNetworks(t *testing.T) {
	e := newEnv(t).withBusybox()
	out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "ls", "/sys/class/net")
	if out != "lo" {
		t.Fatalf("none: %q", out)
	}
	// The host's interfaces, as seen inside: compare with the default route's interface (other
	// interfaces come and go with whatever else runs on the host).
	route, _ := exec.Command("ip", "-o", "route", "show", "default").Output()
	f := strings.Fields(string(route))
	out = e.Pea("run", "--rm", "--network", "host", "localhost/bb", "ls", "/sys/class/net")
	for i := range f {
		if f[i] == "dev" && i+1 < len(f) && !strings.Contains(out, f[i+1]) {
			t.Fatalf("host network: %q lacks the host's %s", out, f[i+1])
		}
	}
	if out == "lo" {
		t.Fatal("host network shows only lo")
	}
}

func TestNetworkTeardownOnExitAndRm(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:80", freeHostPort(t)), "localhost/bb", "sh", "-c", "sleep 0.5")
	peer := hostPeer(t, e, id)
	eventually(t, 10*time.Second, func() error {
		if st := e.Pea("inspect", "--format", "{{.State.Status}} {{.NetworkSettings.SandboxKey}}", id); st != "exited" {
			return fmt.Errorf("state after exit: %q", st)
		}
		if linkExists(peer) {
			return fmt.Errorf("host veth %s still there after the container exited", peer)
		}
		return nil
	})
	e.Pea("run", "-d", "--name", "k", "localhost/bb", "sleep", "300")
	peer = hostPeer(t, e, "k")
	e.Pea("rm", "-f", "-t", "0", "k")
	// The kernel deletes the pair with the namespace, a moment after rm returns.
	waitLinkGone(t, peer, "after rm -f")
}

// TestDetachLeavesNothing: a container that exits is detached with its namespace's pin removed
// first (the kernel deletes the veth pair with the namespace): when `run --rm` returns, its
// address is given back and the CNI cache and tuning's record (a MAC was set) are gone; the
// host's veth follows a moment later.
func TestDetachLeavesNothing(t *testing.T) {
	e := newEnv(t).withBusybox()
	netDir := filepath.Join(e.RunRoot, "network")
	out := e.Pea("run", "--rm", "--mac-address", "02:42:ac:11:00:99", "localhost/bb", "sh", "-c", "cat /sys/class/net/eth0/iflink")
	peer := strings.TrimSpace(out)
	if peer == "" {
		t.Fatalf("no eth0 peer: %q", out)
	}
	for _, pattern := range []string{"ipam/*/[0-9]*", "cni-cache/results/*", "tuning/*", "netns/*"} {
		if left, _ := filepath.Glob(filepath.Join(netDir, pattern)); len(left) > 0 {
			t.Errorf("left after run --rm returned: %v", left)
		}
	}
	waitLinkGone(t, peer, "after run --rm returned")
}

// TestJoinedNamespaceDetachedInPlace: while another container joins a container's network
// namespace, the namespace outlives the container, so its interface is deleted by the DEL
// (the joiner loses it) rather than left, with an address given back, to a namespace that lives on.
func TestJoinedNamespaceDetachedInPlace(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "a", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--name", "b", "--network", "container:a", "localhost/bb", "sleep", "300")
	if out := e.Pea("exec", "b", "cat", "/sys/class/net/eth0/address"); out == "" {
		t.Fatal("b has no eth0 before a stops")
	}
	e.Pea("stop", "-t", "0", "a")
	if r := e.Try("exec", "b", "ls", "/sys/class/net"); r.Code != 0 || strings.Contains(r.Stdout, "eth0") {
		t.Fatalf("b's interfaces after a stopped: %+v; want no eth0", r)
	}
	e.Pea("rm", "-f", "-t", "0", "b")
	e.Pea("rm", "-f", "-t", "0", "a")
}

// hostPeer returns the host interface index of a running container's eth0 peer.
func hostPeer(t *testing.T, e *Env, ctr string) string {
	t.Helper()
	out := e.Pea("exec", ctr, "cat", "/sys/class/net/eth0/iflink")
	if out == "" {
		t.Fatal("no eth0 peer")
	}
	return out
}

// waitLinkGone waits for the host's end of a veth pair (its interface index) to go: the kernel
// deletes the pair with the container's namespace, a moment after the command returns.
func waitLinkGone(t *testing.T, index, when string) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		if linkExists(index) {
			return fmt.Errorf("host veth %s still there %s", index, when)
		}
		return nil
	})
}

func linkExists(index string) bool {
	out, _ := exec.Command("ip", "-o", "link").Output()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, index+": ") {
			return true
		}
	}
	return false
}

func TestUDPPortAndConnect(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	bin := filepath.Join(e.Dir, "udpecho")
	build := exec.Command("go", "build", "-o", bin, "./udpecho")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build udpecho: %v %s", err, out)
	}
	e.Pea("run", "-d", "--name", "udp", "-p", fmt.Sprintf("127.0.0.1:%d:5353/udp", port), "-v", bin+":/udpecho:ro",
		"localhost/bb", "/udpecho")
	eventually(t, 10*time.Second, func() error {
		conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
		conn.Write([]byte("ping\n"))
		buf := make([]byte, 16)
		n, err := conn.Read(buf)
		if err != nil || strings.TrimSpace(string(buf[:n])) != "pong" {
			return fmt.Errorf("udp reply %q %v", buf[:n], err)
		}
		return nil
	})
	// A second network, connected and disconnected while the container runs.
	e.Pea("network", "create", "--subnet", "10.199.88.0/24", "--ip-range", "10.199.88.128/25", "--label", "t=1", "peaconn")
	if out := e.Pea("network", "ls", "--filter", "label=t=1", "--format", "{{.Name}}"); out != "peaconn" {
		t.Fatalf("network ls --filter: %q", out)
	}
	e.Pea("network", "connect", "peaconn", "udp")
	out := e.Pea("exec", "udp", "ip", "-o", "-4", "addr", "show", "eth1")
	if !strings.Contains(out, "10.199.88.1") || !strings.Contains(out, "/24") {
		t.Fatalf("connect: eth1 %q", out)
	}
	if ip := strings.Fields(out)[3]; !strings.HasPrefix(ip, "10.199.88.") {
		t.Fatalf("address %s", ip)
	}
	e.Fails(125, "network", "connect", "peaconn", "udp")
	e.Pea("network", "disconnect", "peaconn", "udp")
	// An --ip-range bounds the addresses pea picks, not one asked for: anywhere in the subnet,
	// as podman's netavark gives it.
	e.Pea("network", "connect", "--ip", "10.199.88.9", "peaconn", "udp")
	if out := e.Pea("exec", "udp", "ip", "-o", "-4", "addr", "show", "eth1"); !strings.Contains(out, "10.199.88.9/24") {
		t.Fatalf("connect --ip outside the range: eth1 %q", out)
	}
	e.Pea("network", "disconnect", "peaconn", "udp")
	if out := e.Pea("run", "--rm", "--network", "peaconn", "--ip", "10.199.88.10", "localhost/bb", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(out, "10.199.88.10/24") {
		t.Fatalf("run --ip outside the range: eth0 %q", out)
	}
	e.Fails(126, "run", "--rm", "--network", "peaconn", "--ip", "10.199.88.1", "localhost/bb", "true") // the gateway
	if r := e.Try("exec", "udp", "ip", "link", "show", "eth1"); r.Code == 0 {
		t.Fatal("eth1 still there after disconnect")
	}
	if out := e.Pea("network", "prune", "-f"); out != "peaconn" {
		t.Fatalf("prune: %q", out)
	}
	e.Pea("network", "create", "--internal", "peainternal")
	e.Pea("run", "-d", "--name", "in", "--network", "peainternal", "localhost/bb", "sleep", "300")
	if out := e.Pea("exec", "in", "ip", "route"); strings.Contains(out, "default") {
		t.Fatalf("internal network has a default route: %q", out)
	}
	e.Fails(1, "network", "exists", "nosuchnet")
}

func TestNetworkReleasedAfterPeaCrash(t *testing.T) {
	// pea killed while a container runs: the container's own exit later releases its network
	// through conmon's exit command, with no pea process around.
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	id := e.Pea("run", "-d", "-p", fmt.Sprintf("127.0.0.1:%d:80", port), "localhost/bb", "sleep", "1")
	netns := e.Pea("inspect", "--format", "{{.NetworkSettings.SandboxKey}}", id)
	eventually(t, 10*time.Second, func() error {
		rules, _ := exec.Command("iptables-save").Output()
		if strings.Contains(string(rules), fmt.Sprintf("dport %d", port)) {
			return fmt.Errorf("port rule still present")
		}
		if mounted(netns) {
			return fmt.Errorf("netns %s still pinned", netns)
		}
		return nil
	})
}

func mounted(path string) bool {
	data, _ := exec.Command("cat", "/proc/self/mounts").Output()
	return strings.Contains(string(data), " "+path+" ")
}

func TestMacvlanNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	parent := fmt.Sprintf("peapar%d", os.Getpid()%10000)
	if out, err := exec.Command("ip", "link", "add", parent, "type", "veth", "peer", "name", parent+"p").CombinedOutput(); err != nil {
		t.Skipf("no veth: %s", out)
	}
	defer exec.Command("ip", "link", "del", parent).Run()
	e.Pea("network", "create", "-d", "macvlan", "-o", "parent="+parent, "--subnet", "10.199.124.0/24", "mv")
	if out := e.Pea("network", "inspect", "--format", "{{.Driver}} {{.NetworkInterface}}", "mv"); out != "macvlan "+parent {
		t.Fatalf("macvlan network: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "mv", "localhost/bb", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(out, "10.199.124.") {
		t.Fatalf("address on the macvlan network: %q", out)
	}
	e.Pea("network", "rm", "mv")
}

// TestPublishOnIPv6Network: on a network with an IPv6 subnet the port's rules go to ip6tables,
// DNAT to the container's IPv6 address, and leave with the pod.
func TestPublishOnIPv6Network(t *testing.T) {
	e := newEnv(t)
	e.Pea("network", "create", "--subnet", "fd99:77::/64", "peasix")
	port := freeHostPort(t)
	e.Pea("pod", "create", "--name", "six", "--network", "peasix", "-p", fmt.Sprintf("%d:80", port))
	e.Pea("pod", "start", "six")
	rules := func() string {
		out, err := exec.Command("ip6tables-save", "-t", "nat").Output()
		if err != nil {
			t.Fatalf("ip6tables-save: %v", err)
		}
		return string(out)
	}
	want := fmt.Sprintf("--dport %d -j DNAT --to-destination [fd99:77::", port)
	if r := rules(); !strings.Contains(r, want) {
		t.Fatalf("no IPv6 DNAT rule for port %d:\n%s", port, r)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "six")
	if r := rules(); strings.Contains(r, fmt.Sprintf("--dport %d ", port)) || strings.Contains(r, "[fd99:77::") {
		t.Fatalf("IPv6 rules left after pod rm -f:\n%s", r)
	}
	e.Pea("network", "rm", "peasix")
}

// Two containers may be made with the same host port while neither runs (Docker's and
// podman's rule); the second start while the first runs is refused, naming it, and leaves the
// second stopped; once the first stops, the second starts and answers on the port.
func TestHostPortCheckedAmongRunning(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	p := fmt.Sprintf("127.0.0.1:%d:80", port)
	e.Pea("create", "--name", "a", "-p", p, "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "from-a", 80))
	e.Pea("create", "--name", "b", "-p", p, "localhost/bb", "sh", "-c", fmt.Sprintf(httpdCmd, "from-b", 80))
	e.Pea("start", "a")
	if r := e.Fails(125, "start", "b"); !strings.Contains(r.Stderr, "already published by container a, which is running") {
		t.Fatalf("start of a second container on a running one's port: %s", r)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "b"); st != "created" {
		t.Fatalf("the refused container: %s", st)
	}
	// While a runs, a new container on its port is refused at once.
	e.Fails(125, "run", "-d", "--name", "late", "-p", p, "localhost/bb", "true")
	e.Fails(1, "container", "exists", "late")
	e.Pea("stop", "-t", "0", "a")
	e.Pea("start", "b")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "from-b" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
}

// network connect --ip/--mac-address: the address on that network for a running container at
// once, and at every start (a stopped one's first); refused outside the network's subnet;
// forgotten at disconnect. The docker client's network connect --ip through the API too.
func TestNetworkConnectStaticAddress(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.125.3.0/24", "extra")
	e.Pea("run", "-d", "--name", "r", "localhost/bb", "sleep", "1000")
	e.Pea("create", "--name", "s", "localhost/bb", "sleep", "1000")
	addrOn := func(ctr, iface string) string {
		return e.Pea("exec", ctr, "sh", "-c", "ip -4 -o addr show "+iface+" | grep -o '10[.0-9]*/'; cat /sys/class/net/"+iface+"/address")
	}
	e.Fails(125, "network", "connect", "--ip", "10.99.0.5", "extra", "r")
	e.Fails(125, "network", "connect", "--mac-address", "nope", "extra", "r")
	e.Pea("network", "connect", "--ip", "10.125.3.50", "--mac-address", "02:42:0a:7d:03:32", "extra", "r")
	if got := addrOn("r", "eth1"); got != "10.125.3.50/\n02:42:0a:7d:03:32" {
		t.Fatalf("a running container's new interface: %q", got)
	}
	e.Pea("network", "connect", "--ip", "10.125.3.51", "extra", "s")
	e.Pea("start", "s")
	if got := addrOn("s", "eth1"); !strings.HasPrefix(got, "10.125.3.51/\n") {
		t.Fatalf("a stopped container's address at its start: %q", got)
	}
	e.Pea("restart", "-t", "0", "r")
	if got := addrOn("r", "eth1"); got != "10.125.3.50/\n02:42:0a:7d:03:32" {
		t.Fatalf("after a restart: %q", got)
	}
	e.Pea("network", "disconnect", "extra", "r")
	if got := e.Pea("inspect", "--format", "{{len .NetworkSettings.Networks}}", "r"); got != "1" {
		t.Fatalf("networks after disconnect: %s", got)
	}
}

// A network given by a prefix of its ID is recorded by its name, as podman records it: a
// container run or connected that way once kept the prefix, so network rm did not see it as a
// user (and removed the network under it), and disconnect by name failed. "podman", podman's
// default network, names pea's.
func TestNetworkRecordedByName(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.125.4.0/24", "byid")
	prefix := e.Pea("network", "inspect", "--format", "{{.ID}}", "byid")[:10]
	networks := func(ctr string) string {
		return e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", ctr)
	}
	e.Pea("run", "-d", "--name", "r", "--network", prefix, "localhost/bb", "sleep", "1000")
	if got := networks("r"); got != "byid" {
		t.Fatalf("run --network ID-PREFIX: %q", got)
	}
	e.Fails(2, "network", "rm", "byid")
	e.Pea("run", "-d", "--name", "c", "localhost/bb", "sleep", "1000")
	e.Pea("network", "connect", prefix, "c")
	if got := networks("c"); got != "byid pea" {
		t.Fatalf("network connect ID-PREFIX: %q", got)
	}
	e.Pea("network", "disconnect", "byid", "c")
	if got := networks("c"); got != "pea" {
		t.Fatalf("after disconnect: %q", got)
	}

	e.Pea("run", "-d", "--name", "p", "--network", "podman", "localhost/bb", "sleep", "1000")
	if got := networks("p"); got != "pea" {
		t.Fatalf("run --network podman: %q", got)
	}
	if got := e.Pea("ps", "--format", "{{.Names}}", "--filter", "network=podman", "--sort", "names"); got != "c\np" {
		t.Fatalf("ps --filter network=podman: %q", got)
	}
	if got := e.Pea("network", "inspect", "--format", "{{.Name}}", "podman"); got != "pea" {
		t.Fatalf("network inspect podman: %q", got)
	}
	if r := e.Fails(125, "network", "create", "podman"); strings.TrimSpace(r.Stderr) != "Error: network name podman already used: network already exists" {
		t.Fatalf("network create podman: %q", r.Stderr)
	}
	e.Fails(125, "network", "rm", "podman")
}

// A network removal killed after its conflist went left its NAT chain behind with nothing to
// name it (found by killing pea in the middle of operations). The chains now go before the
// conflist, and `network rm` of a name that is gone sweeps what this store left under it — not
// another store's network of the same name.
func TestNetworkRemoveSweepsOrphanChains(t *testing.T) {
	a, b := newEnv(t), newEnv(t)
	a.Pea("network", "create", "orphan-net")
	b.Pea("network", "create", "orphan-net")
	comment := `--comment "pea network orphan-net"`
	count := func() int {
		rules, _ := exec.Command("iptables-save").Output()
		return strings.Count(string(rules), comment)
	}
	if n := count(); n != 4 { // a NAT and a forward jump for each store's network
		t.Fatalf("%d rules commented for the two networks", n)
	}
	confs, _ := filepath.Glob(filepath.Join(a.Root, "networks", "orphan-net*"))
	if len(confs) == 0 {
		t.Fatal("no conflist")
	}
	for _, c := range confs {
		os.Remove(c) // what a removal killed between the conflist and the chains left
	}
	a.Pea("network", "rm", "-f", "orphan-net")
	if n := count(); n != 2 {
		t.Fatalf("after the sweep, %d rules commented (want the other store's 2)", n)
	}
	b.Pea("network", "rm", "orphan-net")
	if n := count(); n != 0 {
		t.Fatalf("%d rules left", n)
	}
}

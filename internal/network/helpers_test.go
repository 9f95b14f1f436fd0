package network

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	for _, tool := range []string{"iptables-save", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		t.Skip("needs the CNI plugins in /usr/lib/cni")
	}
}

// newTestManager makes a manager in a temporary directory; every network still in it at the
// end of the test is removed, with its bridge and its NAT and forwarding rules.
func newTestManager(t *testing.T) *Manager {
	t.Helper()
	dir := t.TempDir()
	m := NewManager(dir+"/networks", dir+"/run", nil)
	t.Cleanup(func() {
		list, _ := m.List()
		for _, n := range list {
			m.Remove(n.Name)
		}
	})
	return m
}

// unique returns a short name unique to this test process, usable as a link name.
func unique(tag string) string {
	return fmt.Sprintf("pt%d%s", os.Getpid()%100000, tag)
}

// testSubnet returns 10.199.X.0/24 with X derived from the pid and k, so that two test
// processes on one host rarely meet.
func testSubnet(k int) string {
	return fmt.Sprintf("10.199.%d.0/24", (os.Getpid()%40)*6+k)
}

// createTestNet creates a bridge network whose bridge is removed at the end of the test.
func createTestNet(t *testing.T, m *Manager, o CreateOptions) *Network {
	t.Helper()
	n, err := m.Create(o)
	if err != nil {
		t.Fatalf("Create(%+v): %v", o, err)
	}
	t.Cleanup(func() {
		if err := m.Remove(n.Name); err != nil {
			t.Errorf("Remove(%s): %v", n.Name, err)
		}
		if n.Driver == "bridge" && linkExists(n.NetworkInterface) {
			t.Errorf("bridge %s still exists after Remove", n.NetworkInterface)
			exec.Command("ip", "link", "del", n.NetworkInterface).Run()
		}
	})
	return n
}

func newTestNS(t *testing.T, m *Manager, name string) string {
	t.Helper()
	path, err := m.NewNetNS(name)
	if err != nil {
		t.Fatalf("NewNetNS(%s): %v", name, err)
	}
	t.Cleanup(func() {
		if err := m.RemoveNetNS(path); err != nil {
			t.Errorf("RemoveNetNS: %v", err)
		}
	})
	return path
}

// inNS runs a command inside a pinned network namespace.
func inNS(t *testing.T, nsPath string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + nsPath}, args...)...).CombinedOutput()
	return string(out), err
}

// listenIn opens a TCP listener inside a namespace. The socket stays in that namespace after
// the thread that made it is gone.
func listenIn(t *testing.T, nsPath, addr string) net.Listener {
	t.Helper()
	type result struct {
		l   net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, err}
			return
		}
		l, err := net.Listen("tcp", addr)
		ch <- result{l, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen in %s: %v", nsPath, r.err)
	}
	t.Cleanup(func() { r.l.Close() })
	return r.l
}

// iptablesRules returns iptables-save and ip6tables-save output without comments and counters.
func iptablesRules(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, cmd := range []string{"iptables-save", "ip6tables-save"} {
		data, err := exec.Command(cmd).Output()
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.Index(line, " ["); strings.HasPrefix(line, ":") && i > 0 {
				line = line[:i]
			}
			out = append(out, cmd+" "+line)
		}
	}
	return out
}

func mounted(t *testing.T, path string) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dnsResponder answers every A question sent to addr:53 (a loopback address) with answer and
// every other question with no record, until the test ends: an upstream server of the test's
// own for aardvark-dns to forward to.
func dnsResponder(t *testing.T, addr string, answer net.IP) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr+":53")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := buf[:n]
			if n < 12 {
				continue
			}
			i := 12 // past the header: the question's name, then its type and class
			for i < n && q[i] != 0 {
				i += int(q[i]) + 1
			}
			if i+5 > n {
				continue
			}
			question := q[12 : i+5]
			isA := q[i+1] == 0 && q[i+2] == 1
			reply := append([]byte{q[0], q[1], 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0}, question...)
			if isA {
				reply[7] = 1
				reply = append(reply, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
				reply = append(reply, answer.To4()...)
			}
			pc.WriteTo(reply, from)
		}
	}()
}

// TestNetworkUpdateDNS: a network's upstream DNS servers (network create --dns, podman 5's
// network update --dns-add/--dns-drop) are in network inspect's network_dns_servers and on
// the first line of its aardvark-dns file, and a running container's questions for names
// aardvark does not know go to them, to the new ones after an update.
func TestNetworkUpdateDNS(t *testing.T) {
	dnsResponder(t, "127.0.0.81", net.IPv4(10, 1, 2, 81))
	dnsResponder(t, "127.0.0.82", net.IPv4(10, 1, 2, 82))
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--dns", "127.0.0.81", "updnet")
	if got := e.Pea("network", "inspect", "-f", "{{.NetworkDNSServers}}", "updnet"); got != "[127.0.0.81]" {
		t.Fatalf("network_dns_servers after create: %q", got)
	}
	e.Pea("run", "-d", "--name", "asker", "--network", "updnet", "localhost/bb", "sleep", "300")
	e.resolvesTo("asker", "probe.upstream.test", "", "10.1.2.81")
	file := filepath.Join(e.dnsDir(), "updnet")
	data, _ := os.ReadFile(file)
	if first, _, _ := strings.Cut(string(data), "\n"); first != e.gatewayOf("updnet")+" 127.0.0.81" {
		t.Fatalf("aardvark file's first line: %q", first)
	}

	if out := e.Pea("network", "update", "--dns-add", "127.0.0.82", "--dns-drop", "127.0.0.81", "updnet"); out != "updnet" {
		t.Fatalf("network update printed %q", out)
	}
	if got := e.Pea("network", "inspect", "-f", "{{.NetworkDNSServers}}", "updnet"); got != "[127.0.0.82]" {
		t.Fatalf("network_dns_servers after update: %q", got)
	}
	if !strings.Contains(e.Pea("network", "inspect", "updnet"), `"network_dns_servers": [`) {
		t.Fatal("network inspect has no network_dns_servers")
	}
	data, _ = os.ReadFile(file)
	if first, _, _ := strings.Cut(string(data), "\n"); first != e.gatewayOf("updnet")+" 127.0.0.82" {
		t.Fatalf("aardvark file's first line after update: %q", first)
	}
	e.resolvesTo("asker", "probe2.upstream.test", "", "10.1.2.82")

	// Adding one twice keeps one; dropping all leaves none (no list in inspect).
	e.Pea("network", "update", "--dns-add", "127.0.0.81,127.0.0.82", "updnet")
	if got := e.Pea("network", "inspect", "-f", "{{.NetworkDNSServers}}", "updnet"); got != "[127.0.0.82 127.0.0.81]" {
		t.Fatalf("network_dns_servers after adding one again: %q", got)
	}
	e.Pea("network", "update", "--dns-drop", "127.0.0.81", "--dns-drop", "127.0.0.82", "updnet")
	if strings.Contains(e.Pea("network", "inspect", "updnet"), "network_dns_servers") {
		t.Fatal("network_dns_servers left after dropping all")
	}
	data, _ = os.ReadFile(file)
	if first, _, _ := strings.Cut(string(data), "\n"); first != e.gatewayOf("updnet") {
		t.Fatalf("aardvark file's first line with no servers: %q", first)
	}
}

// TestNetworkUpdateRefusals: podman's errors, exit 125, nothing changed.
func TestNetworkUpdateRefusals(t *testing.T) {
	e := newEnv(t)
	e.Pea("network", "create", "--disable-dns", "nodnsnet")
	e.Pea("network", "create", "dnsnet2")
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"network", "update", "--dns-add", "127.0.0.9", "nodnsnet"}, "cannot set NetworkDNSServers if DNS is not enabled for the network"},
		{[]string{"network", "create", "--disable-dns", "--dns", "127.0.0.9", "nodnsnet2"}, "cannot set NetworkDNSServers if DNS is not enabled for the network"},
		{[]string{"network", "update", "--dns-add", "notanip", "dnsnet2"}, "unable to parse ip notanip specified in AddDNSServer"},
		{[]string{"network", "update", "--dns-drop", "x.y", "dnsnet2"}, "unable to parse ip x.y specified in RemoveDNSServer"},
		{[]string{"network", "update", "--dns-add", "127.0.0.9", "nosuchnet"}, "unable to find network with name or ID nosuchnet"},
		{[]string{"network", "update"}, "accepts 1 arg(s), received 0"},
	} {
		if r := e.Fails(125, c.args...); !strings.Contains(r.Stderr, c.msg) {
			t.Errorf("%v: %v", c.args, r)
		}
	}
	e.Fails(1, "network", "exists", "nodnsnet2")
	if strings.Contains(e.Pea("network", "inspect", "dnsnet2", "nodnsnet"), "network_dns_servers") {
		t.Error("a refused update changed a network")
	}
}

// TestNetworkUpdateAPI: the libpod API's POST /libpod/networks/{name}/update (204) and
// network_dns_servers in /libpod/networks/create.
func TestNetworkUpdateAPI(t *testing.T) {
	a := newAPIEnv(t)
	var n map[string]any
	a.RequestJSON("POST", "/v5.0.0/libpod/networks/create", map[string]any{"name": "apinet", "network_dns_servers": []string{"127.0.0.83"}}, 200, &n)
	if fmt.Sprint(n["network_dns_servers"]) != "[127.0.0.83]" {
		t.Fatalf("created: %v", n)
	}
	if code, body := a.Request("POST", "/v5.0.0/libpod/networks/apinet/update", map[string]any{"adddnsservers": []string{"127.0.0.84"}, "removednsservers": []string{"127.0.0.83"}}); code != 204 {
		t.Fatalf("update: %d %s", code, body)
	}
	if got := a.Pea("network", "inspect", "-f", "{{.NetworkDNSServers}}", "apinet"); got != "[127.0.0.84]" {
		t.Fatalf("network_dns_servers after the API's update: %q", got)
	}
	if code, body := a.Request("POST", "/v5.0.0/libpod/networks/apinet/update", map[string]any{"adddnsservers": []string{"bad"}}); code != 400 && code != 500 || !strings.Contains(string(body), "unable to parse ip bad") {
		t.Fatalf("update with a bad address: %d %s", code, body)
	}
}

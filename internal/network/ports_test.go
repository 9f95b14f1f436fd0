package network

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func TestParsePublish(t *testing.T) {
	const random = 0 // stands for "any free host port"
	tests := []struct {
		name, spec string
		want       []PortMapping
		wantErr    string
	}{
		{"container port only", "80", []PortMapping{{"", random, 80, "tcp"}}, ""},
		{"host and container", "8080:80", []PortMapping{{"", 8080, 80, "tcp"}}, ""},
		{"udp", "8080:80/udp", []PortMapping{{"", 8080, 80, "udp"}}, ""},
		{"host ip", "127.0.0.1:8080:80", []PortMapping{{"127.0.0.1", 8080, 80, "tcp"}}, ""},
		{"host ip random port", "127.0.0.1::80", []PortMapping{{"127.0.0.1", random, 80, "tcp"}}, ""},
		{"any address is no address", "0.0.0.0:8080:80", []PortMapping{{"", 8080, 80, "tcp"}}, ""},
		{"ipv6 host ip", "[::1]:8080:80", []PortMapping{{"::1", 8080, 80, "tcp"}}, ""},
		{"ranges", "8080-8082:80-82/udp", []PortMapping{{"", 8080, 80, "udp"}, {"", 8081, 81, "udp"}, {"", 8082, 82, "udp"}}, ""},
		{"container range random", "80-81", []PortMapping{{"", random, 80, "tcp"}, {"", random, 81, "tcp"}}, ""},
		{"zero host port is random", "0:80", []PortMapping{{"", random, 80, "tcp"}}, ""},
		{"empty", "", nil, "container port"},
		{"not a number", "http", nil, "container port"},
		{"zero container port", "8080:0", nil, "container port"},
		{"port too big", "70000", nil, "container port"},
		{"bad protocol", "8080:80/icmp", nil, "unknown protocol"},
		{"range lengths differ", "8080-8081:80-83", nil, "has 2 ports"},
		{"range backwards", "82-80", nil, "port range"},
		{"bad ipv4", "1.2.3:80:80", nil, "not an IPv4"},
		{"unbracketed ipv6", "::1:8080:80", nil, "too many"},
		{"bracket without colon", "[::1]8080:80", nil, "IPv6"},
		{"too many parts", "1.2.3.4:1:2:3", nil, "too many"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePublish(tc.spec)
			if tc.wantErr != "" {
				if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePublish(%q) error = %v, want ErrInvalid containing %q", tc.spec, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePublish(%q): %v", tc.spec, err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("ParsePublish(%q) = %v, want %v", tc.spec, got, tc.want)
			}
			for i := range got {
				w := tc.want[i]
				if w.HostPort == random {
					if got[i].HostPort == 0 {
						t.Errorf("mapping %d: no host port was picked", i)
					}
					w.HostPort = got[i].HostPort
				}
				if got[i] != w {
					t.Errorf("mapping %d = %v, want %v", i, got[i], w)
				}
			}
		})
	}
}

func TestParsePublishHostRangePicksFreePort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if busy > 65000 {
		t.Skip("listener port too high for a range")
	}
	spec := "127.0.0.1:" + strconv.Itoa(busy) + "-" + strconv.Itoa(busy+20) + ":80"
	got, err := ParsePublish(spec)
	if err != nil {
		t.Fatalf("ParsePublish(%q): %v", spec, err)
	}
	if len(got) != 1 || int(got[0].HostPort) <= busy || int(got[0].HostPort) > busy+20 {
		t.Fatalf("ParsePublish(%q) = %v, want one port in (%d, %d]", spec, got, busy, busy+20)
	}
}

func TestCheckPortsHostSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	m := newTestManager(t)

	err = m.CheckPorts([]PortMapping{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80, Protocol: "tcp"}})
	if !errors.Is(err, errdefs.ErrInUse) || !strings.Contains(err.Error(), strconv.Itoa(int(port))) {
		t.Fatalf("CheckPorts on a bound port = %v, want ErrInUse naming %d", err, port)
	}
	err = m.CheckPorts([]PortMapping{{HostPort: port, ContainerPort: 80, Protocol: "tcp"}})
	if !errors.Is(err, errdefs.ErrInUse) {
		t.Fatalf("CheckPorts on all addresses, port bound on 127.0.0.1 = %v, want ErrInUse", err)
	}
	if err := m.CheckPorts([]PortMapping{{HostIP: "127.0.0.1", HostPort: port, ContainerPort: 80, Protocol: "udp"}}); err != nil {
		t.Fatalf("CheckPorts udp on a tcp-bound port: %v", err)
	}
	twice := []PortMapping{{HostPort: 1, ContainerPort: 80, Protocol: "sctp"}, {HostPort: 1, ContainerPort: 81, Protocol: "sctp"}}
	if err := m.CheckPorts(twice); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("CheckPorts with a port twice = %v, want ErrInvalid", err)
	}
	err = m.CheckPorts([]PortMapping{{HostIP: "203.0.113.7", HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}})
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("CheckPorts on a foreign host IP = %v, want ErrInvalid", err)
	}
}

package network

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func TestParsePastaOptions(t *testing.T) {
	for _, c := range []struct {
		name  string
		opts  []string
		ports []PortMapping
		args  string // pasta's arguments, space-joined
		mapGW bool
		dns   string
		addrs []string
	}{
		{name: "defaults", args: "--config-net -t none -u none -T none -U none --no-map-gw --dns-forward 169.254.1.1", dns: PastaDNSForward},
		{name: "map-gw is podman's, not pasta's", opts: []string{"--map-gw"},
			args: "--config-net -t none -u none -T none -U none --dns-forward 169.254.1.1", mapGW: true, dns: PastaDNSForward},
		{name: "the user's own forwarding and DNS",
			opts: []string{"-t", "auto", "-T", "5201", "--dns-forward", "10.0.2.3", "-a", "10.0.2.0", "-n", "24"},
			args: "-t auto -T 5201 --dns-forward 10.0.2.3 -a 10.0.2.0 -n 24 --config-net -u none -U none --no-map-gw",
			dns:  "10.0.2.3", addrs: []string{"10.0.2.0"}},
		{name: "long options with =", opts: []string{"--dns-forward=10.9.9.9", "--address=10.1.1.1"},
			args: "--dns-forward=10.9.9.9 --address=10.1.1.1 --config-net -t none -u none -T none -U none --no-map-gw",
			dns:  "10.9.9.9", addrs: []string{"10.1.1.1"}},
		{name: "published ports folded into ranges",
			ports: []PortMapping{
				{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}, {HostPort: 8081, ContainerPort: 81, Protocol: "tcp"},
				{HostIP: "127.0.0.1", HostPort: 9000, ContainerPort: 9000, Protocol: "tcp"},
				{HostPort: 5353, ContainerPort: 53, Protocol: "udp"}},
			args: "--config-net -t 8080-8081:80-81 -t 127.0.0.1/9000:9000 -u 5353:53 -T none -U none --no-map-gw --dns-forward 169.254.1.1",
			dns:  PastaDNSForward},
	} {
		t.Run(c.name, func(t *testing.T) {
			pc, err := ParsePastaOptions(c.opts, c.ports)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(pc.Args, " "); got != c.args {
				t.Errorf("args:\n got %s\nwant %s", got, c.args)
			}
			if pc.MapGW != c.mapGW || pc.DNSForward != c.dns || !slices.Equal(pc.Addresses, c.addrs) {
				t.Errorf("map-gw %v dns %q addrs %v", pc.MapGW, pc.DNSForward, pc.Addresses)
			}
		})
	}
	for _, bad := range [][]string{{"--netns", "/x"}, {"--pid=/x"}, {"-f"}, {"--userns", "/y"}} {
		if _, err := ParsePastaOptions(bad, nil); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%v: %v, want invalid", bad, err)
		}
	}
	if _, err := ParsePastaOptions(nil, []PortMapping{{HostPort: 1, ContainerPort: 1, Protocol: "sctp"}}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("sctp: %v, want invalid", err)
	}
}

func TestSlirpAddrs(t *testing.T) {
	if got := SlirpAddrs(nil); got != (SlirpNet{Guest: "10.0.2.100", Gateway: "10.0.2.2", DNS: "10.0.2.3"}) {
		t.Errorf("default: %+v", got)
	}
	if got := SlirpAddrs([]string{"mtu=1500", "cidr=10.0.3.0/24"}); got != (SlirpNet{Guest: "10.0.3.100", Gateway: "10.0.3.2", DNS: "10.0.3.3"}) {
		t.Errorf("cidr: %+v", got)
	}
}

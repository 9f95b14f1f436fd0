package network

import (
	"testing"
)

// The tuning plugin runs only when it has something to do: a MAC to set, or settings of its own.
func TestIdleTuningLeftOut(t *testing.T) {
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique("tun"), Subnets: []string{testSubnet(7)}, NetworkInterface: unique("bt")})
	types := func(withMAC bool) []string {
		list, err := m.runtimeList(n.Name, nil, withMAC, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list.Plugins {
			out = append(out, p.Network.Type)
		}
		return out
	}
	has := func(ts []string, want string) bool {
		for _, x := range ts {
			if x == want {
				return true
			}
		}
		return false
	}
	// portmap is never run: pea publishes ports itself (hostports.go).
	if ts := types(false); has(ts, "tuning") || !has(ts, "bridge") || has(ts, "portmap") {
		t.Fatalf("without a MAC: %v", ts)
	}
	if ts := types(true); !has(ts, "tuning") || has(ts, "portmap") {
		t.Fatalf("with a MAC: %v", ts)
	}
	if !tuningIdle(map[string]any{"type": "tuning", "capabilities": map[string]any{"mac": true}}) ||
		tuningIdle(map[string]any{"type": "tuning", "sysctl": map[string]any{"net.ipv4.conf.eth0.rp_filter": "1"}}) {
		t.Fatal("tuningIdle")
	}
}

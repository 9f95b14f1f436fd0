package network

import "testing"

// TestWholeSubnets: a static address lifts the --ip-range bounds of the range whose subnet holds
// it, and only those: another family's range keeps its bounds for the address host-local picks.
func TestWholeSubnets(t *testing.T) {
	ipam := func() map[string]any {
		return map[string]any{"ranges": []any{
			[]any{map[string]any{"subnet": "10.5.0.0/24", "rangeStart": "10.5.0.128", "rangeEnd": "10.5.0.254"}},
			[]any{map[string]any{"subnet": "fd05::/64", "rangeStart": "fd05::100", "rangeEnd": "fd05::1ff"}},
		}}
	}
	bounded := func(ipam map[string]any, set int) bool {
		r := ipam["ranges"].([]any)[set].([]any)[0].(map[string]any)
		_, s := r["rangeStart"]
		_, e := r["rangeEnd"]
		return s && e
	}
	for _, c := range []struct {
		ips    []string
		v4, v6 bool // bounds kept
	}{
		{[]string{"10.5.0.9/24"}, false, true},
		{[]string{"10.5.0.9"}, false, true},
		{[]string{"fd05::9/64"}, true, false},
		{[]string{"10.5.0.9/24", "fd05::9/64"}, false, false},
		{[]string{"10.6.0.9/24"}, true, true}, // in no subnet: nothing lifted
	} {
		i := ipam()
		wholeSubnets(i, c.ips)
		if bounded(i, 0) != c.v4 || bounded(i, 1) != c.v6 {
			t.Errorf("ips %v: IPv4 range bounded %v, IPv6 %v; want %v, %v", c.ips, bounded(i, 0), bounded(i, 1), c.v4, c.v6)
		}
	}
}

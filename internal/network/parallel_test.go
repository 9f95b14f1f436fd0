package network

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestParallelSetup attaches several namespaces at once, as concurrent `pea run`s do, and checks
// that each gets its own address and that all detach cleanly.
func TestParallelSetup(t *testing.T) {
	requireRoot(t)
	const count = 6
	ctx := context.Background()
	m := newTestManager(t)
	n := createTestNet(t, m, CreateOptions{Name: unique("par"), Subnets: []string{testSubnet(9)}, NetworkInterface: unique("b9")})
	before := iptablesRules(t)
	opts := make([]AttachOptions, count)
	for i := range opts {
		ports, err := ParsePublish("127.0.0.1::80")
		if err != nil {
			t.Fatal(err)
		}
		opts[i] = AttachOptions{ContainerID: fmt.Sprintf("%s-%d", unique("par"), i), NetNSPath: newTestNS(t, m, fmt.Sprint(i)),
			Networks: []string{n.Name}, Ports: ports}
	}
	ips := make([]string, count)
	errs := make([]error, count)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := m.Setup(ctx, opts[i])
			if err == nil {
				ips[i] = st[0].IP
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	t.Logf("%d parallel Setups: %v", count, time.Since(start))
	seen := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Errorf("Setup %d: %v", i, err)
		}
		if ips[i] != "" && seen[ips[i]] {
			t.Errorf("address %s handed out twice", ips[i])
		}
		seen[ips[i]] = true
	}
	start = time.Now()
	for i := range opts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = m.Teardown(ctx, opts[i])
		}()
	}
	wg.Wait()
	t.Logf("%d parallel Teardowns: %v", count, time.Since(start))
	for i, err := range errs {
		if err != nil {
			t.Errorf("Teardown %d: %v", i, err)
		}
	}
	if diff := added(before, iptablesRules(t)); len(diff) != 0 {
		t.Errorf("iptables rules left:\n%s", strings.Join(diff, "\n"))
	}
}

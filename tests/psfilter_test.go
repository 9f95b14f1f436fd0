package tests

import (
	"strings"
	"testing"
)

// TestPsFiltersMore: ps --filter network=, volume=, since=, before=, restart-policy=, until=
// and label!= select as podman's (regression: network, volume, since and before were accepted
// and matched every container); start --filter restart-policy=always starts what
// podman-restart.service starts, start --latest the newest.
func TestPsFiltersMore(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "fnet")
	e.Pea("create", "--name", "first", "--network", "none", "-l", "tier=db", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "mid", "--network", "fnet", "-v", "fvol:/data", "--restart", "always", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "last", "--restart", "on-failure:3", "localhost/bb", "sleep", "300")
	ps := func(filters ...string) string {
		args := []string{"ps", "-a", "--format", "{{.Names}}", "--sort", "names"}
		for _, f := range filters {
			args = append(args, "--filter", f)
		}
		return strings.Join(strings.Fields(e.Pea(args...)), " ")
	}
	for _, c := range []struct{ filter, want string }{
		{"network=fnet", "mid"},
		{"network=pea", "last"},
		{"volume=fvol", "mid"},
		{"volume=/data", "mid"},
		{"since=first", "last mid"},
		{"before=last", "first mid"},
		{"restart-policy=always", "mid"},
		{"restart-policy=on-failure", "last"},
		{"restart-policy=no", "first"},
		{"until=1h", ""},
		{"label!=tier=db", "last mid"},
	} {
		if got := ps(c.filter); got != c.want {
			t.Errorf("ps --filter %s: %q, want %q", c.filter, got, c.want)
		}
	}
	e.Fails(125, "ps", "--filter", "since=nosuch")
	e.Fails(125, "ps", "--filter", "color=red")
	// podman-restart.service's start.
	if out := e.Pea("start", "--all", "--filter", "restart-policy=always"); !strings.HasPrefix(e.Pea("inspect", "-f", "{{.ID}}", "mid"), out) || out == "" {
		t.Fatalf("start --filter restart-policy=always printed %q", out)
	}
	if got := strings.Join(strings.Fields(e.Pea("ps", "--format", "{{.Names}}")), " "); got != "mid" {
		t.Fatalf("running after start --filter: %q", got)
	}
	e.Pea("start", "--latest")
	if got := strings.Join(strings.Fields(e.Pea("ps", "--format", "{{.Names}}", "--sort", "names")), " "); got != "last mid" {
		t.Fatalf("running after start --latest: %q", got)
	}
	e.Fails(125, "start", "--sig-proxy=false", "first")
}

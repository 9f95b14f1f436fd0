package tests

import (
	"fmt"
	"strings"
	"testing"
)

// network create --route and -o no_default_route (podman 5's): the containers get the static
// routes and, with the option, no default route; inspect shows them; what pea cannot set is
// refused and makes no network.
func TestNetworkRoutes(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--subnet", "10.233.1.0/24", "--route", "10.77.0.0/16,10.233.1.5",
		"--route", "192.0.2.128/25,10.233.1.6", "-o", "no_default_route=true", "rnet")
	routes := e.Pea("run", "--rm", "--network", "rnet", "localhost/bb", "ip", "route")
	for _, want := range []string{"10.77.0.0/16 via 10.233.1.5 dev eth0", "192.0.2.128/25 via 10.233.1.6 dev eth0"} {
		if !strings.Contains(routes, want) {
			t.Fatalf("routes %q lack %q", routes, want)
		}
	}
	if strings.Contains(routes, "default") {
		t.Fatalf("no_default_route: %q", routes)
	}
	if got := e.Pea("network", "inspect", "--format", "{{range .Routes}}{{.Destination}} {{.Gateway}};{{end}}", "rnet"); got != "10.77.0.0/16 10.233.1.5;192.0.2.128/25 10.233.1.6;" {
		t.Fatalf("inspect's routes: %q", got)
	}
	// Without the option the default route stays beside the static ones.
	e.Pea("network", "create", "--subnet", "10.233.2.0/24", "--route", "10.78.0.0/16,10.233.2.5", "rnet2")
	if routes := e.Pea("run", "--rm", "--network", "rnet2", "localhost/bb", "ip", "route"); !strings.Contains(routes, "default via 10.233.2.1") || !strings.Contains(routes, "10.78.0.0/16 via 10.233.2.5") {
		t.Fatalf("routes with the default one: %q", routes)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--route", "10.0.0.0/8,10.1.1.1,5"}, "set no route metric"},
		{[]string{"--route", "10.0.0.0/8,fd00::1"}, "not of one IP family"},
		{[]string{"--route", "10.0.0.0,10.1.1.1"}, "is not a CIDR"},
		{[]string{"--route", "10.0.0.0/8"}, "DESTINATION,GATEWAY expected"},
		{[]string{"-o", "no_default_route=maybe"}, "want true or false"},
	} {
		r := e.Fails(125, append(append([]string{"network", "create"}, c.args...), "refused")...)
		if !strings.Contains(r.Stderr, c.want) {
			t.Errorf("network create %v: want %q: %s", c.args, c.want, r)
		}
		if e.Try("network", "exists", "refused").Code != 1 {
			t.Fatalf("network create %v left a network", c.args)
		}
	}
}

// The libpod API's network create takes podman's routes ({destination, gateway, metric}).
func TestNetworkRoutesAPI(t *testing.T) {
	a := newAPIEnv(t)
	var n map[string]any
	a.RequestJSON("POST", "/v5.0.0/libpod/networks/create", map[string]any{"name": "apiroutes",
		"subnets": []map[string]string{{"subnet": "10.233.3.0/24"}},
		"routes":  []map[string]any{{"destination": "10.79.0.0/16", "gateway": "10.233.3.9"}}}, 200, &n)
	if fmt.Sprint(n["routes"]) != "[map[destination:10.79.0.0/16 gateway:10.233.3.9]]" {
		t.Fatalf("created: %v", n)
	}
	code, body := a.Request("POST", "/v5.0.0/libpod/networks/create", map[string]any{"name": "metric",
		"routes": []map[string]any{{"destination": "10.79.0.0/16", "gateway": "10.233.3.9", "metric": 7}}})
	if code != 400 && code != 500 || !strings.Contains(string(body), "set no route metric") {
		t.Fatalf("a route with a metric: %d %s", code, body)
	}
}

package tests

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// TestShortNameResolution: podman's rules for a short name that is not in the store. With no
// alias and no search registries, pull, run and create refuse it (pea used to try docker.io)
// and create leaves nothing; an [aliases] entry says where it lives, locally too; the search
// registries are tried when there is no alias; a bad alias table is one error line.
func TestShortNameResolution(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	conf := filepath.Join(t.TempDir(), "registries.conf")
	write := func(body string) {
		t.Helper()
		if err := os.WriteFile(conf, []byte(body+fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("")
	t.Setenv("CONTAINERS_REGISTRIES_CONF", conf)

	want := fmt.Sprintf("Error: short-name \"peanosuch:1\" did not resolve to an alias and no unqualified-search registries are defined in %q\n", conf)
	for _, args := range [][]string{{"pull", "peanosuch:1"}, {"run", "--rm", "peanosuch:1", "true"}, {"create", "--name", "c1", "peanosuch:1"}} {
		if r := e.Fails(125, args...); r.Stderr != want {
			t.Errorf("%v: want %q, got %s", args, want, r)
		}
	}
	if got := e.Pea("ps", "-aq"); got != "" {
		t.Errorf("a refused create left %q", got)
	}
	if got := e.Pea("search", "peanosuch"); got != "" {
		t.Errorf("search with no search registry: %q, want nothing (podman's)", got)
	}

	// An alias: the pull says so, and the short name finds the image locally afterwards.
	e.Pea("push", "--tls-verify=false", "localhost/bb:latest", reg+"/aliased/bb:latest")
	write("[aliases]\n\"peatestbb\" = \"" + reg + "/aliased/bb\"\n")
	r := e.run(nil, "pull", "peatestbb")
	if prefix := fmt.Sprintf("Resolved \"peatestbb\" as an alias (%s)\nTrying to pull %s/aliased/bb:latest...\n", conf, reg); r.Code != 0 || !strings.HasPrefix(r.Stderr, prefix) {
		t.Fatalf("pull of an alias: want stderr starting %q, got %s", prefix, r)
	}
	e.Pea("image", "exists", reg+"/aliased/bb:latest")
	e.Pea("create", "--name", "viaalias", "--network", "none", "peatestbb", "true")
	if got := e.Pea("inspect", "--format", "{{.ImageName}}", "viaalias"); got != reg+"/aliased/bb:latest" {
		t.Errorf("image name of a container made from an alias: %q", got)
	}
	e.Pea("rm", "viaalias")

	// No alias: the search registries, in order.
	e.Pea("rmi", reg+"/aliased/bb:latest") // only untags: localhost/bb keeps the image
	write(fmt.Sprintf("unqualified-search-registries = [%q]\n", reg))
	r = e.run(nil, "pull", "aliased/bb")
	if r.Code != 0 || !strings.Contains(r.Stderr, "Trying to pull "+reg+"/aliased/bb:latest...\n") || strings.Contains(r.Stderr, "Resolved") {
		t.Fatalf("pull through the search registries: %s", r)
	}
	e.Pea("image", "exists", reg+"/aliased/bb:latest")

	// podman's checks of an alias table.
	write("[aliases]\n\"peatestbb\" = \"peatestbb\"\n")
	want = fmt.Sprintf("Error: loading registries configuration %q: validating short-name aliases: invalid alias \"peatestbb\": must contain registry and repository: invalid argument\n", conf)
	if r := e.Fails(125, "pull", "peatestbb"); r.Stderr != want {
		t.Errorf("bad alias: want %q, got %s", want, r)
	}

	// The libpod API's pull resolves a short name as the command line does (podman's service
	// does), where it used to normalize it to docker.io as Docker's API does.
	write("[aliases]\n\"peatestbb\" = \"" + reg + "/aliased/bb\"\n")
	e.Pea("rmi", reg+"/aliased/bb:latest")
	a := newAPIEnvWith(t, e, []string{"CONTAINERS_REGISTRIES_CONF=" + conf})
	code, body := a.Request("POST", "/v4.0.0/libpod/images/pull?reference=peatestbb&tlsVerify=false", nil)
	if code != 200 || !strings.Contains(string(body), `"id":`) || strings.Contains(string(body), "error") {
		t.Fatalf("libpod pull of an alias: %d %s", code, body)
	}
	e.Pea("image", "exists", reg+"/aliased/bb:latest")
	code, body = a.Request("POST", "/v4.0.0/libpod/images/pull?reference=peanosuch", nil)
	if !strings.Contains(string(body), `short-name \"peanosuch\" did not resolve to an alias`) {
		t.Errorf("libpod pull of a short name with nowhere to pull it from: %d %s", code, body)
	}
}

package image

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"pea/internal/errdefs"
)

const testRegistriesConf = `
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.local:5000"
insecure = true
[[registry.mirror]]
location = "digests.local/hub"
pull-from-mirror = "digest-only"

[[registry]]
prefix = "example.com/team"
location = "internal.example.com/mirror/team"
insecure = true

[[registry]]
location = "evil.io"
blocked = true

[[registry]]
prefix = "*.corp.net"
insecure = true
`

func TestRegistriesConf(t *testing.T) {
	c, err := ParseRegistries("test.conf", []byte(testRegistriesConf))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"quay.io", "docker.io"}; !reflect.DeepEqual(c.Search, want) {
		t.Errorf("search = %v, want %v", c.Search, want)
	}
	cases := []struct {
		name     string
		repo     string
		digest   bool
		want     []Endpoint
		blocked  bool
		insecure bool
	}{
		{name: "mirrors first", repo: "docker.io/library/busybox", want: []Endpoint{
			{Repository: "mirror.local:5000/library/busybox", Insecure: true, Mirror: true},
			{Repository: "docker.io/library/busybox"},
		}},
		{name: "digest-only mirror", repo: "docker.io/library/busybox", digest: true, want: []Endpoint{
			{Repository: "mirror.local:5000/library/busybox", Insecure: true, Mirror: true},
			{Repository: "digests.local/hub/library/busybox", Mirror: true},
			{Repository: "docker.io/library/busybox"},
		}},
		{name: "location rewrite", repo: "example.com/team/app", insecure: true, want: []Endpoint{
			{Repository: "internal.example.com/mirror/team/app", Insecure: true},
		}},
		{name: "prefix on a component boundary", repo: "example.com/teamwork/app", want: []Endpoint{
			{Repository: "example.com/teamwork/app"},
		}},
		{name: "blocked", repo: "evil.io/x", blocked: true},
		{name: "wildcard", repo: "reg.corp.net/x", insecure: true, want: []Endpoint{
			{Repository: "reg.corp.net/x", Insecure: true},
		}},
		{name: "unconfigured", repo: "quay.io/x", want: []Endpoint{{Repository: "quay.io/x"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eps, err := c.Endpoints(tc.repo, tc.digest)
			if tc.blocked {
				if !errdefs.Is(err, errdefs.ErrInvalid) || !c.Blocked(tc.repo) {
					t.Fatalf("want a blocked error, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(eps, tc.want) {
				t.Errorf("endpoints = %+v, want %+v", eps, tc.want)
			}
			if c.Insecure(tc.repo) != tc.insecure {
				t.Errorf("insecure = %v, want %v", c.Insecure(tc.repo), tc.insecure)
			}
		})
	}
}

func TestRegistriesConfV1AndErrors(t *testing.T) {
	c, err := ParseRegistries("v1", []byte("[registries.search]\nregistries = ['r1.io']\n[registries.insecure]\nregistries = ['r2.io']\n[registries.block]\nregistries = ['r3.io']\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Search, []string{"r1.io"}) || !c.Insecure("r2.io/a") || !c.Blocked("r3.io/a") {
		t.Errorf("v1 config parsed as %+v", c)
	}
	if _, err := ParseRegistries("bad", []byte("unqualified-search-registries = [")); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Errorf("bad TOML: %v", err)
	}
	// A missing file is fine: search docker.io.
	c, err = LoadRegistries(filepath.Join(t.TempDir(), "none.conf"))
	if err != nil || !reflect.DeepEqual(c.searchList(), []string{"docker.io"}) {
		t.Errorf("missing file: %+v, %v", c, err)
	}
}

// withRegistriesConf points the store at a registries.conf for the test.
func withRegistriesConf(t *testing.T, content string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "registries.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONTAINERS_REGISTRIES_CONF", p)
}

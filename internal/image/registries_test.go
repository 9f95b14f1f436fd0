package image

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
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
	// A missing file is an empty one: no search registries, so a short name without an alias
	// has nowhere to be pulled from (podman's rule: no guess of docker.io).
	none := filepath.Join(t.TempDir(), "none.conf")
	c, err = loadRegistries(none, t.TempDir())
	if err != nil || len(c.Search) != 0 {
		t.Fatalf("missing file: %+v, %v", c, err)
	}
	r, _ := ParseReference("foo:1")
	_, _, err = c.pullCandidates(r)
	want := `short-name "foo:1" did not resolve to an alias and no unqualified-search registries are defined in "` + none + `"`
	if !errors.Is(err, ErrShortName) || err.Error() != want {
		t.Errorf("short name with no search registry: %v", err)
	}
}

// TestRegistriesAliasesAndDropIns: [aliases] of the main file and of the drop-ins (read in name
// order, a later one winning), their checks, and how a short name resolves through them.
func TestRegistriesAliasesAndDropIns(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "registries.conf")
	dropIns := filepath.Join(dir, "registries.conf.d")
	os.MkdirAll(dropIns, 0o755)
	os.WriteFile(main, []byte(`unqualified-search-registries = ["one.example"]
[[registry]]
location = "one.example"
insecure = true
[aliases]
"bb" = "main.example/x/bb"
"x/cc" = "main.example/y/cc"
`), 0o644)
	os.WriteFile(filepath.Join(dropIns, "10-a.conf"), []byte("[aliases]\n\"bb\" = \"early.example/bb\"\n\"dd\" = \"early.example/dd\"\n"), 0o644)
	os.WriteFile(filepath.Join(dropIns, "20-b.conf"), []byte(`unqualified-search-registries = ["two.example", "three.example"]
[[registry]]
location = "one.example"
blocked = true
[aliases]
"dd" = "late.example/lib/dd"
`), 0o644)
	os.WriteFile(filepath.Join(dropIns, "30-c.txt"), []byte("not = [toml"), 0o644) // not *.conf: not read
	c, err := loadRegistries(main, dropIns)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Search, []string{"two.example", "three.example"}) || !c.Blocked("one.example/a") || c.Insecure("one.example/a") {
		t.Errorf("drop-in over the main file: %+v", c)
	}
	// A drop-in without the key keeps the search list; one with an empty list clears it.
	only := t.TempDir()
	os.WriteFile(filepath.Join(only, "10-a.conf"), []byte("[aliases]\n\"bb\" = \"early.example/bb\"\n"), 0o644)
	if c, err := loadRegistries(main, only); err != nil || !reflect.DeepEqual(c.Search, []string{"one.example"}) {
		t.Errorf("a drop-in without unqualified-search-registries: %+v, %v", c, err)
	}
	os.WriteFile(filepath.Join(only, "20-b.conf"), []byte("unqualified-search-registries = []\n"), 0o644)
	if c, err := loadRegistries(main, only); err != nil || c.Search == nil || len(c.Search) != 0 {
		t.Errorf("a drop-in with an empty unqualified-search-registries: %+v, %v", c, err)
	}
	for _, tc := range []struct{ in, want, file string }{
		{"bb", "early.example/bb:latest", "10-a.conf"},
		{"bb:v1", "early.example/bb:v1", "10-a.conf"},
		{"x/cc@sha256:" + strings.Repeat("a", 64), "main.example/y/cc@sha256:" + strings.Repeat("a", 64), "registries.conf"},
		{"dd", "late.example/lib/dd:latest", "20-b.conf"},
		{"ee", "two.example/ee:latest three.example/ee:latest", ""},
		{"full.example/bb", "full.example/bb:latest", ""},
	} {
		r, _ := ParseReference(tc.in)
		cands, a, err := c.pullCandidates(r)
		var got []string
		for _, x := range cands {
			got = append(got, x.String())
		}
		file := ""
		if a != nil {
			file = filepath.Base(a.File)
		}
		if err != nil || strings.Join(got, " ") != tc.want || file != tc.file {
			t.Errorf("%s: candidates %v from %q (%v), want %s from %q", tc.in, got, file, err, tc.want, tc.file)
		}
	}
	// podman's checks of an alias table, each an error naming the file.
	for body, want := range map[string]string{
		`"bb:v1" = "r.example/bb"`:        `invalid short name "bb:v1": must not contain tag`,
		`"r.example/bb" = "r.example/bb"`: `invalid short name "r.example/bb": must not contain registry`,
		`"bb" = "bb"`:                     `invalid alias "bb": must contain registry and repository`,
		`"bb" = "r.example/bb:v2"`:        `invalid alias "r.example/bb:v2": must not contain tag`,
	} {
		bad := filepath.Join(t.TempDir(), "bad.conf")
		os.WriteFile(bad, []byte("[aliases]\n"+body+"\n"), 0o644)
		_, err := loadRegistries(bad, t.TempDir())
		if !errdefs.Is(err, errdefs.ErrInvalid) || err.Error() != `loading registries configuration "`+bad+`": validating short-name aliases: `+want+": invalid argument" {
			t.Errorf("%s: %v", body, err)
		}
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

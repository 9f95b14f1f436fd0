package image

import (
	"reflect"
	"strings"
	"testing"

	"pea/internal/errdefs"
	"pea/internal/toml"
)

// A registries.conf as Debian and Fedora ship it, with a drop-in's aliases and the keys pea does
// not use, in both versions of the format.
const distroRegistriesConf = `# For more information on this configuration file, see containers-registries.conf(5).
#
# NOTE: RISK OF USING UNQUALIFIED IMAGE NAMES
# We recommend always using fully qualified image names including the registry
# server (full dns name), namespace, image name, and tag
# (e.g., registry.redhat.io/ubi8/ubi:latest). Pulling by digest (i.e.,
# quay.io/repository/name@digest) further eliminates the ambiguity of tags.
#
# # An array of host[:port] registries to try when pulling an unqualified image, in order.
# unqualified-search-registries = ["example.com"]
#
# [[registry]]
# # The "prefix" field is used to choose the relevant [[registry]] TOML table;
# prefix = "example.com/foo"
# insecure = false
# location = internal-registry-for-example.com/bar"
# [[registry.mirror]]
# location = "example-mirror-0.local/mirror-for-foo"

unqualified-search-registries = [
  "registry.fedoraproject.org",
  "registry.access.redhat.com", # Red Hat
  'docker.io',
]

# short-name-mode="enforcing"
short-name-mode = "enforcing"
credential-helpers = [ "containers-auth.json" ]

[[registry]]
location = "registry.fedoraproject.org/"
insecure = false
blocked = false

[[registry]]
prefix = "docker.io"
location = "docker.io"
pull-from-mirror = "tag-only"

  [[registry.mirror]]
  location = "mirror.gcr.io"

  [[registry.mirror]]
  location = "registry.local:5000/hub/"  # trailing slash trimmed
  insecure = true
  pull-from-mirror = "all"

[aliases]
  # centos
  "centos" = "quay.io/centos/centos"
  "opensuse/leap" = "registry.opensuse.org/opensuse/leap"
  ubi8 = "registry.access.redhat.com/ubi8"

# Version 1 of the format, which still works.
[registries.search]
registries = ['quay.io']

[registries.insecure]
registries = []

[registries.block]
registries = ["evil.example"]
`

func TestDistroRegistriesConf(t *testing.T) {
	c, err := ParseRegistries("registries.conf", []byte(strings.ReplaceAll(distroRegistriesConf, "\n", "\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := &Registries{
		Search: []string{"registry.fedoraproject.org", "registry.access.redhat.com", "docker.io", "quay.io"},
		Registries: []RegistryConf{
			{Prefix: "registry.fedoraproject.org", Location: "registry.fedoraproject.org"},
			{Prefix: "docker.io", Location: "docker.io", PullFromMirror: "tag-only", Mirrors: []Mirror{
				{Location: "mirror.gcr.io"},
				{Location: "registry.local:5000/hub", Insecure: true, PullFromMirror: "all"},
			}},
			{Prefix: "evil.example", Location: "evil.example", Blocked: true},
		},
		Path: "registries.conf",
		Aliases: map[string]Alias{
			"centos":        {Target: Reference{Domain: "quay.io", Path: "centos/centos"}, File: "registries.conf"},
			"opensuse/leap": {Target: Reference{Domain: "registry.opensuse.org", Path: "opensuse/leap"}, File: "registries.conf"},
			"ubi8":          {Target: Reference{Domain: "registry.access.redhat.com", Path: "ubi8"}, File: "registries.conf"},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", c, want)
	}
	// The same in inline form.
	c2, err := ParseRegistries("inline.conf", []byte(`unqualified-search-registries = ["registry.fedoraproject.org", "registry.access.redhat.com", "docker.io"]
registry = [
  { location = "registry.fedoraproject.org/" },
  { prefix = "docker.io", location = "docker.io", pull-from-mirror = "tag-only", mirror = [{ location = "mirror.gcr.io" }, { location = "registry.local:5000/hub/", insecure = true, pull-from-mirror = "all" }] },
]
registries = { search = { registries = ["quay.io"] }, block = { registries = ["evil.example"] } }
`))
	want.Path, want.Aliases = "inline.conf", nil
	if err != nil || !reflect.DeepEqual(c2, want) {
		t.Errorf("inline form parsed as\n%+v, %v\nwant\n%+v", c2, err, want)
	}
}

func TestRegistriesConfErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"unqualified-search-registries = [", "line 1: unterminated array"},
		{"[[registry]]\nlocation = \"a.io\n", "line 2: unterminated string"},
		{"[[registry]]\nlocation \"a.io\"\n", `line 2: expected = after key "location"`},
		{"[[registry]]\nlocation = \"a.io\"\nlocation = \"b.io\"\n", `line 3: duplicate key "location" (first set on line 2)`},
		{"[[registry]]\nlocation = \"a.io\"\n\ninsecure = \"yes\"\n", `line 4: "insecure" must be a boolean (true or false), not a string`},
		{"unqualified-search-registries = \"docker.io\"", `line 1: "unqualified-search-registries" must be an array of strings, not a string`},
		{"unqualified-search-registries = [\n'a',\n1]", `line 1: "unqualified-search-registries" must be an array of strings, not an array holding an integer`},
		{"[registry]\nlocation = \"a.io\"", `line 1: "registry" must be an array of tables, not a table`},
		{"[[registry]]\nlocation = \"a.io\"\nmirror = \"m.io\"", `line 3: "mirror" must be an array of tables, not a string`},
		{"[[registry]]\nlocation = \"a.io\"\n[[registry.mirror]]\nlocation = 5", `line 4: "location" must be a string, not an integer`},
		{"[registries.search]\nregistries = 'quay.io'", `line 2: "registries" must be an array of strings, not a string`},
	}
	for _, tc := range cases {
		_, err := ParseRegistries("/etc/containers/registries.conf", []byte(tc.src))
		if !errdefs.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), "/etc/containers/registries.conf: "+tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

// FuzzTOML checks that no input makes the parser panic or loop.
func FuzzTOML(f *testing.F) {
	f.Add(distroRegistriesConf)
	f.Add(testRegistriesConf)
	f.Add("a = \"\"\"x\\\n  \"\"\"\"\"\nb = '''\r\n'''\nc = [{d.e = 0x_1}, 1e5, -inf]\n[[f.g]]\n[f]")
	f.Fuzz(func(t *testing.T, src string) {
		_, err := toml.Parse(src)
		if err == nil {
			decodeRegistriesFile([]byte(src))
		} else if !strings.HasPrefix(err.Error(), "line ") {
			t.Errorf("error without a line: %v", err)
		}
	})
}

package image

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

// plain turns a parsed table into maps and slices, for comparison.
func plain(v any) any {
	switch v := v.(type) {
	case *tomlTable:
		m := map[string]any{}
		for k, e := range v.vals {
			m[k] = plain(e.v)
		}
		return m
	case []*tomlTable:
		out := []any{}
		for _, t := range v {
			out = append(out, plain(t))
		}
		return out
	case []any:
		out := []any{}
		for _, x := range v {
			out = append(out, plain(x))
		}
		return out
	}
	return v
}

func TestTOMLValues(t *testing.T) {
	src := "# a comment\r\n" +
		"bare_key-1 = \"basic\" # trailing comment\r\n" +
		"\"quoted key\" = 'literal \\n # not a comment'\n" +
		"'single' = \"esc: \\\" \\\\ \\n \\t \\r \\u00e9 \\U0001F600 # not a comment\"\n" +
		"t = true\nf = false\n" +
		"ints = [1, -2, +3, 1_000, 0x1F, 0o17, 0b101]\n" +
		"floats = [1.5, -2e3, inf]\n" +
		"empty = []\n" +
		"nested = [ [\"a\"], ['b', 'c'] ]\n" +
		"multi = [\n  \"x\", # first\n  # between\n  \"y\",\n]\n" +
		"dotted.key = 'd'\n" +
		"inline = { a = 1, b.c = \"two\" }\n" +
		"inline11 = { # TOML 1.1\n  a = '\\x', \"e\" = \"\\e\\x41\",\n}\n" +
		"ml = \"\"\"\nline one\n  line two \\\n    joined\"\"\"\n" +
		"mll = '''\nraw \\n ''quoted'''''\n" +
		"[ table . 'sub' ]\nk = 'v'\n" +
		"[[arr]]\nn = 1\n[[arr.sub]]\nm = 1\n[[arr]]\nn = 2\n[[arr.sub]]\nm = 2\n[[arr.sub]]\nm = 3\n"
	root, err := parseTOML(src)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"bare_key-1": "basic",
		"quoted key": `literal \n # not a comment`,
		"single":     "esc: \" \\ \n \t \r é 😀 # not a comment",
		"t":          true, "f": false,
		"ints":     []any{int64(1), int64(-2), int64(3), int64(1000), int64(31), int64(15), int64(5)},
		"floats":   []any{1.5, -2e3, math.Inf(1)},
		"empty":    []any{},
		"nested":   []any{[]any{"a"}, []any{"b", "c"}},
		"multi":    []any{"x", "y"},
		"dotted":   map[string]any{"key": "d"},
		"inline":   map[string]any{"a": int64(1), "b": map[string]any{"c": "two"}},
		"inline11": map[string]any{"a": `\x`, "e": "\x1bA"},
		"ml":       "line one\n  line two joined",
		"mll":      `raw \n ''quoted''`,
		"table":    map[string]any{"sub": map[string]any{"k": "v"}},
		"arr": []any{
			map[string]any{"n": int64(1), "sub": []any{map[string]any{"m": int64(1)}}},
			map[string]any{"n": int64(2), "sub": []any{map[string]any{"m": int64(2)}, map[string]any{"m": int64(3)}}},
		},
	}
	if got := plain(root); !reflect.DeepEqual(got, want) {
		t.Errorf("parsed\n%#v\nwant\n%#v", got, want)
	}
}

func TestTOMLErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"a = \"open\nb = 1", `line 1: unterminated string`},
		{"\n\na = 'open", `line 3: unterminated string`},
		{"a = \"\"\"\nnever closed\n", `line 1: unterminated multi-line string`},
		{"# c\nkey \"v\"", `line 2: expected = after key "key"`},
		{"key", `line 1: expected = after key "key", found end of file`},
		{"a = 1\n\n[t]\na = 1\na = 2", `line 5: duplicate key "a" (first set on line 4)`},
		{"[t]\nx=1\n[t]", `line 3: [t]: "t" is already defined on line 1`},
		{"t = 1\n[[t]]", `line 2: [[t]]: "t" is already defined on line 1 and is not an array of tables`},
		{"a = [\n1,\n2", `line 1: unterminated array`},
		{"a = [1 2]", `line 1: expected , or ] in an array, found '2'`},
		{"a = 1 b = 2", `line 1: unexpected 'b' after a value`},
		{"a = yes", `line 1: invalid value "yes" (strings must be quoted)`},
		{"a = 012", `line 1: invalid value "012"`},
		{"a = 1979-05-27", `line 1: dates and times are not supported`},
		{"a = \"\\q\"", `line 1: invalid escape \q`},
		{"a = \"\\uD800\"", `line 1: invalid unicode escape \uD800`},
		{"a = { b = 1 c = 2 }", `line 1: expected , or } in an inline table, found 'c'`},
		{"a = { b = 1,\n", `line 1: unterminated inline table`},
		{"a = { b = 1, b = 2 }", `line 1: duplicate key "b"`},
		{"a = { b = 1 }\n[a.c]", `line 2: cannot add to table "a" (defined on line 1) here`},
		{"a.b = 1\n[a]", `line 2: [a]: "a" is already defined on line 1`},
		{"[a.b]\n[a]\nb.c = 1", `line 3: cannot add to table "b" (defined on line 1) here`},
		{"[[a]]\n[b]\n[c]\na.x = 1\n[d]\nd.x = 1\nd.x.y = 2", `line 7: "x" is not a table (set on line 6)`},
		{"[t\n", `line 1: expected ] after table name, found end of line`},
		{"a = \"x\"\n[a.b]", `line 2: "a" is not a table (set on line 1)`},
		{"a = 1\r\rb = 2", `line 1: a carriage return without a newline`},
		{"a = 1\n# \x00", `line 2: control character U+0000`},
		{"a = '\xff'", `line 1: invalid UTF-8`},
	}
	for _, tc := range cases {
		_, err := parseTOML(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

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
		root, err := parseTOML(src)
		if err == nil {
			decodeRegistriesFile([]byte(src))
			_ = plain(root)
		} else if !strings.HasPrefix(err.Error(), "line ") {
			t.Errorf("error without a line: %v", err)
		}
	})
}

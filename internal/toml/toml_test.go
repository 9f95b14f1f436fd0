package toml

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// plain turns a parsed table into maps and slices, for comparison.
func plain(v any) any {
	switch v := v.(type) {
	case *Table:
		m := map[string]any{}
		for k, e := range v.vals {
			m[k] = plain(e.v)
		}
		return m
	case []*Table:
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
	root, err := Parse(src)
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
		{"a = 1\r\rb = 2", `line 1: unexpected '\r' after a value`},
		{"a = 1\nb = 'x\ry'", `line 2: unterminated string`},
		{"a = 1\nb = \"\"\"x\ry\"\"\"", `line 2: a carriage return without a newline`},
		{"a = 1\nb = \"\x00\"", `line 2: control character U+0000`},
		{"a = '''\n\x7f'''", `line 2: control character U+007F`},
		{"a = 1 \x01", `line 1: unexpected '\x01' after a value`},
		{"a = '\xff'", `line 1: invalid UTF-8`},
	}
	for _, tc := range cases {
		_, err := Parse(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

// Comments are skipped unread: what they hold, even a control character, is no error.
func TestTOMLCommentsUnread(t *testing.T) {
	root, err := Parse("# \x00 \x7f\r\na = 1 # \x01\r\n#\r")
	if err != nil {
		t.Fatal(err)
	}
	if v, line, _ := root.Get("a"); v != int64(1) || line != 2 {
		t.Errorf("a = %v on line %d", v, line)
	}
}

package quadlet

import (
	"slices"
	"testing"
)

func TestSplitWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`a b  c`, []string{"a", "b", "c"}},
		{`sh -c "echo hi; exit 0"`, []string{"sh", "-c", "echo hi; exit 0"}},
		{`'single quoted' "dq \"x\""`, []string{"single quoted", `dq "x"`}},
		{`a"b c"d`, []string{"ab cd"}},
		{`x\sy \x41 \101 \u00e9 \n`, []string{"x y", "A", "A", "é", "\n"}},
		{`%t/%N.cid $HOME ${X}`, []string{"%t/%N.cid", "$HOME", "${X}"}},
		{`a \; b`, []string{"a", ";", "b"}},
		{`back\slash\q`, []string{`back lash\q`}},
		{`""`, []string{""}},
		{``, nil},
	} {
		got, err := splitWords(tc.in)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`"open`, `x\xZZ`, `'a`} {
		if w, err := splitWords(bad); err == nil {
			t.Errorf("splitWords(%q) = %q, want an error", bad, w)
		}
	}
}

// A word written by quoteWord is read back as the same word.
func TestQuoteWordRoundTrip(t *testing.T) {
	for _, w := range []string{"plain", "", "two words", `quo"te`, "it's", `back\slash`, "tab\there", "line\nbreak",
		";", "a;b", "%t/%N.cid", "$HOME", "\x01ctl", "ünï", "--flag=a b"} {
		q := quoteWord(w)
		got, err := splitWords(q)
		if err != nil || len(got) != 1 || got[0] != w {
			t.Errorf("quoteWord(%q) = %s, read back as %q (%v)", w, q, got, err)
		}
	}
	if q := quoteWord("--name=systemd-%N"); q != "--name=systemd-%N" {
		t.Errorf("a plain word was quoted: %s", q)
	}
}

func TestParseUnit(t *testing.T) {
	src := "# head\n[Unit]\nDescription = one \\\n  two\n\n[Container]\n; comment\nExec=a \\\n# skipped\n b\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n"
	u, err := parseUnit("x.container", "/x.container", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := u.last("Unit", "Description"); v != "one   two" && v != "one  two" {
		t.Errorf("Description %q", v)
	}
	if v, _ := u.last("Container", "Exec"); v != "a  b" {
		t.Errorf("Exec %q", v)
	}
	if got := u.all("Container", "Environment"); !slices.Equal(got, []string{"B=2"}) {
		t.Errorf("an empty assignment did not reset the list: %q", got)
	}
	want := "# head\n\n[Unit]\nDescription=one  two\n\n[Container]\n; comment\nExec=a  b\nEnvironment=A=1\nEnvironment=\nEnvironment=B=2\n"
	if got := u.String(); got != want {
		t.Errorf("written back:\n%s\nwant:\n%s", got, want)
	}
	for _, bad := range []string{"[Unit\n", "[]\n", "[Unit]\nnoequals\n", "Key=v\n", "[Unit]\n=v\n"} {
		if _, err := parseUnit("x", "x", []byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

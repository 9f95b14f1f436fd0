package jsonfast

import "testing"

// TestPlainString: the fast path takes printable ASCII without escapes only, and finds the
// closing quote; everything else goes to the byte-by-byte reader.
func TestPlainString(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`"`, 0},
		{`abc"`, 3},
		{`abc", "x"`, 3},
		{`a\"b"`, -1},
		{`a\nb"`, -1},
		{"a\tb\"", -1},
		{"caf\xc3\xa9\"", -1},
		{`abc`, -1},
	} {
		if got := plainString([]byte(c.in)); got != c.want {
			t.Errorf("plainString(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

package jsonfast

import (
	"encoding/json"
	"testing"
)

// AppendString writes what encoding/json writes for a string.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "ctl\x00\x1f\n\t", "<&>", "\u2028\u2029", "bad\xffutf8", "é✓"} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: %s, want %s", s, got[1:], want)
		}
	}
}

package engine

import (
	"os"
	"path/filepath"
	"testing"
)

func TestTTYName(t *testing.T) {
	for nr, want := range map[uint64]string{0: "?", 136<<8 | 3: "pts/3", 137<<8 | 1: "pts/257", 4<<8 | 1: "tty1", 4<<8 | 65: "ttyS1", 5<<8 | 1: "console", 7<<8 | 1: "?"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%#x) = %q, want %q", nr, got, want)
		}
	}
}

// idNames reads passwd and group files as they are found in images: comments, short and blank
// lines, an ID named twice (the first name wins).
func TestIDNames(t *testing.T) {
	p := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(p, []byte("# comment\nroot:x:0:0:root:/root:/bin/sh\n\nbroken\ntoor:x:0:0::/:/bin/sh\n:x:5:5\nwww:x:33:33::/var/www:/bin/false\n"), 0o644)
	got := idNames(p)
	if len(got) != 2 || got["0"] != "root" || got["33"] != "www" {
		t.Errorf("idNames = %v", got)
	}
	if got := idNames(filepath.Join(t.TempDir(), "none")); len(got) != 0 {
		t.Errorf("idNames of a missing file = %v", got)
	}
}

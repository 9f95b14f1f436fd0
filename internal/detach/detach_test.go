package detach

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		bad  bool
	}{
		{in: "", want: ""},
		{in: "ctrl-p,ctrl-q", want: "\x10\x11"},
		{in: "ctrl-a,x", want: "\x01x"},
		{in: "ctrl-@", want: "\x00"},
		{in: "ctrl-z", want: "\x1a"},
		{in: "ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", want: "\x1b\x1c\x1d\x1e\x1f"},
		{in: "a", want: "a"},
		{in: " ", want: " "},
		{in: "A,B", want: "AB"},
		{in: "ab", bad: true},
		{in: "ctrl-", bad: true},
		{in: "ctrl-1", bad: true},
		{in: "ctrl-P", bad: true},
		{in: "ctrl-pq", bad: true},
		{in: "ctrl-?", bad: true},
		{in: ",", bad: true},
		{in: "ctrl-p,", bad: true},
		{in: "ctrl-p,,ctrl-q", bad: true},
		{in: "é", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.bad {
				if err == nil || strings.Contains(err.Error(), "\n") {
					t.Fatalf("Parse(%q) = %q, %v; want one line of error", tc.in, got, err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// chunks is a reader that returns its pieces one read at a time.
type chunks struct{ pieces []string }

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.pieces[0])
	if n < len(c.pieces[0]) {
		c.pieces[0] = c.pieces[0][n:]
	} else {
		c.pieces = c.pieces[1:]
	}
	return n, nil
}

func TestReader(t *testing.T) {
	pq := []byte("\x10\x11")
	for _, tc := range []struct {
		name     string
		keys     []byte
		pieces   []string
		want     string
		detached bool
	}{
		{name: "plain input", keys: pq, pieces: []string{"hello", " world"}, want: "hello world"},
		{name: "sequence in one read", keys: pq, pieces: []string{"ab\x10\x11cd"}, want: "ab", detached: true},
		{name: "sequence split across reads", keys: pq, pieces: []string{"ab\x10", "\x11", "cd"}, want: "ab", detached: true},
		{name: "each key its own read", keys: pq, pieces: []string{"a", "\x10", "\x11"}, want: "a", detached: true},
		{name: "partial sequence passes", keys: pq, pieces: []string{"a\x10", "x", "b"}, want: "a\x10xb"},
		{name: "partial sequence at the end", keys: pq, pieces: []string{"a\x10"}, want: "a\x10"},
		{name: "second key alone passes", keys: pq, pieces: []string{"\x11z"}, want: "\x11z"},
		{name: "repeated first key", keys: pq, pieces: []string{"\x10", "\x10", "\x11"}, want: "\x10", detached: true},
		{name: "overlapping sequence", keys: []byte("aab"), pieces: []string{"xa", "aa", "b"}, want: "xa", detached: true},
		{name: "overlapping partial", keys: []byte("aab"), pieces: []string{"aaa", "c"}, want: "aaac"},
		{name: "one key", keys: []byte{0x01}, pieces: []string{"ab\x01c"}, want: "ab", detached: true},
		{name: "custom", keys: []byte("\x01x"), pieces: []string{"x\x01", "y\x01", "x"}, want: "x\x01y", detached: true},
		{name: "no keys", keys: nil, pieces: []string{"a\x10\x11b"}, want: "a\x10\x11b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 3, 64} {
				r := NewReader(&chunks{append([]string(nil), tc.pieces...)}, tc.keys)
				var got []byte
				buf := make([]byte, size)
				var err error
				for {
					var n int
					n, err = r.Read(buf)
					got = append(got, buf[:n]...)
					if err != nil {
						break
					}
				}
				if string(got) != tc.want {
					t.Fatalf("read size %d: got %q, want %q", size, got, tc.want)
				}
				if detached := errors.Is(err, ErrDetached); detached != tc.detached {
					t.Fatalf("read size %d: ended with %v, detached want %v", size, err, tc.detached)
				}
			}
		})
	}
}

// TestReaderKeepsFailure: a failing input's error is returned as is, after the bytes held back.
func TestReaderKeepsFailure(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader("a\x10"), &failing{boom}), []byte("\x10\x11"))
	b, err := io.ReadAll(r)
	if string(b) != "a\x10" || !errors.Is(err, boom) {
		t.Fatalf("got %q, %v", b, err)
	}
}

type failing struct{ err error }

func (f *failing) Read([]byte) (int, error) { return 0, f.err }

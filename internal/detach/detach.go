// Package detach is the key sequence that detaches a client from an attached terminal (podman's
// and Docker's --detach-keys): its parsing, and a reader that watches a client's input for it.
//
// A sequence is written as keys separated by commas, each a single character or ctrl-<c> where
// <c> is a-z, @, [, \, ], ^ or _ (the ASCII control codes 0-31). "ctrl-p,ctrl-q" is the
// default; the empty string disables detaching.
package detach

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// DefaultKeys is the sequence a client detaches with when none is given.
const DefaultKeys = "ctrl-p,ctrl-q"

// ErrDetached is what a Reader returns, once the input before the sequence has been read, when
// the client typed the sequence: the client leaves, what it is attached to goes on.
var ErrDetached = errors.New("detached")

// Parse turns a sequence as written into its bytes; "" is no sequence (nil, no detaching).
func Parse(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	var keys []byte
	for _, k := range strings.Split(s, ",") {
		b, ok := parseKey(k)
		if !ok {
			return nil, fmt.Errorf("invalid detach keys %q: %q is not a key (a single character, or ctrl- and one of a-z @ [ \\ ] ^ _, separated by commas)", s, k)
		}
		keys = append(keys, b)
	}
	return keys, nil
}

// parseKey is one key of a sequence.
func parseKey(k string) (byte, bool) {
	if len(k) == 1 {
		return k[0], true
	}
	c, ok := strings.CutPrefix(k, "ctrl-")
	if !ok || len(c) != 1 {
		return 0, false
	}
	switch ch := c[0]; {
	case ch >= 'a' && ch <= 'z':
		return ch - 'a' + 1, true
	case ch == '@' || ch >= '[' && ch <= '_': // @ [ \ ] ^ _: 0 and 27-31
		return ch - '@', true
	}
	return 0, false
}

// Reader passes a client's input through, holding back bytes that may begin the sequence until
// the next ones tell: a sequence begun and not completed is passed on as typed. Once the whole
// sequence is read, Read returns what came before it, then ErrDetached; what follows it in the
// same read is dropped. The sequence is found however the input is cut into reads.
type Reader struct {
	r       io.Reader
	keys    []byte
	matched int    // the input read so far ends with keys[:matched], held back
	out     []byte // input passed through, not yet returned
	scratch []byte
	err     error // the end (or failure) of r, or ErrDetached, returned once out is empty
}

// NewReader watches r for keys; with no keys it is r itself.
func NewReader(r io.Reader, keys []byte) io.Reader {
	if len(keys) == 0 {
		return r
	}
	return &Reader{r: r, keys: keys}
}

func (d *Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 && d.err == nil {
		if size := max(len(p), 1); cap(d.scratch) < size {
			d.scratch = make([]byte, size)
		}
		n, err := d.r.Read(d.scratch[:max(len(p), 1)])
		d.feed(d.scratch[:n])
		if err != nil && d.err == nil {
			// The input ends: what was held back was no sequence.
			d.out = append(d.out, d.keys[:d.matched]...)
			d.matched = 0
			d.err = err
		}
	}
	if len(d.out) > 0 {
		n := copy(p, d.out)
		d.out = d.out[n:]
		return n, nil
	}
	return 0, d.err
}

// feed matches input against the sequence, appending to out what cannot be part of it.
func (d *Reader) feed(in []byte) {
	for _, c := range in {
		if d.err != nil {
			return
		}
		if c == d.keys[d.matched] {
			d.matched++
			if d.matched == len(d.keys) {
				d.matched = 0
				d.err = ErrDetached
			}
			continue
		}
		// The held-back bytes and c are no sequence; the longest end of them that begins one
		// stays held back (with "a,a,b", "a a a" keeps "a a"), the rest goes through.
		held := append(d.keys[:d.matched:d.matched], c)
		keep := 0
		for k := min(len(held), len(d.keys)-1); k > 0; k-- {
			if string(held[len(held)-k:]) == string(d.keys[:k]) {
				keep = k
				break
			}
		}
		d.out = append(d.out, held[:len(held)-keep]...)
		d.matched = keep
	}
}

// Package jsonfast reads and writes, without encoding/json's reflection, the JSON that pea
// handles on the way of every container start and listing.
//
// encoding/json builds, on the first use of each struct type in a process, a table of its fields
// (reflect, tag parsing, sorting): the spec's 60-odd types cost a fresh process 0.44 ms before a
// 34 µs encoding, a container config 0.32 ms before 7 µs, the image index's types 0.34 ms before
// a 10 µs decoding, so every `run` paid ~1 ms of CPU for tables it used once.
//
// Writing: Marshal's encoders are generated from the types (tools/jsongen, whose test fails when
// they are stale) and write what encoding/json writes, byte for byte (a test compares the two on
// random values): the same field order, omitempty rules, string escaping (HTML characters,
// U+2028/U+2029, invalid UTF-8), null for nil slices and maps, sorted map keys. What they do not
// handle themselves — a type with its own MarshalJSON or MarshalText (time.Time), an interface, a
// float — goes through encoding/json, one value at a time.
//
// Reading: Scanner reads a document; generated decoders (Unmarshal's, the image index's in
// package image, a listing's part of a container config in package state) read through it what
// encoding/json would read into a zero value, and give up (ErrFallback) on anything they are not
// sure of — a key that matches a field only when case is ignored, a number that is not what the
// field holds, a syntax error — so that the caller hands the document to encoding/json: the
// result is always its.
package jsonfast

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Marshal is json.Marshal, done by a generated encoder when v's type has one.
func Marshal(v any) ([]byte, error) {
	e := &encoder{b: make([]byte, 0, 1024)}
	if !encodeRoot(e, v) {
		return json.Marshal(v)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.b, nil
}

type encoder struct {
	b   []byte
	err error // the first error of a value encoded by encoding/json
}

// name starts an object member: a comma unless it is the object's first, the quoted name
// (written by the generator, escaped as encoding/json escapes it) and the colon.
func (e *encoder) name(quoted string) {
	e.sep()
	e.b = append(e.b, quoted...)
	e.b = append(e.b, ':')
}

// sep writes the comma before an array element or object member that is not the first.
func (e *encoder) sep() {
	if c := e.b[len(e.b)-1]; c != '{' && c != '[' {
		e.b = append(e.b, ',')
	}
}

func (e *encoder) null() { e.b = append(e.b, "null"...) }

func (e *encoder) boolean(v bool) { e.b = strconv.AppendBool(e.b, v) }

func (e *encoder) int(v int64) { e.b = strconv.AppendInt(e.b, v, 10) }

func (e *encoder) uint(v uint64) { e.b = strconv.AppendUint(e.b, v, 10) }

// value hands one value to encoding/json: a type with its own marshaling, an interface, a float,
// a []byte.
func (e *encoder) value(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		e.null()
		return
	}
	e.b = append(e.b, b...)
}

const hex = "0123456789abcdef"

// str writes s as a JSON string the way encoding/json does: '"' and '\\' and the control
// characters escaped (\b \f \n \r \t by name), '<', '>' and '&' as \u003c \u003e \u0026, U+2028
// and U+2029 as \u2028 and \u2029, and each byte of invalid UTF-8 as U+FFFD (the character,
// not its escape, as encoding/json does when built with GOEXPERIMENT=jsonv2).
func (e *encoder) str(s string) {
	b := append(e.b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	e.b = append(b, '"')
}

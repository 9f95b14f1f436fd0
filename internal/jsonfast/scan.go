package jsonfast

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrFallback is what a fast decoder returns for a document it is not sure to read as
// encoding/json would (an escape it does not know, a key that matches a field only when case is
// ignored, a number that is not a plain integer, a syntax error): its caller then decodes the
// document with json.Unmarshal, so the result is always encoding/json's.
var ErrFallback = errors.New("jsonfast: not for the fast path")

// Scanner reads one JSON document from b.
type Scanner struct {
	b []byte
	i int
}

func (s *Scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek is the next non-blank byte, or 0 at the end.
func (s *Scanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *Scanner) eat(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

// Literal reads word (true, false, null) if it comes next.
func (s *Scanner) Literal(word string) bool {
	s.ws()
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// End checks that nothing but blanks follows the document.
func (s *Scanner) End() error {
	s.ws()
	if s.i != len(s.b) {
		return ErrFallback
	}
	return nil
}

// Object reads an object (null reads as none), calling member with each key, unescaped; member
// reads the value. The key's bytes are only valid during the call.
func (s *Scanner) Object(member func(key []byte) error) error {
	if s.Literal("null") {
		return nil
	}
	if !s.eat('{') {
		return ErrFallback
	}
	if s.eat('}') {
		return nil
	}
	for {
		key, err := s.rawString()
		if err != nil {
			return err
		}
		if !s.eat(':') {
			return ErrFallback
		}
		if err := member(key); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return nil
		}
		return ErrFallback
	}
}

// rawString reads a string and returns its bytes: inside b when it holds no escape, else a new
// slice of the unescaped bytes.
func (s *Scanner) rawString() ([]byte, error) {
	if !s.eat('"') {
		return nil, ErrFallback
	}
	start := s.i
	// Most strings (IDs, names, paths, times) are plain ASCII without escapes: find the closing
	// quote with IndexByte (vectorised) and check the bytes in one tight loop. Anything else
	// takes the byte-by-byte path below from the start.
	if end := plainString(s.b[start:]); end >= 0 {
		s.i = start + end + 1
		return s.b[start : start+end], nil
	}
	ascii := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			if !ascii && !utf8.Valid(v) {
				return nil, ErrFallback // encoding/json would replace the invalid bytes
			}
			return v, nil
		case c == '\\':
			return s.escapedString(start)
		case c < 0x20:
			return nil, ErrFallback
		case c >= 0x80:
			ascii = false
		}
		s.i++
	}
	return nil, ErrFallback
}

// plainString returns the index of the quote that ends the string b starts with, when the
// string is printable ASCII without escapes, and -1 otherwise.
func plainString(b []byte) int {
	end := bytes.IndexByte(b, '"')
	if end < 0 {
		return -1
	}
	for _, c := range b[:end] {
		if c < 0x20 || c >= 0x80 || c == '\\' {
			return -1
		}
	}
	return end
}

// escapedString goes on reading the string that began at start (after its quote) at its first
// escape, at s.i, and returns the unescaped bytes. encoding/json writes '&', '<' and '>' as
// \u0026, \u003c and \u003e, so every shell command with a pipe, a redirection or a background
// job has escapes, as has one with a quote. What encoding/json reads into U+FFFD (a lone
// surrogate, invalid UTF-8) goes to the fallback.
func (s *Scanner) escapedString(start int) ([]byte, error) {
	out := make([]byte, 0, s.i-start+16)
	out = append(out, s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return nil, ErrFallback
			}
			return out, nil
		case c < 0x20:
			return nil, ErrFallback
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			return nil, ErrFallback
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, ErrFallback
			}
			if utf16.IsSurrogate(r) {
				// Only a high surrogate followed by an escaped low one is a character.
				if s.i+2 > len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return nil, ErrFallback
				}
				s.i += 2
				low, ok := s.hex4()
				if !ok {
					return nil, ErrFallback
				}
				if r = utf16.DecodeRune(r, low); r == utf8.RuneError {
					return nil, ErrFallback
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, ErrFallback
		}
	}
	return nil, ErrFallback
}

// hex4 reads the four hexadecimal digits of a \u escape.
func (s *Scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, h := range s.b[s.i : s.i+4] {
		switch {
		case h >= '0' && h <= '9':
			h -= '0'
		case h >= 'a' && h <= 'f':
			h -= 'a' - 10
		case h >= 'A' && h <= 'F':
			h -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(h)
	}
	s.i += 4
	return r, true
}

// Str reads a string into into; null leaves it as it is, as encoding/json does.
func (s *Scanner) Str(into *string) error {
	if s.Literal("null") {
		return nil
	}
	v, err := s.rawString()
	if err != nil {
		return err
	}
	*into = string(v)
	return nil
}

// Bool reads true or false into into; null leaves it as it is.
func (s *Scanner) Bool(into *bool) error {
	switch {
	case s.Literal("true"):
		*into = true
	case s.Literal("false"):
		*into = false
	case s.Literal("null"):
	default:
		return ErrFallback
	}
	return nil
}

// Integer reads a plain integer that fits in bits (signed or not); null reads as none (null
// true).
func (s *Scanner) Integer(bits int, signed bool) (int64, uint64, bool, error) {
	if s.Literal("null") {
		return 0, 0, true, nil
	}
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		return 0, 0, false, ErrFallback
	}
	if s.b[digits] == '0' && s.i-digits > 1 {
		return 0, 0, false, ErrFallback // a leading zero is not JSON
	}
	text := string(s.b[start:s.i])
	if signed {
		v, err := strconv.ParseInt(text, 10, bits)
		if err != nil {
			return 0, 0, false, ErrFallback
		}
		return v, 0, false, nil
	}
	v, err := strconv.ParseUint(text, 10, bits)
	if err != nil {
		return 0, 0, false, ErrFallback
	}
	return 0, v, false, nil
}

// Array reads an array (null reads as none), calling elem for each element.
func (s *Scanner) Array(elem func() error) error {
	if s.Literal("null") {
		return nil
	}
	if !s.eat('[') {
		return ErrFallback
	}
	if s.eat(']') {
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if s.eat(',') {
			continue
		}
		if s.eat(']') {
			return nil
		}
		return ErrFallback
	}
}

// Skip reads any value and drops it.
func (s *Scanner) Skip() error {
	switch s.peek() {
	case '"':
		s.i++
		if end := plainString(s.b[s.i:]); end >= 0 {
			s.i += end + 1
			return nil
		}
		for s.i < len(s.b) {
			switch c := s.b[s.i]; {
			case c == '"':
				s.i++
				return nil
			case c == '\\':
				if s.i+1 >= len(s.b) {
					return ErrFallback
				}
				switch s.b[s.i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					s.i += 2
				case 'u':
					s.i += 2
					if _, ok := s.hex4(); !ok {
						return ErrFallback
					}
				default:
					return ErrFallback
				}
			case c < 0x20:
				return ErrFallback
			default:
				s.i++
			}
		}
		return ErrFallback
	case '{':
		return s.Object(func([]byte) error { return s.Skip() })
	case '[':
		return s.Array(s.Skip)
	case 't':
		if s.Literal("true") {
			return nil
		}
	case 'f':
		if s.Literal("false") {
			return nil
		}
	case 'n':
		if s.Literal("null") {
			return nil
		}
	default:
		return s.skipNumber()
	}
	return ErrFallback
}

// skipNumber reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *Scanner) skipNumber() error {
	digits := func() int {
		start := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		return s.i - start
	}
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	first := s.i
	if n := digits(); n == 0 || n > 1 && s.b[first] == '0' {
		return ErrFallback
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if digits() == 0 {
			return ErrFallback
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if digits() == 0 {
			return ErrFallback
		}
	}
	return nil
}

// Unknown skips the value of a key the decoder does not read; a key that matches one of the
// known ones only when case is ignored is what encoding/json would read into that field, so
// the fast path gives up.
func (s *Scanner) Unknown(key []byte, known KeySet) error {
	for _, c := range key {
		if c >= utf8.RuneSelf {
			return ErrFallback // encoding/json folds case beyond ASCII (U+017F matches 's')
		}
	}
	for _, k := range known {
		if equalFoldASCII(key, k) {
			return ErrFallback
		}
	}
	return s.Skip()
}

// KeySet lists the keys of one JSON object that the fast path knows. A slice, searched in
// order: it is only looked at for a key the fast path did not expect, and a map would have to be
// built when the program starts or on first use.
type KeySet []string

// equalFoldASCII reports whether key and k are equal under ASCII case folding, as encoding/json
// matches object keys to fields.
func equalFoldASCII(key []byte, k string) bool {
	if len(key) != len(k) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], k[i]
		if a >= 'A' && a <= 'Z' {
			a += 'a' - 'A'
		}
		if b >= 'A' && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// NewScanner returns a scanner of the document b.
func NewScanner(b []byte) *Scanner { return &Scanner{b: b} }

// Raw reads any value and returns its bytes, for a decoder that hands it to a type's own
// UnmarshalJSON or to encoding/json.
func (s *Scanner) Raw() ([]byte, error) {
	s.ws()
	start := s.i
	if err := s.Skip(); err != nil {
		return nil, err
	}
	return s.b[start:s.i], nil
}

// Float reads a number (null reads as none), parsed as encoding/json parses it into a float of
// bits.
func (s *Scanner) Float(bits int) (float64, bool, error) {
	if s.Literal("null") {
		return 0, true, nil
	}
	s.ws()
	start := s.i
	if err := s.skipNumber(); err != nil {
		return 0, false, err
	}
	v, err := strconv.ParseFloat(string(s.b[start:s.i]), bits)
	if err != nil {
		return 0, false, ErrFallback
	}
	return v, false, nil
}

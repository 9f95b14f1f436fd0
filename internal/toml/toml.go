// Package toml parses the subset of TOML (https://toml.io/en/v1.0.0) that pea's configuration
// files use (containers-registries.conf(5), containers.conf(5)), so that pea does not link a
// general TOML library (whose init costs every command).
package toml

// Supported: comments, bare, quoted and dotted keys, basic and literal strings (also multi-line),
// booleans, integers (decimal, 0x, 0o, 0b, with _), floats, arrays (over several lines, with
// comments and a trailing comma), inline tables, [tables] and [[arrays.of.tables]]; from TOML 1.1
// the \e and \xHH escapes and inline tables over several lines. Rejected with an error naming the
// line: dates and times, and anything malformed (a key or table defined twice, an unterminated
// string or array, invalid UTF-8). Parse gives a tree of Tables; a Decoder reads
// typed values out of it.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Table is a parsed table. Values are string, bool, int64, float64, []any (an array),
// *Table or []*Table (an array of tables).
type Table struct {
	vals   map[string]entry
	origin origin
}

// origin is how a table came to be, which decides what may add to it later.
type origin byte

const (
	// originImplicit: named on the way to a [header]'s table (a in [a.b]); it may get its own [a].
	originImplicit origin = iota
	// originHeader: by its own [header], as an [[array]] element, or the root. Keys go in under
	// the header, and [headers] may add sub-tables, but not dotted keys.
	originHeader
	// originDotted: by a dotted key (a in a.b = 1): more dotted keys and [sub.tables] may add to it.
	originDotted
	// originInline: { ... }, complete.
	originInline
)

type entry struct {
	v    any
	line int // where the key was set
}

func (t *Table) set(key string, v any, line int) {
	if t.vals == nil {
		t.vals = map[string]entry{}
	}
	t.vals[key] = entry{v, line}
}

type parser struct {
	src  string
	pos  int
	line int
}

// Parse parses a document into its root table.
func Parse(src string) (*Table, error) {
	src = strings.TrimPrefix(src, "\uFEFF") // a byte order mark
	if err := checkText(src); err != nil {
		return nil, err
	}
	p := &parser{src: src, line: 1}
	root := &Table{origin: originHeader}
	cur := root
	for {
		p.skipBlank()
		if p.pos == len(p.src) {
			return root, nil
		}
		var err error
		if p.src[p.pos] == '[' {
			cur, err = p.header(root)
		} else {
			err = p.keyValue(cur)
		}
		if err != nil {
			return nil, err
		}
		if err := p.endOfLine(); err != nil {
			return nil, err
		}
	}
}

// checkText refuses invalid UTF-8 anywhere. Control characters are refused where the parser
// reads them (strings; anywhere else they are not a token); comments are skipped unread, so
// one there is let through: a byte-at-a-time look at every comment of a 24 KB reference file
// cost ~20 µs, which commands reading containers.conf would pay.
func checkText(src string) error {
	if utf8.ValidString(src) {
		return nil
	}
	for i, r := range src {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(src[i:]); n == 1 {
				return fmt.Errorf("line %d: invalid UTF-8", 1+strings.Count(src[:i], "\n"))
			}
		}
	}
	return nil
}

// controlChar is the error for a control character c in a string.
func (p *parser) controlChar(c byte) error {
	if c == '\r' {
		return p.errorf("a carriage return without a newline")
	}
	return p.errorf("control character %U", rune(c))
}

func (p *parser) errorf(format string, args ...any) error {
	return p.errorAt(p.line, format, args...)
}

func (p *parser) errorAt(line int, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
}

// describe names the character at pos for an error message.
func (p *parser) describe() string {
	switch {
	case p.pos == len(p.src):
		return "end of file"
	case p.src[p.pos] == '\n' || strings.HasPrefix(p.src[p.pos:], "\r\n"):
		return "end of line"
	}
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
}

// newline consumes a "\n" or "\r\n".
func (p *parser) newline() bool {
	switch {
	case strings.HasPrefix(p.src[p.pos:], "\n"):
		p.pos++
	case strings.HasPrefix(p.src[p.pos:], "\r\n"):
		p.pos += 2
	default:
		return false
	}
	p.line++
	return true
}

func (p *parser) skipComment() {
	if p.pos == len(p.src) || p.src[p.pos] != '#' {
		return
	}
	// The comment ends before its line's "\n" or "\r\n".
	end := strings.IndexByte(p.src[p.pos:], '\n')
	if end < 0 {
		p.pos = len(p.src)
		return
	}
	p.pos += end
	if p.src[p.pos-1] == '\r' {
		p.pos--
	}
}

// skipBlank skips white space, comments and newlines.
func (p *parser) skipBlank() {
	// One loop over the bytes, not a call per space, comment and newline: most of a reference
	// file is lines of comment.
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t':
			p.pos++
		case '\n':
			p.pos++
			p.line++
		case '\r':
			if !p.newline() {
				return
			}
		case '#':
			end := strings.IndexByte(p.src[p.pos:], '\n')
			if end < 0 {
				p.pos = len(p.src)
				return
			}
			p.pos += end // the newline (a "\r" before it is the comment's)
		default:
			return
		}
	}
}

// endOfLine ends a key/value pair or a header: only a comment may follow on its line.
func (p *parser) endOfLine() error {
	p.skipSpace()
	p.skipComment()
	if p.pos < len(p.src) && !p.newline() {
		return p.errorf("unexpected %s after a value or table header (one per line)", p.describe())
	}
	return nil
}

func isBareKeyChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// key parses a possibly dotted key: bare or quoted parts separated by dots.
func (p *parser) key() ([]string, error) {
	var parts []string
	for {
		p.skipSpace()
		var part string
		switch {
		case p.pos < len(p.src) && (p.src[p.pos] == '"' || p.src[p.pos] == '\''):
			if strings.HasPrefix(p.src[p.pos:], `"""`) || strings.HasPrefix(p.src[p.pos:], "'''") {
				return nil, p.errorf("a key cannot be a multi-line string")
			}
			var err error
			if part, err = p.str(); err != nil {
				return nil, err
			}
		default:
			start := p.pos
			for p.pos < len(p.src) && isBareKeyChar(p.src[p.pos]) {
				p.pos++
			}
			if p.pos == start {
				return nil, p.errorf("expected a key, found %s", p.describe())
			}
			part = p.src[start:p.pos]
		}
		parts = append(parts, part)
		p.skipSpace()
		if p.pos == len(p.src) || p.src[p.pos] != '.' {
			return parts, nil
		}
		p.pos++
	}
}

// descend returns the table named key in t, creating it if it is missing, on the way to the
// table of a [header] (the last element of an array of tables) or of a dotted key.
func (p *parser) descend(t *Table, key string, line int, dotted bool) (*Table, error) {
	e, ok := t.vals[key]
	if !ok {
		sub := &Table{origin: originImplicit}
		if dotted {
			sub.origin = originDotted
		}
		t.set(key, sub, line)
		return sub, nil
	}
	switch v := e.v.(type) {
	case *Table:
		if v.origin == originInline || dotted && v.origin != originDotted {
			return nil, p.errorAt(line, "cannot add to table %q (defined on line %d) here", key, e.line)
		}
		return v, nil
	case []*Table:
		if !dotted {
			return v[len(v)-1], nil
		}
	}
	return nil, p.errorAt(line, "%q is not a table (set on line %d)", key, e.line)
}

// header parses [a.b] or [[a.b]] and returns the table that the following keys go in.
func (p *parser) header(root *Table) (*Table, error) {
	line := p.line
	p.pos++ // [
	array := strings.HasPrefix(p.src[p.pos:], "[")
	end := "]"
	if array {
		p.pos++
		end = "]]"
	}
	keys, err := p.key()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(p.src[p.pos:], end) {
		return nil, p.errorf("expected %s after table name, found %s", end, p.describe())
	}
	p.pos += len(end)
	name := strings.Join(keys, ".")
	t := root
	for _, k := range keys[:len(keys)-1] {
		if t, err = p.descend(t, k, line, false); err != nil {
			return nil, err
		}
	}
	last := keys[len(keys)-1]
	e, exists := t.vals[last]
	sub := &Table{origin: originHeader}
	if array {
		if !exists {
			t.set(last, []*Table{sub}, line)
			return sub, nil
		}
		if arr, ok := e.v.([]*Table); ok {
			t.set(last, append(arr, sub), e.line)
			return sub, nil
		}
		return nil, p.errorAt(line, "[[%s]]: %q is already defined on line %d and is not an array of tables", name, last, e.line)
	}
	if !exists {
		t.set(last, sub, line)
		return sub, nil
	}
	if tt, ok := e.v.(*Table); ok && tt.origin == originImplicit {
		tt.origin = originHeader // named before by [last.sub]
		return tt, nil
	}
	return nil, p.errorAt(line, "[%s]: %q is already defined on line %d", name, last, e.line)
}

// keyValue parses key = value into t.
func (p *parser) keyValue(t *Table) error {
	line := p.line
	keys, err := p.key()
	if err != nil {
		return err
	}
	if p.pos == len(p.src) || p.src[p.pos] != '=' {
		return p.errorf("expected = after key %q, found %s", strings.Join(keys, "."), p.describe())
	}
	p.pos++
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return err
	}
	for _, k := range keys[:len(keys)-1] {
		if t, err = p.descend(t, k, line, true); err != nil {
			return err
		}
	}
	last := keys[len(keys)-1]
	if e, ok := t.vals[last]; ok {
		return p.errorAt(line, "duplicate key %q (first set on line %d)", last, e.line)
	}
	t.set(last, v, line)
	return nil
}

func (p *parser) value() (any, error) {
	if p.pos == len(p.src) {
		return nil, p.errorf("expected a value, found end of file")
	}
	switch p.src[p.pos] {
	case '"', '\'':
		return p.str()
	case '[':
		return p.array()
	case '{':
		return p.inlineTable()
	}
	start := p.pos
	for p.pos < len(p.src) && (isBareKeyChar(p.src[p.pos]) || strings.IndexByte("+.:", p.src[p.pos]) >= 0) {
		p.pos++
	}
	tok := p.src[start:p.pos]
	switch {
	case tok == "":
		return nil, p.errorf("expected a value, found %s", p.describe())
	case tok == "true":
		return true, nil
	case tok == "false":
		return false, nil
	}
	if n, ok := parseNumber(tok); ok {
		return n, nil
	}
	if len(tok) >= 5 && tok[4] == '-' || len(tok) >= 3 && tok[2] == ':' {
		return nil, p.errorf("dates and times are not supported: %s", tok)
	}
	return nil, p.errorf("invalid value %q (strings must be quoted)", tok)
}

// parseNumber parses an integer (int64) or a float (float64).
func parseNumber(s string) (any, bool) {
	switch s {
	case "inf", "+inf":
		return math.Inf(1), true
	case "-inf":
		return math.Inf(-1), true
	case "nan", "+nan", "-nan":
		return math.NaN(), true
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b') {
		digits, ok := digits(s[2:], isHexDigit)
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(digits, map[byte]int{'x': 16, 'o': 8, 'b': 2}[s[1]], 64)
		return n, err == nil
	}
	sign := ""
	if s != "" && (s[0] == '+' || s[0] == '-') {
		sign, s = s[:1], s[1:]
	}
	mantissa, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa, exp, hasExp = s[:i], s[i+1:], true
	}
	intPart, frac, hasFrac := strings.Cut(mantissa, ".")
	num, ok := digits(intPart, isDecDigit)
	if !ok || len(num) > 1 && num[0] == '0' { // no leading zeros
		return nil, false
	}
	num = sign + num
	if !hasFrac && !hasExp {
		n, err := strconv.ParseInt(num, 10, 64)
		return n, err == nil
	}
	if hasFrac {
		d, ok := digits(frac, isDecDigit)
		if !ok {
			return nil, false
		}
		num += "." + d
	}
	if hasExp {
		expSign := ""
		if exp != "" && (exp[0] == '+' || exp[0] == '-') {
			expSign, exp = exp[:1], exp[1:]
		}
		d, ok := digits(exp, isDecDigit)
		if !ok {
			return nil, false
		}
		num += "e" + expSign + d
	}
	f, err := strconv.ParseFloat(num, 64)
	return f, err == nil
}

// digits checks a run of digits, where an underscore may sit between two digits, and returns
// it without the underscores.
func digits(s string, isDigit func(byte) bool) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && i > 0 && i < len(s)-1 && isDigit(s[i-1]) && isDigit(s[i+1]) {
			continue
		}
		if !isDigit(s[i]) {
			return "", false
		}
	}
	return strings.ReplaceAll(s, "_", ""), s != ""
}

func isDecDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDecDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// str parses a string of any of the four kinds.
func (p *parser) str() (string, error) {
	q := p.src[p.pos]
	if strings.HasPrefix(p.src[p.pos:], strings.Repeat(string(q), 3)) {
		return p.multiLineString(q)
	}
	line := p.line
	p.pos++
	var b strings.Builder
	for {
		if p.pos == len(p.src) || p.src[p.pos] == '\n' || p.src[p.pos] == '\r' {
			return "", p.errorAt(line, "unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return b.String(), nil
		case c == '\\' && q == '"':
			if err := p.escape(&b); err != nil {
				return "", err
			}
			continue
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.controlChar(c)
		}
		b.WriteByte(c)
		p.pos++
	}
}

// multiLineString parses a multi-line string, basic (q is ") or literal (q is ').
func (p *parser) multiLineString(q byte) (string, error) {
	line := p.line
	p.pos += 3
	p.newline() // a newline right after the opening quotes is not part of the string
	var b strings.Builder
	for {
		if p.pos == len(p.src) {
			return "", p.errorAt(line, "unterminated multi-line string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			n := 0
			for p.pos < len(p.src) && p.src[p.pos] == q {
				n++
				p.pos++
			}
			if n < 3 {
				b.WriteString(strings.Repeat(string(q), n))
				continue
			}
			if n > 5 {
				return "", p.errorf("too many quotes ending a multi-line string")
			}
			b.WriteString(strings.Repeat(string(q), n-3)) // up to two quotes may precede the end
			return b.String(), nil
		case c == '\\' && q == '"':
			// A backslash ending a line trims it and the white space that follows.
			rest := strings.TrimLeft(p.src[p.pos+1:], " \t")
			if strings.HasPrefix(rest, "\n") || strings.HasPrefix(rest, "\r\n") {
				p.pos = len(p.src) - len(rest)
				for p.newline() {
					p.skipSpace()
				}
				continue
			}
			if err := p.escape(&b); err != nil {
				return "", err
			}
			continue
		case c == '\n' || strings.HasPrefix(p.src[p.pos:], "\r\n"): // a CRLF is kept as it is
			start := p.pos
			p.newline()
			b.WriteString(p.src[start:p.pos])
			continue
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.controlChar(c)
		}
		b.WriteByte(c)
		p.pos++
	}
}

// escape decodes the escape sequence at pos (a backslash) into b.
func (p *parser) escape(b *strings.Builder) error {
	p.pos++
	if p.pos == len(p.src) {
		return p.errorf("unterminated string")
	}
	c := p.src[p.pos]
	p.pos++
	if r := strings.IndexByte(`btnfre"\`, c); r >= 0 {
		b.WriteByte("\b\t\n\f\r\x1b\"\\"[r])
		return nil
	}
	n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
	if n == 0 {
		return p.errorf("invalid escape \\%c in a string", c)
	}
	if p.pos+n > len(p.src) {
		return p.errorf("invalid unicode escape \\%c", c)
	}
	hex := p.src[p.pos : p.pos+n]
	code, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || strings.Trim(hex, "0123456789abcdefABCDEF") != "" || !utf8.ValidRune(rune(code)) {
		return p.errorf("invalid unicode escape \\%c%s", c, hex)
	}
	p.pos += n
	b.WriteRune(rune(code))
	return nil
}

// array parses [v, v, ...], which may span lines and hold comments and a trailing comma.
func (p *parser) array() ([]any, error) {
	arr := []any{}
	err := p.delimited(']', "array", func() error {
		v, err := p.value()
		arr = append(arr, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return arr, nil
}

// inlineTable parses { k = v, ... }. As in TOML 1.1, it may span lines and end with a comma.
func (p *parser) inlineTable() (*Table, error) {
	t := &Table{origin: originInline}
	if err := p.delimited('}', "inline table", func() error { return p.keyValue(t) }); err != nil {
		return nil, err
	}
	return t, nil
}

// delimited reads the comma-separated entries of an array or inline table, each with entry,
// from its opening bracket to closer; what names it in errors.
func (p *parser) delimited(closer byte, what string, entry func() error) error {
	line := p.line
	p.pos++ // the opening bracket
	for {
		p.skipBlank()
		if p.pos == len(p.src) {
			return p.errorAt(line, "unterminated %s", what)
		}
		if p.src[p.pos] == closer {
			p.pos++
			return nil
		}
		if err := entry(); err != nil {
			return err
		}
		p.skipBlank()
		switch {
		case p.pos == len(p.src):
			return p.errorAt(line, "unterminated %s", what)
		case p.src[p.pos] == ',':
			p.pos++
		case p.src[p.pos] != closer:
			return p.errorf("expected , or %c in an %s, found %s", closer, what, p.describe())
		}
	}
}

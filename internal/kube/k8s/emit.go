package k8s

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// EncodeYAML writes a JSON value (what encoding/json decodes into an any with UseNumber: maps
// with string keys, slices, strings, json.Number, bool, nil) as one block-style YAML document,
// the way kubectl and podman print objects: keys sorted (numbers within keys in numeric
// order), two-space indentation, lists at the indentation of their key, strings quoted only
// when they would otherwise read as something else (a number, a boolean, null, a date)
// or could not be written plain, multi-line strings as literal blocks. Lines are not wrapped.
func EncodeYAML(v any) []byte {
	e := &emitter{}
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 {
			e.b.WriteString("{}\n")
		} else {
			e.mapping(x, 0, false)
		}
	case []any:
		if len(x) == 0 {
			e.b.WriteString("[]\n")
		} else {
			e.sequence(x, 0, false)
		}
	default:
		e.scalar(v, 2, false)
		if b := e.b.Bytes(); b[len(b)-1] != '\n' {
			e.b.WriteByte('\n')
		}
	}
	return e.b.Bytes()
}

type emitter struct {
	b bytes.Buffer
}

func (e *emitter) indent(n int) {
	for range n {
		e.b.WriteByte(' ')
	}
}

// mapping writes m's pairs at indentation n; inline means the first pair goes on the current
// line (after a list's "- ").
func (e *emitter) mapping(m map[string]any, n int, inline bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	for i, k := range keys {
		if !inline || i > 0 {
			e.indent(n)
		}
		e.scalar(k, n, true)
		e.b.WriteByte(':')
		e.value(m[k], n, false)
	}
}

// sequence writes l's items at indentation n.
func (e *emitter) sequence(l []any, n int, inline bool) {
	for i, v := range l {
		if !inline || i > 0 {
			e.indent(n)
		}
		e.b.WriteByte('-')
		e.value(v, n+2, true)
	}
}

// value writes what follows "key:" (at the key's indentation n) or "-" (item: n is the
// indentation of the item's contents), up to and including the line end.
func (e *emitter) value(v any, n int, item bool) {
	switch x := v.(type) {
	case map[string]any:
		switch {
		case len(x) == 0:
			e.b.WriteString(" {}\n")
		case item:
			e.b.WriteByte(' ')
			e.mapping(x, n, true)
		default:
			e.b.WriteByte('\n')
			e.mapping(x, n+2, false)
		}
	case []any:
		switch {
		case len(x) == 0:
			e.b.WriteString(" []\n")
		case item:
			e.b.WriteByte(' ')
			e.sequence(x, n, true)
		default:
			e.b.WriteByte('\n')
			e.sequence(x, n, false) // a list is not indented below its key
		}
	default:
		e.b.WriteByte(' ')
		if !item {
			n += 2
		}
		e.scalar(v, n, false)
		if b := e.b.Bytes(); b[len(b)-1] != '\n' {
			e.b.WriteByte('\n')
		}
	}
}

// scalar writes a scalar; n is the indentation of a literal block's lines.
func (e *emitter) scalar(v any, n int, key bool) {
	var s string
	switch x := v.(type) {
	case nil:
		e.b.WriteString("null")
		return
	case bool:
		e.b.WriteString(strconv.FormatBool(x))
		return
	case json.Number:
		e.b.WriteString(string(x))
		return
	case float64:
		e.b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		return
	case int:
		e.b.WriteString(strconv.Itoa(x))
		return
	case int64:
		e.b.WriteString(strconv.FormatInt(x, 10))
		return
	case string:
		s = x
	default:
		s = fmt.Sprint(x)
	}
	switch chooseStyle(s, key) {
	case plainStyle:
		e.b.WriteString(s)
	case singleStyle:
		e.b.WriteByte('\'')
		e.b.WriteString(strings.ReplaceAll(s, "'", "''"))
		e.b.WriteByte('\'')
	case literalStyle:
		e.literal(s, n)
	default:
		e.doubleQuoted(s)
	}
}

type scalarStyle int

const (
	plainStyle scalarStyle = iota
	singleStyle
	doubleStyle
	literalStyle
)

// chooseStyle picks how string s is written: plain when it reads back as the same string,
// a literal block when it has several lines, otherwise quoted (single quotes when they can
// hold it). A key is never a block.
func chooseStyle(s string, key bool) scalarStyle {
	a := analyze(s)
	style := doubleStyle
	switch {
	case strings.Contains(s, "\n"):
		style = literalStyle
	case !readsAsNonString(s) && !isSexagesimal(s):
		style = plainStyle
	}
	if key && a.multiline {
		style = doubleStyle
	}
	if style == plainStyle && (!a.plainOK || s == "" && key) {
		style = singleStyle
	}
	if style == singleStyle && !a.singleOK {
		style = doubleStyle
	}
	if style == literalStyle && (!a.blockOK || key) {
		style = doubleStyle
	}
	return style
}

type analysis struct {
	multiline, plainOK, singleOK, blockOK bool
}

func isBreak(r rune) bool { return r == '\n' || r == '\r' || r == 0x85 || r == 0x2028 || r == 0x2029 }

func isPrintable(r rune) bool {
	return r == '\n' || r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd && r != 0xfeff
}

// analyze says which styles can hold s (in block context).
func analyze(s string) analysis {
	if s == "" {
		return analysis{plainOK: true, singleOK: true}
	}
	indicators := strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...")
	var lineBreaks, special, leadingSpace, leadingBreak, trailingSpace, trailingBreak, breakSpace, spaceBreak bool
	prevSpace, prevBreak, precededByBlank := false, false, true
	for i, r := range s {
		w := utf8.RuneLen(r)
		if w < 0 {
			w = 1
		}
		last := i+w >= len(s)
		followedByBlank := last || s[i+w] == ' ' || s[i+w] == '\t'
		if i == 0 {
			switch r {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				indicators = true
			case '?', ':', '-':
				indicators = indicators || followedByBlank
			}
		} else if r == ':' && followedByBlank || r == '#' && precededByBlank {
			indicators = true
		}
		if !isPrintable(r) || r == 0x2028 || r == 0x2029 || r == 0x85 {
			special = true // written escaped, in double quotes
		}
		switch {
		case r == ' ':
			leadingSpace = leadingSpace || i == 0
			trailingSpace = trailingSpace || last
			breakSpace = breakSpace || prevBreak
			prevSpace, prevBreak = true, false
		case isBreak(r):
			lineBreaks = true
			leadingBreak = leadingBreak || i == 0
			trailingBreak = trailingBreak || last
			spaceBreak = spaceBreak || prevSpace
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		precededByBlank = r == ' ' || r == '\t' || isBreak(r)
	}
	a := analysis{multiline: lineBreaks, plainOK: true, singleOK: true, blockOK: true}
	if leadingSpace || leadingBreak || trailingSpace || trailingBreak || lineBreaks || indicators {
		a.plainOK = false
	}
	if trailingSpace {
		a.blockOK = false
	}
	if breakSpace {
		a.plainOK, a.singleOK = false, false
	}
	if spaceBreak || special {
		a.plainOK, a.singleOK, a.blockOK = false, false, false
	}
	return a
}

// literal writes s as a literal block whose lines are indented by n.
func (e *emitter) literal(s string, n int) {
	e.b.WriteByte('|')
	if s[0] == ' ' || s[0] == '\n' {
		e.b.WriteByte('2')
	}
	switch {
	case !strings.HasSuffix(s, "\n"):
		e.b.WriteByte('-')
	case s == "\n" || strings.HasSuffix(s, "\n\n"):
		e.b.WriteByte('+')
	}
	e.b.WriteByte('\n')
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			e.b.WriteByte('\n')
		}
		if line != "" {
			e.indent(n)
			e.b.WriteString(line)
		}
	}
}

// doubleQuoted writes s in double quotes, escaping what is not printable.
func (e *emitter) doubleQuoted(s string) {
	e.b.WriteByte('"')
	for _, r := range s {
		if isPrintable(r) && !isBreak(r) && r != '"' && r != '\\' {
			e.b.WriteRune(r)
			continue
		}
		e.b.WriteByte('\\')
		switch r {
		case 0:
			e.b.WriteByte('0')
		case '\a':
			e.b.WriteByte('a')
		case '\b':
			e.b.WriteByte('b')
		case '\t':
			e.b.WriteByte('t')
		case '\n':
			e.b.WriteByte('n')
		case '\v':
			e.b.WriteByte('v')
		case '\f':
			e.b.WriteByte('f')
		case '\r':
			e.b.WriteByte('r')
		case 0x1b:
			e.b.WriteByte('e')
		case '"':
			e.b.WriteByte('"')
		case '\\':
			e.b.WriteByte('\\')
		case 0x85:
			e.b.WriteByte('N')
		case 0x2028:
			e.b.WriteByte('L')
		case 0x2029:
			e.b.WriteByte('P')
		default:
			switch {
			case r <= 0xff:
				fmt.Fprintf(&e.b, "x%02X", r)
			case r <= 0xffff:
				fmt.Fprintf(&e.b, "u%04X", r)
			default:
				fmt.Fprintf(&e.b, "U%08X", r)
			}
		}
	}
	e.b.WriteByte('"')
}

// readsAsNonString says whether s, written plain, would be read as something other than a
// string by YAML 1.1 or 1.2 readers: null, a boolean (yes, on …), a number, a date.
func readsAsNonString(s string) bool {
	switch s {
	case "", "~", "null", "Null", "NULL",
		"y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE",
		"n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE",
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<":
		return true
	}
	c := s[0]
	if c == '.' {
		_, err := strconv.ParseFloat(s, 64)
		return err == nil
	}
	if c != '+' && c != '-' && (c < '0' || c > '9') {
		return false
	}
	if isTimestamp(s) {
		return true
	}
	plain := strings.ReplaceAll(s, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return true
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return true
	}
	if isDecimalFloat(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return true
		}
	}
	for _, p := range []string{"0b", "-0b", "+0b"} {
		if rest, ok := strings.CutPrefix(plain, p); ok {
			if _, err := strconv.ParseUint(rest, 2, 64); err == nil {
				return true
			}
		}
	}
	return false
}

// isDecimalFloat matches [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?.
func isDecimalFloat(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits := func(s string) (int, string) {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i, s[i:]
	}
	n, rest := digits(s)
	if n == 0 {
		if !strings.HasPrefix(rest, ".") {
			return false
		}
		if n, rest = digits(rest[1:]); n == 0 {
			return false
		}
	} else if strings.HasPrefix(rest, ".") {
		_, rest = digits(rest[1:])
	}
	if rest == "" {
		return true
	}
	if rest[0] != 'e' && rest[0] != 'E' {
		return false
	}
	rest = rest[1:]
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		rest = rest[1:]
	}
	n, rest = digits(rest)
	return n > 0 && rest == ""
}

// isSexagesimal matches YAML 1.1's base-60 numbers: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?
func isSexagesimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	i := 1
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
		i++
	}
	groups := 0
	for i < len(s) && s[i] == ':' {
		i++
		switch {
		case i+1 < len(s) && s[i] >= '0' && s[i] <= '5' && s[i+1] >= '0' && s[i+1] <= '9':
			i += 2
		case i < len(s) && s[i] >= '0' && s[i] <= '9':
			i++
		default:
			return false
		}
		groups++
	}
	if groups == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '_') {
			i++
		}
	}
	return i == len(s)
}

// isTimestamp says whether s is a YAML timestamp (a date, optionally with a time).
func isTimestamp(s string) bool {
	if len(s) < 5 || s[4] != '-' {
		return false
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	for _, layout := range []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// keyLess orders keys as people read them: runs of digits by their number ("port9" before
// "port10"), a letter after anything that is not one, otherwise character by character.
func keyLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		// Both are not letters: compare the numbers that start here (0 when none does),
		// counting the digits just before, unless they are all zeros.
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

package quadlet

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// splitWords splits a value into words as systemd splits command lines and lists: on
// whitespace outside quotes ('...' or "...", which may start anywhere in a word), with C
// escapes (\n, \t, \\, \", \s for a space, \xNN, \NNN, \uNNNN...) and \; (a semicolon
// that does not end an Exec command) undone. An escape systemd does not know is kept as
// written. %-specifiers and $-variables are left for systemd.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			n, r, err := unescape(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%q: %v", s, err)
			}
			cur.WriteString(r)
			i += n - 1
			inWord = true
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '"' || c == '\'':
			quote, inWord = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unbalanced quotes", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// unescape reads the escape at the start of s (s[0] is the backslash): how many bytes it takes
// and what it stands for.
func unescape(s string) (int, string, error) {
	if len(s) < 2 {
		return 1, `\`, nil
	}
	if i := strings.IndexByte(`abfnrtv\"'s;`, s[1]); i >= 0 {
		return 2, []string{"\a", "\b", "\f", "\n", "\r", "\t", "\v", `\`, `"`, "'", " ", ";"}[i], nil
	}
	hex := func(digits int) (int, string, error) {
		if len(s) < 2+digits {
			return 0, "", fmt.Errorf("short escape %q", s)
		}
		v, err := strconv.ParseUint(s[2:2+digits], 16, 32)
		if err != nil {
			return 0, "", fmt.Errorf("invalid escape %q", s[:2+digits])
		}
		if digits == 2 {
			return 4, string([]byte{byte(v)}), nil
		}
		if !utf8.ValidRune(rune(v)) || v == 0 {
			return 0, "", fmt.Errorf("invalid escape %q", s[:2+digits])
		}
		return 2 + digits, string(rune(v)), nil
	}
	switch c := s[1]; {
	case c == 'x':
		return hex(2)
	case c == 'u':
		return hex(4)
	case c == 'U':
		return hex(8)
	case c >= '0' && c <= '7':
		if len(s) < 4 {
			return 0, "", fmt.Errorf("short escape %q", s)
		}
		v, err := strconv.ParseUint(s[1:4], 8, 8)
		if err != nil || v == 0 {
			return 0, "", fmt.Errorf("invalid escape %q", s[:4])
		}
		return 4, string([]byte{byte(v)}), nil
	}
	return 2, s[:2], nil // not an escape systemd knows: kept as written
}

// quoteWord writes a word for a systemd command line so that systemd splits it back into the
// same word: in double quotes (with \\, \" and C escapes) when it holds whitespace, quotes,
// backslashes or control characters. % and $ are written as they are: a word that came from
// the user's file was already in systemd's syntax, and pea's own words hold none.
func quoteWord(w string) string {
	if w == ";" {
		return `\;` // a lone ; separates commands
	}
	plain := w != ""
	for _, r := range w {
		if r <= ' ' || r == '"' || r == '\'' || r == '\\' || r == 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return w
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range w {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < ' ' || r == 0x7f {
				fmt.Fprintf(&b, `\x%02x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// commandLine writes argv as one systemd command line.
func commandLine(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quoteWord(a)
	}
	return strings.Join(q, " ")
}

// escapeSpecifiers doubles the % of a path pea computed (the unit file's directory), so that
// systemd does not read specifiers in it.
func escapeSpecifiers(s string) string { return strings.ReplaceAll(s, "%", "%%") }

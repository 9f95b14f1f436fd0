package cli

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"
)

// fieldList is a --format template made only of literal text and {{.Field}} actions on string,
// integer and boolean fields, executed without text/template: a listing of hundreds of rows spent a tenth of its
// time in the template engine's reflection. lits[i] comes before field i; the last one ends the
// row.
type fieldList struct {
	lits   []string
	fields [][]int // reflect field indexes into the row struct
}

// compileFieldList returns the fast form of format for rows like item, or nil when the template
// needs the real engine (functions, pipelines, methods, non-string fields, anything else).
func compileFieldList(format string, item any) *fieldList {
	t := reflect.TypeOf(item)
	if t == nil {
		return nil
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fl := &fieldList{}
	rest := format
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			fl.lits = append(fl.lits, rest)
			return fl
		}
		end := strings.Index(rest[open:], "}}")
		if end < 0 {
			return nil
		}
		action := trimActionSpace(rest[open+2 : open+end])
		name, ok := strings.CutPrefix(action, ".")
		if !ok || name == "" || !isIdent(name) {
			return nil
		}
		sf, ok := t.FieldByName(name)
		if !ok || !sf.IsExported() || len(sf.Index) != 1 || !plainKind(sf.Type.Kind()) {
			return nil
		}
		if _, isMethod := reflect.PointerTo(t).MethodByName(name); isMethod {
			return nil
		}
		fl.lits = append(fl.lits, rest[:open])
		fl.fields = append(fl.fields, sf.Index)
		rest = rest[open+end+2:]
	}
}

// trimActionSpace trims the blanks text/template allows around an action's content (not form
// feeds or other Unicode spaces, which it rejects).
func trimActionSpace(s string) string { return strings.Trim(s, " \t\r\n") }

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// plainKind: the kinds of field the shortcut prints as text/template does (fmt's %v).
func plainKind(k reflect.Kind) bool {
	switch k {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// execute writes one row.
func (fl *fieldList) execute(b *bytes.Buffer, item any) {
	v := reflect.ValueOf(item)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	for i, idx := range fl.fields {
		b.WriteString(fl.lits[i])
		f := v.FieldByIndex(idx)
		switch f.Kind() {
		case reflect.String:
			b.WriteString(f.String())
		case reflect.Bool:
			b.WriteString(strconv.FormatBool(f.Bool()))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			b.WriteString(strconv.FormatUint(f.Uint(), 10))
		default:
			b.WriteString(strconv.FormatInt(f.Int(), 10))
		}
	}
	b.WriteString(fl.lits[len(fl.fields)])
}

// plainTemplate reports whether format is only literal text and {{.Field}} actions, which
// text/template always accepts: such a template needs no parse when there is no row to apply
// it to (an empty listing prints only its header).
func plainTemplate(format string) bool {
	for {
		open := strings.Index(format, "{{")
		if open < 0 {
			return !strings.Contains(format, "}}")
		}
		if strings.Contains(format[:open], "}}") {
			return false
		}
		end := strings.Index(format[open:], "}}")
		if end < 0 {
			return false
		}
		name, ok := strings.CutPrefix(trimActionSpace(format[open+2:open+end]), ".")
		if !ok || name == "" || !isIdent(name) {
			return false
		}
		format = format[open+end+2:]
	}
}

// alignColumns lays out tab-separated cells as text/tabwriter does with a minimum width of 12,
// padding 2 and spaces — podman's tables (every column as wide as its widest cell plus two, in
// runes, and at least 12; the last cell of a line unpadded), when every line has the same number of cells; anything else goes through
// text/tabwriter itself. The tabwriter buffered, measured and copied each cell: a third of
// `ps -a` with 300 containers.
func alignColumns(text []byte) []byte {
	// Vertical tabs, form feeds and 0xff bytes mean something to the tabwriter.
	if len(text) == 0 || text[len(text)-1] != '\n' || bytes.ContainsAny(text, "\v\f") || bytes.IndexByte(text, 0xff) >= 0 {
		return tabwrite(text)
	}
	lines := bytes.SplitAfter(text, []byte("\n"))
	lines = lines[:len(lines)-1] // SplitAfter's empty tail
	tabs := bytes.Count(lines[0], []byte("\t"))
	var widths []int
	if tabs > 0 {
		widths = make([]int, tabs)
	}
	for _, l := range lines {
		if bytes.Count(l, []byte("\t")) != tabs {
			return tabwrite(text)
		}
		for c := 0; c < tabs; c++ {
			i := bytes.IndexByte(l, '\t')
			widths[c] = max(widths[c], utf8.RuneCount(l[:i]))
			l = l[i+1:]
		}
	}
	if tabs == 0 {
		return text
	}
	out := make([]byte, 0, len(text)+len(lines)*tabs*2)
	for _, l := range lines {
		for c := 0; c < tabs; c++ {
			i := bytes.IndexByte(l, '\t')
			out = append(out, l[:i]...)
			for pad := max(widths[c]+2, 12) - utf8.RuneCount(l[:i]); pad > 0; pad-- {
				out = append(out, ' ')
			}
			l = l[i+1:]
		}
		out = append(out, l...)
	}
	return out
}

func tabwrite(text []byte) []byte {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 12, 0, 2, ' ', 0)
	tw.Write(text)
	tw.Flush()
	return b.Bytes()
}

package cli

import (
	"io"
	"reflect"
	"strings"
)

// fieldList is a --format template made only of literal text and {{.Field}} actions on string
// fields, executed without text/template: a listing of hundreds of rows spent a tenth of its
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
		action := strings.TrimSpace(rest[open+2 : open+end])
		name, ok := strings.CutPrefix(action, ".")
		if !ok || name == "" || !isIdent(name) {
			return nil
		}
		sf, ok := t.FieldByName(name)
		if !ok || !sf.IsExported() || len(sf.Index) != 1 || sf.Type.Kind() != reflect.String {
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

func isIdent(s string) bool {
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// execute writes one row.
func (fl *fieldList) execute(w io.Writer, item any) error {
	v := reflect.ValueOf(item)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	var b strings.Builder
	for i, idx := range fl.fields {
		b.WriteString(fl.lits[i])
		b.WriteString(v.FieldByIndex(idx).String())
	}
	b.WriteString(fl.lits[len(fl.fields)])
	_, err := io.WriteString(w, b.String())
	return err
}

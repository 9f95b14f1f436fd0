package toml

import (
	"fmt"
	"sort"
)

// Get returns the value of key in t (string, bool, int64, float64, []any, *Table or []*Table)
// and the line it was set on.
func (t *Table) Get(key string) (v any, line int, ok bool) {
	e, ok := t.vals[key]
	return e.v, e.line, ok
}

// Keys are t's keys, sorted.
func (t *Table) Keys() []string {
	keys := make([]string, 0, len(t.vals))
	for k := range t.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Decoder reads typed values out of parsed tables. A missing key gives the zero value; a
// value of the wrong type gives the zero value and sets err (the first such error is kept).
type Decoder struct{ Err error }

// TypeName names the kind of a parsed value for an error message ("an integer").
func TypeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any:
		return "an array"
	case *Table:
		return "a table"
	case []*Table:
		return "an array of tables"
	}
	return fmt.Sprintf("%T", v)
}

func (d *Decoder) wrongType(e entry, key, want, got string) {
	if d.Err == nil {
		d.Err = fmt.Errorf("line %d: %q must be %s, not %s", e.line, key, want, got)
	}
}

// Str returns the string named key.
func (d *Decoder) Str(t *Table, key string) string { return scalar[string](d, t, key, "a string") }

// Bool returns the boolean named key.
func (d *Decoder) Bool(t *Table, key string) bool {
	return scalar[bool](d, t, key, "a boolean (true or false)")
}

// scalar returns the value named key as a T, the zero T when it is absent; a value of another
// type is recorded as an error (want names T for it).
func scalar[T any](d *Decoder, t *Table, key, want string) T {
	e, ok := t.vals[key]
	v, isT := e.v.(T)
	if ok && !isT {
		d.wrongType(e, key, want, TypeName(e.v))
	}
	return v
}

func (d *Decoder) StringArray(t *Table, key string) []string {
	e, ok := t.vals[key]
	if !ok {
		return nil
	}
	arr, ok := e.v.([]any)
	if !ok {
		d.wrongType(e, key, "an array of strings", TypeName(e.v))
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		s, ok := v.(string)
		if !ok {
			d.wrongType(e, key, "an array of strings", "an array holding "+TypeName(v))
			return nil
		}
		out = append(out, s)
	}
	return out
}

// table returns the table named key, or an empty one.
func (d *Decoder) Table(t *Table, key string) *Table {
	e, ok := t.vals[key]
	sub, isTable := e.v.(*Table)
	if ok && !isTable {
		d.wrongType(e, key, "a table", TypeName(e.v))
	}
	if sub == nil {
		return &Table{}
	}
	return sub
}

// tables returns the array of tables named key: [[key]] tables, or key = [{...}, ...].
func (d *Decoder) Tables(t *Table, key string) []*Table {
	e, ok := t.vals[key]
	if !ok {
		return nil
	}
	switch v := e.v.(type) {
	case []*Table:
		return v
	case []any:
		out := make([]*Table, 0, len(v))
		for _, x := range v {
			sub, ok := x.(*Table)
			if !ok {
				d.wrongType(e, key, "an array of tables", "an array holding "+TypeName(x))
				return nil
			}
			out = append(out, sub)
		}
		return out
	}
	d.wrongType(e, key, "an array of tables", TypeName(e.v))
	return nil
}

// Int returns the integer named key.
func (d *Decoder) Int(t *Table, key string) int64 { return scalar[int64](d, t, key, "an integer") }

package k8s

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Document is one parsed YAML document.
type Document struct {
	root *ynode // nil for an empty document
}

// ParseYAML parses one YAML document. Errors name the line ("yaml: line 3: …").
// Of a stream of documents, it reads the first.
func ParseYAML(data []byte) (*Document, error) {
	root, err := parseYAML(data)
	if err != nil {
		return nil, err
	}
	return &Document{root: root}, nil
}

// Decode reads the document into obj, a pointer to an API type, as the API server reads YAML:
// the document becomes JSON, which the json tags decode. Fields the type does not know are
// skipped and returned as warnings, with their path: unknown field "spec.containers[0].imagee".
// Fields of the Kubernetes API that pea does not declare are skipped silently. Where a string
// is due, a plain scalar is taken as written (port: 8080 is "8080", on is "on"); where a
// boolean is due, YAML 1.1's yes/no/on/off are booleans too.
func (d *Document) Decode(obj any) (warnings []string, err error) {
	t := reflect.TypeOf(obj)
	if t == nil || t.Kind() != reflect.Pointer {
		return nil, fmt.Errorf("k8s: Decode needs a pointer, not %v", t)
	}
	if d.root == nil {
		return nil, nil
	}
	c := converter{}
	tree := c.convert(d.root, t.Elem(), "", 0)
	if c.err != nil {
		return nil, c.err
	}
	j, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(j, obj); err != nil {
		return nil, err
	}
	return c.warnings, nil
}

// converter turns a YAML node tree into JSON values (map[string]any, []any, string,
// json.Number, bool, nil) along the Go type the result is decoded into.
type converter struct {
	warnings []string
	err      error
	nodes    int // converted so far, aliases expanded
}

// Bounds on a document: its nesting, and the values it expands to through aliases.
const (
	maxDepth = 1000
	maxNodes = 1 << 22
)

func (c *converter) fail(n *ynode, format string, args ...any) {
	if c.err == nil {
		c.err = fmt.Errorf("yaml: line %d: %s", n.line, fmt.Sprintf(format, args...))
	}
}

// convert converts node n, to be decoded into a value of type t (nil: any); path names it in
// warnings.
func (c *converter) convert(n *ynode, t reflect.Type, path string, depth int) any {
	for n.kind == yAlias {
		n, depth = n.alias, depth+1
	}
	if c.nodes++; c.nodes > maxNodes || depth > maxDepth {
		c.fail(n, "document nested too deeply or expanding to too many values")
		return nil
	}
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.kind {
	case yScalar:
		return scalar(n, t)
	case ySeq:
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice && t != reflect.TypeFor[[]byte]() || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		out := make([]any, len(n.content))
		for i, e := range n.content {
			p := path
			if elem != nil {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			out[i] = c.convert(e, elem, p, depth+1)
		}
		return out
	case yMap:
		out := map[string]any{}
		switch {
		case t == nil || t == reflect.TypeFor[Quantity]() || t == reflect.TypeFor[IntOrString]():
			c.mapping(n, out, nil, nil, path, depth)
		case t.Kind() == reflect.Struct:
			c.mapping(n, out, t, nil, path, depth)
		case t.Kind() == reflect.Map:
			c.mapping(n, out, nil, t.Elem(), path, depth)
		default:
			c.mapping(n, out, nil, nil, path, depth)
		}
		return out
	}
	return nil
}

// mapping converts the pairs of mapping n into out: the fields of struct st, or else values of
// type elem; merge keys (<<) add the pairs of other mappings that n does not set itself.
func (c *converter) mapping(n *ynode, out map[string]any, st, elem reflect.Type, path string, depth int) {
	var fields map[string]reflect.Type
	if st != nil {
		fields = fieldsOf(st)
	}
	set := map[string]bool{}
	var merges []*ynode
	for i := 0; i+1 < len(n.content); i += 2 {
		k, v := n.content[i], n.content[i+1]
		for k.kind == yAlias {
			k = k.alias
		}
		if k.kind != yScalar {
			c.fail(k, "a mapping key must be a scalar")
			return
		}
		if k.shortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := k.value
		p := key
		if path != "" {
			p = path + "." + key
		}
		if set[key] {
			c.warnings = append(c.warnings, fmt.Sprintf("duplicate field %q", p))
		}
		set[key] = true
		if st == nil {
			out[key] = c.convert(v, elem, p, depth+1)
		} else if ft, ok := fields[key]; ok {
			out[key] = c.convert(v, ft, p, depth+1)
		} else if !isIgnoredIn(st, key) {
			c.warnings = append(c.warnings, fmt.Sprintf("unknown field %q", p))
		}
	}
	// Of the merged mappings, the first given wins.
	for _, m := range merges {
		for m.kind == yAlias {
			m = m.alias
		}
		list := []*ynode{m}
		if m.kind == ySeq {
			list = m.content
		}
		for _, e := range list {
			for e.kind == yAlias {
				e = e.alias
			}
			if e.kind != yMap {
				c.fail(e, "a merge key (<<) needs a mapping or a list of mappings")
				return
			}
			if c.nodes++; c.nodes > maxNodes || depth > maxDepth {
				c.fail(e, "document nested too deeply or expanding to too many values")
				return
			}
			sub := map[string]any{}
			c.mapping(e, sub, st, elem, path, depth+1)
			for k, v := range sub {
				if !set[k] {
					out[k], set[k] = v, true
				}
			}
		}
	}
}

// isIgnoredIn says whether name is an undeclared API field of struct t or of a struct it inlines.
func isIgnoredIn(t reflect.Type, name string) bool {
	if isIgnored(t, name) {
		return true
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.Anonymous && f.Type.Kind() == reflect.Struct && jsonName(f) == "" && isIgnoredIn(f.Type, name) {
			return true
		}
	}
	return false
}

var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// fieldsOf maps the JSON names of struct t's fields (inlined structs included) to their types.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := jsonName(f)
			switch {
			case name == "-":
			case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
				walk(f.Type)
			case !f.IsExported():
			case name == "":
				out[f.Name] = f.Type
			default:
				out[name] = f.Type
			}
		}
	}
	walk(t)
	fieldCache.Store(t, out)
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// scalar converts a scalar node for a value of type t (nil: any).
func scalar(n *ynode, t reflect.Type) any {
	tag := n.shortTag()
	if tag == "!!null" {
		return nil
	}
	plain := n.style == yPlain
	if t != nil {
		switch {
		case t == reflect.TypeFor[Quantity]():
			return n.value
		case t == reflect.TypeFor[IntOrString]():
			if plain && tag == "!!int" {
				if v, ok := number(n.value, true); ok {
					return v
				}
			}
			return n.value
		case t.Kind() == reflect.String, t == reflect.TypeFor[[]byte]():
			return n.value
		case t.Kind() == reflect.Bool && plain:
			if b, ok := yaml11Bool(n.value); ok {
				return b
			}
		case isNumber(t.Kind()) && plain:
			integer := t.Kind() != reflect.Float32 && t.Kind() != reflect.Float64
			if v, ok := number(n.value, integer); ok {
				return v
			}
		}
	}
	switch tag {
	case "!!bool":
		if b, ok := yaml11Bool(n.value); ok {
			return b
		}
	case "!!int", "!!float":
		if v, ok := number(n.value, false); ok {
			return v
		}
	}
	return n.value
}

func isNumber(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// yaml11Bool reads the booleans of YAML 1.1 (true, yes, on, y and their opposites).
func yaml11Bool(s string) (bool, bool) {
	switch s {
	case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y":
		return true, true
	case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N":
		return false, true
	}
	return false, false
}

// number reads a YAML integer (decimal, 0x, 0o, 0b, or 0-prefixed octal, with _ separators) or
// float as a JSON number. With integer, a float that is whole is written as an integer.
func number(s string, integer bool) (json.Number, bool) {
	clean := strings.ReplaceAll(s, "_", "")
	if i, err := strconv.ParseInt(clean, 0, 64); err == nil {
		return json.Number(strconv.FormatInt(i, 10)), true
	}
	if u, err := strconv.ParseUint(clean, 0, 64); err == nil {
		return json.Number(strconv.FormatUint(u, 10)), true
	}
	digits := strings.TrimLeft(clean, "+-")
	if strings.HasPrefix(digits, "0b") || strings.HasPrefix(digits, "0o") || strings.HasPrefix(digits, "0x") {
		return "", false
	}
	if strings.ContainsAny(digits, "xXpP") || strings.HasPrefix(digits, "inf") || strings.HasPrefix(digits, "Inf") {
		return "", false
	}
	f, err := strconv.ParseFloat(clean, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	if integer && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
		return json.Number(strconv.FormatInt(int64(f), 10)), true
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}

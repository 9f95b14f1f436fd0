package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func (g *gen) decFunc(t reflect.Type) string { return g.name(&g.dec, t) }

// decodeRootSwitch writes decodeRoot, which decodes a document into a pointer to a zero value
// of a root type with its generated decoder, and reports whether it could (when it could not, the
// value is zero again).
func (g *gen) decodeRootSwitch(root *bytes.Buffer, roots []reflect.Type) {
	root.WriteString("\nfunc decodeRoot(b []byte, v any) bool {\n\tswitch v := v.(type) {\n")
	for _, t := range roots {
		fmt.Fprintf(root, "\tcase *%s:\n\t\tif Decode(b, v, %s) == nil {\n\t\t\treturn true\n\t\t}\n\t\t*v = %s{}\n",
			g.typeExpr(t), g.decFunc(t), g.typeExpr(t))
	}
	root.WriteString("\t}\n\treturn false\n}\n")
}

// decStructBody writes the decoder of struct type t: the members it knows by their exact
// names, any other skipped, unless it matches one when case is ignored (encoding/json would read
// it into that field: the decoder gives up).
func (g *gen) decStructBody(t reflect.Type) error {
	fs, err := fields(t)
	if err != nil {
		return err
	}
	fn := g.dec.names[t]
	var b bytes.Buffer
	fmt.Fprintf(&b, "\nvar keys%s = %s{", fn[len("dec"):], g.jsonfast("KeySet"))
	for i, f := range fs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", f.jsonName)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "\nfunc %s(s *%s, v *%s) error {\n\treturn s.Object(func(key []byte) error {\n\t\tswitch string(key) {\n",
		fn, g.jsonfast("Scanner"), g.typeExpr(t))
	for _, f := range fs {
		fmt.Fprintf(&b, "\t\tcase %q:\n", f.jsonName)
		g.decValue(&b, "v."+f.goName, f.typ)
		b.WriteString("\t\treturn nil\n")
	}
	fmt.Fprintf(&b, "\t\t}\n\t\treturn s.Unknown(key, keys%s)\n\t})\n}\n", fn[len("dec"):])
	g.body.Write(b.Bytes())
	return nil
}

// check writes call, an error expression, and a return of its error.
func (g *gen) check(b *bytes.Buffer, call string) {
	fmt.Fprintf(b, "\tif err := %s; err != nil {\n\t\treturn err\n\t}\n", call)
}

// decValue writes the code that decodes the next value into dst, an addressable expression of
// type t, as encoding/json decodes into a zero value; inside a func() error, which it leaves
// only on an error (code may follow it: an element's append).
func (g *gen) decValue(b *bytes.Buffer, dst string, t reflect.Type) {
	pt := reflect.PointerTo(t)
	if t.Kind() != reflect.Pointer && pt.Implements(unmarshalerType) {
		r := g.tmp("raw")
		fmt.Fprintf(b, "\t%s, err := s.Raw()\n\tif err != nil {\n\t\treturn err\n\t}\n", r)
		g.check(b, fmt.Sprintf("(&%s).UnmarshalJSON(%s)", dst, r))
		return
	}
	if t.Kind() != reflect.Pointer && pt.Implements(textUnmarshalerType) {
		fmt.Fprintf(b, "\treturn %s\n", g.jsonfast("ErrFallback"))
		return
	}
	switch t.Kind() {
	case reflect.String:
		if t.Name() == "string" && t.PkgPath() == "" {
			g.check(b, fmt.Sprintf("s.Str(&%s)", dst))
			return
		}
		x := g.tmp("x")
		fmt.Fprintf(b, "\t%s := string(%s)\n", x, dst)
		g.check(b, fmt.Sprintf("s.Str(&%s)", x))
		fmt.Fprintf(b, "\t%s = %s(%s)\n", dst, g.typeExpr(t), x)
	case reflect.Bool:
		x := g.tmp("x")
		fmt.Fprintf(b, "\t%s := bool(%s)\n", x, dst)
		g.check(b, fmt.Sprintf("s.Bool(&%s)", x))
		fmt.Fprintf(b, "\t%s = %s(%s)\n", dst, g.typeExpr(t), x)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, null := g.tmp("n"), g.tmp("null")
		fmt.Fprintf(b, "\t%s, _, %s, err := s.Integer(%d, true)\n\tif err != nil {\n\t\treturn err\n\t}\n\tif !%s {\n\t\t%s = %s(%s)\n\t}\n",
			n, null, t.Bits(), null, dst, g.typeExpr(t), n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, null := g.tmp("n"), g.tmp("null")
		fmt.Fprintf(b, "\t_, %s, %s, err := s.Integer(%d, false)\n\tif err != nil {\n\t\treturn err\n\t}\n\tif !%s {\n\t\t%s = %s(%s)\n\t}\n",
			n, null, t.Bits(), null, dst, g.typeExpr(t), n)
	case reflect.Float32, reflect.Float64:
		n, null := g.tmp("n"), g.tmp("null")
		fmt.Fprintf(b, "\t%s, %s, err := s.Float(%d)\n\tif err != nil {\n\t\treturn err\n\t}\n\tif !%s {\n\t\t%s = %s(%s)\n\t}\n",
			n, null, t.Bits(), null, dst, g.typeExpr(t), n)
	case reflect.Pointer:
		fmt.Fprintf(b, "\tif s.Literal(\"null\") {\n\t\t%s = nil\n\t} else {\n\tif %s == nil {\n\t\t%s = new(%s)\n\t}\n",
			dst, dst, dst, g.typeExpr(t.Elem()))
		g.decValue(b, "(*"+dst+")", t.Elem())
		b.WriteString("\t}\n")
	case reflect.Struct:
		if t.Name() == "" {
			if t.NumField() == 0 { // struct{}: any object, its members dropped
				g.check(b, "s.Object(func([]byte) error { return s.Skip() })")
				return
			}
			fmt.Fprintf(b, "\treturn %s\n", g.jsonfast("ErrFallback"))
			return
		}
		g.check(b, fmt.Sprintf("%s(s, &%s)", g.decFunc(t), dst))
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			fmt.Fprintf(b, "\treturn %s\n", g.jsonfast("ErrFallback")) // base64: encoding/json's
			return
		}
		out, e := g.tmp("out"), g.tmp("e")
		fmt.Fprintf(b, "\tif s.Literal(\"null\") {\n\t\t%s = nil\n\t} else {\n\t%s := %s[:0]\n\tif %s == nil {\n\t\t%s = %s{}\n\t}\n",
			dst, out, dst, out, out, g.typeExpr(t))
		fmt.Fprintf(b, "\tif err := s.Array(func() error {\n\t\tvar %s %s\n", e, g.typeExpr(t.Elem()))
		g.decValue(b, e, t.Elem())
		fmt.Fprintf(b, "\t\t%s = append(%s, %s)\n\t\treturn nil\n\t}); err != nil {\n\t\treturn err\n\t}\n\t%s = %s\n\t}\n", out, out, e, dst, out)
	case reflect.Map:
		if t.Key().Kind() != reflect.String || reflect.PointerTo(t.Key()).Implements(textUnmarshalerType) {
			fmt.Fprintf(b, "\treturn %s\n", g.jsonfast("ErrFallback"))
			return
		}
		e := g.tmp("e")
		fmt.Fprintf(b, "\tif s.Literal(\"null\") {\n\t\t%s = nil\n\t} else {\n\tif %s == nil {\n\t\t%s = %s{}\n\t}\n",
			dst, dst, dst, g.typeExpr(t))
		fmt.Fprintf(b, "\tif err := s.Object(func(key []byte) error {\n\t\tvar %s %s\n", e, g.typeExpr(t.Elem()))
		g.decValue(b, e, t.Elem())
		fmt.Fprintf(b, "\t\t%s[%s(key)] = %s\n\t\treturn nil\n\t}); err != nil {\n\t\treturn err\n\t}\n\t}\n", dst, g.typeExpr(t.Key()), e)
	case reflect.Interface:
		r := g.tmp("raw")
		fmt.Fprintf(b, "\t%s, err := s.Raw()\n\tif err != nil {\n\t\treturn err\n\t}\n", r)
		g.check(b, fmt.Sprintf("%s.Unmarshal(%s, &%s)", g.pkgName("encoding/json"), r, dst))
	default: // arrays, and what encoding/json refuses
		fmt.Fprintf(b, "\treturn %s\n", g.jsonfast("ErrFallback"))
	}
}

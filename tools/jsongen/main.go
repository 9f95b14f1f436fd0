// Command jsongen writes the generated halves of pea's JSON fast paths (see package jsonfast):
// internal/jsonfast/types.gen.go, encoders for the types pea writes on every start and decoders
// of the state's container and pod documents; internal/state/json.gen.go, the decoder of the
// part of a container config a listing reads; internal/image/json.gen.go, the image index's. Each encoder writes what encoding/json's Marshal writes, byte for byte; each decoder
// reads what encoding/json's Unmarshal reads into a zero value, or gives up (jsonfast.ErrFallback)
// so that its caller hands the document to encoding/json. It reads the types with reflect, so it
// is run again whenever one of them changes; its test fails when a file it would write differs
// from the one in the tree:
//
//	go run ./tools/jsongen
//
// The tool imports the packages it writes into: when hand-written code starts calling the
// generated function of a new root, that package builds only once the function exists, so the
// first run needs a stub of it (deleted before the run).
//
// It declines what it does not handle the way encoding/json does — an embedded pointer, the
// omitzero or ",string" options, an invalid tag name — and fails naming the field, rather than
// write code that could differ.
package main

import (
	"bytes"
	"encoding"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"unicode"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/state"
)

// encodeRoots are the types jsonfast.Marshal encodes itself (as values and through pointers).
var encodeRoots = []reflect.Type{
	reflect.TypeFor[specs.Spec](),
	reflect.TypeFor[specs.LinuxSeccomp](),
	reflect.TypeFor[specs.Process](),
	reflect.TypeFor[model.ContainerConfig](),
	reflect.TypeFor[model.ContainerState](),
	reflect.TypeFor[model.PodConfig](),
	reflect.TypeFor[model.PodState](),
}

// leftToJSON are types reachable from the roots that pea never fills in (other operating systems'
// and virtual machines' sections of the spec): a non-nil one goes through encoding/json, and
// the binary carries no encoder for them.
var leftToJSON = []reflect.Type{
	reflect.TypeFor[specs.Windows](),
	reflect.TypeFor[specs.Solaris](),
	reflect.TypeFor[specs.VM](),
	reflect.TypeFor[specs.FreeBSD](),
	reflect.TypeFor[specs.ZOS](),
}

// A target is one generated file: the package it is in, where it goes (relative to the module's
// root), and the types it has encoders and decoders for.
type target struct {
	pkgPath, output string
	encode, decode  []reflect.Type
}

var targets = []target{
	{pkgPath: "pea/internal/jsonfast", output: "internal/jsonfast/types.gen.go", encode: encodeRoots,
		decode: []reflect.Type{reflect.TypeFor[model.ContainerConfig](), reflect.TypeFor[model.ContainerState](),
			reflect.TypeFor[model.PodConfig](), reflect.TypeFor[model.PodState]()}},
	{pkgPath: "pea/internal/image", output: "internal/image/json.gen.go",
		decode: []reflect.Type{reflect.TypeFor[image.Index]()}},
	{pkgPath: "pea/internal/state", output: "internal/state/json.gen.go",
		decode: []reflect.Type{reflect.TypeFor[state.ListedConfig]()}},
}

func main() {
	flag.Parse()
	for _, t := range targets {
		src, err := Generate(t)
		if err == nil {
			err = os.WriteFile(t.output, src, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "jsongen:", err)
			os.Exit(1)
		}
	}
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

type gen struct {
	pkgPath  string
	enc, dec funcSet
	imports  map[string]string // package path -> name used in the file
	body     bytes.Buffer
	vars     int
}

// funcSet names the generated functions of one kind (encoders, decoders), one per struct type,
// and queues the types whose function is still to be written.
type funcSet struct {
	prefix string
	names  map[reflect.Type]string
	queue  []reflect.Type
}

// name is the name of t's function in fs, queued to be written on first use.
func (g *gen) name(fs *funcSet, t reflect.Type) string {
	if fn, ok := fs.names[t]; ok {
		return fn
	}
	fn := fs.prefix + g.funcSuffix(t)
	fs.names[t] = fn
	fs.queue = append(fs.queue, t)
	return fn
}

// Generate returns the source of target's file.
func Generate(tg target) ([]byte, error) {
	g := &gen{pkgPath: tg.pkgPath, imports: map[string]string{},
		enc: funcSet{prefix: "enc", names: map[reflect.Type]string{}},
		dec: funcSet{prefix: "dec", names: map[reflect.Type]string{}}}
	var root bytes.Buffer
	if len(tg.encode) > 0 {
		g.encodeRootSwitch(&root, tg.encode)
	}
	if tg.pkgPath == "pea/internal/jsonfast" && len(tg.decode) > 0 {
		g.decodeRootSwitch(&root, tg.decode)
	}
	for _, t := range tg.decode {
		g.decFunc(t)
	}
	for len(g.enc.queue) > 0 || len(g.dec.queue) > 0 {
		var err error
		if len(g.enc.queue) > 0 {
			t := g.enc.queue[0]
			g.enc.queue = g.enc.queue[1:]
			err = g.structBody(t)
		} else {
			t := g.dec.queue[0]
			g.dec.queue = g.dec.queue[1:]
			err = g.decStructBody(t)
		}
		if err != nil {
			return nil, err
		}
	}
	var f bytes.Buffer
	fmt.Fprintf(&f, "// Code generated by tools/jsongen; DO NOT EDIT.\n\npackage %s\n\nimport (\n", tg.pkgPath[strings.LastIndex(tg.pkgPath, "/")+1:])
	paths := make([]string, 0, len(g.imports))
	for p := range g.imports {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		fmt.Fprintf(&f, "\t%s %q\n", g.imports[p], p)
	}
	f.WriteString(")\n\n")
	f.Write(root.Bytes())
	f.Write(g.body.Bytes())
	src, err := format.Source(f.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the generated source: %w\n%s", err, f.Bytes())
	}
	return src, nil
}

// encodeRootSwitch writes encodeRoot, which picks the encoder of a value of a root type.
func (g *gen) encodeRootSwitch(root *bytes.Buffer, roots []reflect.Type) {
	root.WriteString("func encodeRoot(e *encoder, v any) bool {\n\tswitch v := v.(type) {\n")
	for _, t := range roots {
		fn := g.structFunc(t)
		te := g.typeExpr(t)
		fmt.Fprintf(root, "\tcase *%s:\n\t\tif v == nil {\n\t\t\te.null()\n\t\t} else {\n\t\t\t%s(e, v)\n\t\t}\n", te, fn)
		fmt.Fprintf(root, "\tcase %s:\n\t\t%s(e, &v)\n", te, fn)
	}
	root.WriteString("\tdefault:\n\t\treturn false\n\t}\n\treturn true\n}\n")
}

// pkgName is the name the file uses for package path p.
func (g *gen) pkgName(p string) string {
	if n, ok := g.imports[p]; ok {
		return n
	}
	base := p[strings.LastIndex(p, "/")+1:]
	base = strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, strings.TrimSuffix(base, "-go"))
	n := base
	for i := 2; slices.Contains(slices.Collect(maps.Values(g.imports)), n); i++ {
		n = fmt.Sprintf("%s%d", base, i)
	}
	g.imports[p] = n
	return n
}

// typeExpr is t written in the generated file.
func (g *gen) typeExpr(t reflect.Type) string {
	if t.Name() != "" {
		if t.PkgPath() == "" || t.PkgPath() == g.pkgPath {
			return t.Name()
		}
		return g.pkgName(t.PkgPath()) + "." + t.Name()
	}
	switch t.Kind() {
	case reflect.Pointer:
		return "*" + g.typeExpr(t.Elem())
	case reflect.Slice:
		return "[]" + g.typeExpr(t.Elem())
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), g.typeExpr(t.Elem()))
	case reflect.Map:
		return "map[" + g.typeExpr(t.Key()) + "]" + g.typeExpr(t.Elem())
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return "any"
		}
	case reflect.Struct:
		if t.NumField() == 0 {
			return "struct{}"
		}
	}
	panic("jsongen: no name for type " + t.String())
}

func (g *gen) structFunc(t reflect.Type) string { return g.name(&g.enc, t) }

// funcSuffix names struct type t in its encoder's and decoder's names: the type's name, after
// its package's for a type of another package.
func (g *gen) funcSuffix(t reflect.Type) string {
	if t.PkgPath() == g.pkgPath {
		return strings.ToUpper(t.Name()[:1]) + t.Name()[1:]
	}
	p := g.pkgName(t.PkgPath())
	return strings.ToUpper(p[:1]) + p[1:] + t.Name()
}

// jsonfast is what names the exported identifier id of package jsonfast in the file.
func (g *gen) jsonfast(id string) string {
	if g.pkgPath == "pea/internal/jsonfast" {
		return id
	}
	return g.pkgName("pea/internal/jsonfast") + "." + id
}

func (g *gen) tmp(prefix string) string {
	g.vars++
	return fmt.Sprintf("%s%d", prefix, g.vars)
}

type field struct {
	goName, jsonName string
	typ              reflect.Type
	omitEmpty        bool
	tagged           bool
	depth            int
	index            []int
}

// fields lists t's members as encoding/json does — an embedded struct's fields promoted, a name
// kept by the shallowest field that has it (at equal depth by the only tagged one, else by none)
// — declining what it would not reproduce.
func fields(t reflect.Type) ([]field, error) {
	var all []field
	if err := collect(t, nil, 0, &all); err != nil {
		return nil, err
	}
	byName := map[string][]field{}
	for _, f := range all {
		byName[f.jsonName] = append(byName[f.jsonName], f)
	}
	var fs []field
	for _, cand := range byName {
		if f, ok := dominant(cand); ok {
			fs = append(fs, f)
		}
	}
	slices.SortFunc(fs, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return fs, nil
}

func dominant(fs []field) (field, bool) {
	least := fs[0].depth
	for _, f := range fs {
		least = min(least, f.depth)
	}
	var top, tagged []field
	for _, f := range fs {
		if f.depth == least {
			top = append(top, f)
			if f.tagged {
				tagged = append(tagged, f)
			}
		}
	}
	if len(top) == 1 {
		return top[0], true
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return field{}, false
}

func collect(t reflect.Type, index []int, depth int, all *[]field) error {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		where := t.String() + "." + sf.Name
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		idx := append(slices.Clone(index), i)
		if sf.Anonymous {
			ft := sf.Type
			if ft.Kind() == reflect.Pointer {
				return fmt.Errorf("%s: an embedded pointer is not supported", where)
			}
			if !sf.IsExported() && ft.Kind() != reflect.Struct {
				continue
			}
			if name == "" && ft.Kind() == reflect.Struct {
				if err := collect(ft, idx, depth+1, all); err != nil {
					return err
				}
				continue
			}
			if depth > 0 {
				return fmt.Errorf("%s: a named embedded field inside an embedded one is not supported", where)
			}
		} else if !sf.IsExported() {
			continue
		}
		f := field{goName: sf.Name, typ: sf.Type, tagged: name != "", depth: depth, index: idx}
		if name == "" {
			name = sf.Name
		} else if !validTag(name) {
			return fmt.Errorf("%s: tag name %q is not one encoding/json takes", where, name)
		}
		f.jsonName = name
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				f.omitEmpty = true
			default:
				return fmt.Errorf("%s: option %q is not supported", where, o)
			}
		}
		*all = append(*all, f)
	}
	return nil
}

// validTag is encoding/json's test of a tag name.
func validTag(s string) bool {
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

func (g *gen) structBody(t reflect.Type) error {
	fs, err := fields(t)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "\nfunc %s(e *encoder, v *%s) {\n\te.b = append(e.b, '{')\n", g.enc.names[t], g.typeExpr(t))
	for _, f := range fs {
		quoted, _ := json.Marshal(f.jsonName)
		expr := "v." + f.goName
		cond := ""
		if f.omitEmpty {
			cond = emptyTest(expr, f.typ)
		}
		if cond != "" {
			fmt.Fprintf(&b, "\tif %s {\n", cond)
		}
		fmt.Fprintf(&b, "\te.name(%q)\n", string(quoted))
		g.value(&b, expr, f.typ, true)
		if cond != "" {
			b.WriteString("\t}\n")
		}
	}
	b.WriteString("\te.b = append(e.b, '}')\n}\n")
	g.body.Write(b.Bytes())
	return nil
}

// emptyTest is the condition under which an omitempty field is written (encoding/json's
// isEmptyValue negated), or "" when it always is (a struct).
func emptyTest(expr string, t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return "len(" + expr + ") != 0"
	case reflect.Bool:
		return expr
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64:
		return expr + " != 0"
	case reflect.Interface, reflect.Pointer:
		return expr + " != nil"
	}
	return ""
}

// marshals reports whether encoding/json encodes a t with the type's own method.
func marshals(t reflect.Type, addressable bool) bool {
	if t.Implements(marshalerType) || t.Implements(textMarshalerType) {
		return true
	}
	if addressable && t.Kind() != reflect.Pointer {
		p := reflect.PointerTo(t)
		return p.Implements(marshalerType) || p.Implements(textMarshalerType)
	}
	return false
}

// value writes the code that encodes expr, of type t.
func (g *gen) value(b *bytes.Buffer, expr string, t reflect.Type, addressable bool) {
	if slices.Contains(leftToJSON, t) || t.Kind() == reflect.Pointer && slices.Contains(leftToJSON, t.Elem()) {
		fmt.Fprintf(b, "\te.value(%s)\n", expr)
		return
	}
	if marshals(t, addressable) {
		if addressable && t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
			fmt.Fprintf(b, "\te.value(&%s)\n", expr)
		} else {
			fmt.Fprintf(b, "\te.value(%s)\n", expr)
		}
		return
	}
	switch t.Kind() {
	case reflect.Bool:
		fmt.Fprintf(b, "\te.boolean(bool(%s))\n", expr)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		fmt.Fprintf(b, "\te.int(int64(%s))\n", expr)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		fmt.Fprintf(b, "\te.uint(uint64(%s))\n", expr)
	case reflect.String:
		if t == reflect.TypeFor[json.Number]() {
			fmt.Fprintf(b, "\te.value(%s)\n", expr)
			return
		}
		fmt.Fprintf(b, "\te.str(string(%s))\n", expr)
	case reflect.Pointer:
		p := g.tmp("p")
		fmt.Fprintf(b, "\tif %s := %s; %s == nil {\n\t\te.null()\n\t} else {\n", p, expr, p)
		if t.Elem().Kind() == reflect.Struct && t.Elem().Name() != "" && !marshals(t.Elem(), true) {
			fmt.Fprintf(b, "\t%s(e, %s)\n", g.structFunc(t.Elem()), p)
		} else {
			g.value(b, "(*"+p+")", t.Elem(), true)
		}
		b.WriteString("\t}\n")
	case reflect.Struct:
		if t.Name() == "" {
			fmt.Fprintf(b, "\te.value(%s)\n", expr)
			return
		}
		if addressable {
			fmt.Fprintf(b, "\t%s(e, &%s)\n", g.structFunc(t), expr)
		} else {
			x := g.tmp("x")
			fmt.Fprintf(b, "\t{\n\t\t%s := %s\n\t\t%s(e, &%s)\n\t}\n", x, expr, g.structFunc(t), x)
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 { // base64, or numbers: encoding/json's
			fmt.Fprintf(b, "\te.value(%s)\n", expr)
			return
		}
		s, i := g.tmp("s"), g.tmp("i")
		fmt.Fprintf(b, "\tif %s := %s; %s == nil {\n\t\te.null()\n\t} else {\n\t\te.b = append(e.b, '[')\n\t\tfor %s := range %s {\n\t\t\te.sep()\n", s, expr, s, i, s)
		g.value(b, s+"["+i+"]", t.Elem(), true)
		b.WriteString("\t\t}\n\t\te.b = append(e.b, ']')\n\t}\n")
	case reflect.Array:
		i := g.tmp("i")
		fmt.Fprintf(b, "\te.b = append(e.b, '[')\n\tfor %s := range %s {\n\t\te.sep()\n", i, expr)
		g.value(b, expr+"["+i+"]", t.Elem(), addressable)
		b.WriteString("\t}\n\te.b = append(e.b, ']')\n")
	case reflect.Map:
		if t.Key().Kind() != reflect.String || marshals(t.Key(), false) {
			fmt.Fprintf(b, "\te.value(%s)\n", expr)
			return
		}
		m, ks, k := g.tmp("m"), g.tmp("keys"), g.tmp("k")
		fmt.Fprintf(b, "\tif %s := %s; %s == nil {\n\t\te.null()\n\t} else {\n", m, expr, m)
		fmt.Fprintf(b, "\t\t%s := make([]%s, 0, len(%s))\n\t\tfor %s := range %s {\n\t\t\t%s = append(%s, %s)\n\t\t}\n\t\t%s.Sort(%s)\n",
			ks, g.typeExpr(t.Key()), m, k, m, ks, ks, k, g.pkgName("slices"), ks)
		fmt.Fprintf(b, "\t\te.b = append(e.b, '{')\n\t\tfor _, %s := range %s {\n\t\t\te.sep()\n\t\t\te.str(string(%s))\n\t\t\te.b = append(e.b, ':')\n", k, ks, k)
		g.value(b, m+"["+k+"]", t.Elem(), false)
		b.WriteString("\t\t}\n\t\te.b = append(e.b, '}')\n\t}\n")
	default: // floats, interfaces, and what encoding/json refuses (it says why)
		fmt.Fprintf(b, "\te.value(%s)\n", expr)
	}
}

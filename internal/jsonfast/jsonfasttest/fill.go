// Package jsonfasttest makes random values for the tests that compare pea's JSON fast paths
// with encoding/json.
package jsonfasttest

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// NewFiller returns a Filler whose values follow from seed.
func NewFiller(seed uint64) *Filler { return &Filler{r: rand.New(rand.NewPCG(seed, seed+1))} }

// strs are the strings values are made of: plain ones, and each thing encoding/json escapes.
var strs = []string{
	"", "a", "busybox", "/bin/sh", "PATH=/usr/bin:/bin", "x<y>&z", "quote\"back\\slash",
	"tab\tnl\nret\rbs\bff\f", "\x00\x01\x1f\x7f", "line\u2028para\u2029", "héllo wörld ✓ 日本",
	"bad\xffutf8\xc3", "\xe2\x80", "emoji 😀", "</script>",
}

// Filler puts random values in everything reachable from a value: every field set or left
// zero, nil or empty at random, strings with each character encoding/json escapes.
type Filler struct {
	r     *rand.Rand
	depth int
}

func (f *Filler) Fill(v reflect.Value) {
	if f.depth > 12 {
		return
	}
	f.depth++
	defer func() { f.depth-- }()
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		if f.r.IntN(4) > 0 {
			v.Set(reflect.ValueOf(time.Unix(f.r.Int64N(4e9), f.r.Int64N(1e9)).UTC()))
		}
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if f.r.IntN(3) > 0 {
			n := f.r.Int64() >> f.r.IntN(64)
			if f.r.IntN(2) == 0 {
				n = -n
			}
			v.SetInt(n)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if f.r.IntN(3) > 0 {
			v.SetUint(f.r.Uint64() >> f.r.IntN(64))
		}
	case reflect.Float32, reflect.Float64:
		switch f.r.IntN(4) {
		case 1:
			v.SetFloat(f.r.Float64() * 1e-8)
		case 2:
			v.SetFloat(float64(f.r.IntN(1000)) / 8)
		case 3:
			v.SetFloat(f.r.Float64() * 1e25)
		}
	case reflect.String:
		v.SetString(strs[f.r.IntN(len(strs))])
	case reflect.Pointer:
		if f.r.IntN(3) > 0 {
			p := reflect.New(v.Type().Elem())
			f.Fill(p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		switch n := f.r.IntN(4); n {
		case 0: // nil
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := 0; i < n-1; i++ {
				f.Fill(s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			f.Fill(v.Index(i))
		}
	case reflect.Map:
		switch n := f.r.IntN(4); n {
		case 0:
		default:
			m := reflect.MakeMap(v.Type())
			for i := 0; i < n-1; i++ {
				k := reflect.New(v.Type().Key()).Elem()
				f.Fill(k)
				e := reflect.New(v.Type().Elem()).Elem()
				f.Fill(e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				f.Fill(v.Field(i))
			} else if v.Type().Field(i).Anonymous { // an unexported embedded struct: its fields
				inner := v.Field(i)
				for j := 0; j < inner.NumField(); j++ {
					if inner.Type().Field(j).IsExported() {
						f.Fill(inner.Field(j))
					}
				}
			}
		}
	case reflect.Interface:
		if v.NumMethod() == 0 {
			switch f.r.IntN(4) {
			case 1:
				v.Set(reflect.ValueOf(strs[f.r.IntN(len(strs))]))
			case 2:
				v.Set(reflect.ValueOf(map[string]any{"k": 1.5, "a<b": []any{"x", true}}))
			}
		}
	}
}

// SameDecode decodes doc with decode and with json.Unmarshal, each into a new zero T, and fails
// unless both fail or both give deeply equal values. It reports whether decode's fast path read
// the document (fast).
func SameDecode[T any](t *testing.T, doc []byte, decode func([]byte, *T) error, fast func([]byte, *T) bool) bool {
	t.Helper()
	var want, got, probe T
	werr := json.Unmarshal(doc, &want)
	gerr := decode(doc, &got)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("document %q: encoding/json's error %v, the fast path's %v", doc, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("document %q:\n fast path:     %+v\n encoding/json: %+v", doc, got, want)
	}
	return fast(doc, &probe)
}

// Mutate makes one to three random changes to doc (a byte replaced, removed or inserted, from
// bytes that matter to JSON and a few that do not belong in it) and returns the result.
func (f *Filler) Mutate(doc []byte) []byte {
	const alphabet = "{}[]\":,0123456789.eE-+ntrufalsIDdN\\ \xff\xc3é"
	doc = append([]byte(nil), doc...)
	for n := 1 + f.r.IntN(3); n > 0 && len(doc) > 0; n-- {
		p := f.r.IntN(len(doc))
		c := alphabet[f.r.IntN(len(alphabet))]
		switch f.r.IntN(3) {
		case 0:
			doc[p] = c
		case 1:
			doc = append(doc[:p], doc[p+1:]...)
		default:
			doc = append(doc[:p], append([]byte{c}, doc[p:]...)...)
		}
	}
	return doc
}

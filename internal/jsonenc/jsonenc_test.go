package jsonenc

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/model"
)

// strs are the strings values are made of: plain ones, and each thing encoding/json escapes.
var strs = []string{
	"", "a", "busybox", "/bin/sh", "PATH=/usr/bin:/bin", "x<y>&z", "quote\"back\\slash",
	"tab\tnl\nret\rbs\bff\f", "\x00\x01\x1f\x7f", "line\u2028para\u2029", "héllo wörld ✓ 日本",
	"bad\xffutf8\xc3", "\xe2\x80", "emoji 😀", "</script>",
}

// filler puts random values in everything reachable from a value.
type filler struct {
	r     *rand.Rand
	depth int
}

func (f *filler) fill(v reflect.Value) {
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
			f.fill(p.Elem())
			v.Set(p)
		}
	case reflect.Slice:
		switch n := f.r.IntN(4); n {
		case 0: // nil
		default:
			s := reflect.MakeSlice(v.Type(), n-1, n-1)
			for i := 0; i < n-1; i++ {
				f.fill(s.Index(i))
			}
			v.Set(s)
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			f.fill(v.Index(i))
		}
	case reflect.Map:
		switch n := f.r.IntN(4); n {
		case 0:
		default:
			m := reflect.MakeMap(v.Type())
			for i := 0; i < n-1; i++ {
				k := reflect.New(v.Type().Key()).Elem()
				f.fill(k)
				e := reflect.New(v.Type().Elem()).Elem()
				f.fill(e)
				m.SetMapIndex(k, e)
			}
			v.Set(m)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			} else if v.Type().Field(i).Anonymous { // an unexported embedded struct: its fields
				inner := v.Field(i)
				for j := 0; j < inner.NumField(); j++ {
					if inner.Type().Field(j).IsExported() {
						f.fill(inner.Field(j))
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

func same(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := Marshal(v)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%T: encoding/json's error %v, jsonenc's %v", v, werr, gerr)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%T differs at byte %d:\n jsonenc:       %.200s\n encoding/json: %.200s", v, i, got[i:], want[i:])
	}
}

// TestSameAsEncodingJSON: for random values of every root type (with every field set or left
// zero, nil or empty at random, and strings with each character encoding/json escapes), the
// generated encoders write exactly what encoding/json writes.
func TestSameAsEncodingJSON(t *testing.T) {
	f := &filler{r: rand.New(rand.NewPCG(1, 2))}
	for i := 0; i < 400; i++ {
		for _, v := range []any{&specs.Spec{}, &specs.LinuxSeccomp{}, &specs.Process{}, &model.ContainerConfig{},
			&model.ContainerState{}, &model.PodConfig{}, &model.PodState{}} {
			rv := reflect.ValueOf(v)
			f.fill(rv.Elem())
			same(t, v)
			same(t, rv.Elem().Interface()) // the value itself, not a pointer
		}
	}
}

// TestRootsAndOthers: a nil pointer of a root type is null; a type that is not a root goes
// through encoding/json; zero values of the roots encode as encoding/json's do.
func TestRootsAndOthers(t *testing.T) {
	same(t, (*specs.Spec)(nil))
	same(t, (*model.ContainerConfig)(nil))
	same(t, map[string]int{"b": 1, "a": 2})
	same(t, specs.Spec{})
	same(t, model.ContainerState{})
	if _, err := Marshal(make(chan int)); err == nil {
		t.Fatal("a channel was encoded")
	}
}

// TestRealSpecIsFast: the spec of an ordinary container is encoded without encoding/json (which
// would mean its reflection tables were built after all).
func TestGeneratedPathTaken(t *testing.T) {
	e := &encoder{b: make([]byte, 0, 64)}
	if !encodeRoot(e, &specs.Spec{Version: "1.0.0", Process: &specs.Process{Args: []string{"true"}}}) {
		t.Fatal("*specs.Spec has no generated encoder")
	}
	if string(e.b) != `{"ociVersion":"1.0.0","process":{"user":{"uid":0,"gid":0},"args":["true"],"cwd":""}}` {
		t.Fatalf("got %s", e.b)
	}
}

func BenchmarkSpec(b *testing.B) {
	v := &specs.Spec{}
	(&filler{r: rand.New(rand.NewPCG(3, 4))}).fill(reflect.ValueOf(v).Elem())
	b.Run("jsonenc", func(b *testing.B) {
		for b.Loop() {
			Marshal(v)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(v)
		}
	})
}

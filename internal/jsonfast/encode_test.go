package jsonfast

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/jsonfast/jsonfasttest"
	"pea/internal/model"
)

func same(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := Marshal(v)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%T: encoding/json's error %v, jsonfast's %v", v, werr, gerr)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%T differs at byte %d:\n jsonfast:       %.200s\n encoding/json: %.200s", v, i, got[i:], want[i:])
	}
}

// TestSameAsEncodingJSON: for random values of every root type (with every field set or left
// zero, nil or empty at random, and strings with each character encoding/json escapes), the
// generated encoders write exactly what encoding/json writes.
func TestSameAsEncodingJSON(t *testing.T) {
	f := jsonfasttest.NewFiller(1)
	for i := 0; i < 400; i++ {
		for _, v := range []any{&specs.Spec{}, &specs.LinuxSeccomp{}, &specs.Process{}, &model.ContainerConfig{},
			&model.ContainerState{}, &model.PodConfig{}, &model.PodState{}} {
			rv := reflect.ValueOf(v)
			f.Fill(rv.Elem())
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

// TestGeneratedPathTaken: an ordinary spec is encoded by its generated encoder, not handed to
// encoding/json (which would build its reflection tables after all).
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
	jsonfasttest.NewFiller(3).Fill(reflect.ValueOf(v).Elem())
	b.Run("jsonfast", func(b *testing.B) {
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

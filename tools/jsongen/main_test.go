package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGeneratedFileIsCurrent fails when a type the encoders are generated from changed and
// a generated file was not written again (go run ./tools/jsongen).
func TestGeneratedFileIsCurrent(t *testing.T) {
	for _, tg := range targets {
		want, err := Generate(tg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", tg.output))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run go run ./tools/jsongen", tg.output)
		}
	}
}

// TestDeclines: what the generator cannot encode as encoding/json does makes it fail, naming
// the field.
func TestDeclines(t *testing.T) {
	type withOmitZero struct {
		A int `json:"a,omitzero"`
	}
	type withString struct {
		N int `json:"n,string"`
	}
	type Inner struct{ X int }
	type withEmbeddedPtr struct {
		*Inner
	}
	for _, v := range []any{withOmitZero{}, withString{}, withEmbeddedPtr{}} {
		typ := reflect.TypeOf(v)
		if _, err := fields(typ); err == nil {
			t.Errorf("%T was accepted", v)
		}
	}
}

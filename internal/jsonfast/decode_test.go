package jsonfast

import (
	"encoding/json"
	"reflect"
	"testing"

	"pea/internal/jsonfast/jsonfasttest"
	"pea/internal/model"
)

func unmarshalConfig(b []byte, v *model.ContainerConfig) error { return Unmarshal(b, v) }
func fastConfig(b []byte, v *model.ContainerConfig) bool       { return decodeRoot(b, v) }

// TestDecodeSameAsEncodingJSON: random container configs, as json.Marshal writes them, decode
// to what json.Unmarshal makes of them, and through the generated decoder (not the fallback).
func TestDecodeSameAsEncodingJSON(t *testing.T) {
	f := jsonfasttest.NewFiller(5)
	fast := 0
	for i := 0; i < 500; i++ {
		var v model.ContainerConfig
		f.Fill(reflect.ValueOf(&v).Elem())
		doc, err := json.Marshal(&v)
		if err != nil {
			t.Fatal(err)
		}
		if jsonfasttest.SameDecode(t, doc, unmarshalConfig, fastConfig) {
			fast++
		}
	}
	if fast < 500 {
		t.Fatalf("only %d of 500 documents json.Marshal wrote took the fast path", fast)
	}
}

// TestDecodeOddDocuments: what json.Marshal does not write — keys in another case (which
// encoding/json matches to fields), a key folded beyond ASCII, nulls, unknown and repeated keys,
// numbers that are not plain integers, values of the wrong type, escapes — decodes as
// encoding/json decodes it, or fails as it fails.
func TestDecodeOddDocuments(t *testing.T) {
	for _, doc := range []string{
		`{"id":"a","ID":"b"}`, `{"ID":"b"}`, `{"Name":"n","name":"m"}`, `{"ſtopSignal":1}`,
		`{"id":null,"cmd":null,"labels":null,"resources":null,"namespaces":null}`,
		`{"cmd":[],"labels":{},"mounts":[{"options":null}]}`,
		`{"bogus":{"a":[1,2,{"b":null}]},"id":"x"}`, `{"id":"x","id":"y"}`,
		`{"labels":{"a":"1"},"labels":{"b":"2"}}`, `{"cmd":["a"],"cmd":["b","c"]}`,
		`{"stopSignal":1.0}`, `{"stopSignal":1e2}`, `{"stopSignal":-0}`, `{"stopTimeout":-1}`,
		`{"stopSignal":99999999999999999999}`, `{"stopSignal":"9"}`, `{"id":9}`, `{"cmd":"x"}`,
		`{"resources":{"cpus":1.5,"memory":12}}`, `{"resources":{"cpus":"x"}}`,
		`{"id":"a\u003cb\u0026c\"d\\e\/f\n\u00e9\ud83d\ude00"}`, `{"id":"\ud800"}`, `{"id":"bad\xff"}`,
		`{"created":"2026-11-30T17:00:00.5+02:00"}`, `{"created":null}`, `{"created":"yesterday"}`,
		`{"network":{"ports":[{"hostPort":80,"containerPort":8080,"protocol":"tcp"}]}}`,
		`{"namespaces":{"net":{"mode":"host"}}}`, `{} `, ` {}`, `{}x`, `{"id":"a"`, `[]`, `null`, ``,
	} {
		jsonfasttest.SameDecode(t, []byte(doc), unmarshalConfig, fastConfig)
	}
}

// TestDecodeMutations: random single-byte changes to documents json.Marshal wrote decode as
// encoding/json decodes them, or fail as it fails.
func TestDecodeMutations(t *testing.T) {
	f := jsonfasttest.NewFiller(7)
	for i := 0; i < 3000; i++ {
		var v model.ContainerConfig
		f.Fill(reflect.ValueOf(&v).Elem())
		doc, _ := json.Marshal(&v)
		doc = f.Mutate(doc)
		jsonfasttest.SameDecode(t, doc, unmarshalConfig, fastConfig)
	}
}

func BenchmarkDecodeConfig(b *testing.B) {
	var v model.ContainerConfig
	jsonfasttest.NewFiller(11).Fill(reflect.ValueOf(&v).Elem())
	doc, _ := json.Marshal(&v)
	for _, c := range []struct {
		name string
		f    func([]byte, *model.ContainerConfig) error
	}{{"jsonfast", unmarshalConfig}, {"encoding-json", func(b []byte, v *model.ContainerConfig) error { return json.Unmarshal(b, v) }}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				var out model.ContainerConfig
				if err := c.f(doc, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

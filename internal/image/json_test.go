package image

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"pea/internal/jsonfast"
	"pea/internal/jsonfast/jsonfasttest"
)

func fastIndex(b []byte, v *index) bool {
	s := jsonfast.NewScanner(b)
	return decIndex(s, v) == nil && s.End() == nil
}

func decodeIndexInto(b []byte, v *index) error {
	idx, err := decodeIndex(b)
	if err == nil {
		*v = *idx
	}
	return err
}

// TestIndexDecodeSameAsEncodingJSON: random image indexes, as json.Marshal writes them, decode to
// what json.Unmarshal makes of them, through the generated decoder; documents json.Marshal does
// not write decode as encoding/json decodes them, or fail as it fails.
func TestIndexDecodeSameAsEncodingJSON(t *testing.T) {
	f := jsonfasttest.NewFiller(21)
	for i := 0; i < 300; i++ {
		var v index
		f.Fill(reflect.ValueOf(&v).Elem())
		for _, img := range v.Images { // what a Hash and a Time are made of, as the store writes them
			if img != nil {
				img.Config.RootFS.DiffIDs = []Hash{mustHash("sha256:" + strings.Repeat("ab", 32))}
			}
		}
		doc, err := json.Marshal(&v)
		if err != nil {
			t.Fatal(err)
		}
		if !jsonfasttest.SameDecode(t, doc, decodeIndexInto, fastIndex) {
			t.Fatalf("document %d did not take the fast path: %s", i, doc)
		}
	}
	for i := 0; i < 2000; i++ {
		var v index
		f.Fill(reflect.ValueOf(&v).Elem())
		doc, _ := json.Marshal(&v)
		jsonfasttest.SameDecode(t, f.Mutate(doc), decodeIndexInto, fastIndex)
	}
	for _, doc := range []string{
		`{"images":null}`, `{"Images":[]}`, `{"images":[null,{"id":"x","NAMES":["a"]}]}`,
		`{"images":[{"config":{"config":{"ExposedPorts":{"80/tcp":{}},"Volumes":{"/v":{"x":1}}}}}]}`,
		`{"images":[{"config":{"config":{"ExposedPorts":{"80/tcp":[]}}}}]}`,
		`{"images":[{"config":{"rootfs":{"diff_ids":["sha256:zz"]}}}]}`,
		`{"images":[{"created":"2026-01-02T03:04:05Z","config":{"created":"bad"}}]}`,
		`{"images":[{"config":{"config":{"Healthcheck":{"Interval":1000000000,"Retries":3}}}}]}`,
	} {
		jsonfasttest.SameDecode(t, []byte(doc), decodeIndexInto, fastIndex)
	}
}

package state

import (
	"fmt"

	"pea/internal/jsonfast"
	"pea/internal/model"
)

// The documents a listing decodes for every container and pod — a container's listed config
// and state, a pod's config and state — are read by decoders generated from their types
// (tools/jsongen: json.gen.go here, the model types' in package jsonfast): encoding/json was
// half of `pea ps -a` with 300 containers (about 8 µs a container, most of it generic machinery
// around 1.3 KB of JSON), and spent ~0.15 ms of a 10-pod `pod ps` building its decoders by
// reflection before any pod was read.
//
// A decoder reads what json.Marshal writes for these types. Anything it is not sure to read as
// encoding/json would (a key that only differs in case from a field's, a number that is not what
// the field holds, a syntax error) makes it give up, and the document goes through
// json.Unmarshal instead, so the result is always encoding/json's. Tests compare the two on
// random values.

// decodeListedConfig decodes the listedConfig members of a container config.
func decodeListedConfig(b []byte, l *listedConfig) error {
	return jsonfast.UnmarshalWith(b, l, decListedConfig)
}

// decodeState decodes a container state.
func decodeState(b []byte, into *model.ContainerState) error {
	if err := jsonfast.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decode container state: %w", err)
	}
	return nil
}

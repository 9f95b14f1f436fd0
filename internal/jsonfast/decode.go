package jsonfast

import "encoding/json"

// Unmarshal is json.Unmarshal into v, which must point to a zero value: a generated decoder
// reads the document when v's type has one (types.gen.go, tools/jsongen) and it is sure to read
// it as encoding/json does; anything else goes to encoding/json. (encoding/json builds its
// decoders by reflection on a type's first use in a process: 0.3 ms for a container config.)
func Unmarshal(b []byte, v any) error {
	if decodeRoot(b, v) {
		return nil
	}
	return json.Unmarshal(b, v)
}

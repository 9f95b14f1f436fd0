package jsonfast

// AppendString appends s to b as a JSON string, escaped as encoding/json escapes it (see
// encoder.str), for a caller that writes a small document of its own by hand.
func AppendString(b []byte, s string) []byte {
	e := encoder{b: b}
	e.str(s)
	return e.b
}

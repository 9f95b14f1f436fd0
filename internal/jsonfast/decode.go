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

// Fast is Unmarshal's fast path alone: nil when the generated decoder read b into v (a pointer to
// a zero value), ErrFallback (and v zero again) when it could not, or v's type has none.
func Fast(b []byte, v any) error {
	if decodeRoot(b, v) {
		return nil
	}
	return ErrFallback
}

// UnmarshalWith is Unmarshal for a type whose generated decoder, dec, is in another package (the
// image index's, a listing's part of a container config): json.Unmarshal into v, a pointer to a
// zero value, done by dec when it is sure to read b as encoding/json does.
func UnmarshalWith[T any](b []byte, v *T, dec func(*Scanner, *T) error) error {
	if Decode(b, v, dec) == nil {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(b, v)
}

// Decode reads b with dec, the generated decoder of one type, and checks that nothing follows.
func Decode[T any](b []byte, v *T, dec func(*Scanner, *T) error) error {
	s := NewScanner(b)
	if err := dec(s, v); err != nil {
		return err
	}
	return s.End()
}

package k8s

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// IntOrString is a port given by number or by name (a Service's targetPort).
type IntOrString struct {
	IsString bool
	Int      int32
	Str      string
}

// FromInt32 is the number i.
func FromInt32(i int32) IntOrString { return IntOrString{Int: i} }

// FromString is the name s.
func FromString(s string) IntOrString { return IntOrString{IsString: true, Str: s} }

// IntValue is the number, or the name read as a number (0 when it is not one).
func (v IntOrString) IntValue() int {
	if v.IsString {
		i, _ := strconv.Atoi(v.Str)
		return i
	}
	return int(v.Int)
}

// String is the name, or the number written out.
func (v IntOrString) String() string {
	if v.IsString {
		return v.Str
	}
	return strconv.Itoa(int(v.Int))
}

// MarshalJSON writes a JSON string or number.
func (v IntOrString) MarshalJSON() ([]byte, error) {
	if v.IsString {
		return json.Marshal(v.Str)
	}
	return json.Marshal(v.Int)
}

// UnmarshalJSON reads a JSON string or number.
func (v *IntOrString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		*v = IntOrString{IsString: true}
		return json.Unmarshal(b, &v.Str)
	}
	*v = IntOrString{}
	return json.Unmarshal(b, &v.Int)
}

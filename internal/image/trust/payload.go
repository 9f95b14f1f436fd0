package trust

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// SignatureType is the critical.type of a simple signature.
const SignatureType = "atomic container signature"

// Payload is what a simple signature claims.
type Payload struct {
	ManifestDigest  string
	DockerReference string
	Creator         string
	Timestamp       int64
}

// invalidSignature is a signature whose payload cannot be read.
func invalidSignature(f string, a ...any) error {
	return fmt.Errorf("Invalid signature: "+f, a...)
}

// ParsePayload reads a signed payload strictly: the critical object must have exactly its three
// fields, and each of those exactly its own.
func ParsePayload(data []byte) (Payload, error) {
	var p Payload
	var top map[string]json.RawMessage
	if err := exactObject(data, &top, "critical", "optional"); err != nil {
		return p, err
	}
	var critical map[string]json.RawMessage
	if err := exactObject(top["critical"], &critical, "type", "image", "identity"); err != nil {
		return p, err
	}
	var t string
	if err := json.Unmarshal(critical["type"], &t); err != nil {
		return p, invalidSignature("%v", err)
	}
	if t != SignatureType {
		return p, invalidSignature("Unrecognized signature type %s", t)
	}
	var image, identity map[string]json.RawMessage
	if err := exactObject(critical["image"], &image, "docker-manifest-digest"); err != nil {
		return p, err
	}
	if err := json.Unmarshal(image["docker-manifest-digest"], &p.ManifestDigest); err != nil {
		return p, invalidSignature("%v", err)
	}
	if algo, hex, ok := strings.Cut(p.ManifestDigest, ":"); !ok || algo == "" || hex == "" {
		return p, invalidSignature("invalid digest %q", p.ManifestDigest)
	}
	if err := exactObject(critical["identity"], &identity, "docker-reference"); err != nil {
		return p, err
	}
	if err := json.Unmarshal(identity["docker-reference"], &p.DockerReference); err != nil {
		return p, invalidSignature("%v", err)
	}
	var optional map[string]json.RawMessage
	if err := json.Unmarshal(top["optional"], &optional); err != nil || optional == nil {
		return p, invalidSignature("optional is not a JSON object")
	}
	if c, ok := optional["creator"]; ok {
		if err := json.Unmarshal(c, &p.Creator); err != nil {
			return p, invalidSignature("creator: %v", err)
		}
	}
	if ts, ok := optional["timestamp"]; ok {
		if err := json.Unmarshal(ts, &p.Timestamp); err != nil {
			return p, invalidSignature("timestamp: %v", err)
		}
	}
	return p, nil
}

// exactObject decodes a JSON object that must have exactly the given fields.
func exactObject(data []byte, m *map[string]json.RawMessage, fields ...string) error {
	if err := json.Unmarshal(data, m); err != nil {
		return invalidSignature("%v", err)
	}
	if *m == nil {
		return invalidSignature("expected a JSON object")
	}
	for _, f := range fields {
		if _, ok := (*m)[f]; !ok {
			return invalidSignature("JSON object is missing field %q", f)
		}
	}
	if len(*m) != len(fields) {
		for k := range *m {
			known := false
			for _, f := range fields {
				known = known || k == f
			}
			if !known {
				return invalidSignature("JSON object contains unknown field %q", k)
			}
		}
	}
	return nil
}

// MarshalPayload is the payload pea signs: the keys in the order podman writes them.
func MarshalPayload(p Payload) []byte {
	var b bytes.Buffer
	q := func(s string) string { j, _ := json.Marshal(s); return string(j) }
	fmt.Fprintf(&b, `{"critical":{"identity":{"docker-reference":%s},"image":{"docker-manifest-digest":%s},"type":%s},"optional":{"creator":%s,"timestamp":%d}}`,
		q(p.DockerReference), q(p.ManifestDigest), q(SignatureType), q(p.Creator), p.Timestamp)
	return b.Bytes()
}

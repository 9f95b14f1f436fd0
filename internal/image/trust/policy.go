// Package trust is pea's side of containers-policy.json(5): which images may be brought in from
// which transport, and the "simple signing" signatures that a signedBy requirement asks for.
//
// A policy file is
//
//	{"default": [REQUIREMENT...],
//	 "transports": {TRANSPORT: {SCOPE: [REQUIREMENT...]}}}
//
// where a REQUIREMENT is {"type": "insecureAcceptAnything"}, {"type": "reject"},
// {"type": "signedBy", "keyType": "GPGKeys", "keyPath"|"keyPaths"|"keyData": ...,
// "signedIdentity": {...}} or {"type": "sigstoreSigned", ...}. An image must satisfy every
// requirement of the one list that applies to it: that of its most specific scope within its
// transport (for docker: repo:tag or repo@digest, then the repository and its parent namespaces,
// then the host, then *.domain wildcards), else the transport's "" scope, else "default".
//
// A simple signature is an OpenPGP signed message whose literal data is
//
//	{"critical": {"type": "atomic container signature",
//	              "image": {"docker-manifest-digest": "sha256:..."},
//	              "identity": {"docker-reference": "host/repo:tag"}},
//	 "optional": {"creator": "...", "timestamp": UNIX}}
//
// found beside the registry, at a lookaside URL that registries.d(5) configures:
// BASE/REPO-PATH@ALGO=HEX/signature-N, N = 1, 2, ... until one is missing.
//
// Reading and evaluating a policy needs neither HTTP nor OpenPGP; fetching signatures (the
// image package's pull) and checking them (VerifyGPG, in a !pea_split file) are done by the
// registry helper, so that pea itself links neither.
package trust

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
)

// SystemPolicyPath is where the policy lives; $HOME/.config/containers/policy.json comes first
// when it exists, as for podman.
const SystemPolicyPath = "/etc/containers/policy.json"

// Requirement types.
const (
	TypeAccept   = "insecureAcceptAnything"
	TypeReject   = "reject"
	TypeSignedBy = "signedBy"
	TypeSigstore = "sigstoreSigned"
)

// Policy is a parsed policy file.
type Policy struct {
	Default    []Requirement
	Transports map[string]map[string][]Requirement
}

// Requirement is one requirement of a list; the fields a type does not use are empty.
type Requirement struct {
	Type string
	// signedBy
	KeyType  string
	KeyPath  string
	KeyPaths []string
	KeyData  []byte
	// HasKeyData tells keyData given (even empty) from absent.
	HasKeyData bool
	// signedBy and sigstoreSigned
	Identity Identity
}

// Identity is a signedIdentity: which identity in a signature is accepted for an image.
type Identity struct {
	Type             string // default matchRepoDigestOrExact
	DockerReference  string // exactReference
	DockerRepository string // exactRepository
	Prefix           string // remapIdentity
	SignedPrefix     string
}

// DefaultPath is the policy file pea reads without --signature-policy: the user's when it
// exists, else the system's.
func DefaultPath() string {
	if home := os.Getenv("HOME"); home != "" {
		p := filepath.Join(home, ".config/containers/policy.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return SystemPolicyPath
}

// Load reads the policy that path names; "" is the default path, whose absence means accept
// anything (see docs/ARCHITECTURE.md: pea keeps working on a machine without containers-common),
// while a file named explicitly must exist, as for podman.
func Load(path string) (*Policy, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, os.ErrNotExist) {
			return AcceptAnything(), nil
		}
		return nil, err
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("invalid policy in %q: %w", path, err)
	}
	return p, nil
}

// AcceptAnything is the policy of a machine without a policy file.
func AcceptAnything() *Policy {
	return &Policy{Default: []Requirement{{Type: TypeAccept}}}
}

// Parse parses a policy file's contents, as strictly as podman: unknown keys and types are
// errors.
func Parse(data []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	if err := strictObject(data, &top, "default", "transports"); err != nil {
		return nil, err
	}
	raw, ok := top["default"]
	if !ok {
		return nil, errors.New("Default policy is missing")
	}
	p := &Policy{Transports: map[string]map[string][]Requirement{}}
	var err error
	if p.Default, err = parseRequirements(raw); err != nil {
		return nil, err
	}
	if t, ok := top["transports"]; ok && !bytes.Equal(bytes.TrimSpace(t), []byte("null")) {
		var transports map[string]map[string]json.RawMessage
		if err := json.Unmarshal(t, &transports); err != nil {
			return nil, err
		}
		for name, scopes := range transports {
			m := map[string][]Requirement{}
			for scope, list := range scopes {
				if m[scope], err = parseRequirements(list); err != nil {
					return nil, err
				}
			}
			p.Transports[name] = m
		}
	}
	return p, nil
}

// strictObject decodes a JSON object into m, refusing keys outside allowed.
func strictObject(data []byte, m *map[string]json.RawMessage, allowed ...string) error {
	if err := json.Unmarshal(data, m); err != nil {
		return err
	}
	if *m == nil {
		return errors.New("expected a JSON object")
	}
	keys := make([]string, 0, len(*m))
	for k := range *m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("Unknown key %q", k)
		}
	}
	return nil
}

func parseRequirements(raw json.RawMessage) ([]Requirement, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errors.New("List of verification policy requirements must not be empty")
	}
	out := make([]Requirement, 0, len(list))
	for _, r := range list {
		req, err := parseRequirement(r)
		if err != nil {
			return nil, err
		}
		out = append(out, req)
	}
	return out, nil
}

func stringField(m map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("%q: %v", key, err)
	}
	return s, true, nil
}

func parseRequirement(raw json.RawMessage) (Requirement, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return Requirement{}, err
	}
	t, ok, err := stringField(probe, "type")
	if err != nil {
		return Requirement{}, err
	}
	if !ok {
		return Requirement{}, errors.New(`Policy requirement type is missing`)
	}
	var m map[string]json.RawMessage
	r := Requirement{Type: t}
	switch t {
	case TypeAccept, TypeReject:
		return r, strictObject(raw, &m, "type")
	case TypeSignedBy:
		if err := strictObject(raw, &m, "type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"); err != nil {
			return r, err
		}
		kt, ok, err := stringField(m, "keyType")
		if err != nil {
			return r, err
		}
		if !ok {
			return r, errors.New(`"keyType" field missing in signedBy policy requirement`)
		}
		switch kt {
		case "GPGKeys", "signedByGPGKeys", "X509Certificates", "signedByX509CAs":
		default:
			return r, fmt.Errorf("Unknown key type %q", kt)
		}
		r.KeyType = kt
	case TypeSigstore:
		if err := strictObject(raw, &m, "type", "keyPath", "keyData", "fulcio", "rekorPublicKeyPath", "rekorPublicKeyData", "signedIdentity"); err != nil {
			return r, err
		}
	default:
		return r, fmt.Errorf("Unknown policy requirement type %q", t)
	}
	// The key: exactly one of keyPath, keyPaths and keyData.
	n := 0
	if r.KeyPath, ok, err = stringField(m, "keyPath"); err != nil {
		return r, err
	} else if ok {
		n++
	}
	if raw, ok := m["keyPaths"]; ok {
		if err := json.Unmarshal(raw, &r.KeyPaths); err != nil {
			return r, fmt.Errorf(`"keyPaths": %v`, err)
		}
		n++
	}
	if s, ok, err := stringField(m, "keyData"); err != nil {
		return r, err
	} else if ok {
		if r.KeyData, err = base64.StdEncoding.DecodeString(s); err != nil {
			return r, fmt.Errorf(`"keyData": %v`, err)
		}
		r.HasKeyData = true
		n++
	}
	if t == TypeSignedBy && n != 1 {
		return r, errors.New(`exactly one of "keyPath", "keyPaths" and "keyData" must be specified`)
	}
	r.Identity = Identity{Type: MatchRepoDigestOrExact}
	if raw, ok := m["signedIdentity"]; ok {
		if r.Identity, err = parseIdentity(raw); err != nil {
			return r, err
		}
	}
	return r, nil
}

// signedIdentity types.
const (
	MatchExact             = "matchExact"
	MatchRepoDigestOrExact = "matchRepoDigestOrExact"
	MatchRepository        = "matchRepository"
	ExactReference         = "exactReference"
	ExactRepository        = "exactRepository"
	RemapIdentity          = "remapIdentity"
)

func parseIdentity(raw json.RawMessage) (Identity, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Identity{}, err
	}
	t, _, err := stringField(m, "type")
	if err != nil {
		return Identity{}, err
	}
	id := Identity{Type: t}
	switch t {
	case MatchExact, MatchRepoDigestOrExact, MatchRepository:
		return id, strictObject(raw, &m, "type")
	case ExactReference:
		if err := strictObject(raw, &m, "type", "dockerReference"); err != nil {
			return id, err
		}
		id.DockerReference, _, err = stringField(m, "dockerReference")
		if err != nil {
			return id, err
		}
		r, err := ParseRef(id.DockerReference)
		if err != nil || r.Tag == "" && r.Digest == "" {
			return id, fmt.Errorf("dockerReference %q must be a name with a tag or a digest", id.DockerReference)
		}
	case ExactRepository:
		if err := strictObject(raw, &m, "type", "dockerRepository"); err != nil {
			return id, err
		}
		id.DockerRepository, _, err = stringField(m, "dockerRepository")
		if err != nil {
			return id, err
		}
		if r, err := ParseRef(id.DockerRepository); err != nil || r.Tag != "" || r.Digest != "" {
			return id, fmt.Errorf("dockerRepository %q must be a repository name", id.DockerRepository)
		}
	case RemapIdentity:
		if err := strictObject(raw, &m, "type", "prefix", "signedPrefix"); err != nil {
			return id, err
		}
		if id.Prefix, _, err = stringField(m, "prefix"); err != nil {
			return id, err
		}
		if id.SignedPrefix, _, err = stringField(m, "signedPrefix"); err != nil {
			return id, err
		}
		for _, p := range []string{id.Prefix, id.SignedPrefix} {
			if !validPrefix(p) {
				return id, fmt.Errorf("prefix %q is not a host[:port] or a repository name", p)
			}
		}
	case "":
		return id, errors.New("Policy reference match type is missing")
	default:
		return id, fmt.Errorf("Unknown policy reference match type %q", t)
	}
	return id, nil
}

// validPrefix accepts a remapIdentity prefix: a host[:port], or a repository name without tag or
// digest.
func validPrefix(p string) bool {
	if p == "" {
		return false
	}
	if validHost(p) {
		return true
	}
	r, err := ParseRef(p)
	return err == nil && r.Tag == "" && r.Digest == "" && r.Name == normalizeName(p)
}

// For returns the requirements that apply to an image: the most specific scope of transport
// that the policy names, else the transport's "" scope, else the default. identity and
// namespaces are the image's scopes, most specific first.
func (p *Policy) For(transport, identity string, namespaces []string) []Requirement {
	if scopes, ok := p.Transports[transport]; ok {
		if identity != "" {
			if r, ok := scopes[identity]; ok {
				return r
			}
		}
		for _, ns := range namespaces {
			if r, ok := scopes[ns]; ok {
				return r
			}
		}
		if r, ok := scopes[""]; ok {
			return r
		}
	}
	return p.Default
}

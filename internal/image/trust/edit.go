package trust

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
)

// rawPolicy is a policy file as `image trust set` rewrites it: each scope's requirements are
// kept as written, whatever their type.
type rawPolicy struct {
	Default    json.RawMessage                       `json:"default"`
	Transports map[string]map[string]json.RawMessage `json:"transports,omitempty"`
}

// setRequirement is a requirement `image trust set` writes, in podman's field order.
type setRequirement struct {
	Type    string `json:"type"`
	KeyType string `json:"keyType,omitempty"`
	KeyPath string `json:"keyPath,omitempty"`
}

// Set edits the policy file at path as `image trust set` does: scope ("default" or a registry
// or repository) gets one requirement of typ (accept, reject, signedBy, sigstoreSigned), one per
// key file for the signed types. A scope that some transport names already is replaced there;
// a new one goes under docker. The default must be set before any scope.
func Set(path, scope, typ string, keyFiles []string) error {
	if scope != "default" {
		if err := validScope(scope); err != nil {
			return err
		}
	}
	var reqs []setRequirement
	switch typ {
	case "accept", "reject":
		if len(keyFiles) != 0 {
			return fmt.Errorf("%d public keys unexpectedly provided for trust type %v", len(keyFiles), typ)
		}
		t := TypeReject
		if typ == "accept" {
			t = TypeAccept
		}
		reqs = append(reqs, setRequirement{Type: t})
	case TypeSignedBy, TypeSigstore:
		if len(keyFiles) == 0 {
			return fmt.Errorf("at least one public key must be defined for type '%s'", typ)
		}
		for _, k := range keyFiles {
			r := setRequirement{Type: typ, KeyPath: k}
			if typ == TypeSignedBy {
				r.KeyType = "GPGKeys"
			}
			reqs = append(reqs, r)
		}
	default:
		return fmt.Errorf("invalid choice: %s (choose from 'accept', 'reject', 'signedBy', 'sigstoreSigned')", typ)
	}
	newReqs, err := json.Marshal(reqs)
	if err != nil {
		return err
	}
	var p rawPolicy
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &p); err != nil {
			return errors.New("could not read trust policies")
		}
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	if scope == "default" {
		p.Default = newReqs
	} else {
		if len(p.Default) == 0 {
			return errors.New("default trust policy must be set")
		}
		done := false
		transports := make([]string, 0, len(p.Transports))
		for t := range p.Transports {
			transports = append(transports, t)
		}
		sort.Strings(transports)
		for _, t := range transports {
			if _, ok := p.Transports[t][scope]; ok {
				p.Transports[t][scope], done = newReqs, true
				break
			}
		}
		if !done {
			if p.Transports == nil {
				p.Transports = map[string]map[string]json.RawMessage{}
			}
			if p.Transports["docker"] == nil {
				p.Transports["docker"] = map[string]json.RawMessage{}
			}
			p.Transports["docker"][scope] = newReqs
		}
	}
	out, err := json.MarshalIndent(p, "", "    ")
	if err != nil {
		return fmt.Errorf("setting trust policy: %w", err)
	}
	return os.WriteFile(path, out, 0o644)
}

// validScope accepts what podman accepts as a registry to trust: read as the host (and path)
// of an http URL, the host must look like one, and a fragment like a path.
func validScope(scope string) error {
	bad := fmt.Errorf("invalid image uri: %s", scope)
	u, err := url.Parse("http://" + scope)
	if err != nil {
		return fmt.Errorf("invalid image uri: %s: %w", scope, err)
	}
	if !regexp.MustCompile(`^[a-zA-Z0-9-_\.]+\/?:?[0-9]*[a-z0-9-\/:]*$`).MatchString(u.Host) ||
		!regexp.MustCompile(`^[a-z0-9-:\./]*$`).MatchString(u.Fragment) {
		return bad
	}
	return nil
}

// ShowRow is one line of `image trust show`: one requirement of one scope.
type ShowRow struct {
	Transport string `json:"transport"`
	Name      string `json:"name,omitempty"`
	RepoName  string `json:"repo_name,omitempty"`
	Sigstore  string `json:"sigstore,omitempty"`
	Type      string `json:"type"`
	GPGId     string `json:"gpg_id,omitempty"`
}

// showRequirement is a requirement as `image trust show` reads it (leniently).
type showRequirement struct {
	Type     string   `json:"type"`
	KeyType  string   `json:"keyType"`
	KeyPath  string   `json:"keyPath"`
	KeyPaths []string `json:"keyPaths"`
	KeyData  string   `json:"keyData"`
}

type showPolicy struct {
	Default    []showRequirement                       `json:"default"`
	Transports map[string]map[string][]showRequirement `json:"transports"`
}

// Show lists the policy file's requirements: the default first, then each transport's scopes in
// order; docker's are shown as "repository". Each row's store is the lookaside registries.d
// gives its scope. Warnings (keys gpg cannot read, unknown types) go to warn.
func Show(path string, regs *RegistriesD, warn func(string)) ([]ShowRow, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p showPolicy
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("could not parse trust policies from %s: %w", path, err)
	}
	var rows []ShowRow
	add := func(transport, name, repoName, scope string, reqs []showRequirement) {
		for _, r := range reqs {
			row := ShowRow{Transport: transport, Name: name, RepoName: repoName, Sigstore: regs.storeFor(scope), Type: typeDescription(r.Type, warn)}
			switch r.Type {
			case TypeSignedBy:
				row.GPGId = strings.Join(keyIDs(r, warn), ", ")
			case TypeSigstore:
				row.GPGId = "N/A"
			}
			rows = append(rows, row)
		}
	}
	add("all", "* (default)", "default", "default", p.Default)
	transports := make([]string, 0, len(p.Transports))
	for t := range p.Transports {
		transports = append(transports, t)
	}
	sort.Strings(transports)
	for _, t := range transports {
		scopes := make([]string, 0, len(p.Transports[t]))
		for s := range p.Transports[t] {
			scopes = append(scopes, s)
		}
		sort.Strings(scopes)
		shown := t
		if t == "docker" {
			shown = "repository"
		}
		for _, s := range scopes {
			add(shown, s, s, s, p.Transports[t][s])
		}
	}
	return rows, nil
}

func typeDescription(t string, warn func(string)) string {
	switch t {
	case TypeAccept:
		return "accept"
	case TypeSignedBy:
		return "signed"
	case TypeSigstore, TypeReject:
		return t
	}
	warn(fmt.Sprintf("Invalid trust type %s", t))
	return ""
}

func keyIDs(r showRequirement, warn func(string)) []string {
	var ids []string
	collect := func(got []string, err error) {
		if err != nil {
			warn(fmt.Sprintf("Getting key identity: %v", err))
		}
		ids = append(ids, got...)
	}
	if r.KeyPath != "" {
		collect(KeyIdentities(r.KeyPath))
	}
	for _, p := range r.KeyPaths {
		collect(KeyIdentities(p))
	}
	if r.KeyData != "" {
		data, err := base64.StdEncoding.DecodeString(r.KeyData)
		if err != nil {
			warn(fmt.Sprintf("%v, error decoding key data", err))
		} else {
			collect(KeyDataIdentities(data))
		}
	}
	return ids
}

// storeFor is the lookaside that `image trust show` shows for a scope: the registries.d entry
// of the scope or of its nearest parent, else default-docker.
func (c *RegistriesD) storeFor(scope string) string {
	if c == nil {
		return ""
	}
	key := scope
	for {
		if ns, ok := c.Docker[key]; ok {
			return ns.URL(false)
		}
		i := strings.LastIndexByte(key, '/')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return c.DefaultDocker.URL(false)
}

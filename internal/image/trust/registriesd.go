package trust

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"pea/internal/kube/k8s"
)

// SystemRegistriesD is the system's registries.d(5) directory; $HOME/.config/containers/
// registries.d comes first when it exists, as for podman, and $PEA_REGISTRIES_D before both
// (pea's own override, which podman lacks: tests and users point it at a directory of theirs).
const SystemRegistriesD = "/etc/containers/registries.d"

// DefaultLookaside is where signatures are without any registries.d configuration (root's).
const DefaultLookaside = "file:///var/lib/containers/sigstore"

// RegistriesD is the merged configuration of a registries.d directory: where each registry's
// signatures are.
type RegistriesD struct {
	DefaultDocker *Namespace
	Docker        map[string]Namespace
}

// Namespace is the configuration of one scope: lookaside (or its older name sigstore) to read
// signatures from, and the -staging variants to write them to.
type Namespace struct {
	Lookaside              string `json:"lookaside,omitempty"`
	LookasideStaging       string `json:"lookaside-staging,omitempty"`
	Sigstore               string `json:"sigstore,omitempty"`
	SigstoreStaging        string `json:"sigstore-staging,omitempty"`
	UseSigstoreAttachments *bool  `json:"use-sigstore-attachments,omitempty"`
}

type registriesDFile struct {
	DefaultDocker *Namespace           `json:"default-docker,omitempty"`
	Docker        map[string]Namespace `json:"docker,omitempty"`
}

// RegistriesDPath is the registries.d directory pea reads.
func RegistriesDPath() string {
	if d := os.Getenv("PEA_REGISTRIES_D"); d != "" {
		return d
	}
	if home := os.Getenv("HOME"); home != "" {
		d := filepath.Join(home, ".config/containers/registries.d")
		if _, err := os.Stat(d); err == nil {
			return d
		}
	}
	return SystemRegistriesD
}

// LoadRegistriesD reads every *.yaml of dir ("" : RegistriesDPath); a missing directory is an
// empty configuration. Two files configuring the same scope are an error.
func LoadRegistriesD(dir string) (*RegistriesD, error) {
	if dir == "" {
		dir = RegistriesDPath()
	}
	c := &RegistriesD{Docker: map[string]Namespace{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return c, nil
		}
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".yaml") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	defaultFrom := ""
	from := map[string]string{}
	for _, n := range names {
		p := filepath.Join(dir, n)
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		doc, err := k8s.ParseYAML(data)
		if err != nil {
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		var f registriesDFile
		if _, err := doc.Decode(&f); err != nil {
			return nil, fmt.Errorf("parsing %s: %w", p, err)
		}
		if f.DefaultDocker != nil {
			if defaultFrom != "" {
				return nil, fmt.Errorf("error parsing signature storage configuration: %q overrides default-docker from %q", p, defaultFrom)
			}
			c.DefaultDocker, defaultFrom = f.DefaultDocker, p
		}
		for scope, ns := range f.Docker {
			if prev, ok := from[scope]; ok {
				return nil, fmt.Errorf("error parsing signature storage configuration: %q overrides %q from %q", p, scope, prev)
			}
			c.Docker[scope], from[scope] = ns, p
		}
	}
	return c, nil
}

// For is the configuration that applies to r: its most specific scope, else default-docker.
func (c *RegistriesD) For(r Ref) *Namespace {
	identity, namespaces := DockerScopes(r)
	for _, s := range append([]string{identity}, namespaces...) {
		if ns, ok := c.Docker[s]; ok {
			return &ns
		}
	}
	return c.DefaultDocker
}

// URL is where the namespace says signatures are read from (write false) or written to.
func (ns *Namespace) URL(write bool) string {
	if ns == nil {
		return ""
	}
	if write {
		for _, u := range []string{ns.LookasideStaging, ns.SigstoreStaging} {
			if u != "" {
				return u
			}
		}
	}
	if ns.Lookaside != "" {
		return ns.Lookaside
	}
	return ns.Sigstore
}

// Lookaside is the base URL of r's signatures (BASE/REPO-PATH), read or written.
func (c *RegistriesD) Lookaside(r Ref, write bool) (*url.URL, error) {
	base := c.For(r).URL(write)
	if base == "" {
		base = DefaultLookaside
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("invalid signature storage URL %q: %w", base, err)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + r.Path()
	return u, nil
}

// SignatureURL is the URL of the n-th (from 1) signature of the manifest digest under base.
func SignatureURL(base *url.URL, digest string, n int) *url.URL {
	u := *base
	algo, hex, _ := strings.Cut(digest, ":")
	u.Path = fmt.Sprintf("%s@%s=%s/signature-%d", u.Path, algo, hex, n)
	u.RawPath = ""
	return &u
}

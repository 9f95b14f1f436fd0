package image

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/toml"
)

// DefaultRegistriesConf is read when $CONTAINERS_REGISTRIES_CONF is not set.
const DefaultRegistriesConf = "/etc/containers/registries.conf"

// Registries is the part of containers-registries.conf(5) pea honours: the search list for short
// names, and per-prefix registry settings (rewrite, insecure, blocked, mirrors).
type Registries struct {
	Search     []string
	Registries []RegistryConf
}

// RegistryConf is one [[registry]] table.
type RegistryConf struct {
	Prefix         string
	Location       string
	Insecure       bool
	Blocked        bool
	Mirrors        []Mirror
	PullFromMirror string // all (default), digest-only, tag-only
}

// Mirror is one [[registry.mirror]] table.
type Mirror struct {
	Location       string
	Insecure       bool
	PullFromMirror string
}

// Endpoint is one place to pull a repository from: a mirror or the registry itself.
type Endpoint struct {
	Repository string // host[:port]/path, rewritten for this endpoint
	Insecure   bool
	Mirror     bool
}

// registriesFile is a registries.conf as written: [[registry]] tables before defaulting and
// checking, and the lists of version 1 of the format.
type registriesFile struct {
	UnqualifiedSearchRegistries []string
	Registry                    []RegistryConf
	// Version 1: [registries.search], [registries.insecure] and [registries.block], each with
	// registries = [hosts].
	V1Search, V1Insecure, V1Block []string
}

// decodeRegistriesFile parses the TOML of a registries.conf. Keys and tables pea does not use
// ([aliases], short-name-mode, credential-helpers, ...) are ignored; a known key of the wrong type
// is an error.
func decodeRegistriesFile(data []byte) (*registriesFile, error) {
	root, err := toml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	var d toml.Decoder
	f := &registriesFile{UnqualifiedSearchRegistries: d.StringArray(root, "unqualified-search-registries")}
	for _, r := range d.Tables(root, "registry") {
		rc := RegistryConf{
			Prefix: d.Str(r, "prefix"), Location: d.Str(r, "location"),
			Insecure: d.Bool(r, "insecure"), Blocked: d.Bool(r, "blocked"),
			PullFromMirror: d.Str(r, "pull-from-mirror"),
		}
		for _, m := range d.Tables(r, "mirror") {
			rc.Mirrors = append(rc.Mirrors, Mirror{
				Location: d.Str(m, "location"), Insecure: d.Bool(m, "insecure"),
				PullFromMirror: d.Str(m, "pull-from-mirror"),
			})
		}
		f.Registry = append(f.Registry, rc)
	}
	v1 := d.Table(root, "registries")
	f.V1Search = d.StringArray(d.Table(v1, "search"), "registries")
	f.V1Insecure = d.StringArray(d.Table(v1, "insecure"), "registries")
	f.V1Block = d.StringArray(d.Table(v1, "block"), "registries")
	if d.Err != nil {
		return nil, d.Err
	}
	return f, nil
}

// RegistriesConfPath is $CONTAINERS_REGISTRIES_CONF or the system file.
func RegistriesConfPath() string {
	if p := os.Getenv("CONTAINERS_REGISTRIES_CONF"); p != "" {
		return p
	}
	return DefaultRegistriesConf
}

// LoadRegistries reads a registries.conf; a missing file gives the defaults (search docker.io).
func LoadRegistries(path string) (*Registries, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Registries{Search: []string{defaultDomain}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registries.conf: %w", err)
	}
	return ParseRegistries(path, data)
}

// ParseRegistries parses registries.conf content (versions 1 and 2).
func ParseRegistries(path string, data []byte) (*Registries, error) {
	f, err := decodeRegistriesFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, errdefs.ErrInvalid)
	}
	c := &Registries{Search: f.UnqualifiedSearchRegistries}
	for _, r := range f.Registry {
		rc := r // the mirrors slice is this registry's own: trimmed in place below
		rc.Location = strings.TrimSuffix(r.Location, "/")
		if rc.Prefix == "" {
			rc.Prefix = rc.Location
		}
		if rc.Prefix == "" {
			return nil, fmt.Errorf("%s: a [[registry]] needs a prefix or a location: %w", path, errdefs.ErrInvalid)
		}
		if strings.HasPrefix(rc.Prefix, "*.") && rc.Location != "" && r.Prefix != "" {
			return nil, fmt.Errorf("%s: registry %q: a wildcard prefix cannot have a location: %w", path, rc.Prefix, errdefs.ErrInvalid)
		}
		for i, m := range rc.Mirrors {
			if m.Location == "" {
				return nil, fmt.Errorf("%s: registry %q: a mirror needs a location: %w", path, rc.Prefix, errdefs.ErrInvalid)
			}
			rc.Mirrors[i].Location = strings.TrimSuffix(m.Location, "/")
		}
		c.Registries = append(c.Registries, rc)
	}
	// Version 1: search, insecure and block lists of hosts.
	c.Search = append(c.Search, f.V1Search...)
	for _, h := range f.V1Insecure {
		c.Registries = append(c.Registries, RegistryConf{Prefix: h, Location: h, Insecure: true})
	}
	for _, h := range f.V1Block {
		c.Registries = append(c.Registries, RegistryConf{Prefix: h, Location: h, Blocked: true})
	}
	return c, nil
}

// prefixMatches reports whether repo (host/path, no tag) falls under prefix, on a component
// boundary; "*.example.com" matches any subdomain of example.com.
func prefixMatches(prefix, repo string) bool {
	if strings.HasPrefix(prefix, "*.") {
		host, _, _ := strings.Cut(repo, "/")
		return strings.HasSuffix(host, prefix[1:])
	}
	return repo == prefix || strings.HasPrefix(repo, prefix+"/")
}

// Find returns the registry table whose prefix matches repo longest, or nil.
func (c *Registries) Find(repo string) *RegistryConf {
	var best *RegistryConf
	bestLen := -1
	for i := range c.Registries {
		r := &c.Registries[i]
		n := len(r.Prefix)
		if strings.HasPrefix(r.Prefix, "*.") {
			n = 0 // an exact prefix always beats a wildcard
		}
		if prefixMatches(r.Prefix, repo) && n > bestLen {
			best, bestLen = r, n
		}
	}
	return best
}

// BlockedError is returned for a repository in a blocked registry.
func blockedError(repo string) error {
	return fmt.Errorf("registry %s is blocked in %s: %w", repo, RegistriesConfPath(), errdefs.ErrInvalid)
}

// Endpoints lists where to pull repo (normalized, no tag) from, in order: the mirrors, then the
// registry itself (its location rewritten). byDigest says whether the pull names a digest.
func (c *Registries) Endpoints(repo string, byDigest bool) ([]Endpoint, error) {
	rc := c.Find(repo)
	if rc == nil {
		return []Endpoint{{Repository: repo}}, nil
	}
	if rc.Blocked {
		return nil, blockedError(repo)
	}
	rewrite := func(loc string) string {
		if loc == "" || strings.HasPrefix(rc.Prefix, "*.") {
			return repo
		}
		return loc + repo[len(rc.Prefix):]
	}
	var eps []Endpoint
	for _, m := range rc.Mirrors {
		mode := m.PullFromMirror
		if mode == "" {
			mode = rc.PullFromMirror
		}
		if mode == "digest-only" && !byDigest || mode == "tag-only" && byDigest {
			continue
		}
		eps = append(eps, Endpoint{Repository: rewrite(m.Location), Insecure: m.Insecure, Mirror: true})
	}
	eps = append(eps, Endpoint{Repository: rewrite(rc.Location), Insecure: rc.Insecure})
	return eps, nil
}

// Insecure reports whether repo's registry allows plain HTTP and unverified TLS.
func (c *Registries) Insecure(repo string) bool {
	rc := c.Find(repo)
	return rc != nil && rc.Insecure
}

// Blocked reports whether repo's registry is blocked.
func (c *Registries) Blocked(repo string) bool {
	rc := c.Find(repo)
	return rc != nil && rc.Blocked
}

// searchList is the list of registries short names are tried in.
func (c *Registries) searchList() []string {
	if len(c.Search) == 0 {
		return []string{defaultDomain}
	}
	return c.Search
}

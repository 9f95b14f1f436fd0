package image

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/toml"
)

// DefaultRegistriesConf is read when $CONTAINERS_REGISTRIES_CONF is not set.
const DefaultRegistriesConf = "/etc/containers/registries.conf"

// DefaultRegistriesConfDir holds drop-in files (*.conf), read in name order after the main file
// whichever main file is read: podman reads them with $CONTAINERS_REGISTRIES_CONF set too.
// Debian's containers-common puts its short-name aliases (shortnames.conf) there.
const DefaultRegistriesConfDir = "/etc/containers/registries.conf.d"

// Registries is the part of containers-registries.conf(5) pea honours: the search list and the
// aliases of short names, and per-prefix registry settings (rewrite, insecure, blocked, mirrors).
type Registries struct {
	Search     []string
	Registries []RegistryConf
	// Aliases are the [aliases] of the main file and the drop-ins: short name (no tag) -> where
	// it lives.
	Aliases map[string]Alias
	// Path is the main file, named when a short name cannot be resolved.
	Path string
}

// Alias is one short-name alias: a repository with its registry, no tag, and the file that
// set it.
type Alias struct {
	Target Reference
	File   string
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
	Aliases                     map[string]string
	// Version 1: [registries.search], [registries.insecure] and [registries.block], each with
	// registries = [hosts].
	V1Search, V1Insecure, V1Block []string
}

// decodeRegistriesFile parses the TOML of a registries.conf. Keys and tables pea does not use
// (short-name-mode, credential-helpers, ...) are ignored; a known key of the wrong type is an
// error.
func decodeRegistriesFile(data []byte) (*registriesFile, error) {
	root, err := toml.Parse(string(data))
	if err != nil {
		return nil, err
	}
	var d toml.Decoder
	f := &registriesFile{UnqualifiedSearchRegistries: d.StringArray(root, "unqualified-search-registries")}
	if aliases := d.Table(root, "aliases"); len(aliases.Keys()) > 0 {
		f.Aliases = map[string]string{}
		for _, k := range aliases.Keys() {
			f.Aliases[k] = d.Str(aliases, k)
		}
	}
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

// LoadRegistries reads a registries.conf and the drop-ins of DefaultRegistriesConfDir. A missing
// file is an empty one: no search registries, as in podman.
func LoadRegistries(path string) (*Registries, error) {
	return loadRegistries(path, DefaultRegistriesConfDir)
}

func loadRegistries(path, dropIns string) (*Registries, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("registries.conf: %w", err)
	}
	c, err := ParseRegistries(path, data)
	if err != nil {
		return nil, err
	}
	files, _ := filepath.Glob(filepath.Join(dropIns, "*.conf"))
	sort.Strings(files)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("registries.conf drop-in: %w", err)
		}
		f, err := parseRegistriesFile(file, data)
		if err != nil {
			return nil, err
		}
		c.merge(f)
	}
	return c, nil
}

// ParseRegistries parses registries.conf content (versions 1 and 2).
func ParseRegistries(path string, data []byte) (*Registries, error) {
	return parseRegistriesFile(path, data)
}

// merge lays a drop-in over c: its search list replaces c's when it sets one (nil when the key
// is absent, empty for "[]"), its registry tables replace c's of the same prefix, its aliases
// replace c's of the same name.
func (c *Registries) merge(f *Registries) {
	if f.Search != nil {
		c.Search = f.Search
	}
	for _, r := range f.Registries {
		replaced := false
		for i := range c.Registries {
			if c.Registries[i].Prefix == r.Prefix {
				c.Registries[i], replaced = r, true
			}
		}
		if !replaced {
			c.Registries = append(c.Registries, r)
		}
	}
	for k, a := range f.Aliases {
		if c.Aliases == nil {
			c.Aliases = map[string]Alias{}
		}
		c.Aliases[k] = a
	}
}

func parseRegistriesFile(path string, data []byte) (*Registries, error) {
	f, err := decodeRegistriesFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", path, err, errdefs.ErrInvalid)
	}
	c := &Registries{Search: f.UnqualifiedSearchRegistries, Path: path}
	for _, short := range slices.Sorted(maps.Keys(f.Aliases)) { // the first bad one, always the same
		a, err := parseAlias(short, f.Aliases[short])
		if err != nil {
			return nil, fmt.Errorf("loading registries configuration %q: validating short-name aliases: %v: %w", path, err, errdefs.ErrInvalid)
		}
		if c.Aliases == nil {
			c.Aliases = map[string]Alias{}
		}
		a.File = path
		c.Aliases[short] = a
	}
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

// parseAlias checks one [aliases] entry: a short name without tag or digest, and a repository
// with its registry, without tag or digest.
func parseAlias(short, target string) (Alias, error) {
	s, err := ParseReference(short)
	switch {
	case err != nil:
		return Alias{}, fmt.Errorf("invalid short name %q: %v", short, err)
	case s.Domain != "":
		return Alias{}, fmt.Errorf("invalid short name %q: must not contain registry", short)
	case s.Tag != "":
		return Alias{}, fmt.Errorf("invalid short name %q: must not contain tag", short)
	case s.Digest != "":
		return Alias{}, fmt.Errorf("invalid short name %q: must not contain digest", short)
	}
	t, err := ParseReference(target)
	switch {
	case err != nil:
		return Alias{}, fmt.Errorf("invalid alias %q: %v", target, err)
	case t.Domain == "":
		return Alias{}, fmt.Errorf("invalid alias %q: must contain registry and repository", target)
	case t.Tag != "":
		return Alias{}, fmt.Errorf("invalid alias %q: must not contain tag", target)
	case t.Digest != "":
		return Alias{}, fmt.Errorf("invalid alias %q: must not contain digest", target)
	}
	return Alias{Target: t}, nil
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

// ErrShortName matches the error of a short name that has no alias when no search registries
// are configured: there is nowhere to pull it from.
var ErrShortName = errors.New("short name not resolved")

// shortNameError is that error, worded as podman's.
type shortNameError struct{ name, conf string }

func (e *shortNameError) Error() string {
	return fmt.Sprintf("short-name %q did not resolve to an alias and no unqualified-search registries are defined in %q", e.name, e.conf)
}

func (e *shortNameError) Is(target error) bool { return target == ErrShortName }

// alias returns the full reference a short name's alias gives (the tag or digest kept), if any.
func (c *Registries) alias(r Reference) (Reference, *Alias) {
	if r.Domain != "" {
		return r, nil
	}
	a, ok := c.Aliases[r.Path]
	if !ok {
		return r, nil
	}
	t := a.Target
	t.Tag, t.Digest = r.Tag, r.Digest
	return t.withDefaultTag(), &a
}

// pullCandidates are the full references to try for r, in order: r itself when it names its
// registry; else its alias; else r in each search registry. A short name with neither an alias
// nor search registries is an error (ErrShortName), as in podman: pea never guesses docker.io.
func (c *Registries) pullCandidates(r Reference) ([]Reference, *Alias, error) {
	if r.Domain != "" {
		return []Reference{r.Normalize()}, nil, nil
	}
	if t, a := c.alias(r); a != nil {
		return []Reference{t}, a, nil
	}
	if len(c.Search) == 0 {
		return nil, nil, &shortNameError{name: r.String(), conf: c.Path}
	}
	out := make([]Reference, 0, len(c.Search))
	for _, d := range c.Search {
		out = append(out, r.inDomain(d))
	}
	return out, nil, nil
}

package trust

import (
	"fmt"
	"strings"
)

// Ref is a docker reference in its normalized form: Name is host/path (docker.io/library/x for
// "x"), with a Tag, a Digest, both or neither.
type Ref struct {
	Name, Tag, Digest string
}

// String is name[:tag][@digest].
func (r Ref) String() string {
	s := r.Name
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// NameOnly reports a reference with neither tag nor digest.
func (r Ref) NameOnly() bool { return r.Tag == "" && r.Digest == "" }

// Host is the registry part of Name.
func (r Ref) Host() string {
	h, _, _ := strings.Cut(r.Name, "/")
	return h
}

// Path is Name without its host, as the lookaside layout uses it.
func (r Ref) Path() string {
	_, p, _ := strings.Cut(r.Name, "/")
	return p
}

// ParseRef parses a docker reference and normalizes it (no default tag is added: a signature's
// identity names exactly what was signed). The checks are those a signed or configured name
// needs; pea's full parser is the image package's.
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if i := strings.IndexByte(rest, '@'); i >= 0 {
		rest, r.Digest = rest[:i], rest[i+1:]
		algo, hex, ok := strings.Cut(r.Digest, ":")
		if !ok || algo == "" || len(hex) < 32 || strings.Trim(hex, "0123456789abcdef") != "" {
			return r, fmt.Errorf("invalid reference %q: bad digest", s)
		}
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		rest, r.Tag = rest[:i], rest[i+1:]
		if r.Tag == "" || len(r.Tag) > 128 || strings.Trim(r.Tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" || r.Tag[0] == '.' || r.Tag[0] == '-' {
			return r, fmt.Errorf("invalid reference %q: bad tag", s)
		}
	}
	if rest == "" {
		return r, fmt.Errorf("invalid reference %q: no repository name", s)
	}
	r.Name = normalizeName(rest)
	host, path, _ := strings.Cut(r.Name, "/")
	if !validHost(host) || path == "" {
		return r, fmt.Errorf("invalid reference %q", s)
	}
	for _, c := range strings.Split(path, "/") {
		if c == "" || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz0123456789._-") != "" {
			return r, fmt.Errorf("invalid reference %q: repository name components are lowercase letters, digits and separators", s)
		}
	}
	return r, nil
}

// normalizeName puts a name without a registry under docker.io, and a one-component docker.io
// name under library/.
func normalizeName(n string) string {
	first, rest, ok := strings.Cut(n, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" && strings.ToLower(first) == first {
		first, rest = "docker.io", n
	}
	if first == "index.docker.io" {
		first = "docker.io"
	}
	if first == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return first + "/" + rest
}

// validHost accepts host[:port], a host being dot-separated labels or a bracketed IPv6 address.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		host, port = h[:end+1], strings.TrimPrefix(h[end+1:], ":")
		if h[end+1:] != "" && !strings.HasPrefix(h[end+1:], ":") {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if port == "" {
			return false
		}
	}
	if strings.Trim(port, "0123456789") != "" {
		return false
	}
	if strings.HasPrefix(host, "[") {
		return strings.Trim(host[1:len(host)-1], "0123456789abcdefABCDEF:.") == ""
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}

// DockerScopes are a docker reference's policy scopes: its identity (the reference itself) and
// its namespaces, most specific first: the repository, its parent namespaces, the host[:port],
// and the wildcards *.DOMAIN of the host without its port.
func DockerScopes(r Ref) (identity string, namespaces []string) {
	name := r.Name
	for {
		namespaces = append(namespaces, name)
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			break
		}
		name = name[:i]
	}
	if i := strings.IndexByte(name, ':'); i >= 0 && !strings.HasPrefix(name, "[") {
		name = name[:i]
	}
	for {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			break
		}
		name = name[i+1:]
		namespaces = append(namespaces, "*."+name)
	}
	return r.String(), namespaces
}

package image

import (
	"fmt"
	"strings"

	"pea/internal/errdefs"
)

// Reference is a parsed image reference: [domain/]path[:tag][@digest]. Domain is empty when the
// user gave a short name; Normalize fills in docker.io and "latest".
type Reference struct {
	Domain string
	Path   string
	Tag    string
	Digest string
}

const (
	defaultDomain = "docker.io"
	defaultTag    = "latest"
	maxNameLen    = 255
)

var (
	pathComponentRe = lazyRegexp(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	domainRe        = lazyRegexp(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$`)
	tagRe           = lazyRegexp(`^[\w][\w.-]{0,127}$`)
	digestRe        = lazyRegexp(`^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$`)
	hexRe           = lazyRegexp(`^[a-f0-9]+$`)
)

func invalidRef(ref, why string) error {
	return fmt.Errorf("invalid reference format %q: %s: %w", ref, why, errdefs.ErrInvalid)
}

// ParseReference parses ref without filling in defaults. Errors wrap errdefs.ErrInvalid.
func ParseReference(ref string) (Reference, error) {
	var r Reference
	s := ref
	if s == "" {
		return r, invalidRef(ref, "empty reference")
	}
	if i := strings.IndexByte(s, '@'); i >= 0 {
		r.Digest = s[i+1:]
		s = s[:i]
		if !digestRe().MatchString(r.Digest) {
			return r, invalidRef(ref, "the digest must look like sha256:<64 hex digits>")
		}
		if strings.HasPrefix(r.Digest, "sha256:") && len(r.Digest) != len("sha256:")+64 {
			return r, invalidRef(ref, "a sha256 digest has 64 hex digits")
		}
	}
	// A tag follows the last colon that comes after the last slash (a colon before it is a port).
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.Contains(s[i+1:], "/") {
		r.Tag = s[i+1:]
		s = s[:i]
		if !tagRe().MatchString(r.Tag) {
			return r, invalidRef(ref, "a tag has up to 128 letters, digits, '_', '.' and '-', and does not start with '.' or '-'")
		}
	}
	if s == "" {
		return r, invalidRef(ref, "no repository name")
	}
	if i := strings.IndexByte(s, '/'); i >= 0 {
		first := s[:i]
		if strings.ContainsAny(first, ".:") || first == "localhost" || strings.ToLower(first) != first {
			r.Domain = first
			s = s[i+1:]
			if !domainRe().MatchString(r.Domain) {
				return r, invalidRef(ref, fmt.Sprintf("%q is not a valid registry host[:port]", r.Domain))
			}
		}
	}
	for _, c := range strings.Split(s, "/") {
		if !pathComponentRe().MatchString(c) {
			if strings.ToLower(c) != c {
				return r, invalidRef(ref, "repository name must be lowercase")
			}
			return r, invalidRef(ref, "repository name components are lowercase letters and digits, separated by '.', '_', '__' or '-'")
		}
	}
	r.Path = s
	if len(r.Repository()) > maxNameLen {
		return r, invalidRef(ref, "repository name longer than 255 characters")
	}
	return r, nil
}

// Repository is [domain/]path.
func (r Reference) Repository() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String formats the reference back: repo[:tag][@digest].
func (r Reference) String() string {
	s := r.Repository()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Normalize fills in docker.io (with library/ for one-component names) and the tag "latest"
// when there is neither tag nor digest. A digest wins over a tag.
func (r Reference) Normalize() Reference {
	if r.Domain == "" || r.Domain == "index.docker.io" {
		r.Domain = defaultDomain
	}
	if r.Domain == defaultDomain && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	r = r.withDefaultTag()
	return r
}

func (r Reference) withDefaultTag() Reference {
	if r.Digest != "" {
		r.Tag = ""
	} else if r.Tag == "" {
		r.Tag = defaultTag
	}
	return r
}

// inDomain puts a short reference under domain, as the registries' search list does.
func (r Reference) inDomain(domain string) Reference {
	r.Domain = domain
	if domain == defaultDomain && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	return r.withDefaultTag()
}

// NormalizeName returns the full form of ref: "busybox" -> "docker.io/library/busybox:latest",
// "localhost/bb" -> "localhost/bb:latest". "docker://" is accepted and dropped.
func NormalizeName(ref string) (string, error) {
	r, err := ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return "", err
	}
	return r.Normalize().String(), nil
}

// NormalizeLocalName is NormalizeName for names given to local images (import, tag, commit):
// a short name goes under "localhost/", as podman does: "bb" -> "localhost/bb:latest".
func NormalizeLocalName(ref string) (string, error) {
	r, err := ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return "", err
	}
	if r.Digest != "" {
		return "", invalidRef(ref, "a local image name cannot have a digest: a digest names content, it cannot be given")
	}
	if r.Domain == "" {
		return r.inDomain("localhost").String(), nil
	}
	return r.Normalize().String(), nil
}

// splitName splits a stored (normalized) name into repository and tag-or-digest, for listings.
func splitName(n string) (repo, tag, digest string) {
	if i := strings.IndexByte(n, '@'); i >= 0 {
		n, digest = n[:i], n[i+1:]
	}
	if i := strings.LastIndexByte(n, ':'); i >= 0 && !strings.Contains(n[i+1:], "/") {
		return n[:i], n[i+1:], digest
	}
	return n, "", digest
}

// SplitName splits a stored name into repository and tag ("" for a digest-only name).
func SplitName(n string) (repo, tag string) {
	repo, tag, _ = splitName(n)
	return repo, tag
}

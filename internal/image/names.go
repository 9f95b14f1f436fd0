package image

import (
	"fmt"
	"strings"
	"time"

	"pea/internal/errdefs"
)

// Finding images by name, ID or ID prefix, and giving or taking names.

// notKnown is the error for an image that is not in the store.
type notKnown struct{ name string }

func (e *notKnown) Error() string { return e.name + ": image not known" }
func (e *notKnown) Unwrap() error { return errdefs.ErrNotFound }

// ErrImageNotKnown returns the store's "image not known" error for name.
func ErrImageNotKnown(name string) error { return &notKnown{name} }

// Lookup finds an image by full or short name, full ID, "sha256:<id>" or unique ID prefix.
func (s *Store) Lookup(nameOrID string) (*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	return idx.lookup(nameOrID, s.registriesOrDefault)
}

func (idx *index) byID(id string) *Image {
	for _, img := range idx.Images {
		if img.ID == id {
			return img
		}
	}
	return nil
}

func (idx *index) byName(n string) *Image {
	for _, img := range idx.Images {
		for _, have := range img.Names {
			if have == n {
				return img
			}
		}
	}
	return nil
}

// byDigestRef finds repo@digest: an image whose manifest digest matches and that is named in repo
// (or, failing that, any image with that digest).
func (idx *index) byDigestRef(r Reference) *Image {
	var any *Image
	for _, img := range idx.Images {
		if img.Digest != r.Digest && !contains(img.Digests, r.Digest) {
			continue
		}
		for _, n := range img.Names {
			if repo, _, _ := splitName(n); repo == r.Repository() {
				return img
			}
		}
		if any == nil {
			any = img
		}
	}
	return any
}

// reg gives the registries configuration, read only for a short name.
func (idx *index) lookup(nameOrID string, reg func() *Registries) (*Image, error) {
	q := strings.TrimSpace(nameOrID)
	if q == "" {
		return nil, fmt.Errorf("no image name or ID given: %w", errdefs.ErrInvalid)
	}
	if id, ok := strings.CutPrefix(q, "sha256:"); ok {
		return idx.byIDPrefix(nameOrID, id)
	}
	if len(q) == 64 && hexRe().MatchString(q) {
		if img := idx.byID(q); img != nil {
			return img, nil
		}
	}
	if r, err := ParseReference(strings.TrimPrefix(q, "docker://")); err == nil {
		if img := idx.byReference(r, reg); img != nil {
			return img, nil
		}
	}
	if hexRe().MatchString(q) {
		return idx.byIDPrefix(nameOrID, q)
	}
	return nil, ErrImageNotKnown(nameOrID)
}

func (idx *index) byReference(r Reference, registries func() *Registries) *Image {
	find := func(r Reference) *Image {
		if r.Digest != "" {
			return idx.byDigestRef(r)
		}
		return idx.byName(r.String())
	}
	if r.Domain != "" {
		return find(r.Normalize())
	}
	// A short name: its alias first, then localhost, then the search registries, then any
	// repository ending in it.
	reg := registries()
	if t, a := reg.alias(r); a != nil {
		if img := find(t); img != nil {
			return img
		}
	}
	if img := find(r.inDomain("localhost")); img != nil {
		return img
	}
	for _, d := range reg.Search {
		if img := find(r.inDomain(d)); img != nil {
			return img
		}
	}
	want := r.withDefaultTag()
	for _, img := range idx.Images {
		for _, n := range img.Names {
			repo, tag, dg := splitName(n)
			if repo != want.Path && !strings.HasSuffix(repo, "/"+want.Path) {
				continue
			}
			if want.Digest != "" && (img.Digest == want.Digest || contains(img.Digests, want.Digest)) ||
				want.Digest == "" && tag == want.Tag && dg == "" {
				return img
			}
		}
	}
	return nil
}

func (idx *index) byIDPrefix(query, prefix string) (*Image, error) {
	if !hexRe().MatchString(prefix) {
		return nil, ErrImageNotKnown(query)
	}
	var found []*Image
	for _, img := range idx.Images {
		if strings.HasPrefix(img.ID, prefix) {
			found = append(found, img)
		}
	}
	switch len(found) {
	case 0:
		return nil, ErrImageNotKnown(query)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("image ID prefix %q matches %d images, give more characters: %w", query, len(found), errdefs.ErrAmbiguous)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func remove(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// addName gives img the name n, taking it from any other image that has it.
func (idx *index) addName(img *Image, n string) {
	for _, other := range idx.Images {
		if other != img && contains(other.Names, n) {
			other.Names = remove(other.Names, n)
		}
	}
	if !contains(img.Names, n) {
		img.Names = append(img.Names, n)
	}
	img.NamesHistory = append([]string{n}, remove(img.NamesHistory, n)...)
	img.Tagged = time.Now().UTC()
}

// Tag adds newRef to the image nameOrID; a short name goes under localhost/.
func (s *Store) Tag(nameOrID, newRef string) error {
	n, err := NormalizeLocalName(newRef)
	if err != nil {
		return err
	}
	return s.update(func(idx *index) error {
		img, err := idx.lookup(nameOrID, s.registriesOrDefault)
		if err != nil {
			return err
		}
		idx.addName(img, n)
		return nil
	})
}

// Untag removes ref from the image nameOrID; an empty ref removes every name.
func (s *Store) Untag(nameOrID, ref string) error {
	return s.update(func(idx *index) error {
		img, err := idx.lookup(nameOrID, s.registriesOrDefault)
		if err != nil {
			return err
		}
		if ref == "" {
			img.Names = nil
			return nil
		}
		n, err := s.resolveName(img, ref)
		if err != nil {
			return err
		}
		img.Names = remove(img.Names, n)
		return nil
	})
}

// resolveName finds which of img's names ref means (a short name may mean localhost/x or
// docker.io/library/x).
func (s *Store) resolveName(img *Image, ref string) (string, error) {
	r, err := ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return "", err
	}
	one := &index{Images: []*Image{img}}
	if r.Domain != "" {
		if n := r.Normalize().String(); contains(img.Names, n) {
			return n, nil
		}
	} else if one.byReference(r, s.registriesOrDefault) != nil {
		for _, cand := range s.shortCandidates(r) {
			if contains(img.Names, cand) {
				return cand, nil
			}
		}
		want := r.withDefaultTag()
		for _, n := range img.Names {
			repo, tag, _ := splitName(n)
			if (repo == want.Path || strings.HasSuffix(repo, "/"+want.Path)) && tag == want.Tag {
				return n, nil
			}
		}
	}
	if n, err := NormalizeLocalName(ref); err == nil {
		ref = n // podman names the tag in full
	}
	return "", errdefs.Errorf(errdefs.ErrNotFound, "%s: tag not known", ref)
}

// NameOf returns which of img's names ref refers to, or an error wrapping ErrNotFound.
func (s *Store) NameOf(img *Image, ref string) (string, error) { return s.resolveName(img, ref) }

func (s *Store) shortCandidates(r Reference) []string {
	reg := s.registriesOrDefault()
	var c []string
	if t, a := reg.alias(r); a != nil {
		c = append(c, t.String())
	}
	c = append(c, r.inDomain("localhost").String())
	for _, d := range reg.Search {
		c = append(c, r.inDomain(d).String())
	}
	return c
}

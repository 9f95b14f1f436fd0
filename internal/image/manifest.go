package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"pea/internal/errdefs"
)

// Manifest lists (`pea manifest`): a list is stored as podman stores one, as a record of the
// index whose Digest is the list's own document (an OCI image index or a Docker manifest list,
// blobs/sha256/<Digest>) and whose ManifestType is the document's type. It has a random ID that
// survives its changes (each change stores a new document and moves Digest to it), names, and no
// config or layers. Its entries name images by manifest digest; the images are the store's own
// records (added from the store, or pulled first), which push --all sends with the list.

// ListEntry is one image of a list, in the field order podman prints.
type ListEntry struct {
	MediaType   MediaType         `json:"mediaType"`
	Size        int64             `json:"size"`
	Digest      string            `json:"digest"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ListDocument is a list's document.
type ListDocument struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     MediaType         `json:"mediaType"`
	Manifests     []ListEntry       `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// IsList reports whether the record is a manifest list rather than an image.
func (i *Image) IsList() bool { return isIndex(MediaType(i.ManifestType)) }

// ListEntryOptions override what an entry says of its image (manifest add and annotate).
type ListEntryOptions struct {
	Arch, OS, Variant, OSVersion string
	Features, OSFeatures         []string
	Annotations                  map[string]string
}

// Apply sets what o gives in the entry e.
func (o ListEntryOptions) Apply(e *ListEntry) {
	if e.Platform == nil {
		e.Platform = &Platform{}
	}
	p := e.Platform
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&p.Architecture, o.Arch)
	set(&p.OS, o.OS)
	set(&p.Variant, o.Variant)
	set(&p.OSVersion, o.OSVersion)
	if len(o.Features) > 0 {
		p.Features = o.Features
	}
	if len(o.OSFeatures) > 0 {
		p.OSFeatures = o.OSFeatures
	}
	for k, v := range o.Annotations {
		if e.Annotations == nil {
			e.Annotations = map[string]string{}
		}
		e.Annotations[k] = v
	}
}

// LookupList finds the list nameOrID names; an image that is no list is an invalid argument.
func (s *Store) LookupList(nameOrID string) (*Image, error) {
	img, err := s.Lookup(nameOrID)
	if err != nil {
		return nil, err
	}
	if !img.IsList() {
		return nil, fmt.Errorf("%s: image is not a manifest list: %w", nameOrID, errdefs.ErrInvalid)
	}
	return img, nil
}

// ListDocumentOf reads a list's document.
func (s *Store) ListDocumentOf(list *Image) (*ListDocument, error) {
	raw, err := os.ReadFile(s.blobPath(list.Digest))
	if err != nil {
		return nil, fmt.Errorf("manifest list %.12s: document missing from the store: %w", list.ID, err)
	}
	var doc ListDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("manifest list %.12s: %v: %w", list.ID, err, errdefs.ErrInvalid)
	}
	return &doc, nil
}

// CreateList makes an empty list called name. With amend, an existing list of that name is
// returned as it is.
func (s *Store) CreateList(name string, amend bool) (*Image, error) {
	n, err := NormalizeLocalName(name)
	if err != nil {
		return nil, err
	}
	doc := &ListDocument{SchemaVersion: 2, MediaType: DockerManifestList}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var b [32]byte
	rand.Read(b[:])
	rec := &Image{ID: hex.EncodeToString(b[:]), Names: []string{n}, ManifestType: string(DockerManifestList),
		Created: time.Now().UTC(), Size: int64(len(raw))}
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if in != nil {
			in.close(ok)
		}
	}()
	if rec.Digest, err = in.putBlobBytes(raw); err != nil {
		return nil, err
	}
	var out *Image
	err = s.update(func(idx *index) error {
		if cur := idx.byName(n); cur != nil {
			if amend && cur.IsList() {
				out = cur
				return nil
			}
			if cur.IsList() {
				return fmt.Errorf("%s: a manifest list of that name exists (--amend adds to it): %w", name, errdefs.ErrExists)
			}
			return fmt.Errorf("%s: an image of that name exists: %w", name, errdefs.ErrExists)
		}
		idx.Images = append(idx.Images, rec)
		out = rec
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok = true
	if out != rec {
		in.close(true) // the sweep waits for no ingest: ours first
		in = nil
		s.sweep() // the empty document this call stored is not needed
	}
	return out, nil
}

// EditList changes the list nameOrID's document with f, under the index lock, and stores the
// result as the list's new document.
func (s *Store) EditList(nameOrID string, f func(doc *ListDocument) error) (*Image, error) {
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if in != nil {
			in.close(ok)
		}
	}()
	var out *Image
	err = s.update(func(idx *index) error {
		list, err := idx.lookup(nameOrID, s.registriesOrDefault)
		if err != nil {
			return err
		}
		if !list.IsList() {
			return fmt.Errorf("%s: image is not a manifest list: %w", nameOrID, errdefs.ErrInvalid)
		}
		doc, err := s.ListDocumentOf(list)
		if err != nil {
			return err
		}
		if err := f(doc); err != nil {
			return err
		}
		doc.MediaType = DockerManifestList
		for _, e := range doc.Manifests {
			if e.MediaType == OCIManifestSchema1 || len(e.Annotations) > 0 {
				doc.MediaType = OCIImageIndex // a Docker list has no annotations
			}
		}
		if len(doc.Annotations) > 0 {
			doc.MediaType = OCIImageIndex
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if list.Digest, err = in.putBlobBytes(raw); err != nil {
			return err
		}
		list.ManifestType, list.Size = string(doc.MediaType), int64(len(raw))
		out = list
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok = true
	in.close(true) // the sweep waits for no ingest: ours first
	in = nil
	s.sweep() // the list's previous document
	return out, nil
}

// ListEntryFor is the entry of a stored image: its manifest's type, size and digest, and the
// platform its config names, overridden by o.
func (s *Store) ListEntryFor(img *Image, o ListEntryOptions) (ListEntry, error) {
	if img.IsList() {
		return ListEntry{}, fmt.Errorf("%s is a manifest list; add its images instead: %w", img.ID, errdefs.ErrInvalid)
	}
	fi, err := os.Stat(s.blobPath(img.Digest))
	if err != nil {
		return ListEntry{}, fmt.Errorf("image %.12s: manifest missing from the store: %w", img.ID, err)
	}
	c := img.Config
	e := ListEntry{MediaType: MediaType(img.ManifestType), Size: fi.Size(), Digest: img.Digest,
		Platform: &Platform{Architecture: c.Architecture, OS: c.OS, OSVersion: c.OSVersion, OSFeatures: c.OSFeatures, Variant: c.Variant}}
	if e.Platform.OS == "" {
		e.Platform.OS = "linux"
	}
	o.Apply(&e)
	return e, nil
}

// AddToList adds entries to the list, replacing any of the same digest.
func (s *Store) AddToList(nameOrID string, entries ...ListEntry) (*Image, error) {
	return s.EditList(nameOrID, func(doc *ListDocument) error {
		for _, e := range entries {
			doc.Manifests = append(removeEntry(doc.Manifests, e.Digest), e)
		}
		return nil
	})
}

func removeEntry(list []ListEntry, digest string) []ListEntry {
	out := list[:0]
	for _, e := range list {
		if e.Digest != digest {
			out = append(out, e)
		}
	}
	return out
}

// findEntry is the entry of a list that ref names: a digest, or an image of the store (by its
// manifest digest).
func (s *Store) findEntry(doc *ListDocument, ref string) (int, error) {
	digest := ref
	if _, err := NewHash(ref); err != nil {
		img, lerr := s.Lookup(ref)
		if lerr != nil {
			return 0, fmt.Errorf("%s is neither a digest nor an image of the list: %w", ref, errdefs.ErrInvalid)
		}
		digest = img.Digest
		for i, e := range doc.Manifests {
			if e.Digest == img.Digest || contains(img.Digests, e.Digest) {
				return i, nil
			}
		}
	}
	for i, e := range doc.Manifests {
		if e.Digest == digest {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no image of digest %s in the manifest list: %w", digest, errdefs.ErrNotFound)
}

// AnnotateList changes the entry of ref (a digest or an image) in the list.
func (s *Store) AnnotateList(nameOrID, ref string, o ListEntryOptions) (*Image, error) {
	return s.EditList(nameOrID, func(doc *ListDocument) error {
		i, err := s.findEntry(doc, ref)
		if err != nil {
			return err
		}
		o.Apply(&doc.Manifests[i])
		return nil
	})
}

// RemoveFromList removes the entry of digest from the list.
func (s *Store) RemoveFromList(nameOrID, digest string) (*Image, error) {
	if _, err := NewHash(digest); err != nil {
		return nil, fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
	}
	return s.EditList(nameOrID, func(doc *ListDocument) error {
		i, err := s.findEntry(doc, digest)
		if err != nil {
			return err
		}
		doc.Manifests = append(doc.Manifests[:i], doc.Manifests[i+1:]...)
		return nil
	})
}

// ListImage is the stored image of a list's entry digest.
func (s *Store) ListImage(digest string) (*Image, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	for _, img := range idx.Images {
		if !img.IsList() && (img.Digest == digest || contains(img.Digests, digest)) {
			return img, nil
		}
	}
	return nil, fmt.Errorf("image %s of the manifest list is not in the store: %w", digest, errdefs.ErrNotFound)
}

// ListMember is the image of the list for this machine's platform (what `run LIST` runs).
func (s *Store) ListMember(list *Image) (*Image, error) {
	doc, err := s.ListDocumentOf(list)
	if err != nil {
		return nil, err
	}
	for _, e := range doc.Manifests {
		if p := e.Platform; p != nil && p.OS == "linux" && p.Architecture == runtime.GOARCH {
			return s.ListImage(e.Digest)
		}
	}
	return nil, fmt.Errorf("%s: no image for linux/%s in the manifest list: %w", strings.Join(list.Names, ", "), runtime.GOARCH, errdefs.ErrNotFound)
}

// IndentManifest re-indents a manifest document as podman prints it, keeping its field order.
func IndentManifest(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "    "); err != nil {
		return nil, fmt.Errorf("manifest: %v: %w", err, errdefs.ErrInvalid)
	}
	return b.Bytes(), nil
}

// ListPushOptions control `manifest push`.
type ListPushOptions struct {
	PushOptions
	All    bool   // push the list's images too
	Format string // "oci" or "v2s2" for the list's type; "" as stored
}

// SearchOptions control `search`.
type SearchOptions struct {
	PullOptions
	Limit    int  // at most this many results per registry (0: all)
	ListTags bool // list the tags of one repository
}

// SearchResult is one line of `search`, with podman's fields.
type SearchResult struct {
	Index       string `json:"Index"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Stars       int    `json:"Stars"`
	Official    string `json:"Official"`
	Automated   string `json:"Automated"`
	Tag         string `json:"Tag"`
}

// RemoteListEntries pulls what ref names in a registry and returns its entries: an image's, or
// of an index the image for this machine, or with all every image it lists (each pulled by
// digest, with the platform the index gives it).
func (s *Store) RemoteListEntries(ctx context.Context, ref string, all bool, o PullOptions, eo ListEntryOptions) ([]ListEntry, error) {
	ref = strings.TrimPrefix(ref, "docker://")
	r, err := ParseReference(ref)
	if err != nil {
		return nil, err
	}
	raw, err := s.FetchManifest(ctx, ref, o)
	if err != nil {
		return nil, err
	}
	if !isIndex(sniffMediaType(raw)) {
		img, err := s.Pull(ctx, ref, o)
		if err != nil {
			return nil, err
		}
		e, err := s.ListEntryFor(img, eo)
		return []ListEntry{e}, err
	}
	idx, err := ParseIndexManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("image index %s: %v: %w", ref, err, errdefs.ErrInvalid)
	}
	descs := idx.Manifests
	if !all {
		d, err := pickPlatform(idx, o.targetPlatform(), false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref, err)
		}
		descs = []Descriptor{d}
	}
	var out []ListEntry
	for _, d := range descs {
		if isIndex(d.MediaType) {
			continue
		}
		byDigest := Reference{Domain: r.Domain, Path: r.Path, Digest: d.Digest.String()}
		img, err := s.Pull(ctx, byDigest.String(), o)
		if err != nil {
			return nil, err
		}
		e, err := s.ListEntryFor(img, ListEntryOptions{})
		if err != nil {
			return nil, err
		}
		if d.Platform != nil {
			p := *d.Platform
			e.Platform = &p
		}
		e.Annotations = d.Annotations
		eo.Apply(&e)
		out = append(out, e)
	}
	return out, nil
}

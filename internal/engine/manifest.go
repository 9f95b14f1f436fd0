package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/image"
)

// Manifest lists (`pea manifest`) and search: the image store keeps the lists (see
// internal/image/manifest.go); the engine finds the images to add, locally or in a registry.

// ManifestAddOptions are how images are added to a list.
type ManifestAddOptions struct {
	All      bool // an image that is a list: add every image it lists, not only this machine's
	Entry    image.ListEntryOptions
	Registry image.PullOptions
}

// ManifestCreate makes the list name (or, with amend, finds it) and adds images to it.
func (r *Runtime) ManifestCreate(ctx context.Context, name string, images []string, amend bool, o ManifestAddOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	// The images first: a bad one leaves no list behind.
	entries, err := r.manifestEntriesAll(ctx, is, images, o)
	if err != nil {
		return nil, err
	}
	list, err := is.CreateList(name, amend)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return list, nil
	}
	return is.AddToList(list.ID, entries...)
}

// manifestEntriesAll is manifestEntries of every image in images, in order.
func (r *Runtime) manifestEntriesAll(ctx context.Context, is *image.Store, images []string, o ManifestAddOptions) ([]image.ListEntry, error) {
	var entries []image.ListEntry
	for _, ref := range images {
		es, err := r.manifestEntries(ctx, is, ref, o)
		if err != nil {
			return nil, err
		}
		entries = append(entries, es...)
	}
	return entries, nil
}

// ManifestAdd adds images to the list.
func (r *Runtime) ManifestAdd(ctx context.Context, list string, images []string, o ManifestAddOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	if _, err := is.LookupList(list); err != nil {
		return nil, err
	}
	entries, err := r.manifestEntriesAll(ctx, is, images, o)
	if err != nil {
		return nil, err
	}
	return is.AddToList(list, entries...)
}

// manifestEntries finds the entries ref gives a list: "containers-storage:NAME" is an image of
// the store; "docker://REF" is pulled from its registry; a plain name is the store's image if it
// has one, else pulled. A list of the store gives its image for this machine, or with All all
// of its entries.
func (r *Runtime) manifestEntries(ctx context.Context, is *image.Store, ref string, o ManifestAddOptions) ([]image.ListEntry, error) {
	local, remote := ref, false
	switch {
	case strings.HasPrefix(ref, "containers-storage:"):
		local = strings.TrimPrefix(ref, "containers-storage:")
	case strings.HasPrefix(ref, "docker://"):
		remote = true
	default:
		for _, t := range []string{"oci-archive:", "docker-archive:", "oci:", "dir:", "docker-daemon:"} {
			if strings.HasPrefix(ref, t) {
				return nil, fmt.Errorf("%s: only images of the store (containers-storage:) and of registries (docker://) can be added: %w", ref, errdefs.ErrInvalid)
			}
		}
	}
	if !remote {
		img, err := is.Lookup(local)
		switch {
		case err == nil && img.IsList():
			return r.listEntries(is, img, o)
		case err == nil:
			e, err := is.ListEntryFor(img, o.Entry)
			return []image.ListEntry{e}, err
		case !errdefs.Is(err, errdefs.ErrNotFound) || local != ref || strings.HasPrefix(ref, "localhost/"):
			return nil, err
		}
	}
	es, err := is.RemoteListEntries(ctx, ref, o.All, o.Registry, o.Entry)
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if img, err := is.ListImage(e.Digest); err == nil {
			r.imageEvent("pull", img.ID, firstName(img, ""))
		}
	}
	return es, nil
}

// listEntries are the entries a list of the store gives another.
func (r *Runtime) listEntries(is *image.Store, list *image.Image, o ManifestAddOptions) ([]image.ListEntry, error) {
	if !o.All {
		img, err := is.ListMember(list)
		if err != nil {
			return nil, err
		}
		e, err := is.ListEntryFor(img, o.Entry)
		return []image.ListEntry{e}, err
	}
	doc, err := is.ListDocumentOf(list)
	if err != nil {
		return nil, err
	}
	out := doc.Manifests
	for i := range out {
		if out[i].Platform != nil {
			p := *out[i].Platform
			out[i].Platform = &p
		}
		o.Entry.Apply(&out[i])
	}
	return out, nil
}

// ManifestMember is the list's image for this machine (what inspect, save and run of the list
// use).
func (r *Runtime) ManifestMember(list *image.Image) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.ListMember(list)
}

// ManifestAnnotate changes what the list says of one of its images (a digest or an image).
func (r *Runtime) ManifestAnnotate(list, ref string, o image.ListEntryOptions) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.AnnotateList(list, ref, o)
}

// ManifestRemove takes the image of digest out of the list.
func (r *Runtime) ManifestRemove(list, digest string) (*image.Image, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.RemoveFromList(list, digest)
}

// ManifestInspect is the document of the local list nameOrRef, else of what it names in a
// registry (a list or an image's manifest), as podman prints it.
func (r *Runtime) ManifestInspect(ctx context.Context, nameOrRef string, o image.PullOptions) ([]byte, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	var raw []byte
	list, lerr := is.LookupList(nameOrRef)
	switch {
	case lerr == nil:
		doc, err := is.ListDocumentOf(list)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		return image.IndentManifest(b)
	case errdefs.Is(lerr, errdefs.ErrNotFound) && !strings.HasPrefix(nameOrRef, "localhost/"):
		if raw, err = is.FetchManifest(ctx, nameOrRef, o); err != nil {
			return nil, fmt.Errorf("%s: not a manifest list of the store, and from a registry: %w", nameOrRef, err)
		}
		return image.IndentManifest(raw)
	}
	return nil, lerr
}

// ManifestRm removes the list nameOrID (not its images); it returns its names and ID.
func (r *Runtime) ManifestRm(nameOrID string) (names []string, id string, err error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, "", err
	}
	list, err := is.LookupList(nameOrID)
	if err != nil {
		return nil, "", err
	}
	if err := is.Remove(list.ID); err != nil {
		return nil, "", err
	}
	r.imageRemoved(list)
	return list.Names, list.ID, nil
}

// ManifestExists reports whether nameOrID is a list; an image that is no list is an error.
func (r *Runtime) ManifestExists(nameOrID string) (bool, error) {
	is, err := r.imageStore()
	if err != nil {
		return false, err
	}
	_, err = is.LookupList(nameOrID)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ManifestPush sends the list (with o.All its images) to dest, and with rm removes it after; it
// returns the pushed list's digest.
func (r *Runtime) ManifestPush(ctx context.Context, list, dest string, o image.ListPushOptions, rm bool) (string, error) {
	is, err := r.imageStore()
	if err != nil {
		return "", err
	}
	l, err := is.LookupList(list)
	if err != nil {
		return "", err
	}
	if dest == "" {
		if len(l.Names) == 0 {
			return "", fmt.Errorf("%s: give a destination to push a list without a name: %w", list, errdefs.ErrInvalid)
		}
		dest = l.Names[0]
	}
	digest, err := is.PushList(ctx, l.ID, dest, o)
	if err != nil {
		return "", err
	}
	r.imageEvent("push", l.ID, dest)
	if rm {
		if _, _, err := r.ManifestRm(l.ID); err != nil {
			return digest, err
		}
	}
	return digest, nil
}

// Search asks registries for repositories whose names contain term (or a repository's tags).
func (r *Runtime) Search(ctx context.Context, term string, o image.SearchOptions) ([]image.SearchResult, error) {
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	return is.Search(ctx, term, o)
}

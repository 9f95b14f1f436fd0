//go:build !pea_split

package image

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"pea/internal/errdefs"
)

// Push sends the image nameOrID to dest (a registry reference, "docker://" optional); an empty
// dest pushes to the name nameOrID resolves to. The stored manifest is sent as is, so the pushed
// image keeps its digest.
func (s *Store) Push(ctx context.Context, nameOrID, dest string, o PushOptions) error {
	img, err := s.Lookup(nameOrID)
	if err != nil {
		return err
	}
	if dest == "" {
		if dest, err = s.resolveName(img, nameOrID); err != nil {
			return fmt.Errorf("%s: give a destination to push an image named by ID: %w", nameOrID, errdefs.ErrInvalid)
		}
	}
	if img.IsList() {
		_, err := s.PushList(ctx, img.ID, dest, ListPushOptions{PushOptions: o, All: true})
		return err
	}
	for _, t := range []string{"oci-archive:", "docker-archive:", "oci:", "dir:", "containers-storage:", "docker-daemon:"} {
		if strings.HasPrefix(dest, t) {
			return fmt.Errorf("push to %q: only registries (docker://) are supported; use pea save for archives: %w", dest, errdefs.ErrInvalid)
		}
	}
	r, err := ParseReference(strings.TrimPrefix(dest, "docker://"))
	if err != nil {
		return err
	}
	r = r.Normalize()
	reg, err := s.Registries()
	if err != nil {
		return err
	}
	if reg.Blocked(r.Repository()) {
		return blockedError(r.Repository())
	}
	rm, err := os.ReadFile(s.blobPath(img.Digest))
	if err != nil {
		return fmt.Errorf("image %.12s: manifest missing from the store: %w", img.ID, err)
	}
	m, err := ParseManifest(rm)
	if err != nil {
		return fmt.Errorf("image %.12s: stored manifest: %v: %w", img.ID, err, errdefs.ErrInvalid)
	}
	mt := m.MediaType
	if mt == "" {
		mt = MediaType(img.ManifestType)
	}
	rc, err := newRegClient(ctx, r.Repository(), o.insecure(reg.Insecure(r.Repository())), true, o)
	if err != nil {
		return err
	}
	p := newProgress(o.Progress)
	p.printf("Getting image source signatures\n")
	blobs := make([]Descriptor, 0, len(m.Layers)+1)
	for _, l := range m.Layers {
		blobs = append(blobs, l)
	}
	blobs = append(blobs, m.Config)
	for i, b := range blobs {
		kind := "blob"
		if i == len(blobs)-1 {
			kind = "config"
		}
		if err := s.pushBlob(rc, kind, b, p); err != nil {
			return fmt.Errorf("pushing %s: %w", r, classify(err))
		}
	}
	ref := r.Tag
	if r.Digest != "" {
		ref = r.Digest
	}
	p.printf("Writing manifest to image destination\n")
	if err := rc.putManifest(ref, rm, mt); err != nil {
		return fmt.Errorf("pushing %s: %w", r, classify(err))
	}
	return nil
}

// pushBlob sends one stored blob unless the registry has it.
func (s *Store) pushBlob(rc *regClient, kind string, d Descriptor, p *progress) error {
	digest := d.Digest.String()
	have, err := rc.hasBlob(digest)
	if err != nil {
		return err
	}
	if have {
		p.step(kind, digest, " skipped: already exists")
		return nil
	}
	fi, err := os.Stat(s.blobPath(digest))
	if err != nil {
		return fmt.Errorf("blob %s missing from the store: %w", digest, err)
	}
	open := func() (io.ReadCloser, error) {
		f, err := os.Open(s.blobPath(digest))
		if err != nil {
			return nil, err
		}
		return readCloser{p.blob(kind, digest, fi.Size(), f), f}, nil
	}
	if err := rc.putBlob(digest, fi.Size(), open); err != nil {
		return fmt.Errorf("blob %s: %w", digest, err)
	}
	p.done(kind, digest, fi.Size())
	return nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

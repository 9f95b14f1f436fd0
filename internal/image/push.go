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
// image keeps its digest, unless o.Compression asks for layers in another compression than
// stored (push_compress.go). It returns the digest of the manifest sent.
func (s *Store) Push(ctx context.Context, nameOrID, dest string, o PushOptions) (string, error) {
	if err := CheckCompression(o.Compression); err != nil {
		return "", err
	}
	img, err := s.Lookup(nameOrID)
	if err != nil {
		return "", err
	}
	if dest == "" {
		if dest, err = s.resolveName(img, nameOrID); err != nil {
			return "", fmt.Errorf("%s: give a destination to push an image named by ID: %w", nameOrID, errdefs.ErrInvalid)
		}
	}
	if img.IsList() {
		return s.PushList(ctx, img.ID, dest, ListPushOptions{PushOptions: o, All: true})
	}
	r, reg, err := s.pushDestination(dest)
	if err != nil {
		return "", err
	}
	rm, err := os.ReadFile(s.blobPath(img.Digest))
	if err != nil {
		return "", fmt.Errorf("image %.12s: manifest missing from the store: %w", img.ID, err)
	}
	m, err := ParseManifest(rm)
	if err != nil {
		return "", fmt.Errorf("image %.12s: stored manifest: %v: %w", img.ID, err, errdefs.ErrInvalid)
	}
	mt := m.MediaType
	if mt == "" {
		mt = MediaType(img.ManifestType)
	}
	rc, err := newRegClient(ctx, r.Repository(), o.insecure(reg.Insecure(r.Repository())), true, o)
	if err != nil {
		return "", err
	}
	ref := r.Tag
	if r.Digest != "" {
		ref = r.Digest
	}
	sent, _, err := s.pushImage(rc, ref, rm, mt, o.Compression, newProgress(o.Progress))
	if err != nil {
		return "", fmt.Errorf("pushing %s: %w", r, classify(err))
	}
	return "sha256:" + sha256Hex(sent), nil
}

// pushBlob sends one blob (d, read from the file path) unless the registry has it.
func (s *Store) pushBlob(rc *regClient, kind string, d Descriptor, path string, p *progress) error {
	digest := d.Digest.String()
	have, err := rc.hasBlob(digest)
	if err != nil {
		return err
	}
	if have {
		p.step(kind, digest, " skipped: already exists")
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("blob %s missing from the store: %w", digest, err)
	}
	open := func() (io.ReadCloser, error) {
		f, err := os.Open(path)
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

// pushDestination is a push's destination: a registry reference (docker:// or none; archives
// and other transports are refused: pea save writes archives), normalized, and the registry
// configuration, which must not block it.
func (s *Store) pushDestination(dest string) (Reference, *Registries, error) {
	for _, t := range []string{"oci-archive:", "docker-archive:", "oci:", "dir:", "containers-storage:", "docker-daemon:"} {
		if strings.HasPrefix(dest, t) {
			return Reference{}, nil, fmt.Errorf("push to %q: only registries (docker://) are supported; use pea save for archives: %w", dest, errdefs.ErrInvalid)
		}
	}
	r, err := ParseReference(strings.TrimPrefix(dest, "docker://"))
	if err != nil {
		return Reference{}, nil, err
	}
	r = r.Normalize()
	reg, err := s.Registries()
	if err != nil {
		return Reference{}, nil, err
	}
	if reg.Blocked(r.Repository()) {
		return Reference{}, nil, blockedError(r.Repository())
	}
	return r, reg, nil
}

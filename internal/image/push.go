package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

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
	insecure := o.insecure(reg.Insecure(r.Repository()))
	nref, err := parseRemote(r.Repository(), r, insecure)
	if err != nil {
		return err
	}
	ropts, err := remoteOptions(ctx, r.Repository(), insecure, o)
	if err != nil {
		return err
	}
	si, err := s.remoteImage(img)
	if err != nil {
		return err
	}
	p := newProgress(o.Progress)
	p.printf("Getting image source signatures\n")
	for _, b := range img.LayerBlobs {
		p.step("blob", b, "")
	}
	p.step("config", img.ConfigDigest, "")
	if err := remote.Write(nref, si, ropts...); err != nil {
		return fmt.Errorf("pushing %s: %w", r, classify(err))
	}
	p.printf("Writing manifest to image destination\n")
	return nil
}

// storedImage presents a stored image as a go-containerregistry image, for remote.Write.
type storedImage struct {
	s           *Store
	img         *Image
	rawManifest []byte
	rawConfig   []byte
	manifest    *v1.Manifest
}

func (s *Store) remoteImage(img *Image) (*storedImage, error) {
	rm, err := os.ReadFile(s.blobPath(img.Digest))
	if err != nil {
		return nil, fmt.Errorf("image %.12s: manifest missing from the store: %w", img.ID, err)
	}
	rc, err := os.ReadFile(s.blobPath(img.ConfigDigest))
	if err != nil {
		return nil, fmt.Errorf("image %.12s: config missing from the store: %w", img.ID, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(rm))
	if err != nil {
		return nil, err
	}
	return &storedImage{s: s, img: img, rawManifest: rm, rawConfig: rc, manifest: m}, nil
}

func (si *storedImage) Layers() ([]v1.Layer, error) {
	var ls []v1.Layer
	for _, d := range si.manifest.Layers {
		l, err := si.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func (si *storedImage) MediaType() (types.MediaType, error) { return si.manifest.MediaType, nil }
func (si *storedImage) Size() (int64, error)                { return int64(len(si.rawManifest)), nil }
func (si *storedImage) ConfigName() (v1.Hash, error)        { return si.manifest.Config.Digest, nil }
func (si *storedImage) ConfigFile() (*v1.ConfigFile, error) {
	return v1.ParseConfigFile(bytes.NewReader(si.rawConfig))
}
func (si *storedImage) RawConfigFile() ([]byte, error)  { return si.rawConfig, nil }
func (si *storedImage) Digest() (v1.Hash, error)        { return v1.NewHash(si.img.Digest) }
func (si *storedImage) Manifest() (*v1.Manifest, error) { return si.manifest, nil }
func (si *storedImage) RawManifest() ([]byte, error)    { return si.rawManifest, nil }

func (si *storedImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if h == si.manifest.Config.Digest {
		return partial.ConfigLayer(si)
	}
	for i, d := range si.manifest.Layers {
		if d.Digest == h {
			return &storedLayer{s: si.s, desc: d, diffID: mustHash(si.img.Layers[i])}, nil
		}
	}
	return nil, fmt.Errorf("blob %s is not part of image %.12s: %w", h, si.img.ID, errdefs.ErrNotFound)
}

func (si *storedImage) LayerByDiffID(h v1.Hash) (v1.Layer, error) {
	for i, d := range si.img.Layers {
		if d == h.String() {
			return si.LayerByDigest(si.manifest.Layers[i].Digest)
		}
	}
	return nil, fmt.Errorf("layer %s is not part of image %.12s: %w", h, si.img.ID, errdefs.ErrNotFound)
}

// storedLayer is a stored layer blob.
type storedLayer struct {
	s      *Store
	desc   v1.Descriptor
	diffID v1.Hash
}

func (l *storedLayer) Digest() (v1.Hash, error)            { return l.desc.Digest, nil }
func (l *storedLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *storedLayer) Size() (int64, error)                { return l.desc.Size, nil }
func (l *storedLayer) MediaType() (types.MediaType, error) { return l.desc.MediaType, nil }
func (l *storedLayer) Compressed() (io.ReadCloser, error) {
	return os.Open(l.s.blobPath(l.desc.Digest.String()))
}
func (l *storedLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	rc, err := decompress(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &closeBoth{rc, f}, nil
}

type closeBoth struct {
	io.ReadCloser
	f io.Closer
}

func (c *closeBoth) Close() error {
	c.ReadCloser.Close()
	return c.f.Close()
}

package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"pea/internal/errdefs"
)

// Pull fetches ref from its registry (a short name from each search registry in turn, each
// registry's mirrors before the registry itself) and stores it under its full name.
func (s *Store) Pull(ctx context.Context, ref string, o PullOptions) (*Image, error) {
	r, err := ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return nil, err
	}
	reg, err := s.Registries()
	if err != nil {
		return nil, err
	}
	var candidates []Reference
	if r.Domain == "" {
		for _, d := range reg.searchList() {
			candidates = append(candidates, r.inDomain(d))
		}
	} else {
		candidates = []Reference{r.Normalize()}
	}
	p := newProgress(o.Progress)
	var errs []error
	for _, c := range candidates {
		img, err := s.pullFrom(ctx, c, reg, o, p)
		if err == nil {
			return img, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("pulling %s from every search registry failed: %w", ref, errors.Join(errs...))
}

// pullFrom pulls the full reference c, trying its endpoints in order.
func (s *Store) pullFrom(ctx context.Context, c Reference, reg *Registries, o PullOptions, p *progress) (*Image, error) {
	eps, err := reg.Endpoints(c.Repository(), c.Digest != "")
	if err != nil {
		return nil, err
	}
	p.printf("Trying to pull %s...\n", c)
	var errs []error
	for _, ep := range eps {
		img, err := s.pullEndpoint(ctx, c, ep, o, p)
		if err == nil {
			return img, nil
		}
		if ep.Mirror {
			err = fmt.Errorf("mirror %s: %w", ep.Repository, err)
		}
		errs = append(errs, err)
		if ctx.Err() != nil || errdefs.Is(err, errdefs.ErrInvalid) && !ep.Mirror {
			break
		}
	}
	err = errs[len(errs)-1]
	if len(errs) > 1 {
		err = errors.Join(errs...)
	}
	return nil, fmt.Errorf("pulling %s: %w", c, err)
}

// remoteOptions builds go-containerregistry options for one repository endpoint.
func remoteOptions(ctx context.Context, repo string, insecure bool, o PullOptions) ([]remote.Option, error) {
	auth, err := o.authenticator(repo)
	if err != nil {
		return nil, err
	}
	plat := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if o.OS != "" {
		plat.OS = o.OS
	}
	if o.Arch != "" {
		plat.Architecture = o.Arch
	}
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(httpTransport(insecure)),
		remote.WithPlatform(plat),
		remote.WithUserAgent("pea"),
		remote.WithRetryBackoff(remote.Backoff{Steps: 2}),
	}, nil
}

func parseRemote(repo string, c Reference, insecure bool) (name.Reference, error) {
	s := repo
	if c.Digest != "" {
		s += "@" + c.Digest
	} else {
		s += ":" + c.Tag
	}
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(s, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", s, err, errdefs.ErrInvalid)
	}
	return r, nil
}

// classify maps registry errors to pea's classes: unknown manifests are "not found", refused
// credentials "invalid".
func classify(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", err, errdefs.ErrNotFound)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%w (check --creds or the auth file): %w", err, errdefs.ErrInvalid)
		}
	}
	return err
}

func (s *Store) pullEndpoint(ctx context.Context, c Reference, ep Endpoint, o PullOptions, p *progress) (*Image, error) {
	insecure := o.insecure(ep.Insecure)
	nref, err := parseRemote(ep.Repository, c, insecure)
	if err != nil {
		return nil, err
	}
	ropts, err := remoteOptions(ctx, ep.Repository, insecure, o)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(nref, ropts...)
	if err != nil {
		return nil, classify(err)
	}
	var index []byte
	if isIndex(desc.MediaType) {
		index = desc.Manifest
	}
	rimg, err := desc.Image()
	if err != nil {
		return nil, classify(err)
	}
	p.printf("Getting image source signatures\n")
	return s.store(rimg, c.String(), index, p)
}

// store ingests a remote image: layers (skipping those present), config, manifest, record.
// index is the raw image index the image was chosen from, if any.
func (s *Store) store(rimg v1.Image, name string, index []byte, p *progress) (*Image, error) {
	rawManifest, err := rimg.RawManifest()
	if err != nil {
		return nil, classify(err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, fmt.Errorf("manifest: %v: %w", err, errdefs.ErrInvalid)
	}
	if m.Config.Digest.Hex == "" {
		return nil, fmt.Errorf("manifest has no config (schema 1 images are not supported): %w", errdefs.ErrInvalid)
	}
	rawConfig, err := rimg.RawConfigFile()
	if err != nil {
		return nil, classify(err)
	}
	if got := "sha256:" + sha256Hex(rawConfig); got != m.Config.Digest.String() {
		return nil, fmt.Errorf("config digest mismatch: manifest says %s, data gives %s: %w", m.Config.Digest, got, errdefs.ErrInvalid)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, fmt.Errorf("image config: %v: %w", err, errdefs.ErrInvalid)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest has %d layers but the config lists %d diffIDs: %w", len(m.Layers), len(cfg.RootFS.DiffIDs), errdefs.ErrInvalid)
	}
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() { in.close(ok) }()

	var layers []layerResult
	var blobs []string
	for i, ld := range m.Layers {
		diffID, digest := cfg.RootFS.DiffIDs[i].String(), ld.Digest.String()
		if size, have := s.haveLayer(diffID, digest); have {
			p.step("blob", digest, " skipped: already exists")
			layers, blobs = append(layers, layerResult{DiffID: diffID, Size: size}), append(blobs, digest)
			continue
		}
		l, err := rimg.LayerByDigest(ld.Digest)
		if err != nil {
			return nil, classify(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			return nil, classify(err)
		}
		_, res, err := in.storeLayer(p.blob("blob", digest, ld.Size, rc), digest, diffID, false)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", digest, classify(err))
		}
		p.done("blob", digest, ld.Size)
		layers, blobs = append(layers, res), append(blobs, digest)
	}
	p.step("config", m.Config.Digest.String(), " done")
	if _, _, err := in.putBlob(bytes.NewReader(rawConfig), m.Config.Digest.String()); err != nil {
		return nil, err
	}
	p.printf("Writing manifest to image destination\n")
	if _, err := in.putBlobBytes(rawManifest); err != nil {
		return nil, err
	}
	img, err := newRecord(rawManifest, rawConfig, []string{name}, layers, blobs)
	if err != nil {
		return nil, err
	}
	if index != nil {
		d, err := in.putBlobBytes(index)
		if err != nil {
			return nil, err
		}
		img.Digests = []string{d}
	}
	imgs, err := in.commit([]*Image{img})
	if err != nil {
		return nil, err
	}
	ok = true
	return imgs[0], nil
}

//go:build !pea_split

package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/image/trust"
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
	if o.policy == nil {
		if o.policy, err = trust.Load(o.SignaturePolicy); err != nil {
			return nil, err
		}
	}
	candidates, alias, err := reg.pullCandidates(r)
	if err != nil {
		return nil, err
	}
	p := newProgress(o.Progress)
	if alias != nil {
		p.printf("Resolved %q as an alias (%s)\n", r.Path, alias.File)
	}
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
	if err := checkPulling(o.policy, c); err != nil {
		return nil, err
	}
	var errs []error
	for _, ep := range eps {
		img, err := s.pullEndpoint(ctx, c, ep, o, p)
		if err == nil {
			return img, nil
		}
		if errors.Is(err, trust.ErrRejected) {
			return nil, err // the policy judges the image, wherever it comes from
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

func (s *Store) pullEndpoint(ctx context.Context, c Reference, ep Endpoint, o PullOptions, p *progress) (*Image, error) {
	rc, err := newRegClient(ctx, ep.Repository, o.insecure(ep.Insecure), false, o)
	if err != nil {
		return nil, err
	}
	ref := c.Tag
	if c.Digest != "" {
		ref = c.Digest
	}
	raw, mt, err := rc.getManifest(ref)
	if err != nil {
		return nil, classify(err)
	}
	var index []byte
	if isIndex(mt) {
		index = raw
		idx, err := ParseIndexManifest(raw)
		if err != nil {
			return nil, fmt.Errorf("image index: %v: %w", err, errdefs.ErrInvalid)
		}
		desc, err := pickPlatform(idx, o.targetPlatform(), false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c, err)
		}
		if raw, mt, err = rc.getManifest(desc.Digest.String()); err != nil {
			return nil, classify(err)
		}
	}
	// The policy judges the image before anything else is read of it.
	if err := checkPulled(o.policy, c, rc, raw); err != nil {
		return nil, err
	}
	if mt == DockerManifestSchema1 || mt == DockerManifestSchema1Signed {
		return nil, fmt.Errorf("manifest has no config (schema 1 images are not supported): %w", errdefs.ErrInvalid)
	}
	if !isImageManifest(mt) {
		return nil, fmt.Errorf("%s is not an image (its manifest is of type %q): %w", c, mt, errdefs.ErrInvalid)
	}
	p.printf("Getting image source signatures\n")
	return s.store(rc, raw, c.String(), index, p)
}

// store ingests a remote image, given its manifest: layers (skipping those present), config,
// manifest, record. index is the raw image index the image was chosen from, if any.
func (s *Store) store(rc *regClient, rawManifest []byte, name string, index []byte, p *progress) (*Image, error) {
	m, err := ParseManifest(rawManifest)
	if err != nil {
		return nil, fmt.Errorf("manifest: %v: %w", err, errdefs.ErrInvalid)
	}
	if m.Config.Digest.IsZero() {
		return nil, fmt.Errorf("manifest has no config (schema 1 images are not supported): %w", errdefs.ErrInvalid)
	}
	rawConfig, err := rc.getSmallBlob(m.Config.Digest.String(), maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", m.Config.Digest, classify(err))
	}
	if got := "sha256:" + sha256Hex(rawConfig); got != m.Config.Digest.String() {
		return nil, fmt.Errorf("config digest mismatch: manifest says %s, data gives %s: %w", m.Config.Digest, got, errdefs.ErrInvalid)
	}
	cfg, err := ParseConfigFile(rawConfig)
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
		body, err := rc.getBlob(digest)
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", digest, classify(err))
		}
		_, res, err := in.storeLayer(p.blob("blob", digest, ld.Size, body), digest, diffID, false)
		body.Close()
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

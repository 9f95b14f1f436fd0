package image

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pea/internal/errdefs"
	"pea/internal/image/trust"
)

// SignOptions control `image sign` and a push's --sign-by.
type SignOptions struct {
	SignBy         string // the gpg key (an ID, fingerprint or e-mail address of the user's keyring)
	PassphraseFile string // the key's passphrase, if it has one
	// Directory holds the signatures instead of the lookaside registries.d names for writing
	// (its -staging URL, else its URL), which must be a file:// one.
	Directory string
	All       bool   // an index: sign each of its images instead of the index
	Creator   string // the payload's optional creator
	Registry  PullOptions
}

// signatureBase is where signatures of ref are written: DIRECTORY/REPO-PATH, or the lookaside.
func (o SignOptions) signatureBase(ref trust.Ref) (*url.URL, error) {
	if o.Directory != "" {
		abs, err := filepath.Abs(o.Directory)
		if err != nil {
			return nil, err
		}
		return &url.URL{Scheme: "file", Path: filepath.Join(abs, ref.Path())}, nil
	}
	regs, err := trust.LoadRegistriesD("")
	if err != nil {
		return nil, err
	}
	return regs.Lookaside(ref, true)
}

// Sign writes a simple signature of the image a registry holds as ref (docker://NAME, as for
// podman): of its manifest, or with All of each image of its index, made by gpg with the key
// o.SignBy, as the next signature-N of the lookaside directory.
func (s *Store) Sign(ctx context.Context, ref string, o SignOptions) error {
	if o.SignBy == "" {
		return errors.New("please provide an identity")
	}
	transport, rest, ok := strings.Cut(ref, ":")
	switch {
	case !ok:
		return fmt.Errorf("parsing image name: Invalid image name %q, expected colon-separated transport:reference", ref)
	case transport != "docker":
		switch transport {
		case "containers-storage", "docker-archive", "oci-archive", "oci", "dir", "docker-daemon":
			return fmt.Errorf("cannot determine canonical Docker reference for destination %s (pea signs images in registries: docker://NAME)", ref)
		}
		return fmt.Errorf("parsing image name: Invalid image name %q, unknown transport %q", ref, transport)
	case !strings.HasPrefix(rest, "//"):
		return fmt.Errorf("parsing image name: Invalid image name %q: docker: image reference %q does not start with \"//\"", ref, rest)
	}
	if o.Directory != "" {
		if _, err := os.Stat(o.Directory); err != nil {
			return err
		}
	}
	n, dref, base, err := o.signTarget(strings.TrimPrefix(rest, "//"))
	if err != nil {
		return err
	}
	raw, err := s.FetchManifest(ctx, n.String(), o.Registry)
	if err != nil {
		return fmt.Errorf("getting image source: %w", err)
	}
	if !o.All {
		return signManifest(dref, "sha256:"+sha256Hex(raw), base, o)
	}
	idx, err := ParseIndexManifest(raw)
	if err != nil || len(idx.Manifests) == 0 {
		return fmt.Errorf("%s is not a multi-architecture image (manifest list/image index): %w", ref, errdefs.ErrInvalid)
	}
	for _, m := range idx.Manifests {
		d := m.Digest.String()
		inst, err := s.FetchManifest(ctx, n.Repository()+"@"+d, o.Registry)
		if err != nil {
			return fmt.Errorf("getting image source: %w", err)
		}
		if got := "sha256:" + sha256Hex(inst); got != d {
			return fmt.Errorf("manifest %s of %s has the digest %s: %w", d, ref, got, errdefs.ErrInvalid)
		}
		if err := signManifest(dref, d, base, o); err != nil {
			return err
		}
	}
	return nil
}

// SignPushed signs the manifest digest just pushed as dest (push --sign-by) and stores the
// signature where the lookaside for writing says.
func SignPushed(dest, digest string, o SignOptions) error {
	_, dref, base, err := o.signTarget(strings.TrimPrefix(dest, "docker://"))
	if err != nil {
		return err
	}
	return signManifest(dref, digest, base, o)
}

// signTarget parses the reference a signature is for: the normalized name, the identity the
// signature claims, and where its signatures are written.
func (o SignOptions) signTarget(ref string) (Reference, trust.Ref, *url.URL, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return Reference{}, trust.Ref{}, nil, err
	}
	n := r.Normalize()
	dref := trust.Ref{Name: n.Repository(), Tag: n.Tag, Digest: n.Digest}
	base, err := o.signatureBase(dref)
	return n, dref, base, err
}

func signManifest(ref trust.Ref, digest string, base *url.URL, o SignOptions) error {
	payload := trust.MarshalPayload(trust.Payload{ManifestDigest: digest, DockerReference: ref.String(), Creator: o.Creator, Timestamp: time.Now().Unix()})
	sig, err := trust.SignGPG(o.SignBy, payload, o.PassphraseFile)
	if err == nil {
		_, err = trust.StoreSignature(base, digest, sig)
	}
	if err != nil {
		return fmt.Errorf("storing signature for %s, %s: %w", ref, digest, err)
	}
	return nil
}

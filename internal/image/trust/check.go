package trust

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strings"
)

// ErrRejected is the class of a policy's refusal: the image may not be brought in.
var ErrRejected = errors.New("source image rejected")

// rejection is a refusal with podman's wording, "Source image rejected: REASON".
type rejection struct{ reason error }

func (e *rejection) Error() string      { return "Source image rejected: " + e.reason.Error() }
func (e *rejection) Is(t error) bool    { return t == ErrRejected }
func (e *rejection) Unwrap() error      { return e.reason }
func reject(err error) error            { return &rejection{err} }
func reqError(f string, a ...any) error { return fmt.Errorf(f, a...) }

// VerifyFunc checks a signature made by one of the keys (OpenPGP keyrings, armored or not) and
// returns the signed payload. VerifyGPG is the one pea uses where it fetches signatures.
type VerifyFunc func(keys [][]byte, sig []byte) ([]byte, error)

// Image is what a policy check knows of an image about to be brought in.
type Image struct {
	Transport string // "docker", "docker-archive", "oci-archive", "tarball", "containers-storage"
	// Name is the image within its transport, as messages show it after "TRANSPORT:"
	// ("//host/repo:tag" for docker).
	Name string
	// Identity and Namespaces are its policy scopes (see DockerScopes), "" and none where the
	// transport has no finer scopes than its "" one.
	Identity   string
	Namespaces []string
	// Docker is the reference signatures are matched against; nil where there is none.
	Docker *Ref
	// Manifest is the image's manifest, which a signature's digest must match.
	Manifest []byte
	// Signatures fetches the image's signatures when a requirement asks for them; nil: the
	// transport keeps none.
	Signatures func() ([][]byte, error)
	// Verify checks GPG signatures; nil where pea cannot (an image with signatures is then
	// refused under signedBy).
	Verify VerifyFunc
}

// Check refuses the image unless every requirement that applies to it is satisfied. Its errors
// are of class ErrRejected, with podman's messages.
func (p *Policy) Check(img *Image) error {
	for _, r := range p.For(img.Transport, img.Identity, img.Namespaces) {
		if err := r.check(img); err != nil {
			return reject(err)
		}
	}
	return nil
}

// CheckEarly refuses the image when a requirement that needs nothing of the image (reject,
// sigstoreSigned) applies to it, so that a pull is refused before the registry is asked.
func (p *Policy) CheckEarly(img *Image) error {
	for _, r := range p.For(img.Transport, img.Identity, img.Namespaces) {
		if r.Type == TypeReject || r.Type == TypeSigstore {
			return reject(r.check(img))
		}
	}
	return nil
}

func (r Requirement) check(img *Image) error {
	switch r.Type {
	case TypeAccept:
		return nil
	case TypeReject:
		return reqError("Running image %s:%s is rejected by policy.", img.Transport, img.Name)
	case TypeSigstore:
		return reqError("A sigstore signature was required (sigstoreSigned), but pea does not verify sigstore signatures: image %s:%s is refused", img.Transport, img.Name)
	case TypeSignedBy:
		return r.checkSignedBy(img)
	}
	return reqError("Unknown policy requirement type %q", r.Type)
}

func (r Requirement) checkSignedBy(img *Image) error {
	if r.KeyType != "GPGKeys" {
		return reqError("Unimplemented \"keyType\" value %q", r.KeyType)
	}
	var sigs [][]byte
	if img.Signatures != nil {
		var err error
		if sigs, err = img.Signatures(); err != nil {
			return err
		}
	}
	var keys [][]byte
	var keysErr error
	keysRead := false
	var rejections []string
	for _, sig := range sigs {
		if !keysRead {
			keys, keysErr = r.keys()
			keysRead = true
		}
		err := keysErr
		if err == nil {
			err = r.checkSignature(img, keys, sig)
		}
		if err == nil {
			return nil
		}
		rejections = append(rejections, err.Error())
	}
	switch len(rejections) {
	case 0:
		return reqError("A signature was required, but no signature exists")
	case 1:
		return errors.New(rejections[0])
	}
	return reqError("None of the signatures were accepted, reasons: %s", strings.Join(rejections, "; "))
}

// keys reads the requirement's key material.
func (r Requirement) keys() ([][]byte, error) {
	if r.HasKeyData {
		return [][]byte{r.KeyData}, nil
	}
	paths := r.KeyPaths
	if r.KeyPath != "" {
		paths = []string{r.KeyPath}
	}
	var keys [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		keys = append(keys, b)
	}
	return keys, nil
}

func (r Requirement) checkSignature(img *Image, keys [][]byte, sig []byte) error {
	if img.Verify == nil {
		return reqError("Invalid GPG signature: pea cannot verify GPG signatures of %s images", img.Transport)
	}
	payload, err := img.Verify(keys, sig)
	if err != nil {
		return err
	}
	s, err := ParsePayload(payload)
	if err != nil {
		return err
	}
	if !digestMatches(img.Manifest, s.ManifestDigest) {
		return reqError("Signature for digest %s does not match", s.ManifestDigest)
	}
	signed, err := ParseRef(s.DockerReference)
	if err != nil {
		return reqError("Invalid docker reference %s in signature", s.DockerReference)
	}
	if !r.Identity.matches(img.Docker, signed) {
		return reqError("Signature for identity %s is not accepted", s.DockerReference)
	}
	return nil
}

// digestMatches reports whether manifest has the digest (sha256 or sha512).
func digestMatches(manifest []byte, digest string) bool {
	algo, want, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	var h hash.Hash
	switch algo {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return false
	}
	h.Write(manifest)
	return hex.EncodeToString(h.Sum(nil)) == want
}

// matches reports whether a signature for the identity signed is accepted for an image pulled
// as image.
func (id Identity) matches(image *Ref, signed Ref) bool {
	switch id.Type {
	case ExactReference:
		want, err := ParseRef(id.DockerReference)
		return err == nil && !signed.NameOnly() && signed.String() == want.String()
	case ExactRepository:
		want, err := ParseRef(id.DockerRepository)
		return err == nil && signed.Name == want.Name
	}
	if image == nil {
		return false
	}
	intended := *image
	switch id.Type {
	case MatchExact:
		return !intended.NameOnly() && !signed.NameOnly() && signed.String() == intended.String()
	case MatchRepository:
		return signed.Name == intended.Name
	case RemapIdentity:
		if prefixMatches(intended.Name, id.Prefix) {
			remapped, err := ParseRef(strings.Replace(intended.String(), id.Prefix, id.SignedPrefix, 1))
			if err != nil {
				return false
			}
			intended = remapped
		}
	}
	// matchRepoDigestOrExact, and remapIdentity after the remapping.
	switch {
	case intended.Digest != "":
		return signed.Name == intended.Name
	case intended.Tag != "":
		return signed.String() == intended.String()
	}
	return false
}

// prefixMatches reports whether name is prefix or lies under it (the next character a '/').
func prefixMatches(name, prefix string) bool {
	return name == prefix || strings.HasPrefix(name, prefix) && name[len(prefix)] == '/'
}

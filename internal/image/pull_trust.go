//go:build !pea_split

package image

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"pea/internal/image/trust"
)

// checkPulled applies the signature policy to the image c, whose manifest (the one pulled, an
// index's entry for this platform) is raw. Signatures are fetched only when a requirement asks
// for them: from the registry when it serves them (X-Registry-Supports-Signatures), else from the
// lookaside registries.d configures.
func checkPulled(pol *trust.Policy, c Reference, rc *regClient, raw []byte) error {
	ref := trust.Ref{Name: c.Repository(), Tag: c.Tag, Digest: c.Digest}
	identity, namespaces := trust.DockerScopes(ref)
	digest := "sha256:" + sha256Hex(raw)
	return pol.Check(&trust.Image{
		Transport: "docker", Name: "//" + c.String(), Identity: identity, Namespaces: namespaces,
		Docker: &ref, Manifest: raw, Verify: trust.VerifyGPG,
		Signatures: func() ([][]byte, error) {
			if rc.supportsSignatures {
				return rc.extensionSignatures(digest)
			}
			regs, err := trust.LoadRegistriesD("")
			if err != nil {
				return nil, err
			}
			base, err := regs.Lookaside(ref, false)
			if err != nil {
				return nil, err
			}
			return trust.ReadSignatures(base, digest, fetchSignature)
		},
	})
}

// checkPulling refuses the image c before the registry is asked when the policy's word does not
// depend on the image (reject).
func checkPulling(pol *trust.Policy, c Reference) error {
	ref := trust.Ref{Name: c.Repository(), Tag: c.Tag, Digest: c.Digest}
	identity, namespaces := trust.DockerScopes(ref)
	return pol.CheckEarly(&trust.Image{Transport: "docker", Name: "//" + c.String(), Identity: identity, Namespaces: namespaces, Docker: &ref})
}

// fetchSignature reads one signature from an http(s) lookaside: a 404 is the end of the list.
func fetchSignature(u *url.URL) ([]byte, bool, error) {
	hc := &http.Client{Timeout: 2 * time.Minute}
	resp, err := hc.Get(u.String())
	if err != nil {
		return nil, false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, false, nil
	default:
		return nil, false, fmt.Errorf("status %d (%s)", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20+1))
	return b, true, err
}

// extensionSignatures reads a manifest's signatures through the registry's own API
// (GET /extensions/v2/REPO/signatures/DIGEST), for registries that announce it.
func (c *regClient) extensionSignatures(digest string) ([][]byte, error) {
	resp, err := c.do(request{method: http.MethodGet, url: "/extensions/v2/" + c.path + "/signatures/" + digest, ok: []int{http.StatusOK, http.StatusNotFound}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, nil
	}
	var list struct {
		Signatures []struct {
			Version int    `json:"version"`
			Type    string `json:"type"`
			Content string `json:"content"`
		} `json:"signatures"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&list); err != nil {
		return nil, fmt.Errorf("reading the registry's signatures of %s: %w", digest, err)
	}
	var sigs [][]byte
	for _, s := range list.Signatures {
		if s.Version != 2 || s.Type != "atomic" {
			continue // a kind pea does not know
		}
		b, err := base64.StdEncoding.DecodeString(s.Content)
		if err != nil {
			return nil, fmt.Errorf("reading the registry's signatures of %s: %w", digest, err)
		}
		sigs = append(sigs, b)
	}
	return sigs, nil
}

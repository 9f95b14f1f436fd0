//go:build !pea_split

package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"pea/internal/errdefs"
)

// The registry side of manifest lists (fetching a manifest, pushing a list and its images) and
// of search. Built into the registry helper; pea asks for them through it (manifest_client.go).

// FetchManifest gets the manifest or index ref names from its registry, as the registry stores it
// (a short name from each search registry in turn).
func (s *Store) FetchManifest(ctx context.Context, ref string, o PullOptions) ([]byte, error) {
	r, err := ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil {
		return nil, err
	}
	reg, err := s.Registries()
	if err != nil {
		return nil, err
	}
	candidates, _, err := reg.pullCandidates(r)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, c := range candidates {
		eps, err := reg.Endpoints(c.Repository(), c.Digest != "")
		if err != nil {
			return nil, err
		}
		for _, ep := range eps {
			rc, err := newRegClient(ctx, ep.Repository, o.insecure(ep.Insecure), false, o)
			if err != nil {
				return nil, err
			}
			tag := c.Tag
			if c.Digest != "" {
				tag = c.Digest
			}
			raw, _, err := rc.getManifest(tag)
			if err == nil {
				return raw, nil
			}
			errs = append(errs, fmt.Errorf("%s: %w", c, classify(err)))
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
		}
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, errors.Join(errs...)
}

// PushList sends the list nameOrID to dest (a registry reference), with o.All the images it
// lists first. It returns the digest of the list as pushed.
func (s *Store) PushList(ctx context.Context, nameOrID, dest string, o ListPushOptions) (string, error) {
	if err := CheckCompression(o.Compression); err != nil {
		return "", err
	}
	list, err := s.LookupList(nameOrID)
	if err != nil {
		return "", err
	}
	doc, err := s.ListDocumentOf(list)
	if err != nil {
		return "", err
	}
	r, reg, err := s.pushDestination(dest)
	if err != nil {
		return "", err
	}
	raw, err := os.ReadFile(s.blobPath(list.Digest))
	if err != nil {
		return "", fmt.Errorf("manifest list %.12s: document missing from the store: %w", list.ID, err)
	}
	mt := doc.MediaType
	switch o.Format {
	case "":
	case "oci", "v2s2":
		if mt = OCIImageIndex; o.Format == "v2s2" {
			mt = DockerManifestList
		}
		if mt != doc.MediaType {
			doc.MediaType = mt
			if raw, err = json.Marshal(doc); err != nil {
				return "", err
			}
		}
	default:
		return "", fmt.Errorf("--format %q: the formats are oci and v2s2: %w", o.Format, errdefs.ErrInvalid)
	}
	rc, err := newRegClient(ctx, r.Repository(), o.insecure(reg.Insecure(r.Repository())), true, o.PushOptions)
	if err != nil {
		return "", err
	}
	p := newProgress(o.Progress)
	if o.All {
		p.printf("Getting image list signatures\n")
		p.printf("Copying %d of %d images in list\n", len(doc.Manifests), len(doc.Manifests))
		changed := false
		for i := range doc.Manifests {
			e := &doc.Manifests[i]
			was := e.Digest
			p.printf("Copying image %s (%d/%d)\n", e.Digest, i+1, len(doc.Manifests))
			if err := s.pushListImage(rc, e, o.Compression, p); err != nil {
				return "", fmt.Errorf("pushing %s: %w", r, classify(err))
			}
			changed = changed || e.Digest != was
		}
		if changed { // recompressed images: the list names the manifests sent
			if raw, err = json.Marshal(doc); err != nil {
				return "", err
			}
		}
	}
	ref := r.Tag
	if r.Digest != "" {
		ref = r.Digest
	}
	p.printf("Writing manifest list to image destination\n")
	if err := rc.putManifest(ref, raw, mt); err != nil {
		return "", fmt.Errorf("pushing %s: %w", r, classify(err))
	}
	return "sha256:" + sha256Hex(raw), nil
}

// pushListImage sends the stored image of a list's entry, under its digest, or with
// compression format under the digest of the manifest sent, which e then names.
func (s *Store) pushListImage(rc *regClient, e *ListEntry, format string, p *progress) error {
	if _, err := s.ListImage(e.Digest); err != nil {
		return err
	}
	rm, err := os.ReadFile(s.blobPath(e.Digest))
	if err != nil {
		return fmt.Errorf("image %s: manifest missing from the store: %w", e.Digest, err)
	}
	ref := e.Digest
	if format != "" {
		ref = ""
	}
	sent, mt, err := s.pushImage(rc, ref, rm, e.MediaType, format, p)
	if err != nil {
		return fmt.Errorf("image %s: %w", e.Digest, err)
	}
	e.Digest, e.Size, e.MediaType = "sha256:"+sha256Hex(sent), int64(len(sent)), mt
	return nil
}

// Search finds repositories of a registry whose names contain the term (the registry's
// /v2/_catalog), or with o.ListTags the tags of one repository (/v2/NAME/tags/list). The term
// is REGISTRY/TEXT, or TEXT searched in every search registry of registries.conf.
func (s *Store) Search(ctx context.Context, term string, o SearchOptions) ([]SearchResult, error) {
	reg, err := s.Registries()
	if err != nil {
		return nil, err
	}
	if o.ListTags {
		return s.listTags(ctx, term, reg, o)
	}
	hosts, text := reg.Search, term
	if first, rest, ok := strings.Cut(term, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		hosts, text = []string{first}, rest
	}
	if len(hosts) == 0 {
		return nil, nil // nowhere to search: podman finds nothing, without an error
	}
	var out []SearchResult
	var errs []error
	for _, h := range hosts {
		repos, err := s.catalog(ctx, h, reg, o)
		if err != nil {
			errs = append(errs, fmt.Errorf("searching %s: %w", h, classify(err)))
			continue
		}
		n := 0
		for _, repo := range repos {
			if !strings.Contains(repo, text) {
				continue
			}
			if o.Limit > 0 && n == o.Limit {
				break
			}
			out = append(out, SearchResult{Index: h, Name: h + "/" + repo})
			n++
		}
	}
	if len(out) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// registryClient is a client of a registry as a whole (not one repository), for scope.
func (s *Store) registryClient(ctx context.Context, host string, reg *Registries, o PullOptions, scope string) (*regClient, error) {
	creds, err := o.credentials(host + "/")
	if err != nil {
		return nil, err
	}
	insecure := o.insecure(reg.Insecure(host + "/x"))
	return &regClient{ctx: ctx, host: registryHost(host), repo: host, insecure: insecure, creds: creds,
		hc: &http.Client{Transport: httpTransport(insecure)}, fixedScope: scope}, nil
}

// catalog lists a registry's repositories, following the pages its Link headers name.
func (s *Store) catalog(ctx context.Context, host string, reg *Registries, o SearchOptions) ([]string, error) {
	rc, err := s.registryClient(ctx, host, reg, o.PullOptions, "registry:catalog:*")
	if err != nil {
		return nil, err
	}
	var repos []string
	next := "/v2/_catalog?n=1000"
	for page := 0; next != "" && page < 100; page++ {
		var body struct {
			Repositories []string `json:"repositories"`
		}
		if next, err = rc.getJSON(next, &body); err != nil {
			return nil, err
		}
		repos = append(repos, body.Repositories...)
	}
	return repos, nil
}

// listTags lists the tags of the repository term names.
func (s *Store) listTags(ctx context.Context, term string, reg *Registries, o SearchOptions) ([]SearchResult, error) {
	r, err := ParseReference(strings.TrimPrefix(term, "docker://"))
	if err != nil {
		return nil, err
	}
	if r.Tag != "" || r.Digest != "" {
		return nil, fmt.Errorf("--list-tags takes a repository, without a tag or digest (%q): %w", term, errdefs.ErrInvalid)
	}
	if r.Domain == "" {
		return nil, fmt.Errorf("--list-tags needs a fully qualified repository, REGISTRY/NAME (%q): %w", term, errdefs.ErrInvalid)
	}
	r = r.Normalize()
	rc, err := newRegClient(ctx, r.Repository(), o.insecure(reg.Insecure(r.Repository())), false, o.PullOptions)
	if err != nil {
		return nil, err
	}
	var out []SearchResult
	next := "/v2/" + rc.path + "/tags/list"
	for page := 0; next != "" && page < 100; page++ {
		var body struct {
			Tags []string `json:"tags"`
		}
		if next, err = rc.getJSON(next, &body); err != nil {
			return nil, fmt.Errorf("listing the tags of %s: %w", r.Repository(), classify(err))
		}
		for _, t := range body.Tags {
			if o.Limit > 0 && len(out) == o.Limit {
				return out, nil
			}
			out = append(out, SearchResult{Index: r.Domain, Name: r.Repository(), Tag: t})
		}
	}
	return out, nil
}

// getJSON decodes the JSON answer to GET path into v, and returns the path of the next page
// (from a Link header, rel="next"), if any.
func (c *regClient) getJSON(path string, v any) (string, error) {
	resp, err := c.do(request{method: http.MethodGet, url: path, ok: []int{http.StatusOK}})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifestSize)).Decode(v); err != nil {
		return "", fmt.Errorf("GET %s: %v: %w", path, err, errdefs.ErrInvalid)
	}
	link := resp.Header.Get("Link")
	target, rest, ok := strings.Cut(link, ";")
	if !ok || !strings.Contains(rest, `rel="next"`) {
		return "", nil
	}
	u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
	if err != nil || u.Path == "" {
		return "", nil
	}
	return u.RequestURI(), nil
}

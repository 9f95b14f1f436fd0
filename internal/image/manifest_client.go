//go:build pea_split

package image

import (
	"context"
	"encoding/json"
	"fmt"
)

// FetchManifest gets the manifest or index ref names through the registry helper.
func (s *Store) FetchManifest(ctx context.Context, ref string, o PullOptions) ([]byte, error) {
	req := requestFor("manifest-fetch", s.dir, o)
	req.Ref = ref
	res, err := runHelper(ctx, req, nil)
	return res.Data, err
}

// PushList sends a manifest list (and with o.All its images) through the registry helper.
func (s *Store) PushList(ctx context.Context, nameOrID, dest string, o ListPushOptions) (string, error) {
	req := requestFor("manifest-push", s.dir, o.PushOptions)
	req.Ref, req.Dest, req.All, req.Format = nameOrID, dest, o.All, o.Format
	res, err := runHelper(ctx, req, o.Progress)
	return string(res.Data), err
}

// Search asks registries for repositories (or a repository's tags) through the registry helper.
func (s *Store) Search(ctx context.Context, term string, o SearchOptions) ([]SearchResult, error) {
	req := requestFor("search", s.dir, o.PullOptions)
	req.Ref, req.Limit, req.ListTags = term, o.Limit, o.ListTags
	res, err := runHelper(ctx, req, nil)
	if err != nil {
		return nil, err
	}
	var out []SearchResult
	if err := json.Unmarshal(res.Data, &out); err != nil {
		return nil, fmt.Errorf("registry helper: search results: %w", err)
	}
	return out, nil
}

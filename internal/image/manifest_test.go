//go:build !pea_split

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

// The in-process side of manifest lists and search (the registry helper's code): a list is
// edited in the store, pushed with its images, fetched, pulled per platform; the catalog is
// read page by page.
func TestManifestListInProcess(t *testing.T) {
	s := newStore(t)
	reg := newRegistry(t, nil)
	ctx := context.Background()
	amd, err := s.ImportWith(bytes.NewReader(smallRootfs(t)), "amd", ImportOptions{Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	arm, err := s.ImportWith(bytes.NewReader(smallRootfs(t)), "arm", ImportOptions{Arch: "arm64", Variant: "v8"})
	if err != nil {
		t.Fatal(err)
	}
	imagesOnly := len(storeFiles(t, s))
	list, err := s.CreateList("l", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateList("l", false); !errdefs.Is(err, errdefs.ErrExists) {
		t.Errorf("create of an existing list: %v", err)
	}
	if again, err := s.CreateList("l", true); err != nil || again.ID != list.ID {
		t.Errorf("create --amend: %v %v", again, err)
	}
	for _, img := range []*Image{amd, arm} {
		e, err := s.ListEntryFor(img, ListEntryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if list, err = s.AddToList("l", e); err != nil {
			t.Fatal(err)
		}
	}
	// Each edit stored a new document and swept the one before: one document is left.
	if got := len(storeFiles(t, s)); got != imagesOnly+1 {
		t.Errorf("store files: %d with the list, %d without", got, imagesOnly)
	}
	doc, err := s.ListDocumentOf(list)
	if err != nil || len(doc.Manifests) != 2 || doc.Manifests[1].Platform.String() != "linux/arm64/v8" {
		t.Fatalf("list: %+v %v", doc, err)
	}
	if m, err := s.ListMember(list); err != nil || m.ID != amd.ID {
		t.Errorf("member for this machine: %v %v", m, err)
	}
	dest := reg + "/l/x:1"
	digest, err := s.PushList(ctx, "l", dest, ListPushOptions{PushOptions: PushOptions{TLSVerify: noVerify()}, All: true, Format: "oci"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.FetchManifest(ctx, dest, PullOptions{TLSVerify: noVerify()})
	if err != nil || "sha256:"+sha256Hex(raw) != digest || sniffMediaType(raw) != OCIImageIndex {
		t.Fatalf("fetched %s (%v), pushed %s", raw, err, digest)
	}
	s2, _ := Open(filepath.Join(t.TempDir(), "images"))
	got, err := s2.Pull(ctx, dest, PullOptions{TLSVerify: noVerify(), Arch: "arm64/v8"})
	if err != nil || got.ID != arm.ID || got.Config.Architecture != "arm64" {
		t.Fatalf("pull of arm64/v8: %v %v", got, err)
	}
	if _, err := s2.Pull(ctx, dest, PullOptions{TLSVerify: noVerify(), Arch: "arm64/v7"}); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("pull of a variant the list lacks: %v", err)
	}

	// The catalog, read in pages of 1000 (more repositories than one page holds).
	for i := 0; i < 1001; i++ {
		if _, err := s.Push(ctx, "amd", fmt.Sprintf("%s/r%04d/x:1", reg, i), PushOptions{TLSVerify: noVerify()}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Search(ctx, reg+"/r1000", SearchOptions{PullOptions: PullOptions{TLSVerify: noVerify()}})
	if err != nil || len(res) != 1 || res[0].Name != reg+"/r1000/x" || res[0].Index != reg {
		t.Errorf("search past the first page: %+v %v", res, err)
	}
	res, err = s.Search(ctx, reg+"/r0", SearchOptions{PullOptions: PullOptions{TLSVerify: noVerify()}, Limit: 3})
	if err != nil || len(res) != 3 {
		t.Errorf("search --limit 3: %+v %v", res, err)
	}
	tags, err := s.Search(ctx, reg+"/l/x", SearchOptions{PullOptions: PullOptions{TLSVerify: noVerify()}, ListTags: true})
	if b, _ := json.Marshal(tags); err != nil || len(tags) != 1 || tags[0].Tag != "1" {
		t.Errorf("list tags: %s %v", b, err)
	}
	if _, err := s.Search(ctx, reg+"/l/x:1", SearchOptions{ListTags: true}); err == nil || !strings.Contains(err.Error(), "without a tag") {
		t.Errorf("list tags of a tagged reference: %v", err)
	}

	// Removing the list leaves its images and no document of it.
	before := len(storeFiles(t, s))
	if err := s.Remove(list.ID); err != nil {
		t.Fatal(err)
	}
	if after := len(storeFiles(t, s)); after != before-1 {
		t.Errorf("store files %d -> %d after removing the list", before, after)
	}
}

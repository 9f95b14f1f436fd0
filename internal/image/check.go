package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/fsx"
)

// The store's consistency check (`system check`). What the store can say about itself:
//
//   - a layer that records reference is missing, or lacks its diff/ directory or size file;
//   - a blob that records reference (manifest, config, layer) is missing;
//   - unless quick: a blob whose content does not hash to its name; a layer blob whose
//     uncompressed stream does not hash to the layer's diffID or has another size than the
//     layer's size file; an unpacked layer whose files differ from that stream's (kind, content,
//     link target, mode, and owner where the unpacking kept owners);
//   - content no record references (layers/, blobs/, tmp/), older than the check's maximum
//     age: what an interrupted pull, load, commit or build left (an ingest renames into
//     place only whole content, and commits its record last; tmp/ holds its work).
//
// Verifying a layer reads its blob and every file of it once: that is the check --quick skips.

// CheckOptions control Store.Check.
type CheckOptions struct {
	Quick  bool          // no reading of contents: only what is there
	MaxAge time.Duration // unreferenced content older than this is abandoned
}

// CheckReport is what Store.Check found. Keys: layers by their diffID's hex, images by ID.
type CheckReport struct {
	Layers map[string][]string
	Images map[string][]string
	// Abandoned maps what no record references and is older than the maximum age, by its name
	// (a layer's hex, else its path under the store: "blobs/sha256/<hex>", "tmp/<name>"), to why.
	Abandoned map[string]string
}

// Damaged reports whether the check found anything.
func (c *CheckReport) Damaged() bool {
	return len(c.Layers)+len(c.Images)+len(c.Abandoned) > 0
}

// Check checks the store's records against its content. An index that cannot be read is the
// error.
func (s *Store) Check(o CheckOptions) (*CheckReport, error) {
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	rep := &CheckReport{Layers: map[string][]string{}, Images: map[string][]string{}, Abandoned: map[string]string{}}
	checkedLayers := map[string]bool{} // diffID hex + blob
	checkedBlobs := map[string]string{}
	blob := func(d string) string {
		if p, ok := checkedBlobs[d]; ok {
			return p
		}
		p := s.checkBlob(d, o.Quick)
		checkedBlobs[d] = p
		return p
	}
	for _, img := range idx.Images {
		var probs []string
		for _, d := range []string{img.Digest, img.ConfigDigest} {
			if d == "" {
				continue
			}
			if p := blob(d); p != "" {
				probs = append(probs, p)
			}
		}
		for i, l := range img.Layers {
			hexID := strings.TrimPrefix(l, "sha256:")
			lb := ""
			if i < len(img.LayerBlobs) {
				lb = img.LayerBlobs[i]
			}
			if key := hexID + " " + lb; !checkedLayers[key] {
				checkedLayers[key] = true
				rep.Layers[hexID] = append(rep.Layers[hexID], s.checkLayer(l, lb, o.Quick)...)
			}
			if len(rep.Layers[hexID]) > 0 {
				probs = append(probs, fmt.Sprintf("layer %s is damaged", l))
			}
		}
		if len(probs) > 0 {
			rep.Images[img.ID] = probs
		}
	}
	for k, v := range rep.Layers {
		if len(v) == 0 {
			delete(rep.Layers, k)
		}
	}
	for _, a := range s.unreferenced(idx, o.MaxAge, time.Now(), false) {
		rep.Abandoned[strings.TrimPrefix(a.rel, "layers/")] = a.why
	}
	return rep, nil
}

// checkBlob returns what is wrong with blob d ("" : nothing).
func (s *Store) checkBlob(d string, quick bool) string {
	p := s.blobPath(d)
	if quick {
		if _, err := os.Stat(p); err != nil {
			return fmt.Sprintf("blob %s is missing", d)
		}
		return ""
	}
	f, err := fsx.Open(p)
	if err != nil {
		return fmt.Sprintf("blob %s is missing", d)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Sprintf("blob %s cannot be read: %v", d, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != d {
		return fmt.Sprintf("blob %s is corrupt: its content hashes to %s", d, got)
	}
	return ""
}

// checkLayer returns what is wrong with the layer diffID whose blob is blob.
func (s *Store) checkLayer(diffID, blob string, quick bool) []string {
	dir := s.layerPath(diffID)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return []string{fmt.Sprintf("layer directory %s is missing", dir)}
	}
	var probs []string
	if fi, err := os.Stat(filepath.Join(dir, "diff")); err != nil || !fi.IsDir() {
		probs = append(probs, "its diff directory is missing")
	}
	size, ok := s.layerSize(diffID)
	if !ok {
		probs = append(probs, "its size file is missing or unreadable")
	}
	if blob == "" {
		return append(probs, "its record names no blob")
	}
	if p := s.checkBlob(blob, quick); p != "" || quick || len(probs) > 0 {
		if p != "" {
			probs = append(probs, p)
		}
		return probs
	}
	return append(probs, s.verifyLayer(dir, diffID, blob, size)...)
}

// verifyLayer reads the layer's blob and compares its uncompressed stream with the layer's
// diffID and size and with the unpacked files.
func (s *Store) verifyLayer(dir, diffID, blob string, size int64) []string {
	f, err := fsx.Open(s.blobPath(blob))
	if err != nil {
		return []string{fmt.Sprintf("blob %s cannot be read: %v", blob, err)}
	}
	defer f.Close()
	rc, err := decompress(f)
	if err != nil {
		return []string{fmt.Sprintf("blob %s cannot be decompressed: %v", blob, err)}
	}
	defer rc.Close()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(rc, h)}
	want, err := layerEntries(filepath.Join(dir, "diff"), cr)
	if err != nil {
		return []string{fmt.Sprintf("blob %s does not read as a layer: %v", blob, err)}
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return []string{fmt.Sprintf("blob %s is truncated: %v", blob, err)}
	}
	var probs []string
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != diffID {
		probs = append(probs, fmt.Sprintf("blob %s uncompresses to %s, not to the layer's diffID", blob, got))
	} else if cr.n != size {
		probs = append(probs, fmt.Sprintf("its size file says %d bytes, its blob has %d", size, cr.n))
	}
	return append(probs, compareLayer(filepath.Join(dir, "diff"), want)...)
}

// unreferencedEntry is content no record references.
type unreferencedEntry struct {
	rel, path, why string
}

// unreferenced lists what no record of idx references and is older than maxAge, and, with
// locked (the content lock is held exclusively: no ingest runs), work files whatever process
// named them.
func (s *Store) unreferenced(idx *index, maxAge time.Duration, now time.Time, locked bool) []unreferencedEntry {
	blobs, layers := idx.referenced()
	age := fmt.Sprintf("is older than %s", maxAge)
	var out []unreferencedEntry
	scan := func(rel string, keep map[string]bool, why func(name string) string) {
		ents, _ := fsx.ReadDir(filepath.Join(s.dir, rel))
		for _, e := range ents {
			if keep[e.Name()] {
				continue
			}
			p := filepath.Join(s.dir, rel, e.Name())
			fi, err := os.Lstat(p)
			if err != nil || now.Sub(fi.ModTime()) <= maxAge {
				continue
			}
			if w := why(e.Name()); w != "" {
				out = append(out, unreferencedEntry{rel: filepath.Join(rel, e.Name()), path: p, why: w})
			}
		}
	}
	scan("layers", layers, func(string) string {
		return "layer is used by no image and " + age + " (left by an interrupted pull, load, commit or build)"
	})
	scan(filepath.Join("blobs", "sha256"), blobs, func(string) string {
		return "blob is used by no image and " + age + " (left by an interrupted pull, load, commit or build)"
	})
	scan("tmp", nil, func(name string) string {
		pid, err := strconv.Atoi(strings.SplitN(name, "-", 2)[0])
		if !locked && err == nil && pid > 0 && unix.Kill(pid, 0) != unix.ESRCH {
			return "" // its process runs: work in progress
		}
		kind := "work file"
		if strings.Contains(name, "-layer-") {
			kind = "incomplete layer"
		}
		return kind + " of an interrupted pull, load, commit or build, " + age
	})
	sort.Slice(out, func(a, b int) bool { return out[a].rel < out[b].rel })
	return out
}

// RemoveUnreferenced removes what no record references and is older than maxAge, and the
// layers of damaged (diffIDs' hex) that no record references any more whatever their age, and
// returns what it removed (paths under the store, layers by their hex). It holds the content
// lock exclusively (no ingest runs meanwhile); when an ingest runs it removes nothing and says
// so. A layer an overlay mount still uses is left. Each entry is renamed into tmp/ before it is
// deleted, so an interrupted removal never leaves a partial layer where a pull would take it
// for a whole one.
func (s *Store) RemoveUnreferenced(maxAge time.Duration, damaged []string) ([]string, error) {
	unlock, err := s.flock("content.lock", unix.LOCK_EX|unix.LOCK_NB)
	if err == errBusy {
		return nil, fmt.Errorf("an image is being pulled, loaded, committed or built meanwhile; run the check again once it is done: %w", errdefs.ErrInUse)
	}
	if err != nil {
		return nil, err
	}
	defer unlock()
	idx, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ents := s.unreferenced(idx, maxAge, now, true)
	for _, d := range damaged {
		rel := filepath.Join("layers", d)
		if _, err := os.Lstat(filepath.Join(s.dir, rel)); err == nil {
			ents = append(ents, unreferencedEntry{rel: rel, path: filepath.Join(s.dir, rel)})
		}
	}
	_, referenced := idx.referenced()
	mounts, _ := fsx.ReadFile("/proc/self/mountinfo")
	var removed []string
	var errs []error
	done := map[string]bool{}
	for _, e := range ents {
		if done[e.rel] || strings.HasPrefix(e.rel, "layers/") && referenced[filepath.Base(e.rel)] {
			continue
		}
		done[e.rel] = true
		if strings.HasPrefix(e.rel, "layers/") && strings.Contains(string(mounts), e.path+"/diff") {
			continue // an overlay still has it as a lower layer
		}
		if err := s.discard(e.path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, strings.TrimPrefix(e.rel, "layers/"))
	}
	return removed, errors.Join(errs...)
}

// discard takes p out of the store at once (a rename into tmp/) and then deletes it. Work
// files are deleted where they are: tmp/ is only ever deleted from by cleanTmp.
func (s *Store) discard(p string) error {
	if filepath.Dir(p) != s.tmpDir() {
		t, err := s.tmpName("removing")
		if err != nil {
			return err
		}
		if err := os.Rename(p, t); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		p = t
	}
	return os.RemoveAll(p)
}

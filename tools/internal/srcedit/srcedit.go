// Package srcedit changes files of the installed Go toolchain's source as text, for a
// `go build -overlay`: each edit replaces lines that must occur exactly once, so that a toolchain
// the edits were not written for gets an error instead of a half-changed file. It serves the
// build-time tools under tools/ (rtpatch for the runtime, linkorder for the linker); nothing of
// Go's source is kept in the repository.
package srcedit

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// An Edit replaces the one occurrence of Old in File (a path under $GOROOT/src) with New.
type Edit struct {
	File     string
	Old, New string
}

// Apply returns the edited files keyed by their path under goroot, with the added files (path
// under $GOROOT/src to content) among them.
func Apply(goroot string, edits []Edit, added map[string]string) (map[string]string, error) {
	src := filepath.Join(goroot, "src")
	files := map[string]string{}
	for _, e := range edits {
		p := filepath.Join(src, e.File)
		text, ok := files[p]
		if !ok {
			b, err := os.ReadFile(p)
			if err != nil {
				return nil, err
			}
			text = string(b)
		}
		if n := strings.Count(text, e.Old); n != 1 {
			return nil, fmt.Errorf("%s: the lines to change occur %d times, want once (a Go version this patch was not written for?):%s", p, n, e.Old)
		}
		files[p] = strings.Replace(text, e.Old, e.New, 1)
	}
	for name, text := range added {
		files[filepath.Join(src, name)] = text
	}
	return files, nil
}

// WriteOverlay writes files (as Apply returns them) into dir, under their base names, and the
// overlay that maps their paths in the toolchain to them; it returns the overlay's path.
func WriteOverlay(dir string, files map[string]string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	replace := map[string]string{}
	for orig, text := range files {
		p := filepath.Join(dir, filepath.Base(orig))
		if _, dup := replace[p]; dup {
			return "", fmt.Errorf("two files named %s", filepath.Base(orig))
		}
		if err := WriteIfChanged(p, text, 0o644); err != nil {
			return "", err
		}
		replace[orig] = p
	}
	b, err := json.MarshalIndent(map[string]any{"Replace": replace}, "", "\t")
	if err != nil {
		return "", err
	}
	overlay := filepath.Join(dir, "overlay.json")
	return overlay, WriteIfChanged(overlay, string(b)+"\n", 0o644)
}

// WriteIfChanged leaves a file that already holds text alone, so that its time stays as it was,
// and otherwise replaces it whole (a build that reads it meanwhile sees the old or the new one).
func WriteIfChanged(p, text string, mode os.FileMode) error {
	if b, err := os.ReadFile(p); err == nil && string(b) == text {
		return nil
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".srcedit-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), mode); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}

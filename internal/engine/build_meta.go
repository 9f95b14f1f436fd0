package engine

// What a build gives the image built beyond its config and layers (--annotation, --os-version,
// --os-feature), how old a cached step may be (--cache-ttl), and the Containerfile.in that cpp
// preprocesses (--cpp-flag).

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/image"
)

// finalMeta is what only the image built gets: its manifest's annotations, its config's
// os.version and os.features.
type finalMeta struct {
	Annotations map[string]string `json:",omitempty"`
	OSVersion   string            `json:",omitempty"`
	OSFeatures  []string          `json:",omitempty"`
}

// setFinal is called as the last stage ends: when the build gives the image any of finalMeta,
// the stage ends with an image of its own that carries it (the config's image, made or found
// in the cache under a key that holds it), never an intermediate image without it.
func (b *builder) setFinal() {
	o := b.o
	if len(o.Annotations) == 0 && o.OSVersion == "" && len(o.OSFeatures) == 0 {
		return
	}
	f := &finalMeta{Annotations: o.Annotations, OSVersion: o.OSVersion}
	if len(o.OSFeatures) > 0 {
		var base []string
		if b.cur != nil {
			base = b.cur.Config.OSFeatures
		}
		f.OSFeatures = osFeatures(base, o.OSFeatures)
	}
	b.final, b.dirty = f, true
}

// osFeatures is base with the features asked for added, and those asked for as "NAME-" taken
// out (buildah's rule); never nil, so that an empty list replaces base's.
func osFeatures(base, asked []string) []string {
	out := slices.Clone(base)
	for _, f := range asked {
		if name, ok := strings.CutSuffix(f, "-"); ok {
			out = slices.DeleteFunc(out, func(x string) bool { return x == name })
		} else if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// expired reports whether a cached image is older than the build's --cache-ttl allows.
func (b *builder) expired(img *image.Image) bool {
	if b.o.CacheTTL <= 0 {
		return false
	}
	at, err := b.is.StoredAt(img)
	return err != nil || time.Since(at) > b.o.CacheTTL
}

// readContainerfile reads the Containerfile; one whose name ends in .in is first run through
// the C preprocessor (as buildah does: its #include and #define), with the flags given.
func readContainerfile(ctx context.Context, file, ctxDir string, cppFlags []string) ([]byte, error) {
	if !strings.HasSuffix(file, ".in") {
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the Containerfile: %w", err)
		}
		return src, nil
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("reading the Containerfile: %w", err)
	}
	cpp, err := exec.LookPath("cpp")
	if err != nil {
		return nil, fmt.Errorf("%s: a Containerfile.in is preprocessed by cpp, which is not installed: %w", filepath.Base(file), errdefs.ErrInvalid)
	}
	// -traditional: no // comments (URLs) nor quote rules (shell); -undef: no "linux" macro.
	args := append([]string{"-E", "-traditional", "-undef", "-iquote", ctxDir}, cppFlags...)
	cmd := cpupin.CommandContext(ctx, cpp, append(args, file)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		// cpp's first error line (its later lines quote the source).
		msg := err.Error()
		for _, l := range strings.Split(stderr.String(), "\n") {
			if strings.Contains(l, "error") {
				msg = strings.TrimSpace(l)
				break
			}
		}
		return nil, fmt.Errorf("preprocessing %s with cpp: %s: %w", filepath.Base(file), msg, errdefs.ErrInvalid)
	}
	return out, nil
}

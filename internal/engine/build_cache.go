package engine

// A build step's image: its commit, and the layer cache (a step's key kept in its image's
// record; the image an earlier build made for the key is used instead of running it again).

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"time"

	"pea/internal/image"
	"pea/internal/model"
)

// commit stores the image so far: cur's layers and one more from layer, with conf; key (when
// not "") is the step's cache key, kept in the new image's record.
func (b *builder) commit(layer io.Reader, createdBy, key string) error {
	if b.o.Timestamp != nil {
		src, t := layer, *b.o.Timestamp
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(retimeTar(pw, src, t)) }()
		defer pr.CloseWithError(io.ErrClosedPipe)
		layer = pr
	}
	img, err := b.is.Commit(b.cur, layer, b.conf, b.commitOptions(createdBy, key))
	if err != nil {
		return err
	}
	b.stepImage(img)
	b.made = append(b.made, img.ID)
	return nil
}

// configStep stores the image of a step that changed the config alone (ENV, LABEL, CMD, ARG...):
// cur's layers, the config so far and one more history entry, marked empty_layer, as podman's
// builds make one image per step. Before the first layer of FROM scratch there is no image to
// make it from: the entry waits for the step that makes one.
func (b *builder) configStep(createdBy string) error {
	if b.cur == nil {
		b.pending = append(b.pending, image.History{Created: image.Time{Time: b.now()}, CreatedBy: createdBy, EmptyLayer: true})
		return nil
	}
	key := b.cacheKey("STEP", createdBy)
	if b.cached(key, 1) {
		return nil
	}
	img, err := b.is.Reconfigure(b.cur, b.conf, b.commitOptions(createdBy, key))
	if err != nil {
		return err
	}
	b.stepImage(img)
	b.made = append(b.made, img.ID)
	return nil
}

// stepImage makes img, a step's image, the image so far: the next step's history entry says
// it was made from it.
func (b *builder) stepImage(img *image.Image) {
	b.cur, b.dirty, b.pending = img, false, nil
	b.from = "FROM " + img.ID[:12]
}

// now is the time of a step's image and history entry: --timestamp's, else now.
func (b *builder) now() time.Time {
	if b.o.Timestamp != nil {
		return *b.o.Timestamp
	}
	return time.Now().UTC()
}

// commitOptions are the options of a step's image: its history entry (its comment names the
// image the step started from, as podman's), the entries of the steps that are waiting for an
// image, its cache key, and the build's --timestamp.
func (b *builder) commitOptions(createdBy, key string) image.CommitOptions {
	o := image.CommitOptions{CreatedBy: createdBy, Comment: b.from, BuildKey: key, Pre: b.pending}
	if b.o.Timestamp != nil {
		o.Created = *b.o.Timestamp
	}
	// The base annotations podman's steps' images carry: the FROM image's name and the
	// manifest digest of the image the step started from.
	parent := ""
	if b.cur != nil && b.baseName != "" {
		parent = b.cur.Digest
	}
	o.Annotations = map[string]string{"org.opencontainers.image.base.name": b.baseName, "org.opencontainers.image.base.digest": parent}
	if f := b.final; f != nil {
		maps.Copy(o.Annotations, f.Annotations)
		o.OSVersion, o.OSFeatures = f.OSVersion, f.OSFeatures
	}
	return o
}

// contextRel is a host path of the context as a slash-separated path relative to it.
func (b *builder) contextRel(host string) string {
	rel, err := filepath.Rel(b.o.Context, host)
	if err != nil {
		return ""
	}
	return filepath.ToSlash(rel)
}

// cacheKey is the key of a step from the image so far: its ID, the config the step's image
// gets, and what the step does (parts).
func (b *builder) cacheKey(parts ...string) string {
	h := sha256.New()
	parent := "scratch"
	if b.cur != nil {
		parent = b.cur.ID
	}
	conf, _ := json.Marshal(b.conf)
	fmt.Fprintf(h, "%s\x00%s", parent, conf)
	if b.o.Timestamp != nil { // the image's time is part of what the step makes
		fmt.Fprintf(h, "\x00time=%d", b.o.Timestamp.Unix())
	}
	if b.final != nil { // and so is what the image built gets beyond its config
		meta, _ := json.Marshal(b.final)
		fmt.Fprintf(h, "\x00final=%s", meta)
	}
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%s", p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// cached finds the image a step of this key made before, from the image so far: entries more
// history entries than it (and those of the steps waiting for an image), the key in its
// record, on its layers. On a hit the build goes on from it.
func (b *builder) cached(key string, entries int) bool {
	if b.o.NoCache {
		return false
	}
	imgs, err := b.r.ImageList()
	if err != nil {
		return false
	}
	var parentLayers []string
	var parentHist int
	if b.cur != nil {
		parentLayers, parentHist = b.cur.Layers, len(b.cur.Config.History)
	}
	for _, img := range imgs {
		if img.BuildKey != key || len(img.Config.History) != parentHist+len(b.pending)+entries || len(img.Layers) < len(parentLayers) ||
			!slices.Equal(img.Layers[:len(parentLayers)], parentLayers) || b.expired(img) {
			continue
		}
		fmt.Fprintf(b.o.Stdout, "--> Using cache %s\n", img.ID)
		b.stepImage(img)
		return true
	}
	return false
}

// container makes a build's container (cfg's image, command and namespaces; no entrypoint,
// never a pull), labelled as the build's own.
func (b *builder) container(ctx context.Context, cfg *model.ContainerConfig) (*model.Container, error) {
	cfg.Entrypoint, cfg.StopTimeout, cfg.Labels = []string{}, 10, map[string]string{buildLabel: "1"}
	return b.r.CreateContainer(ctx, cfg, CreateOptions{Pull: "never", EntrypointSet: true, CmdSet: true})
}

// retimeTar copies the tar stream r to w with every entry's times set to t (--timestamp: the
// same files make the same layer whenever they were made).
func retimeTar(w io.Writer, r io.Reader, t time.Time) error {
	tr, tw := tar.NewReader(r), tar.NewWriter(w)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return tw.Close()
		}
		if err != nil {
			return err
		}
		h.ModTime, h.AccessTime, h.ChangeTime, h.Format = t, time.Time{}, time.Time{}, tar.FormatPAX
		for _, k := range []string{"mtime", "atime", "ctime"} {
			delete(h.PAXRecords, k)
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

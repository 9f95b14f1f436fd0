package image

import (
	"io"
	"runtime"
	"strings"
	"time"
)

// CommitOptions describe the image `commit` makes of a container.
type CommitOptions struct {
	Ref       string // the new image's name ("" leaves it untagged)
	Author    string
	Comment   string // the history entry's comment (--message)
	CreatedBy string // the history entry's command
	// Created is the new image's and its history entry's time (zero: now), as a build's
	// --timestamp fixes it.
	Created time.Time
	// OmitHistory: the new image has no history (a build's --omit-history); Reconfigure only.
	OmitHistory bool
	// KeepHistory: Reconfigure adds no history entry (a build's --label applied to the image
	// of its last step, which podman's does not record as a step).
	KeepHistory bool
	// Pre are history entries that go before the new one (a build's config steps on an empty
	// FROM scratch image, which made no image of their own).
	Pre []History
	// BuildKey is the build step's cache key, kept in the image's record (see Image.BuildKey).
	BuildKey string
	// Annotations are the new image's manifest annotations (a build's --annotation).
	Annotations map[string]string
	// OSVersion and OSFeatures, when set (OSFeatures non-nil), replace base's os.version and
	// os.features in the new image's config (a build's --os-version, --os-feature).
	OSVersion  string
	OSFeatures []string
}

// Commit stores an image of base's layers (none when base is nil) and one more, read as a tar
// stream from layer, whose config's Config is cfg. The new layer is unpacked and its blob
// stored in one pass, as an imported one is.
func (s *Store) Commit(base *Image, layer io.Reader, cfg Config, o CommitOptions) (*Image, error) {
	return s.addLayerImage(o.Ref, o.Annotations, o.BuildKey, layer, "the container's changes", func(res layerResult, blob string) (*ConfigFile, []layerResult, []string) {
		file, layers, blobs := childConfig(base, cfg, o, false)
		file.RootFS.DiffIDs = append(file.RootFS.DiffIDs, mustHash(res.DiffID))
		return file, append(layers, res), append(blobs, blob)
	})
}

// childConfig is the config of an image made on top of base (nil: none): base's config with
// cfg as its Config, base's layers and blobs, and one more history entry (emptyLayer: one
// that adds no layer).
func childConfig(base *Image, cfg Config, o CommitOptions, emptyLayer bool) (*ConfigFile, []layerResult, []string) {
	file := ConfigFile{Architecture: runtime.GOARCH, OS: "linux", RootFS: RootFS{Type: "layers"}}
	var layers []layerResult
	var blobs []string
	if base != nil {
		file = base.Config
		file.RootFS.DiffIDs = append([]Hash{}, base.Config.RootFS.DiffIDs...)
		file.History = append([]History{}, base.Config.History...)
		for i, d := range base.Layers {
			l := layerResult{DiffID: d}
			if i < len(base.LayerSizes) {
				l.Size = base.LayerSizes[i]
			}
			layers = append(layers, l)
		}
		blobs = append(blobs, base.LayerBlobs...)
	}
	now := time.Now().UTC()
	if !o.Created.IsZero() {
		now = o.Created.UTC()
	}
	file.Config, file.Created, file.Author = cfg, Time{Time: now}, o.Author
	if o.OSVersion != "" {
		file.OSVersion = o.OSVersion
	}
	if o.OSFeatures != nil {
		file.OSFeatures = o.OSFeatures
	}
	file.RootFS.Type = "layers"
	file.History = append(file.History, o.Pre...)
	if !o.KeepHistory {
		file.History = append(file.History, History{Created: Time{Time: now}, Author: o.Author,
			CreatedBy: strings.TrimSpace(o.CreatedBy), Comment: o.Comment, EmptyLayer: emptyLayer})
	}
	if o.OmitHistory {
		file.History = nil
	}
	return &file, layers, blobs
}

// Reconfigure stores an image of base's layers with cfg as its config's Config and one more
// history entry, marked empty_layer: an image whose instructions changed only its config (a
// build's CMD, ENV, LABEL...), without a layer of nothing.
func (s *Store) Reconfigure(base *Image, cfg Config, o CommitOptions) (*Image, error) {
	names, err := localNames(o.Ref)
	if err != nil {
		return nil, err
	}
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() { in.close(ok) }()
	in.annotations, in.buildKey = o.Annotations, o.BuildKey
	file, layers, blobs := childConfig(base, cfg, o, true)
	img, err := in.storeImage(file, names, layers, blobs)
	ok = err == nil
	return img, err
}

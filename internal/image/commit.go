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
}

// Commit stores an image of base's layers (none when base is nil) and one more, read as a tar
// stream from layer, whose config's Config is cfg. The new layer is unpacked and its blob
// stored in one pass, as an imported one is.
func (s *Store) Commit(base *Image, layer io.Reader, cfg Config, o CommitOptions) (*Image, error) {
	return s.addLayerImage(o.Ref, layer, "the container's changes", func(res layerResult, blob string) (*ConfigFile, []layerResult, []string) {
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
		file.Config, file.Created, file.Author = cfg, Time{Time: now}, o.Author
		file.RootFS.Type = "layers"
		file.RootFS.DiffIDs = append(file.RootFS.DiffIDs, mustHash(res.DiffID))
		file.History = append(file.History, History{Created: Time{Time: now}, Author: o.Author,
			CreatedBy: strings.TrimSpace(o.CreatedBy), Comment: o.Comment})
		return &file, append(layers, res), append(blobs, blob)
	})
}

// Reconfigure stores an image of base's layers with cfg as its config's Config and one more
// history entry, marked empty_layer: an image whose instructions changed only its config (a
// build's CMD, ENV, LABEL...), without a layer of nothing.
func (s *Store) Reconfigure(base *Image, cfg Config, o CommitOptions) (*Image, error) {
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() { in.close(ok) }()
	file := base.Config
	file.RootFS.DiffIDs = append([]Hash{}, base.Config.RootFS.DiffIDs...)
	now := time.Now().UTC()
	file.Config, file.Created, file.Author = cfg, Time{Time: now}, o.Author
	file.History = append(append([]History{}, base.Config.History...), History{Created: Time{Time: now}, Author: o.Author,
		CreatedBy: strings.TrimSpace(o.CreatedBy), Comment: o.Comment, EmptyLayer: true})
	var layers []layerResult
	for i, d := range base.Layers {
		l := layerResult{DiffID: d}
		if i < len(base.LayerSizes) {
			l.Size = base.LayerSizes[i]
		}
		layers = append(layers, l)
	}
	var names []string
	if o.Ref != "" {
		n, err := NormalizeLocalName(o.Ref)
		if err != nil {
			return nil, err
		}
		names = []string{n}
	}
	img, err := in.finishImage(&file, names, layers, append([]string{}, base.LayerBlobs...))
	if err != nil {
		return nil, err
	}
	imgs, err := in.commit([]*Image{img})
	if err != nil {
		return nil, err
	}
	ok = true
	return imgs[0], nil
}

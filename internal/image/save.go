package image

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"pea/internal/errdefs"
)

// saveItem is one image to save, with the names to record for it.
type saveItem struct {
	img   *Image
	names []string
}

// SaveOptions control SaveWith and SaveDir.
type SaveOptions struct {
	Format string // docker-archive (the default), oci-archive; SaveDir: oci-dir, docker-dir
	// ExtraTags are more names the first image is recorded under (docker-archive only), as
	// podman's save without --multi-image-archive takes its other arguments.
	ExtraTags []string
}

// Save writes the images refs name to w as a docker-archive (the default) or an oci-archive.
// A ref that is a name records that name; an ID records none, as podman does.
func (s *Store) Save(w io.Writer, refs []string, format string) error {
	return s.SaveWith(w, refs, SaveOptions{Format: format})
}

// SaveWith is Save with options.
func (s *Store) SaveWith(w io.Writer, refs []string, o SaveOptions) error {
	if o.Format == "" {
		o.Format = FormatDockerArchive
	}
	if o.Format != FormatDockerArchive && o.Format != FormatOCIArchive {
		return fmt.Errorf("unsupported save format %q: use docker-archive or oci-archive: %w", o.Format, errdefs.ErrInvalid)
	}
	items, err := s.saveItems(refs, o)
	if err != nil {
		return err
	}
	tw := &tarWriter{tw: tar.NewWriter(w), written: map[string]bool{}}
	if o.Format == FormatOCIArchive {
		err = s.saveOCI(tw, items)
	} else {
		err = s.saveDocker(tw, items)
	}
	if err != nil {
		return err
	}
	return tw.tw.Close()
}

// SaveDir writes the images refs name into the directory dir (made if missing) as an OCI
// layout (oci-dir, any number of images) or as containers/image's "dir" layout (docker-dir:
// one image; its manifest, and its config and layers named by their digests).
func (s *Store) SaveDir(dir string, refs []string, o SaveOptions) error {
	if o.Format != FormatOCIDir && o.Format != FormatDockerDir {
		return fmt.Errorf("unsupported directory format %q: use oci-dir or docker-dir: %w", o.Format, errdefs.ErrInvalid)
	}
	items, err := s.saveItems(refs, o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dw := &dirWriter{root: dir, written: map[string]bool{}}
	if o.Format == FormatOCIDir {
		return s.saveOCI(dw, items)
	}
	if len(items) != 1 {
		return fmt.Errorf("docker-dir holds one image: %w", errdefs.ErrInvalid)
	}
	img := items[0].img
	for _, b := range append([]string{img.ConfigDigest}, img.LayerBlobs...) {
		if err := dw.file(strings.TrimPrefix(b, "sha256:"), s.blobPath(b)); err != nil {
			return err
		}
	}
	if err := dw.file("manifest.json", s.blobPath(img.Digest)); err != nil {
		return err
	}
	return dw.bytes("version", []byte("Directory Transport Version: 1.1\n"))
}

// saveItems resolves refs to the images to save, each once, with the names to record.
func (s *Store) saveItems(refs []string, o SaveOptions) ([]*saveItem, error) {
	if len(refs) == 0 {
		return nil, fmt.Errorf("save: no image given: %w", errdefs.ErrInvalid)
	}
	var items []*saveItem
	byID := map[string]*saveItem{}
	for _, ref := range refs {
		img, err := s.Lookup(ref)
		if err == nil && img.IsList() {
			img, err = s.ListMember(img) // as podman: a list's image for this machine
		}
		if err != nil {
			return nil, err
		}
		it := byID[img.ID]
		if it == nil {
			it = &saveItem{img: img}
			byID[img.ID] = it
			items = append(items, it)
		}
		if n, err := s.resolveName(img, ref); err == nil && !contains(it.names, n) {
			it.names = append(it.names, n)
		}
	}
	if len(o.ExtraTags) > 0 && o.Format == FormatDockerArchive {
		var tags []string
		for _, t := range o.ExtraTags {
			n, err := NormalizeLocalName(t)
			if err != nil {
				return nil, err
			}
			if !contains(tags, n) && !contains(items[0].names, n) {
				tags = append(tags, n)
			}
		}
		items[0].names = append(tags, items[0].names...)
	}
	return items, nil
}

// archiveWriter is where an archive's files go: a tar stream, or a directory.
type archiveWriter interface {
	dir(name string) error
	bytes(name string, b []byte) error
	file(name, src string) error
}

// dirWriter writes an archive's files below root.
type dirWriter struct {
	root    string
	written map[string]bool
}

func (d *dirWriter) dir(name string) error {
	return os.MkdirAll(filepath.Join(d.root, name), 0o755)
}

func (d *dirWriter) bytes(name string, b []byte) error {
	if d.written[name] {
		return nil
	}
	d.written[name] = true
	return os.WriteFile(filepath.Join(d.root, name), b, 0o644)
}

// file copies a stored blob to name (a copy, not a link: the store's blobs are its own).
func (d *dirWriter) file(name, src string) error {
	if d.written[name] {
		return nil
	}
	d.written[name] = true
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("blob missing from the store: %w", err)
	}
	defer in.Close()
	dst := filepath.Join(d.root, name)
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

type tarWriter struct {
	tw      *tar.Writer
	written map[string]bool
}

var epoch = time.Unix(0, 0).UTC()

func (t *tarWriter) dir(name string) error {
	if t.written[name] {
		return nil
	}
	t.written[name] = true
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
}

func (t *tarWriter) bytes(name string, b []byte) error {
	if t.written[name] {
		return nil
	}
	t.written[name] = true
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(b)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := t.tw.Write(b)
	return err
}

// file copies a stored blob into the archive as name.
func (t *tarWriter) file(name, src string) error {
	if t.written[name] {
		return nil
	}
	t.written[name] = true
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("blob missing from the store: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: fi.Size(), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(t.tw, f)
	if err == nil && n != fi.Size() {
		err = fmt.Errorf("%s changed size while saving", src)
	}
	return err
}

func (s *Store) saveDocker(tw archiveWriter, items []*saveItem) error {
	var entries []dockerEntry
	for _, it := range items {
		img := it.img
		e := dockerEntry{Config: img.ID + ".json", RepoTags: it.names}
		if e.RepoTags == nil {
			e.RepoTags = []string{}
		}
		for _, b := range img.LayerBlobs {
			name := strings.TrimPrefix(b, "sha256:") + ".tar"
			if err := tw.file(name, s.blobPath(b)); err != nil {
				return err
			}
			e.Layers = append(e.Layers, name)
		}
		if err := tw.file(e.Config, s.blobPath(img.ConfigDigest)); err != nil {
			return err
		}
		e.PeaManifest = strings.TrimPrefix(img.Digest, "sha256:") + ".manifest.json"
		if err := tw.file(e.PeaManifest, s.blobPath(img.Digest)); err != nil {
			return err
		}
		entries = append(entries, e)
	}
	raw, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	return tw.bytes("manifest.json", raw)
}

func (s *Store) saveOCI(tw archiveWriter, items []*saveItem) error {
	if err := tw.bytes("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	for _, d := range []string{"blobs", "blobs/sha256"} {
		if err := tw.dir(d); err != nil {
			return err
		}
	}
	idx := IndexManifest{SchemaVersion: 2, MediaType: OCIImageIndex}
	for _, it := range items {
		img := it.img
		for _, b := range append([]string{img.ConfigDigest}, img.LayerBlobs...) {
			if err := tw.file("blobs/sha256/"+strings.TrimPrefix(b, "sha256:"), s.blobPath(b)); err != nil {
				return err
			}
		}
		mpath := s.blobPath(img.Digest)
		if err := tw.file("blobs/sha256/"+strings.TrimPrefix(img.Digest, "sha256:"), mpath); err != nil {
			return err
		}
		fi, err := os.Stat(mpath)
		if err != nil {
			return err
		}
		desc := Descriptor{MediaType: MediaType(img.ManifestType), Size: fi.Size(), Digest: mustHash(img.Digest)}
		if len(it.names) == 0 {
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, n := range it.names {
			d := desc
			d.Annotations = map[string]string{annotRefName: n, annotContainerdName: n}
			idx.Manifests = append(idx.Manifests, d)
		}
	}
	raw, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return tw.bytes("index.json", raw)
}

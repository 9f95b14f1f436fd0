package image

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"pea/internal/errdefs"
)

// Archive formats for Save.
const (
	FormatDockerArchive = "docker-archive"
	FormatOCIArchive    = "oci-archive"
	FormatOCIDir        = "oci-dir"    // an OCI layout in a directory
	FormatDockerDir     = "docker-dir" // containers/image's "dir" layout, one image
)

// dockerEntry is one element of a docker-archive's manifest.json. PeaManifest (an extension other
// tools ignore) names the image's original manifest, so that save and load keep its digest.
type dockerEntry struct {
	Config      string
	RepoTags    []string
	Layers      []string
	PeaManifest string `json:",omitempty"`
}

const (
	annotRefName        = "org.opencontainers.image.ref.name"
	annotContainerdName = "io.containerd.image.name"
)

// stagedFile is one regular file of an archive being loaded, written to a work directory.
type stagedFile struct {
	path   string
	digest string
	size   int64
}

// archive is an archive unpacked into a work directory.
type archive struct {
	files map[string]*stagedFile
	links map[string]string
}

func (a *archive) get(name string) (*stagedFile, error) {
	name = cleanArchivePath(name)
	for i := 0; i < 10; i++ {
		if f, ok := a.files[name]; ok {
			return f, nil
		}
		t, ok := a.links[name]
		if !ok {
			break
		}
		name = t
	}
	return nil, fmt.Errorf("archive has no file %q (truncated or not an image archive): %w", name, errdefs.ErrInvalid)
}

func (a *archive) read(name string) ([]byte, *stagedFile, error) {
	f, err := a.get(name)
	if err != nil {
		return nil, nil, err
	}
	if f.size > 64<<20 {
		return nil, nil, fmt.Errorf("archive file %q is too large for metadata: %w", name, errdefs.ErrInvalid)
	}
	b, err := os.ReadFile(f.path)
	return b, f, err
}

func cleanArchivePath(n string) string {
	return strings.TrimPrefix(path.Clean("/"+n), "/")
}

// stage writes every regular file of the tar stream r to dir, hashing it on the way.
func stage(r io.Reader, dir string) (*archive, error) {
	rc, err := decompress(r)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	a := &archive{files: map[string]*stagedFile{}, links: map[string]string{}}
	tr := tar.NewReader(rc)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", corrupt(err))
		}
		name := cleanArchivePath(hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			p := filepath.Join(dir, strconv.Itoa(n))
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, err
			}
			h := sha256.New()
			size, err := io.Copy(io.MultiWriter(f, h), tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, fmt.Errorf("reading archive file %q: %w", hdr.Name, corrupt(err))
			}
			a.files[name] = &stagedFile{path: p, digest: "sha256:" + hex.EncodeToString(h.Sum(nil)), size: size}
		case tar.TypeSymlink, tar.TypeLink:
			t := hdr.Linkname
			if hdr.Typeflag == tar.TypeSymlink {
				t = path.Join(path.Dir(name), t)
			}
			a.links[name] = cleanArchivePath(t)
		}
	}
	if len(a.files) == 0 {
		return nil, fmt.Errorf("not an image archive (no files): %w", errdefs.ErrInvalid)
	}
	return a, nil
}

// Load reads a docker-archive or oci-archive (possibly compressed) and stores its images. The
// images returned carry the names the archive gave them (what docker and podman report as
// loaded), not the other names an image stored already had.
func (s *Store) Load(r io.Reader, o LoadOptions) ([]*Image, error) {
	in, err := s.newIngest()
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() { in.close(ok) }()
	dir, err := in.tmp("load")
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	a, err := stage(r, dir)
	if err != nil {
		return nil, fmt.Errorf("loading image archive: %w", err)
	}
	if err := checkLoad(o, a); err != nil {
		return nil, err
	}
	var imgs []*Image
	switch {
	case a.files["oci-layout"] != nil && a.files["index.json"] != nil:
		imgs, err = in.loadOCI(a)
	case a.files["version"] != nil && a.files["manifest.json"] != nil:
		imgs, err = in.loadDirLayout(a)
	case a.files["manifest.json"] != nil:
		imgs, err = in.loadDocker(a)
	default:
		err = fmt.Errorf("not a docker-archive (no manifest.json) nor an oci-archive (no oci-layout and index.json): %w", errdefs.ErrInvalid)
	}
	if err != nil {
		return nil, fmt.Errorf("loading image archive: %w", err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("loading image archive: it holds no image: %w", errdefs.ErrInvalid)
	}
	loaded := make([][]string, len(imgs)) // the names the archive gives (commit adds them to the stored ones)
	for i, img := range imgs {
		loaded[i] = append([]string(nil), img.Names...)
	}
	out, err := in.commit(imgs)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Names = loaded[i]
	}
	ok = true
	return out, nil
}

// placeStaged moves a staged file to the blob store (or finds it there already).
func (in *ingest) placeStaged(f *stagedFile) error {
	if _, err := os.Stat(f.path); err != nil {
		return nil // placed already, for another image of the archive
	}
	return in.place(f.path, in.s.blobPath(f.digest))
}

// loadLayers stores the layer blobs of an archive image and unpacks them, checking diffIDs.
func (in *ingest) loadLayers(files []*stagedFile, cfg *ConfigFile) ([]layerResult, []string, error) {
	if len(files) != len(cfg.RootFS.DiffIDs) {
		return nil, nil, fmt.Errorf("image has %d layers but its config lists %d diffIDs: %w", len(files), len(cfg.RootFS.DiffIDs), errdefs.ErrInvalid)
	}
	var layers []layerResult
	var blobs []string
	for i, f := range files {
		diffID := cfg.RootFS.DiffIDs[i].String()
		if err := in.placeStaged(f); err != nil {
			return nil, nil, err
		}
		blobs = append(blobs, f.digest)
		if size, ok := in.s.layerSize(diffID); ok {
			layers = append(layers, layerResult{DiffID: diffID, Size: size})
			continue
		}
		bf, err := os.Open(in.s.blobPath(f.digest))
		if err != nil {
			return nil, nil, err
		}
		res, err := in.unpack(bf, diffID, false)
		bf.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("layer %d (%s): %w", i+1, f.digest, err)
		}
		layers = append(layers, res)
	}
	return layers, blobs, nil
}

func (in *ingest) loadDocker(a *archive) ([]*Image, error) {
	raw, _, err := a.read("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, fmt.Errorf("manifest.json: %v: %w", err, errdefs.ErrInvalid)
	}
	var imgs []*Image
	for _, e := range entries {
		rawConfig, cf, err := a.read(e.Config)
		if err != nil {
			return nil, err
		}
		cfg, err := ParseConfigFile(rawConfig)
		if err != nil {
			return nil, fmt.Errorf("image config %s: %v: %w", e.Config, err, errdefs.ErrInvalid)
		}
		var files []*stagedFile
		for _, l := range e.Layers {
			f, err := a.get(l)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		layers, blobs, err := in.loadLayers(files, cfg)
		if err != nil {
			return nil, err
		}
		if err := in.placeStaged(cf); err != nil {
			return nil, err
		}
		var names []string
		for _, t := range e.RepoTags {
			n, err := NormalizeName(t)
			if err != nil {
				return nil, fmt.Errorf("manifest.json: %w", err)
			}
			names = append(names, n)
		}
		rawManifest := in.originalManifest(a, e.PeaManifest, cf.digest, blobs)
		var img *Image
		if rawManifest != nil {
			if _, err := in.putBlobBytes(rawManifest); err != nil {
				return nil, err
			}
			img, err = newRecord(rawManifest, rawConfig, names, layers, blobs)
		} else {
			img, err = in.finishImageRaw(rawConfig, names, layers, blobs)
		}
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// originalManifest returns the manifest a pea docker-archive carries, if it matches the config
// and layers exactly; nil otherwise.
func (in *ingest) originalManifest(a *archive, name, configDigest string, blobs []string) []byte {
	if name == "" {
		return nil
	}
	raw, _, err := a.read(name)
	if err != nil {
		return nil
	}
	m, err := ParseManifest(raw)
	if err != nil || m.Config.Digest.String() != configDigest || len(m.Layers) != len(blobs) {
		return nil
	}
	for i, l := range m.Layers {
		if l.Digest.String() != blobs[i] {
			return nil
		}
	}
	return raw
}

// finishImageRaw stores a generated OCI manifest for a config given as raw bytes.
func (in *ingest) finishImageRaw(rawConfig []byte, names []string, layers []layerResult, blobs []string) (*Image, error) {
	configDigest, err := in.putBlobBytes(rawConfig)
	if err != nil {
		return nil, err
	}
	m := Manifest{
		SchemaVersion: 2,
		MediaType:     OCIManifestSchema1,
		Config:        Descriptor{MediaType: OCIConfigJSON, Size: int64(len(rawConfig)), Digest: mustHash(configDigest)},
		Annotations:   in.annotations,
	}
	for _, b := range blobs {
		d, err := in.s.blobDescriptor(b)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, d)
	}
	rawManifest, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if _, err := in.putBlobBytes(rawManifest); err != nil {
		return nil, err
	}
	return newRecord(rawManifest, rawConfig, names, layers, blobs)
}

func (in *ingest) ociBlob(a *archive, d Hash) ([]byte, *stagedFile, error) {
	name := "blobs/" + d.Algorithm + "/" + d.Hex
	f, err := a.get(name)
	if err != nil {
		return nil, nil, err
	}
	if f.digest != d.String() {
		return nil, nil, fmt.Errorf("archive blob %s is corrupt (its content hashes to %s): %w", d, f.digest, errdefs.ErrInvalid)
	}
	if f.size > 64<<20 {
		return nil, f, nil
	}
	b, err := os.ReadFile(f.path)
	return b, f, err
}

func (in *ingest) loadOCI(a *archive) ([]*Image, error) {
	raw, _, err := a.read("index.json")
	if err != nil {
		return nil, err
	}
	idx, err := ParseIndexManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("index.json: %v: %w", err, errdefs.ErrInvalid)
	}
	byDigest := map[string]*Image{}
	var imgs []*Image
	for _, desc := range idx.Manifests {
		var extra []string
		if isIndex(desc.MediaType) {
			rawIdx, f, err := in.ociBlob(a, desc.Digest)
			if err != nil {
				return nil, err
			}
			if err := in.placeStaged(f); err != nil {
				return nil, err
			}
			nested, err := ParseIndexManifest(rawIdx)
			if err != nil {
				return nil, fmt.Errorf("image index %s: %v: %w", desc.Digest, err, errdefs.ErrInvalid)
			}
			child, err := pickPlatform(nested, Platform{OS: "linux", Architecture: runtime.GOARCH}, true)
			if err != nil {
				return nil, err
			}
			extra = []string{desc.Digest.String()}
			annotations := desc.Annotations
			desc = child
			desc.Annotations = annotations
		}
		var names []string
		if n := archiveName(desc.Annotations); n != "" {
			names = []string{n}
		}
		if img := byDigest[desc.Digest.String()]; img != nil {
			img.Names = append(img.Names, names...)
			continue
		}
		rawManifest, mf, err := in.ociBlob(a, desc.Digest)
		if err != nil {
			return nil, err
		}
		m, err := ParseManifest(rawManifest)
		if err != nil {
			return nil, fmt.Errorf("manifest %s: %v: %w", desc.Digest, err, errdefs.ErrInvalid)
		}
		rawConfig, cf, err := in.ociBlob(a, m.Config.Digest)
		if err != nil {
			return nil, err
		}
		cfg, err := ParseConfigFile(rawConfig)
		if err != nil {
			return nil, fmt.Errorf("image config %s: %v: %w", m.Config.Digest, err, errdefs.ErrInvalid)
		}
		var files []*stagedFile
		for _, l := range m.Layers {
			_, f, err := in.ociBlob(a, l.Digest)
			if err != nil {
				return nil, err
			}
			files = append(files, f)
		}
		layers, blobs, err := in.loadLayers(files, cfg)
		if err != nil {
			return nil, err
		}
		if err := in.placeStaged(cf); err != nil {
			return nil, err
		}
		if err := in.placeStaged(mf); err != nil {
			return nil, err
		}
		img, err := newRecord(rawManifest, rawConfig, names, layers, blobs)
		if err != nil {
			return nil, err
		}
		img.Digests = extra
		byDigest[desc.Digest.String()] = img
		imgs = append(imgs, img)
	}
	return imgs, nil
}

// loadDirLayout loads containers/image's "dir" layout (podman save --format docker-dir): the
// image's manifest in manifest.json, its config and layers in files named by their digests'
// hex. It names no image.
func (in *ingest) loadDirLayout(a *archive) ([]*Image, error) {
	rawManifest, mf, err := a.read("manifest.json")
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(rawManifest)
	if err != nil {
		return nil, fmt.Errorf("manifest.json: %v: %w", err, errdefs.ErrInvalid)
	}
	blob := func(d Hash) (*stagedFile, error) {
		f, err := a.get(d.Hex)
		if err == nil && f.digest != d.String() {
			err = fmt.Errorf("blob %s is corrupt (its content hashes to %s): %w", d, f.digest, errdefs.ErrInvalid)
		}
		return f, err
	}
	cf, err := blob(m.Config.Digest)
	if err != nil {
		return nil, err
	}
	rawConfig, _, err := a.read(m.Config.Digest.Hex)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseConfigFile(rawConfig)
	if err != nil {
		return nil, fmt.Errorf("image config %s: %v: %w", m.Config.Digest, err, errdefs.ErrInvalid)
	}
	var files []*stagedFile
	for _, l := range m.Layers {
		f, err := blob(l.Digest)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	layers, blobs, err := in.loadLayers(files, cfg)
	if err != nil {
		return nil, err
	}
	if err := in.placeStaged(cf); err != nil {
		return nil, err
	}
	if err := in.placeStaged(mf); err != nil { // staged under its own digest, the manifest's

		return nil, err
	}
	img, err := newRecord(rawManifest, rawConfig, nil, layers, blobs)
	if err != nil {
		return nil, err
	}
	return []*Image{img}, nil
}

// TarDir streams the regular files and directories below dir as a tar archive (symbolic links
// kept as links), for Load of a directory (oci-dir, docker-dir).
func TarDir(dir string) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err != nil || p == dir {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			link := ""
			if fi.Mode()&os.ModeSymlink != 0 {
				if link, err = os.Readlink(p); err != nil {
					return err
				}
			} else if !fi.Mode().IsRegular() && !fi.IsDir() {
				return nil
			}
			hdr, err := tar.FileInfoHeader(fi, link)
			if err != nil {
				return err
			}
			hdr.Name = filepath.ToSlash(rel)
			if err := tw.WriteHeader(hdr); err != nil || !fi.Mode().IsRegular() {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		})
		if err == nil {
			err = tw.Close()
		}
		pw.CloseWithError(err)
	}()
	return pr
}

// archiveName is the image name an OCI index entry carries, normalized; "" if none is usable.
func archiveName(ann map[string]string) string {
	for _, k := range []string{annotContainerdName, annotRefName} {
		v := ann[k]
		if v == "" || !strings.ContainsAny(v, "/:") && k == annotRefName {
			continue // a bare tag such as "latest" names no repository
		}
		if n, err := NormalizeName(v); err == nil {
			return n
		}
	}
	return ""
}

// pickPlatform chooses the manifest for platform want from an index: the first whose platform has
// the same OS and architecture, and variant when want names one. With fallback, an entry that
// names no platform will do when none matches.
func pickPlatform(idx *IndexManifest, want Platform, fallback bool) (Descriptor, error) {
	for _, d := range idx.Manifests {
		if p := d.Platform; p != nil && p.OS == want.OS && p.Architecture == want.Architecture &&
			(want.Variant == "" || p.Variant == want.Variant) && !isIndex(d.MediaType) {
			return d, nil
		}
	}
	if fallback {
		for _, d := range idx.Manifests {
			if d.Platform == nil && !isIndex(d.MediaType) {
				return d, nil
			}
		}
	}
	return Descriptor{}, fmt.Errorf("no image for %s in the index: %w", want, errdefs.ErrNotFound)
}

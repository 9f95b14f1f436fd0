package image

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// ingest is one operation that adds content to the store. It holds the content lock shared, so
// that no sweep removes what it has written before its records are committed, and it remembers
// what it created so that a failure removes it again.
type ingest struct {
	s       *Store
	unlock  func()
	created []string // blob and layer paths this ingest renamed into place
	tmps    []string
	// annotations go into the manifests finishImageRaw generates (a build's --annotation).
	annotations map[string]string
	// buildKey goes into the records commit stores (Image.BuildKey).
	buildKey string
}

func (s *Store) newIngest() (*ingest, error) {
	unlock, err := s.flock("content.lock", unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	s.cleanTmp()
	for _, d := range []string{filepath.Join(s.dir, "blobs", "sha256"), filepath.Join(s.dir, "layers"), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			unlock()
			return nil, err
		}
	}
	return &ingest{s: s, unlock: unlock}, nil
}

// tmp returns a fresh work path, removed when the ingest ends.
func (in *ingest) tmp(kind string) (string, error) {
	p, err := in.s.tmpName(kind)
	if err == nil {
		in.tmps = append(in.tmps, p)
	}
	return p, err
}

// close ends the ingest. With ok false it removes the blobs and layers it created, except those
// a record references by now (another process may have stored the same content meanwhile). That
// check and commit's check that everything is in place both run under the index lock, so a
// failing ingest cannot pull content from under one that is committing.
func (in *ingest) close(ok bool) {
	for _, t := range in.tmps {
		os.RemoveAll(t)
	}
	if !ok && len(in.created) > 0 {
		if unlock, err := in.s.flock("index.lock", unix.LOCK_EX); err == nil {
			in.removeUnreferenced()
			unlock()
		}
	}
	in.unlock()
}

func (in *ingest) removeUnreferenced() {
	idx, err := in.s.readIndex()
	if err != nil {
		return // keep everything: the next sweep decides
	}
	referenced := map[string]bool{}
	for _, img := range idx.Images {
		for _, b := range img.blobs() {
			referenced[in.s.blobPath(b)] = true
		}
		for _, l := range img.Layers {
			referenced[in.s.layerPath(l)] = true
		}
	}
	for _, p := range in.created {
		if !referenced[p] {
			os.RemoveAll(p)
		}
	}
}

// blobWriter writes a blob to a work file while hashing it.
type blobWriter struct {
	f    *os.File
	h    hash.Hash
	size int64
}

func (in *ingest) newBlobWriter() (*blobWriter, error) {
	p, err := in.tmp("blob")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &blobWriter{f: f, h: sha256.New()}, nil
}

func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.size += int64(n)
	return n, err
}

func (w *blobWriter) digest() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// commit verifies the digest (when want is given) and renames the blob into place.
func (in *ingest) commitBlob(w *blobWriter, want string) (string, error) {
	d := w.digest()
	err := w.f.Close()
	if err != nil {
		return "", err
	}
	if want != "" && want != d {
		return "", fmt.Errorf("blob digest mismatch: expected %s, got %s (corrupt or truncated data): %w", want, d, errdefs.ErrInvalid)
	}
	if err := in.place(w.f.Name(), in.s.blobPath(d)); err != nil {
		return "", err
	}
	return d, nil
}

// place renames a finished work file or directory to its content address; if that address is
// taken already (same content), the work copy is dropped and the stored one's time made now
// (what was stored again is as new as a new one: Store.StoredAt).
func (in *ingest) place(tmp, final string) error {
	if _, err := os.Lstat(final); err == nil {
		now := time.Now()
		os.Chtimes(final, now, now)
		return os.RemoveAll(tmp)
	}
	if err := os.Rename(tmp, final); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, unix.ENOTEMPTY) {
			return os.RemoveAll(tmp)
		}
		return err
	}
	in.created = append(in.created, final)
	return nil
}

// putBlob stores r, verifying it against want when given.
func (in *ingest) putBlob(r io.Reader, want string) (string, int64, error) {
	if want != "" {
		if fi, err := os.Stat(in.s.blobPath(want)); err == nil {
			return want, fi.Size(), nil
		}
	}
	w, err := in.newBlobWriter()
	if err != nil {
		return "", 0, err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.f.Close()
		return "", 0, err
	}
	d, err := in.commitBlob(w, want)
	return d, w.size, err
}

func (in *ingest) putBlobBytes(b []byte) (string, error) {
	d, _, err := in.putBlob(bytes.NewReader(b), "")
	return d, err
}

// layerResult describes an unpacked layer.
type layerResult struct {
	DiffID string
	Size   int64
}

// unpack reads a layer blob stream (compressed or not), unpacks it into a work directory, and
// renames that to layers/<diffid>. wantDiffID is checked when given. strict refuses a tar stream
// that lacks its end-of-archive marker (used when there is no digest to check against).
func (in *ingest) unpack(blob io.Reader, wantDiffID string, strict bool) (layerResult, error) {
	var res layerResult
	tmp, err := in.tmp("layer")
	if err != nil {
		return res, err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "diff"), 0o755); err != nil {
		return res, err
	}
	rc, err := decompress(blob)
	if err != nil {
		return res, err
	}
	defer rc.Close()
	h := sha256.New()
	cr := &countingReader{r: io.TeeReader(rc, h)}
	if err := unpackTar(filepath.Join(tmp, "diff"), cr, strict); err != nil {
		return res, err
	}
	// Hash any padding after the end-of-archive marker, and let the decompressor check its trailer.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return res, fmt.Errorf("layer data: %w", corrupt(err))
	}
	res.DiffID = "sha256:" + hex.EncodeToString(h.Sum(nil))
	res.Size = cr.n
	if wantDiffID != "" && wantDiffID != res.DiffID {
		return res, fmt.Errorf("layer diffID mismatch: the config says %s, the data gives %s: %w", wantDiffID, res.DiffID, errdefs.ErrInvalid)
	}
	if err := os.WriteFile(filepath.Join(tmp, "size"), []byte(strconv.FormatInt(res.Size, 10)), 0o600); err != nil {
		return res, err
	}
	return res, in.place(tmp, in.s.layerPath(res.DiffID))
}

// storeLayer stores a layer blob and unpacks it in a single pass over r.
func (in *ingest) storeLayer(r io.Reader, wantDigest, wantDiffID string, strict bool) (digest string, res layerResult, err error) {
	w, err := in.newBlobWriter()
	if err != nil {
		return "", res, err
	}
	tee := io.TeeReader(r, w)
	res, err = in.unpack(tee, wantDiffID, strict)
	if err == nil {
		_, err = io.Copy(w, r)
	}
	if err != nil {
		w.f.Close()
		return "", res, err
	}
	digest, err = in.commitBlob(w, wantDigest)
	return digest, res, err
}

// haveLayer reports whether the layer and its blob are stored already, and the layer's size.
func (s *Store) haveLayer(diffID, blob string) (int64, bool) {
	if _, err := os.Stat(s.blobPath(blob)); err != nil {
		return 0, false
	}
	return s.layerSize(diffID)
}

func (s *Store) layerSize(diffID string) (int64, bool) {
	b, err := os.ReadFile(filepath.Join(s.layerPath(diffID), "size"))
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}

// commit adds the records (merging names into an existing record of the same ID) under the index
// lock, after checking that everything they reference is in place.
func (in *ingest) commit(imgs []*Image) ([]*Image, error) {
	// The record must not reach the disk before what it references: after a power loss a named
	// layer with truncated files would be worse than no layer at all. One syncfs writes back all
	// of the new blobs and layer files at once, much cheaper than an fsync per file.
	if len(in.created) > 0 {
		if err := syncFS(in.s.dir); err != nil {
			return nil, err
		}
	}
	out := make([]*Image, len(imgs))
	err := in.s.update(func(idx *index) error {
		if err := in.checkInPlace(imgs); err != nil {
			return err
		}
		for i, img := range imgs {
			names := img.Names
			img.Names = nil
			if in.buildKey != "" {
				img.BuildKey = in.buildKey
			}
			cur := idx.byID(img.ID)
			if cur == nil {
				cur = img
				idx.Images = append(idx.Images, cur)
			} else {
				if img.BuildKey != "" {
					cur.BuildKey = img.BuildKey
				}
				for _, d := range append([]string{img.Digest}, img.Digests...) {
					if d != "" && d != cur.Digest && !contains(cur.Digests, d) {
						cur.Digests = append(cur.Digests, d)
					}
				}
			}
			for _, n := range names {
				idx.addName(cur, n)
			}
			out[i] = cur
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		c := *out[i]
		out[i] = &c
	}
	return out, nil
}

// checkInPlace makes sure every blob and layer the records reference is stored.
func (in *ingest) checkInPlace(imgs []*Image) error {
	for _, img := range imgs {
		for _, b := range img.blobs() {
			if b == "" {
				continue
			}
			if _, err := os.Stat(in.s.blobPath(b)); err != nil {
				return fmt.Errorf("image %.12s: blob %s missing after ingest: %w", img.ID, b, err)
			}
		}
		for _, l := range img.Layers {
			if _, err := os.Stat(in.s.layerPath(l)); err != nil {
				return fmt.Errorf("image %.12s: layer %s missing after ingest: %w", img.ID, l, err)
			}
		}
	}
	return nil
}

// newRecord builds an image record from raw manifest and config bytes and the layer results.
func newRecord(rawManifest, rawConfig []byte, names []string, layers []layerResult, blobs []string) (*Image, error) {
	cfg, err := ParseConfigFile(rawConfig)
	if err != nil {
		return nil, fmt.Errorf("image config: %v: %w", err, errdefs.ErrInvalid)
	}
	m, err := ParseManifest(rawManifest)
	if err != nil {
		return nil, fmt.Errorf("image manifest: %v: %w", err, errdefs.ErrInvalid)
	}
	cd := sha256Hex(rawConfig)
	img := &Image{
		ID:           cd,
		ConfigDigest: "sha256:" + cd,
		Names:        names,
		Digest:       "sha256:" + sha256Hex(rawManifest),
		ManifestType: string(m.MediaType),
		Created:      cfg.Created.Time,
		Config:       *cfg,
		LayerBlobs:   blobs,
		Annotations:  m.Annotations,
	}
	if img.ManifestType == "" {
		img.ManifestType = string(OCIManifestSchema1)
	}
	for _, l := range layers {
		img.Layers = append(img.Layers, l.DiffID)
		img.LayerSizes = append(img.LayerSizes, l.Size)
		img.Size += l.Size
	}
	return img, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// countingReader counts bytes read.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decompress returns the uncompressed stream of r: gzip, zstd (with the zstd program), bzip2 or
// plain, told apart by their magic numbers.
func decompress(r io.Reader) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("decompress: %w", corrupt(err))
		}
		return zr, nil
	case bytes.HasPrefix(magic, zstdMagic):
		return unzstd(br)
	case bytes.HasPrefix(magic, []byte("BZh")):
		return io.NopCloser(bzip2.NewReader(br)), nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X'}):
		return nil, fmt.Errorf("xz-compressed data is not supported; decompress it first (xz -d): %w", errdefs.ErrInvalid)
	}
	return io.NopCloser(br), nil
}

// corrupt classifies a read error on input data as invalid input.
func corrupt(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("data is truncated (%v): %w", err, errdefs.ErrInvalid)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return err
	}
	return fmt.Errorf("%v: %w", err, errdefs.ErrInvalid)
}

// blobDescriptor describes a stored layer blob for a generated OCI manifest, its media type
// following its compression.
func (s *Store) blobDescriptor(d string) (Descriptor, error) {
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return Descriptor{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Descriptor{}, err
	}
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	mt := OCIUncompressedLayer
	switch {
	case bytes.HasPrefix(magic[:n], []byte{0x1f, 0x8b}):
		mt = OCILayer
	case bytes.HasPrefix(magic[:n], zstdMagic):
		mt = OCILayerZStd
	}
	return Descriptor{MediaType: mt, Size: fi.Size(), Digest: mustHash(d)}, nil
}

func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

//go:build !pea_split

package image

// A push's --compression-format: the layers whose stored blob is in another compression
// (uncompressed, as a commit or build stores them, or gzip/zstd as pulled) are decompressed
// and compressed again into throw-away blobs under the store's tmp directory, and the manifest
// sent names them; a Docker manifest becomes an OCI one for zstd, which Docker's has no media
// type for. The stored image is not changed: the pushed manifest (and so its digest) is a new
// one only when a layer was recompressed.

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// pushedLayer is a layer blob a push sends: its descriptor and the file it is read from.
type pushedLayer struct {
	desc Descriptor
	path string
}

// compressLayers returns the layers of m in compression format (and m as it is sent), writing
// the recompressed blobs under dir; changed says whether any layer was recompressed.
func (s *Store) compressLayers(m *Manifest, format, dir string) (layers []pushedLayer, sent *Manifest, changed bool, err error) {
	out := *m
	out.Layers = nil
	toOCI := format == "zstd" && m.MediaType == DockerManifestSchema2
	for _, l := range m.Layers {
		path := s.blobPath(l.Digest.String())
		stored, err := s.blobDescriptor(l.Digest.String())
		if err != nil {
			return nil, nil, false, fmt.Errorf("layer %s missing from the store: %w", l.Digest, err)
		}
		if isTarLayer(l.MediaType) && compressionOf(stored.MediaType) != format {
			d, p, err := recompress(path, format, dir)
			if err != nil {
				return nil, nil, false, fmt.Errorf("layer %s to %s: %w", l.Digest, format, err)
			}
			l.Digest, l.Size, path, changed = d, p.size, p.path, true
			l.MediaType = layerType(format, m.MediaType == DockerManifestSchema2 && !toOCI)
		}
		if toOCI {
			l.MediaType = ociLayerType(l.MediaType)
		}
		layers = append(layers, pushedLayer{desc: l, path: path})
		out.Layers = append(out.Layers, l)
	}
	if changed && toOCI {
		out.MediaType = OCIManifestSchema1
		out.Config.MediaType = OCIConfigJSON
	}
	return layers, &out, changed, nil
}

// isTarLayer tells the layer media types (OCI's and Docker's) that are a file system's tar.
func isTarLayer(mt MediaType) bool {
	switch mt {
	case OCILayer, OCILayerZStd, OCIUncompressedLayer, DockerLayer, DockerUncompressedLayer:
		return true
	}
	return false
}

// compressionOf is the compression of a layer type blobDescriptor gives: gzip, zstd or "".
func compressionOf(mt MediaType) string {
	switch mt {
	case OCILayer, DockerLayer:
		return "gzip"
	case OCILayerZStd:
		return "zstd"
	}
	return ""
}

// layerType is the media type of a layer in compression format, Docker's or OCI's.
func layerType(format string, docker bool) MediaType {
	switch {
	case docker:
		return DockerLayer // gzip: Docker's manifests have no zstd layers
	case format == "zstd":
		return OCILayerZStd
	}
	return OCILayer
}

// ociLayerType is the OCI name of a Docker layer type.
func ociLayerType(mt MediaType) MediaType {
	switch mt {
	case DockerLayer:
		return OCILayer
	case DockerUncompressedLayer:
		return OCIUncompressedLayer
	}
	return mt
}

type tmpBlob struct {
	path string
	size int64
}

// recompress writes the blob at path, decompressed, compressed with format into a new file
// under dir, and returns its digest.
func recompress(path, format, dir string) (Hash, tmpBlob, error) {
	src, err := os.Open(path)
	if err != nil {
		return Hash{}, tmpBlob{}, err
	}
	defer src.Close()
	plain, err := decompress(src)
	if err != nil {
		return Hash{}, tmpBlob{}, err
	}
	defer plain.Close()
	f, err := os.CreateTemp(dir, "layer-")
	if err != nil {
		return Hash{}, tmpBlob{}, err
	}
	defer f.Close()
	h := sha256.New()
	counted := &countingWriter{w: io.MultiWriter(f, h)}
	switch format {
	case "gzip":
		zw := gzip.NewWriter(counted)
		if _, err = io.Copy(zw, plain); err == nil {
			err = zw.Close()
		}
	case "zstd":
		var stderr bytes.Buffer
		cmd := cpupin.Command("zstd", "-q", "-c")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = plain, counted, &stderr
		if err = cmd.Run(); err != nil {
			err = fmt.Errorf("zstd: %v %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
	}
	if err != nil {
		return Hash{}, tmpBlob{}, err
	}
	d, err := NewHash("sha256:" + hex.EncodeToString(h.Sum(nil)))
	return d, tmpBlob{path: f.Name(), size: counted.n}, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// pushImage sends an image's blobs, then its manifest (raw, of type mt, the stored one) under
// ref ("" : under the digest of the manifest sent), its layers in compression format ("" : as
// stored). It returns the manifest sent and its type.
func (s *Store) pushImage(rc *regClient, ref string, raw []byte, mt MediaType, format string, p *progress) ([]byte, MediaType, error) {
	m, err := ParseManifest(raw)
	if err != nil {
		return nil, "", fmt.Errorf("stored manifest: %v: %w", err, errdefs.ErrInvalid)
	}
	var layers []pushedLayer
	if format != "" {
		if err := os.MkdirAll(s.tmpDir(), 0o700); err != nil {
			return nil, "", err
		}
		// Named for this process: the store's tmp sweeper leaves it alone while it lives.
		dir, err := os.MkdirTemp(s.tmpDir(), strconv.Itoa(os.Getpid())+"-push-")
		if err != nil {
			return nil, "", err
		}
		defer os.RemoveAll(dir)
		p.printf("Compressing layers (%s)\n", format)
		l, sent, changed, err := s.compressLayers(m, format, dir)
		if err != nil {
			return nil, "", err
		}
		layers = l
		if changed {
			if raw, err = json.Marshal(sent); err != nil {
				return nil, "", err
			}
			mt = sent.MediaType
		}
	} else {
		for _, l := range m.Layers {
			layers = append(layers, pushedLayer{desc: l, path: s.blobPath(l.Digest.String())})
		}
	}
	p.printf("Getting image source signatures\n")
	for _, l := range layers {
		if err := s.pushBlob(rc, "blob", l.desc, l.path, p); err != nil {
			return nil, "", err
		}
	}
	if err := s.pushBlob(rc, "config", m.Config, s.blobPath(m.Config.Digest.String()), p); err != nil {
		return nil, "", err
	}
	if ref == "" {
		ref = "sha256:" + sha256Hex(raw)
	}
	p.printf("Writing manifest to image destination\n")
	return raw, mt, rc.putManifest(ref, raw, mt)
}

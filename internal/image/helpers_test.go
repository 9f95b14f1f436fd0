package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"pea/internal/image/registrytest"
)

// entry is one file of a test tarball.
type entry struct {
	name     string
	typ      byte
	body     string
	link     string
	mode     int64
	uid, gid int
	xattrs   map[string]string
}

func makeTar(t *testing.T, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			ModTime: time.Unix(1700000000, 0), Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		for k, v := range e.xattrs {
			if h.PAXRecords == nil {
				h.PAXRecords = map[string]string{}
			}
			h.PAXRecords["SCHILY.xattr."+k] = v
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// smallRootfs is a tiny root filesystem.
func smallRootfs(t *testing.T) []byte {
	return makeTar(t, []entry{
		{name: "./", typ: tar.TypeDir},
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/sh", body: "#!fake shell\n", mode: 0o755},
		{name: "bin/ls", typ: tar.TypeSymlink, link: "sh"},
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/passwd", body: "root:x:0:0:root:/root:/bin/sh\n"},
	})
}

func newStore(t *testing.T) *Store {
	t.Helper()
	withRegistriesConf(t, `unqualified-search-registries = ["docker.io"]`)
	s, err := Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storeFiles lists the files under the store's blobs, layers and tmp directories.
func storeFiles(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	for _, d := range []string{"blobs", "layers", "tmp"} {
		root := filepath.Join(s.Dir(), d)
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && p != root && !(fi.IsDir() && filepath.Base(p) == "sha256") {
				rel, _ := filepath.Rel(s.Dir(), p)
				out = append(out, rel)
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func ids(t *testing.T, s *Store) []string {
	t.Helper()
	imgs, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, i := range imgs {
		out = append(out, i.ID)
	}
	sort.Strings(out)
	return out
}

// testImage is a random image in the Docker format: gzip layers, a config, a schema 2 manifest.
type testImage struct {
	config   []byte
	layers   [][]byte
	manifest []byte
}

// randomImage makes an image of n layers, each a tar of one file of 2048 random bytes.
func randomImage(t *testing.T, arch string, n int) *testImage {
	t.Helper()
	ti := &testImage{}
	cfg := ConfigFile{Architecture: arch, OS: "linux", Created: Time{time.Unix(1700000000, 0).UTC()}, RootFS: RootFS{Type: "layers"},
		Config: Config{Cmd: []string{"/bin/sh"}}}
	var descs []Descriptor
	for i := 0; i < n; i++ {
		body := make([]byte, 2048)
		rand.Read(body)
		tarball := makeTar(t, []entry{{name: fmt.Sprintf("file%d", i), body: string(body)}})
		layer := gzipped(t, tarball)
		ti.layers = append(ti.layers, layer)
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, mustHash("sha256:"+sha256Hex(tarball)))
		cfg.History = append(cfg.History, History{Created: cfg.Created, CreatedBy: fmt.Sprintf("layer %d", i)})
		descs = append(descs, Descriptor{MediaType: DockerLayer, Size: int64(len(layer)), Digest: mustHash("sha256:" + sha256Hex(layer))})
	}
	var err error
	if ti.config, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	m := Manifest{SchemaVersion: 2, MediaType: DockerManifestSchema2,
		Config: Descriptor{MediaType: DockerConfigJSON, Size: int64(len(ti.config)), Digest: mustHash("sha256:" + sha256Hex(ti.config))},
		Layers: descs}
	if ti.manifest, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return ti
}

// seed puts the image's blobs into a test registry.
func (ti *testImage) seed(r *registrytest.Registry) {
	r.PutBlob(ti.config)
	for _, l := range ti.layers {
		r.PutBlob(l)
	}
}

// dockerArchive writes the image as other tools write a docker-archive: the config first (named
// by its digest), then the layers (<hex>.tar.gz), then manifest.json.
func (ti *testImage) dockerArchive(t *testing.T, repoTags ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(b))}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	entry := map[string]any{"Config": "sha256:" + sha256Hex(ti.config), "RepoTags": repoTags}
	add(entry["Config"].(string), ti.config)
	var layers []string
	for _, l := range ti.layers {
		name := sha256Hex(l) + ".tar.gz"
		add(name, l)
		layers = append(layers, name)
	}
	entry["Layers"] = layers
	mj, _ := json.Marshal([]any{entry})
	add("manifest.json", mj)
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

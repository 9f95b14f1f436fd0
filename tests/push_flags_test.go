package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// pushedManifest is what the test registry holds at repo:ref: the manifest's layers, the
// first bytes of each layer's blob, and the manifest's digest.
type pushedManifest struct {
	MediaType string
	Config    struct{ MediaType string }
	Layers    []struct {
		MediaType string
		Digest    string
	}
	magic  [][]byte
	digest string
}

func fetchPushed(t *testing.T, base, repo, ref string) pushedManifest {
	t.Helper()
	var m pushedManifest
	getJSON(t, base+"/v2/"+repo+"/manifests/"+ref, &m)
	req, _ := http.NewRequest("GET", base+"/v2/"+repo+"/manifests/"+ref, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sum := sha256.Sum256(body)
	m.digest = "sha256:" + hex.EncodeToString(sum[:])
	for _, l := range m.Layers {
		resp, err := http.Get(base + "/v2/" + repo + "/blobs/" + l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(resp.Body, head)
		resp.Body.Close()
		m.magic = append(m.magic, head[:n])
	}
	return m
}

// push --compression-format gzip|zstd sends the layers in that compression (recompressed from
// the store's uncompressed ones), under a manifest of its own whose digest --digestfile gets;
// the image pulled back runs. manifest push --compression-format does the same to the list's
// images and names the manifests sent. Signing flags, zstd:chunked and unknown formats are
// refused in one line.
func TestPushCompressionFormat(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo pushed > /x\n"})
	id := buildID(t, e.Pea("build", "--network", "none", "-t", "app", ctx))
	stored := e.Pea("image", "inspect", "--format", "{{.Digest}}", id)
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	gzipMagic, zstdMagic := []byte{0x1f, 0x8b}, []byte{0x28, 0xb5, 0x2f, 0xfd}
	check := func(m pushedManifest, layerType string, magic []byte) {
		t.Helper()
		if len(m.Layers) != 2 {
			t.Fatalf("pushed layers: %+v", m)
		}
		for i, l := range m.Layers {
			if l.MediaType != layerType || !strings.HasPrefix(string(m.magic[i]), string(magic)) {
				t.Fatalf("layer %d: %s, starting %x; want %s", i, l.MediaType, m.magic[i], layerType)
			}
		}
	}
	// As stored: uncompressed, the stored manifest.
	e.Pea("push", "--tls-verify=false", "app", reg+"/acc/app:plain")
	m := fetchPushed(t, srv.URL, "acc/app", "plain")
	check(m, "application/vnd.oci.image.layer.v1.tar", []byte("")) // a tar starts with its first name
	if m.digest != stored {
		t.Fatalf("push as stored: digest %s, the stored manifest's %s", m.digest, stored)
	}
	for _, c := range []struct {
		format, layerType string
		magic             []byte
	}{
		{"gzip", "application/vnd.oci.image.layer.v1.tar+gzip", gzipMagic},
		{"zstd", "application/vnd.oci.image.layer.v1.tar+zstd", zstdMagic},
	} {
		df := filepath.Join(e.Dir, c.format+".digest")
		e.Pea("push", "--tls-verify=false", "--compression-format", c.format, "--digestfile", df, "app", reg+"/acc/app:"+c.format)
		m := fetchPushed(t, srv.URL, "acc/app", c.format)
		check(m, c.layerType, c.magic)
		if b, _ := os.ReadFile(df); string(b) != m.digest || m.digest == stored {
			t.Fatalf("--digestfile %q, the manifest pushed %s (stored %s)", b, m.digest, stored)
		}
		if got := e.Pea("image", "inspect", "--format", "{{.Digest}}", id); got != stored {
			t.Fatalf("the push changed the stored image's digest: %s", got)
		}
		// Pulled back into an empty store, the image runs with the same files.
		e2 := newEnv(t)
		e2.Pea("pull", "-q", "--tls-verify=false", reg+"/acc/app:"+c.format)
		if got := e2.Pea("run", "--rm", "--network", "none", reg+"/acc/app:"+c.format, "cat", "/x"); got != "pushed" {
			t.Fatalf("the %s image pulled back: /x is %q", c.format, got)
		}
	}
	// manifest push: the list names the images as sent.
	e.Pea("manifest", "create", "localhost/applist", "containers-storage:"+id)
	df := filepath.Join(e.Dir, "list.digest")
	e.Pea("manifest", "push", "--tls-verify=false", "--compression-format", "zstd", "--digestfile", df, "localhost/applist", reg+"/acc/applist:1")
	var list struct {
		Manifests []struct{ Digest, MediaType string }
	}
	getJSON(t, srv.URL+"/v2/acc/applist/manifests/1", &list)
	if len(list.Manifests) != 1 || list.Manifests[0].Digest == stored {
		t.Fatalf("the list pushed: %+v (stored image %s)", list, stored)
	}
	check(fetchPushed(t, srv.URL, "acc/applist", list.Manifests[0].Digest), "application/vnd.oci.image.layer.v1.tar+zstd", zstdMagic)
	// A key the keyring (an empty one here) lacks is refused before anything is sent, as are a
	// sigstore key and a passphrase without a key.
	t.Setenv("GNUPGHOME", t.TempDir())
	for _, c := range [][]string{
		{"--sign-by", "ABCDEF", `--sign-by: key "ABCDEF" not found`},
		{"--sign-by-sigstore-private-key", "key.pem", "--sign-by-sigstore-private-key"},
		{"--sign-passphrase-file", "pw", "--sign-passphrase-file"},
		{"--compression-format", "zstd:chunked", "zstd:chunked"},
		{"--compression-format", "lz4", `invalid --compression-format "lz4"`},
	} {
		e.refused(c[2], "push", "--tls-verify=false", c[0], c[1], "app", reg+"/acc/app:no")
		e.refused(c[2], "image", "push", "--tls-verify=false", c[0], c[1], "app", reg+"/acc/app:no")
		e.refused(c[2], "manifest", "push", "--tls-verify=false", c[0], c[1], "localhost/applist", reg+"/acc/applist:no")
	}
	resp, err := http.Get(srv.URL + "/v2/acc/app/manifests/no")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Fatalf("a refused push sent a manifest: %s", resp.Status)
		}
	}
}

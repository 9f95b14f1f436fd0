package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"pea/internal/errdefs"
)

func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func noVerify() *bool { f := false; return &f }

func TestPushPull(t *testing.T) {
	s := newStore(t)
	reg := newRegistry(t, nil)
	img, err := s.Import(bytes.NewReader(smallRootfs(t)), "bb", []string{"ENV A=1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dest := reg + "/acc/bb:1"
	// Plain HTTP is refused unless asked for.
	if err := s.Push(ctx, "bb", dest, PushOptions{}); err == nil || !strings.Contains(err.Error(), "tls-verify") {
		t.Fatalf("push over plain HTTP without --tls-verify=false: %v", err)
	}
	var progress bytes.Buffer
	if err := s.Push(ctx, "bb", dest, PushOptions{TLSVerify: noVerify(), Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "Copying blob") {
		t.Errorf("progress: %q", progress.String())
	}
	// Pull into a fresh store: same ID and digest.
	s2, _ := Open(filepath.Join(t.TempDir(), "images"))
	got, err := s2.Pull(ctx, dest, PullOptions{TLSVerify: noVerify()})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != img.ID || got.Digest != img.Digest || got.Names[0] != dest {
		t.Errorf("pulled %s %s %v, pushed %s %s", got.ID, got.Digest, got.Names, img.ID, img.Digest)
	}
	if dirs, err := s2.LayerDirs(got); err != nil || len(dirs) != 1 {
		t.Errorf("layers: %v %v", dirs, err)
	}
	// Pulling again skips the stored layer.
	progress.Reset()
	if _, err := s2.Pull(ctx, dest, PullOptions{TLSVerify: noVerify(), Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "already exists") {
		t.Errorf("second pull progress: %q", progress.String())
	}
	// Unknown tag: not found, nothing stored.
	before := storeFiles(t, s2)
	if _, err := s2.Pull(ctx, reg+"/acc/bb:nope", PullOptions{TLSVerify: noVerify()}); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown tag: %v", err)
	}
	if after := storeFiles(t, s2); len(after) != len(before) {
		t.Errorf("a failed pull changed the store: %v", after)
	}
	// insecure = true in registries.conf allows plain HTTP without the flag.
	withRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", reg))
	s3, _ := Open(filepath.Join(t.TempDir(), "images"))
	if _, err := s3.Pull(ctx, dest, PullOptions{}); err != nil {
		t.Errorf("pull from an insecure registry: %v", err)
	}
}

func TestPullMirrorBlockedSearch(t *testing.T) {
	ctx := context.Background()
	src := newStore(t)
	mirror := newRegistry(t, nil)
	if _, err := src.Import(bytes.NewReader(smallRootfs(t)), "bb", nil); err != nil {
		t.Fatal(err)
	}
	if err := src.Push(ctx, "bb", mirror+"/library/app:3", PushOptions{TLSVerify: noVerify()}); err != nil {
		t.Fatal(err)
	}
	// docker.io is unreachable here; its mirror has the image. Short names search docker.io.
	withRegistriesConf(t, fmt.Sprintf(`
unqualified-search-registries = ["blocked.example", "docker.io"]
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = %q
insecure = true
[[registry]]
location = "blocked.example"
blocked = true
`, mirror))
	s, _ := Open(filepath.Join(t.TempDir(), "images"))
	img, err := s.Pull(ctx, "app:3", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Names[0] != "docker.io/library/app:3" {
		t.Errorf("names %v", img.Names)
	}
	if got, err := s.Lookup("app:3"); err != nil || got.ID != img.ID {
		t.Errorf("lookup by short name: %v", err)
	}
	_, err = s.Pull(ctx, "blocked.example/x:1", PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "blocked") {
		t.Errorf("blocked registry: %v", err)
	}
}

func TestPullCreds(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	s := newStore(t)
	img, err := s.Import(bytes.NewReader(smallRootfs(t)), "bb", nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg + "/priv/bb:1"
	if err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify()}); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}
	if err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify(), Creds: "alice:s3cret"}); err != nil {
		t.Fatal(err)
	}
	s2, _ := Open(filepath.Join(t.TempDir(), "images"))
	if _, err := s2.Pull(ctx, ref, PullOptions{TLSVerify: noVerify(), Creds: "alice:wrong"}); err == nil {
		t.Fatal("pull with wrong credentials succeeded")
	}
	got, err := s2.Pull(ctx, ref, PullOptions{TLSVerify: noVerify(), Creds: "alice:s3cret"})
	if err != nil || got.ID != img.ID {
		t.Fatalf("pull with creds: %v", err)
	}
	// The same through an auth file.
	auth := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(auth, []byte(fmt.Sprintf(`{"auths":{%q:{"auth":"YWxpY2U6czNjcmV0"}}}`, reg)), 0o600)
	s3, _ := Open(filepath.Join(t.TempDir(), "images"))
	if _, err := s3.Pull(ctx, ref, PullOptions{TLSVerify: noVerify(), AuthFile: auth}); err != nil {
		t.Fatalf("pull with auth file: %v", err)
	}
	if _, err := s3.Pull(ctx, ref, PullOptions{TLSVerify: noVerify(), Creds: "nocolon"}); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Errorf("bad --creds: %v", err)
	}
}

func TestPullIndexGzipAndSaveLoad(t *testing.T) {
	ctx := context.Background()
	reg := newRegistry(t, nil)
	// A two-platform index of go-containerregistry random images (gzip layers, docker manifests).
	var adds []mutate.IndexAddendum
	for _, arch := range []string{"arm64", runtime.GOARCH} {
		img, err := random.Image(4096, 3)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf.Architecture, cf.OS = arch, "linux"
		img, err = mutate.ConfigFile(img, cf)
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	idx := mutate.AppendManifests(empty.Index, adds...)
	ref, _ := name.ParseReference(reg + "/multi/app:1")
	if err := remote.WriteIndex(ref, idx, remote.WithContext(ctx)); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	want, _ := adds[1].Add.(v1.Image).Digest()

	s := newStore(t)
	img, err := s.Pull(ctx, reg+"/multi/app:1", PullOptions{TLSVerify: noVerify()})
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != want.String() || !contains(img.Digests, idxDigest.String()) || img.Config.Architecture != runtime.GOARCH || len(img.Layers) != 3 {
		t.Fatalf("pulled %+v", img)
	}
	if got, err := s.Lookup(reg + "/multi/app@" + idxDigest.String()); err != nil || got.ID != img.ID {
		t.Errorf("lookup by the index digest: %v", err)
	}
	for _, format := range []string{FormatDockerArchive, FormatOCIArchive} {
		var buf bytes.Buffer
		if err := s.Save(&buf, []string{img.ID}, format); err != nil {
			t.Fatal(err)
		}
		s2, _ := Open(filepath.Join(t.TempDir(), "images"))
		got, err := s2.Load(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ID != img.ID || got[0].Digest != img.Digest || len(got[0].Names) != 0 {
			t.Errorf("%s: loaded %s %s %v, saved %s %s", format, got[0].ID, got[0].Digest, got[0].Names, img.ID, img.Digest)
		}
	}
}

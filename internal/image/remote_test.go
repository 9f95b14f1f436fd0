//go:build !pea_split

package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"pea/internal/errdefs"
	"pea/internal/image/registrytest"
)

func newRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	_, host := newRegistryWith(t, wrap)
	return host
}

// newRegistryWith starts an in-memory registry behind an HTTP server; it returns the registry
// (to seed it directly) and the server's host:port.
func newRegistryWith(t *testing.T, wrap func(http.Handler) http.Handler) (*registrytest.Registry, string) {
	t.Helper()
	reg := registrytest.New()
	var h http.Handler = reg
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return reg, strings.TrimPrefix(srv.URL, "http://")
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
	if _, err := s.Push(ctx, "bb", dest, PushOptions{}); err == nil || !strings.Contains(err.Error(), "tls-verify") {
		t.Fatalf("push over plain HTTP without --tls-verify=false: %v", err)
	}
	var progress bytes.Buffer
	if _, err := s.Push(ctx, "bb", dest, PushOptions{TLSVerify: noVerify(), Progress: &progress}); err != nil {
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
	if _, err := src.Push(ctx, "bb", mirror+"/library/app:3", PushOptions{TLSVerify: noVerify()}); err != nil {
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
	if _, err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify()}); err == nil {
		t.Fatal("anonymous push to an authenticated registry succeeded")
	}
	if _, err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify(), Creds: "alice:s3cret"}); err != nil {
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
	r, reg := newRegistryWith(t, nil)
	// A two-platform Docker manifest list of random images (gzip layers, Docker manifests).
	var entries []Descriptor
	var want string
	for _, arch := range []string{"arm64", runtime.GOARCH} {
		ri := randomImage(t, arch, 3)
		ri.seed(r)
		d := r.PutManifest("multi/app", "", string(DockerManifestSchema2), ri.manifest)
		entries = append(entries, Descriptor{MediaType: DockerManifestSchema2, Size: int64(len(ri.manifest)), Digest: mustHash(d),
			Platform: &Platform{OS: "linux", Architecture: arch}})
		want = d
	}
	rawIdx, _ := json.Marshal(IndexManifest{SchemaVersion: 2, MediaType: DockerManifestList, Manifests: entries})
	idxDigest := r.PutManifest("multi/app", "1", string(DockerManifestList), rawIdx)

	s := newStore(t)
	img, err := s.Pull(ctx, reg+"/multi/app:1", PullOptions{TLSVerify: noVerify()})
	if err != nil {
		t.Fatal(err)
	}
	if img.Digest != want || !contains(img.Digests, idxDigest) || img.Config.Architecture != runtime.GOARCH || len(img.Layers) != 3 ||
		img.ManifestType != string(DockerManifestSchema2) {
		t.Fatalf("pulled %+v", img)
	}
	if got, err := s.Lookup(reg + "/multi/app@" + idxDigest); err != nil || got.ID != img.ID {
		t.Errorf("lookup by the index digest: %v", err)
	}
	// By digest, and for another platform.
	s4 := newStore(t)
	if got, err := s4.Pull(ctx, reg+"/multi/app@"+idxDigest, PullOptions{TLSVerify: noVerify()}); err != nil || got.ID != img.ID {
		t.Errorf("pull by index digest: %v", err)
	}
	if got, err := s4.Pull(ctx, reg+"/multi/app:1", PullOptions{TLSVerify: noVerify(), Arch: "arm64"}); err != nil || got.Config.Architecture != "arm64" {
		t.Errorf("pull for arm64: %v", err)
	}
	if _, err := s4.Pull(ctx, reg+"/multi/app:1", PullOptions{TLSVerify: noVerify(), Arch: "s390x"}); !errdefs.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "linux/s390x") {
		t.Errorf("pull for a platform the index lacks: %v", err)
	}
	for _, format := range []string{FormatDockerArchive, FormatOCIArchive} {
		var buf bytes.Buffer
		if err := s.Save(&buf, []string{img.ID}, format); err != nil {
			t.Fatal(err)
		}
		s2, _ := Open(filepath.Join(t.TempDir(), "images"))
		got, err := s2.Load(&buf, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got[0].ID != img.ID || got[0].Digest != img.Digest || len(got[0].Names) != 0 {
			t.Errorf("%s: loaded %s %s %v, saved %s %s", format, got[0].ID, got[0].Digest, got[0].Names, img.ID, img.Digest)
		}
	}
}

// TestPullBearer pulls and pushes through the token flow Docker Hub and most registries use: a
// 401 names a realm, the token server checks the credentials and grants a scoped token.
func TestPullBearer(t *testing.T) {
	ctx := context.Background()
	var tokenRequests []string
	var realm string
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenRequests = append(tokenRequests, r.URL.Query().Get("service")+" "+strings.Join(r.URL.Query()["scope"], " "))
		if u, p, ok := r.BasicAuth(); !ok || u != "bob" || p != "pw" {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}`, http.StatusUnauthorized)
			return
		}
		scope := r.URL.Query().Get("scope")
		json.NewEncoder(w).Encode(map[string]string{"token": "tok " + scope})
	}))
	defer tokens.Close()
	realm = tokens.URL + "/token"
	reg := newRegistry(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			need := "pull"
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				need = "pull,push"
			}
			repo, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/blobs/")
			repo, _, _ = strings.Cut(repo, "/manifests/")
			auth := r.Header.Get("Authorization")
			if r.URL.Path != "/v2/" && auth != "Bearer tok repository:"+repo+":"+need && !(need == "pull" && auth == "Bearer tok repository:"+repo+":pull,push") {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="test.registry",scope="repository:%s:%s"`, realm, repo, need))
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			if r.URL.Path == "/v2/" && auth == "" {
				w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q,service="test.registry"`, realm))
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	s := newStore(t)
	img, err := s.Import(bytes.NewReader(gzipped(t, smallRootfs(t))), "bb", nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := reg + "/team/bb:1"
	if _, err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify(), Creds: "bob:wrong"}); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("push with wrong credentials: %v", err)
	}
	if _, err := s.Push(ctx, "bb", ref, PushOptions{TLSVerify: noVerify(), Creds: "bob:pw"}); err != nil {
		t.Fatal(err)
	}
	s2 := newStore(t)
	got, err := s2.Pull(ctx, ref, PullOptions{TLSVerify: noVerify(), Creds: "bob:pw"})
	if err != nil || got.ID != img.ID || got.Digest != img.Digest {
		t.Fatalf("pull with a token: %v", err)
	}
	if !contains(tokenRequests, "test.registry repository:team/bb:pull") || !contains(tokenRequests, "test.registry repository:team/bb:pull,push") {
		t.Errorf("token requests: %q", tokenRequests)
	}
}

// TestPullZstd pulls an OCI image whose layer is zstd-compressed (decompressed by the zstd
// program, when there is one).
func TestPullZstd(t *testing.T) {
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		t.Skip("no zstd program")
	}
	tarball := smallRootfs(t)
	cmd := exec.Command(zstd, "-q", "-c")
	cmd.Stdin = bytes.NewReader(tarball)
	layer, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	r, reg := newRegistryWith(t, nil)
	cfg, _ := json.Marshal(ConfigFile{Architecture: runtime.GOARCH, OS: "linux",
		RootFS: RootFS{Type: "layers", DiffIDs: []Hash{mustHash("sha256:" + sha256Hex(tarball))}}})
	m, _ := json.Marshal(Manifest{SchemaVersion: 2, MediaType: OCIManifestSchema1,
		Config: Descriptor{MediaType: OCIConfigJSON, Size: int64(len(cfg)), Digest: mustHash(r.PutBlob(cfg))},
		Layers: []Descriptor{{MediaType: OCILayerZStd, Size: int64(len(layer)), Digest: mustHash(r.PutBlob(layer))}}})
	r.PutManifest("z/app", "1", string(OCIManifestSchema1), m)
	s := newStore(t)
	img, err := s.Pull(context.Background(), reg+"/z/app:1", PullOptions{TLSVerify: noVerify()})
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := s.LayerDirs(img)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dirs[0], "etc/passwd")); err != nil || !strings.HasPrefix(string(b), "root:") {
		t.Errorf("unpacked zstd layer: %q %v", b, err)
	}
	// A corrupt zstd layer is refused as invalid.
	bad := append([]byte(nil), layer...)
	bad[len(bad)/2] ^= 0x55
	if _, err := s.Import(bytes.NewReader(bad), "bad", nil); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Errorf("corrupt zstd import: %v", err)
	}
}

func TestParseChallenges(t *testing.T) {
	got := parseChallenges(`Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push", Basic realm="x\"y"`)
	if len(got) != 2 || got[0].scheme != "Bearer" || got[0].params["realm"] != "https://auth.example/token" ||
		got[0].params["service"] != "reg.example" || got[0].params["scope"] != "repository:a/b:pull,push" ||
		got[1].scheme != "Basic" || got[1].params["realm"] != `x"y` {
		t.Errorf("parsed %+v", got)
	}
	if s, p := pickChallenge([]string{`Negotiate`, `Bearer realm=r`}); s != "bearer" || p["realm"] != "r" {
		t.Errorf("picked %s %v", s, p)
	}
}

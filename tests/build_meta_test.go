package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"pea/internal/image/registrytest"
)

// ociImageMeta reads, from an oci-archive `pea save` writes of ref, the manifest's annotations
// and the config's os.version and os.features.
func ociImageMeta(t *testing.T, e *Env, ref string) (annotations map[string]string, osVersion string, osFeatures []string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "img.tar")
	e.Pea("save", "--format", "oci-archive", "-o", out, ref)
	dir := t.TempDir()
	if b, err := exec.Command("tar", "-C", dir, "-xf", out).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v %s", err, b)
	}
	var index struct{ Manifests []struct{ Digest string } }
	readJSON(t, filepath.Join(dir, "index.json"), &index)
	var m struct {
		Config      struct{ Digest string }
		Annotations map[string]string
	}
	readJSON(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(index.Manifests[0].Digest, "sha256:")), &m)
	var c struct {
		OSVersion  string   `json:"os.version"`
		OSFeatures []string `json:"os.features"`
	}
	readJSON(t, filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(m.Config.Digest, "sha256:")), &c)
	return m.Annotations, c.OSVersion, c.OSFeatures
}

func readJSON(t *testing.T, p string, v any) {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
}

// getJSON fetches url (with an Accept header for OCI manifests) into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// --annotation sets the built image's manifest annotations (image inspect's Annotations, kept
// by push), --os-version and --os-feature its config's os.version and os.features (NAME-
// takes one of the base's out); the cache keeps them apart: the same build without them is
// another image, with them again the same one.
func TestBuildImageMeta(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo hi > /x\n"})
	args := []string{"build", "--network", "none", "--annotation", "org.example.a=1", "--annotation", "b=two words",
		"--os-version", "10.0.17763.1", "--os-feature", "win32k", "--os-feature", "extra", "-t", "meta", ctx}
	id := buildID(t, e.Pea(args...))
	// Besides the build's own, podman's base annotations: the FROM image's name and the
	// digest of the image the build's last step started from (here the FROM image).
	bbDigest := e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/bb")
	wantAnn := map[string]string{"org.example.a": "1", "b": "two words",
		"org.opencontainers.image.base.name": "localhost/bb:latest", "org.opencontainers.image.base.digest": bbDigest}
	var got map[string]string
	if err := json.Unmarshal([]byte(e.Pea("image", "inspect", "--format", "{{json .Annotations}}", id)), &got); err != nil || !reflect.DeepEqual(got, wantAnn) {
		t.Fatalf("image inspect Annotations: %v %v", got, err)
	}
	ann, ver, feats := ociImageMeta(t, e, "meta")
	if !reflect.DeepEqual(ann, wantAnn) || ver != "10.0.17763.1" || !reflect.DeepEqual(feats, []string{"win32k", "extra"}) {
		t.Fatalf("saved image: annotations %v, os.version %q, os.features %v", ann, ver, feats)
	}
	// Without the flags: another image, with nothing of theirs.
	plain := buildID(t, e.Pea("build", "--network", "none", "-t", "plain", ctx))
	if plain == id {
		t.Fatal("the build without --annotation gave the annotated image")
	}
	baseAnn := map[string]string{"org.opencontainers.image.base.name": "localhost/bb:latest", "org.opencontainers.image.base.digest": bbDigest}
	if got := e.Pea("image", "inspect", "--format", "{{json .Annotations}}", plain); got != `{"org.opencontainers.image.base.digest":"`+bbDigest+`","org.opencontainers.image.base.name":"localhost/bb:latest"}` {
		t.Fatalf("the plain image's annotations: %s", got)
	}
	if ann, ver, feats := ociImageMeta(t, e, "plain"); !reflect.DeepEqual(ann, baseAnn) || ver != "" || len(feats) != 0 {
		t.Fatalf("the plain image: %v %q %v", ann, ver, feats)
	}
	// The same flags again: the cached image, annotations and all.
	out := e.Pea(args...)
	if buildID(t, out) != id || !strings.Contains(out, "Using cache "+id) {
		t.Fatalf("the same annotated build again: %s", out)
	}
	// FROM the annotated image, taking a feature out: os.version stays the base's, the
	// annotations do not (they are the manifest's, not the config's).
	ctx2 := writeContext(t, filepath.Join(e.Dir, "ctx2"), map[string]string{"Containerfile": "FROM localhost/meta\nLABEL k=v\n"})
	child := buildID(t, e.Pea("build", "--os-feature", "win32k-", "--os-feature", "new", "-t", "child", ctx2))
	metaDigest := e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/meta")
	if ann, ver, feats := ociImageMeta(t, e, child); !reflect.DeepEqual(ann, map[string]string{"org.opencontainers.image.base.name": "localhost/meta:latest",
		"org.opencontainers.image.base.digest": metaDigest}) || ver != "10.0.17763.1" || !reflect.DeepEqual(feats, []string{"extra", "new"}) {
		t.Fatalf("the child image: %v %q %v", ann, ver, feats)
	}
	// A push sends the stored OCI manifest, annotations included.
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	e.Pea("push", "--tls-verify=false", "meta", reg+"/acc/meta:1")
	var m struct {
		MediaType   string
		Annotations map[string]string
	}
	getJSON(t, srv.URL+"/v2/acc/meta/manifests/1", &m)
	if m.MediaType != "application/vnd.oci.image.manifest.v1+json" || !reflect.DeepEqual(m.Annotations, wantAnn) {
		t.Fatalf("the pushed manifest: %+v", m)
	}
	e.refused(`invalid --annotation "=v"`, "build", "--annotation", "=v", ctx)
}

// --cache-ttl: a cached step stored longer ago than the TTL is run again; 0 is --no-cache
// (every step runs, no intermediate image is kept).
func TestBuildCacheTTL(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN date +%s%N > /t\nLABEL x=y\n"})
	first := buildID(t, e.Pea("build", "--network", "none", ctx))
	out := e.Pea("build", "--network", "none", "--cache-ttl", "1h", ctx)
	if buildID(t, out) != first || strings.Count(out, "Using cache") != 2 {
		t.Fatalf("--cache-ttl 1h within the hour: %s", out)
	}
	time.Sleep(1500 * time.Millisecond)
	out = e.Pea("build", "--network", "none", "--cache-ttl", "1s", ctx)
	if strings.Contains(out, "Using cache") || buildID(t, out) == first {
		t.Fatalf("--cache-ttl 1s on a cache over a second old: %s", out)
	}
	images := e.Pea("images", "-a", "-q")
	out = e.Pea("build", "--network", "none", "--cache-ttl", "0", ctx)
	if strings.Contains(out, "Using cache") {
		t.Fatalf("--cache-ttl 0 used the cache: %s", out)
	}
	// As --no-cache: only the image built is new.
	if n := len(strings.Fields(e.Pea("images", "-a", "-q"))) - len(strings.Fields(images)); n != 1 {
		t.Fatalf("--cache-ttl 0 kept %d new images, want the one built", n)
	}
	e.refused(`invalid --cache-ttl "soon"`, "build", "--cache-ttl", "soon", ctx)
}

// --runtime-flag goes to crun for RUN's container (here its log file); --cpp-flag to cpp, which
// preprocesses a Containerfile.in (#include from the context, -D macros); cpp's error fails the
// build in one line.
func TestBuildRuntimeFlagAndCpp(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile.in": "#include \"base.inc\"\nRUN echo GREETING > /msg && echo http://example.com/a > /url\n",
		"base.inc":         "FROM localhost/bb\n",
		"bad.in":           "#error no good\nFROM localhost/bb\n",
	})
	log := filepath.Join(e.Dir, "crun.log")
	id := buildID(t, e.Pea("build", "--network", "none", "--runtime-flag", "debug", "--runtime-flag", "log=file:"+log,
		"-f", filepath.Join(ctx, "Containerfile.in"), "--cpp-flag", "-DGREETING=hello", ctx))
	if fi, err := os.Stat(log); err != nil || fi.Size() == 0 {
		t.Fatalf("crun's log of RUN (--runtime-flag log=...): %v", err)
	}
	if got := e.Pea("run", "--rm", "--network", "none", id, "cat", "/msg", "/url"); got != "hello\nhttp://example.com/a" {
		t.Fatalf("the preprocessed build's files: %q", got)
	}
	e.refused("error: #error no good", "build", "-f", filepath.Join(ctx, "bad.in"), ctx)
	e.refused(`invalid --runtime-flag "-x"`, "build", "--runtime-flag=---x", ctx)
}

// --userns-uid-map-user/--userns-gid-map-group: RUN in a user namespace of the name's
// /etc/subuid and /etc/subgid ranges (the group defaults to the user's name).
func TestBuildUsernsMapUser(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN cat /proc/self/uid_map /proc/self/gid_map\n"})
	const subuid, subgid = "bob:200000:65536\n", "bob:300000:65536\nstaff:400000:65536\n"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--userns-uid-map-user", "bob", "--userns-gid-map-group", "staff"}, "0 200000 65536 0 400000 65536"},
		{[]string{"--userns-uid-map-user", "bob"}, "0 200000 65536 0 300000 65536"},
	} {
		r := e.withSubIDs(subuid, subgid, append(append([]string{"build", "--no-cache", "--network", "none"}, c.args...), ctx)...)
		if r.Code != 0 || !strings.Contains(strings.Join(strings.Fields(r.Stdout), " "), c.want) {
			t.Fatalf("build %v: want maps %q, got %s", c.args, c.want, r)
		}
	}
	r := e.withSubIDs(subuid, subgid, "build", "--userns-uid-map-user", "nobody-here", ctx)
	if r.Code != 125 || !strings.Contains(r.Stderr, "nobody-here") {
		t.Fatalf("a name without ranges: %s", r)
	}
	e.refused("cannot be combined", "build", "--userns-uid-map-user", "bob", "--userns-uid-map", "0:100000:1000", ctx)
}

// The flags pea cannot honour are refused by name, in one line, before anything is built.
func TestBuildRefusedFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN touch /x\n"})
	before := e.Pea("images", "-a", "-q")
	for _, c := range [][]string{
		{"--sign-by", "ABCDEF", "--sign-by"},
		{"--ssh", "default", "--ssh"},
		{"--decryption-key", "key.pem", "--decryption-key"},
		{"--cache-from", "quay.io/x/cache", "--cache-from"},
		{"--cache-to", "quay.io/x/cache", "--cache-to"},
		{"--all-platforms", "", "--all-platforms"},
		{"--hooks-dir", e.Dir, "--hooks-dir"},
	} {
		args := []string{"build", c[0]}
		if c[1] != "" {
			args = append(args, c[1])
		}
		e.refused(c[2], append(args, ctx)...)
		e.refused(c[2], append([]string{"image"}, append(args, ctx)...)...)
	}
	if got := e.Pea("images", "-a", "-q"); got != before {
		t.Fatalf("a refused build left images: %q (before %q)", got, before)
	}
}

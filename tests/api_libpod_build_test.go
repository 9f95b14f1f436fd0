package tests

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// podman build --remote against the libpod build endpoint: the context and a Containerfile
// from outside it shipped as podman's client ships them, its flags, the stream's last line as
// the image's ID, the layer cache, a failing RUN's exit code.
func TestLibpodBuild(t *testing.T) {
	a := newAPIEnv(t)
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(`FROM localhost/bb AS t
RUN echo stage-t > /t
FROM localhost/bb
ARG A=0
LABEL from=file
COPY data /data
RUN echo hello-$A > /a
`), 0o644)
	os.WriteFile(filepath.Join(ctx, "data"), []byte("in the context\n"), 0o644)
	imageID := func(name string) string {
		t.Helper()
		return a.Pea("image", "inspect", "--format", "{{.ID}}", name)
	}
	lastLine := func(s string) string {
		l := strings.Split(strings.TrimSpace(s), "\n")
		return l[len(l)-1]
	}

	out := a.mustPodman("build", "-t", "localhost/built", "--build-arg", "A=7", "--label", "l=v", ctx)
	if id := imageID("localhost/built"); lastLine(out) != id || !strings.Contains(out, "STEP 4/6: COPY data /data") || !strings.Contains(out, "STEP 6/6: LABEL \"l\"=\"v\"") {
		t.Fatalf("build: %q (want the steps, then the ID %s)", out, id)
	}
	if got := a.Pea("run", "--rm", "localhost/built", "cat", "/a", "/data"); got != "hello-7\nin the context" {
		t.Fatalf("the image built: %q", got)
	}
	if l := a.Pea("image", "inspect", "--format", "{{.Config.Labels}}", "localhost/built"); l != "map[from:file l:v]" {
		t.Fatalf("labels: %q", l)
	}
	// The same build again takes its steps from the cache; --no-cache and --layers=false do not.
	if out := a.mustPodman("build", "-t", "localhost/built", "--build-arg", "A=7", ctx); !strings.Contains(out, "Using cache") {
		t.Fatalf("a second build used no cache: %q", out)
	}
	for _, flag := range []string{"--no-cache", "--layers=false"} {
		if out := a.mustPodman("build", flag, "-t", "localhost/built", "--build-arg", "A=7", ctx); strings.Contains(out, "Using cache") {
			t.Fatalf("build %s used the cache: %q", flag, out)
		}
	}

	// -q prints the ID alone; --target stops at a stage.
	out = a.mustPodman("build", "-q", "--target", "t", "-t", "localhost/stage", ctx)
	if out != imageID("localhost/stage") {
		t.Fatalf("build -q: %q, want the ID alone", out)
	}
	if got := a.Pea("run", "--rm", "localhost/stage", "cat", "/t"); got != "stage-t" {
		t.Fatalf("--target t: %q", got)
	}

	// A Containerfile from outside the context comes in the context's tar under its absolute
	// path: it is built from, and is not part of what COPY sees.
	outside := filepath.Join(t.TempDir(), "Other.containerfile")
	os.WriteFile(outside, []byte("FROM localhost/bb\nCOPY . /ctx/\n"), 0o644)
	if id := a.mustPodman("build", "-q", "-f", outside, "-t", "localhost/other", ctx); id != a.Pea("image", "inspect", "-f", "{{.ID}}", "localhost/other") {
		t.Fatalf("-f outside the context: the build printed %q", id)
	}
	if got := a.Pea("run", "--rm", "localhost/other", "ls", "-A", "/ctx"); got != "Containerfile\ndata" {
		t.Fatalf("-f outside the context: the context holds %q", got)
	}

	// A secret file travels in the context too, and leaves it before the build.
	secret := filepath.Join(t.TempDir(), "token")
	os.WriteFile(secret, []byte("s3cret"), 0o600)
	sf := filepath.Join(ctx, "Secret.containerfile")
	os.WriteFile(sf, []byte("FROM localhost/bb\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /got\nCOPY . /ctx/\n"), 0o644)
	a.mustPodman("build", "-q", "-f", sf, "--secret", "id=tok,src="+secret, "-t", "localhost/secret", ctx)
	if got := a.Pea("run", "--rm", "localhost/secret", "sh", "-c", "cat /got; echo; ls -A /ctx"); got != "s3cret\nContainerfile\nSecret.containerfile\ndata" {
		t.Fatalf("--secret: %q", got)
	}

	// A failing RUN fails the build with its exit code, the step named.
	bad := filepath.Join(ctx, "Bad.containerfile")
	os.WriteFile(bad, []byte("FROM localhost/bb\nRUN echo going; exit 3\n"), 0o644)
	r := a.podmanRemote("build", "-f", bad, ctx)
	if r.Code != 3 || !strings.Contains(r.Stderr, `RUN echo going; exit 3`) || !strings.Contains(r.Stdout, "going") {
		t.Fatalf("a failing RUN: %s", r)
	}
	if r := a.podmanRemote("build", "-f", filepath.Join(ctx, "Nope"), ctx); r.Code != 125 {
		t.Fatalf("a missing Containerfile: %s", r)
	}
}

// podman push, load and import --remote.
func TestLibpodPushLoadImport(t *testing.T) {
	a := newAPIEnv(t)
	id := a.Pea("image", "inspect", "--format", "{{.ID}}", "localhost/bb")

	reg := registrytest.New()
	srv := httptest.NewServer(http.HandlerFunc(reg.ServeHTTP))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/lib/pushed:1"
	r := a.podmanRemote("push", "--tls-verify=false", "localhost/bb", ref)
	if r.Code != 0 || !strings.Contains(r.Stderr, "Copying blob") || !strings.Contains(r.Stderr, "Writing manifest") {
		t.Fatalf("push: %s", r)
	}
	if out := a.Pea("pull", "-q", "--tls-verify=false", ref); out != id {
		t.Fatalf("pull of what podman pushed: %q, want %s", out, id)
	}
	if r := a.podmanRemote("push", "-q", "--tls-verify=false", "localhost/bb", strings.TrimPrefix(srv.URL, "http://")+"/lib/quiet:1"); r.Code != 0 || strings.Contains(r.Stderr, "Copying") {
		t.Fatalf("push -q: %s", r)
	}
	if r := a.podmanRemote("push", "--tls-verify=false", "localhost/nope", ref); r.Code != 125 || !strings.Contains(r.Stderr, "nope") {
		t.Fatalf("push of a missing image: %s", r)
	}
	// --tls-verify (true) asks for TLS, which the plain HTTP registry lacks.
	if r := a.podmanRemote("push", "--tls-verify", "localhost/bb", ref); r.Code != 125 {
		t.Fatalf("push over TLS to a plain HTTP registry: %s", r)
	}

	// load: a docker-archive and an oci-archive pea saved.
	dir := t.TempDir()
	a.Pea("tag", "localhost/bb", "localhost/saved:1")
	a.Pea("save", "-o", filepath.Join(dir, "docker.tar"), "localhost/saved:1")
	a.Pea("save", "--format", "oci-archive", "-o", filepath.Join(dir, "oci.tar"), "localhost/saved:1")
	for _, f := range []string{"docker.tar", "oci.tar"} {
		a.Pea("rmi", "localhost/saved:1")
		if out := a.mustPodman("load", "-i", filepath.Join(dir, f)); !strings.Contains(out+"\n", "Loaded image: localhost/saved:1\n") {
			t.Fatalf("load %s: %q", f, out)
		}
		if got := a.Pea("image", "inspect", "--format", "{{.ID}}", "localhost/saved:1"); got != id {
			t.Fatalf("load %s: image %s, want %s", f, got, id)
		}
	}
	os.WriteFile(filepath.Join(dir, "junk.tar"), []byte("not an archive"), 0o644)
	if r := a.podmanRemote("load", "-i", filepath.Join(dir, "junk.tar")); r.Code != 125 {
		t.Fatalf("load of junk: %s", r)
	}

	// import: a root filesystem tarball, with a change and a message.
	out := a.mustPodman("import", "--change", "CMD /bin/true", "--message", "from podman", busyboxTar(t), "localhost/imported:1")
	if got := a.Pea("image", "inspect", "--format", "{{.ID}} {{.Config.Cmd}} {{.Comment}}", "localhost/imported:1"); got != out+" [/bin/sh -c /bin/true] from podman" {
		t.Fatalf("import: printed %q, the image is %q", out, got)
	}
}

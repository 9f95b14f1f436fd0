package tests

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// docker images and inspect show pea's images; filters; history; 404s.
func TestAPIImageListInspect(t *testing.T) {
	a := newAPIEnv(t)
	id := a.Pea("images", "--no-trunc", "-q") // sha256:...
	if out := a.MustDocker("images"); !strings.Contains(out, "localhost/bb") || !strings.Contains(out, "latest") || !strings.Contains(out, strings.TrimPrefix(id, "sha256:")[:12]) {
		t.Fatalf("docker images: %q", out)
	}
	if out := a.MustDocker("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); out != "localhost/bb:latest "+id {
		t.Fatalf("docker images --format: %q, want localhost/bb:latest %s", out, id)
	}
	// Filters: reference (full and short), dangling, label.
	for _, args := range [][]string{{"localhost/bb"}, {"bb"}, {"--filter", "reference=localhost/b*"}, {"--filter", "dangling=false"}} {
		if out := a.MustDocker(append([]string{"images", "-q", "--no-trunc"}, args...)...); out != id {
			t.Errorf("docker images %v: %q", args, out)
		}
	}
	for _, args := range [][]string{{"nosuch"}, {"--filter", "dangling=true"}, {"--filter", "label=a=b"}} {
		if out := a.MustDocker(append([]string{"images", "-q"}, args...)...); out != "" {
			t.Errorf("docker images %v: want nothing, got %q", args, out)
		}
	}
	var list []map[string]any
	a.RequestJSON("GET", "/v1.41/images/json", nil, 200, &list)
	if len(list) != 1 || list[0]["Id"] != id || list[0]["SharedSize"] != -1.0 || list[0]["Size"].(float64) <= 0 {
		t.Fatalf("GET /images/json: %v", list)
	}

	// Inspect, by name with slashes, as docker image inspect and the generic docker inspect.
	f := "{{.Id}}|{{index .RepoTags 0}}|{{.Os}}|{{.Architecture}}|{{.Config.Cmd}}|{{.RootFS.Type}}|{{len .RootFS.Layers}}|{{.GraphDriver.Name}}|{{.Comment}}"
	out := a.MustDocker("image", "inspect", "-f", f, "localhost/bb:latest")
	if want := id + "|localhost/bb:latest|linux|"; !strings.HasPrefix(out, want) || !strings.HasSuffix(out, "|[/bin/sh]|layers|1|overlay|imported from tarball") {
		t.Fatalf("docker image inspect: %q", out)
	}
	if out := a.MustDocker("inspect", "-f", "{{.Id}} {{index .Config.Env 0}}", "localhost/bb"); out != id+" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" {
		t.Fatalf("docker inspect IMAGE: %q", out)
	}
	var insp map[string]any
	a.RequestJSON("GET", "/v1.41/images/localhost/bb:latest/json", nil, 200, &insp)
	if insp["Id"] != id || insp["Created"] == "" || insp["Metadata"] == nil {
		t.Fatalf("GET /images/NAME/json: %v", insp)
	}
	if d := insp["GraphDriver"].(map[string]any)["Data"].(map[string]any); d["UpperDir"] == nil {
		t.Fatalf("GraphDriver.Data: %v", d)
	}
	r := a.Docker("image", "inspect", "localhost/nosuch")
	if r.Code == 0 || !strings.Contains(r.Stderr, "No such image") {
		t.Fatalf("inspect of a missing image: %s", r)
	}

	// History: newest first, the image itself on top.
	if out := a.MustDocker("history", "--no-trunc", "--format", "{{.ID}}|{{.Comment}}", "localhost/bb"); out != id+"|imported from tarball" {
		t.Fatalf("docker history: %q", out)
	}
	var hist []map[string]any
	a.RequestJSON("GET", "/images/localhost/bb/history", nil, 200, &hist)
	if len(hist) != 1 || hist[0]["Id"] != id || hist[0]["Size"].(float64) <= 0 {
		t.Fatalf("GET /images/NAME/history: %v", hist)
	}

	// Docker's 404 for what is not there.
	for _, req := range [][2]string{{"GET", "/images/nosuch/json"}, {"GET", "/v1.41/images/localhost/nosuch:1/json"}, {"GET", "/images/nosuch/history"},
		{"DELETE", "/images/nosuch"}, {"POST", "/images/nosuch/tag?repo=x&tag=y"}, {"GET", "/images/nosuch/get"}} {
		code, body := a.Request(req[0], req[1], nil)
		if code != 404 || !strings.Contains(string(body), `"message":"No such image: `) {
			t.Errorf("%s %s: %d %s", req[0], req[1], code, body)
		}
	}
	// A search needs a term; one at a registry that does not answer (loopback: no traffic
	// leaves the machine) is the registry's error. (TestLibpodInitUpdateTreeSearch searches a
	// registry that answers.)
	if code, body := a.Request("GET", "/images/search", nil); code != 400 {
		t.Errorf("search without a term: %d %s", code, body)
	}
	if code, body := a.Request("GET", "/images/search?term=127.0.0.1:1/bb", nil); code < 500 {
		t.Errorf("search of a registry that does not answer: %d %s", code, body)
	}
}

// docker tag and rmi: untag versus delete, images in use, images with several names.
func TestAPIImageTagRmi(t *testing.T) {
	a := newAPIEnv(t)
	id := a.Pea("images", "--no-trunc", "-q")
	a.MustDocker("tag", "localhost/bb", "localhost/bb2:v1")
	if out := a.Pea("images", "--format", "{{.Repository}}:{{.Tag}}", "--sort", "repository"); out != "localhost/bb:latest\nlocalhost/bb2:v1" {
		t.Fatalf("after tag: %q", out)
	}
	r := a.Docker("tag", "localhost/nosuch", "x:y")
	if r.Code == 0 || !strings.Contains(r.Stderr, "No such image") {
		t.Fatalf("tag of a missing image: %s", r)
	}
	// By ID, an image with two names needs force.
	r = a.Docker("rmi", strings.TrimPrefix(id, "sha256:")[:12])
	if r.Code == 0 || !strings.Contains(r.Stderr, "must be forced") {
		t.Fatalf("rmi by ID of an image with two names: %s", r)
	}
	// One of two names: only untagged.
	if out := a.MustDocker("rmi", "localhost/bb2:v1"); out != "Untagged: localhost/bb2:v1" {
		t.Fatalf("rmi of one name: %q", out)
	}
	a.Pea("image", "exists", "localhost/bb")

	// In use by a container: refused, the image stays; forced, untagged and kept for it.
	a.MustDocker("create", "--name", "user", "--network", "none", "localhost/bb", "true")
	r = a.Docker("rmi", "localhost/bb")
	if r.Code == 0 || !strings.Contains(r.Stderr, "conflict") || !strings.Contains(r.Stderr, "container") {
		t.Fatalf("rmi of an image in use: %s", r)
	}
	code, body := a.Request("DELETE", "/v1.41/images/localhost/bb:latest", nil)
	if code != 409 {
		t.Fatalf("DELETE of an image in use: %d %s", code, body)
	}
	a.Pea("image", "exists", "localhost/bb")
	a.MustDocker("tag", "localhost/bb", "localhost/other:1")
	if out := a.MustDocker("rmi", "-f", strings.TrimPrefix(id, "sha256:")); !strings.Contains(out, "Untagged: localhost/bb:latest") || !strings.Contains(out, "Untagged: localhost/other:1") || strings.Contains(out, "Deleted") {
		t.Fatalf("rmi -f of an image in use: %q", out)
	}
	if out := a.Pea("images", "-q", "--no-trunc", "--filter", "dangling=true"); out != id {
		t.Fatalf("the image used by a container must stay: %q", out)
	}
	if out := a.MustDocker("inspect", "-f", "{{.State.Status}}", "user"); out != "created" {
		t.Fatalf("the container must stay: %q", out)
	}

	// Unused: deleted.
	a.MustDocker("rm", "user")
	a.MustDocker("tag", strings.TrimPrefix(id, "sha256:"), "localhost/bb:latest")
	out := a.MustDocker("rmi", "localhost/bb")
	if out != "Untagged: localhost/bb:latest\nDeleted: "+id {
		t.Fatalf("rmi: %q", out)
	}
	if out := a.Pea("images", "-qa"); out != "" {
		t.Fatalf("images left: %q", out)
	}
	r = a.Docker("rmi", "localhost/bb")
	if r.Code == 0 || !strings.Contains(r.Stderr, "No such image") {
		t.Fatalf("rmi of a missing image: %s", r)
	}
}

// docker save | docker load, docker import, docker image prune.
func TestAPIImageSaveLoadImport(t *testing.T) {
	a := newAPIEnv(t)
	id := a.Pea("images", "--no-trunc", "-q")
	tarPath := filepath.Join(t.TempDir(), "bb.tar")
	a.MustDocker("save", "-o", tarPath, "localhost/bb")
	// The archive is a docker-archive naming the image.
	names := tarNames(t, tarPath)
	if !names["manifest.json"] || !names[strings.TrimPrefix(id, "sha256:")+".json"] {
		t.Fatalf("docker save wrote %v", names)
	}
	// The single-image endpoint gives the same archive.
	code, body := a.Request("GET", "/v1.41/images/localhost/bb:latest/get", nil)
	if code != 200 || !bytes.Contains(body, []byte(`"RepoTags":["localhost/bb:latest"]`)) {
		t.Fatalf("GET /images/NAME/get: %d, %d bytes", code, len(body))
	}
	a.MustDocker("rmi", "localhost/bb")
	if out := a.MustDocker("load", "-i", tarPath); out != "Loaded image: localhost/bb:latest" {
		t.Fatalf("docker load: %q", out)
	}
	if out := a.MustDocker("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); out != "localhost/bb:latest "+id {
		t.Fatalf("images after load: %q", out)
	}
	code, body = a.Request("POST", "/images/load", "not a tarball")
	if code < 400 {
		t.Fatalf("load of garbage: %d %s", code, body)
	}

	// Import: a root filesystem tarball becomes an image, with a message and a change.
	imp := tinyTar(t, "hello from import")
	out := a.MustDocker("import", "-m", "my import", "-c", `CMD ["/bin/cat", "/etc/hello"]`, imp, "localhost/imp:v1")
	if !strings.HasPrefix(out, "sha256:") || len(out) != 71 {
		t.Fatalf("docker import printed %q", out)
	}
	if got := a.Pea("images", "--no-trunc", "-q", "localhost/imp:v1"); got != out {
		t.Fatalf("imported image: pea sees %q, docker said %q", got, out)
	}
	if got := a.MustDocker("image", "inspect", "-f", "{{.Comment}} {{.Config.Cmd}}", "localhost/imp:v1"); got != "my import [/bin/cat /etc/hello]" {
		t.Fatalf("imported image's config: %q", got)
	}
	// From stdin, without a name: a dangling image, which prune removes.
	data, err := os.ReadFile(tinyTar(t, "dangling"))
	if err != nil {
		t.Fatal(err)
	}
	dangling := strings.TrimSpace(a.DockerIn(string(data), "import", "-").Stdout)
	if !strings.HasPrefix(dangling, "sha256:") {
		t.Fatalf("docker import -: %q", dangling)
	}
	if got := a.MustDocker("images", "-q", "--no-trunc", "--filter", "dangling=true"); got != dangling {
		t.Fatalf("dangling images: %q", got)
	}
	if out := a.MustDocker("image", "prune", "-f"); !strings.Contains(out, dangling) {
		t.Fatalf("docker image prune: %q", out)
	}
	if got := a.Pea("images", "-qa", "--no-trunc", "--sort", "repository"); strings.Contains(got, dangling) || !strings.Contains(got, id) {
		t.Fatalf("after prune: %q", got)
	}
	// prune -a removes every unused image.
	out = a.MustDocker("image", "prune", "-a", "-f")
	if !strings.Contains(out, id) || !strings.Contains(strings.ToLower(out), "untagged: localhost/imp:v1") {
		t.Fatalf("docker image prune -a: %q", out)
	}
	if got := a.Pea("images", "-qa"); got != "" {
		t.Fatalf("after prune -a: %q", got)
	}
}

func tarNames(t *testing.T, p string) map[string]bool {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		names[h.Name] = true
	}
}

// docker push and docker pull against a registry on loopback (plain HTTP, as Docker allows
// there), with the credentials the client sends in X-Registry-Auth.
func TestAPIImagePushPull(t *testing.T) {
	a := newAPIEnv(t)
	reg := registrytest.New()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://") // 127.0.0.1:PORT
	ref := host + "/acc/bb:1"
	id := a.Pea("images", "--no-trunc", "-q")
	a.MustDocker("tag", "localhost/bb", ref)

	// Without credentials the registry refuses: the error comes through the stream.
	r := a.Docker("push", ref)
	if r.Code == 0 {
		t.Fatalf("push without credentials: %s", r)
	}
	// The client sends the credentials of its config file.
	cfg := map[string]any{"auths": map[string]any{host: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))}}}
	js, _ := json.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(a.config, "config.json"), js, 0o600); err != nil {
		t.Fatal(err)
	}
	out := a.MustDocker("push", ref)
	if !strings.Contains(out, "The push refers to repository ["+host+"/acc/bb]") || !strings.Contains(out, "Pushed") || !strings.Contains(out, "1: digest: sha256:") {
		t.Fatalf("docker push: %q", out)
	}
	// Pull into a store without the image or its layer.
	a.MustDocker("rmi", ref)
	a.MustDocker("rmi", "localhost/bb")
	out = a.MustDocker("pull", ref)
	if !strings.Contains(out, "1: Pulling from acc/bb") || !strings.Contains(out, "Pull complete") || !strings.Contains(out, "Status: Downloaded newer image for "+ref) {
		t.Fatalf("docker pull: %q", out)
	}
	if got := a.Pea("images", "--no-trunc", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); got != ref+" "+strings.TrimPrefix(id, "sha256:") && got != ref+" "+id {
		t.Fatalf("images after pull: %q (want %s %s)", got, ref, id)
	}
	if out := a.MustDocker("pull", ref); !strings.Contains(out, "Status: Image is up to date for "+ref) {
		t.Fatalf("second pull: %q", out)
	}
	// The pulled image runs.
	if out := a.MustDocker("run", "--rm", "--network", "none", ref, "echo", "pulled"); out != "pulled" {
		t.Fatalf("run of the pulled image: %q", out)
	}
	// Failures: an unknown image, a registry that is not there, an image not held locally.
	r = a.Docker("pull", host+"/acc/nosuch:1")
	if r.Code == 0 || !strings.Contains(r.Stderr, "nosuch") {
		t.Fatalf("pull of an unknown image: %s", r)
	}
	// A raw pull, with the credentials in X-Registry-Auth (base64url JSON): an unknown image is
	// a 404 before any stream; a known one streams Docker's messages.
	auth := base64.URLEncoding.EncodeToString([]byte(`{"username":"alice","password":"s3cret","serveraddress":"` + host + `"}`))
	pull := func(name string) (int, string) {
		req, _ := http.NewRequest("POST", "http://pea/v1.41/images/create?fromImage="+name+"&tag=1", nil)
		req.Header.Set("X-Registry-Auth", auth)
		resp, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := pull(host + "/acc/nosuch"); code != 404 || !strings.Contains(body, `"message"`) {
		t.Fatalf("POST /images/create of an unknown image: %d %s", code, body)
	}
	if code, body := pull(host + "/acc/bb"); code != 200 || !strings.Contains(body, `{"status":"Pulling from acc/bb","progressDetail":{},"id":"1"}`) || !strings.Contains(body, `"status":"Status: Image is up to date for `+ref+`"`) {
		t.Fatalf("POST /images/create: %d %s", code, body)
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	deadHost := strings.TrimPrefix(dead.URL, "http://")
	dead.Close()
	a.MustDocker("tag", ref, deadHost+"/acc/bb:1")
	if r := a.Docker("push", deadHost+"/acc/bb:1"); r.Code == 0 || !strings.Contains(r.Stderr+r.Stdout, "refused") {
		t.Fatalf("push to a registry that is not there: %s", r)
	}
	if r := a.Docker("push", host+"/acc/notlocal:1"); r.Code == 0 || !strings.Contains(r.Stderr, "does not exist locally") {
		t.Fatalf("push of an image not held: %s", r)
	}
}

// docker build through the API (the legacy builder's POST /build): the context as a tar, build
// args, the steps streamed, the image tagged and runnable; -q prints the ID alone; a failing
// RUN fails the build with its exit code.
func TestAPIBuild(t *testing.T) {
	a := newAPIEnv(t)
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{
		"msg.txt":        "from-context\n",
		"Dockerfile":     "FROM localhost/bb\nARG X=1\nCOPY msg.txt /msg.txt\nRUN echo built-$X > /f\nCMD [\"sh\", \"-c\", \"cat /msg.txt /f\"]\n",
		"bad/Dockerfile": "FROM localhost/bb\nRUN echo failing; exit 3\n",
	})
	out := a.MustDocker("build", "-t", "localhost/dk:1", "--build-arg", "X=7", ctx)
	if !strings.Contains(out, "STEP 4/5: RUN echo built-$X > /f") || !strings.Contains(out, "Successfully tagged localhost/dk:1") {
		t.Fatalf("docker build: %q", out)
	}
	if got := a.MustDocker("run", "--rm", "--network", "none", "localhost/dk:1"); got != "from-context\nbuilt-7" {
		t.Fatalf("run of the built image: %q", got)
	}
	id := a.MustDocker("build", "-q", ctx)
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("docker build -q: %q", id)
	}
	r := a.Docker("build", "-f", filepath.Join(ctx, "bad", "Dockerfile"), ctx)
	if r.Code != 3 || !strings.Contains(r.Stdout+r.Stderr, "the command exited with 3") {
		t.Fatalf("a failing build: %v", r)
	}
}

// docker build --target and --label through the API: the build stops at the stage (the later
// stage's RUN never runs) and the image carries the labels; --add-host and --network reach RUN.
func TestAPIBuildTargetLabels(t *testing.T) {
	a := newAPIEnv(t)
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{
		"Dockerfile": "FROM localhost/bb AS first\nRUN echo first-ran > /first; grep myhost /etc/hosts\nFROM first\nRUN echo second-ran > /second\n",
	})
	out := a.MustDocker("build", "--target", "first", "--label", "org.example.k=v1", "--label", "other=2", "-t", "localhost/tg:1",
		"--network", "none", "--add-host", "myhost:10.4.5.6", ctx)
	if !strings.Contains(out, "first-ran") || strings.Contains(out, "second-ran") || !strings.Contains(out, "10.4.5.6\tmyhost") {
		t.Fatalf("docker build --target: %q", out)
	}
	if got := a.MustDocker("image", "inspect", "--format", "{{.Config.Labels}}", "localhost/tg:1"); got != "map[org.example.k:v1 other:2]" {
		t.Fatalf("labels: %q", got)
	}
	if got := a.MustDocker("run", "--rm", "--network", "none", "localhost/tg:1", "sh", "-c", "cat /first; test -e /second || echo no-second"); got != "first-ran\nno-second" {
		t.Fatalf("run of the target stage: %q", got)
	}
	if r := a.Docker("build", "--target", "nosuch", ctx); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, `target stage "nosuch" not found`) {
		t.Fatalf("docker build of an unknown target: %v", r)
	}
}

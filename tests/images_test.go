package tests

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pea/internal/image/registrytest"
)

// tinyTar is a one-file root filesystem; each call with a different body gives a different layer.
func tinyTar(t *testing.T, body string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "etc/hello", Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write([]byte(body))
	tw.Close()
	p := filepath.Join(t.TempDir(), "tiny.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// storeListing lists the files under the image store's blobs, layers and tmp directories.
func (e *Env) storeListing() []string {
	var out []string
	for _, d := range []string{"blobs", "layers", "tmp"} {
		root := filepath.Join(e.Root, "images", d)
		filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
			if err == nil && p != root && !strings.Contains(p, "/diff/") && !(fi.IsDir() && fi.Name() == "sha256") {
				out = append(out, strings.TrimPrefix(p, e.Root))
			}
			return nil
		})
	}
	sort.Strings(out)
	return out
}

func TestImageImportChange(t *testing.T) {
	e := newEnv(t)
	id := e.Pea("import", "-c", `CMD ["/bin/echo", "hi"]`, "--change", "ENV FOO=bar", "-c", "WORKDIR /srv",
		"-c", "LABEL team=pea", "-c", "EXPOSE 8080", "-m", "my import", busyboxTar(t), "imp:v1")
	id, ok := strings.CutPrefix(id, "sha256:") // podman prints the ID so
	if len(id) != 64 || !ok {
		t.Fatalf("import printed %q, want sha256: and a 64-digit ID", id)
	}
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); got != "localhost/imp:v1 "+id[:12] {
		t.Errorf("images: %q", got)
	}
	got := e.Pea("image", "inspect", "--format", "{{.Config.Cmd}}|{{json .Config.Env}}|{{.Config.WorkingDir}}|{{.Labels.team}}|{{.Comment}}|{{.ID}}", "imp:v1")
	want := `[/bin/echo hi]|["FOO=bar"]|/srv|pea|my import|` + id
	if got != want {
		t.Errorf("inspect: %q, want %q", got, want)
	}
	if got := e.Pea("images", "--filter", "label=team=pea", "-q"); got != id[:12] {
		t.Errorf("label filter: %q", got)
	}
	if got := e.Pea("images", "--filter", "reference=imp", "--format", "{{.Tag}}"); got != "v1" {
		t.Errorf("reference filter: %q", got)
	}
	// From stdin, untagged: a <none> row and a dangling image.
	data, _ := os.ReadFile(tinyTar(t, "x"))
	r := e.run(data, "import", "-")
	if r.Code != 0 {
		t.Fatal(r)
	}
	dangling := strings.TrimPrefix(strings.TrimSpace(r.Stdout), "sha256:")
	if got := e.Pea("images", "--filter", "dangling=true", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"); got != "<none> <none> "+dangling[:12] {
		t.Errorf("dangling: %q", got)
	}
	if got := e.Pea("image", "prune", "-f"); got != dangling {
		t.Errorf("prune printed %q", got)
	}
	e.Pea("image", "exists", "imp:v1")
	e.Fails(1, "image", "exists", dangling)
	// A bad --change is refused before anything is stored.
	r = e.Fails(125, "import", "-c", "FROB x", busyboxTar(t), "bad")
	if !strings.Contains(r.Stderr, "invalid change") {
		t.Errorf("bad change: %s", r)
	}
}

func TestImageSaveLoad(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("images", "--no-trunc", "-q")
	digest := e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/bb:latest")
	for _, format := range []string{"docker-archive", "oci-archive"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(e.Dir, format+".tar")
			e.Pea("save", "--format", format, "-o", out, "localhost/bb:latest")
			if got := e.Pea("rmi", "localhost/bb:latest"); !strings.Contains(got, "Untagged: localhost/bb:latest") || !strings.Contains(got, "Deleted: "+strings.TrimPrefix(id, "sha256:")) {
				t.Errorf("rmi printed %q", got)
			}
			if left := e.storeListing(); len(left) != 0 {
				t.Errorf("rmi left %v", left)
			}
			if got := e.Pea("load", "-i", out); got != "Loaded image: localhost/bb:latest" {
				t.Errorf("load printed %q", got)
			}
			if got := e.Pea("images", "--no-trunc", "-q"); got != id {
				t.Errorf("ID after load %q, want %q", got, id)
			}
			if got := e.Pea("image", "inspect", "--format", "{{.Digest}}", "bb"); got != digest {
				t.Errorf("digest after load %q, want %q", got, digest)
			}
		})
	}
	// Load from stdin.
	data, err := os.ReadFile(filepath.Join(e.Dir, "docker-archive.tar"))
	if err != nil {
		t.Fatal(err)
	}
	e.Pea("rmi", "bb")
	if r := e.run(data, "load"); r.Code != 0 || !strings.Contains(r.Stdout, "Loaded image: localhost/bb:latest") {
		t.Fatalf("load from stdin: %s", r)
	}
}

func TestImagePushPull(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	ref := reg + "/acc/bb:1"
	id := e.Pea("images", "--no-trunc", "-q")
	e.Pea("tag", "localhost/bb:latest", ref)
	r := e.Fails(125, "push", ref)
	if !strings.Contains(r.Stderr, "tls-verify") {
		t.Errorf("push over plain HTTP without --tls-verify=false: %s", r)
	}
	e.Pea("push", "--tls-verify=false", ref)
	e.Pea("rmi", ref) // only untags: bb keeps the image
	e.Pea("rmi", "localhost/bb:latest")
	if got := e.Pea("pull", "-q", "--tls-verify=false", ref); "sha256:"+got != id {
		t.Errorf("pull printed %q, want the ID %s", got, id)
	}
	e.Pea("image", "exists", ref)
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); got != ref {
		t.Errorf("images after pull: %q", got)
	}
	// Push to another name, by the DESTINATION argument.
	e.Pea("push", "--tls-verify=false", ref, reg+"/other/bb:2")
	r = e.Fails(125, "pull", "--tls-verify=false", reg+"/acc/nosuch:1")
	if !strings.Contains(r.Stderr, "nosuch") {
		t.Errorf("pull of an unknown image: %s", r)
	}
	r = e.Fails(125, "pull", "-q", "--tls-verify=false", reg+"/other/bb:2", "--creds", "nocolon")
	if !strings.Contains(r.Stderr, "USERNAME:PASSWORD") {
		t.Errorf("bad --creds: %s", r)
	}
}

// pull --all-tags pulls every tag the registry lists for the repository (a tag given is
// ignored, as podman 4.3's), printing each image's ID in the registry's order; a repository
// the registry does not know fails.
func TestPullAllTags(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	repo := strings.TrimPrefix(srv.URL, "http://") + "/acc/every"
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo two > /v\n"})
	two := buildID(t, e.Pea("build", "--network", "none", "-t", repo+":2", ctx))
	bb := e.Pea("image", "inspect", "--format", "{{.ID}}", "localhost/bb")
	e.Pea("tag", "localhost/bb", repo+":1")
	for _, tag := range []string{"1", "2"} {
		e.Pea("push", "-q", "--tls-verify=false", repo+":"+tag)
		e.Pea("rmi", repo+":"+tag)
	}
	if got := e.Pea("pull", "-q", "--all-tags", "--tls-verify=false", repo+":2"); got != bb+"\n"+two {
		t.Fatalf("pull --all-tags printed %q, want %s then %s", got, bb, two)
	}
	if got := e.Pea("images", "--format", "{{.Tag}} {{.ID}}", "--filter", "reference="+repo); got != "2 "+two[:12]+"\n1 "+bb[:12] {
		t.Fatalf("images after pull --all-tags:\n%s", got)
	}
	if r := e.Fails(125, "pull", "-a", "--tls-verify=false", repo+"-nosuch"); !strings.Contains(r.Stderr, "listing the tags of") {
		t.Fatalf("pull -a of an unknown repository: %s", r)
	}
}

func TestImageCorruptTarball(t *testing.T) {
	e := newEnv(t).withBusybox()
	out := filepath.Join(e.Dir, "saved.tar")
	e.Pea("save", "-o", out, "bb")
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	before, beforeFiles := e.Pea("images", "-q"), e.storeListing()
	for name, bad := range map[string][]byte{
		"head -c 5000": data[:5000],
		"half":         data[:len(data)/2],
		"garbage":      bytes.Repeat([]byte("junk"), 3000),
	} {
		p := filepath.Join(e.Dir, "bad.tar")
		os.WriteFile(p, bad, 0o644)
		for _, args := range [][]string{{"load", "-i", p}, {"import", p, "bad:" + strings.ReplaceAll(name, " ", "")}} {
			r := e.Fails(125, args...)
			if !strings.HasPrefix(r.Stderr, "Error: ") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
				t.Errorf("%s %s: want one error line, got %q", args[0], name, r.Stderr)
			}
		}
		if got := e.Pea("images", "-q"); got != before {
			t.Errorf("%s: images changed: %q", name, got)
		}
		if got := e.storeListing(); !reflect.DeepEqual(got, beforeFiles) {
			t.Errorf("%s: store files changed:\nbefore %v\nafter  %v", name, beforeFiles, got)
		}
	}
}

func TestImageErrors(t *testing.T) {
	e := newEnv(t)
	r := e.Fails(125, "image", "inspect", "nosuch/img:1")
	if !strings.Contains(r.Stderr, "Error: nosuch/img:1: image not known") {
		t.Errorf("unknown image: %s", r)
	}
	e.Fails(1, "rmi", "nosuch")
	e.Pea("rmi", "-i", "nosuch")
	e.Fails(125, "tag", "nosuch", "x")
	r = e.Fails(125, "pull", "Bad:Ref")
	if !strings.Contains(r.Stderr, "invalid reference format") {
		t.Errorf("invalid reference: %s", r)
	}
	// Import images until two IDs share a first digit; that prefix is ambiguous.
	seen := map[byte]string{}
	var prefix string
	for i := 0; i < 17 && prefix == ""; i++ {
		id := strings.TrimPrefix(e.Pea("import", tinyTar(t, fmt.Sprint(i))), "sha256:")
		if _, ok := seen[id[0]]; ok {
			prefix = id[:1]
		}
		seen[id[0]] = id
	}
	r = e.Fails(125, "image", "inspect", prefix)
	if !strings.Contains(r.Stderr, "ambiguous") && !strings.Contains(r.Stderr, "matches") {
		t.Errorf("ambiguous prefix: %s", r)
	}
	e.Pea("image", "inspect", seen[prefix[0]][:12])
}

func TestImageRmiNamesAndInUse(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := strings.TrimPrefix(e.Pea("images", "--no-trunc", "-q"), "sha256:")
	e.Pea("tag", "bb", "second:1", "quay.io/x/third")
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); got != "localhost/bb:latest\nlocalhost/second:1\nquay.io/x/third:latest" {
		t.Errorf("names: %q", got)
	}
	if got := e.Pea("rmi", "second:1"); got != "Untagged: localhost/second:1" {
		t.Errorf("rmi of one of several names: %q", got)
	}
	r := e.Fails(2, "rmi", id[:12])
	if !strings.Contains(r.Stderr, "more than one tag") {
		t.Errorf("rmi by ID with several names: %s", r)
	}
	e.Pea("untag", "bb", "quay.io/x/third")
	// A container using the image blocks rmi (when containers can be created here).
	if c := e.Try("create", "--name", "user", "bb", "true"); c.Code == 0 {
		r = e.Fails(2, "rmi", "bb")
		if !strings.Contains(r.Stderr, "image is in use by a container") {
			t.Errorf("rmi of an image in use: %s", r)
		}
		if got := e.Pea("images", "--format", "{{.Containers}}"); got != "1" {
			t.Errorf("containers count: %q", got)
		}
		e.Pea("rmi", "-f", "bb")
		e.Fails(1, "container", "exists", "user")
	} else {
		t.Logf("container create unavailable (%s): in-use case skipped", c)
		e.Pea("rmi", "bb")
	}
	if got := e.Pea("images", "-q"); got != "" {
		t.Errorf("images left: %q", got)
	}
	if left := e.storeListing(); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
}

// pea talks to registries and fetches URLs through its registry helper (<pea>-registry, see
// internal/image/helper.go): an implicit pull by run, an import from a URL (and its failure),
// pull's progress, and a clear error where the helper is missing.
func TestRegistryHelper(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/helper/bb:1"
	e.Pea("push", "--tls-verify=false", "localhost/bb:latest", ref)

	// create and run take pull's registry flags for the pull they may do: a plain HTTP
	// registry needs --tls-verify=false, and -q silences the progress.
	ref2 := strings.TrimPrefix(srv.URL, "http://") + "/helper/bb:2"
	e.Pea("push", "--tls-verify=false", "localhost/bb:latest", ref2)
	r := e.Fails(125, "create", ref2, "true")
	if !strings.Contains(r.Stderr, "tls-verify") {
		t.Errorf("create of an image on a plain HTTP registry without --tls-verify=false: %s", r)
	}
	r = e.run(nil, "run", "--rm", "-q", "--tls-verify=false", "--network", "none", ref2, "echo", "quiet")
	if r.Code != 0 || r.Stdout != "quiet\n" || r.Stderr != "" {
		t.Fatalf("run -q --tls-verify=false: %s", r)
	}
	r = e.Fails(125, "run", "--rm", "--creds", "nocolon", "--tls-verify=false", strings.TrimPrefix(srv.URL, "http://")+"/helper/bb:3", "true")
	if !strings.Contains(r.Stderr, "USERNAME:PASSWORD") {
		t.Errorf("run with a bad --creds: %s", r)
	}

	// run pulls what it does not have, with the helper's progress on stderr. The registry is
	// plain HTTP: registries.conf, which the helper reads too, says so.
	conf := filepath.Join(t.TempDir(), "registries.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", strings.TrimPrefix(srv.URL, "http://"))), 0o644)
	t.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
	r = e.run(nil, "run", "--rm", "--network", "none", ref, "echo", "pulled & ran")
	if r.Code != 0 || r.Stdout != "pulled & ran\n" || !strings.Contains(r.Stderr, "Copying blob") {
		t.Fatalf("run of an image to pull: %s", r)
	}
	e.Pea("image", "exists", ref)
	r = e.Fails(125, "pull", "--tls-verify=false", strings.TrimPrefix(srv.URL, "http://")+"/helper/nosuch:1")
	if !strings.Contains(r.Stderr, "nosuch") || !strings.Contains(r.Stderr, "not found") || strings.Count(r.Stderr, "Error: ") != 1 {
		t.Errorf("pull of an unknown image: want one error line, got %s", r)
	}

	// import from a URL: the body streams through the helper; a 404 is an error, not an image.
	tarball := tinyTar(t, "from a URL")
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/rootfs.tar" {
			http.NotFound(w, req)
			return
		}
		http.ServeFile(w, req, tarball)
	}))
	defer files.Close()
	id := e.Pea("import", files.URL+"/rootfs.tar", "localhost/fromurl:1")
	if got := e.Pea("images", "-q", "--no-trunc", "localhost/fromurl:1"); !strings.HasSuffix(got, id) {
		t.Errorf("imported %q, images shows %q", id, got)
	}
	before := e.Pea("images", "-q")
	r = e.Fails(125, "import", files.URL+"/missing.tar", "localhost/missing:1")
	if !strings.Contains(r.Stderr, "404") {
		t.Errorf("import of a missing URL: %s", r)
	}
	if got := e.Pea("images", "-q"); got != before {
		t.Errorf("a failed import changed the images: %q -> %q", before, got)
	}

	// pea without its helper says what is missing, and does nothing.
	alone := filepath.Join(t.TempDir(), "pea")
	data, err := os.ReadFile(peaBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(alone, "--root", e.Root, "--runroot", e.RunRoot, "pull", "--tls-verify=false", ref).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 125 || !strings.Contains(string(out), "pea-registry") {
		t.Errorf("pull without the helper: %v: %s", err, out)
	}
}

// commit makes an image of a container's changes: new and changed files, removed ones
// (whiteouts), a directory replaced whole (opaque), links; the container's command becomes the
// image's unless --change says otherwise; a user namespace's files keep their IDs inside.
func TestCommit(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "c", "--network", "none", "-e", "FROM_RUN=1", "localhost/bb", "sh", "-c",
		"echo hello > /hello && rm /bin/ls && rm -rf /var/www && mkdir -p /var/www && echo new > /var/www/only && ln -s /hello /link")
	id := e.Pea("commit", "-m", "the message", "-a", "someone", "-c", `CMD ["cat", "/hello"]`, "c", "localhost/committed:1")
	if len(id) != 64 {
		t.Fatalf("commit printed %q, want the image ID", id)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/committed:1"); out != "hello" {
		t.Fatalf("the committed CMD: %q", out)
	}
	out := e.Pea("run", "--rm", "--network", "none", "localhost/committed:1", "sh", "-c",
		"test -e /bin/ls && echo ls-still-there; ls /var/www; readlink /link; echo $FROM_RUN")
	if out != "only\n/hello\n1" {
		t.Fatalf("the committed files: %q", out)
	}
	// inspect's Comment is the first history entry's, as podman's; the message is the commit's
	// own history entry.
	if out := e.Pea("image", "inspect", "--format", "{{.Author}}|{{.Comment}}|{{len .RootFS.Layers}}", "localhost/committed:1"); out != "someone|imported from tarball|2" {
		t.Fatalf("image inspect: %q", out)
	}
	if out := e.Pea("history", "--format", "{{.Comment}}", "localhost/committed:1"); !strings.HasPrefix(out, "the message\n") {
		t.Fatalf("the commit's history entry: %q", out)
	}
	// --squash: one layer, the whole tree (deletions applied, not whited out); --iidfile;
	// --include-volumes.
	iid := filepath.Join(e.Dir, "iid")
	e.Pea("run", "--name", "v", "--network", "none", "-v", "/data", "-v", "named:/named", "localhost/bb", "true")
	sq := e.Pea("commit", "--squash", "--include-volumes", "--iidfile", iid, "c", "localhost/squashed")
	if b, err := os.ReadFile(iid); err != nil || string(b) != sq {
		t.Fatalf("--iidfile: %q %v, printed %q", b, err, sq)
	}
	if out := e.Pea("image", "inspect", "--format", "{{len .RootFS.Layers}} {{len .Config.Volumes}}", "localhost/squashed"); out != "1 0" {
		t.Fatalf("squashed image: %q", out)
	}
	out = e.Pea("run", "--rm", "--network", "none", "localhost/squashed", "sh", "-c",
		"test -e /bin/ls && echo ls-still-there; ls /var/www; readlink /link; cat /hello")
	if out != "only\n/hello\nhello" {
		t.Fatalf("the squashed image's files: %q", out)
	}
	e.Pea("commit", "--include-volumes", "v", "localhost/withvols")
	if out := e.Pea("image", "inspect", "--format", "{{range $k, $v := .Config.Volumes}}{{$k}} {{end}}", "localhost/withvols"); out != "/data /named" {
		t.Fatalf("--include-volumes: %q", out)
	}
	// Bad input: one line, no image.
	before := e.Pea("images", "-q")
	e.Fails(125, "commit", "-c", "BOGUS x", "c", "localhost/bad")
	e.Fails(125, "commit", "nosuch")
	e.Pea("pod", "create", "--name", "p")
	e.Fails(125, "commit", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p"))
	if after := e.Pea("images", "-q"); after != before {
		t.Fatalf("refused commits left images: %q, before %q", after, before)
	}
	// A container in a user namespace: its files' host IDs are stored as its own.
	e.withUserNS()
	e.Pea("run", "--name", "u", "--network", "none", "--uidmap", "0:100000:65536", "localhost/bb", "sh", "-c", "echo u > /u && chown 1000:1000 /u")
	e.Pea("commit", "u", "localhost/ucommit")
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/ucommit", "stat", "-c", "%u:%g", "/u"); out != "1000:1000" {
		t.Fatalf("a user namespace's file in the committed image: %q", out)
	}
}

// diff lists what a container changed, as podman's: A added, C changed, D deleted, by path;
// the runtime's mount points are not the container's changes.
func TestContainerDiff(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "c", "--network", "none", "localhost/bb", "sh", "-c",
		"echo hello > /hello && rm /bin/ls && mkdir -p /d/e && touch /d/e/f && echo x >> /etc/passwd")
	want := "C /bin\nD /bin/ls\nA /d\nA /d/e\nA /d/e/f\nC /etc\nC /etc/passwd\nA /hello"
	if out := e.Pea("diff", "c"); out != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", out, want)
	}
	var v struct{ Changed, Added, Deleted []string }
	if err := json.Unmarshal([]byte(e.Pea("container", "diff", "--format", "json", "c")), &v); err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.Deleted, ",") != "/bin/ls" || len(v.Added) != 4 || len(v.Changed) != 3 {
		t.Fatalf("diff --format json: %+v", v)
	}
	e.Fails(125, "diff", "nosuch")
}

// A container whose image has no /etc/mtab gets one, a link to /proc/mounts, as podman's; the
// link is the start's, not the container's change: diff and commit leave it out. It is made
// inside the root filesystem even when the image's /etc is a link to a host path, and not in a
// build's RUN (buildah makes none).
func TestEtcMtab(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "c", "--network", "none", "localhost/bb", "sh", "-c", "echo x > /x")
	if out := e.Pea("start", "-a", "c"); out != "" {
		t.Fatalf("second start: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "readlink /etc/mtab && df / | grep -c overlay"); out != "/proc/mounts\n1" {
		t.Fatalf("/etc/mtab and df: %q", out)
	}
	if out := e.Pea("diff", "c"); out != "C /etc\nA /x" {
		t.Fatalf("diff: %q", out)
	}
	e.Pea("commit", "c", "localhost/committed")
	layers := imageLayerFiles(t, e, "localhost/committed")
	if !slices.Contains(layers, "x") || slices.Contains(layers, "etc/mtab") {
		t.Fatalf("the committed layer: %q", layers)
	}
	// A link the container makes itself is its own change.
	e.Pea("run", "--name", "own", "--network", "none", "localhost/bb", "sh", "-c", "rm /etc/mtab && ln -s /proc/self/mounts /etc/mtab")
	if out := e.Pea("diff", "own"); out != "C /etc\nA /etc/mtab" {
		t.Fatalf("diff of a container's own /etc/mtab: %q", out)
	}

	// Not in a build's RUN.
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN test ! -e /etc/mtab\n"), 0o644)
	e.Pea("build", "-q", ctx)

	// An image whose /etc links to a path that exists on the host too.
	hostDir := filepath.Join(e.Dir, "hostetc")
	os.MkdirAll(hostDir, 0o755)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	inRoot := strings.TrimPrefix(hostDir, "/")
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bb))})
	tw.Write(bb)
	tw.WriteHeader(&tar.Header{Name: "bin/readlink", Typeflag: tar.TypeSymlink, Linkname: "busybox"})
	tw.WriteHeader(&tar.Header{Name: inRoot + "/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "etc", Typeflag: tar.TypeSymlink, Linkname: hostDir})
	tw.Close()
	linked := filepath.Join(t.TempDir(), "linked.tar")
	os.WriteFile(linked, buf.Bytes(), 0o644)
	e.Pea("import", linked, "localhost/linked")
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/linked", "readlink", hostDir+"/mtab"); out != "/proc/mounts" {
		t.Fatalf("/etc/mtab through the image's link: %q", out)
	}
	if ents, _ := os.ReadDir(hostDir); len(ents) != 0 {
		t.Fatalf("the start wrote in the host's %s: %v", hostDir, ents)
	}
}

// export writes a container's root filesystem as a tar (links as links: a container's link to
// a host path exports no host file), running or stopped; import makes an image of it again.
func TestExport(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "c", "--network", "none", "localhost/bb", "sh", "-c", "echo hi > /hi && ln -s /etc/shadow /sh")
	out := filepath.Join(e.Dir, "c.tar")
	e.Pea("export", "-o", out, "c")
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]*tar.Header{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		seen[h.Name] = h
	}
	if h := seen["hi"]; h == nil || h.Size != 3 {
		t.Fatalf("hi in the export: %+v", h)
	}
	if h := seen["sh"]; h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != "/etc/shadow" {
		t.Fatalf("the link in the export: %+v", h)
	}
	if seen["bin/busybox"] == nil {
		t.Fatal("the image's files are missing from the export")
	}
	e.Pea("import", out, "localhost/again")
	if got := e.Pea("run", "--rm", "--network", "none", "localhost/again", "cat", "/hi"); got != "hi" {
		t.Fatalf("the imported export: %q", got)
	}
	e.Pea("run", "-d", "--name", "r", "--network", "none", "localhost/bb", "sleep", "300")
	if r := e.Try("export", "r"); r.Code != 0 || !strings.Contains(r.Stdout, "busybox") {
		t.Fatalf("export of a running container: exit %d, %d bytes", r.Code, len(r.Stdout))
	}
	e.Fails(125, "export", "nosuch")
}

// images --history: the names an image has had, newest first, in a HISTORY column, kept after
// they are taken away; podman's table layout (columns at least 12 wide).
func TestImagesHistoryAndTableLayout(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("tag", "localhost/bb", "localhost/other:1")
	e.Pea("untag", "localhost/bb", "localhost/other:1")
	id := e.Pea("images", "-q")
	out := strings.Split(e.Pea("images", "--history"), "\n")
	if len(out) != 2 || !strings.HasPrefix(out[0], "REPOSITORY    TAG         IMAGE ID      CREATED") || !strings.HasSuffix(out[0], "  HISTORY") ||
		!strings.HasPrefix(out[1], "localhost/bb  latest      "+id+"  ") || !strings.HasSuffix(out[1], "  localhost/other:1, localhost/bb:latest") {
		t.Fatalf("images --history: %q", out)
	}
	if out := e.Pea("images", "--format", "{{.History}}"); out != "localhost/other:1, localhost/bb:latest" {
		t.Fatalf("{{.History}}: %q", out)
	}
	if out := e.Pea("ps"); out != "CONTAINER ID  IMAGE       COMMAND     CREATED     STATUS      PORTS       NAMES" {
		t.Fatalf("empty ps, podman's header: %q", out)
	}
}

// ps --watch prints the list again every N seconds (no screen clearing when not a terminal).
func TestPsWatch(t *testing.T) {
	e := newEnv(t)
	cmd := exec.Command(peaBin, e.args("ps", "--watch", "1")...)
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	eventually(t, 10*time.Second, func() error {
		if got := out.String(); strings.Count(got, "NAMES\n") < 2 || strings.Contains(got, "\x1b") {
			return fmt.Errorf("ps --watch output: %q", got)
		}
		return nil
	})
}

// info has podman's blocks and fields: host (distribution, cgroup controllers, log driver…),
// store (graph status, sizes), registries, plugins, version.
func TestInfoFields(t *testing.T) {
	e := newEnv(t)
	var in map[string]map[string]any
	if err := json.Unmarshal([]byte(e.Pea("info", "--format", "json")), &in); err != nil {
		t.Fatal(err)
	}
	for block, keys := range map[string][]string{
		"host":    {"arch", "cgroupControllers", "cgroupVersion", "conmon", "cpuUtilization", "distribution", "eventLogger", "idMappings", "kernel", "linkmode", "logDriver", "memTotal", "ociRuntime", "remoteSocket", "security", "serviceIsRemote", "swapTotal", "uptime"},
		"store":   {"graphRoot", "runRoot", "graphDriverName", "graphStatus", "graphRootAllocated", "graphRootUsed", "imageCopyTmpDir", "volumePath", "containerStore", "imageStore"},
		"plugins": {"volume", "network", "log"},
		"version": {"APIVersion", "Version", "GoVersion", "OsArch", "Os"},
	} {
		for _, k := range keys {
			if _, ok := in[block][k]; !ok {
				t.Errorf("info: no %s.%s", block, k)
			}
		}
	}
	if _, ok := in["registries"]; !ok {
		t.Error("info: no registries")
	}
	if out := e.Pea("info", "--format", "{{.Host.LogDriver}} {{.Store.VolumePath}} {{.Version.OsArch}}"); out != "k8s-file "+e.Root+"/volumes linux/amd64" {
		t.Fatalf("info --format: %q", out)
	}
	if out := e.Pea("info", "--format", "{{len .Host.CgroupControllers}}"); out == "0" {
		t.Fatal("info: no cgroup controllers")
	}
}

// TestRegistryCertDir: a registry whose certificate no system authority signed is reached over
// verified TLS with its authority in --cert-dir (*.crt), by pull, push and login; without it
// the pull is refused.
func TestRegistryCertDir(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewTLSServer(registrytest.New())
	defer srv.Close()
	certs := t.TempDir()
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	os.WriteFile(filepath.Join(certs, "ca.crt"), pemBytes, 0o644)
	ref := strings.TrimPrefix(srv.URL, "https://") + "/acc/bb:tls"
	e.Pea("tag", "localhost/bb:latest", ref)
	if r := e.Try("push", ref); r.Code != 125 || !strings.Contains(r.Stderr, "certificate") {
		t.Fatalf("push without the authority: %s", r)
	}
	e.Pea("push", "--cert-dir", certs, ref)
	e.Pea("rmi", ref)
	if r := e.Try("pull", ref); r.Code != 125 || !strings.Contains(r.Stderr, "certificate") {
		t.Fatalf("pull without the authority: %s", r)
	}
	e.Pea("pull", "-q", "--cert-dir", certs, ref)
	e.Pea("image", "exists", ref)
	e.Fails(125, "pull", "--cert-dir", filepath.Join(certs, "nosuch"), ref)
}

// imageLayerFiles lists the entries of the top layer of image ref, from its docker-archive.
func imageLayerFiles(t *testing.T, e *Env, ref string) []string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "image.tar")
	e.Pea("save", "-o", p, ref)
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal([]byte(tarFileContent(t, p, "manifest.json")), &manifest); err != nil || len(manifest) != 1 || len(manifest[0].Layers) == 0 {
		t.Fatalf("manifest.json of %s: %+v %v", ref, manifest, err)
	}
	layers := manifest[0].Layers
	tr := tar.NewReader(strings.NewReader(tarFileContent(t, p, layers[len(layers)-1])))
	var names []string
	for {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/"))
	}
	return names
}

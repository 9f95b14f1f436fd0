package tests

// Differences from podman 4.3.1's image verbs found side by side, each held here: listings,
// inspect and history fields, import, save and load formats.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// import prints "sha256:ID" and dates the image by the file's modification time, so that one
// file imported twice is one image (podman's tarball source does the same).
func TestParityImportFromFile(t *testing.T) {
	e := newEnv(t)
	tarball := filepath.Join(e.Dir, "rootfs.tar")
	data, err := os.ReadFile(busyboxTar(t))
	if err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.WriteFile(tarball, data, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(tarball, mtime, mtime)
	first := e.Pea("import", tarball, "one")
	second := e.Pea("import", "-q", tarball, "two")
	if !strings.HasPrefix(first, "sha256:") || len(first) != 71 || first != second {
		t.Fatalf("imports printed %q and %q, want one sha256:ID twice", first, second)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.Created}}", "one"); got != "2021-03-04 05:06:07 +0000 UTC" {
		t.Errorf("created %q, want the file's time", got)
	}
	// A STOPSIGNAL change is stored as the signal's number.
	e.Pea("import", "--change", "STOPSIGNAL=TERM", tarball, "sig")
	if got := e.Pea("image", "inspect", "--format", "{{.Config.StopSignal}}", "sig"); got != "15" {
		t.Errorf("STOPSIGNAL=TERM stored as %q, want 15", got)
	}
}

// images: --sort names its fields, the filters podman has (label!=, until, containers,
// intermediate, manifest) and its errors, --format json before -q, raw sizes in templates,
// the size with config and manifest, and ParentId.
func TestParityImagesListing(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile": "FROM localhost/bb\nLABEL team=red\nRUN echo one > /one\nRUN echo two > /two\n",
	})
	e.Pea("build", "-q", "-t", "two-steps", "--network", "none", ctx)
	e.Pea("create", "--name", "user", "localhost/bb", "true")

	r := e.Fails(125, "images", "--sort", "bogus")
	if !strings.Contains(r.Stderr, `"bogus" is not a valid field for sorting`) {
		t.Errorf("--sort bogus: %s", r)
	}
	for filter, want := range map[string]string{
		"label!=team":      "localhost/bb",
		"label=team":       "localhost/two-steps",
		"until=1h":         "",
		"containers=true":  "localhost/bb",
		"containers=false": "localhost/two-steps",
		"manifest=true":    "",
	} {
		if got := e.Pea("images", "--filter", filter, "--format", "{{.Repository}}"); got != want {
			t.Errorf("--filter %s: %q, want %q", filter, got, want)
		}
	}
	// The images of the LABEL and first RUN steps are listed with -a, and by intermediate=true;
	// the second RUN's image is the one built, made on the first's.
	inters := strings.Fields(e.Pea("images", "-a", "-q", "--filter", "intermediate=true"))
	if len(inters) != 2 {
		t.Fatalf("intermediate=true: %q", inters)
	}
	inter := inters[0] // newest first

	if got := e.Pea("images", "--format", "{{.ParentId}}", "two-steps"); !strings.HasPrefix(got, inter) {
		t.Errorf("ParentId of the built image %q, want the intermediate %s", got, inter)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.Parent}}", "two-steps"); !strings.HasPrefix(got, inter) {
		t.Errorf("inspect Parent %q, want the intermediate %s", got, inter)
	}
	for _, c := range []struct{ filter, msg string }{
		{"containers=x", `unsupported value "x" for containers filter`},
		{"bogus=1", `unsupported image filter "bogus"`},
		{"until=bad", `failed to parse value as time or duration: "bad"`},
		{"since=nosuch", `could not find local image for filter "since"="nosuch"`},
	} {
		if r := e.Fails(125, "images", "--filter", c.filter); !strings.Contains(r.Stderr, c.msg) {
			t.Errorf("--filter %s: %s", c.filter, r)
		}
	}
	r = e.Fails(125, "images", "--filter", "dangling=true", "--filter", "dangling=false")
	if !strings.Contains(r.Stderr, `specifying "dangling" filter more than once with different values is not supported`) {
		t.Errorf("conflicting dangling: %s", r)
	}
	// --format json wins over -q.
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("images", "-q", "--format", "json")), &list); err != nil || len(list) != 2 {
		t.Fatalf("-q --format json: %v %v", err, list)
	}
	// Sizes: {{.Size}} human, {{.VirtualSize}} and {{.SharedSize}} numbers; the size is the
	// layers' with the config and the manifest (twice, as c/storage keeps it).
	got := strings.Fields(e.Pea("images", "--format", "{{.VirtualSize}} {{.SharedSize}} {{.CreatedTime}}", "localhost/bb"))
	size, err := strconv.ParseInt(got[0], 10, 64)
	if err != nil || got[1] != "0" {
		t.Fatalf("raw sizes: %q", got)
	}
	var layers int64
	for _, s := range strings.Fields(e.Pea("image", "inspect", "--format", `{{range .RootFS.Layers}}{{.}} {{end}}`, "localhost/bb")) {
		n, err := os.ReadFile(filepath.Join(e.Root, "images", "layers", strings.TrimPrefix(s, "sha256:"), "size"))
		if err != nil {
			t.Fatal(err)
		}
		v, _ := strconv.ParseInt(strings.TrimSpace(string(n)), 10, 64)
		layers += v
	}
	blob := func(d string) int64 {
		fi, err := os.Stat(filepath.Join(e.Root, "images", "blobs", "sha256", strings.TrimPrefix(d, "sha256:")))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	cfgDigest := "sha256:" + e.Pea("image", "inspect", "--format", "{{.ID}}", "localhost/bb")
	want := layers + blob(cfgDigest) + 2*blob(e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/bb"))
	if size != want {
		t.Errorf("size %d, want layers %d + config + 2 x manifest = %d", size, layers, want)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.Size}}", "localhost/bb"); got != strconv.FormatInt(want, 10) {
		t.Errorf("inspect .Size %s, want %d", got, want)
	}
	if tree := e.Pea("image", "tree", "localhost/bb"); !strings.Contains(tree, "\nSize:     "+strconv.FormatFloat(float64(want)/1e6, 'g', 4, 64)+"MB\n") {
		t.Errorf("image tree's size, want %d bytes:\n%s", want, tree)
	}
	if strings.Contains(strings.Join(got[2:], " "), ".") {
		t.Errorf("CreatedTime has a fraction of a second: %q", got[2:])
	}
	// A dangling image's JSON has no Names (podman leaves empty ones out).
	e.Pea("untag", "two-steps")
	for _, img := range decodeImages(t, e.Pea("images", "--format", "json", "--filter", "dangling=true")) {
		if _, ok := img["Names"]; ok {
			t.Errorf("a dangling image's JSON has Names: %v", img)
		}
	}
}

func decodeImages(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return out
}

// image inspect: {{.Id}} is {{.ID}}, the health check is .HealthCheck, the comment is the first
// history entry's; history: podman's IDs per entry, CreatedAt as a time, Tags empty.
func TestParityImageInspectHistory(t *testing.T) {
	e := newEnv(t)
	e.Pea("import", "-m", "the base", busyboxTar(t), "localhost/bb")
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile": "FROM localhost/bb\nRUN echo one > /one\nRUN echo two > /two\nHEALTHCHECK CMD true\n",
	})
	e.Pea("build", "-q", "-t", "built", "--network", "none", ctx)
	id := e.Pea("image", "inspect", "--format", "{{.ID}}", "built")
	if got := e.Pea("image", "inspect", "--format", "{{.Id}}|{{ .Id }}|{{.Comment}}|{{.HealthCheck.Test}}|{{.Config.Healthcheck.Test}}", "built"); got != id+"|"+id+"|the base|[CMD-SHELL true]|[CMD-SHELL true]" {
		t.Errorf("inspect: %q", got)
	}
	// As podman's: walking down from the newest entry, each layer's first image (the RUN
	// steps' images, then the base), each shown once; the config step's image, made last on
	// the second RUN's layers, is not shown.
	ids := strings.Fields(e.Pea("history", "--format", "{{.ID}}", "built"))
	base := e.Pea("images", "-q", "localhost/bb")
	inter := strings.Fields(e.Pea("images", "-a", "-q", "--filter", "intermediate=true", "--sort", "created"))
	if want := []string{inter[0], "<missing>", inter[1], base}; strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("history IDs %v, want %v", ids, want)
	}
	for _, line := range strings.Split(e.Pea("history", "--format", "{{.Tags}}|{{.CreatedAt}}", "built"), "\n") {
		tags, at, _ := strings.Cut(line, "|")
		if _, err := time.Parse("2006-01-02 15:04:05 -0700 MST", at); err != nil || tags != "[]" {
			t.Errorf("history line %q: want [] and a time like podman's", line)
		}
	}
}

// save: the directory formats (oci-dir, docker-dir) and their load, podman's rules for several
// names (more tags without -m; -m with docker-archive only), an existing docker-archive
// refused, --compress for docker-dir only, and the progress lines.
func TestParitySaveLoadFormats(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("images", "-q", "--no-trunc", "localhost/bb")
	e.Pea("tag", "localhost/bb", "other")
	for _, format := range []string{"oci-dir", "docker-dir"} {
		dir := filepath.Join(e.Dir, format)
		r := e.Try("save", "--format", format, "-o", dir, "localhost/bb")
		if r.Code != 0 || !strings.Contains(r.Stderr, "Writing manifest to image destination") {
			t.Fatalf("save %s: %s", format, r)
		}
		if format == "docker-dir" {
			v, _ := os.ReadFile(filepath.Join(dir, "version"))
			if string(v) != "Directory Transport Version: 1.1\n" {
				t.Errorf("docker-dir version file %q", v)
			}
		}
		f := newEnv(t)
		r = f.Try("load", "-i", dir)
		if r.Code != 0 || !strings.Contains(r.Stderr, "Getting image source signatures") {
			t.Fatalf("load %s: %s", format, r)
		}
		if got := f.Pea("images", "-q", "--no-trunc"); got != id {
			t.Errorf("load %s: images %q, want %s", format, got, id)
		}
		if r := f.Try("load", "-q", "-i", dir); r.Code != 0 || r.Stderr != "" {
			t.Errorf("load -q printed progress: %s", r)
		}
	}
	// Without -m, the other names are more tags of the first image.
	tarball := filepath.Join(e.Dir, "tags.tar")
	e.Pea("save", "-q", "-o", tarball, "localhost/bb", "extra:1")
	var entries []struct{ RepoTags []string }
	manifest := tarFileContent(t, tarball, "manifest.json")
	if err := json.Unmarshal([]byte(manifest), &entries); err != nil || len(entries) != 1 || strings.Join(entries[0].RepoTags, " ") != "localhost/extra:1 localhost/bb:latest" {
		t.Errorf("save without -m: %s", manifest)
	}
	r := e.Fails(125, "save", "-o", tarball, "localhost/bb")
	if !strings.Contains(r.Stderr, "docker-archive doesn't support modifying existing images") {
		t.Errorf("save over an archive: %s", r)
	}
	r = e.Fails(125, "save", "-m", "--format", "oci-archive", "-o", filepath.Join(e.Dir, "m.tar"), "localhost/bb", "other")
	if !strings.Contains(r.Stderr, `unsupported format "oci-archive" for saving multiple images (only docker-archive)`) {
		t.Errorf("-m oci-archive: %s", r)
	}
	r = e.Fails(125, "save", "--compress", "-o", filepath.Join(e.Dir, "c.tar"), "localhost/bb")
	if !strings.Contains(r.Stderr, "--compress can only be set when --format is 'docker-dir'") {
		t.Errorf("--compress: %s", r)
	}
	if r := e.Fails(125, "load", "extra"); !strings.Contains(r.Stderr, "takes no arguments") {
		t.Errorf("load extra: %s", r)
	}
	if r := e.Fails(125, "save"); !strings.Contains(r.Stderr, "need at least 1 argument") {
		t.Errorf("save: %s", r)
	}
}

// build: podman's step lines ([stage/stages] STEP k/m, a "--> ID" after each step's image,
// COMMIT, "Successfully tagged"), an image and a history entry per step (config steps
// empty_layer, "FROM ..." comments naming the image each step started from), RUN's history
// with the stage's ARGs, and the cache found by the images' records, not by their comments.
func TestParityBuildSteps(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile": "FROM localhost/bb AS first\nARG WHO=x\nRUN echo $WHO > /who\nFROM localhost/bb\nCOPY --from=first /who /who\nLABEL team=red\nCMD [\"cat\", \"/who\"]\n",
	})
	r := e.Try("build", "-t", "steps", "--build-arg", "WHO=me", "--network", "none", ctx)
	if r.Code != 0 {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	id := lines[len(lines)-1]
	for _, want := range []string{
		"[1/2] STEP 1/3: FROM localhost/bb AS first\n[1/2] STEP 2/3: ARG WHO=x\n--> ",
		"\n[1/2] STEP 3/3: RUN echo $WHO > /who\n--> ",
		"\n[2/2] STEP 3/4: LABEL team=red\n--> ",
		"\n[2/2] STEP 4/4: CMD [\"cat\", \"/who\"]\n[2/2] COMMIT steps\n--> " + id[:11] + "\nSuccessfully tagged localhost/steps:latest\n" + id + "\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("build output has no %q:\n%s", want, r.Stdout)
		}
	}
	var hist []struct {
		CreatedBy  string `json:"created_by"`
		Comment    string `json:"comment"`
		EmptyLayer bool   `json:"empty_layer"`
	}
	if err := json.Unmarshal([]byte(e.Pea("image", "inspect", "--format", "{{json .History}}", "steps")), &hist); err != nil || len(hist) != 4 {
		t.Fatalf("history: %v %+v", err, hist)
	}
	if h := hist[1]; !strings.HasPrefix(h.CreatedBy, "/bin/sh -c #(nop) COPY ") || h.Comment != "FROM localhost/bb:latest" || h.EmptyLayer {
		t.Errorf("the COPY entry: %+v", h)
	}
	if h := hist[2]; h.CreatedBy != "/bin/sh -c #(nop) LABEL team=red" || !h.EmptyLayer || !strings.HasPrefix(h.Comment, "FROM ") || len(h.Comment) != 17 {
		t.Errorf("the LABEL entry: %+v", h)
	}
	if h := hist[3]; h.CreatedBy != `/bin/sh -c #(nop) CMD ["cat", "/who"]` || !h.EmptyLayer {
		t.Errorf("the CMD entry: %+v", h)
	}
	// The second build takes every step from the cache.
	r = e.Try("build", "-t", "steps2", "--build-arg", "WHO=me", "--network", "none", ctx)
	if r.Code != 0 || strings.Count(r.Stdout, "--> Using cache ") != 5 || !strings.HasSuffix(r.Stdout, id+"\n") {
		t.Errorf("the second build: %s", r)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "steps"); got != "me" {
		t.Errorf("the image runs: %q", got)
	}
	// RUN's entry names the stage's ARGs with values.
	var runBy string
	for _, img := range strings.Fields(e.Pea("images", "-a", "-q", "--no-trunc")) {
		for _, cb := range strings.Split(e.Pea("history", "--no-trunc", "--format", "{{.CreatedBy}}", strings.TrimPrefix(img, "sha256:")), "\n") {
			if strings.Contains(cb, "echo $WHO") {
				runBy = cb
			}
		}
	}
	if runBy != "|1 WHO=me /bin/sh -c echo $WHO > /who" {
		t.Errorf("RUN's history entry: %q", runBy)
	}
}

// rmi: -f ignores images that do not exist; several failures are one error listing them, as
// podman's; an image in use is refused in podman's words, exit 2.
func TestParityRmi(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("rmi", "-f", "nosuch")
	r := e.Fails(1, "rmi", "nosuch1", "nosuch2")
	if r.Stderr != "Error: 2 errors occurred:\n\t* nosuch1: image not known\n\t* nosuch2: image not known\n" {
		t.Errorf("rmi of two missing images: %q", r.Stderr)
	}
	id := e.Pea("create", "--name", "user", "localhost/bb", "true")
	r = e.Fails(2, "rmi", "localhost/bb")
	if r.Stderr != "Error: image used by "+id+": image is in use by a container: consider listing external containers and force-removing image\n" {
		t.Errorf("rmi of an image in use: %q", r.Stderr)
	}
	if r := e.Fails(125, "untag", "localhost/bb", "nosuch:tag"); r.Stderr != "Error: localhost/nosuch:tag: tag not known\n" {
		t.Errorf("untag of a missing tag: %q", r.Stderr)
	}
}

// build: ADD of an http URL downloads the file (mode 0600, a tar not unpacked, named after the
// URL in a directory), as podman's; it was refused.
func TestParityBuildAddURL(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/files/remote.txt":
			w.Write([]byte("remote content\n"))
		case "/files/arch.tar":
			http.ServeFile(w, r, tinyTar(t, "in the tar"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\n" +
		"ADD " + srv.URL + "/files/remote.txt /r.txt\nADD " + srv.URL + "/files/arch.tar /arch/\n"})
	e.Pea("build", "-q", "-t", "addurl", "--network", "none", ctx)
	if got := e.Pea("run", "--rm", "--network", "none", "addurl", "sh", "-c", "cat /r.txt; stat -c '%a %s' /r.txt /arch/arch.tar"); got != "remote content\n600 15\n600 "+strconv.Itoa(int(fileSize(t, tinyTar(t, "in the tar")))) {
		t.Errorf("the downloaded files: %q", got)
	}
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM localhost/bb\nADD " + srv.URL + "/files/missing /m\n"})
	if r := e.Fails(125, "build", "--network", "none", ctx); !strings.Contains(r.Stderr, "404") {
		t.Errorf("ADD of a missing URL: %s", r)
	}
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// build: the working directory a RUN needs is made for the RUN's user, as podman's builds make
// it (the runtime made it root's, and a USER's RUN could not write there).
func TestParityBuildWorkdirOwner(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile": "FROM localhost/bb\nUSER 1000\nWORKDIR /srv/app/data\nRUN touch written\nUSER 0:0\nWORKDIR /opt/root-owned\nRUN true\n",
	})
	e.Pea("build", "-q", "-t", "wd", "--network", "none", ctx)
	got := e.Pea("run", "--rm", "--network", "none", "--user", "0", "wd", "stat", "-c", "%n %u", "/srv", "/srv/app", "/srv/app/data", "/srv/app/data/written", "/opt", "/opt/root-owned")
	want := "/srv 1000\n/srv/app 1000\n/srv/app/data 1000\n/srv/app/data/written 1000\n/opt 0\n/opt/root-owned 0"
	if got != want {
		t.Errorf("the working directories:\n%s\nwant\n%s", got, want)
	}
}

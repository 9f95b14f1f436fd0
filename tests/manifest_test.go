package tests

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// listDoc is what manifest inspect prints of a list.
type listDoc struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	Manifests     []struct {
		MediaType string `json:"mediaType"`
		Size      int64  `json:"size"`
		Digest    string `json:"digest"`
		Platform  struct {
			Architecture string   `json:"architecture"`
			OS           string   `json:"os"`
			OSVersion    string   `json:"os.version"`
			OSFeatures   []string `json:"os.features"`
			Variant      string   `json:"variant"`
		} `json:"platform"`
		Annotations map[string]string `json:"annotations"`
	} `json:"manifests"`
}

func parseListDoc(t *testing.T, out string) listDoc {
	t.Helper()
	var d listDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("manifest inspect printed no JSON (%v): %s", err, out)
	}
	return d
}

// oneLine checks that a failure said one error line.
func oneLine(t *testing.T, r Result, want string) {
	t.Helper()
	if strings.Count(r.Stderr, "\n") != 1 || !strings.HasPrefix(r.Stderr, "Error: ") || !strings.Contains(r.Stderr, want) {
		t.Errorf("want one error line with %q, got %s", want, r)
	}
}

// A manifest list of two single-platform images (busybox for amd64, and a copy whose config says
// linux/arm64/v8) is made, inspected, pushed with its images to a loopback registry and pulled
// back into a fresh store, where each platform can be chosen; search finds the repository.
func TestManifestList(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")

	amdID := e.Pea("images", "--no-trunc", "-q", "localhost/bb:latest")
	armID := strings.TrimPrefix(e.Pea("import", "--arch", "arm64", "--variant", "v8", busyboxTar(t), "localhost/bb-arm64"), "sha256:")
	if got := e.Pea("image", "inspect", "--format", "{{.Architecture}}/{{.Os}}", "localhost/bb-arm64"); got != "arm64/linux" {
		t.Fatalf("import --arch: %q", got)
	}
	amdDigest := e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/bb:latest")
	armDigest := e.Pea("image", "inspect", "--format", "{{.Digest}}", "localhost/bb-arm64")

	filesBefore := e.storeListing()
	listID := e.Pea("manifest", "create", "mylist")
	if len(listID) != 64 {
		t.Fatalf("manifest create printed %q", listID)
	}
	empty := e.Pea("manifest", "inspect", "mylist")
	if !strings.HasPrefix(empty, "{\n    \"schemaVersion\": 2,\n    \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\",") ||
		!strings.Contains(empty, `"manifests": null`) {
		t.Errorf("inspect of an empty list: %s", empty)
	}
	if got := e.Pea("manifest", "add", "mylist", "localhost/bb:latest"); got != listID {
		t.Errorf("manifest add printed %q, want the list's ID", got)
	}
	e.Pea("manifest", "add", "--annotation", "team=pea", "--os-version", "1.0", "mylist", "containers-storage:localhost/bb-arm64")
	e.Pea("manifest", "annotate", "--os-features", "f1,f2", "mylist", armDigest)
	d := parseListDoc(t, e.Pea("manifest", "inspect", "mylist"))
	if len(d.Manifests) != 2 || d.SchemaVersion != 2 {
		t.Fatalf("inspect: %+v", d)
	}
	amd, arm := d.Manifests[0], d.Manifests[1]
	if amd.Digest != amdDigest || amd.Platform.Architecture != "amd64" || amd.Platform.OS != "linux" || amd.Size == 0 {
		t.Errorf("amd64 entry: %+v", amd)
	}
	if arm.Digest != armDigest || arm.Platform.Architecture != "arm64" || arm.Platform.Variant != "v8" ||
		arm.Platform.OSVersion != "1.0" || strings.Join(arm.Platform.OSFeatures, ",") != "f1,f2" || arm.Annotations["team"] != "pea" {
		t.Errorf("arm64 entry: %+v", arm)
	}
	if d.MediaType != "application/vnd.oci.image.index.v1+json" {
		t.Errorf("a list with annotations is an OCI index, got %s", d.MediaType)
	}
	// The list is an entry of the store, as podman's: images lists it, exists finds it.
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", "localhost/mylist"); got != "localhost/mylist:latest "+listID[:12] {
		t.Errorf("images: %q", got)
	}
	e.Pea("manifest", "exists", "mylist")
	e.Fails(1, "manifest", "exists", "nosuch")
	oneLine(t, e.Fails(125, "manifest", "exists", "localhost/bb"), "not a manifest list")
	// A list added to a list gives its image for this machine, or with --all every image.
	e.Pea("manifest", "create", "all", "mylist")
	e.Pea("manifest", "create", "--all", "--amend", "all", "mylist")
	if got := parseListDoc(t, e.Pea("manifest", "inspect", "all")); len(got.Manifests) != 2 || got.Manifests[1].Platform.OSVersion != "1.0" {
		t.Errorf("create --all of a list: %+v", got)
	}
	e.Pea("manifest", "create", "one", "mylist")
	if got := parseListDoc(t, e.Pea("manifest", "inspect", "one")); len(got.Manifests) != 1 || got.Manifests[0].Digest != amdDigest {
		t.Errorf("create of a list without --all: %+v", got)
	}
	e.Pea("manifest", "rm", "all", "one")

	// Inspect, save and run of a list use its image for this machine, as podman's.
	if got := e.Pea("image", "inspect", "--format", "{{.ID}}", "mylist"); "sha256:"+got != amdID {
		t.Errorf("image inspect of the list: %q, want %s", got, amdID)
	}
	saved := filepath.Join(e.Dir, "list.tar")
	e.Pea("save", "-o", saved, "mylist")
	f0 := newEnv(t)
	f0.Pea("load", "-i", saved)
	if got := f0.Pea("images", "--no-trunc", "-q"); got != amdID {
		t.Errorf("save of the list saved %q, want %s", got, amdID)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "mylist", "uname", "-m"); got != "x86_64" {
		t.Errorf("run of the list: %q", got)
	}

	// Pushed with its images, pulled back into a fresh store.
	ref := reg + "/multi/bb:1"
	digestFile := filepath.Join(e.Dir, "digest")
	r := e.run(nil, "manifest", "push", "--tls-verify=false", "--digestfile", digestFile, "mylist", ref)
	if r.Code != 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "Copying 2 of 2 images in list") ||
		!strings.Contains(r.Stderr, "Copying image "+armDigest+" (2/2)") || !strings.Contains(r.Stderr, "Writing manifest list to image destination") {
		t.Fatalf("manifest push: %s", r)
	}
	pushed, _ := os.ReadFile(digestFile)
	if !strings.HasPrefix(string(pushed), "sha256:") {
		t.Errorf("--digestfile: %q", pushed)
	}
	f := newEnv(t)
	remote := parseListDoc(t, f.Pea("manifest", "inspect", "--tls-verify=false", ref))
	if len(remote.Manifests) != 2 || remote.Manifests[1].Digest != armDigest {
		t.Errorf("inspect of the pushed list: %+v", remote)
	}
	if got := f.Pea("pull", "-q", "--tls-verify=false", ref); "sha256:"+got != amdID {
		t.Errorf("pull of the list got %q, want the amd64 image %s", got, amdID)
	}
	if got := f.Pea("image", "inspect", "--format", "{{.Architecture}} {{.Digest}}", ref); got != "amd64 "+amdDigest {
		t.Errorf("pulled: %q", got)
	}
	if got := f.Pea("pull", "-q", "--tls-verify=false", "--arch", "arm64", ref); got != armID {
		t.Errorf("pull --arch arm64 got %q, want %s", got, armID)
	}
	if got := f.Pea("image", "inspect", "--format", "{{.Architecture}}/{{.Os}}", ref); got != "arm64/linux" {
		t.Errorf("pull --arch arm64: the image says %q", got)
	}
	f.Pea("rmi", "-a")
	if got := f.Pea("pull", "-q", "--tls-verify=false", "--platform", "linux/arm64", "--variant", "v8", ref); got != armID {
		t.Errorf("pull --platform --variant got %q", got)
	}
	oneLine(t, f.Fails(125, "pull", "-q", "--tls-verify=false", "--arch", "s390x", ref), "no image for linux/s390x")

	// A list pulled from a registry into a new one, by manifest add --all.
	f.Pea("manifest", "create", "copy")
	f.Pea("manifest", "add", "--all", "--tls-verify=false", "copy", "docker://"+ref)
	if c := parseListDoc(t, f.Pea("manifest", "inspect", "copy")); len(c.Manifests) != 2 || c.Manifests[1].Platform.Variant != "v8" {
		t.Errorf("add --all of a remote list: %+v", c)
	}

	// Without its images the list is refused by the registry; plain push of a list pushes all.
	r = e.Fails(125, "manifest", "push", "--all=false", "--tls-verify=false", "mylist", reg+"/other/bb:1")
	if !strings.Contains(r.Stderr, "MANIFEST_BLOB_UNKNOWN") {
		t.Errorf("push --all=false: %s", r)
	}
	e.Pea("push", "--tls-verify=false", "mylist", reg+"/other/bb:2")
	e.Pea("manifest", "push", "--tls-verify=false", "--format", "v2s2", "mylist", reg+"/other/bb:3")
	if got := parseListDoc(t, f.Pea("manifest", "inspect", "--tls-verify=false", reg+"/other/bb:3")); got.MediaType != "application/vnd.docker.distribution.manifest.list.v2+json" {
		t.Errorf("push --format v2s2: %s", got.MediaType)
	}

	// A name the store does not have is pulled (a list: its image for this machine).
	f.Pea("manifest", "create", "--tls-verify=false", "one", reg+"/other/bb:3")
	if c := parseListDoc(t, f.Pea("manifest", "inspect", "one")); len(c.Manifests) != 1 || c.Manifests[0].Digest != amdDigest {
		t.Errorf("create with a list to pull: %+v", c)
	}
	f.Pea("image", "exists", reg+"/other/bb@"+amdDigest)

	// search lists the registry's repositories (its catalog) and a repository's tags.
	got := strings.Split(f.Pea("search", "--tls-verify=false", reg+"/bb"), "\n")
	if len(got) != 3 || strings.Join(strings.Fields(got[0]), " ") != "NAME DESCRIPTION" ||
		strings.TrimSpace(got[1]) != reg+"/multi/bb" || strings.TrimSpace(got[2]) != reg+"/other/bb" {
		t.Errorf("search: %q", got)
	}
	if got := f.Pea("search", "--tls-verify=false", "--format", "{{.Name}}", reg+"/mul"); got != reg+"/multi/bb" {
		t.Errorf("search --format: %q", got)
	}
	if got := f.Pea("search", "--tls-verify=false", "--limit", "1", "--format", "{{.Name}}", reg+"/"); got != reg+"/multi/bb" {
		t.Errorf("search --limit 1: %q", got)
	}
	if got := f.Pea("search", "--tls-verify=false", "--filter", "is-official", reg+"/bb"); got != "" {
		t.Errorf("search --filter is-official: %q", got)
	}
	if got := f.Pea("search", "--tls-verify=false", "--list-tags", "--format", "{{.Name}} {{.Tag}}", reg+"/other/bb"); got != reg+"/other/bb 2\n"+reg+"/other/bb 3" {
		t.Errorf("search --list-tags: %q", got)
	}
	var js []struct{ Name, Index string }
	if err := json.Unmarshal([]byte(f.Pea("search", "--tls-verify=false", "--format", "json", reg+"/multi")), &js); err != nil || len(js) != 1 || js[0].Index != reg {
		t.Errorf("search --format json: %v %+v", err, js)
	}
	oneLine(t, f.Fails(125, "search", "--tls-verify=false", "--list-tags", reg+"/nosuch/repo"), "NAME_UNKNOWN")

	// Bad input: one line, exit 125, nothing changed.
	oneLine(t, e.Fails(125, "manifest", "add", "nosuch", "localhost/bb"), "nosuch: image not known")
	oneLine(t, e.Fails(125, "manifest", "remove", "mylist", "bad"), "bad")
	oneLine(t, e.Fails(125, "manifest", "remove", "mylist", "sha256:"+strings.Repeat("0", 64)), "no image of digest")
	oneLine(t, e.Fails(125, "manifest", "create", "mylist"), "exists")
	oneLine(t, e.Fails(125, "manifest", "create", "half", "localhost/bb", "localhost/nosuch"), "localhost/nosuch")
	e.Fails(1, "manifest", "exists", "half")
	oneLine(t, e.Fails(125, "manifest", "inspect", "localhost/nosuch"), "image not known")
	oneLine(t, e.Fails(125, "manifest", "push", "--format", "v1", "mylist", ref), "--format")
	if got := len(parseListDoc(t, e.Pea("manifest", "inspect", "mylist")).Manifests); got != 2 {
		t.Errorf("failed edits changed the list: %d entries", got)
	}

	// remove takes an entry out; rm removes the list and leaves its images.
	e.Pea("manifest", "remove", "mylist", armDigest)
	if d := parseListDoc(t, e.Pea("manifest", "inspect", "mylist")); len(d.Manifests) != 1 || d.Manifests[0].Digest != amdDigest {
		t.Errorf("after remove: %+v", d)
	}
	if got := e.Pea("manifest", "rm", "mylist"); got != "Untagged: localhost/mylist:latest\nDeleted: "+listID {
		t.Errorf("manifest rm printed %q", got)
	}
	e.Fails(1, "manifest", "rm", "mylist")
	oneLine(t, e.Fails(125, "manifest", "rm", "localhost/bb"), "not a manifest list")
	if got := e.Pea("images", "--format", "{{.Repository}}"); got != "localhost/bb-arm64\nlocalhost/bb" && got != "localhost/bb\nlocalhost/bb-arm64" {
		t.Errorf("images after manifest rm: %q", got)
	}
	// push --rm removes the list once pushed; rmi removes a list too.
	e.Pea("manifest", "create", "once", "localhost/bb")
	e.Pea("manifest", "push", "-q", "--rm", "--tls-verify=false", "once", reg+"/once/bb:1")
	e.Fails(1, "manifest", "exists", "once")
	e.Pea("manifest", "create", "gone")
	e.Pea("rmi", "gone")
	e.Fails(1, "manifest", "exists", "gone")
	// A list without a name is listed as <none> (not hidden as a build's intermediate image)
	// and pruned as a dangling image.
	nameless := e.Pea("manifest", "create", "nameless")
	e.Pea("untag", "nameless")
	if got := e.Pea("images", "--format", "{{.Repository}} {{.ID}}", "--filter", "dangling=true"); got != "<none> "+nameless[:12] {
		t.Errorf("images of a list without a name: %q", got)
	}
	if got := e.Pea("image", "prune", "-f"); got != nameless {
		t.Errorf("prune: %q", got)
	}
	// Every document the lists had is gone with them.
	if got := e.storeListing(); strings.Join(got, " ") != strings.Join(filesBefore, " ") {
		t.Errorf("store files:\nbefore %v\nafter  %v", filesBefore, got)
	}
}

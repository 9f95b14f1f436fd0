package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The image's one layer (the busybox import has one) and its directory.
func bbLayer(t *testing.T, e *Env) (string, string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.Root, "images", "layers"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("layers: %v %v", ents, err)
	}
	return ents[0].Name(), filepath.Join(e.Root, "images", "layers", ents[0].Name())
}

// checkWorks shows that the store works after a repair: the image again, a container run,
// the listings, and a check that finds nothing.
func checkWorks(t *testing.T, e *Env) {
	t.Helper()
	if !strings.Contains(e.Pea("images", "--format", "{{.Repository}}"), "localhost/bb") {
		e.withBusybox()
	}
	if out := e.Pea("run", "--rm", "localhost/bb", "cat", "/etc/group"); !strings.Contains(out, "root:x:0:") {
		t.Fatalf("run after the repair: %q", out)
	}
	e.Pea("ps", "-a")
	e.Pea("images")
	if r := e.Try("system", "check"); r.Code != 0 || r.Stdout != "" {
		t.Fatalf("check after the repair: %s", r)
	}
}

// A sound store: nothing printed, exit 0, with and without --quick; --repair removes nothing.
func TestSystemCheckCleanStore(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "ran", "localhost/bb", "true")
	e.Pea("create", "--name", "made", "localhost/bb", "true") // no upper directory yet: not damage
	for _, args := range [][]string{{"system", "check"}, {"system", "check", "--quick"}, {"system", "check", "-r", "-f"}} {
		if r := e.Try(args...); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
			t.Fatalf("%v: %s", args, r)
		}
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); !strings.Contains(out, "ran") || !strings.Contains(out, "made") {
		t.Fatalf("containers after a check of a sound store: %q", out)
	}
}

// A truncated file and a planted one in a layer: found by the full check only (--quick reads no
// contents); the image and its container are reported; --repair without --force keeps both
// (a container uses the image) and exits 125; --force removes the container, the image and
// the layer.
func TestSystemCheckDamagedLayerFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "user", "localhost/bb", "true")
	hexID, dir := bbLayer(t, e)
	if err := os.Truncate(filepath.Join(dir, "diff", "bin", "busybox"), 1000); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "diff", "etc", "planted"), []byte("x"), 0o644)

	r := e.Fails(125, "system", "check")
	for _, want := range []string{"Damaged layer " + hexID + ":\n2 errors occurred:\n\t* /bin/busybox has 1000 bytes",
		"\t* /etc/planted is not in the layer", "Damaged image ", "Damaged container ", "is damaged"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("check: no %q in %s", want, r)
		}
	}
	if !strings.Contains(r.Stderr, "Error: damage detected in local storage") {
		t.Fatalf("check's error: %s", r)
	}
	if r := e.Try("system", "check", "--quick"); r.Code != 0 {
		t.Fatalf("--quick reads no file of a layer: %s", r)
	}

	r = e.Fails(125, "system", "check", "--repair")
	if strings.Contains(r.Stdout, "Deleted") || !strings.Contains(r.Stderr, "damage in local storage still present after repair attempt") {
		t.Fatalf("repair without --force: %s", r)
	}
	if e.Pea("ps", "-a", "--format", "{{.Names}}") != "user" || !strings.Contains(e.Pea("images"), "localhost/bb") {
		t.Fatal("repair without --force removed the container or its image")
	}

	r = e.Try("system", "check", "--repair", "--force")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Deleted damaged container: ") || !strings.Contains(r.Stdout, "Deleted damaged image: ") ||
		!strings.Contains(r.Stdout, "Deleted damaged layer: "+hexID) {
		t.Fatalf("repair with --force: %s", r)
	}
	if out := e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("containers after the repair: %q", out)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("damaged layer left: %v", err)
	}
	checkWorks(t, e)
}

// A layer directory gone: found by --quick too; an image no container uses goes with plain
// --repair.
func TestSystemCheckMissingLayerDir(t *testing.T) {
	e := newEnv(t).withBusybox()
	hexID, dir := bbLayer(t, e)
	os.RemoveAll(dir)
	r := e.Fails(125, "system", "check", "--quick")
	if !strings.Contains(r.Stdout, "Damaged layer "+hexID+":\n1 error occurred:\n\t* layer directory "+dir+" is missing\n\n") ||
		!strings.Contains(r.Stdout, "Damaged image ") {
		t.Fatalf("check: %s", r)
	}
	if r := e.Try("run", "--rm", "localhost/bb", "true"); r.Code == 0 {
		t.Fatalf("run on a missing layer: %s", r)
	}
	r = e.Try("system", "check", "-r")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Deleted damaged image: ") {
		t.Fatalf("repair: %s", r)
	}
	if out := e.Pea("images", "-q"); out != "" {
		t.Fatalf("images after the repair: %q", out)
	}
	checkWorks(t, e)
}

// What killed operations leave: a container directory without a record, an incomplete layer
// of a dead process in the image store's tmp/, a layer no image uses. Reported (and removed by
// --repair) once older than --max; a young one is left alone.
func TestSystemCheckOrphansAndIncompleteLayers(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--name", "keep", "localhost/bb", "true")
	orphan := strings.Repeat("ab", 32)
	os.MkdirAll(filepath.Join(e.Root, "containers", orphan, "upper"), 0o755)
	dead := exec.Command("true")
	dead.Run()
	pid := strconv.Itoa(dead.Process.Pid)
	old, young := pid+"-layer-0a0a0a", pid+"-layer-0b0b0b"
	for _, n := range []string{old, young} {
		os.MkdirAll(filepath.Join(e.Root, "images", "tmp", n, "diff", "bin"), 0o755)
	}
	unused := strings.Repeat("cd", 32)
	os.MkdirAll(filepath.Join(e.Root, "images", "layers", unused, "diff"), 0o755)
	then := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(e.Root, "images", "tmp", old), then, then)
	os.Chtimes(filepath.Join(e.Root, "images", "layers", unused), then, then)

	r := e.Fails(125, "system", "check")
	for _, want := range []string{"Damaged layer tmp/" + old + ":\n1 error occurred:\n\t* incomplete layer of an interrupted pull",
		"Damaged layer " + unused + ":\n1 error occurred:\n\t* layer is used by no image and is older than 24h0m0s",
		"Damaged container " + orphan + ":\n1 error occurred:\n\t* its files have no record in the database"} {
		if !strings.Contains(r.Stdout, want) {
			t.Fatalf("check: no %q in %s", want, r)
		}
	}
	if strings.Contains(r.Stdout, young) {
		t.Fatalf("a work directory younger than --max reported: %s", r)
	}
	if r := e.Fails(125, "system", "check", "--max", "0s"); !strings.Contains(r.Stdout, young) {
		t.Fatalf("--max 0s: %s", r)
	}
	e.Fails(125, "system", "check", "--max", "-1s")

	r = e.Try("system", "check", "--repair")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Deleted damaged layer: tmp/"+old) || !strings.Contains(r.Stdout, "Deleted damaged layer: "+unused) ||
		!strings.Contains(r.Stdout, "Deleted damaged container: "+orphan) {
		t.Fatalf("repair: %s", r)
	}
	for _, p := range []string{filepath.Join(e.Root, "containers", orphan), filepath.Join(e.Root, "images", "tmp", old),
		filepath.Join(e.Root, "images", "layers", unused)} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(e.Root, "images", "tmp", young)); err != nil {
		t.Fatalf("the young work directory was removed: %v", err)
	}
	if e.Pea("ps", "-a", "--format", "{{.Names}}") != "keep" {
		t.Fatal("a sound container went")
	}
	checkWorks(t, e)
}

// A container whose upper directory (its changes) is gone: kept and reported by --repair, removed
// by --force; a container never started has none and is sound.
func TestSystemCheckMissingUpperDir(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "--name", "lost", "localhost/bb", "true")
	_ = id
	id = e.Pea("inspect", "--format", "{{.Id}}", "lost")
	e.Pea("create", "--name", "fresh", "localhost/bb", "true")
	upper := filepath.Join(e.Root, "containers", id, "upper")
	os.RemoveAll(upper)
	r := e.Fails(125, "system", "check", "--quick")
	if !strings.Contains(r.Stdout, "Damaged container "+id+":\n1 error occurred:\n\t* its upper directory "+upper+" (the container's changes) is missing") ||
		strings.Contains(r.Stdout, "Damaged image") || strings.Count(r.Stdout, "Damaged") != 1 {
		t.Fatalf("check: %s", r)
	}
	e.Fails(125, "system", "check", "--repair")
	if !strings.Contains(e.Pea("ps", "-a", "--format", "{{.Names}}"), "lost") {
		t.Fatal("--repair without --force removed the container")
	}
	r = e.Try("system", "check", "--repair", "--force")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Deleted damaged container: "+id) || strings.Contains(r.Stdout, "Deleted damaged image") {
		t.Fatalf("repair --force: %s", r)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "fresh" {
		t.Fatalf("containers after the repair: %q", out)
	}
	checkWorks(t, e)
}

// A running container on a damaged layer: --repair leaves it running (and its image);
// --force stops and removes it, then the image and the layer. Through the libpod API as
// podman 5's client calls it, and through the command line.
func TestSystemCheckRunningContainerAndAPI(t *testing.T) {
	a := newAPIEnv(t)
	e := a.Env
	e.Pea("run", "-d", "--name", "runner", "localhost/bb", "sleep", "1000")
	_, dir := bbLayer(t, e)
	if err := os.Remove(filepath.Join(dir, "diff", "etc", "passwd")); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Errors            bool
		Layers, Images    map[string][]string
		Containers        map[string][]string
		RemovedLayers     []string
		RemovedImages     map[string][]string
		RemovedContainers map[string]string
	}
	a.RequestJSON("POST", "/v5.0.0/libpod/system/check?repair=true", nil, 200, &rep)
	if !rep.Errors || len(rep.Layers) != 1 || len(rep.Images) != 1 || len(rep.Containers) != 1 || len(rep.RemovedImages) != 0 || len(rep.RemovedContainers) != 0 {
		t.Fatalf("API check with repair: %+v", rep)
	}
	for _, l := range rep.Layers {
		if len(l) != 1 || l[0] != "/etc/passwd is missing" {
			t.Fatalf("layer's problems: %q", l)
		}
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "runner"); st != "running" {
		t.Fatalf("after a repair without --force the container is %s", st)
	}
	if code, body := a.Request("POST", "/v5.0.0/libpod/system/check?unreferenced_layer_max_age=soon", nil); code != 400 {
		t.Fatalf("bad max age: %d %s", code, body)
	}

	r := e.Try("system", "check", "-r", "-f")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Deleted damaged container: ") || !strings.Contains(r.Stdout, "Deleted damaged image: ") {
		t.Fatalf("repair --force: %s", r)
	}
	if out := e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("containers after the repair: %q", out)
	}
	a.RequestJSON("POST", "/v5.0.0/libpod/system/check", nil, 200, &rep)
	if rep.Errors {
		t.Fatalf("API check after the repair: %+v", rep)
	}
	checkWorks(t, e)
}

// The database: a row SQLite's foreign key check refuses is reported, and no repair removes it.
func TestSystemCheckDatabase(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "fine", "localhost/bb", "true")
	db := filepath.Join(e.Root, "pea.db")
	sql := func(q string) {
		t.Helper()
		if out, err := exec.Command("sqlite3", db, q).CombinedOutput(); err != nil {
			t.Fatalf("sqlite3: %v %s", err, out)
		}
	}
	sql(`UPDATE containers SET pod_id = 'nosuchpod' WHERE name = 'fine'`)
	r := e.Fails(125, "system", "check", "--quick", "--repair")
	if !strings.Contains(r.Stdout, "Damaged database "+db+":\n1 error occurred:\n\t* row 1 of containers refers to a missing row of pods") {
		t.Fatalf("check: %s", r)
	}
	sql(`UPDATE containers SET pod_id = NULL WHERE name = 'fine'`)
	if r := e.Try("system", "check"); r.Code != 0 {
		t.Fatalf("check of the mended database: %s", r)
	}
	e.Pea("rm", "fine")
}

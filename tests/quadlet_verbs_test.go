package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// quadletVerb runs `pea quadlet VERB...` with the generator's directories set to dirs (the
// first is where install puts files).
func quadletVerb(dirs string, args ...string) Result {
	cmd := exec.Command(peaBin, append([]string{"quadlet"}, args...)...)
	cmd.Env = quadletEnv("PEA_QUADLET_UNIT_DIRS=" + dirs)
	return runCmd(cmd)
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestQuadletVerbsInstallListPrintRm: podman 5.6's quadlet verbs on pea's directories, without
// systemd (this machine has none): install copies the file where the generator reads it and
// prints its path, list shows it "Not loaded" (podman's words for a unit systemd has not
// loaded), print shows it as written, rm removes it; the generator then makes its service.
func TestQuadletVerbsInstallListPrintRm(t *testing.T) {
	src := quadletFiles(t, map[string]string{
		"web.container": "# a comment\n[Container]\nImage=busybox\nExec=sleep 100\n",
		"conf.txt":      "setting=1\n",
	})
	dir := filepath.Join(t.TempDir(), "installed") // made by install
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "side.volume"), []byte("[Volume]\nVolumeName=side\n"), 0o644)
	dirs := dir + ":" + other

	r := quadletVerb(dirs, "install", "--reload-systemd=false", filepath.Join(src, "web.container"), filepath.Join(src, "conf.txt"))
	if r.Code != 0 || r.Stdout != filepath.Join(dir, "web.container")+"\n"+filepath.Join(dir, "conf.txt")+"\n" {
		t.Fatalf("install: %v", r)
	}
	// --reload-systemd (the default) without systemd: installed, with a warning.
	r = quadletVerb(dirs, "install", filepath.Join(src, "web.container"))
	if r.Code != 125 || !strings.Contains(r.Stderr, "a Quadlet with name web.container already exists, refusing to overwrite") {
		t.Fatalf("install over an installed file: %v", r)
	}
	os.WriteFile(filepath.Join(src, "web.container"), []byte("[Container]\nImage=busybox\nExec=sleep 200\n"), 0o644)
	r = quadletVerb(dirs, "install", "--replace", filepath.Join(src, "web.container"))
	if r.Code != 0 || !strings.Contains(r.Stderr, "systemd is not running") {
		t.Fatalf("install --replace: %v", r)
	}

	r = quadletVerb(dirs, "print", "web.container")
	if r.Code != 0 || r.Stdout != "[Container]\nImage=busybox\nExec=sleep 200\n" {
		t.Fatalf("print: %v", r)
	}
	if r = quadletVerb(dirs, "cat", "side.volume"); r.Stdout != "[Volume]\nVolumeName=side\n" {
		t.Fatalf("cat of a file of the second directory: %v", r)
	}
	if r = quadletVerb(dirs, "print", "nope.container"); r.Code != 125 || !strings.Contains(r.Stderr, `could not locate quadlet "nope.container" in any supported quadlet directory`) {
		t.Fatalf("print of a missing quadlet: %v", r)
	}
	if r = quadletVerb(dirs, "print", "conf.txt"); r.Code != 125 || !strings.Contains(r.Stderr, `".txt" is not a supported quadlet file type`) {
		t.Fatalf("print of a file that is not a quadlet: %v", r)
	}

	r = quadletVerb(dirs, "list")
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if r.Code != 0 || len(lines) != 3 || strings.Join(strings.Fields(lines[0]), " ") != "NAME UNIT NAME PATH ON DISK STATUS APPLICATION" {
		t.Fatalf("list: %v", r)
	}
	if f := strings.Fields(lines[1]); !slices.Equal(f, []string{"web.container", "web.service", filepath.Join(dir, "web.container"), "Not", "loaded"}) {
		t.Fatalf("list's row: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); !slices.Equal(f, []string{"side.volume", "side-volume.service", filepath.Join(other, "side.volume"), "Not", "loaded"}) {
		t.Fatalf("list's row: %q", lines[2])
	}
	var rows []map[string]string
	r = quadletVerb(dirs, "list", "--format", "json", "--filter", "name=^web")
	if err := json.Unmarshal([]byte(r.Stdout), &rows); err != nil || len(rows) != 1 || rows[0]["Name"] != "web.container" || rows[0]["UnitName"] != "web.service" || rows[0]["Status"] != "Not loaded" {
		t.Fatalf("list --format json --filter: %v", r)
	}
	if r = quadletVerb(dirs, "ls", "--format", "{{.Name}} {{.UnitName}}"); r.Stdout != "web.container web.service\nside.volume side-volume.service\n" {
		t.Fatalf("ls --format: %v", r)
	}
	if r = quadletVerb(dirs, "list", "--format", `{{range .}}{{.Name}}{{"\n"}}{{end}}`, "-f", "name=side"); r.Stdout != "side.volume\n" {
		t.Fatalf("list with a template over the list: %v", r)
	}
	if r = quadletVerb(dirs, "list", "--filter", "pod=x"); r.Code != 125 || !strings.Contains(r.Stderr, "pod is not a valid filter") {
		t.Fatalf("list --filter pod=: %v", r)
	}

	// The generator makes the installed file's service.
	if r = quadletVerb(dirs, "-dryrun"); r.Code != 0 || !strings.Contains(r.Stdout, "---web.service---") || !strings.Contains(r.Stdout, "sleep 200") {
		t.Fatalf("generator on the installed file: %v", r)
	}

	if r = quadletVerb(dirs, "rm", "--reload-systemd=false", "nope.container"); r.Code != 125 || !strings.Contains(r.Stderr, `could not locate quadlet "nope.container"`) {
		t.Fatalf("rm of a missing quadlet: %v", r)
	}
	if r = quadletVerb(dirs, "rm", "--reload-systemd=false", "--ignore", "nope.container"); r.Code != 0 {
		t.Fatalf("rm --ignore: %v", r)
	}
	if r = quadletVerb(dirs, "rm"); r.Code != 125 || !strings.Contains(r.Stderr, "at least one quadlet file must be selected") {
		t.Fatalf("rm without names: %v", r)
	}
	// The file installed with web.container goes with it.
	if r = quadletVerb(dirs, "rm", "--reload-systemd=false", "web.container"); r.Code != 0 || r.Stdout != "web.container\n" {
		t.Fatalf("rm: %v", r)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left after rm: %v", names)
	}
	if r = quadletVerb(dirs, "rm", "--all", "--reload-systemd=false"); r.Code != 0 || r.Stdout != "side.volume\n" {
		t.Fatalf("rm --all: %v", r)
	}
	if r = quadletVerb(dirs, "list"); r.Code != 0 || strings.Count(r.Stdout, "\n") != 1 {
		t.Fatalf("list of nothing: %v", r)
	}
}

// TestQuadletVerbsApplication: a directory installs as an application (.DIR.app), listed in
// APPLICATION; removing one of its files removes all of them, as does removing it by name.
func TestQuadletVerbsApplication(t *testing.T) {
	src := quadletFiles(t, map[string]string{
		"shop/db.container":  "[Container]\nImage=busybox\nVolume=data.volume:/data\n",
		"shop/data.volume":   "[Volume]\n",
		"shop/settings.conf": "a=b\n",
		"extra.txt":          "extra\n",
	})
	dir := t.TempDir()
	r := quadletVerb(dir, "install", "--reload-systemd=false", filepath.Join(src, "shop"), filepath.Join(src, "extra.txt"))
	if r.Code != 0 || strings.Count(r.Stdout, "\n") != 4 {
		t.Fatalf("install of a directory: %v", r)
	}
	r = quadletVerb(dir, "list", "--format", "{{.Name}} {{.App}}")
	if r.Stdout != "data.volume .shop.app\ndb.container .shop.app\n" {
		t.Fatalf("list of an application: %v", r)
	}
	if r = quadletVerb(dir, "rm", "--reload-systemd=false", "db.container"); r.Code != 0 || r.Stdout != "db.container\ndata.volume\n" {
		t.Fatalf("rm of an application's file: %v", r)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left after rm: %v", names)
	}
	quadletVerb(dir, "install", "--reload-systemd=false", filepath.Join(src, "shop"))
	if r = quadletVerb(dir, "rm", "--reload-systemd=false", ".shop.app"); r.Code != 0 || r.Stdout != "data.volume\ndb.container\n" {
		t.Fatalf("rm of an application by name: %v", r)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Fatalf("left after rm: %v", names)
	}
}

// TestQuadletVerbsInstallRefusals: a file that is not a Quadlet file, a missing file, a
// Quadlet file with a syntax error, a URL: one line each, exit 125, and nothing installed even
// when the other files were good.
func TestQuadletVerbsInstallRefusals(t *testing.T) {
	src := quadletFiles(t, map[string]string{
		"good.container":   "[Container]\nImage=busybox\n",
		"notes.txt":        "hello\n",
		"broken.container": "[Container]\nImage busybox\n",
		"app/one.pod":      "[Pod]\n",
		"app/two.network":  "[Network]\n",
		"app/sub/x.conf":   "\n",
		"nounits/a.txt":    "a\n",
	})
	dir := filepath.Join(t.TempDir(), "q")
	for _, c := range []struct {
		name string
		args []string
		msg  string
	}{
		{"not a quadlet", []string{"notes.txt"}, `".txt" is not a supported Quadlet file type`},
		{"missing asset", []string{"good.container", "missing.txt"}, "missing.txt\" failed to install: does not exist"},
		{"syntax error", []string{"good.container", "broken.container"}, `"Image busybox" is not a Key=Value assignment`},
		{"subdirectory", []string{"app"}, "sub\" failed to install: not a regular file"},
		{"no quadlet in the directory", []string{"nounits"}, "the directory holds no Quadlet file"},
		{"same name twice", []string{"good.container", "app/../good.container"}, "another file to install is named good.container"},
	} {
		var args []string
		for _, a := range c.args {
			args = append(args, filepath.Join(src, a))
		}
		r := quadletVerb(dir, append([]string{"install", "--reload-systemd=false"}, args...)...)
		if r.Code != 125 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, c.msg) || r.Stdout != "" {
			t.Errorf("%s: %v", c.name, r)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("%s: installed %v", c.name, names)
		}
	}
	r := quadletVerb(dir, "install", "http://127.0.0.1:1/x.container")
	if r.Code != 125 || !strings.Contains(r.Stderr, "not URLs") {
		t.Errorf("URL: %v", r)
	}
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The edits must apply to the Go that builds pea: when an upgrade moves their anchors, build.sh
// quietly builds an unpatched pea, and this is what says so.
func TestAppliesToInstalledGo(t *testing.T) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	goroot := strings.TrimSpace(string(out))
	dir := t.TempDir()
	overlay, err := write(goroot, dir)
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ Replace map[string]string }
	b, err := os.ReadFile(overlay)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	osFile, ok := o.Replace[filepath.Join(goroot, "src", "os", "pidfd_linux.go")]
	if !ok {
		t.Fatalf("overlay %s does not replace os/pidfd_linux.go", b)
	}
	if text, err := os.ReadFile(osFile); err != nil || strings.Contains(string(text), "if err := checkClonePidfd(); err != nil") {
		t.Errorf("os/pidfd_linux.go still probes clone(CLONE_PIDFD) (%v)", err)
	}
	rt := filepath.Join(goroot, "src", "runtime")
	for file, calls := range map[string][]string{
		"proc.go":        {"peaGCEnable()", "peaCgroupInit()", "peaCgroupInitLocked()", "malg(peaStackSize(fn))", "peaNoMemProfile()"},
		"debug.go":       {"peaCgroupInitLate()"},
		"pea_rtpatch.go": {"func peaGCEnable()"},
	} {
		p, ok := o.Replace[filepath.Join(rt, file)]
		if !ok {
			t.Fatalf("overlay %s does not replace %s", b, file)
		}
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range calls {
			if !strings.Contains(string(text), c) {
				t.Errorf("%s: no %s", file, c)
			}
		}
		if strings.Contains(string(text), "startTemplateThread()\n\t\tcgocall(_cgo_notify_runtime_init_done") {
			t.Errorf("%s: the template thread is still started with cgo's", file)
		}
	}
}

// A runtime the edits do not fit gets an error and no overlay: not a half-patched runtime.
func TestOtherRuntimeWritesNothing(t *testing.T) {
	goroot := t.TempDir()
	rt := filepath.Join(goroot, "src", "runtime")
	if err := os.MkdirAll(rt, 0o755); err != nil {
		t.Fatal(err)
	}
	// proc.go holds the first anchor only; debug.go has none.
	proc := "package runtime\n" + edits[0].Old + "\n"
	if err := os.WriteFile(filepath.Join(rt, "proc.go"), []byte(proc), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rt, "debug.go"), []byte("package runtime\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "overlay")
	_, err := write(goroot, out)
	if err == nil || !strings.Contains(err.Error(), "occur 0 times") {
		t.Fatalf("err %v, want the missing anchor named", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("%s was written (%v)", out, err)
	}
}

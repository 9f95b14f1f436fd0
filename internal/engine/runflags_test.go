package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"pea/internal/model"
)

func TestSubIDMaps(t *testing.T) {
	f := filepath.Join(t.TempDir(), "subuid")
	os.WriteFile(f, []byte("alice:100000:65536\nbob:200000:1000\nalice:300000:10\n"), 0o644)
	got, err := SubIDMaps(f, "alice")
	if err != nil || !slices.Equal(got, []string{"0:100000:65536", "65536:300000:10"}) {
		t.Fatalf("alice: %v %v", got, err)
	}
	if _, err := SubIDMaps(f, "carol"); err == nil {
		t.Fatal("carol has no ranges: want an error")
	}
	os.WriteFile(f, []byte("alice:x:1\n"), 0o644)
	if _, err := SubIDMaps(f, "alice"); err == nil {
		t.Fatal("a bad line: want an error")
	}
}

func TestMergeEnvExpanded(t *testing.T) {
	got := mergeEnvExpanded([]string{"PATH=/bin", "A=1"}, []string{"PATH=/opt:${PATH}", "B=$A-${NOPE}x"})
	if !slices.Equal(got, []string{"PATH=/opt:/bin", "A=1", "B=1-x"}) {
		t.Fatalf("%v", got)
	}
}

func TestParseDeviceCgroupRule(t *testing.T) {
	for rule, ok := range map[string]bool{"c 1:3 rwm": true, "b *:* r": true, "a 7:* m": true, "c 1:3": false, "x 1:3 r": false, "c 1 r": false, "c 1:3 rx": false, "c -1:3 r": false} {
		if _, err := parseDeviceCgroupRule(rule); (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", rule, err, ok)
		}
	}
}

func TestSystemdModeDetection(t *testing.T) {
	for _, c := range []struct {
		mode string
		cmd  []string
		want bool
	}{
		{"", []string{"/sbin/init"}, true},
		{"", []string{"/usr/lib/systemd/systemd", "--log-level=debug"}, true},
		{"", []string{"/bin/sh"}, false},
		{"always", []string{"/bin/sh"}, true},
		{"false", []string{"/sbin/init"}, false},
	} {
		cfg := &model.ContainerConfig{Systemd: c.mode, Cmd: c.cmd}
		if err := applySystemdMode(cfg); err != nil || cfg.SystemdMode != c.want {
			t.Errorf("%q %v: mode %v (%v), want %v", c.mode, c.cmd, cfg.SystemdMode, err, c.want)
		}
	}
}

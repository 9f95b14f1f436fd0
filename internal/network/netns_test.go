package network

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func TestNetNS(t *testing.T) {
	requireRoot(t)
	m := newTestManager(t)

	path, err := m.NewNetNS("c1")
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(m.runDir, "netns", "c1") || !mounted(t, path) {
		t.Fatalf("NewNetNS = %s, mounted %v", path, mounted(t, path))
	}
	out, err := inNS(t, path, "ip", "-o", "link", "show")
	if err != nil {
		t.Fatalf("ip link in namespace: %v: %s", err, out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(out, "lo:") || !strings.Contains(out, "UP") {
		t.Errorf("namespace links = %q, want only lo, up", out)
	}
	if out, err := inNS(t, path, "ip", "-o", "addr", "show", "lo"); err != nil || !strings.Contains(out, "127.0.0.1/8") {
		t.Errorf("lo addresses = %q, %v", out, err)
	}
	if _, err := m.NewNetNS("c1"); !errors.Is(err, errdefs.ErrExists) {
		t.Errorf("second NewNetNS(c1) = %v, want ErrExists", err)
	}
	if _, err := m.NewNetNS("../x"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("NewNetNS(../x) = %v, want ErrInvalid", err)
	}

	if err := m.RemoveNetNS(path); err != nil {
		t.Fatal(err)
	}
	if mounted(t, path) {
		t.Error("namespace still mounted after RemoveNetNS")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("namespace file still there: %v", err)
	}
	if err := m.RemoveNetNS(path); err != nil {
		t.Errorf("second RemoveNetNS = %v, want nil", err)
	}
	if err := m.RemoveNetNS("/etc/passwd"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("RemoveNetNS outside the store = %v, want ErrInvalid", err)
	}
}

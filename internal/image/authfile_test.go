//go:build !pea_split

package image

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestNormalizeAuthKey(t *testing.T) {
	for in, want := range map[string]string{
		"https://index.docker.io/v1/": "docker.io", "registry-1.docker.io": "docker.io", "docker.io": "docker.io",
		"http://127.0.0.1:5000/": "127.0.0.1:5000", "quay.io/ns": "quay.io/ns", "https://quay.io/v2/": "quay.io",
	} {
		if got := normalizeAuthKey(in); got != want {
			t.Errorf("normalizeAuthKey(%q) = %q, want %q", in, got, want)
		}
	}
	if got := RegistryHost("http://127.0.0.1:5000/ns/sub"); got != "127.0.0.1:5000" {
		t.Errorf("RegistryHost: %q", got)
	}
}

// A login replaces every older form of the registry's key, logout removes them all, and the
// lookup picks one entry deterministically.
func TestAuthFileKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.json")
	os.WriteFile(path, []byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"b2xkOm9sZA=="}},"credHelpers":{"x":"y"}}`), 0o600)
	o := PullOptions{AuthFile: path}
	if name, err := SavedUsername(o, "docker.io"); err != nil || name != "old" {
		t.Fatalf("docker's key read as docker.io: %q %v", name, err)
	}
	if err := SaveAuth(o, "docker.io", "new", "pw"); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Auths       map[string]json.RawMessage
		CredHelpers map[string]string
	}
	b, _ := os.ReadFile(path)
	json.Unmarshal(b, &doc)
	if len(doc.Auths) != 1 || doc.Auths["docker.io"] == nil || doc.CredHelpers["x"] != "y" {
		t.Fatalf("after login: %s", b)
	}
	if err := RemoveAuth(o, "https://index.docker.io/v1/"); err != nil {
		t.Fatalf("logout by docker's form: %v", err)
	}
	if err := RemoveAuth(o, "docker.io"); err == nil {
		t.Fatal("a second logout found credentials")
	}
	auths := map[string]authEntry{"https://quay.io/v1/": {Username: "a"}, "quay.io": {Username: "b"}, "quay.io/ns": {Username: "c"}}
	for i := 0; i < 20; i++ {
		if e, _ := matchAuth(auths, "quay.io/other/img"); e.Username != "b" {
			t.Fatalf("matchAuth picked %q, want the pea-written key's", e.Username)
		}
		if e, _ := matchAuth(auths, "quay.io/ns/img"); e.Username != "c" {
			t.Fatalf("matchAuth picked %q for the namespace", e.Username)
		}
	}
}

package tests

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// podman manifest create/add/inspect/exists/remove/push/rm --remote: a list name with a slash
// travels escaped in the path; what the store then holds is what pea manifest inspect shows.
func TestLibpodManifests(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("import", "--change", "LABEL second=1", busyboxTar(t), "localhost/second")
	type index struct {
		Manifests []struct {
			Digest      string
			Platform    struct{ Architecture, Variant string }
			Annotations map[string]string
		}
	}
	inspect := func(args ...string) index {
		t.Helper()
		var ix index
		out := a.Pea(append([]string{"manifest", "inspect"}, args...)...)
		if err := json.Unmarshal([]byte(out), &ix); err != nil {
			t.Fatalf("manifest inspect %v: %q: %v", args, out, err)
		}
		return ix
	}

	id := a.mustPodman("manifest", "create", "localhost/ml", "localhost/bb")
	if got := a.Pea("manifest", "exists", "localhost/ml"); got != "" {
		t.Fatalf("manifest exists: %q", got)
	}
	if out := a.mustPodman("manifest", "add", "--arch", "arm64", "--variant", "v8", "--annotation", "team=blue", "localhost/ml", "localhost/second"); out != id {
		t.Fatalf("manifest add printed %q, want the list's ID %s", out, id)
	}
	ix := inspect("localhost/ml")
	if len(ix.Manifests) != 2 || ix.Manifests[1].Platform.Architecture != "arm64" || ix.Manifests[1].Platform.Variant != "v8" || ix.Manifests[1].Annotations["team"] != "blue" {
		t.Fatalf("the list after add: %+v", ix)
	}
	var remote index
	if err := json.Unmarshal([]byte(a.mustPodman("manifest", "inspect", "localhost/ml")), &remote); err != nil || len(remote.Manifests) != 2 || remote.Manifests[0].Digest != ix.Manifests[0].Digest {
		t.Fatalf("podman manifest inspect: %+v (%v), pea's: %+v", remote, err, ix)
	}
	a.mustPodman("manifest", "exists", "localhost/ml")
	if r := a.podmanRemote("manifest", "exists", "localhost/nope"); r.Code != 1 {
		t.Fatalf("manifest exists nope: %s", r)
	}
	second := ix.Manifests[1].Digest
	a.mustPodman("manifest", "remove", "localhost/ml", second)
	if ix := inspect("localhost/ml"); len(ix.Manifests) != 1 || ix.Manifests[0].Digest == second {
		t.Fatalf("the list after remove: %+v", ix)
	}
	if r := a.podmanRemote("manifest", "remove", "localhost/ml", "sha256:0000"); r.Code != 125 {
		t.Fatalf("manifest remove of a bad digest: %s", r)
	}

	// annotate: the 4.3 remote client cannot (its annotate takes no flags), so the request is
	// sent as the client's PUT would be.
	first := ix.Manifests[0].Digest
	var rep struct{ ID string }
	a.RequestJSON("PUT", "/v4.3.1/libpod/manifests/localhost%2Fml", map[string]any{"Operation": "annotate", "Images": []string{first},
		"Variant": "v9", "Annotations": map[string]string{"k": "v"}}, http.StatusOK, &rep)
	if ix := inspect("localhost/ml"); rep.ID != id || ix.Manifests[0].Platform.Variant != "v9" || ix.Manifests[0].Annotations["k"] != "v" {
		t.Fatalf("the list after annotate (report %+v): %+v", rep, ix)
	}
	a.RequestJSON("PUT", "/v4.3.1/libpod/manifests/localhost%2Fml", map[string]any{"Operation": "bogus"}, http.StatusBadRequest, nil)

	// push --all: the list and its image to a registry, where pea finds the list again.
	reg := registrytest.New()
	srv := httptest.NewServer(http.HandlerFunc(reg.ServeHTTP))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/lib/ml:1"
	df := filepath.Join(t.TempDir(), "digest")
	a.mustPodman("manifest", "push", "--all", "--tls-verify=false", "--digestfile", df, "localhost/ml", ref)
	if digest, err := os.ReadFile(df); err != nil || !strings.HasPrefix(string(digest), "sha256:") {
		t.Fatalf("manifest push --digestfile: %q (%v), want the list's digest", digest, err)
	}
	if pushed := inspect("--tls-verify=false", ref); len(pushed.Manifests) != 1 || pushed.Manifests[0].Digest != ix.Manifests[0].Digest {
		t.Fatalf("the list in the registry: %+v", pushed)
	}

	if out := a.mustPodman("manifest", "rm", "localhost/ml"); out != "Untagged: localhost/ml:latest\nDeleted: "+id {
		t.Fatalf("manifest rm: %q", out)
	}
	if r := a.podmanRemote("manifest", "exists", "localhost/ml"); r.Code != 1 {
		t.Fatalf("manifest exists after rm: %s", r)
	}
}

package tests

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// trustKeys makes a throw-away GPG keyring for the test (GNUPGHOME, never the user's) with two
// keys, pea@example.test and other@example.test, and returns their exported public keys.
func trustKeys(t *testing.T) (trusted, other string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("GNUPGHOME", home)
	t.Cleanup(func() { exec.Command("gpgconf", "--kill", "gpg-agent").Run() })
	dir := t.TempDir()
	trusted, other = filepath.Join(dir, "pea.gpg"), filepath.Join(dir, "other.gpg")
	for _, k := range []struct{ uid, file string }{{"Pea Test <pea@example.test>", trusted}, {"Other <other@example.test>", other}} {
		if out, err := exec.Command("gpg", "--batch", "--passphrase", "", "--quick-gen-key", k.uid, "ed25519", "sign", "never").CombinedOutput(); err != nil {
			t.Fatalf("gpg --quick-gen-key: %v: %s", err, out)
		}
		out, err := exec.Command("gpg", "--batch", "--armor", "--export", k.uid).Output()
		if err != nil || len(out) == 0 {
			t.Fatalf("gpg --export: %v", err)
		}
		os.WriteFile(k.file, out, 0o644)
	}
	return trusted, other
}

// policyFile writes a throw-away policy; --signature-policy points pea at it (never at
// /etc/containers).
func policyFile(t *testing.T, policy string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(p, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A reject policy stops pull, run's and build's pulls before anything is stored, with
// podman's message and exit code; insecureAcceptAnything lets them through; the most specific
// scope wins.
func TestTrustPolicyPull(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, repo := range []string{"trusted/bb:1", "trusted/bb:2", "other/bb:1"} {
		e.Pea("push", "-q", "--tls-verify=false", "localhost/bb:latest", host+"/"+repo)
	}
	e.Pea("rmi", "localhost/bb:latest")
	reject := policyFile(t, `{"default":[{"type":"reject"}]}`)
	accept := policyFile(t, `{"default":[{"type":"insecureAcceptAnything"}]}`)
	scoped := policyFile(t, fmt.Sprintf(`{"default":[{"type":"reject"}],"transports":{"docker":{
		%q:[{"type":"insecureAcceptAnything"}],
		%q:[{"type":"reject"}]}}}`, host+"/trusted", host+"/trusted/bb:2"))

	rejected := func(r Result, ref string) {
		t.Helper()
		want := "Error: Source image rejected: Running image docker://" + ref + " is rejected by policy.\n"
		if r.Code != 125 || !strings.HasSuffix(r.Stderr, want) || strings.Count(r.Stderr, "Error:") != 1 {
			t.Fatalf("want exit 125 and %q, got %s", want, r)
		}
		if left := e.storeListing(); len(left) != 0 {
			t.Fatalf("a rejected pull left %v", left)
		}
	}
	rejected(e.Try("pull", "--signature-policy", reject, "--tls-verify=false", host+"/trusted/bb:1"), host+"/trusted/bb:1")
	rejected(e.Try("run", "--rm", "--signature-policy", reject, "--tls-verify=false", host+"/trusted/bb:1", "true"), host+"/trusted/bb:1")
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM " + host + "/other/bb:1\nRUN true\n"})
	r := e.Try("build", "-q", "--signature-policy", reject, "--tls-verify=false", ctx)
	if r.Code != 125 || !strings.Contains(r.Stderr, "Error: creating build container: Source image rejected: Running image docker://"+host+"/other/bb:1 is rejected by policy.") {
		t.Fatalf("build: %s", r)
	}
	// Per-scope: the repository is trusted, one of its tags is not, other repositories fall to
	// the default.
	e.Pea("pull", "-q", "--signature-policy", scoped, "--tls-verify=false", host+"/trusted/bb:1")
	e.Pea("rmi", "-a")
	rejected(e.Try("pull", "--signature-policy", scoped, "--tls-verify=false", host+"/trusted/bb:2"), host+"/trusted/bb:2")
	rejected(e.Try("pull", "--signature-policy", scoped, "--tls-verify=false", host+"/other/bb:1"), host+"/other/bb:1")
	e.Pea("pull", "-q", "--signature-policy", accept, "--tls-verify=false", host+"/other/bb:1")

	// A policy named explicitly must exist and parse.
	r = e.Fails(125, "pull", "--signature-policy", filepath.Join(e.Dir, "missing.json"), "--tls-verify=false", host+"/trusted/bb:1")
	if !strings.Contains(r.Stderr, "missing.json: no such file or directory") {
		t.Errorf("missing policy: %s", r)
	}
	bad := policyFile(t, `{"default":[{"type":"frobnicate"}]}`)
	r = e.Fails(125, "pull", "--signature-policy", bad, "--tls-verify=false", host+"/trusted/bb:1")
	if !strings.Contains(r.Stderr, `invalid policy in "`+bad+`": Unknown policy requirement type "frobnicate"`) {
		t.Errorf("bad policy: %s", r)
	}
	// sigstoreSigned cannot be checked here: refused, never accepted.
	sigstore := policyFile(t, `{"default":[{"type":"sigstoreSigned","keyPath":"/nonexistent.pub"}]}`)
	r = e.Fails(125, "pull", "--signature-policy", sigstore, "--tls-verify=false", host+"/trusted/bb:1")
	if !strings.Contains(r.Stderr, "Source image rejected: A sigstore signature was required") {
		t.Errorf("sigstoreSigned: %s", r)
	}
}

// signedBy: images signed (push --sign-by, image sign) with a throw-away key pull; unsigned
// ones, ones signed by another key or for another identity are refused. Signatures are found
// through the registries.d lookaside ($PEA_REGISTRIES_D here), or through the registry's own
// signature API when it announces one.
func TestTrustSignedBy(t *testing.T) {
	trusted, other := trustKeys(t)
	e := newEnv(t).withBusybox()
	e.Pea("import", tinyTar(t, "second image"), "localhost/second:1")
	reg := registrytest.New()
	apiSigs := map[string][]byte{} // the registry's own signatures, by manifest digest
	withAPI := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if withAPI && r.URL.Path == "/v2/" {
			w.Header().Set("X-Registry-Supports-Signatures", "1")
		}
		if strings.HasPrefix(r.URL.Path, "/extensions/v2/") {
			d := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
			var list struct {
				Signatures []map[string]any `json:"signatures"`
			}
			list.Signatures = []map[string]any{}
			if s, ok := apiSigs[d]; ok {
				list.Signatures = append(list.Signatures, map[string]any{"version": 2, "type": "atomic", "name": d + "@1", "content": base64.StdEncoding.EncodeToString(s)})
			}
			json.NewEncoder(w).Encode(list)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	conf := filepath.Join(e.Dir, "registries.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", host)), 0o644)
	t.Setenv("CONTAINERS_REGISTRIES_CONF", conf)
	sigs := filepath.Join(e.Dir, "sigstore")
	regsd := filepath.Join(e.Dir, "registries.d")
	os.MkdirAll(regsd, 0o755)
	os.WriteFile(filepath.Join(regsd, "test.yaml"), []byte(fmt.Sprintf("docker:\n  %s:\n    lookaside: file://%s\n", host, sigs)), 0o644)
	t.Setenv("PEA_REGISTRIES_D", regsd)

	// push --sign-by signs what it pushed; image sign signs what a registry holds.
	digestFile := filepath.Join(e.Dir, "digest")
	out := e.run(nil, "push", "--sign-by", "pea@example.test", "--digestfile", digestFile, "localhost/bb:latest", host+"/signed/bb:1")
	if out.Code != 0 || !strings.Contains(out.Stderr, "Signing manifest using simple signing\nStoring signatures\n") {
		t.Fatalf("push --sign-by: %s", out)
	}
	e.Pea("push", "-q", "localhost/second:1", host+"/signed/second:1")
	e.Pea("image", "sign", "--sign-by", "pea@example.test", "docker://"+host+"/signed/second:1")
	e.Pea("push", "-q", "localhost/bb:latest", host+"/unsigned/bb:1")
	raw, _ := os.ReadFile(digestFile)
	digest := string(raw)
	files, _ := filepath.Glob(filepath.Join(sigs, "signed", "*@sha256=*", "signature-1"))
	if len(files) != 2 {
		t.Fatalf("signatures written: %v", files)
	}

	policy := func(key string) string {
		return policyFile(t, fmt.Sprintf(`{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{%q:[{"type":"signedBy","keyType":"GPGKeys","keyPath":%q}],%q:[{"type":"signedBy","keyType":"GPGKeys","keyPath":%q}]}}}`,
			host+"/signed", key, host+"/unsigned", key))
	}
	good, wrongKey := policy(trusted), policy(other)
	fresh := newEnv(t)
	fresh.Pea("pull", "-q", "--signature-policy", good, host+"/signed/bb:1")
	fresh.Pea("pull", "-q", "--signature-policy", good, host+"/signed/second:1")
	fresh.Pea("pull", "-q", "--signature-policy", good, host+"/signed/bb@"+digest) // by digest: a signature of the repository
	fresh.Pea("rmi", "-af")

	refused := func(ref, policy, want string) {
		t.Helper()
		r := fresh.Fails(125, "pull", "-q", "--signature-policy", policy, ref)
		if !strings.Contains(r.Stderr, "Error: Source image rejected: "+want) {
			t.Fatalf("pull %s: want %q, got %s", ref, want, r)
		}
		if left := fresh.storeListing(); len(left) != 0 {
			t.Fatalf("a refused pull left %v", left)
		}
	}
	refused(host+"/unsigned/bb:1", good, "A signature was required, but no signature exists")
	refused(host+"/signed/bb:1", wrongKey, "Invalid GPG signature: signed by key")
	// The signature of signed/bb:1 put beside another repository's (same) manifest: wrong identity.
	e.Pea("push", "-q", "localhost/bb:latest", host+"/signed/copy:1")
	copyDir := filepath.Join(sigs, "signed", "copy@"+strings.Replace(digest, ":", "=", 1))
	os.MkdirAll(copyDir, 0o755)
	data, _ := os.ReadFile(filepath.Join(sigs, "signed", "bb@"+strings.Replace(digest, ":", "=", 1), "signature-1"))
	os.WriteFile(filepath.Join(copyDir, "signature-1"), data, 0o644)
	refused(host+"/signed/copy:1", good, "Signature for identity "+host+"/signed/bb:1 is not accepted")
	// A signature file that is not one.
	os.WriteFile(filepath.Join(copyDir, "signature-1"), []byte("garbage"), 0o644)
	refused(host+"/signed/copy:1", good, "Invalid GPG signature")

	// A registry that serves signatures itself is asked instead of the lookaside.
	withAPI = true
	refused(host+"/signed/bb:1", good, "A signature was required, but no signature exists")
	apiSigs[digest] = data
	fresh.Pea("pull", "-q", "--signature-policy", good, host+"/signed/bb:1")
}

// load, import and save are judged too, as podman does: archives carry no signatures.
func TestTrustLocalTransports(t *testing.T) {
	e := newEnv(t).withBusybox()
	reject := policyFile(t, `{"default":[{"type":"reject"}]}`)
	archives := policyFile(t, `{"default":[{"type":"reject"}],"transports":{"docker-archive":{"":[{"type":"insecureAcceptAnything"}]},"containers-storage":{"":[{"type":"insecureAcceptAnything"}]}}}`)
	tarball := filepath.Join(e.Dir, "bb.tar")
	id := e.Pea("images", "-q", "--no-trunc")
	r := e.Fails(125, "save", "--signature-policy", reject, "-o", tarball, "localhost/bb:latest")
	if want := "Error: Source image rejected: Running image containers-storage:[overlay@" + e.Root + "+" + e.RunRoot + "]@" + strings.TrimPrefix(id, "sha256:") + " is rejected by policy.\n"; r.Stderr != want {
		t.Fatalf("save: got %q, want %q", r.Stderr, want)
	}
	if _, err := os.Stat(tarball); err == nil {
		t.Fatal("a rejected save left its file")
	}
	e.Pea("save", "--signature-policy", archives, "-o", tarball, "localhost/bb:latest")
	oci := filepath.Join(e.Dir, "bb-oci.tar")
	e.Pea("save", "--format", "oci-archive", "-o", oci, "localhost/bb:latest")
	e.Pea("rmi", "-a")
	r = e.Fails(125, "load", "--signature-policy", reject, "-i", tarball)
	if want := "Error: Source image rejected: Running image docker-archive:" + tarball + ":localhost/bb:latest is rejected by policy.\n"; r.Stderr != want {
		t.Fatalf("load: got %q, want %q", r.Stderr, want)
	}
	r = e.Fails(125, "load", "--signature-policy", archives, "-i", oci)
	if want := "Error: Source image rejected: Running image oci-archive:" + oci + ": is rejected by policy.\n"; r.Stderr != want {
		t.Fatalf("load oci-archive: got %q, want %q", r.Stderr, want)
	}
	signed := policyFile(t, `{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/nonexistent.gpg"}]}`)
	r = e.Fails(125, "load", "--signature-policy", signed, "-i", tarball)
	if !strings.Contains(r.Stderr, "A signature was required, but no signature exists") {
		t.Fatalf("load under signedBy: %s", r)
	}
	r = e.Fails(125, "import", "--signature-policy", reject, busyboxTar(t), "localhost/imp:1")
	if want := "Error: Source image rejected: Running image tarball:" + busyboxTar(t) + " is rejected by policy.\n"; r.Stderr != want {
		t.Fatalf("import: got %q, want %q", r.Stderr, want)
	}
	if left := e.storeListing(); len(left) != 0 {
		t.Fatalf("rejected loads and imports left %v", left)
	}
	if got := e.Pea("load", "--signature-policy", archives, "-i", tarball); got != "Loaded image: localhost/bb:latest" {
		t.Fatalf("load: %q", got)
	}
}

// image trust set writes the policy file as podman does, and show reads it back.
func TestTrustSetShow(t *testing.T) {
	e := newEnv(t)
	trusted, _ := trustKeys(t)
	policy := filepath.Join(e.Dir, "policy.json")
	regsd := filepath.Join(e.Dir, "registries.d")
	os.MkdirAll(regsd, 0o755)
	os.WriteFile(filepath.Join(regsd, "a.yaml"), []byte("default-docker:\n  lookaside: file:///var/sigs\ndocker:\n  quay.io:\n    lookaside: https://sigs.example.com/q\n"), 0o644)
	r := e.Fails(125, "image", "trust", "set", "--policypath", policy, "-t", "accept", "docker.io")
	if r.Stderr != "Error: default trust policy must be set\n" {
		t.Fatalf("set before a default: %s", r)
	}
	e.Pea("image", "trust", "set", "--policypath", policy, "-t", "reject", "default")
	e.Pea("image", "trust", "set", "--policypath", policy, "-t", "accept", "docker.io")
	e.Pea("image", "trust", "set", "--policypath", policy, "-f", trusted, "quay.io/team")
	e.Pea("image", "trust", "set", "--policypath", policy, "-t", "reject", "docker.io") // replaces
	data, _ := os.ReadFile(policy)
	want := `{
    "default": [
        {
            "type": "reject"
        }
    ],
    "transports": {
        "docker": {
            "docker.io": [
                {
                    "type": "reject"
                }
            ],
            "quay.io/team": [
                {
                    "type": "signedBy",
                    "keyType": "GPGKeys",
                    "keyPath": "` + trusted + `"
                }
            ]
        }
    }
}`
	if string(data) != want {
		t.Fatalf("policy written:\n%s", data)
	}
	got := e.Pea("image", "trust", "show", "--policypath", policy, "--registrypath", regsd)
	wantShow := "TRANSPORT   NAME          TYPE        ID                STORE\n" +
		"all         default       reject                        file:///var/sigs\n" +
		"repository  docker.io     reject                        file:///var/sigs\n" +
		"repository  quay.io/team  signed      pea@example.test  https://sigs.example.com/q"
	if got != wantShow {
		t.Fatalf("show:\n%s\nwant:\n%s", got, wantShow)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(e.Pea("image", "trust", "show", "-j", "--policypath", policy, "--registrypath", regsd)), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0]["name"] != "* (default)" || rows[2]["gpg_id"] != "pea@example.test" || rows[2]["type"] != "signed" {
		t.Fatalf("show -j: %v", rows)
	}
	if got := e.Pea("image", "trust", "show", "--raw", "--policypath", policy); got != want {
		t.Fatalf("show --raw: %s", got)
	}
	// The pull obeys what set wrote.
	r = e.Fails(125, "pull", "--signature-policy", policy, "docker.io/library/busybox:latest")
	if !strings.Contains(r.Stderr, "Running image docker://docker.io/library/busybox:latest is rejected by policy.") {
		t.Fatalf("pull under the set policy: %s", r)
	}
}

// The API service's pulls (Docker's and libpod's) obey the default policy, here the user's
// ($HOME/.config/containers/policy.json, as podman reads it first).
func TestTrustAPIPull(t *testing.T) {
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".config", "containers"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "containers", "policy.json"), []byte(fmt.Sprintf(`{"default":[{"type":"reject"}],"transports":{
		"tarball":{"":[{"type":"insecureAcceptAnything"}]},"docker":{%q:[{"type":"insecureAcceptAnything"}]}}}`, host+"/ok")), 0o644)
	t.Setenv("HOME", home)
	a := newAPIEnv(t)
	a.Pea("push", "-q", "--tls-verify=false", "localhost/bb:latest", host+"/ok/bb:1")
	a.Pea("push", "-q", "--tls-verify=false", "localhost/bb:latest", host+"/no/bb:1")
	a.Pea("rmi", "-a")
	_, body := a.Request("POST", "/images/create?fromImage="+host+"/no/bb&tag=1", nil)
	if !strings.Contains(string(body), "Source image rejected: Running image docker://"+host+"/no/bb:1 is rejected by policy.") {
		t.Fatalf("docker pull of a rejected image: %s", body)
	}
	_, body = a.Request("POST", "/v4.3.1/libpod/images/pull?tlsVerify=false&reference="+host+"/no/bb:1", nil)
	if !strings.Contains(string(body), "Source image rejected") {
		t.Fatalf("libpod pull of a rejected image: %s", body)
	}
	if got := a.Pea("images", "-q"); got != "" {
		t.Fatalf("rejected pulls stored %q", got)
	}
	a.MustDocker("pull", host+"/ok/bb:1")
	_, body = a.Request("POST", "/v4.3.1/libpod/images/pull?tlsVerify=false&reference="+host+"/ok/bb:1", nil)
	if strings.Contains(string(body), "rejected") {
		t.Fatalf("libpod pull of an accepted image: %s", body)
	}
}

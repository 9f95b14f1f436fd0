//go:build !pea_split

package trust

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ name, policy, want string }{
		{"no default", `{}`, "Default policy is missing"},
		{"empty list", `{"default":[]}`, "must not be empty"},
		{"unknown type", `{"default":[{"type":"bogus"}]}`, `Unknown policy requirement type "bogus"`},
		{"unknown key", `{"default":[{"type":"reject","x":1}]}`, `Unknown key "x"`},
		{"unknown top key", `{"default":[{"type":"reject"}],"y":2}`, `Unknown key "y"`},
		{"two keys", `{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyData":"eA=="}]}`, "exactly one of"},
		{"no key", `{"default":[{"type":"signedBy","keyType":"GPGKeys"}]}`, "exactly one of"},
		{"bad key type", `{"default":[{"type":"signedBy","keyType":"RSA","keyPath":"/a"}]}`, `Unknown key type "RSA"`},
		{"bad identity", `{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","signedIdentity":{"type":"nope"}}]}`, "Unknown policy reference match type"},
		{"exactReference without tag", `{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","signedIdentity":{"type":"exactReference","dockerReference":"quay.io/a/b"}}]}`, "must be a name with a tag or a digest"},
		{"not json", `garbage`, "invalid character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.policy))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse(%s) = %v, want %q", c.policy, err, c.want)
			}
		})
	}
	// An unknown transport is allowed (and never consulted).
	if _, err := Parse([]byte(`{"default":[{"type":"reject"}],"transports":{"frob":{"":[{"type":"insecureAcceptAnything"}]}}}`)); err != nil {
		t.Fatal(err)
	}
}

// The most specific scope wins: repo:tag, repository, parent namespaces, host, *.domain, the
// transport's "", the default.
func TestScopes(t *testing.T) {
	p, err := Parse([]byte(`{"default":[{"type":"reject"}],"transports":{"docker":{
		"reg.example.com:5000/ns/app:1":[{"type":"insecureAcceptAnything"}],
		"reg.example.com:5000/ns/app":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/repo"}],
		"reg.example.com:5000/ns":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/ns"}],
		"reg.example.com:5000":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/host"}],
		"*.example.com":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/wild"}],
		"":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/transport"}]},
		"docker-archive":{"":[{"type":"insecureAcceptAnything"}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ref, want string }{
		{"reg.example.com:5000/ns/app:1", TypeAccept},
		{"reg.example.com:5000/ns/app:2", "/repo"},
		{"reg.example.com:5000/ns/app@sha256:" + strings.Repeat("a", 64), "/repo"},
		{"reg.example.com:5000/ns/other:1", "/ns"},
		{"reg.example.com:5000/top:1", "/host"},
		{"other.example.com/x:1", "/wild"},
		{"quay.io/x:1", "/transport"},
	} {
		r, err := ParseRef(c.ref)
		if err != nil {
			t.Fatal(err)
		}
		id, ns := DockerScopes(r)
		req := p.For("docker", id, ns)[0]
		got := req.Type
		if req.Type == TypeSignedBy {
			got = req.KeyPath
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.ref, got, c.want)
		}
	}
	if got := p.For("docker-archive", "", nil)[0].Type; got != TypeAccept {
		t.Errorf("docker-archive: %s", got)
	}
	if got := p.For("oci-archive", "/a/b.tar", []string{"/a"})[0].Type; got != TypeReject {
		t.Errorf("oci-archive falls back to the default: %s", got)
	}
}

func TestIdentityMatches(t *testing.T) {
	ref := func(s string) *Ref {
		r, err := ParseRef(s)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	digest := "@sha256:" + strings.Repeat("b", 64)
	for _, c := range []struct {
		name          string
		id            Identity
		image, signed string
		want          bool
	}{
		{"default: same tag", Identity{Type: MatchRepoDigestOrExact}, "quay.io/a/b:1", "quay.io/a/b:1", true},
		{"default: other tag", Identity{Type: MatchRepoDigestOrExact}, "quay.io/a/b:1", "quay.io/a/b:2", false},
		{"default: by digest, any tag of the repo", Identity{Type: MatchRepoDigestOrExact}, "quay.io/a/b" + digest, "quay.io/a/b:2", true},
		{"default: other repo", Identity{Type: MatchRepoDigestOrExact}, "quay.io/a/b:1", "quay.io/a/c:1", false},
		{"docker.io normalized", Identity{Type: MatchRepoDigestOrExact}, "busybox:latest", "docker.io/library/busybox:latest", true},
		{"exact: digest against tag", Identity{Type: MatchExact}, "quay.io/a/b" + digest, "quay.io/a/b:2", false},
		{"repository", Identity{Type: MatchRepository}, "quay.io/a/b:1", "quay.io/a/b:9", true},
		{"exactReference", Identity{Type: ExactReference, DockerReference: "quay.io/x/y:3"}, "quay.io/a/b:1", "quay.io/x/y:3", true},
		{"exactReference other", Identity{Type: ExactReference, DockerReference: "quay.io/x/y:3"}, "quay.io/a/b:1", "quay.io/x/y:4", false},
		{"exactRepository", Identity{Type: ExactRepository, DockerRepository: "quay.io/x/y"}, "quay.io/a/b:1", "quay.io/x/y:4", true},
		{"remap", Identity{Type: RemapIdentity, Prefix: "mirror.local/q", SignedPrefix: "quay.io"}, "mirror.local/q/a/b:1", "quay.io/a/b:1", true},
		{"remap not on a boundary", Identity{Type: RemapIdentity, Prefix: "mirror.local/q", SignedPrefix: "quay.io"}, "mirror.local/qq/a:1", "quay.io/q/a:1", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.id.matches(ref(c.image), *ref(c.signed)); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestPayload(t *testing.T) {
	p := Payload{ManifestDigest: "sha256:" + strings.Repeat("c", 64), DockerReference: "quay.io/a/b:1", Creator: "pea", Timestamp: 42}
	raw := MarshalPayload(p)
	want := `{"critical":{"identity":{"docker-reference":"quay.io/a/b:1"},"image":{"docker-manifest-digest":"sha256:` + strings.Repeat("c", 64) + `"},"type":"atomic container signature"},"optional":{"creator":"pea","timestamp":42}}`
	if string(raw) != want {
		t.Fatalf("payload %s", raw)
	}
	if got, err := ParsePayload(raw); err != nil || got != p {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{
		`{"critical":{"identity":{"docker-reference":"a:1"},"image":{"docker-manifest-digest":"sha256:1"},"type":"atomic container signature","x":1},"optional":{}}`,
		`{"critical":{"identity":{"docker-reference":"a:1"},"image":{"docker-manifest-digest":"sha256:1"},"type":"other"},"optional":{}}`,
		`{"critical":{"identity":{"docker-reference":"a:1"},"image":{"docker-manifest-digest":"sha256:1"},"type":"atomic container signature"}}`,
	} {
		if _, err := ParsePayload([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// gpgHome makes a throw-away keyring with two keys, and returns their exported public keys.
func gpgHome(t *testing.T) (trusted, other string) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("GNUPGHOME", home)
	t.Cleanup(func() { exec.Command("gpgconf", "--kill", "gpg-agent").Run() })
	for _, uid := range []string{"Pea Test <pea@example.test>", "Other <other@example.test>"} {
		if out, err := exec.Command("gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never").CombinedOutput(); err != nil {
			t.Fatalf("gpg: %v: %s", err, out)
		}
	}
	dir := t.TempDir()
	trusted, other = filepath.Join(dir, "pea.gpg"), filepath.Join(dir, "other.gpg")
	for path, uid := range map[string]string{trusted: "pea@example.test", other: "other@example.test"} {
		out, err := exec.Command("gpg", "--batch", "--armor", "--export", uid).Output()
		if err != nil || len(out) == 0 {
			t.Fatalf("export %s: %v", uid, err)
		}
		os.WriteFile(path, out, 0o644)
	}
	return trusted, other
}

func TestSignedBy(t *testing.T) {
	trusted, other := gpgHome(t)
	manifest := []byte(`{"schemaVersion":2}`)
	sum := sha256.Sum256(manifest)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	sign := func(ref, digest string) []byte {
		sig, err := SignGPG("pea@example.test", MarshalPayload(Payload{ManifestDigest: digest, DockerReference: ref, Creator: "test", Timestamp: 1}), "")
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	good := sign("quay.io/a/b:1", digest)
	policy := func(key string) *Policy {
		p, err := Parse([]byte(`{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"` + key + `"}]}`))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	r, _ := ParseRef("quay.io/a/b:1")
	check := func(p *Policy, sigs ...[]byte) error {
		return p.Check(&Image{Transport: "docker", Name: "//quay.io/a/b:1", Docker: &r, Manifest: manifest, Verify: VerifyGPG,
			Signatures: func() ([][]byte, error) { return sigs, nil }})
	}
	if err := check(policy(trusted), good); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	for _, c := range []struct {
		name string
		p    *Policy
		sigs [][]byte
		want string
	}{
		{"unsigned", policy(trusted), nil, "Source image rejected: A signature was required, but no signature exists"},
		{"other key", policy(other), [][]byte{good}, "Invalid GPG signature: signed by key"},
		{"other identity", policy(trusted), [][]byte{sign("quay.io/a/c:1", digest)}, "Signature for identity quay.io/a/c:1 is not accepted"},
		{"other manifest", policy(trusted), [][]byte{sign("quay.io/a/b:1", "sha256:"+strings.Repeat("0", 64))}, "does not match"},
		{"garbage", policy(trusted), [][]byte{[]byte("not a signature")}, "Invalid GPG signature"},
		{"two bad", policy(other), [][]byte{good, good}, "None of the signatures were accepted, reasons: "},
		{"missing key file", policy("/nonexistent/key.gpg"), [][]byte{good}, "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.p, c.sigs...)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "Source image rejected: ") {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// One good signature among bad ones is enough.
	if err := check(policy(trusted), []byte("junk"), good); err != nil {
		t.Fatal(err)
	}
	// keyData holds the key inline.
	data, _ := os.ReadFile(trusted)
	p := policy(trusted)
	p.Default[0] = Requirement{Type: TypeSignedBy, KeyType: "GPGKeys", KeyData: data, HasKeyData: true, Identity: Identity{Type: MatchRepoDigestOrExact}}
	if err := check(p, good); err != nil {
		t.Fatalf("keyData: %v", err)
	}
	if ids, err := KeyIdentities(trusted); err != nil || strings.Join(ids, ",") != "pea@example.test" {
		t.Fatalf("key identities: %v %v", ids, err)
	}
}

// set writes what podman writes, byte for byte; show reads it back.
func TestSetShow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := Set(path, "docker.io", "accept", nil); err == nil || err.Error() != "default trust policy must be set" {
		t.Fatalf("a scope before the default: %v", err)
	}
	steps := []struct {
		scope, typ string
		keys       []string
	}{
		{"default", "reject", nil},
		{"docker.io", "accept", nil},
		{"quay.io/foo", "signedBy", []string{"/k1.gpg", "k2.gpg"}},
	}
	for _, s := range steps {
		if err := Set(path, s.scope, s.typ, s.keys); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := os.ReadFile(path)
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
                    "type": "insecureAcceptAnything"
                }
            ],
            "quay.io/foo": [
                {
                    "type": "signedBy",
                    "keyType": "GPGKeys",
                    "keyPath": "/k1.gpg"
                },
                {
                    "type": "signedBy",
                    "keyType": "GPGKeys",
                    "keyPath": "k2.gpg"
                }
            ]
        }
    }
}`
	if string(got) != want {
		t.Fatalf("policy written:\n%s\nwant:\n%s", got, want)
	}
	for _, c := range []struct {
		scope, typ string
		keys       []string
		want       string
	}{
		{"x.io", "signedBy", nil, "at least one public key must be defined for type 'signedBy'"},
		{"x.io", "accept", []string{"k"}, "1 public keys unexpectedly provided for trust type accept"},
		{"x.io", "bogus", nil, "invalid choice: bogus"},
		{"bad!name", "reject", nil, "invalid image uri: bad!name"},
	} {
		if err := Set(path, c.scope, c.typ, c.keys); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("set %s %s: %v, want %q", c.typ, c.scope, err, c.want)
		}
	}
	regs := &RegistriesD{DefaultDocker: &Namespace{Lookaside: "file:///sigs"}, Docker: map[string]Namespace{"docker.io": {Sigstore: "https://sigs.example/dio"}}}
	rows, err := Show(path, regs, func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, r.Transport+"|"+r.RepoName+"|"+r.Type+"|"+r.Sigstore)
	}
	if got, want := strings.Join(lines, "\n"), "all|default|reject|file:///sigs\nrepository|docker.io|accept|https://sigs.example/dio\nrepository|quay.io/foo|signed|file:///sigs\nrepository|quay.io/foo|signed|file:///sigs"; got != want {
		t.Fatalf("show:\n%s\nwant:\n%s", got, want)
	}
}

func TestLookaside(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("default-docker:\n  lookaside: file:///var/sigs\ndocker:\n  reg.local:5000/team:\n    sigstore: http://127.0.0.1:9/s\n    sigstore-staging: file:///stage\n"), 0o644)
	c, err := LoadRegistriesD(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		ref   string
		write bool
		want  string
	}{
		{"reg.local:5000/team/app:1", false, "http://127.0.0.1:9/s/team/app"},
		{"reg.local:5000/team/app:1", true, "file:///stage/team/app"},
		{"reg.local:5000/other/app:1", false, "file:///var/sigs/other/app"},
	} {
		r, _ := ParseRef(x.ref)
		u, err := c.Lookaside(r, x.write)
		if err != nil || u.String() != x.want {
			t.Errorf("%s: %v %v, want %s", x.ref, u, err, x.want)
		}
	}
	empty, _ := LoadRegistriesD(filepath.Join(dir, "missing"))
	r, _ := ParseRef("quay.io/a/b:1")
	u, _ := empty.Lookaside(r, false)
	if got := SignatureURL(u, "sha256:abcd", 2).String(); got != "file:///var/lib/containers/sigstore/a/b@sha256=abcd/signature-2" {
		t.Errorf("default lookaside: %s", got)
	}
	os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("docker:\n  reg.local:5000/team:\n    lookaside: file:///x\n"), 0o644)
	if _, err := LoadRegistriesD(dir); err == nil {
		t.Error("two files configuring one scope were accepted")
	}
}

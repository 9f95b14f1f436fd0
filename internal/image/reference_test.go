package image

import (
	"testing"

	"pea/internal/errdefs"
)

func TestNormalizeName(t *testing.T) {
	cases := []struct {
		in, want string
		local    string // NormalizeLocalName, when different
	}{
		{in: "busybox", want: "docker.io/library/busybox:latest", local: "localhost/busybox:latest"},
		{in: "busybox:1.36", want: "docker.io/library/busybox:1.36", local: "localhost/busybox:1.36"},
		{in: "library/busybox", want: "docker.io/library/busybox:latest", local: "localhost/library/busybox:latest"},
		{in: "docker.io/busybox", want: "docker.io/library/busybox:latest"},
		{in: "index.docker.io/library/busybox", want: "docker.io/library/busybox:latest"},
		{in: "docker://quay.io/acme/app:v1", want: "quay.io/acme/app:v1"},
		{in: "localhost/bb", want: "localhost/bb:latest"},
		{in: "localhost:5000/bb", want: "localhost:5000/bb:latest"},
		{in: "127.0.0.1:5000/acc/bb:1", want: "127.0.0.1:5000/acc/bb:1"},
		{in: "example.com/a/b/c:tag-1.2_x", want: "example.com/a/b/c:tag-1.2_x"},
		{in: "my-app__x.y", want: "docker.io/library/my-app__x.y:latest", local: "localhost/my-app__x.y:latest"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := NormalizeName(c.in)
			if err != nil || got != c.want {
				t.Fatalf("NormalizeName(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
			wantLocal := c.local
			if wantLocal == "" {
				wantLocal = c.want
			}
			if got, err := NormalizeLocalName(c.in); err != nil || got != wantLocal {
				t.Fatalf("NormalizeLocalName(%q) = %q, %v; want %q", c.in, got, err, wantLocal)
			}
		})
	}
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestNormalizeNameInvalid(t *testing.T) {
	for _, in := range []string{"", "Busybox", "bb:", "bb:-x", "a//b", "-a", "bb@sha256:12", "bb@md5", "a/b:c:d", "UPPER.io:x/y/Z", ":tag", "a..b"} {
		t.Run(in, func(t *testing.T) {
			_, err := NormalizeName(in)
			if !errdefs.Is(err, errdefs.ErrInvalid) {
				t.Fatalf("NormalizeName(%q) = %v, want an invalid-argument error", in, err)
			}
		})
	}
}

func TestDigestReferences(t *testing.T) {
	for _, in := range []string{"quay.io/x@sha256:" + hex64, "quay.io/x:v1@sha256:" + hex64} {
		if got, err := NormalizeName(in); err != nil || got != "quay.io/x@sha256:"+hex64 {
			t.Errorf("NormalizeName(%q) = %q, %v", in, got, err)
		}
		if _, err := NormalizeLocalName(in); !errdefs.Is(err, errdefs.ErrInvalid) {
			t.Errorf("NormalizeLocalName(%q) accepted a digest: %v", in, err)
		}
	}
}

func TestSplitName(t *testing.T) {
	for _, c := range []struct{ in, repo, tag string }{
		{"localhost/bb:latest", "localhost/bb", "latest"},
		{"127.0.0.1:5000/acc/bb:1", "127.0.0.1:5000/acc/bb", "1"},
		{"quay.io/x@sha256:" + hex64, "quay.io/x", ""},
	} {
		if repo, tag := SplitName(c.in); repo != c.repo || tag != c.tag {
			t.Errorf("SplitName(%q) = %q, %q", c.in, repo, tag)
		}
	}
}

package image

import (
	"bytes"
	"reflect"
	"testing"

	"pea/internal/errdefs"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, format := range []string{FormatDockerArchive, FormatOCIArchive} {
		t.Run(format, func(t *testing.T) {
			s := newStore(t)
			img, err := s.Import(bytes.NewReader(gzipped(t, smallRootfs(t))), "localhost/bb:latest", []string{"CMD /bin/sh"})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Tag(img.ID, "127.0.0.1:5000/acc/bb:1"); err != nil {
				t.Fatal(err)
			}
			// A second image whose blob is compressed: pulled-style manifests survive too.
			other, err := s.Load(randomDockerArchive(t, "quay.io/x/y:2"), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := s.Save(&buf, []string{"localhost/bb:latest", "127.0.0.1:5000/acc/bb:1", "quay.io/x/y:2"}, format); err != nil {
				t.Fatal(err)
			}
			for _, im := range []*Image{img, other[0]} {
				if err := s.Remove(im.ID); err != nil {
					t.Fatal(err)
				}
			}
			if left := storeFiles(t, s); len(left) != 0 {
				t.Fatalf("left after rmi: %v", left)
			}
			loaded, err := s.Load(bytes.NewReader(buf.Bytes()), LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(loaded) != 2 {
				t.Fatalf("loaded %d images", len(loaded))
			}
			got, err := s.Lookup("localhost/bb:latest")
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != img.ID || got.Digest != img.Digest || !reflect.DeepEqual(got.Layers, img.Layers) {
				t.Errorf("round trip changed the image:\nbefore %s %s\nafter  %s %s", img.ID, img.Digest, got.ID, got.Digest)
			}
			if !reflect.DeepEqual(got.Names, []string{"localhost/bb:latest", "127.0.0.1:5000/acc/bb:1"}) {
				t.Errorf("names %v", got.Names)
			}
			y, err := s.Lookup("quay.io/x/y:2")
			if err != nil || y.ID != other[0].ID || y.Digest != other[0].Digest {
				t.Errorf("second image: %+v %v", y, err)
			}
			if _, err := s.LayerDirs(got); err != nil {
				t.Error(err)
			}
		})
	}
}

// randomDockerArchive is a docker-archive as other tools write it (gzip layers).
func randomDockerArchive(t *testing.T, ref string) *bytes.Reader {
	t.Helper()
	return bytes.NewReader(randomImage(t, "amd64", 2).dockerArchive(t, ref))
}

func TestLoadForeignDockerArchive(t *testing.T) {
	s := newStore(t)
	imgs, err := s.Load(randomDockerArchive(t, "busybox:1"), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || !reflect.DeepEqual(imgs[0].Names, []string{"docker.io/library/busybox:1"}) || len(imgs[0].Layers) != 2 {
		t.Errorf("loaded %+v", imgs[0])
	}
	if got, err := s.Lookup("busybox:1"); err != nil || got.ID != imgs[0].ID {
		t.Errorf("lookup: %v", err)
	}
}

func TestLoadCorrupt(t *testing.T) {
	s := newStore(t)
	if _, err := s.Import(bytes.NewReader(smallRootfs(t)), "keep", nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := s.Save(&buf, []string{"keep"}, ""); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	big := randomDockerArchive(t, "big:1")
	bigBytes := make([]byte, big.Len())
	big.Read(bigBytes)
	before, beforeIDs := storeFiles(t, s), ids(t, s)
	cases := map[string][]byte{
		"truncated":         saved[:len(saved)/2],
		"head -c 5000":      bigBytes[:5000],
		"truncated big":     bigBytes[:len(bigBytes)-3000],
		"garbage":           bytes.Repeat([]byte("nope"), 1000),
		"empty":             nil,
		"flipped layer bit": flip(bigBytes, 3000),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := s.Load(bytes.NewReader(data), LoadOptions{}); err == nil {
				t.Fatal("a corrupt archive was accepted")
			} else if !errdefs.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error is not classed invalid: %v", err)
			}
			if after := storeFiles(t, s); !reflect.DeepEqual(after, before) {
				t.Errorf("store changed:\nbefore %v\nafter  %v", before, after)
			}
			if !reflect.DeepEqual(ids(t, s), beforeIDs) {
				t.Errorf("images changed")
			}
		})
	}
}

func flip(b []byte, at int) []byte {
	c := append([]byte(nil), b...)
	c[at] ^= 0x10
	return c
}

func TestSaveErrors(t *testing.T) {
	s := newStore(t)
	var buf bytes.Buffer
	if err := s.Save(&buf, []string{"nosuch"}, ""); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("unknown image: %v", err)
	}
	if _, err := s.Import(bytes.NewReader(smallRootfs(t)), "x", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(&buf, []string{"x"}, "zip"); !errdefs.Is(err, errdefs.ErrInvalid) {
		t.Errorf("bad format: %v", err)
	}
}

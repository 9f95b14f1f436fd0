package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podman cp into a container through the libpod API: the client stats the destination (HEAD
// archive, podman's isDir), names the tar's entries as they are to be and PUTs it into a
// directory; a copy between containers sends a rename map instead.
func TestLibpodCp(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("run", "-d", "--name", "c", "--user", "1000:1000", "localhost/bb", "sleep", "100")
	a.Pea("exec", "-u", "0", "c", "ln", "-s", "/tmp", "/lnk")
	host := t.TempDir()
	file := filepath.Join(host, "f")
	os.WriteFile(file, []byte("one\n"), 0o644)
	dir := filepath.Join(host, "d")
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "a"), []byte("a\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "b"), []byte("b\n"), 0o644)
	owned := filepath.Join(host, "owned")
	os.WriteFile(owned, []byte("o\n"), 0o644)
	os.Chown(owned, 1234, 1234)

	a.mustPodman("cp", file, "c:/tmp/new")     // a file to a new name
	a.mustPodman("cp", file, "c:/tmp/")        // a file into a directory
	a.mustPodman("cp", dir, "c:/tmp/")         // a directory into one
	a.mustPodman("cp", dir, "c:/tmp/nd")       // a directory to a new name
	a.mustPodman("cp", dir+"/.", "c:/tmp/nd2") // a directory's contents to a new name
	a.mustPodman("cp", owned, "c:/lnk")        // through a link to a directory
	a.mustPodman("cp", "--archive=false", owned, "c:/tmp/kept")
	want := map[string]string{
		"/tmp/new": "one 1000", "/tmp/f": "one 1000", "/tmp/d/a": "a 1000", "/tmp/d/sub/b": "b 1000", "/tmp/nd/a": "a 1000",
		"/tmp/nd/sub/b": "b 1000", "/tmp/nd2/sub/b": "b 1000", "/tmp/owned": "o 1000", "/tmp/kept": "o 1234",
	}
	for p, w := range want {
		if out := a.Pea("exec", "c", "sh", "-c", "echo $(cat "+p+") $(stat -c %u "+p+")"); out != w {
			t.Errorf("%s in the container: %q, want %q", p, out, w)
		}
	}
	if out := a.Pea("exec", "c", "ls", "/tmp/nd2"); out != "a\nsub" {
		t.Errorf("/tmp/nd2: %q (the contents, not the directory)", out)
	}
	if r := a.podmanRemote("cp", dir, "c:/tmp/new"); r.Code == 0 || !strings.Contains(r.Stderr, "destination must be a directory") {
		t.Errorf("a directory onto a file: %s", r)
	}
	if r := a.podmanRemote("cp", file, "c:/nowhere/x"); r.Code == 0 || !strings.Contains(r.Stderr, "could not be found") {
		t.Errorf("into a missing directory: %s", r)
	}

	// Between containers (the second one stopped): the tar of the first, renamed by the map.
	a.Pea("create", "--name", "c2", "localhost/bb", "sleep", "100")
	a.mustPodman("cp", "c:/tmp/d", "c2:/tmp/copied")
	a.mustPodman("cp", "c:/tmp/new", "c2:/tmp/one")
	a.Pea("start", "c2")
	if out := a.Pea("exec", "c2", "sh", "-c", "cat /tmp/copied/a /tmp/copied/sub/b /tmp/one"); out != "a\nb\none" {
		t.Fatalf("copied between containers: %q", out)
	}
	if out := a.Pea("exec", "c2", "ls", "/tmp"); out != "copied\none" {
		t.Fatalf("c2's /tmp: %q", out)
	}
}

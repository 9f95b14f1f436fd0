package tests

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestCopyTarStreams: cp CONTAINER:PATH - writes the path as a tar on stdout and cp -
// CONTAINER:DIR unpacks a tar from stdin, as podman's (pea used to write a file named "-"
// for the first and ignored the second); a running container's / comes out with /proc and /sys
// empty (its copy failed on a file of /sys before).
func TestCopyTarStreams(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "c", "--hostname", "hn", "localhost/bb", "sleep", "300")

	entries := func(r Result) map[string]string {
		t.Helper()
		if r.Code != 0 {
			t.Fatalf("cp to stdout: %s", r)
		}
		out := map[string]string{}
		tr := tar.NewReader(strings.NewReader(r.Stdout))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return out
			}
			if err != nil {
				t.Fatalf("cp to stdout wrote no tar: %v", err)
			}
			b, _ := io.ReadAll(tr)
			out[h.Name] = string(b)
		}
	}
	if got := entries(e.Try("cp", "c:/etc/hostname", "-")); len(got) != 1 || got["hostname"] != "hn\n" {
		t.Fatalf("cp c:/etc/hostname -: %q", got)
	}
	all := entries(e.Try("cp", "c:/", "-"))
	if _, ok := all["bin/busybox"]; !ok {
		t.Fatalf("cp c:/ - lacks bin/busybox (%d entries)", len(all))
	}
	for name := range all {
		if strings.HasPrefix(name, "proc/") && name != "proc/" || strings.HasPrefix(name, "sys/") && name != "sys/" {
			t.Fatalf("cp c:/ - copied the kernel's files: %s", name)
		}
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "d/f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 6})
	tw.Write([]byte("hello\n"))
	tw.Close()
	if r := e.PeaIn(buf.String(), "cp", "-", "c:/tmp"); r.Code != 0 {
		t.Fatalf("cp - c:/tmp: %s", r)
	}
	if out := e.Pea("exec", "c", "cat", "/tmp/d/f"); out != "hello" {
		t.Fatalf("after cp - c:/tmp: %q", out)
	}
	if r := e.PeaIn("not a tar at all", "cp", "-", "c:/tmp"); r.Code != 125 {
		t.Fatalf("cp - of garbage: %s", r)
	}
	if r := e.PeaIn(buf.String(), "cp", "-", "c:/etc/hostname"); r.Code != 125 || !strings.Contains(r.Stderr, "not a directory") {
		t.Fatalf("cp - onto a file: %s", r)
	}
	e.Fails(125, "cp", "-", "-")
	if out := e.Pea("exec", "c", "cat", "/etc/hostname"); out != "hn" {
		t.Fatalf("a refused cp changed the container: %q", out)
	}
}

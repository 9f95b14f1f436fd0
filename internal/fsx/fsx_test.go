package fsx

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// The point of the package: using it never creates the runtime's poller. Checked in a child
// process (the test binary itself), which counts its eventpoll descriptors through plain system
// calls after every kind of use.
func TestNoPoller(t *testing.T) {
	if dir := os.Getenv("FSX_CHILD_DIR"); dir != "" {
		p := filepath.Join(dir, "f")
		if err := WriteFile(p, []byte("x"), 0o600); err != nil {
			panic(err)
		}
		if b, err := ReadFile(p); err != nil || string(b) != "x" {
			panic(err)
		}
		if _, err := ReadFile("/proc/self/stat"); err != nil { // /proc files can be polled
			panic(err)
		}
		if _, err := ReadDir(dir); err != nil {
			panic(err)
		}
		if _, err := ReadDirNames(dir); err != nil {
			panic(err)
		}
		if _, err := AppendFile(filepath.Join(dir, "log"), []byte("x\n"), 0o600); err != nil {
			panic(err)
		}
		n := 0
		for fd := 0; fd < 64; fd++ {
			buf := make([]byte, 64)
			if k, err := unix.Readlink("/proc/self/fd/"+strconv.Itoa(fd), buf); err == nil && strings.Contains(string(buf[:k]), "eventpoll") {
				n++
			}
		}
		unix.Write(1, []byte("eventpoll="+strconv.Itoa(n)+"\n"))
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestNoPoller$")
	cmd.Env = append(os.Environ(), "FSX_CHILD_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "eventpoll=0") {
		t.Fatalf("the child made a poller: %s", out)
	}
}

func TestErrorsAndOrder(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "none")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	for _, n := range []string{"b", "a", "c"} {
		if err := WriteFile(filepath.Join(dir, n), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ents, err := ReadDir(dir)
	if err != nil || len(ents) != 3 || ents[0].Name() != "a" || ents[2].Name() != "c" {
		t.Fatalf("ReadDir: %v %v", ents, err)
	}
}

// TestProcStat: the fields of the test's own process, counted past a command name that holds a
// space and a parenthesis, and no fields for a process that does not exist.
func TestProcStat(t *testing.T) {
	f, ok := ProcStat(os.Getpid())
	if !ok || (f[0] != "R" && f[0] != "S") || f[1] != strconv.Itoa(os.Getppid()) {
		t.Fatalf("own stat: %v %v (want state R or S, then the parent's PID %d)", ok, f, os.Getppid())
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "a b) c")
	if err := os.Symlink("/bin/sleep", exe); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "10")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	f, ok = ProcStat(cmd.Process.Pid)
	if !ok || f[1] != strconv.Itoa(os.Getpid()) {
		t.Fatalf("stat of %q: %v %v, want the parent's PID %d as the fourth field", exe, ok, f, os.Getpid())
	}
	if _, ok := ProcStat(1 << 30); ok {
		t.Fatal("stat of a process that cannot exist")
	}
}

// TestAppendFile: the file is created with its mode, each append lands whole after the others
// (also from many goroutines at once: one write each), and the size returned is the file's
// size after that append, at a line boundary.
func TestAppendFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	size, err := AppendFile(path, []byte("first\n"), 0o600)
	if err != nil || size != 6 {
		t.Fatalf("first append: %d %v", size, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	line := []byte(strings.Repeat("x", 999) + "\n")
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for range 50 {
				size, err := AppendFile(path, line, 0o600)
				if err != nil || (size-6)%int64(len(line)) != 0 {
					t.Errorf("append: size %d %v", size, err)
					return
				}
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b[6:]), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if l != string(line[:len(line)-1]) {
			t.Fatalf("an interleaved line: %.40q...", l)
		}
	}
	if _, err := AppendFile(filepath.Join(path, "sub"), line, 0o600); err == nil {
		t.Fatal("appending below a file succeeded")
	}
}

func TestUnescapeMountPath(t *testing.T) {
	for in, want := range map[string]string{
		`/sys/fs/cgroup/a\040b`: "/sys/fs/cgroup/a b",
		`/x\134y`:               `/x\y`,
		`/plain`:                "/plain",
		`/bad\09`:               `/bad\09`,
	} {
		if got := UnescapeMountPath(in); got != want {
			t.Errorf("UnescapeMountPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// CreateUnnamed: nothing is at the path until publish, which replaces what was there; a device
// is written to directly.
func TestCreateUnnamed(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	os.WriteFile(p, []byte("old"), 0o644)
	f, publish, _, err := CreateUnnamed(p)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("new")
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Fatalf("before publish: %q", b)
	}
	if err := publish(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(p); string(b) != "new" {
		t.Fatalf("after publish: %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 { // (before the device below)
		t.Fatalf("files beside the output: %v", ents)
	}
	// A device (a null device made in the test's directory, so that a wrong abandon removes
	// only that): written to as it is, and left by abandon.
	dev := filepath.Join(dir, "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Skip("mknod:", err)
	}
	f, publish, abandon, err := CreateUnnamed(dev)
	if err != nil || f.Name() != dev {
		t.Fatalf("a device: %v", err)
	}
	f.WriteString("x")
	if publish() != nil {
		t.Fatal("publish of a device")
	}
	f.Close()
	abandon() // a failed save to a device leaves the device
	if _, err := os.Stat(dev); err != nil {
		t.Fatal(err)
	}
}

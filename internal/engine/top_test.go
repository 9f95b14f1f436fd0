package engine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pea/internal/model"
)

func TestTTYName(t *testing.T) {
	for nr, want := range map[uint64]string{0: "?", 136<<8 | 3: "pts/3", 137<<8 | 1: "pts/257", 4<<8 | 1: "tty1", 4<<8 | 65: "ttyS1", 5<<8 | 1: "console", 7<<8 | 1: "?"} {
		if got := ttyName(nr); got != want {
			t.Errorf("ttyName(%#x) = %q, want %q", nr, got, want)
		}
	}
}

// idNames reads passwd and group files as they are found in images: comments, short and blank
// lines, an ID named twice (the first name wins).
func TestIDNames(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc", "passwd"), []byte("# comment\nroot:x:0:0:root:/root:/bin/sh\n\nbroken\ntoor:x:0:0::/:/bin/sh\n:x:5:5\nwww:x:33:33::/var/www:/bin/false\n"), 0o644)
	got := idNames(root, "etc/passwd")
	if len(got) != 2 || got["0"] != "root" || got["33"] != "www" {
		t.Errorf("idNames = %v", got)
	}
	if got := idNames(root, "etc/none"); len(got) != 0 {
		t.Errorf("idNames of a missing file = %v", got)
	}
	// A container's file is read as the container finds it: an absolute link stays inside its
	// root, and what is not a regular file is not read at all.
	os.WriteFile(filepath.Join(root, "etc", "group"), []byte("inside:x:7:\n"), 0o644)
	os.Symlink("/etc/group", filepath.Join(root, "etc", "glink"))
	if got := idNames(root, "etc/glink"); got["7"] != "inside" || len(got) != 1 {
		t.Errorf("an absolute link in the root: %v (the host's file was read)", got)
	}
	// etc/zero leads to the root's own dev/zero, a device (as a running container's /dev has).
	refused := []string{"etc/magic", "etc/fifo"}
	os.Symlink("/proc/self/root/dev/zero", filepath.Join(root, "etc", "magic"))
	unix.Mkfifo(filepath.Join(root, "etc", "fifo"), 0o644)
	os.MkdirAll(filepath.Join(root, "dev"), 0o755)
	if unix.Mknod(filepath.Join(root, "dev", "zero"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 5))) == nil {
		os.Symlink("/dev/zero", filepath.Join(root, "etc", "zero"))
		refused = append(refused, "etc/zero")
	}
	for _, rel := range refused {
		if _, err := readInRoot(root, rel, 1<<20); err == nil {
			t.Errorf("%s was read", rel)
		}
	}
}

// Top starts no process, so it must not create Go's poller (an epoll instance made by the first
// os.Open of a process, ~0.3 ms of a short command): every file it reads goes through fsx. The
// test process stands in for a running container, in a child whose open descriptors are counted.
func TestTopMakesNoPoller(t *testing.T) {
	if os.Getenv("PEA_TOP_CHILD") != "" {
		c := &model.Container{
			Config: &model.ContainerConfig{Name: "self"},
			State:  &model.ContainerState{Status: model.StatusRunning, Pid: os.Getpid()},
		}
		rows, err := (&Runtime{}).Top([]*model.Container{c}, []string{"user", "pid", "group", "args"})
		if err != nil || len(rows) < 2 {
			fmt.Printf("top: %d rows, %v\n", len(rows), err)
			os.Exit(1)
		}
		n := 0
		fds, _ := os.ReadDir("/proc/self/fd") // a poller after the fact changes nothing
		for _, fd := range fds {
			if l, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.Contains(l, "eventpoll") {
				n++
			}
		}
		fmt.Printf("eventpoll=%d\n", n)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestTopMakesNoPoller$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PEA_TOP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "eventpoll=0") {
		t.Fatalf("Top made a poller: %s", out)
	}
}

func TestIDInNS(t *testing.T) {
	maps := []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 1000}, {ContainerID: 1000, HostID: 5000, Size: 1}}
	for host, want := range map[string]string{"100000": "0", "100999": "999", "5000": "1000", "101000": "65534", "0": "65534", "x": "x"} {
		if got := idInNS(maps, host); got != want {
			t.Errorf("host %s: %s, want %s", host, got, want)
		}
	}
	if got := idInNS(nil, "100000"); got != "100000" {
		t.Errorf("no mappings read: %s", got)
	}
}

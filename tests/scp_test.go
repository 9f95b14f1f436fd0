package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// image scp between root's store and a user's: root's pea saves, the user's pea (run as the
// user, on the user's default store) loads, and back. The user has a passwd line only in the
// test's mount namespace (newAccountEnv), where the root pea of the test runs too.
func TestImageScpBetweenRootAndUser(t *testing.T) {
	const uid = 52734
	runDir := fmt.Sprintf("/tmp/pea-run-%d", uid)
	t.Cleanup(func() { os.RemoveAll(runDir) }) // after the user's teardown (cleanups run last-in first)
	u := newAccountEnv(t, uid, "peascp", "", 0)
	// The user's default store: under its home, and /tmp/pea-run-UID (no runtime directory).
	u.Root = filepath.Join(u.home, ".local", "share", "pea", "storage")
	u.RunRoot = filepath.Join(runDir, "pea")
	root := newEnv(t).withBusybox()
	// asRoot runs root's pea in the test's mount namespace: the user's copy of pea, which the
	// user may run (scp runs the same binary as the user).
	asRoot := func(args ...string) Result {
		return runCmd(exec.Command("nsenter", append([]string{"-t", strconv.Itoa(u.mountNS), "-m", "--", u.bin}, root.args(args...)...)...))
	}
	r := asRoot("image", "scp", "localhost/bb", "peascp@localhost::")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "Loaded image: localhost/bb:latest" {
		t.Fatalf("scp to the user: %s", r)
	}
	if got := u.U("run", "--rm", "--network", "none", "localhost/bb", "echo", "in-users-store"); got != "in-users-store" {
		t.Fatalf("the copied image: %q", got)
	}
	root.Pea("rmi", "localhost/bb")
	u.U("tag", "localhost/bb", "localhost/back")
	r = asRoot("image", "scp", "-q", "peascp@localhost::localhost/back", "root@localhost::")
	if r.Code != 0 || r.Stdout != "" {
		t.Fatalf("scp -q from the user: %s", r)
	}
	if got := root.Pea("images", "--format", "{{.Repository}}"); got != "localhost/back" {
		t.Fatalf("root's images after the copy back: %q", got)
	}
	// What scp cannot do: a host that is no connection, a missing user, a user copying into
	// root's store. (Connections: remote_test.go.)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"image", "scp", "localhost/back", "otherhost::"}, "neither localhost nor a connection"},
		{[]string{"image", "scp", "localhost/back", "nosuchuser@localhost::"}, "nosuchuser"},
		{[]string{"image", "scp", "localhost/back"}, "must specify a destination"},
	} {
		if r := asRoot(c.args...); r.Code != 125 || !strings.Contains(r.Stderr, c.want) {
			t.Fatalf("%v: %s", c.args, r)
		}
	}
	if r := u.user("image", "scp", "localhost/back", "root@localhost::"); r.Code != 125 || !strings.Contains(r.Stderr, "needs root") {
		t.Fatalf("a user copying into root's store: %s", r)
	}
}

// Package tests runs the pea binary end to end, as root, on real containers, in throw-away
// --root/--runroot directories. TestMain builds pea once; each test gets its own store and
// removes everything it made, even on failure.
package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var peaBin string

func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		fmt.Println("tests: skipped, they need root")
		os.Exit(0)
	}
	// Every pea the tests run (and every pea those run: conmon's exit commands, services)
	// reads an empty containers.conf, not the host's: the tests of containers.conf
	// (containersconf_test.go) name their own file.
	os.Setenv("CONTAINERS_CONF", os.DevNull)
	dir, err := os.MkdirTemp("", "pea-bin-")
	if err != nil {
		panic(err)
	}
	peaBin = filepath.Join(dir, "pea")
	build := exec.Command("../scripts/build.sh", peaBin) // the build that setup.sh installs
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Println("build pea:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if bbTar != "" {
		os.RemoveAll(filepath.Dir(bbTar))
	}
	os.Exit(code)
}

// Env is one throw-away pea store.
type Env struct {
	t       *testing.T
	Root    string
	RunRoot string
	Dir     string
}

// newEnv makes a fresh store and registers its teardown: every pod and container is removed
// and the directories are unmounted and deleted.
func newEnv(t *testing.T) *Env {
	t.Helper()
	dir, err := os.MkdirTemp("", "pea-test-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{t: t, Dir: dir, Root: filepath.Join(dir, "root"), RunRoot: filepath.Join(dir, "run")}
	t.Cleanup(e.teardown)
	return e
}

func (e *Env) teardown() {
	e.run(nil, "pod", "rm", "-af", "-t", "0")
	e.run(nil, "rm", "-af", "-t", "0")
	// Networks own host bridges and NAT rules, and claims in a host-wide registry: system
	// reset removes every one the store made (the default one too, which network rm refuses)
	// and releases every claim, a removal's leftover too. (Listing the networks with `network
	// ls` would first create the default one.)
	confs, _ := filepath.Glob(filepath.Join(e.Root, "networks", "*.conflist"))
	if len(confs) > 0 || len(storeClaims(e.Root)) > 0 {
		e.run(nil, "system", "reset", "-f")
	}
	exec.Command("umount", "-R", e.Dir).Run()
	// Unmount anything left below the store (overlays, netns pins), deepest first.
	if data, err := os.ReadFile("/proc/self/mounts"); err == nil {
		var mnts []string
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) > 1 && strings.HasPrefix(f[1], e.Dir+"/") {
				mnts = append(mnts, f[1])
			}
		}
		for i := len(mnts) - 1; i >= 0; i-- {
			exec.Command("umount", "-l", mnts[i]).Run()
		}
	}
	os.RemoveAll(e.Dir)
}

// claimRegistry is pea's host-wide registry of bridge names and subnets
// (internal/network/claims.go): one claim a line, the claiming conflist's path last, quoted.
const claimRegistry = "/var/lib/pea-host/network-claims"

// storeClaims lists the claims ("bridge pea3", "subnet 10.90.1.0/24") in the registry that name
// a network of the store at root.
func storeClaims(root string) []string {
	data, _ := os.ReadFile(claimRegistry)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.SplitN(line, " ", 5)
		if len(f) != 5 || strings.HasPrefix(line, "#") {
			continue
		}
		if config, err := strconv.Unquote(f[4]); err == nil && strings.HasPrefix(config, root+"/") {
			out = append(out, f[0]+" "+f[1])
		}
	}
	return out
}

// Result of one pea command.
type Result struct {
	Stdout, Stderr string
	Code           int
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.Code, r.Stdout, r.Stderr)
}

func (e *Env) run(stdin []byte, args ...string) Result { return e.runEnv(stdin, nil, args...) }

// Traced runs pea with PEA_TRACE=1 and returns the result whatever it is: the trace is on stderr.
func (e *Env) Traced(args ...string) Result { return e.runEnv(nil, []string{"PEA_TRACE=1"}, args...) }

// runEnv runs pea with env added to the test's environment.
func (e *Env) runEnv(stdin []byte, env []string, args ...string) Result {
	cmd := exec.Command(peaBin, e.args(args...)...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	return runCmd(cmd)
}

// args are pea's arguments for e's store.
func (e *Env) args(args ...string) []string {
	return append([]string{"--root", e.Root, "--runroot", e.RunRoot}, args...)
}

// runCmd runs cmd and returns what it printed and its exit code (-1 when it could not run).
func runCmd(cmd *exec.Cmd) Result {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return Result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// Pea runs pea and fails the test unless it exits 0; it returns trimmed stdout.
func (e *Env) Pea(args ...string) string {
	e.t.Helper()
	r := e.run(nil, args...)
	if r.Code != 0 {
		e.t.Fatalf("pea %s: %s", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout)
}

// PeaIn runs pea with stdin.
func (e *Env) PeaIn(stdin string, args ...string) Result {
	return e.run([]byte(stdin), args...)
}

// Try runs pea and returns the result whatever it is.
func (e *Env) Try(args ...string) Result { return e.run(nil, args...) }

// Fails runs pea, requires a non-zero exit code and returns the result.
func (e *Env) Fails(code int, args ...string) Result {
	e.t.Helper()
	r := e.run(nil, args...)
	if r.Code != code {
		e.t.Fatalf("pea %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	return r
}

var bbTarOnce sync.Once
var bbTar string

// busyboxTar builds (once per test run) a rootfs tarball from Debian's busybox-static.
func busyboxTar(t *testing.T) string {
	t.Helper()
	bbTarOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pea-bb-")
		if err != nil {
			t.Fatal(err)
		}
		r := filepath.Join(dir, "rootfs")
		for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root", "var/www"} {
			os.MkdirAll(filepath.Join(r, d), 0o755)
		}
		os.Chmod(filepath.Join(r, "tmp"), 0o1777)
		if out, err := exec.Command("cp", "/bin/busybox", filepath.Join(r, "bin/busybox")).CombinedOutput(); err != nil {
			t.Fatalf("busybox-static missing: %s", out)
		}
		list, err := exec.Command("/bin/busybox", "--list").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range strings.Fields(string(list)) {
			if a != "busybox" {
				os.Symlink("busybox", filepath.Join(r, "bin", a))
			}
		}
		os.WriteFile(filepath.Join(r, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n"), 0o644)
		os.WriteFile(filepath.Join(r, "etc/group"), []byte("root:x:0:\nnogroup:x:65534:\nbob:x:1000:\nstaff:x:50:bob\n"), 0o644)
		bbTar = filepath.Join(dir, "bb.tar")
		if out, err := exec.Command("tar", "--numeric-owner", "-C", r, "-cf", bbTar, ".").CombinedOutput(); err != nil {
			t.Fatalf("tar: %s", out)
		}
		os.RemoveAll(r)
	})
	if bbTar == "" {
		t.Fatal("busybox tarball not built")
	}
	return bbTar
}

// withBusybox imports the busybox rootfs as localhost/bb:latest into e.
func (e *Env) withBusybox() *Env {
	e.t.Helper()
	e.Pea("import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"--change", `CMD ["/bin/sh"]`, busyboxTar(e.t), "localhost/bb:latest")
	return e
}

// eventually retries f until it returns nil or the deadline passes (for effects that take a
// moment, such as a server starting inside a container). It is not a timing assertion.
func eventually(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sqliteIntegrity runs PRAGMA integrity_check on the store's database.
func sqliteIntegrity(t *testing.T, e *Env) string {
	t.Helper()
	// A pea may hold the database meanwhile (an exit command's cleanup, the copy of the WAL
	// after a command): the check waits for it, as pea's own connections do, instead of
	// failing on "database is locked" (seen once after TestKilledPeaLeavesNothingAfterRm's kills).
	out, err := exec.Command("sqlite3", "-cmd", ".timeout 10000", filepath.Join(e.Root, "pea.db"), "PRAGMA integrity_check;").CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// syncBuffer collects what a background process writes, readable while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

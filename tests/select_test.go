package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The containers a verb acts on, chosen as podman's: --filter (ps's filters; the full IDs of the
// matches are printed, and names are refused beside it), --cidfile, --latest.
func TestSelectByFilterAndCidfile(t *testing.T) {
	e := newEnv(t).withBusybox()
	cid := filepath.Join(e.Dir, "web.cid")
	web := e.Pea("run", "-d", "--network", "none", "--label", "tier=web", "--cidfile", cid, "--name", "web", "localhost/bb", "sleep", "300")
	db := e.Pea("run", "-d", "--network", "none", "--label", "tier=db", "--name", "db", "localhost/bb", "sleep", "300")
	// An existing ID file is refused (it may be another container's), as podman 4.3.1 does,
	// before anything is created; pea overwrote it.
	for _, verb := range []string{"run", "create"} {
		r := e.Fails(125, verb, "--network", "none", "--cidfile", cid, "--name", "dup-"+verb, "localhost/bb", "true")
		if !strings.Contains(r.Stderr, "container id file exists") {
			t.Fatalf("%s with an existing --cidfile: %s", verb, r)
		}
		if e.Try("container", "exists", "dup-"+verb).Code == 0 {
			t.Fatalf("%s with an existing --cidfile created a container", verb)
		}
	}
	status := func(name string) string { return e.Pea("inspect", "--format", "{{.State.Status}}", name) }

	if r := e.Fails(125, "stop", "--filter", "label=tier=web", "db"); !strings.Contains(r.Stderr, "--filter takes no arguments") {
		t.Fatalf("stop --filter with a name: %s", r)
	}
	if out := e.Pea("pause", "--filter", "label=tier=web"); out != web {
		t.Fatalf("pause --filter printed %q, want the full ID", out)
	}
	if status("web") != "paused" || status("db") != "running" {
		t.Fatalf("pause --filter: web %s, db %s", status("web"), status("db"))
	}
	if out := e.Pea("unpause", "--cidfile", cid); out != web || status("web") != "running" {
		t.Fatalf("unpause --cidfile: %q, web %s", out, status("web"))
	}
	if out := e.Pea("kill", "--cidfile", cid); out != web {
		t.Fatalf("kill --cidfile: %q", out)
	}
	if out := e.Pea("restart", "--filter", "name=web"); out != web || status("web") != "running" {
		t.Fatalf("restart --filter: %q, web %s", out, status("web"))
	}
	if out := e.Pea("stop", "-t", "0", "--filter", "label=tier=db"); out != db || status("db") != "exited" || status("web") != "running" {
		t.Fatalf("stop --filter: %q, db %s, web %s", out, status("db"), status("web"))
	}
	if out := e.Pea("rm", "--filter", "name=nothing-matches"); out != "" {
		t.Fatalf("rm --filter matching nothing: %q", out)
	}
	if out := e.Pea("rm", "--filter", "status=exited"); out != db {
		t.Fatalf("rm --filter status=exited: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "web" {
		t.Fatalf("left after rm --filter: %q", out)
	}
	if r := e.Fails(125, "rm", "--filter", "bogus=1"); !strings.Contains(r.Stderr, "bogus") {
		t.Fatalf("rm with an unknown filter: %s", r)
	}
}

// rm --depend removes the containers that join the named one first (and theirs), printing each.
func TestRmDepend(t *testing.T) {
	e := newEnv(t).withBusybox()
	base := e.Pea("run", "-d", "--network", "none", "--name", "base", "localhost/bb", "sleep", "300")
	mid := e.Pea("run", "-d", "--ipc", "container:base", "--network", "none", "--name", "mid", "localhost/bb", "sleep", "300")
	top := e.Pea("run", "-d", "--uts", "container:mid", "--network", "none", "--name", "top", "localhost/bb", "sleep", "300")
	other := e.Pea("create", "--network", "none", "--name", "other", "localhost/bb", "true")
	if r := e.Try("rm", "-f", "base"); r.Code == 0 || !strings.Contains(r.Stderr, "dependent containers") {
		t.Fatalf("rm of a container others join, without --depend: %s", r)
	}
	if out := e.Pea("rm", "-f", "-t", "0", "--depend", "base"); out != top+"\n"+mid+"\nbase" {
		t.Fatalf("rm --depend printed %q, want the dependents' IDs (deepest first), then the name", out)
	}
	if out := e.Pea("ps", "-a", "-q", "--no-trunc"); out != other {
		t.Fatalf("left after rm --depend: %q", out)
	}
	_ = base
}

// pod start/stop --pod-id-file, as pod rm's.
func TestPodVerbsIDFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	f := filepath.Join(e.Dir, "pod.id")
	id := e.Pea("pod", "create", "--network", "none", "--pod-id-file", f, "--name", "p")
	if out := e.Pea("pod", "start", "--pod-id-file", f); out != id {
		t.Fatalf("pod start --pod-id-file: %q", out)
	}
	// pod ps --format json is podman's ListPodsReport (shared with the libpod API): its Cgroup is
	// the pod's cgroup parent.
	var pods []struct {
		Cgroup, ID string
		Containers []struct{ Status string }
	}
	if err := json.Unmarshal([]byte(e.Pea("pod", "ps", "--format", "json")), &pods); err != nil || len(pods) != 1 ||
		pods[0].Cgroup != "/pea" || pods[0].ID != id || len(pods[0].Containers) != 1 || pods[0].Containers[0].Status != "running" {
		t.Fatalf("pod ps --format json: %+v %v", pods, err)
	}
	if out := e.Pea("pod", "stop", "-t", "0", "--pod-id-file", f); out != id {
		t.Fatalf("pod stop --pod-id-file: %q", out)
	}
	if out := e.Pea("pod", "stop", "--ignore", "--pod-id-file", filepath.Join(e.Dir, "missing")); out != "" {
		t.Fatalf("pod stop --ignore of a missing file: %q", out)
	}
	if r := e.Fails(125, "pod", "start", "--pod-id-file", filepath.Join(e.Dir, "missing")); !strings.Contains(r.Stderr, "missing") {
		t.Fatalf("pod start of a missing file: %s", r)
	}
}

// pod rm --pod-id-file deletes the file with its pod (podman 4.4's), so that a pod create
// --pod-id-file of the same file (a Quadlet pod's restart) is not refused; with --ignore (or
// -f) a file whose pod is gone already is deleted too; without, the error keeps it.
func TestPodRmIDFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	f := filepath.Join(e.Dir, "pod.id")
	for round := 0; round < 2; round++ {
		id := e.Pea("pod", "create", "--network", "none", "--pod-id-file", f, "--name", "idf")
		if out := e.Pea("pod", "rm", "--pod-id-file", f); out != id {
			t.Fatalf("pod rm --pod-id-file: %q", out)
		}
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("round %d: the ID file is left: %v", round, err)
		}
	}
	if out := e.Pea("pod", "rm", "-f", "--pod-id-file", f); out != "" { // no file: nothing to do
		t.Fatalf("pod rm -f of a missing file: %q", out)
	}
	e.Pea("pod", "create", "--network", "none", "--pod-id-file", f, "--name", "idf")
	e.Pea("pod", "rm", "idf") // by name: the file stays, naming a pod that is gone
	if r := e.Fails(1, "pod", "rm", "--pod-id-file", f); !strings.Contains(r.Stderr, "no pod with name or ID") {
		t.Fatalf("pod rm of a gone pod's file: %s", r)
	}
	if _, err := os.Stat(f); err != nil {
		t.Fatalf("a failed pod rm deleted the file: %v", err)
	}
	if out := e.Pea("pod", "rm", "--ignore", "--pod-id-file", f); out != "" {
		t.Fatalf("pod rm --ignore of a gone pod's file: %q", out)
	}
	if _, err := os.Stat(f); !os.IsNotExist(err) {
		t.Fatalf("pod rm --ignore left the gone pod's file: %v", err)
	}
}

// cp --overwrite lets a directory replace a file and a file a directory (its tree gone, a link
// inside it removed, not followed); without it both are refused and nothing changes.
func TestCopyOverwrite(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "c", "localhost/bb", "sh", "-c",
		"mkdir -p /e /tree/deep && echo file > /e/sub && echo keep > /etc/keep && ln -s /etc /tree/deep/link && echo in > /tree/deep/f; sleep 300")
	eventually(t, 10*time.Second, func() error {
		if r := e.Try("exec", "c", "test", "-e", "/tree/deep/f"); r.Code != 0 {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	host := t.TempDir()
	os.MkdirAll(filepath.Join(host, "e", "sub"), 0o755)
	os.WriteFile(filepath.Join(host, "e", "sub", "q"), []byte("q\n"), 0o644)
	os.WriteFile(filepath.Join(host, "tree"), []byte("now a file\n"), 0o644)
	if r := e.Fails(125, "cp", filepath.Join(host, "e"), "c:/"); !strings.Contains(r.Stderr, "--overwrite") {
		t.Fatalf("cp of a directory onto a file: %s", r)
	}
	e.Fails(125, "cp", filepath.Join(host, "tree"), "c:/")
	if out := e.Pea("exec", "c", "sh", "-c", "cat /e/sub /tree/deep/f"); out != "file\nin" {
		t.Fatalf("refused copies changed the container: %q", out)
	}
	e.Pea("cp", "--overwrite", filepath.Join(host, "e"), "c:/")
	e.Pea("cp", "--overwrite", filepath.Join(host, "tree"), "c:/")
	if out := e.Pea("exec", "c", "sh", "-c", "cat /e/sub/q /tree /etc/keep"); out != "q\nnow a file\nkeep" {
		t.Fatalf("after cp --overwrite: %q", out)
	}
}

// diff --latest, stats --no-trunc, secret create --env, secret ls --filter.
func TestSmallFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("run", "-d", "--network", "none", "localhost/bb", "sh", "-c", "touch /made; sleep 300")
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("diff", "--latest"); out != "C /etc\nA /made" { // /etc: as podman's
			return fmt.Errorf("diff --latest: %q", out)
		}
		return nil
	})
	if out := e.Pea("stats", "--no-stream", "--no-trunc", "--format", "{{.ID}}"); out != id {
		t.Fatalf("stats --no-trunc: %q", out)
	}
	// podman's columns and sizes (4 significant digits, no space); a pod's infra container is
	// listed too.
	e.Pea("pod", "create", "--network", "none", "--name", "p")
	e.Pea("pod", "start", "p")
	out := e.Pea("stats", "--no-stream")
	// (The header's spacing follows the widest value of each column: compare its words.)
	if !strings.HasSuffix(strings.Join(strings.Fields(strings.Split(out, "\n")[0]), " "), "PIDS CPU TIME AVG CPU %") || !strings.Contains(out, "-infra ") ||
		!regexp.MustCompile(`\d(\.\d+)?[kMG]?B / \d+(\.\d+)?[kMGT]?B`).MatchString(out) {
		t.Fatalf("stats --no-stream:\n%s", out)
	}
	cmd := exec.Command(peaBin, e.args("secret", "create", "--env", "fromenv", "PEA_TEST_SECRET")...)
	cmd.Env = append(os.Environ(), "PEA_TEST_SECRET=s3cret")
	if r := runCmd(cmd); r.Code != 0 {
		t.Fatalf("secret create --env: %s", r)
	}
	e.PeaIn("x", "secret", "create", "other", "-")
	e.Fails(125, "secret", "create", "--env", "unset", "PEA_TEST_NOT_SET")
	if out := e.Pea("secret", "ls", "--filter", "name=fromenv", "--format", "{{.Name}}"); out != "fromenv" {
		t.Fatalf("secret ls --filter: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "--secret", "fromenv", "localhost/bb", "cat", "/run/secrets/fromenv"); out != "s3cret" {
		t.Fatalf("a secret made from the environment: %q", out)
	}
}

// stop of a --rm container removes it, as its exit would have (regression: the stop cleaned up
// itself and conmon's exit command, which removes, found nothing to do); restart keeps it.
func TestStopRemovesAutoRemove(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--rm", "--network", "none", "--name", "gone", "-v", "/anon", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--rm", "--network", "none", "--name", "kept", "localhost/bb", "sleep", "300")
	if out := e.Pea("stop", "-t", "0", "gone"); out != "gone" {
		t.Fatalf("stop: %q", out)
	}
	e.Pea("restart", "-t", "0", "kept")
	if out := e.Pea("ps", "-a", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "kept Up ") || strings.Contains(out, "\n") {
		t.Fatalf("after stop of one --rm container and restart of another: %q", out)
	}
	e.Fails(125, "inspect", "gone")
	// Its anonymous volume went with it (regression: a stop's removal kept it).
	if out := e.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("the stopped --rm container's anonymous volume: %q", out)
	}
	// The same in a pod: pod stop removes its --rm members (regression: only a container's own
	// stop did); pod restart keeps them.
	e.Pea("pod", "create", "--network", "none", "--name", "p")
	e.Pea("run", "-d", "--rm", "--pod", "p", "--name", "p-rm", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "p-kept", "localhost/bb", "sleep", "300")
	e.Pea("pod", "restart", "-t", "0", "p")
	if out := e.Pea("ps", "--filter", "pod=p", "--filter", "name=p-", "--format", "{{.Names}}", "--sort", "names"); out != "p-kept\np-rm" {
		t.Fatalf("after pod restart: %q", out)
	}
	e.Pea("pod", "stop", "-t", "0", "p")
	if out := e.Pea("ps", "-a", "--filter", "pod=p", "--filter", "name=p-", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "p-kept Exited ") || strings.Contains(out, "\n") {
		t.Fatalf("after pod stop: %q", out)
	}
}

// podman's wording and layout: a running container's status is "Up … ago" (regression: the
// "ago" was missing), and top's table has podman's columns (at least 12 wide).
func TestStatusAndTopLayout(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "c", "localhost/bb", "sleep", "300")
	if st := e.Pea("ps", "--format", "{{.Status}}"); !strings.HasPrefix(st, "Up ") || !strings.HasSuffix(st, " ago") {
		t.Fatalf("status: %q", st)
	}
	if top := e.Pea("top", "c"); !strings.HasPrefix(top, "USER        PID         PPID        %CPU        ELAPSED ") {
		t.Fatalf("top: %q", top)
	}
}

// system migrate and renumber: podman's maintenance verbs, which scripts run after upgrades;
// pea opens the store and has nothing else to do; --new-runtime is refused.
func TestSystemMigrateRenumber(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "c", "localhost/bb", "true")
	e.Pea("system", "migrate")
	e.Pea("system", "renumber")
	e.Fails(125, "system", "migrate", "--new-runtime", "runc")
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != "c" {
		t.Fatalf("after migrate and renumber: %q", out)
	}
}

// TestCopyOutRefusesDevices: cp out of a container onto a host device node, FIFO or a link to
// one is refused as podman refuses it; pea used to replace it with a regular file, and
// `cp c:/etc/passwd /dev/null` removed the host's /dev/null.
func TestCopyOutRefusesDevices(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--network", "none", "--name", "c", "localhost/bb", "true")
	host := t.TempDir()
	null, fifo, link, dir := filepath.Join(host, "null"), filepath.Join(host, "fifo"), filepath.Join(host, "link"), filepath.Join(host, "dir")
	if err := unix.Mknod(null, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Symlink(null, link)
	os.MkdirAll(dir, 0o755)
	if err := unix.Mknod(filepath.Join(dir, "passwd"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{null, fifo, link, dir, dir + "/"} {
		r := e.Fails(125, "cp", "c:/etc/passwd", dst)
		if !strings.Contains(r.Stderr, "invalid destination: ") || !strings.Contains(r.Stderr, "must be a directory or a regular file") {
			t.Errorf("cp onto %s: %s", dst, r)
		}
	}
	for _, p := range []string{null, filepath.Join(dir, "passwd")} {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			t.Errorf("%s after the refused copies: %v %v", p, fi.Mode(), err)
		}
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO after the refused copy: %v", err)
	}
	// A regular file and a directory still take the copy.
	e.Pea("cp", "c:/etc/passwd", filepath.Join(host, "file"))
	e.Pea("cp", "c:/etc/group", dir)
	if _, err := os.Stat(filepath.Join(dir, "group")); err != nil {
		t.Errorf("copy into a directory: %v", err)
	}
}

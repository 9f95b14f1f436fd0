package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// volImage builds localhost/confimg: /srv/conf owned 33:33, mode 750, holding f ("hello").
func (e *Env) volImage() {
	e.t.Helper()
	ctx := e.t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte(`FROM localhost/bb
RUN mkdir -p /srv/conf && echo hello > /srv/conf/f && chown -R 33:33 /srv/conf && chmod 750 /srv/conf
`), 0o644)
	e.Pea("build", "-q", "-t", "localhost/confimg", ctx)
}

// TestVolumeFirstUse: a new named volume takes, at its first use, the owner and mode of the
// image's directory under it and that directory's content (podman's copy-up; regression: pea
// left named volumes empty), once; nocopy leaves it empty; a directory the image lacks goes to
// the container's user; uid=/gid= options own the volume from its creation.
func TestVolumeFirstUse(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.volImage()
	e.Pea("volume", "create", "v1")
	if out := e.Pea("volume", "inspect", "-f", "{{.NeedsCopyUp}} {{.NeedsChown}} {{.MountCount}}", "v1"); out != "true true 0" {
		t.Fatalf("a new volume: %q", out)
	}
	run := func(args ...string) string {
		return e.Pea(append([]string{"run", "--rm", "--network", "none"}, args...)...)
	}
	if out := run("-v", "v1:/srv/conf", "localhost/confimg", "sh", "-c", "stat -c '%u %g %a' /srv/conf; cat /srv/conf/f; echo more > /srv/conf/g"); out != "33 33 750\nhello" {
		t.Fatalf("first use of a named volume: %q", out)
	}
	if out := e.Pea("volume", "inspect", "-f", "{{.NeedsCopyUp}} {{.NeedsChown}}", "v1"); out != "false false" {
		t.Fatalf("after its first use: %q", out)
	}
	// Once: mounted elsewhere later, it keeps what it has and gets nothing of the image's.
	if out := run("-v", "v1:/etc", "localhost/confimg", "ls", "/etc"); out != "f\ng" {
		t.Fatalf("second use: %q", out)
	}
	if out := run("-v", "v2:/srv/conf:nocopy", "localhost/confimg", "sh", "-c", "ls -A /srv/conf | wc -l; stat -c '%u %a' /srv/conf"); out != "0\n33 750" {
		t.Fatalf("nocopy: %q", out)
	}
	if out := run("--user", "1000:1001", "-v", "v3:/newdir", "localhost/confimg", "stat", "-c", "%u %g", "/newdir"); out != "1000 1001" {
		t.Fatalf("a directory the image lacks: %q", out)
	}
	if out := run("-v", "/srv/conf", "localhost/confimg", "cat", "/srv/conf/f"); out != "hello" {
		t.Fatalf("an anonymous volume: %q", out)
	}
	// --mount's volume-nocopy as -v's nocopy.
	if out := run("--mount", "type=volume,src=v4,dst=/srv/conf,volume-nocopy", "localhost/confimg", "ls", "-A", "/srv/conf"); out != "" {
		t.Fatalf("--mount volume-nocopy: %q", out)
	}
	e.Pea("volume", "create", "-o", "uid=1000", "-o", "gid=1001", "owned")
	if out := e.Pea("volume", "inspect", "-f", "{{.UID}} {{.GID}} {{.NeedsChown}}", "owned"); out != "1000 1001 false" {
		t.Fatalf("uid/gid options: %q", out)
	}
	if out := run("-v", "owned:/srv/conf", "localhost/confimg", "stat", "-c", "%u %g", "/srv/conf"); out != "1000 1001" {
		t.Fatalf("a volume made with uid/gid: %q", out)
	}
	// Bad options: one line, exit 125, no volume.
	r := e.Fails(125, "volume", "create", "-o", "foo=bar", "bad1")
	oneLine(t, r, "invalid mount option foo")
	r = e.Fails(125, "volume", "create", "-o", "size=10m", "bad2")
	oneLine(t, r, "project quota")
	e.Fails(125, "volume", "create", "-o", "uid=abc", "bad3")
	if out := e.Pea("volume", "ls", "-q", "--filter", "name=bad"); out != "" {
		t.Fatalf("refused volumes were made: %q", out)
	}
}

// TestVolumeMountOptions: a volume with mount options is mounted while containers or
// `volume mount`s hold it and unmounted after the last (podman's local driver): a tmpfs, and a
// bind of a host directory (compose's driver_opts type=none,o=bind), whose removal leaves the
// host directory's files alone. A mount that fails fails the start with 126 and holds nothing.
func TestVolumeMountOptions(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.volImage()
	e.Pea("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=2m,nodev", "tv")
	dir := e.Pea("volume", "inspect", "-f", "{{.Mountpoint}}", "tv")
	count := func(v string) string { return e.Pea("volume", "inspect", "-f", "{{.MountCount}}", v) }
	e.Pea("run", "-d", "--network", "none", "--name", "t1", "-v", "tv:/srv/conf", "localhost/confimg", "sleep", "1000")
	if out := e.Pea("exec", "t1", "sh", "-c", "mount | grep ' /srv/conf ' | cut -d' ' -f1,5; cat /srv/conf/f"); !strings.HasPrefix(out, "tmpfs tmpfs\n") || !strings.HasSuffix(out, "hello") {
		t.Fatalf("the tmpfs volume in the container: %q", out)
	}
	if !hostMounted(dir) || count("tv") != "1" {
		t.Fatalf("held by t1: mounted %v, count %s", hostMounted(dir), count("tv"))
	}
	if out := e.Pea("volume", "mount", "tv"); out != dir {
		t.Fatalf("volume mount: %q", out)
	}
	if count("tv") != "2" {
		t.Fatalf("count after volume mount: %s", count("tv"))
	}
	e.Pea("rm", "-f", "-t", "0", "t1")
	if !hostMounted(dir) || count("tv") != "1" {
		t.Fatalf("after t1's removal: mounted %v, count %s", hostMounted(dir), count("tv"))
	}
	e.Pea("volume", "unmount", "tv")
	if hostMounted(dir) || count("tv") != "0" {
		t.Fatalf("after volume unmount: mounted %v, count %s", hostMounted(dir), count("tv"))
	}
	e.Fails(125, "volume", "unmount", "tv")
	// A mount left by a pea killed before it recorded its hold is taken over, not stacked on.
	if err := exec.Command("mount", "-t", "tmpfs", "tmpfs", dir).Run(); err != nil {
		t.Fatal(err)
	}
	e.Pea("run", "-d", "--name", "t2", "--network", "none", "-v", "tv:/x", "localhost/bb", "sleep", "300")
	if n := mountsAt(dir); n != 1 {
		t.Fatalf("a container's start on a left mount: %d mounts on the volume", n)
	}
	e.Pea("rm", "-f", "-t", "0", "t2")
	if n := mountsAt(dir); n != 0 {
		t.Fatalf("after the take-over and the container's end, %d mounts are left on the volume", n)
	}

	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "h"), []byte("from-host"), 0o644)
	e.Pea("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device="+host, "bv")
	if out := e.Pea("run", "--rm", "--network", "none", "-v", "bv:/x", "localhost/bb", "sh", "-c", "cat /x/h; echo w > /x/n"); out != "from-host" {
		t.Fatalf("the bind volume: %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(host, "n")); err != nil || string(b) != "w\n" {
		t.Fatalf("a write through the bind volume: %q %v", b, err)
	}
	bdir := e.Pea("volume", "inspect", "-f", "{{.Mountpoint}}", "bv")
	if hostMounted(bdir) {
		t.Fatal("the bind volume is still mounted after its container")
	}
	e.Pea("volume", "mount", "bv")
	e.Pea("volume", "rm", "bv")
	if _, err := os.Stat(filepath.Join(host, "h")); err != nil || hostMounted(bdir) {
		t.Fatalf("volume rm of a mounted bind volume: host file %v, mounted %v", err, hostMounted(bdir))
	}

	e.Pea("volume", "create", "-o", "type=bogus", "-o", "device=x", "badfs")
	r := e.Fails(126, "run", "--rm", "--network", "none", "-v", "badfs:/x", "localhost/bb", "true")
	oneLine(t, r, "mounting volume badfs")
	if count("badfs") != "0" {
		t.Fatalf("a failed mount is held: %s", count("badfs"))
	}
}

// mountsAt counts the host's mounts on dir.
func mountsAt(dir string) int {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			n++
		}
	}
	return n
}

// hostMounted says whether dir is a mount point on the host.
func hostMounted(dir string) bool {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// volume create --ignore and network create --ignore (podman's, which Quadlet's oneshot
// services run at every start): an existing object is kept as it is, its options unchanged,
// and its name printed; without --ignore it is still an error.
func TestCreateIgnore(t *testing.T) {
	e := newEnv(t)
	e.Pea("volume", "create", "--label", "v=1", "keepvol")
	if out := e.Pea("volume", "create", "--ignore", "--label", "v=2", "keepvol"); out != "keepvol" {
		t.Fatalf("volume create --ignore: %q", out)
	}
	if got := e.Pea("volume", "inspect", "--format", "{{.Labels.v}}", "keepvol"); got != "1" {
		t.Fatalf("the existing volume's label: %q", got)
	}
	e.Fails(125, "volume", "create", "keepvol")
	if out := e.Pea("volume", "create", "--ignore", "newvol"); out != "newvol" {
		t.Fatalf("volume create --ignore of a new one: %q", out)
	}

	e.Pea("network", "create", "--label", "n=1", "keepnet")
	if out := e.Pea("network", "create", "--ignore", "--label", "n=2", "--internal", "keepnet"); out != "keepnet" {
		t.Fatalf("network create --ignore: %q", out)
	}
	if got := e.Pea("network", "inspect", "--format", "{{.Labels.n}} {{.Internal}}", "keepnet"); got != "1 false" {
		t.Fatalf("the existing network: %q", got)
	}
	e.Fails(125, "network", "create", "keepnet")
}

// --mount type=image shows another image's file system in the container: read-only unless
// rw=true (whose changes go with the container's stop), executable; the image is in use while a
// container mounts it; nothing stays mounted after the container stops. An image that is not
// there is refused at the creation.
func TestRunMountImage(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("import", "--change", "ENV MARK=other", busyboxTar(t), "localhost/other:1")
	mnt := "type=image,source=localhost/other:1,destination=/img"
	if out := e.Pea("run", "--rm", "--mount", mnt, "localhost/bb", "sh", "-c",
		"/img/bin/busybox echo from-the-image; touch /img/x 2>&1; grep ' /img ' /proc/self/mountinfo | grep -c ' ro,'"); !strings.Contains(out, "from-the-image") ||
		!strings.Contains(out, "Read-only file system") || !strings.HasSuffix(out, "1") {
		t.Fatalf("a read-only image mount: %q", out)
	}
	if out := e.Pea("run", "--rm", "--mount", mnt+",rw=true", "localhost/bb", "sh", "-c", "touch /img/x && ls /img/x"); out != "/img/x" {
		t.Fatalf("a writable image mount: %q", out)
	}
	if r := e.Try("run", "--rm", "--mount", mnt, "localhost/bb", "ls", "/img/x"); r.Code == 0 {
		t.Fatalf("a change to a writable image mount outlived its container: %v", r)
	}
	e.Pea("create", "--name", "imv", "--mount", mnt, "localhost/bb", "true")
	if r := e.Try("rmi", "localhost/other:1"); r.Code == 0 || !strings.Contains(r.Stderr, "in use") {
		t.Fatalf("rmi of an image a container mounts: %v", r)
	}
	e.Pea("start", "-a", "imv")
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), "image-volumes") && strings.Contains(string(mi), e.Root) {
		t.Fatalf("the image mount stayed after the container stopped:\n%s", mi)
	}
	e.Pea("rm", "imv")
	e.Pea("rmi", "localhost/other:1")
	if r := e.Try("create", "--mount", "type=image,source=localhost/nosuch,destination=/img", "localhost/bb", "true"); r.Code != 125 || !strings.Contains(r.Stderr, "nosuch") {
		t.Fatalf("an image mount of an image not there: %v", r)
	}
}

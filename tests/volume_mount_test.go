package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVolumeMountFlagsAndOptions: a volume is mounted nosuid,nodev unless suid or dev is asked
// for, as podman's (pea honoured set-user-ID files and device nodes in volumes); --mount's
// volume-opt=KEY=VALUE gives the options of the volume the mount makes (pea refused it).
func TestVolumeMountFlagsAndOptions(t *testing.T) {
	e := newEnv(t).withBusybox()
	opts := func(args ...string) string {
		out := e.Pea(append(append([]string{"run", "--rm", "--network", "none"}, args...), "localhost/bb", "sh", "-c", `grep " /v " /proc/mounts`)...)
		f := strings.Fields(out)
		if len(f) < 4 {
			t.Fatalf("no /v mount: %q", out)
		}
		return f[2] + " " + f[3]
	}
	for _, c := range []struct {
		args     []string
		has, not []string
	}{
		{[]string{"-v", "named:/v"}, []string{"nosuid", "nodev"}, nil},
		{[]string{"-v", "/v"}, []string{"nosuid", "nodev"}, nil}, // anonymous
		{[]string{"-v", "named:/v:suid,dev"}, nil, []string{"nosuid", "nodev"}},
		{[]string{"--mount", "type=volume,src=named,dst=/v"}, []string{"nosuid", "nodev"}, nil},
		{[]string{"--mount", "type=volume,src=fromopt,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-opt=o=size=2m"}, []string{"tmpfs ", "size=2048k", "nosuid"}, nil},
	} {
		got := opts(c.args...)
		for _, w := range c.has {
			if !strings.Contains(got, w) {
				t.Errorf("%v: mount %q lacks %s", c.args, got, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(got, w) {
				t.Errorf("%v: mount %q has %s", c.args, got, w)
			}
		}
	}
	if got := e.Pea("volume", "inspect", "--format", "{{.Options.type}} {{.Options.device}} {{.Options.o}}", "fromopt"); got != "tmpfs tmpfs size=2m" {
		t.Errorf("the volume volume-opt made: options %q", got)
	}
	e.refused("volume-opt wants KEY=VALUE", "create", "--mount", "type=volume,src=x,dst=/v,volume-opt=bogus", "localhost/bb")
	e.refused("volume-opt is for type=volume", "create", "--mount", "type=bind,src=/tmp,dst=/v,volume-opt=a=1", "localhost/bb")
	if out := e.Pea("volume", "ls", "-q"); strings.Contains(out, "x") {
		t.Errorf("a refused create left a volume: %q", out)
	}
}

// TestOverlayVolume: -v SRC:DST:O (podman's overlay mount; pea refused the option): the
// container sees the source and writes over it, the source is never changed, and what it wrote
// is gone at its next start, unless upperdir= and workdir= keep it; a named volume takes it too.
func TestOverlayVolume(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("host\n"), 0o644)
	if out := e.Pea("run", "--rm", "--network", "none", "-v", src+":/k:O", "localhost/bb", "sh", "-c", "cat /k/f; echo changed > /k/f; touch /k/new; cat /k/f"); out != "host\nchanged" {
		t.Errorf("in the container: %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "f")); string(b) != "host\n" {
		t.Errorf("the source's file changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(src, "new")); err == nil {
		t.Error("the container's new file reached the source")
	}
	e.Pea("run", "-d", "--name", "ov", "--network", "none", "-v", src+":/k:O", "localhost/bb", "sleep", "1000")
	e.Pea("exec", "ov", "sh", "-c", "echo mine > /k/g")
	e.Pea("stop", "-t", "0", "ov")
	mounts, _ := os.ReadFile("/proc/self/mounts")
	for _, line := range strings.Split(string(mounts), "\n") {
		if strings.Contains(line, e.Root) && strings.Contains(line, "/image-volumes/") {
			t.Errorf("the overlay stays mounted after the stop: %s", line)
		}
	}
	e.Pea("start", "ov")
	if out := e.Pea("exec", "ov", "ls", "/k"); out != "f" {
		t.Errorf("after a restart /k holds %q, want the source's f alone", out)
	}
	e.Pea("rm", "-f", "-t", "0", "ov")
	up, wk := t.TempDir(), t.TempDir()
	opt := src + ":/k:O,upperdir=" + up + ",workdir=" + wk
	e.Pea("run", "--rm", "--network", "none", "-v", opt, "localhost/bb", "sh", "-c", "echo kept > /k/p")
	if out := e.Pea("run", "--rm", "--network", "none", "-v", opt, "localhost/bb", "cat", "/k/p"); out != "kept" {
		t.Errorf("with upperdir and workdir the next container reads %q", out)
	}
	e.refused("upperdir and workdir are options of an overlay mount", "create", "-v", src+":/k:upperdir="+up+",workdir="+wk, "localhost/bb")
	e.refused("takes upperdir and workdir together", "create", "-v", src+":/k:O,upperdir="+up, "localhost/bb")
	e.Pea("volume", "create", "ovv")
	e.Pea("run", "--rm", "--network", "none", "-v", "ovv:/k:O", "localhost/bb", "touch", "/k/z")
	if out := e.Pea("run", "--rm", "--network", "none", "-v", "ovv:/k", "localhost/bb", "ls", "/k"); out != "" {
		t.Errorf("the named volume under an overlay mount was written: %q", out)
	}
}

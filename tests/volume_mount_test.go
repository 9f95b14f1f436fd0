package tests

import (
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

package oci_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/oci"
)

func TestNormalizeCapability(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "net_admin", want: "CAP_NET_ADMIN"},
		{in: "NET_ADMIN", want: "CAP_NET_ADMIN"},
		{in: "CAP_NET_ADMIN", want: "CAP_NET_ADMIN"},
		{in: "cap_sys_admin", want: "CAP_SYS_ADMIN"},
		{in: " chown ", want: "CAP_CHOWN"},
		{in: "checkpoint_restore", want: "CAP_CHECKPOINT_RESTORE"},
		{in: "all", want: "ALL"},
		{in: "ALL", want: "ALL"},
		{in: "net_admi", bad: true},
		{in: "CAP_", bad: true},
		{in: "", bad: true},
		{in: "CAP_ALL", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := oci.NormalizeCapability(tc.in)
			if tc.bad {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("NormalizeCapability(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NormalizeCapability(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestDefaultCapabilitiesMask(t *testing.T) {
	var mask uint64
	for _, c := range oci.DefaultCapabilities {
		n := oci.CapabilityNumberForTest(c)
		if n < 0 {
			t.Fatalf("unknown capability %s", c)
		}
		mask |= 1 << uint(n)
	}
	if mask != 0x800405fb {
		t.Fatalf("default capability mask = %016x, want 00000000800405fb", mask)
	}
}

func TestCapabilities(t *testing.T) {
	all := oci.AllCapabilities()
	without := func(list []string, drop ...string) []string {
		var out []string
		for _, c := range list {
			if !slices.Contains(drop, c) {
				out = append(out, c)
			}
		}
		return out
	}
	// A capability this process lacks (CAP_SYS_RESOURCE on the project VM), if any.
	missingCap := ""
	for _, c := range []string{"CAP_SYS_RESOURCE", "CAP_CHECKPOINT_RESTORE", "CAP_BPF", "CAP_PERFMON", "CAP_MAC_ADMIN"} {
		if !slices.Contains(all, c) {
			missingCap = c
			break
		}
	}
	sorted := func(list ...string) []string { s := slices.Clone(list); slices.Sort(s); return s }
	for _, tc := range []struct {
		name       string
		add, drop  []string
		privileged bool
		want       []string
		bad        bool
	}{
		{name: "defaults", want: sorted(oci.DefaultCapabilities...)},
		{name: "add one", add: []string{"net_admin"}, want: sorted(append(slices.Clone(oci.DefaultCapabilities), "CAP_NET_ADMIN")...)},
		{name: "add present", add: []string{"CAP_CHOWN"}, want: sorted(oci.DefaultCapabilities...)},
		{name: "drop one", drop: []string{"chown"}, want: without(sorted(oci.DefaultCapabilities...), "CAP_CHOWN")},
		{name: "drop all add one", add: []string{"net_raw"}, drop: []string{"all"}, want: []string{"CAP_NET_RAW"}},
		{name: "drop all", drop: []string{"ALL"}, want: []string{}},
		{name: "add all", add: []string{"all"}, want: all},
		{name: "add all drop one", add: []string{"all"}, drop: []string{"sys_admin"}, want: without(all, "CAP_SYS_ADMIN")},
		{name: "privileged", privileged: true, want: all},
		{name: "privileged ignores add", privileged: true, add: []string{"sys_admin"}, want: all},
		{name: "privileged drop", privileged: true, drop: []string{"net_raw"}, want: without(all, "CAP_NET_RAW")},
		{name: "add and drop all", add: []string{"all"}, drop: []string{"all"}, bad: true},
		{name: "add and drop same", add: []string{"net_raw"}, drop: []string{"CAP_NET_RAW"}, bad: true},
		{name: "unknown add", add: []string{"bogus"}, bad: true},
		{name: "unknown drop", drop: []string{"bogus"}, bad: true},
		{name: "not grantable", add: []string{missingCap}, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "not grantable" && missingCap == "" {
				t.Skip("this process has every capability")
			}
			got, err := oci.Capabilities(tc.add, tc.drop, tc.privileged)
			if tc.bad {
				if !errors.Is(err, errdefs.ErrInvalid) {
					t.Fatalf("Capabilities = %v, %v; want ErrInvalid", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("Capabilities(%v, %v, %v)\n got %v\nwant %v", tc.add, tc.drop, tc.privileged, got, tc.want)
			}
		})
	}
}

func TestAllCapabilitiesFollowsKernelAndBoundingSet(t *testing.T) {
	proc := t.TempDir()
	for name, content := range map[string]string{
		"sys/kernel/cap_last_cap": "37\n",
		// every capability up to 40 except CAP_SYS_RESOURCE (24)
		"self/status": "Name:\tx\nCapInh:\t0000000000000000\nCapBnd:\t000001fffeffffff\n",
	} {
		p := filepath.Join(proc, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := oci.HostCapabilitiesForTest(proc)
	if len(got) != 37 { // 0..37 is 38 capabilities, less one
		t.Fatalf("got %d capabilities, want 37: %v", len(got), got)
	}
	for _, c := range []string{"CAP_SYS_RESOURCE", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE"} {
		if slices.Contains(got, c) {
			t.Errorf("%s should be left out", c)
		}
	}
	if !slices.Contains(got, "CAP_AUDIT_READ") || !slices.Contains(got, "CAP_SYS_ADMIN") {
		t.Errorf("missing capabilities: %v", got)
	}
	if !slices.IsSorted(got) {
		t.Errorf("not sorted: %v", got)
	}
}

func TestDefaultRlimitsNeverAboveHardLimit(t *testing.T) {
	want := map[string]struct {
		resource int
		podman   uint64
	}{
		"RLIMIT_NOFILE": {unix.RLIMIT_NOFILE, 1048576},
		"RLIMIT_NPROC":  {unix.RLIMIT_NPROC, 4194304},
	}
	got := oci.DefaultRlimits()
	if len(got) != len(want) {
		t.Fatalf("got %d rlimits, want %d: %+v", len(got), len(want), got)
	}
	for _, rl := range got {
		w, ok := want[rl.Type]
		if !ok {
			t.Fatalf("unexpected rlimit %s", rl.Type)
		}
		var cur unix.Rlimit
		if err := unix.Getrlimit(w.resource, &cur); err != nil {
			t.Fatal(err)
		}
		exp := min(w.podman, cur.Max)
		if rl.Hard > cur.Max || rl.Soft > rl.Hard || rl.Hard != exp || rl.Soft != exp {
			t.Errorf("%s = %d:%d, caller's hard limit %d; want %d:%d", rl.Type, rl.Soft, rl.Hard, cur.Max, exp, exp)
		}
	}
}

func TestParseUlimit(t *testing.T) {
	const inf = oci.RlimitInfinity
	for _, tc := range []struct {
		in         string
		typ        string
		soft, hard uint64
		bad        string // part of the error message
	}{
		{in: "nofile=1024:2048", typ: "RLIMIT_NOFILE", soft: 1024, hard: 2048},
		{in: "nproc=512", typ: "RLIMIT_NPROC", soft: 512, hard: 512},
		{in: "core=-1", typ: "RLIMIT_CORE", soft: inf, hard: inf},
		{in: "memlock=unlimited", typ: "RLIMIT_MEMLOCK", soft: inf, hard: inf},
		{in: "stack=8192:unlimited", typ: "RLIMIT_STACK", soft: 8192, hard: inf},
		{in: "rtprio=0:0", typ: "RLIMIT_RTPRIO"},
		{in: "RLIMIT_NOFILE=10", typ: "RLIMIT_NOFILE", soft: 10, hard: 10},
		{in: "cpu=1", typ: "RLIMIT_CPU", soft: 1, hard: 1},
		{in: "data=1", typ: "RLIMIT_DATA", soft: 1, hard: 1},
		{in: "fsize=1", typ: "RLIMIT_FSIZE", soft: 1, hard: 1},
		{in: "locks=1", typ: "RLIMIT_LOCKS", soft: 1, hard: 1},
		{in: "msgqueue=1", typ: "RLIMIT_MSGQUEUE", soft: 1, hard: 1},
		{in: "nice=1", typ: "RLIMIT_NICE", soft: 1, hard: 1},
		{in: "rss=1", typ: "RLIMIT_RSS", soft: 1, hard: 1},
		{in: "rttime=1", typ: "RLIMIT_RTTIME", soft: 1, hard: 1},
		{in: "sigpending=1", typ: "RLIMIT_SIGPENDING", soft: 1, hard: 1},
		{in: "nofile", bad: "want name=soft[:hard]"},
		{in: "nofile=", bad: "want name=soft[:hard]"},
		{in: "files=10", bad: `unknown limit "files"`},
		{in: "nofile=abc", bad: "soft limit"},
		{in: "nofile=10:x", bad: "hard limit"},
		{in: "nofile=-2", bad: "soft limit"},
		{in: "nofile=2048:1024", bad: "above hard limit"},
		{in: "nofile=unlimited:1024", bad: "above hard limit"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := oci.ParseUlimit(tc.in)
			if tc.bad != "" {
				if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.bad) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("ParseUlimit(%q) = %+v, %v; want one-line ErrInvalid containing %q", tc.in, got, err, tc.bad)
				}
				return
			}
			if err != nil || got.Type != tc.typ || got.Soft != tc.soft || got.Hard != tc.hard {
				t.Fatalf("ParseUlimit(%q) = %+v, %v; want %s %d:%d", tc.in, got, err, tc.typ, tc.soft, tc.hard)
			}
		})
	}
}

func TestDefaultMountsAndDevices(t *testing.T) {
	mounts := map[string][]string{}
	for _, m := range oci.DefaultMounts() {
		mounts[m.Destination] = m.Options
	}
	for dest, opts := range map[string][]string{
		"/proc":          {"nosuid", "noexec", "nodev"},
		"/dev":           {"mode=755", "size=65536k"},
		"/dev/pts":       {"newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
		"/dev/shm":       {"nosuid", "noexec", "nodev", "size=65536k"},
		"/dev/mqueue":    {"nosuid", "noexec", "nodev"},
		"/sys":           {"ro", "nosuid", "noexec", "nodev"},
		"/sys/fs/cgroup": {"ro"},
	} {
		for _, o := range opts {
			if !slices.Contains(mounts[dest], o) {
				t.Errorf("mount %s: options %v lack %s", dest, mounts[dest], o)
			}
		}
	}
	rules := oci.DefaultDeviceRules()
	if rules[0].Allow || rules[0].Access != "rwm" || rules[0].Type != "" {
		t.Errorf("first device rule must deny everything: %+v", rules[0])
	}
	allowed := map[[2]int64]bool{}
	for _, r := range rules[1:] {
		if r.Allow && r.Type == "c" && r.Major != nil && r.Access == "rwm" {
			minor := int64(-1)
			if r.Minor != nil {
				minor = *r.Minor
			}
			allowed[[2]int64{*r.Major, minor}] = true
		}
	}
	for _, d := range [][2]int64{{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1}} {
		if !allowed[d] {
			t.Errorf("no rwm rule for c %d:%d", d[0], d[1])
		}
	}
	for _, d := range oci.DefaultDevices() {
		if !allowed[[2]int64{d.Major, d.Minor}] {
			t.Errorf("device %s has no cgroup rule", d.Path)
		}
	}
}

package oci_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/errdefs"
	"pea/internal/oci"
)

// The -update flag may also be declared by other golden tests of this package; declare it only
// if nobody did.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	if f == nil {
		return false
	}
	v, _ := f.Value.(flag.Getter).Get().(bool)
	return v
}

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the generated profile (run go test -update and review the diff)", path)
	}
}

func TestDefaultSeccompGolden(t *testing.T) {
	p := oci.DefaultSeccompForTest(oci.DefaultCapabilities, "amd64", "6.1")
	got, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "seccomp-default.golden.json", append(got, '\n'))
}

// seccompVerdict says what a profile does with a system call whose arguments match no filter.
type seccompVerdict struct {
	allowed     bool // by a rule without arguments
	conditional bool // allowed only with some argument values
	errno       uint // by a rule returning an errno, else 0
}

func seccompVerdicts(p *specs.LinuxSeccomp) map[string]seccompVerdict {
	m := map[string]seccompVerdict{}
	for _, s := range p.Syscalls {
		for _, n := range s.Names {
			v := m[n]
			switch {
			case s.Action == specs.ActAllow && len(s.Args) == 0:
				v.allowed = true
			case s.Action == specs.ActAllow:
				v.conditional = true
			case s.Action == specs.ActErrno && s.ErrnoRet != nil:
				v.errno = *s.ErrnoRet
			}
			m[n] = v
		}
	}
	return m
}

func TestDefaultSeccompPolicy(t *testing.T) {
	p := oci.DefaultSeccompForTest(oci.DefaultCapabilities, "amd64", "6.1")
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Fatalf("default action %s %v, want SCMP_ACT_ERRNO with EPERM", p.DefaultAction, p.DefaultErrnoRet)
	}
	if !slices.Equal(p.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
		t.Errorf("architectures %v", p.Architectures)
	}
	seen := map[string]bool{}
	for _, n := range p.Syscalls[0].Names {
		if seen[n] {
			t.Errorf("%s is listed twice", n)
		}
		seen[n] = true
	}
	v := seccompVerdicts(p)
	for _, name := range []string{"read", "write", "open", "openat", "execve", "mmap", "socket", "epoll_wait",
		"futex", "rt_sigaction", "getrandom", "arch_prctl", "ptrace", "chroot", "faccessat2", "wait4", "seccomp"} {
		if !v[name].allowed {
			t.Errorf("%s should be allowed", name)
		}
	}
	for _, name := range []string{"mount", "umount", "umount2", "kexec_load", "kexec_file_load", "init_module",
		"finit_module", "delete_module", "pivot_root", "swapon", "swapoff", "reboot", "settimeofday",
		"clock_settime", "adjtimex", "acct", "bpf", "perf_event_open", "keyctl", "add_key", "request_key",
		"unshare", "setns", "open_by_handle_at", "name_to_handle_at", "userfaultfd", "lookup_dcookie",
		"quotactl", "syslog", "vhangup", "nfsservctl", "iopl", "ioperm", "create_module", "get_kernel_syms",
		"query_module", "uselib", "sysfs", "_sysctl", "vm86", "vm86old", "fsopen", "open_tree", "move_mount"} {
		if v[name].allowed || v[name].conditional {
			t.Errorf("%s should not be allowed", name)
		}
	}
	if v["clone"].allowed || !v["clone"].conditional {
		t.Errorf("clone should be allowed only without namespace flags: %+v", v["clone"])
	}
	if v["personality"].allowed || !v["personality"].conditional {
		t.Errorf("personality should be restricted: %+v", v["personality"])
	}
	if v["clone3"].errno != 38 || v["clone3"].allowed {
		t.Errorf("clone3 should fail with ENOSYS: %+v", v["clone3"])
	}
	for _, s := range p.Syscalls {
		if slices.Contains(s.Names, "clone") {
			want := []specs.LinuxSeccompArg{{Index: 0, Value: 0x7E020000, ValueTwo: 0, Op: specs.OpMaskedEqual}}
			if !slices.Equal(s.Args, want) {
				t.Errorf("clone args %+v, want %+v", s.Args, want)
			}
		}
	}
}

func TestDefaultSeccompCapabilities(t *testing.T) {
	caps := append(slices.Clone(oci.DefaultCapabilities), "CAP_SYS_ADMIN")
	v := seccompVerdicts(oci.DefaultSeccompForTest(caps, "amd64", "6.1"))
	for _, name := range []string{"mount", "umount2", "unshare", "setns", "clone", "clone3", "pivot_root", "fsopen"} {
		if !v[name].allowed {
			t.Errorf("with CAP_SYS_ADMIN, %s should be allowed", name)
		}
	}
	if v["clone"].conditional || v["clone3"].errno != 0 {
		t.Errorf("with CAP_SYS_ADMIN, clone and clone3 should be unrestricted: %+v %+v", v["clone"], v["clone3"])
	}
	for _, name := range []string{"reboot", "init_module", "kexec_load", "keyctl", "settimeofday"} {
		if v[name].allowed {
			t.Errorf("CAP_SYS_ADMIN alone should not allow %s", name)
		}
	}
	for c, names := range map[string][]string{
		"sys_boot":            {"reboot"},
		"CAP_SYS_MODULE":      {"init_module", "finit_module", "delete_module"},
		"CAP_SYS_TIME":        {"settimeofday", "clock_settime", "adjtimex"},
		"CAP_SYS_PTRACE":      {"kcmp", "pidfd_getfd"},
		"CAP_SYS_RAWIO":       {"iopl", "ioperm"},
		"CAP_SYS_PACCT":       {"acct"},
		"CAP_BPF":             {"bpf"},
		"CAP_PERFMON":         {"perf_event_open"},
		"CAP_SYSLOG":          {"syslog"},
		"CAP_DAC_READ_SEARCH": {"open_by_handle_at"},
	} {
		v := seccompVerdicts(oci.DefaultSeccompForTest([]string{c}, "amd64", "6.1"))
		for _, n := range names {
			if !v[n].allowed {
				t.Errorf("with %s, %s should be allowed", c, n)
			}
		}
		if v["mount"].allowed {
			t.Errorf("%s should not allow mount", c)
		}
	}
	// Even with every capability, these stay out.
	v = seccompVerdicts(oci.DefaultSeccompForTest(oci.AllCapabilities(), "amd64", "6.1"))
	for _, n := range []string{"kexec_load", "keyctl", "add_key", "request_key", "swapon", "userfaultfd", "vm86", "uselib"} {
		if v[n].allowed {
			t.Errorf("%s should never be allowed", n)
		}
	}
}

func TestDefaultSeccompMachine(t *testing.T) {
	if v := seccompVerdicts(oci.DefaultSeccompForTest(oci.DefaultCapabilities, "amd64", "4.4")); v["ptrace"].allowed {
		t.Error("ptrace should not be allowed before kernel 4.8")
	}
	p := oci.DefaultSeccompForTest(oci.DefaultCapabilities, "arm64", "6.1")
	if !slices.Equal(p.Architectures, []specs.Arch{specs.ArchAARCH64, specs.ArchARM}) {
		t.Errorf("arm64 architectures %v", p.Architectures)
	}
	v := seccompVerdicts(p)
	if v["arch_prctl"].allowed || !v["set_tls"].allowed {
		t.Errorf("arm64: arch_prctl %+v, set_tls %+v", v["arch_prctl"], v["set_tls"])
	}
	// The real thing, for this machine, is well formed.
	if p := oci.DefaultSeccomp(oci.DefaultCapabilities); len(p.Syscalls) == 0 || len(p.Architectures) == 0 {
		t.Errorf("DefaultSeccomp on this machine: %+v", p)
	}
}

func TestLoadSeccompFileDockerFormat(t *testing.T) {
	data, err := os.ReadFile("testdata/seccomp-docker-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := oci.ParseSeccompProfileForTest(data, oci.DefaultCapabilities, "amd64", "6.1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Architectures, []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}) {
		t.Errorf("architectures %v", p.Architectures)
	}
	if p.DefaultAction != specs.ActErrno || p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 1 {
		t.Errorf("default %s %v", p.DefaultAction, p.DefaultErrnoRet)
	}
	names := func(p *specs.LinuxSeccomp) []string {
		var all []string
		for _, s := range p.Syscalls {
			all = append(all, s.Names...)
		}
		return all
	}
	want := []string{"read", "write", "openat", "close", "exit_group", "execve", "getpid", "ptrace",
		"personality", "arch_prctl", "clone", "clone3"}
	if got := names(p); !slices.Equal(got, want) {
		t.Errorf("default caps, amd64:\n got %v\nwant %v", got, want)
	}
	last := p.Syscalls[len(p.Syscalls)-1]
	if last.Action != specs.ActErrno || last.ErrnoRet == nil || *last.ErrnoRet != 38 {
		t.Errorf("clone3 rule %+v", last)
	}

	p, err = oci.ParseSeccompProfileForTest(data, []string{"CAP_SYS_ADMIN", "CAP_SYS_BOOT"}, "arm64", "4.4")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Architectures, []specs.Arch{specs.ArchAARCH64, specs.ArchARM}) {
		t.Errorf("arm64 architectures %v", p.Architectures)
	}
	want = []string{"read", "write", "openat", "close", "exit_group", "execve", "getpid",
		"personality", "set_tls", "mount", "umount2", "unshare", "reboot"}
	if got := names(p); !slices.Equal(got, want) {
		t.Errorf("sys_admin+sys_boot, arm64, kernel 4.4:\n got %v\nwant %v", got, want)
	}

	// Through the file API, on this machine.
	if _, err := oci.LoadSeccompFile("testdata/seccomp-docker-sample.json"); err != nil {
		t.Fatal(err)
	}
}

func TestLoadSeccompFileOCIFormat(t *testing.T) {
	p, err := oci.LoadSeccompFileFor("testdata/seccomp-oci-sample.json", oci.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile("testdata/seccomp-oci-sample.json")
	var want specs.LinuxSeccomp
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p)
	exp, _ := json.Marshal(&want)
	if !bytes.Equal(got, exp) {
		t.Errorf("an OCI profile should load unchanged:\n got %s\nwant %s", got, exp)
	}
	// The default profile, written out, loads back unchanged.
	def := oci.DefaultSeccomp(oci.DefaultCapabilities)
	b, _ := json.Marshal(def)
	path := filepath.Join(t.TempDir(), "default.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := oci.LoadSeccompFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := json.Marshal(back); !bytes.Equal(b, b2) {
		t.Error("the default profile does not round-trip through LoadSeccompFile")
	}
}

func TestLoadSeccompFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{"empty", "  \n", "the file is empty"},
		{"syntax", "{\n\"defaultAction\": \"SCMP_ACT_ERRNO\",\n}", "line 3"},
		{"unknown field", `{"defaultAction": "SCMP_ACT_ERRNO", "syscals": []}`, `unknown field "syscals"`},
		{"no default", `{"syscalls": []}`, "defaultAction is missing"},
		{"bad default", `{"defaultAction": "SCMP_ACT_DENY"}`, `unknown action "SCMP_ACT_DENY"`},
		{"errno with allow", `{"defaultAction": "SCMP_ACT_ALLOW", "defaultErrnoRet": 1}`, "defaultErrnoRet is only valid"},
		{"arches twice", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}`, "either architectures or archMap"},
		{"bad arch", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86_64"]}`, `architecture "x86_64" is unknown`},
		{"bad flag", `{"defaultAction": "SCMP_ACT_ALLOW", "flags": ["FAST"]}`, `unknown flag "FAST"`},
		{"no names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"action": "SCMP_ACT_ERRNO"}]}`, "syscalls[0]: names is missing"},
		{"name and names", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]}`, "either name or names"},
		{"empty name", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", ""], "action": "SCMP_ACT_ERRNO"}]}`, "is not a system call name"},
		{"no action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"]}]}`, "syscalls[0]: action is missing"},
		{"bad action", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "ALLOW"}]}`, `unknown action "ALLOW"`},
		{"bad op", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "EQ"}]}]}`, `syscalls[0].args[0]: unknown op "EQ"`},
		{"bad index", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`, "index 6 is out of range"},
		{"bad kernel", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "new"}}]}`, `minKernel "new"`},
		{"notify", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`, "needs listenerPath"},
		{"wrong type", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": {"names": ["read"]}}`, "not a seccomp profile"},
		{"bad errno name", `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errno": "EBOGUS"}]}`, `syscalls[0]: errno: "EBOGUS" is not an errno name`},
		{"bad default errno", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "nope"}`, `defaultErrno: "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "profile.json")
			if err := os.WriteFile(path, []byte(tc.json), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := oci.LoadSeccompFile(path)
			if !errors.Is(err, errdefs.ErrInvalid) || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v; want a one-line ErrInvalid naming %s and containing %q", err, path, tc.want)
			}
		})
	}
	_, err := oci.LoadSeccompFile("/nonexistent/profile.json")
	if !errors.Is(err, errdefs.ErrInvalid) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// containers/common's seccomp.json (podman's /usr/share/containers/seccomp.json) names the errno
// beside its number: defaultErrno and a rule's errno are accepted, and stand for the number
// when it is left out. pea refused the file ("unknown field defaultErrno").
func TestLoadSeccompErrnoNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profile.json")
	os.WriteFile(path, []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrno": "ENOSYS",
		"syscalls": [{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM"},
			{"names": ["acct"], "action": "SCMP_ACT_ERRNO", "errno": "EPERM", "errnoRet": 5},
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}`), 0o644)
	p, err := oci.LoadSeccompFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.DefaultErrnoRet == nil || *p.DefaultErrnoRet != 38 {
		t.Fatalf("defaultErrno ENOSYS: %v", p.DefaultErrnoRet)
	}
	want := map[string]uint{"chroot": 1, "acct": 5}
	for _, r := range p.Syscalls {
		if w, ok := want[r.Names[0]]; ok && (r.ErrnoRet == nil || *r.ErrnoRet != w) {
			t.Errorf("%s: errnoRet %v, want %d", r.Names[0], r.ErrnoRet, w)
		}
	}
	if _, err := os.Stat("/usr/share/containers/seccomp.json"); err == nil {
		if _, err := oci.LoadSeccompFile("/usr/share/containers/seccomp.json"); err != nil {
			t.Errorf("podman's own profile: %v", err)
		}
	}
}

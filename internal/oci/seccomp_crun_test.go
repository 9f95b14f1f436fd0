package oci_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/oci"
)

// crunHarness runs busybox commands in real containers built from pea's security defaults.
type crunHarness struct {
	crun    string
	rootfs  string // shared by all containers
	state   string // crun --root
	dir     string
	cgroup  string // the parent of every container's cgroup, e.g. /pea-oci-test-1a2b3c4d
	counter int
}

func newCrunHarness(t *testing.T) *crunHarness {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	crun, err := exec.LookPath("crun")
	if err != nil {
		t.Skip("crun not installed")
	}
	busybox := "/bin/busybox"
	if _, err := os.Stat(busybox); err != nil {
		t.Skip("busybox-static not installed")
	}
	crunEnsureHugetlb(t)

	dir := t.TempDir()
	h := &crunHarness{crun: crun, rootfs: filepath.Join(dir, "rootfs"), state: filepath.Join(dir, "state"), dir: dir}
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	h.cgroup = "/pea-oci-test-" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() { crunRemoveCgroups(t, h.cgroup) })

	for _, d := range []string{"bin", "proc", "sys", "dev", "mnt", "tmp", "etc"} {
		if err := os.MkdirAll(filepath.Join(h.rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h.rootfs, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		t.Fatalf("busybox --list: %v", err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(h.rootfs, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

// crunEnsureHugetlb works around crun on a hybrid cgroup layout, which it refuses unless the
// hugetlb controller is mounted as a v1 hierarchy.
func crunEnsureHugetlb(t *testing.T) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil || st.Type == unix.CGROUP2_SUPER_MAGIC {
		return
	}
	dir := "/sys/fs/cgroup/hugetlb"
	var sub unix.Statfs_t
	if err := unix.Statfs(dir, &sub); err == nil && sub.Type == unix.CGROUP_SUPER_MAGIC {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("hugetlb hierarchy for crun: %v", err)
	}
	if err := unix.Mount("cgroup", dir, "cgroup", 0, "hugetlb"); err != nil {
		t.Fatalf("mount hugetlb hierarchy for crun: %v", err)
	}
}

// crunRemoveCgroups removes what is left of the test's cgroup parent in every hierarchy.
func crunRemoveCgroups(t *testing.T, parent string) {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*")
	roots = append(roots, "/sys/fs/cgroup")
	for _, root := range roots {
		top := filepath.Join(root, parent)
		if _, err := os.Stat(top); err != nil {
			continue
		}
		// Children first; cgroup directories cannot be removed recursively.
		var dirs []string
		_ = filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cleanup: %v", err)
			}
		}
	}
}

// bundle writes the bundle of a new container running args with capabilities caps and
// seccomp profile sec, and has the test delete the container at its end.
func (h *crunHarness) bundle(t *testing.T, caps []string, sec *specs.LinuxSeccomp, args []string) (id, dir string) {
	t.Helper()
	h.counter++
	id = fmt.Sprintf("pea-oci-test-%d-%d", os.Getpid(), h.counter)
	dir = filepath.Join(h.dir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(crunSpec(h.rootfs, filepath.Join(h.cgroup, id), caps, sec, args), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = exec.Command(h.crun, "--root", h.state, "delete", "--force", id).Run()
	})
	return id, dir
}

// crunResult is what a container printed (stdout and stderr together) and its exit code.
type crunResult struct {
	out  string
	code int
}

// run runs args in a new container with capabilities caps and seccomp profile sec.
func (h *crunHarness) run(t *testing.T, caps []string, sec *specs.LinuxSeccomp, args ...string) crunResult {
	t.Helper()
	id, bundle := h.bundle(t, caps, sec, args)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.crun, "--root", h.state, "run", "--bundle", bundle, id)
	out, err := cmd.CombinedOutput()
	res := crunResult{out: strings.TrimSpace(string(out))}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("crun run %v: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("crun run %v: timed out", args)
	}
	return res
}

// crunSpec is a container spec made of pea's defaults, as the engine will write it.
func crunSpec(rootfs, cgroupsPath string, caps []string, sec *specs.LinuxSeccomp, args []string) *specs.Spec {
	return &specs.Spec{
		// crun 1.8.1 rejects newer versions than 1.1 ("unknown version specified"), whatever
		// the spec uses.
		Version: "1.1.0",
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/bin", "HOME=/"},
			Cwd:  "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding: caps, Effective: caps, Permitted: caps,
			},
			Rlimits:         oci.DefaultRlimits(),
			NoNewPrivileges: true,
		},
		Root:     &specs.Root{Path: rootfs},
		Hostname: "pea-test",
		Mounts:   oci.DefaultMounts(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}, {Type: specs.CgroupNamespace},
			},
			Devices:       oci.DefaultDevices(),
			Resources:     &specs.LinuxResources{Devices: oci.DefaultDeviceRules()},
			CgroupsPath:   cgroupsPath,
			Seccomp:       sec,
			MaskedPaths:   oci.MaskedPaths,
			ReadonlyPaths: oci.ReadonlyPaths,
		},
	}
}

func TestDefaultsUnderCrun(t *testing.T) {
	h := newCrunHarness(t)
	caps := oci.DefaultCapabilities
	sec := oci.DefaultSeccomp(caps)

	rl := map[string]uint64{}
	for _, r := range oci.DefaultRlimits() {
		rl[r.Type] = r.Soft
	}
	masked := crunMaskedCheck(t)
	for _, tc := range []struct {
		name     string
		args     []string
		fail     bool   // must exit non-zero
		contains string // in the output
		equals   string // the whole output
	}{
		{name: "echo", args: []string{"sh", "-c", "echo ok"}, equals: "ok"},
		{name: "ls", args: []string{"ls", "/"}, contains: "bin"},
		{name: "wget help", args: []string{"wget", "--help"}, contains: "Usage: wget"},
		{name: "ps", args: []string{"ps"}, contains: "ps"},
		{name: "fork and wait", args: []string{"sh", "-c", "sleep 0 & wait; echo forked"}, equals: "forked"},
		{name: "pipes and files", args: []string{"sh", "-c", "echo hi > /tmp/f && cat /tmp/f | tr a-z A-Z && rm /tmp/f"}, equals: "HI"},
		{name: "devices", args: []string{"sh", "-c", "echo x > /dev/null && head -c 8 /dev/urandom | wc -c && head -c 3 /dev/zero | wc -c && ls /dev"},
			contains: "8\n3\n"},
		{name: "shm", args: []string{"sh", "-c", "echo x > /dev/shm/f && cat /dev/shm/f"}, equals: "x"},
		{name: "chroot", args: []string{"chroot", "/", "true"}},
		{name: "hostname", args: []string{"hostname"}, equals: "pea-test"},
		{name: "unshare user", args: []string{"unshare", "-U", "true"}, fail: true, contains: "Operation not permitted"},
		{name: "unshare mount", args: []string{"unshare", "-m", "true"}, fail: true, contains: "Operation not permitted"},
		{name: "unshare net", args: []string{"unshare", "-n", "true"}, fail: true, contains: "Operation not permitted"},
		{name: "mount", args: []string{"mount", "-t", "tmpfs", "x", "/mnt"}, fail: true, contains: "permission denied"},
		{name: "masked paths", args: []string{"sh", "-c", masked.script}, equals: masked.want},
		{name: "proc sys read-only", args: []string{"sh", "-c", "echo 1 > /proc/sys/kernel/printk_ratelimit"}, fail: true, contains: "Read-only file system"},
		{name: "sys read-only", args: []string{"touch", "/sys/kernel/x"}, fail: true, contains: "Read-only file system"},
		{name: "capabilities", args: []string{"grep", "-E", "^Cap(Eff|Prm|Bnd):", "/proc/self/status"},
			equals: "CapPrm:\t00000000800405fb\nCapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb"},
		{name: "seccomp on", args: []string{"grep", "^Seccomp:", "/proc/self/status"}, equals: "Seccomp:\t2"},
		{name: "no new privileges", args: []string{"grep", "^NoNewPrivs:", "/proc/self/status"}, equals: "NoNewPrivs:\t1"},
		{name: "rlimits", args: []string{"sh", "-c", "ulimit -n; ulimit -u"},
			equals: strconv.FormatUint(rl["RLIMIT_NOFILE"], 10) + "\n" + strconv.FormatUint(rl["RLIMIT_NPROC"], 10)},
		{name: "settime", args: []string{"date", "-s", "2000-01-01"}, contains: "can't set date: Operation not permitted"},
		{name: "reboot", args: []string{"reboot", "-f"}, fail: true, contains: "Operation not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.run(t, caps, sec, tc.args...)
			if tc.fail != (res.code != 0) {
				t.Errorf("%v: exit %d (want failure: %v), output:\n%s", tc.args, res.code, tc.fail, res.out)
			}
			if tc.equals != "" && res.out != tc.equals {
				t.Errorf("%v: output\n%q\nwant\n%q", tc.args, res.out, tc.equals)
			}
			if tc.contains != "" && !strings.Contains(res.out+"\n", tc.contains) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, tc.contains, res.out)
			}
		})
	}
}

// The control: without the profile, the same capabilities let unshare -U through (creating a
// user namespace needs no capability), so the failure above is the profile's doing.
func TestDefaultsUnderCrunWithoutSeccomp(t *testing.T) {
	h := newCrunHarness(t)
	res := h.run(t, oci.DefaultCapabilities, nil, "sh", "-c", "unshare -U true && echo ok")
	if res.code != 0 || res.out != "ok" {
		t.Fatalf("exit %d, output:\n%s", res.code, res.out)
	}
}

// With CAP_SYS_ADMIN added, the profile lets namespaces and mounts through.
func TestDefaultsUnderCrunWithSysAdmin(t *testing.T) {
	h := newCrunHarness(t)
	caps, err := oci.Capabilities([]string{"sys_admin"}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	res := h.run(t, caps, oci.DefaultSeccomp(caps), "sh", "-c",
		"mount -t tmpfs x /mnt && umount /mnt && unshare -m true && unshare -U true && echo ok")
	if res.code != 0 || res.out != "ok" {
		t.Fatalf("exit %d, output:\n%s", res.code, res.out)
	}
}

// Every capability this process can grant, with the profile that goes with them (many
// overlapping rules): crun accepts both.
func TestDefaultsUnderCrunAllCapabilities(t *testing.T) {
	h := newCrunHarness(t)
	caps := oci.AllCapabilities()
	var want uint64
	for _, c := range caps {
		want |= 1 << uint(oci.CapabilityNumberForTest(c))
	}
	res := h.run(t, caps, oci.DefaultSeccomp(caps), "grep", "^CapEff:", "/proc/self/status")
	if res.code != 0 || res.out != fmt.Sprintf("CapEff:\t%016x", want) {
		t.Fatalf("exit %d, output %q, want CapEff %016x", res.code, res.out, want)
	}
	if !slices.Contains(caps, "CAP_SYS_ADMIN") {
		t.Errorf("AllCapabilities lacks CAP_SYS_ADMIN: %v", caps)
	}
}

// crunMaskedCheck builds a script that prints the size of each masked file and the number of
// entries of each masked directory, for those this kernel has (not all kernels have
// /proc/kcore or /proc/sysrq-trigger), and what it must print: all zeros.
func crunMaskedCheck(t *testing.T) (check struct{ script, want string }) {
	t.Helper()
	var script, want []string
	for _, p := range oci.MaskedPaths {
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case fi.IsDir():
			script = append(script, fmt.Sprintf("echo %s $(ls -A %s | wc -l)", p, p))
		default:
			script = append(script, fmt.Sprintf("echo %s $(wc -c < %s)", p, p))
		}
		want = append(want, p+" 0")
	}
	if len(script) == 0 {
		t.Fatal("none of the masked paths exists on this machine")
	}
	check.script = strings.Join(script, "; ")
	check.want = strings.Join(want, "\n")
	return check
}

// compile has crun compile profile sec (through libseccomp) for a container with capabilities
// caps, and returns the filter it wrote into its state directory.
func (h *crunHarness) compile(t *testing.T, caps []string, sec *specs.LinuxSeccomp) []byte {
	t.Helper()
	id, bundle := h.bundle(t, caps, sec, []string{"true"})
	// The created container's first process keeps crun's output open until it is started or
	// killed: a pipe would never reach its end.
	out, err := os.Create(filepath.Join(bundle, "create.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	create := exec.CommandContext(ctx, h.crun, "--root", h.state, "create", "--bundle", bundle, id)
	create.Stdout, create.Stderr = out, out
	if err := create.Run(); err != nil {
		msg, _ := os.ReadFile(out.Name())
		t.Fatalf("crun create: %v: %s", err, msg)
	}
	b, err := os.ReadFile(filepath.Join(h.state, id, "seccomp.bpf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// For every profile pea writes or reads — its default one for several capability sets, and
// the docker and OCI sample files — the filter crun's libseccomp compiles is relaid out into
// one that takes the same action for every system call number of every architecture, and for
// argument values around every constant where the action depends on them; or, for a filter
// that already loads fast (the short samples), left as it is.
func TestRelayoutOfWhatCrunCompiles(t *testing.T) {
	h := newCrunHarness(t)
	profiles := map[string]func() ([]string, *specs.LinuxSeccomp, error){
		"default": func() ([]string, *specs.LinuxSeccomp, error) {
			return oci.DefaultCapabilities, oci.DefaultSeccomp(oci.DefaultCapabilities), nil
		},
		"default, all capabilities": func() ([]string, *specs.LinuxSeccomp, error) {
			caps := oci.AllCapabilities()
			return caps, oci.DefaultSeccomp(caps), nil
		},
		"default, with SYS_ADMIN": func() ([]string, *specs.LinuxSeccomp, error) {
			caps := append(slices.Clone(oci.DefaultCapabilities), "CAP_SYS_ADMIN")
			return caps, oci.DefaultSeccomp(caps), nil
		},
	}
	for _, file := range []string{"seccomp-docker-sample.json", "seccomp-oci-sample.json"} {
		profiles[file] = func() ([]string, *specs.LinuxSeccomp, error) {
			sec, err := oci.LoadSeccompFileFor(filepath.Join("testdata", file), oci.DefaultCapabilities)
			return oci.DefaultCapabilities, sec, err
		}
	}
	for name, profile := range profiles {
		t.Run(name, func(t *testing.T) {
			caps, sec, err := profile()
			if err != nil {
				t.Fatal(err)
			}
			if sec == nil {
				t.Skip("no filter")
			}
			dependent, err := oci.RelayoutSeccompForTest(h.compile(t, caps, sec))
			if errors.Is(err, oci.ErrRelayoutNoGainForTest) && strings.HasSuffix(name, ".json") {
				t.Skip("loads fast as compiled")
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d syscall numbers whose action depends on arguments", dependent)
		})
	}
}

package cgroups

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

// testHost returns the host's hierarchies, skipping when the test cannot change them.
func testHost(t testing.TB) *hierarchies {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	h, err := current()
	if err != nil {
		t.Skip(err)
	}
	return h
}

// testV2 returns the cgroup2 tree to test the v2 code on: the host's own on a v2 host, the
// controller-less unified tree on a hybrid one.
func testV2(t testing.TB) *hierarchies {
	h := testHost(t)
	if h.unified == "" {
		t.Skip("no cgroup2 hierarchy is mounted")
	}
	return &hierarchies{v2: true, unified: h.unified}
}

// testPath returns a unique top-level cgroup path and removes it at the end, even on failure.
func testPath(t testing.TB, h *hierarchies) string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:])
	p := "/pea-test-" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		if err := h.remove(p); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		assertGone(t, h, p)
	})
	return p
}

func assertGone(t testing.TB, h *hierarchies, p string) {
	t.Helper()
	for _, root := range h.dirs(true) {
		if _, err := os.Stat(filepath.Join(root, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", filepath.Join(root, p), err)
		}
	}
}

func readTrim(t testing.TB, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// worker is a shell that waits to be moved into a cgroup, then allocates about 1 MiB and burns
// CPU, and stays until stopped.
type worker struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
}

func startWorker(t testing.TB) *worker {
	t.Helper()
	sh := "/bin/sh"
	if _, err := os.Stat("/bin/busybox"); err == nil {
		sh = "/bin/busybox"
	}
	script := `read go; s=x; i=0; while [ $i -lt 20 ]; do s="$s$s"; i=$((i+1)); done
i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo ready; read stop`
	args := []string{"-c", script}
	if sh == "/bin/busybox" {
		args = append([]string{"sh"}, args...)
	}
	cmd := exec.Command(sh, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &worker{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	t.Cleanup(w.stop)
	return w
}

// run lets the worker do its work and waits until it has.
func (w *worker) run(t testing.TB) {
	t.Helper()
	if _, err := io.WriteString(w.stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	line, err := w.out.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("worker: %q, %v", line, err)
	}
}

func (w *worker) stop() {
	if w.cmd.ProcessState != nil {
		return
	}
	_ = w.cmd.Process.Kill()
	_ = w.cmd.Wait()
}

// join moves pid into the cgroup p in every hierarchy it was made in.
func join(t testing.TB, h *hierarchies, p string, pid int) {
	t.Helper()
	for _, root := range h.dirs(false) {
		if err := os.WriteFile(filepath.Join(root, p, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			t.Fatalf("join %s: %v", root, err)
		}
	}
}

func TestModeAndDetection(t *testing.T) {
	m := Mode()
	if m != "v1" && m != "v2" {
		t.Fatalf("Mode() = %q", m)
	}
	h, err := current()
	if err != nil {
		t.Fatal(err)
	}
	if h.v2 != (m == "v2") {
		t.Fatalf("mode %s, detected v2=%v", m, h.v2)
	}
	if !h.v2 {
		for _, c := range []string{"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer"} {
			if h.v1[c] == "" {
				t.Errorf("v1 controller %s not found: %v", c, h.v1)
			}
		}
	}
	t.Logf("mode %s, hierarchies %v, unified %q", m, h.v1, h.unified)
}

func TestCreateLimitsStatsRemoveV1(t *testing.T) {
	h := testHost(t)
	if h.v2 {
		t.Skip("v1 host test; this host is v2 (see TestCreateStatsRemoveV2)")
	}
	top := testPath(t, h)
	p := top + "/pod-1"
	l := Limits{Memory: 64 << 20, CPUs: 1.5, CpusetCpus: "0", PidsLimit: 100}
	if err := h.create(p, l); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		filepath.Join(h.v1["memory"], p, "memory.limit_in_bytes"): "67108864",
		filepath.Join(h.v1["cpu"], p, "cpu.cfs_quota_us"):         "150000",
		filepath.Join(h.v1["cpu"], p, "cpu.cfs_period_us"):        "100000",
		filepath.Join(h.v1["cpuset"], p, "cpuset.cpus"):           "0",
		filepath.Join(h.v1["pids"], p, "pids.max"):                "100",
		// every new cpuset level got the parent's CPUs and memory nodes
		filepath.Join(h.v1["cpuset"], top, "cpuset.cpus"): readTrim(t, filepath.Join(h.v1["cpuset"], "cpuset.cpus")),
		filepath.Join(h.v1["cpuset"], p, "cpuset.mems"):   readTrim(t, filepath.Join(h.v1["cpuset"], "cpuset.mems")),
	} {
		if got := readTrim(t, file); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	for _, root := range h.dirs(false) {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("not made in %s: %v", root, err)
		}
	}

	// Creating again is fine and rewrites the limits.
	if err := h.create(p, Limits{PidsLimit: -1}); err != nil {
		t.Fatal(err)
	}
	if got := readTrim(t, filepath.Join(h.v1["pids"], p, "pids.max")); got != "max" {
		t.Errorf("pids.max = %q after removing the limit", got)
	}

	w := startWorker(t)
	join(t, h, p, w.cmd.Process.Pid)
	w.run(t)
	s, err := h.readStats(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %+v", *s)
	if s.PidsCurrent < 1 || s.MemUsage == 0 || s.CPUNanos == 0 || s.MemLimit != 64<<20 {
		t.Errorf("stats %+v: want PidsCurrent>=1, MemUsage>0, CPUNanos>0, MemLimit 64MiB", *s)
	}
	checkDetail(t, h, p, w.cmd.Process.Pid)
	// The parent counts its children.
	if ps, err := h.readStats(top); err != nil || ps.CPUNanos < s.CPUNanos || ps.PidsCurrent < 1 {
		t.Errorf("parent stats %+v, %v", ps, err)
	}
	if got, err := cgroupOf(w.cmd.Process.Pid); err != nil || got != p {
		t.Errorf("PidCgroupPath = %q, %v; want %q", got, err, p)
	}

	// A process inside keeps the cgroup; Remove kills nothing and says so.
	if err := h.remove(p); !errors.Is(err, errdefs.ErrInUse) {
		t.Errorf("remove with a process inside: %v, want ErrInUse", err)
	}
	w.stop()

	// A child cgroup (as the runtime makes for a container) goes too.
	for _, root := range h.dirs(true) {
		if err := os.MkdirAll(filepath.Join(root, p, "ctr-1"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.remove(top); err != nil {
		t.Fatal(err)
	}
	assertGone(t, h, top)
	if _, err := h.readStats(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stats of a removed cgroup: %v, want os.ErrNotExist", err)
	}
	if err := h.remove(top); err != nil {
		t.Errorf("removing again: %v", err)
	}
}

// checkDetail checks the fuller figures of cgroup p (the CRI's metrics), which holds pid after
// it burnt some CPU.
func checkDetail(t *testing.T, h *hierarchies, p string, pid int) {
	t.Helper()
	d, err := h.readDetail(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("detail: %+v", *d)
	if !slices.Contains(d.Procs, pid) || d.MemUsageRaw < d.MemUsage || d.CPUUser+d.CPUSystem == 0 || d.PgFault == 0 {
		t.Errorf("detail %+v: want pid %d among Procs, MemUsageRaw >= MemUsage, user+system CPU and page faults", *d, pid)
	}
}

// cgroupOf is PidCgroupPath against the package's detection.
func cgroupOf(pid int) (string, error) { return PidCgroupPath(pid) }

func TestCreateRollsBack(t *testing.T) {
	h := testHost(t)
	top := testPath(t, h)
	p := top + "/a/b"
	limits := Limits{CpusetCpus: "4096"} // no such CPU
	if h.v2 && !strings.Contains(readTrim(t, filepath.Join(h.unified, "cgroup.controllers")), "cpuset") {
		limits = Limits{Memory: 1 << 30}
	}
	err := h.create(p, limits)
	if err == nil {
		t.Fatal("create with a bad limit succeeded")
	}
	if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), p) {
		t.Errorf("error %q: want one line naming the cgroup", err)
	}
	t.Logf("error: %v", err)
	assertGone(t, h, top)

	for _, bad := range []string{"", "/", "pea", "/pea/../x", "/pea/", "/pea//x"} {
		if err := h.create(bad, Limits{}); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("create(%q): %v, want ErrInvalid", bad, err)
		}
		if err := h.remove(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("remove(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if err := h.create(top, Limits{CPUs: 0.001}); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("cpus 0.001: %v, want ErrInvalid", err)
	}
}

func TestCreateStatsRemoveV2(t *testing.T) {
	h := testV2(t)
	top := testPath(t, h)
	p := top + "/pod-1"
	ctrls := strings.Fields(readTrim(t, filepath.Join(h.unified, "cgroup.controllers")))
	var l Limits
	if contains(ctrls, "memory") {
		l.Memory = 64 << 20
	}
	if contains(ctrls, "pids") {
		l.PidsLimit = 100
	}
	if contains(ctrls, "cpu") {
		l.CPUs = 0.5
	}
	if err := h.create(p, l); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{"memory.max": "67108864", "pids.max": "100", "cpu.max": "50000 100000"} {
		ctrl, _, _ := strings.Cut(file, ".")
		if !contains(ctrls, ctrl) {
			continue
		}
		if got := readTrim(t, filepath.Join(h.unified, p, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}

	w := startWorker(t)
	if err := os.WriteFile(filepath.Join(h.unified, p, "cgroup.procs"), []byte(strconv.Itoa(w.cmd.Process.Pid)), 0); err != nil {
		t.Fatal(err)
	}
	w.run(t)
	s, err := h.readStats(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("v2 stats (controllers %v): %+v", ctrls, *s)
	if contains(ctrls, "memory") && contains(ctrls, "cpu") {
		checkDetail(t, h, p, w.cmd.Process.Pid)
	}
	if s.CPUNanos == 0 {
		t.Errorf("CPUNanos = 0")
	}
	if contains(ctrls, "memory") && (s.MemUsage == 0 || s.MemLimit != 64<<20) {
		t.Errorf("memory stats %+v", *s)
	}
	if !contains(ctrls, "memory") && s.MemLimit != hostRAM() {
		t.Errorf("MemLimit %d, want the host's RAM %d", s.MemLimit, hostRAM())
	}
	if contains(ctrls, "pids") && s.PidsCurrent < 1 {
		t.Errorf("PidsCurrent = 0")
	}
	procCgroup, err := os.ReadFile("/proc/" + strconv.Itoa(w.cmd.Process.Pid) + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := cgroupFromProcFile(string(procCgroup), true); !ok || got != p {
		t.Errorf("unified cgroup of the worker = %q, want %q", got, p)
	}
	w.stop()
	if err := h.remove(top); err != nil {
		t.Fatal(err)
	}
	assertGone(t, h, top)
	if _, err := h.readStats(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stats of a removed cgroup: %v, want os.ErrNotExist", err)
	}
}

func TestCgroupFromProcFile(t *testing.T) {
	hybrid := "10:hugetlb:/\n4:memory:/pea/pod-1/ctr\n3:cpu,cpuacct:/pea/pod-1/ctr\n1:name=systemd:/user.slice\n0::/pea/pod-1/ctr\n"
	for _, tc := range []struct {
		name, content string
		v2            bool
		want          string
		ok            bool
	}{
		{"v1 memory line", hybrid, false, "/pea/pod-1/ctr", true},
		{"v2 line of a hybrid host", hybrid, true, "/pea/pod-1/ctr", true},
		{"v2", "0::/system.slice/x.service\n", true, "/system.slice/x.service", true},
		{"v1 without memory", "3:cpu,cpuacct:/a\n", false, "", false},
		{"path with colon", "0::/a:b\n", true, "/a:b", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cgroupFromProcFile(tc.content, tc.v2)
			if got != tc.want || ok != tc.ok {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestParsers(t *testing.T) {
	stat := []byte("cache 10\nrss 20\ninactive_file 5\ntotal_inactive_file 7\nhierarchical_memory_limit 9223372036854771712\n")
	if v := statField(stat, "inactive_file"); v != 5 {
		t.Errorf("inactive_file = %d", v)
	}
	if v := statField(stat, "total_inactive_file"); v != 7 {
		t.Errorf("total_inactive_file = %d", v)
	}
	if v := statField(stat, "missing"); v != 0 {
		t.Errorf("missing = %d", v)
	}
	r, w := blkioBytes([]byte("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 1\n8:16 Read 1\nTotal 12289\n"))
	if r != 4097 || w != 8192 {
		t.Errorf("blkio %d %d", r, w)
	}
	r, w = ioStatBytes([]byte("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n"))
	if r != 101 || w != 202 {
		t.Errorf("io.stat %d %d", r, w)
	}
}

func TestPidCgroupPathMissingProcess(t *testing.T) {
	if _, err := PidCgroupPath(1 << 30); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want os.ErrNotExist", err)
	}
	p, err := PidCgroupPath(os.Getpid())
	if err != nil || !strings.HasPrefix(p, "/") {
		t.Fatalf("own cgroup: %q, %v", p, err)
	}
	if _, err := ReadStats(p); err != nil {
		t.Fatalf("stats of own cgroup %s: %v", p, err)
	}
}

func BenchmarkReadStats(b *testing.B) {
	h := testHost(b)
	p := testPath(b, h)
	if err := h.create(p, Limits{Memory: 256 << 20, PidsLimit: 100}); err != nil {
		b.Fatal(err)
	}
	w := startWorker(b)
	if h.v2 {
		if err := os.WriteFile(filepath.Join(h.unified, p, "cgroup.procs"), []byte(strconv.Itoa(w.cmd.Process.Pid)), 0); err != nil {
			b.Fatal(err)
		}
	} else {
		join(b, h, p, w.cmd.Process.Pid)
	}
	w.run(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ReadStats(p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	w.stop()
}

// The cheap detection (statfs of the conventional mount points) must find what the mount table
// says, on this v1 host.
func TestConventionalDetectionMatchesMountinfo(t *testing.T) {
	if Mode() == "v2" {
		t.Skip("v1 only")
	}
	fast := detectConventional()
	if fast == nil {
		t.Fatal("the hierarchies are mounted at /sys/fs/cgroup/<controllers> here, but were not found there")
	}
	slow, err := detectFromMountinfo()
	if err != nil {
		t.Fatal(err)
	}
	if fast.unified != slow.unified {
		t.Errorf("unified: %q, mountinfo says %q", fast.unified, slow.unified)
	}
	for c, dir := range slow.v1 {
		if fast.v1[c] != dir {
			t.Errorf("controller %s: %q, mountinfo says %q", c, fast.v1[c], dir)
		}
	}
	if len(fast.v1) != len(slow.v1) {
		t.Errorf("controllers: %v, mountinfo says %v", fast.v1, slow.v1)
	}
}

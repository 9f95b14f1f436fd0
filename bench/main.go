// Command bench times pea against podman (when installed) and against the bare runtime, in one
// interleaved run, and prints a Markdown table. It is run by `make bench`, never by `go test`.
//
// Each engine gets a throw-away store under one temporary directory, imports the same busybox
// image, and is warmed up (default network, podman's pause image) before anything is timed; its
// binary is dropped from the page cache first, so that it runs as an installed one (installed.go).
// Every operation is timed as whole-process wall time, -n times, alternating engines: pea,
// podman, pea, podman ... The setup of a measurement (the pods listed by `pod ps`, the container
// `exec` runs in) is not timed, and a timed command starts once no process an earlier command
// left behind (podman's container cleanups, pea's trash emptier) is still working on a store
// (leftovers.go). `run --rm --network none` and the floors are timed twice, each command
// starting in a state the bench sets just before it: after 200 ms of quiet, and with the
// kernel's cgroup attach lock readied (state.go).
// At the end, and on an interrupt, every pod, container and network is removed, whatever is
// still mounted below the temporary directory is unmounted, and the directory goes.
//
//	make bench BENCH_ARGS='-n 5 -levels 0,10,100'
//	go run ./bench -no-podman -run 'startup|run'
package main

import (
	"golang.org/x/sys/unix"

	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	pea, podman string
	noPodman    bool
	n, bulkN    int
	levels      string
	run         string
	out         string
	leftovers   bool
}

func main() {
	var o options
	flag.StringVar(&o.pea, "pea", "", "pea binary to measure (default: build ./cmd/pea)")
	flag.StringVar(&o.podman, "podman", "", "podman binary (default: podman from PATH, when installed)")
	flag.BoolVar(&o.noPodman, "no-podman", false, "measure pea and the floor only")
	flag.IntVar(&o.n, "n", 5, "repetitions of each single operation")
	flag.IntVar(&o.bulkN, "bulk-n", 2, "repetitions of each bulk operation (20×3 pods, pod rm -fa)")
	flag.StringVar(&o.levels, "levels", "0,10,100", "pod counts for ps -a and pod ps (1000 is opt-in: it takes long)")
	flag.StringVar(&o.run, "run", "", "only the groups matching this regexp: startup run container pod publish disk bulk list api build")
	flag.StringVar(&o.out, "o", "", "also write the report to this file")
	flag.BoolVar(&o.leftovers, "wait-leftovers", true, "before timed work, wait for the engines' leftover processes (see leftovers.go)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q (flags only; see -h)\n", flag.Arg(0))
		os.Exit(2)
	}
	os.Exit(run(o))
}

func run(o options) (code int) {
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench: run as root: both engines run rootful containers")
		return 2
	}
	b := &bench{n: o.n, bulkN: o.bulkN, res: newResults(), vars: map[*engine]map[string]string{}}
	if o.n < 1 || o.bulkN < 1 {
		fmt.Fprintln(os.Stderr, "bench: -n and -bulk-n must be at least 1")
		return 2
	}
	for _, f := range strings.Split(o.levels, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v < 0 {
			fmt.Fprintf(os.Stderr, "bench: -levels %q: want pod counts such as 0,10,100\n", o.levels)
			return 2
		}
		b.levels = append(b.levels, v)
	}
	sort.Ints(b.levels)
	if o.run != "" {
		re, err := regexp.Compile(o.run)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: -run: %v\n", err)
			return 2
		}
		b.filter = re
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ctx = ctx
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-sigs
		b.logf("interrupted: stopping and cleaning up (again to quit at once, leaving things behind)")
		cancel()
		<-sigs
		os.Exit(130)
	}()

	base, err := os.MkdirTemp("", "pea-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	runBase, err := volatileDir(base)
	if err != nil {
		os.RemoveAll(base)
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	var traces *hostTraces
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "bench: panic: %v\n", r)
			code = 1
		}
		b.cleanup(base, runBase, traces)
		if ctx.Err() != nil && code == 0 {
			code = 130
		}
	}()

	pea := o.pea
	if pea == "" {
		pea = filepath.Join(base, "pea-bin")
		b.logf("building pea")
		if b.peaSource, err = buildPea(pea); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}
	peaEng := newPea(pea, base, runBase)
	b.engines = []*engine{peaEng}
	podman := ""
	if !o.noPodman {
		podman = o.podman
		if podman == "" {
			podman, _ = exec.LookPath("podman")
		}
		if podman == "" {
			b.logf("podman is not installed: measuring pea and the floor only")
		}
	}
	if podman != "" {
		traces = noteHostTraces()
		ownLocks := false
		for _, p := range traces.paths {
			ownLocks = ownLocks || p == "/dev/shm/libpod_lock"
		}
		conf, err := writePodmanConf(base, ownLocks)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		b.engines = append(b.engines, newPodman(podman, base, runBase, conf))
	}
	for _, e := range b.engines {
		if err := os.MkdirAll(filepath.Join(e.dir, "tmp"), 0o700); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
	}

	rootfs, tarball, err := buildRootfs(base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	if f, err := newFloor(base, runBase, rootfs); err != nil {
		b.logf("no floor: %v", err)
	} else {
		b.floors = append(b.floors, f)
	}
	// Both engines run from binaries read back from disk, as installed ones are (installed.go).
	for _, bin := range b.binaries() {
		if err := asInstalled(bin); err != nil {
			b.logf("%v: it is measured as it is in the page cache", err)
		}
	}
	for _, e := range b.engines {
		b.logf("%s: importing busybox and warming up", e.name)
		if err := b.warmUp(e, tarball); err != nil {
			fmt.Fprintf(os.Stderr, "bench: %s: %v\n", e.name, err)
			return 1
		}
	}

	if len(b.floors) > 0 {
		if f, err := newSpecFloor(ctx, peaEng, b.floors[0], base, rootfs); err != nil {
			b.logf("no floor with pea's spec: %v", err)
		} else {
			b.floors = append(b.floors, f)
		}
	}

	leftoverWait.off = !o.leftovers
	leftoverWait.setEngines(b.engines)
	header := b.header()
	start := time.Now()
	for _, g := range b.groups() {
		if ctx.Err() != nil {
			break
		}
		b.runGroup(g)
	}
	if ctx.Err() != nil {
		return 130
	}
	for name, bar := range bars {
		if x := b.res.by[name]; x != nil {
			x.bar = bar
		}
	}
	b.annotate()

	var w io.Writer = os.Stdout
	if o.out != "" {
		f, err := os.Create(o.out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		defer f.Close()
		w = io.MultiWriter(os.Stdout, f)
	}
	fmt.Fprintln(w, header)
	fmt.Fprintf(w, "Whole run: %s; load average at the end: %s.\n\n", time.Since(start).Round(time.Second), loadavg())
	fmt.Fprintf(w, "Leftovers: %s.\n\n", leftoverWait.summary())
	b.res.write(w, len(b.engines) > 1)
	return 0
}

// annotate sets the bars that depend on the levels and the floor comparison.
func (b *bench) annotate() {
	for _, s := range machineStates {
		if x := b.res.by[s.row(runNoneRow)]; x != nil {
			x.floor, x.maxFlr, x.specFloor = s.row(floorRow), 1.5, s.row(specFloorRow)
		}
	}
	ps0, pod0 := levelRows(0)
	for _, lv := range b.levels {
		ps, pod := levelRows(lv)
		for _, pair := range [][2]string{{ps, ps0}, {pod, pod0}} {
			x := b.res.by[pair[0]]
			if x == nil {
				continue
			}
			switch {
			case lv <= 10:
				x.bar = 0.1
			case lv == 100:
				x.bar = 0.05
			}
			if lv > 0 {
				x.base, x.pods = pair[1], lv
			}
		}
	}
	for _, x := range b.res.rows {
		if strings.HasPrefix(x.name, "pod rm -fa, 100 pods") {
			x.bar = 0.2
		}
		if strings.HasPrefix(x.name, "memory:") || strings.HasPrefix(x.name, "disk:") {
			x.unit = bytes
		}
	}
}

// warmUp imports the image and pays the one-time costs: the default network and its bridge,
// podman's pause image, the first start of each binary. The image carries PATH, as real images
// do (pea's exec takes PATH from the image alone).
func (b *bench) warmUp(e *engine, tarball string) error {
	pod := e.newName("warm")
	return b.untimed(e,
		[]string{"import", "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"--change", `CMD ["/bin/sh"]`, tarball, imageRef},
		[]string{"run", "--rm", "--network", "none", imageRef, "true"},
		[]string{"run", "--rm", imageRef, "true"},
		[]string{"pod", "create", "--name", pod},
		[]string{"pod", "start", pod},
		[]string{"pod", "rm", "-f", "-t0", pod},
	)
}

// buildPea builds ./cmd/pea of the module the benchmark is run from and says which source it
// was: the commit, and whether the working tree had changes.
func buildPea(out string) (string, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" || strings.TrimSpace(string(gomod)) == os.DevNull {
		return "", fmt.Errorf("run from the pea module (go env GOMOD: %v), or give -pea", err)
	}
	dir := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("./scripts/build.sh", out) // the build that setup.sh installs
	cmd.Dir = dir
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("scripts/build.sh: %v\n%s", err, msg)
	}
	desc, _ := exec.Command("git", "-C", dir, "describe", "--always", "--dirty").Output()
	return "built from " + strings.TrimSpace(string(desc)), nil
}

// cleanup removes what the run made, even after an interrupt or a failure.
func (b *bench) cleanup(base, runBase string, traces *hostTraces) {
	b.logf("cleaning up %s and %s", base, runBase)
	for _, e := range b.engines {
		if err := e.clean(); err != nil {
			b.logf("  %s: %v", e.name, err)
		}
	}
	for _, f := range b.floors {
		f.clean()
	}
	for _, dir := range []string{base, runBase} {
		if pids := killBelow(dir); len(pids) > 0 {
			b.logf("  killed leftover processes %v", pids)
			time.Sleep(200 * time.Millisecond)
		}
		if pts := unmountBelow(dir); len(pts) > 0 {
			b.logf("  unmounted %d leftover mounts", len(pts))
		}
	}
	if traces != nil {
		if removed := traces.remove(); len(removed) > 0 {
			b.logf("  removed podman's host-wide traces: %s", strings.Join(removed, ", "))
		}
	}
	for _, dir := range []string{runBase, base} {
		if err := os.RemoveAll(dir); err != nil {
			b.logf("  %v", err)
		}
	}
}

// volatileDir makes the directory for the engines' volatile state on a tmpfs, as /run is on
// every systemd host: in /run when it is one, else a tmpfs of its own mounted below base (this
// VM's /run is on the root ext4, mounted with discard: every file or directory removed there
// waits for the disk, which no usual host pays for its run state). cleanup unmounts it.
func volatileDir(base string) (string, error) {
	var st unix.Statfs_t
	if unix.Statfs("/run", &st) == nil && st.Type == unix.TMPFS_MAGIC {
		return os.MkdirTemp("/run", "pea-bench-")
	}
	dir := filepath.Join(base, "run")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0700"); err != nil {
		return "", fmt.Errorf("tmpfs for the run state at %s: %w", dir, err)
	}
	return dir, nil
}

// header describes the machine and the versions measured.
func (b *bench) header() string {
	var s strings.Builder
	fmt.Fprintf(&s, "## pea benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Fprintf(&s, "- machine: %s, %d CPUs, %s, kernel %s, cgroups %s\n", cpuModel(), runtime.NumCPU(), memTotal(), strings.TrimSpace(string(kernel)), cgroupLayout())
	for _, e := range b.engines {
		v, _ := e.out(b.ctx, "version")
		fmt.Fprintf(&s, "- %s: %s", e.name, firstVersion(v))
		if e.name == "pea" && b.peaSource != "" {
			fmt.Fprintf(&s, " (%s)", b.peaSource)
		}
		fmt.Fprintln(&s)
	}
	for _, tool := range []string{"crun", "conmon"} {
		v, _ := exec.Command(tool, "--version").Output()
		fmt.Fprintf(&s, "- %s: %s\n", tool, firstVersion(string(v)))
	}
	fmt.Fprintf(&s, "- repetitions: %d per operation, interleaved (%s); bulk operations %d; load average at the start: %s\n",
		b.n, engineNames(b.engines), b.bulkN, loadavg())
	fmt.Fprintf(&s, "- host state at the start: %s\n", hostState())
	fmt.Fprintf(&s, "- cgroup attach lock: %s\n", attachLockProbe(b.ctx))
	fmt.Fprintf(&s, "- binaries: %s dropped from the page cache before the warm-up, so that each engine runs from pages read back by exec, as an installed binary does\n", strings.Join(b.binaries(), ", "))
	return s.String()
}

// binaries are the engines' executables, with pea's registry helper (resolveBin).
func (b *bench) binaries() []string {
	var bins []string
	for _, e := range b.engines {
		paths := []string{e.bin}
		if e.name == "pea" {
			paths = append(paths, e.bin+"-registry")
		}
		for _, p := range paths {
			if r, ok := resolveBin(p); ok {
				bins = append(bins, r)
			}
		}
	}
	return bins
}

// hostState reports what slowed every engine on the test VM as the day's runs went on: memory
// cgroups kept alive after removal by the page cache charged to them (each makes creating and
// walking memory cgroups slower), and CPU pressure (the share of the last 300 s in which some
// task waited for a CPU).
func hostState() string {
	var parts []string
	if raw, err := os.ReadFile("/proc/cgroups"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if f := strings.Fields(l); len(f) >= 3 && f[0] == "memory" {
				parts = append(parts, f[2]+" memory cgroups (with those being removed)")
			}
		}
	}
	if raw, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		for _, f := range strings.Fields(strings.SplitN(string(raw), "\n", 2)[0]) {
			if v, ok := strings.CutPrefix(f, "avg300="); ok {
				parts = append(parts, "CPU pressure "+v+" % (300 s)")
			}
		}
	}
	if len(parts) == 0 {
		return "?"
	}
	return strings.Join(parts, ", ")
}

func engineNames(es []*engine) string {
	var n []string
	for _, e := range es {
		n = append(n, e.name)
	}
	if len(es) > 0 {
		n = append(n, "...")
	}
	return strings.Join(n, ", ")
}

func firstVersion(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(l), "version") {
			return strings.Join(strings.Fields(l), " ")
		}
	}
	return strings.TrimSpace(out)
}

func cpuModel() string {
	raw, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func memTotal() string {
	raw, _ := os.ReadFile("/proc/meminfo")
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return fmt.Sprintf("%.0f GiB RAM", kb/(1<<20))
		}
	}
	return "unknown RAM"
}

func cgroupLayout() string {
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == 0x63677270 {
		return "v2"
	}
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		return "v1+v2 hybrid"
	}
	return "v1"
}

func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Package cgroups creates, measures and removes the control groups pea puts pods in, by reading
// and writing cgroup files directly. It handles both layouts:
//
//	v2 (unified)   /sys/fs/cgroup is a cgroup2 mount; one tree, controllers enabled per level
//	               through cgroup.subtree_control
//	v1 (and the    /sys/fs/cgroup is a tmpfs holding one mount per controller (cpu, cpuacct,
//	hybrid layout) cpuset, memory, pids, blkio, devices, freezer, hugetlb, name=systemd, ...),
//	               found in /proc/self/mountinfo; a hybrid host also mounts a controller-less
//	               cgroup2 tree at /sys/fs/cgroup/unified, which crun populates too
//
// A cgroup is named by its path from the root of each hierarchy ("/pea/pod-<id>"); on v1 the
// same path is made in every hierarchy. The package knows nothing of pods or containers: the
// OCI runtime creates each container's own cgroup below the pod's, and pauses it.
package cgroups

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
)

// cgroupRoot is where the cgroup file systems are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// Mode reports the host's cgroup layout: "v2" when /sys/fs/cgroup is a cgroup2 mount, else
// "v1" (which includes the hybrid layout, whose controllers are all on v1 hierarchies).
func Mode() string {
	var st unix.Statfs_t
	if err := unix.Statfs(cgroupRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return "v2"
	}
	return "v1"
}

// Limits are the resource limits of a cgroup. A zero field leaves that resource alone; a
// negative Memory or PidsLimit removes the limit.
type Limits struct {
	Memory     int64   // bytes
	MemorySwap int64   // memory and swap together, bytes (-1: swap unlimited); needs Memory
	CPUs       float64 // CPU time as a number of CPUs (1.5 = 150 ms every 100 ms)
	CpusetCpus string  // the CPUs allowed, as "0-2,4"
	CpusetMems string  // the memory nodes allowed, as "0-1"
	PidsLimit  int64   // the most tasks at once
	CPUShares  uint64  // the relative CPU weight (v1 shares; converted to cpu.weight on v2)
	// BlkioWeight is the block I/O weight (10-1000); BlkioWeightDevice, ReadBps and WriteBps
	// are per-device lines "MAJOR:MINOR VALUE".
	BlkioWeight                          uint16
	BlkioWeightDevice, ReadBps, WriteBps []string
}

// SwapAccounting reports whether the host's kernel limits swap per cgroup (v1's
// memory.memsw.* files, v2's memory.swap.max): without it a swap limit cannot be set.
func SwapAccounting() bool {
	h, err := current()
	if err != nil {
		return false
	}
	if !h.v2 {
		_, err = os.Stat(filepath.Join(h.v1["memory"], "memory.memsw.limit_in_bytes"))
		return err == nil
	}
	// The root cgroup has no memory.swap.max: look in this process's own, then in the
	// children of the root every systemd host has.
	dirs := []string{"init.scope", "system.slice", "user.slice"}
	if b, err := fsx.ReadFile("/proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok && p != "/" {
				dirs = append([]string{strings.TrimPrefix(p, "/")}, dirs...)
			}
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(h.unified, d, "memory.swap.max")); err == nil {
			return true
		}
	}
	return false
}

// cpuPeriod is the CFS period pea uses, in microseconds.
const cpuPeriod = 100000

// hierarchies is the host's set of cgroup trees.
type hierarchies struct {
	v2 bool
	// unified is the cgroup2 mount: the only tree on v2, the controller-less one of a hybrid
	// host (empty when there is none).
	unified string
	// v1 maps each v1 controller ("cpu", "memory", "name=systemd"...) to its mount point; two
	// controllers mounted together share one.
	v1 map[string]string
}

var host = sync.OnceValues(detect)

func current() (*hierarchies, error) {
	h, err := host()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return h, nil
}

func detect() (*hierarchies, error) {
	if Mode() == "v2" {
		return &hierarchies{v2: true, unified: cgroupRoot}, nil
	}
	if h := detectConventional(); h != nil {
		return h, nil
	}
	return detectFromMountinfo()
}

// detectConventional finds the v1 hierarchies where systemd and every distribution mount them,
// /sys/fs/cgroup/<controllers as /proc/self/cgroup lists them> (name=systemd at .../systemd),
// checking each with statfs; nil when any is elsewhere. /proc/self/mountinfo, the general
// answer, grows with every mount on the host (each running container adds some) and reading it
// cost milliseconds on a host with a few hundred containers.
func detectConventional() *hierarchies {
	data, err := fsx.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil
	}
	h := &hierarchies{v1: map[string]string{}}
	isFS := func(dir string, magic int64) bool {
		var st unix.Statfs_t
		return unix.Statfs(dir, &st) == nil && int64(st.Type) == magic
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		// hierarchy-ID:controller-list:cgroup-path
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			return nil
		}
		if parts[1] == "" { // the cgroup2 tree of a hybrid host
			dir := filepath.Join(cgroupRoot, "unified")
			if !isFS(dir, unix.CGROUP2_SUPER_MAGIC) {
				return nil
			}
			h.unified = dir
			continue
		}
		name := strings.TrimPrefix(parts[1], "name=")
		dir := filepath.Join(cgroupRoot, name)
		if !isFS(dir, unix.CGROUP_SUPER_MAGIC) {
			return nil
		}
		for _, c := range strings.Split(parts[1], ",") {
			if isV1Controller(c) {
				h.v1[c] = dir
			}
		}
	}
	if len(h.v1) == 0 {
		return nil
	}
	return h
}

func detectFromMountinfo() (*hierarchies, error) {
	f, err := fsx.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := &hierarchies{v1: map[string]string{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 || fields[3] != "/" {
			continue // a bind mount of a subtree (as inside a container) is no hierarchy root
		}
		mnt, fstype := fsx.UnescapeMountPath(fields[4]), fields[sep+1]
		switch fstype {
		case "cgroup2":
			if h.unified == "" {
				h.unified = mnt
			}
		case "cgroup":
			for _, opt := range strings.Split(fields[sep+3], ",") {
				if isV1Controller(opt) {
					if _, seen := h.v1[opt]; !seen {
						h.v1[opt] = mnt
					}
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(h.v1) == 0 {
		return nil, fmt.Errorf("no cgroup hierarchy is mounted under %s", cgroupRoot)
	}
	return h, nil
}

// isV1Controller tells controller names from the other options of a v1 cgroup mount.
func isV1Controller(opt string) bool {
	if strings.HasPrefix(opt, "name=") {
		return true
	}
	switch opt {
	case "cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "net_cls", "net_prio",
		"blkio", "perf_event", "hugetlb", "pids", "rdma", "misc":
		return true
	}
	return false
}

// createControllers are the v1 hierarchies a new cgroup is made in (those mounted).
var createControllers = []string{
	"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "freezer", "devices", "hugetlb", "name=systemd",
}

// dirs lists the mount points a cgroup is made in (create) or looked for (all), each once.
func (h *hierarchies) dirs(all bool) []string {
	if h.v2 {
		return []string{h.unified}
	}
	seen := map[string]bool{}
	var out []string
	addDir := func(d string) {
		if d != "" && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if all {
		for _, d := range h.v1 {
			addDir(d)
		}
		sort.Strings(out)
	} else {
		for _, c := range createControllers {
			addDir(h.v1[c])
		}
	}
	addDir(h.unified)
	return out
}

// checkPath validates a cgroup path given to Create or Remove.
func checkPath(p string) (string, error) {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" || strings.Contains(p, "/../") {
		return "", fmt.Errorf("cgroup path %q: want an absolute, clean path below the root, like /pea/pod-1: %w", p, errdefs.ErrInvalid)
	}
	return p, nil
}

// Create makes the cgroup path (and any missing parents) in every hierarchy and applies l. On
// v1 it is made in the cpu, cpuacct, cpuset, memory, pids, blkio, freezer, devices, hugetlb and
// name=systemd hierarchies that are mounted (and in the unified tree of a hybrid host), each
// new cpuset level inheriting its parent's CPUs and memory nodes. On v2 the cpu, memory, pids,
// cpuset and io controllers are enabled down to the new cgroup's parent. An existing cgroup is
// reused and its limits rewritten. On failure, the directories made are removed again.
func Create(p string, l Limits) error {
	h, err := current()
	if err != nil {
		return err
	}
	return h.create(p, l)
}

func (h *hierarchies) create(p string, l Limits) (err error) {
	if _, err := checkPath(p); err != nil {
		return err
	}
	if l.CPUs < 0 || l.CPUs > 0 && l.CPUs*cpuPeriod < 1000 {
		return fmt.Errorf("cgroup %s: cpus %g: want at least 0.01: %w", p, l.CPUs, errdefs.ErrInvalid)
	}
	var made []string // in creation order
	defer func() {
		if err != nil {
			for i := len(made) - 1; i >= 0; i-- {
				_ = rmdirUntil(made[i], time.Now().Add(removeWait))
			}
		}
	}()
	for _, root := range h.dirs(false) {
		isCpuset := !h.v2 && root == h.v1["cpuset"]
		dir := root
		for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
			parent := dir
			dir = filepath.Join(dir, part)
			if h.v2 {
				enableControllers(parent)
			}
			if err := os.Mkdir(dir, 0o755); err != nil {
				if errors.Is(err, os.ErrExist) {
					continue
				}
				return fmt.Errorf("cgroup %s: %w", p, err)
			}
			made = append(made, dir)
			if isCpuset {
				if err := inheritCpuset(parent, dir); err != nil {
					return fmt.Errorf("cgroup %s: %w", p, err)
				}
			}
		}
	}
	if h.v2 {
		err = h.applyV2(p, l)
	} else {
		err = h.applyV1(p, l)
	}
	if err != nil {
		return fmt.Errorf("cgroup %s: %w", p, err)
	}
	return nil
}

// v2Controllers are enabled for the children of each level on v2, where available.
var v2Controllers = []string{"cpu", "memory", "pids", "cpuset", "io"}

// enableControllers makes the wanted controllers available to the children of dir. Failures
// are left for the limit writes to report: a controller that is not there shows as a missing
// file.
func enableControllers(dir string) {
	avail, err := fsx.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return
	}
	enabled, _ := fsx.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	have := strings.Fields(string(enabled))
	for _, c := range v2Controllers {
		if contains(strings.Fields(string(avail)), c) && !contains(have, c) {
			_ = fsx.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// inheritCpuset copies the parent's cpuset.cpus and cpuset.mems into a new v1 cpuset cgroup,
// which starts with both empty and accepts no task until they are set.
func inheritCpuset(parent, dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		v, err := fsx.ReadFile(filepath.Join(parent, f))
		if err != nil {
			return err
		}
		if len(strings.TrimSpace(string(v))) == 0 {
			continue
		}
		if err := writeFile(filepath.Join(dir, f), strings.TrimSpace(string(v))); err != nil {
			return err
		}
	}
	return nil
}

func (h *hierarchies) applyV1(p string, l Limits) error {
	file := func(ctrl, name string) (string, error) {
		root, ok := h.v1[ctrl]
		if !ok {
			return "", fmt.Errorf("the %s controller is not mounted", ctrl)
		}
		return filepath.Join(root, p, name), nil
	}
	var writes [][3]string // controller, file, value
	switch {
	case l.Memory > 0:
		writes = append(writes, [3]string{"memory", "memory.limit_in_bytes", fmt.Sprint(l.Memory)})
	case l.Memory < 0:
		writes = append(writes, [3]string{"memory", "memory.limit_in_bytes", "-1"})
	}
	if l.MemorySwap != 0 { // after the memory limit, which memsw may not be below
		writes = append(writes, [3]string{"memory", "memory.memsw.limit_in_bytes", fmt.Sprint(l.MemorySwap)})
	}
	if l.CPUs > 0 {
		writes = append(writes,
			[3]string{"cpu", "cpu.cfs_period_us", fmt.Sprint(cpuPeriod)},
			[3]string{"cpu", "cpu.cfs_quota_us", fmt.Sprint(int64(l.CPUs * cpuPeriod))})
	}
	if l.CpusetCpus != "" {
		writes = append(writes, [3]string{"cpuset", "cpuset.cpus", l.CpusetCpus})
	}
	if l.CpusetMems != "" {
		writes = append(writes, [3]string{"cpuset", "cpuset.mems", l.CpusetMems})
	}
	switch {
	case l.PidsLimit > 0:
		writes = append(writes, [3]string{"pids", "pids.max", fmt.Sprint(l.PidsLimit)})
	case l.PidsLimit < 0:
		writes = append(writes, [3]string{"pids", "pids.max", "max"})
	}
	if l.CPUShares > 0 {
		writes = append(writes, [3]string{"cpu", "cpu.shares", fmt.Sprint(l.CPUShares)})
	}
	if l.BlkioWeight > 0 {
		writes = append(writes, [3]string{"blkio", "blkio.weight", fmt.Sprint(l.BlkioWeight)})
	}
	for _, d := range l.BlkioWeightDevice {
		writes = append(writes, [3]string{"blkio", "blkio.weight_device", d})
	}
	for _, d := range l.ReadBps {
		writes = append(writes, [3]string{"blkio", "blkio.throttle.read_bps_device", d})
	}
	for _, d := range l.WriteBps {
		writes = append(writes, [3]string{"blkio", "blkio.throttle.write_bps_device", d})
	}
	for _, w := range writes {
		f, err := file(w[0], w[1])
		if err != nil {
			return err
		}
		if err := writeLimit(f, w[2]); err != nil {
			return err
		}
	}
	return nil
}

func (h *hierarchies) applyV2(p string, l Limits) error {
	dir := filepath.Join(h.unified, p)
	var writes [][2]string
	switch {
	case l.Memory > 0:
		writes = append(writes, [2]string{"memory.max", fmt.Sprint(l.Memory)})
	case l.Memory < 0:
		writes = append(writes, [2]string{"memory.max", "max"})
	}
	switch { // v2 limits swap alone
	case l.MemorySwap < 0:
		writes = append(writes, [2]string{"memory.swap.max", "max"})
	case l.MemorySwap > 0:
		writes = append(writes, [2]string{"memory.swap.max", fmt.Sprint(l.MemorySwap - l.Memory)})
	}
	if l.CPUs > 0 {
		writes = append(writes, [2]string{"cpu.max", fmt.Sprintf("%d %d", int64(l.CPUs*cpuPeriod), cpuPeriod)})
	}
	if l.CpusetCpus != "" {
		writes = append(writes, [2]string{"cpuset.cpus", l.CpusetCpus})
	}
	if l.CpusetMems != "" {
		writes = append(writes, [2]string{"cpuset.mems", l.CpusetMems})
	}
	switch {
	case l.PidsLimit > 0:
		writes = append(writes, [2]string{"pids.max", fmt.Sprint(l.PidsLimit)})
	case l.PidsLimit < 0:
		writes = append(writes, [2]string{"pids.max", "max"})
	}
	if l.CPUShares > 0 { // shares 2..262144 onto weight 1..10000, as the runtimes map them
		writes = append(writes, [2]string{"cpu.weight", fmt.Sprint(1 + (max(l.CPUShares, 2)-2)*9999/262142)})
	}
	if l.BlkioWeight > 0 {
		writes = append(writes, [2]string{"io.weight", fmt.Sprintf("default %d", l.BlkioWeight)})
	}
	for _, d := range l.BlkioWeightDevice {
		writes = append(writes, [2]string{"io.weight", d})
	}
	for _, d := range l.ReadBps {
		if dev, v, ok := strings.Cut(d, " "); ok {
			writes = append(writes, [2]string{"io.max", dev + " rbps=" + v})
		}
	}
	for _, d := range l.WriteBps {
		if dev, v, ok := strings.Cut(d, " "); ok {
			writes = append(writes, [2]string{"io.max", dev + " wbps=" + v})
		}
	}
	for _, w := range writes {
		if err := writeLimit(filepath.Join(dir, w[0]), w[1]); err != nil {
			return err
		}
	}
	return nil
}

// writeLimit writes a limit file, turning the kernel's terse errors into sentences.
func writeLimit(file, value string) error {
	err := writeFile(file, value)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, os.ErrNotExist):
		ctrl, _, _ := strings.Cut(filepath.Base(file), ".")
		return fmt.Errorf("cannot set %s: the %s controller is not available there", filepath.Base(file), ctrl)
	case errors.Is(err, syscall.EINVAL), errors.Is(err, syscall.ERANGE):
		return fmt.Errorf("%s: the kernel rejects %q (out of range, or above a parent's limit): %w",
			filepath.Base(file), value, errdefs.ErrInvalid)
	case errors.Is(err, syscall.EBUSY):
		return fmt.Errorf("%s: %q is below what the cgroup uses now: %w", filepath.Base(file), value, errdefs.ErrInvalid)
	}
	return err
}

func writeFile(file, value string) error {
	f, err := fsx.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Remove deletes the cgroup path and every cgroup below it, children first, in every hierarchy
// (also those pea does not create in, where the runtime may have). It kills nothing: a cgroup
// that still has processes after a short wait makes Remove fail with errdefs.ErrInUse. A path
// that does not exist is not an error.
func Remove(p string) error {
	h, err := current()
	if err != nil {
		return err
	}
	return h.remove(p)
}

func (h *hierarchies) remove(p string) error {
	if _, err := checkPath(p); err != nil {
		return err
	}
	// One wait for all hierarchies: a process that is still inside keeps the cgroup busy in
	// each of them.
	deadline := time.Now().Add(removeWait)
	var errs []error
	for _, root := range h.dirs(true) {
		if err := removeTree(filepath.Join(root, p), deadline); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("remove cgroup %s: %w", p, errs[0])
	}
	return nil
}

// removeWait is how long Remove waits for processes that were just killed to leave.
const removeWait = 500 * time.Millisecond

func removeTree(dir string, deadline time.Time) error {
	// Most cgroups removed are leaves (a container's, once it stopped): one rmdir, without
	// listing the dozens of control files of a v1 cgroup first.
	if err := unix.Rmdir(dir); err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	entries, err := fsx.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name()), deadline); err != nil {
				return err
			}
		}
	}
	return rmdirUntil(dir, deadline)
}

// rmdirUntil removes a cgroup directory, retrying while it is busy until deadline.
func rmdirUntil(dir string, deadline time.Time) error {
	delay := time.Millisecond
	for {
		err := unix.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, unix.ENOENT):
			return nil
		case errors.Is(err, unix.EBUSY) && time.Now().Before(deadline):
			cpupin.Sleep(min(delay, time.Until(deadline)))
			delay = min(2*delay, 50*time.Millisecond)
		case errors.Is(err, unix.EBUSY):
			return fmt.Errorf("%s still has processes: %w", dir, errdefs.ErrInUse)
		default:
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
	}
}

// RemoveKilling is Remove for a cgroup whose processes are leftovers (the first process of a
// container whose creation was killed half-way): it kills them, in every hierarchy, then removes
// the cgroup. A cgroup that does not exist costs a failed open per hierarchy.
func RemoveKilling(p string) error {
	h, err := current()
	if err != nil {
		return err
	}
	if _, err := checkPath(p); err != nil {
		return err
	}
	found := false
	for _, root := range h.dirs(true) {
		b, err := fsx.ReadFile(filepath.Join(root, p, "cgroup.procs"))
		if err != nil {
			continue
		}
		found = true
		for _, pid := range parseProcs(b) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
	if !found {
		return nil
	}
	return h.remove(p)
}

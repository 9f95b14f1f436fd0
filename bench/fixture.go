package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"pea/internal/fsx"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// imageRef is the name the busybox image gets in both engines.
const imageRef = "localhost/bb:latest"

// buildRootfs makes a busybox root filesystem in dir/rootfs from Debian's busybox-static and a
// tarball of it at dir/bb.tar. The rootfs is also the floor's bundle root.
func buildRootfs(dir string) (rootfs, tarball string, err error) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return "", "", fmt.Errorf("busybox not found: install busybox-static (scripts/deps.sh does)")
	}
	rootfs = filepath.Join(dir, "rootfs")
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root", "var/www"} {
		if err := os.MkdirAll(filepath.Join(rootfs, d), 0o755); err != nil {
			return "", "", err
		}
	}
	os.Chmod(filepath.Join(rootfs, "tmp"), 0o1777)
	if out, err := exec.Command("cp", busybox, filepath.Join(rootfs, "bin/busybox")).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("copy busybox: %v: %s", err, out)
	}
	list, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return "", "", fmt.Errorf("busybox --list: %w (is it busybox-static?)", err)
	}
	for _, a := range strings.Fields(string(list)) {
		if a != "busybox" {
			os.Symlink("busybox", filepath.Join(rootfs, "bin", a))
		}
	}
	files := map[string]string{
		"etc/passwd":         "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n",
		"etc/group":          "root:x:0:\nnogroup:x:65534:\n",
		"var/www/index.html": "pea bench\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(rootfs, name), []byte(body), 0o644); err != nil {
			return "", "", err
		}
	}
	tarball = filepath.Join(dir, "bb.tar")
	if out, err := exec.Command("tar", "--numeric-owner", "-C", rootfs, "-cf", tarball, ".").CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("tar: %v: %s", err, out)
	}
	return rootfs, tarball, nil
}

// floor is the runtime alone: `crun run` of a bundle prepared once.
type floor struct {
	row    string // the row its times go to
	crun   string
	bundle string
	state  string // crun --root
	seq    int
}

// newFloor writes a bundle whose config.json is `crun spec` with a non-terminal /bin/true.
func newFloor(dir, runBase, rootfs string) (*floor, error) {
	crun, err := exec.LookPath("crun")
	if err != nil {
		return nil, fmt.Errorf("crun not found: %w", err)
	}
	f := &floor{row: floorRow, crun: crun, bundle: filepath.Join(dir, "bundle"), state: filepath.Join(runBase, "crun-state")}
	if err := os.MkdirAll(f.bundle, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(crun, "spec")
	cmd.Dir = f.bundle
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("crun spec: %v: %s", err, out)
	}
	path := filepath.Join(f.bundle, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, fmt.Errorf("crun spec output: %w", err)
	}
	proc, _ := spec["process"].(map[string]any)
	root, _ := spec["root"].(map[string]any)
	if proc == nil || root == nil {
		return nil, fmt.Errorf("crun spec output has no process or root")
	}
	proc["terminal"] = false
	proc["args"] = []string{"/bin/true"}
	root["path"] = rootfs
	if raw, err = json.MarshalIndent(spec, "", "  "); err != nil {
		return nil, err
	}
	return f, os.WriteFile(path, raw, 0o600)
}

// newSpecFloor writes a second floor bundle: the OCI configuration pea itself writes for
// `run --network none bb`, with the floor's rootfs and /bin/true. It isolates what the engine
// adds from what the container's configuration costs the runtime: pea's spec has what podman's
// has and `crun spec` has not (a seccomp filter, masked and read-only paths, a cgroup, the
// /etc/hosts, /etc/hostname and /etc/resolv.conf bind mounts, rlimits). The container it is
// taken from is removed; the /etc files are copied into the bundle. It runs with plain's crun
// and state directory.
func newSpecFloor(ctx context.Context, pea *engine, plain *floor, dir, rootfs string) (*floor, error) {
	name := pea.newName("floorspec")
	id, err := pea.out(ctx, "run", "-d", "--network", "none", "--name", name, imageRef, "sleep", "1000")
	if err != nil {
		return nil, err
	}
	defer pea.out(ctx, "rm", "-f", "-t0", name)
	id = strings.TrimSpace(id)
	// pea's layout of its --runroot: the bundle of a running container.
	raw, err := os.ReadFile(filepath.Join(pea.runroot, "containers", id, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, err
	}
	f := &floor{row: specFloorRow, crun: plain.crun, bundle: filepath.Join(dir, "bundle-pea-spec"), state: plain.state}
	proc, _ := spec["process"].(map[string]any)
	root, _ := spec["root"].(map[string]any)
	linux, _ := spec["linux"].(map[string]any)
	mounts, _ := spec["mounts"].([]any)
	if proc == nil || root == nil || linux == nil {
		return nil, fmt.Errorf("pea's config.json has no process, root or linux")
	}
	proc["args"] = []string{"/bin/true"}
	root["path"] = rootfs
	if cg, ok := linux["cgroupsPath"].(string); ok {
		linux["cgroupsPath"] = filepath.Join(filepath.Dir(cg), "pea-bench-floor")
	}
	// Every bind mount out of pea's store (the /etc files, /run/.containerenv, /dev/shm) lives
	// only while the container does: the bundle gets a copy of each file and an empty
	// directory for each directory, at the same cost to crun.
	for i, m := range mounts {
		m, _ := m.(map[string]any)
		src, _ := m["source"].(string)
		if m["type"] != "bind" || !(inDir(src, pea.root) || inDir(src, pea.runroot)) {
			continue
		}
		copyTo := filepath.Join(f.bundle, "mounts", fmt.Sprint(i))
		if err := os.MkdirAll(filepath.Dir(copyTo), 0o755); err != nil {
			return nil, err
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, err
		}
		if st.IsDir() {
			err = os.Mkdir(copyTo, st.Mode().Perm())
		} else {
			var b []byte
			if b, err = os.ReadFile(src); err == nil {
				err = os.WriteFile(copyTo, b, st.Mode().Perm())
			}
		}
		if err != nil {
			return nil, err
		}
		m["source"] = copyTo
	}
	if raw, err = json.Marshal(spec); err != nil {
		return nil, err
	}
	return f, os.WriteFile(filepath.Join(f.bundle, "config.json"), raw, 0o600)
}

// run times one `crun run` of the bundle, started in state s (nil: as the machine is).
func (f *floor) run(ctx context.Context, s *machineState) (time.Duration, error) {
	f.seq++
	id := fmt.Sprintf("pea-bench-floor-%d-%d", os.Getpid(), f.seq)
	if err := startIn(ctx, s); err != nil {
		return 0, err
	}
	d, _, err := runCmd(ctx, filepath.Dir(f.bundle), nil, f.crun, []string{"--root", f.state}, []string{"run", "--bundle", f.bundle, id})
	return d, err
}

// clean deletes floor containers an interrupt left in crun's state directory.
func (f *floor) clean() {
	out, err := exec.Command(f.crun, "--root", f.state, "list", "-q").Output()
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		exec.Command(f.crun, "--root", f.state, "delete", "-f", id).Run()
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// diskUsage sums the blocks allocated below dir, counting hard links once and not crossing
// into other file systems (container root filesystems are overlay mounts inside the store).
func diskUsage(dir string) (int64, error) {
	var top unix.Stat_t
	if err := unix.Lstat(dir, &top); err != nil {
		return 0, err
	}
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{}
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // files come and go while containers run
		}
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return nil
		}
		if st.Dev != top.Dev {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		k := key{st.Dev, st.Ino}
		if seen[k] {
			return nil
		}
		seen[k] = true
		total += st.Blocks * 512
		return nil
	})
	return total, err
}

// rssBytes reads a process's resident set size from /proc.
func rssBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				break
			}
			kb, err := strconv.ParseInt(fields[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// unmountBelow detaches every mount point below dir, deepest first.
func unmountBelow(dir string) []string {
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var points []string
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := fsx.UnescapeMountPath(f[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			points = append(points, p)
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var done []string
	for _, p := range points {
		if unix.Unmount(p, unix.MNT_DETACH) == nil {
			done = append(done, p)
		}
	}
	return done
}

// killBelow kills processes whose command line names a path below dir: monitors and container
// processes of this run that the engines' own removal left behind. Only this run's temporary
// directory matches, so nothing else is touched.
func killBelow(dir string) []int {
	ents, _ := os.ReadDir("/proc")
	var killed []int
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), dir+"/") {
			continue
		}
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed = append(killed, pid)
		}
	}
	return killed
}

// inDir reports whether path is dir or below it.
func inDir(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

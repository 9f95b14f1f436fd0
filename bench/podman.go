package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// podman, even with its own --root, --runroot and --tmpdir, creates a few things host-wide: its
// SHM lock segment, the image blob-info cache, CNI leases under /var/lib/cni and the bridge of
// its default network. hostTraces notes which of them existed before the run, so that cleanup
// removes only those the run created. Podman also leaves its pods' cgroups under libpod_parent
// in every hierarchy (measured: ~5,000 left by earlier runs here, in the unified hierarchy
// alone); the empty ones the run made are removed too.
type hostTraces struct {
	paths   []string        // absent before the run
	bridge  bool            // cni-podman0 absent before the run
	cgroups map[string]bool // cgroup directories under libpod_parent before the run
	// netavark: no NETAVARK chain before the run (podman's netavark backend leaves its
	// firewall chains after its last container)
	netavark bool
}

// netavarkRules lists, per table, the iptables rules that make or jump to NETAVARK chains.
func netavarkRules() map[string][]string {
	out := map[string][]string{}
	for _, table := range []string{"filter", "nat"} {
		b, err := exec.Command("iptables", "-t", table, "-S").Output()
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "NETAVARK") {
				out[table] = append(out[table], l)
			}
		}
	}
	return out
}

// ruleFields splits a line of iptables -S into its arguments ("..." quotes a comment).
func ruleFields(line string) []string {
	var out []string
	var cur strings.Builder
	quoted, have := false, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted, have = !quoted, true
		case r == ' ' && !quoted:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// removeNetavark deletes the jumps to NETAVARK chains, then the chains.
func removeNetavark(rules map[string][]string) int {
	n := 0
	for table, lines := range rules {
		var chains []string
		for _, l := range lines {
			f := ruleFields(l)
			switch {
			case len(f) > 1 && f[0] == "-N":
				chains = append(chains, f[1])
			case len(f) > 1 && f[0] == "-A" && !strings.HasPrefix(f[1], "NETAVARK"):
				exec.Command("iptables", append([]string{"-t", table, "-D"}, f[1:]...)...).Run()
			}
		}
		for _, c := range chains {
			exec.Command("iptables", "-t", table, "-F", c).Run()
		}
		for _, c := range chains {
			if exec.Command("iptables", "-t", table, "-X", c).Run() == nil {
				n++
			}
		}
	}
	return n
}

// podmanCgroupDirs lists the cgroup directories under libpod_parent, parents before children.
func podmanCgroupDirs() []string {
	var dirs []string
	tops, _ := filepath.Glob("/sys/fs/cgroup/*/libpod_parent")
	for _, top := range tops {
		filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	return dirs
}

var podmanHostPaths = []string{"/dev/shm/libpod_lock", "/var/lib/containers", "/var/lib/cni", "/run/libpod", "/run/containers"}

func noteHostTraces() *hostTraces {
	h := &hostTraces{}
	for _, p := range podmanHostPaths {
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			h.paths = append(h.paths, p)
		}
	}
	if _, err := net.InterfaceByName("cni-podman0"); err != nil {
		h.bridge = true
	}
	h.cgroups = map[string]bool{}
	for _, d := range podmanCgroupDirs() {
		h.cgroups[d] = true
	}
	h.netavark = len(netavarkRules()) == 0
	return h
}

func (h *hostTraces) remove() []string {
	var removed []string
	for _, p := range h.paths {
		if _, err := os.Lstat(p); err == nil && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	if h.bridge {
		if _, err := net.InterfaceByName("cni-podman0"); err == nil {
			if exec.Command("ip", "link", "del", "cni-podman0").Run() == nil {
				removed = append(removed, "link cni-podman0")
			}
		}
	}
	dirs, n := podmanCgroupDirs(), 0
	for i := len(dirs) - 1; i >= 0; i-- { // children first
		if !h.cgroups[dirs[i]] && unix.Rmdir(dirs[i]) == nil {
			n++
		}
	}
	if n > 0 {
		removed = append(removed, fmt.Sprintf("%d empty cgroups under libpod_parent", n))
	}
	if h.netavark {
		if n := removeNetavark(netavarkRules()); n > 0 {
			removed = append(removed, fmt.Sprintf("%d NETAVARK firewall chains", n))
		}
	}
	return removed
}

// writePodmanConf writes the containers.conf given to podman through CONTAINERS_CONF.
//
// As root, podman asks for RLIMIT_NOFILE 1048576; where the benchmark runs without
// CAP_SYS_RESOURCE (as in this VM) crun cannot raise the hard limit and every container fails.
// pea lowers its limits to the caller's hard limits; podman is given the same here. Once
// default_ulimits is set, podman 4.3 also asks for RLIMIT_NPROC 1048576, so nproc is given as
// podman's own default for root, kernel.pid_max, within the hard limit. When the SHM lock
// segment is the run's own, it is made large enough for the 1000-pod level.
func writePodmanConf(dir string, ownLocks bool) (string, error) {
	var nofile, nproc unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile); err != nil {
		return "", err
	}
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &nproc); err != nil {
		return "", err
	}
	procs := nproc.Max
	if raw, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		if v, err := strconv.ParseUint(strings.TrimSpace(string(raw)), 10, 64); err == nil {
			procs = min(procs, v)
		}
	}
	files := min(nofile.Max, 1048576)
	conf := fmt.Sprintf("[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n", files, files, procs, procs)
	if ownLocks {
		conf += "\n[engine]\nnum_locks = 8192\n"
	}
	path := filepath.Join(dir, "containers.conf")
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

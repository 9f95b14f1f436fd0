package engine

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// containerPids lists the host PIDs of a running container's processes, read from its cgroup.
func (r *Runtime) containerPids(c *model.Container) ([]int, error) {
	if !c.State.Active() || c.State.Pid == 0 {
		return nil, fmt.Errorf("container %s is not running: %w", c.Config.Name, errdefs.ErrCtrStateInvalid)
	}
	path, err := cgroups.PidCgroupPath(c.State.Pid)
	if err != nil {
		return []int{c.State.Pid}, nil
	}
	var candidates []string
	if cgroups.Mode() == "v2" {
		candidates = []string{filepath.Join("/sys/fs/cgroup", path, "cgroup.procs")}
	} else {
		candidates = []string{filepath.Join("/sys/fs/cgroup/pids", path, "cgroup.procs"), filepath.Join("/sys/fs/cgroup/memory", path, "cgroup.procs"), filepath.Join("/sys/fs/cgroup/unified", path, "cgroup.procs")}
	}
	for _, p := range candidates {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		var pids []int
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimSpace(sc.Text())); err == nil {
				pids = append(pids, n)
			}
		}
		f.Close()
		if len(pids) > 0 {
			return pids, nil
		}
	}
	return []int{c.State.Pid}, nil
}

// TopDescriptors maps podman's top descriptors to ps(1) fields and headers.
var topDescriptors = map[string][2]string{
	"user": {"user", "USER"}, "pid": {"pid", "PID"}, "ppid": {"ppid", "PPID"}, "pcpu": {"pcpu", "%CPU"},
	"etime": {"etime", "ELAPSED"}, "tty": {"tty", "TTY"}, "time": {"time", "TIME"}, "args": {"args", "COMMAND"},
	"comm": {"comm", "COMMAND"}, "group": {"group", "GROUP"}, "nice": {"nice", "NI"}, "pgid": {"pgid", "PGID"},
	"rgroup": {"rgroup", "RGROUP"}, "ruser": {"ruser", "RUSER"}, "vsz": {"vsz", "VSZ"}, "rss": {"rss", "RSS"},
	"state": {"stat", "STATE"}, "label": {"label", "LABEL"}, "seccomp": {"seccomp", "SECCOMP"},
	"capeff": {"pid", "EFFECTIVE CAPS"}, "hpid": {"pid", "HPID"}, "huser": {"user", "HUSER"},
}

// Top lists the processes of the containers as `ps` would, one header row first. descriptors
// are podman's AIX-style names (user, pid, ppid, pcpu, etime, tty, time, args, ...) or raw ps
// options.
func (r *Runtime) Top(cs []*model.Container, descriptors []string) ([][]string, error) {
	if len(descriptors) == 0 {
		descriptors = []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"}
	}
	var fields, headers []string
	for _, d := range descriptors {
		d = strings.TrimPrefix(strings.ToLower(d), "%")
		if d == "cpu" {
			d = "pcpu"
		}
		if m, ok := topDescriptors[d]; ok {
			fields = append(fields, m[0]+"=")
			headers = append(headers, m[1])
			continue
		}
		return nil, fmt.Errorf("unknown top descriptor %q: %w", d, errdefs.ErrInvalid)
	}
	var pids []string
	for _, c := range cs {
		ps, err := r.containerPids(c)
		if err != nil {
			continue
		}
		for _, p := range ps {
			pids = append(pids, strconv.Itoa(p))
		}
	}
	rows := [][]string{headers}
	if len(pids) == 0 {
		return rows, nil
	}
	// One ps call for all processes; "args" last so that spaces inside it survive splitting.
	args := []string{"-ww", "-o", strings.Join(fields, ","), "-p", strings.Join(pids, ",")}
	out, err := cpupin.Command("ps", args...).Output()
	if err != nil && len(out) == 0 {
		return rows, nil // every process exited meanwhile
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) > len(headers) {
			last := strings.Join(f[len(headers)-1:], " ")
			f = append(f[:len(headers)-1], last)
		}
		rows = append(rows, f)
	}
	return rows, nil
}

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/rootless"
)

// containerPids lists the host PIDs of a running container's processes, read from its cgroup.
func (r *Runtime) containerPids(c *model.Container) ([]int, error) {
	if !c.State.Active() || c.State.Pid == 0 {
		return nil, fmt.Errorf("container %s is not running: %w", c.Config.Name, errdefs.ErrCtrStateInvalid)
	}
	if c.Config.Cgroups == CgroupsDisabled {
		return pidsBesides(c.State.Pid), nil
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
		b, err := fsx.ReadFile(p) // not os.Open, whose first call creates Go's poller
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		if len(pids) > 0 {
			return pids, nil
		}
	}
	return []int{c.State.Pid}, nil
}

// pidsBesides lists the processes of a container that has no cgroup of its own (--cgroups
// disabled, every rootless one): those of the PID namespace of its process pid, or, when that
// is the host's, pid and its descendants.
func pidsBesides(pid int) []int {
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return []int{pid}
	}
	own, _ := os.Readlink("/proc/self/ns/pid")
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{pid}
	}
	parent := map[int]int{}
	var same []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ns != own {
			if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
				same = append(same, n)
			}
			continue
		}
		if p, err := readProc(n); err == nil {
			parent[n] = p.ppid
		}
	}
	if ns != own {
		return same
	}
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for n, pp := range parent {
			if slices.Contains(out, pp) && !slices.Contains(out, n) {
				out = append(out, n)
				changed = true
			}
		}
	}
	slices.Sort(out)
	return out
}

// topHeaders are podman's top descriptors and their column headers (pairs in a slice: a map
// literal is built when the program starts).
var topHeaders = [][2]string{
	{"user", "USER"}, {"pid", "PID"}, {"ppid", "PPID"}, {"pcpu", "%CPU"}, {"etime", "ELAPSED"},
	{"tty", "TTY"}, {"time", "TIME"}, {"args", "COMMAND"}, {"comm", "COMMAND"}, {"group", "GROUP"},
	{"nice", "NI"}, {"pgid", "PGID"}, {"rgroup", "RGROUP"}, {"ruser", "RUSER"}, {"vsz", "VSZ"},
	{"rss", "RSS"}, {"state", "STATE"}, {"label", "LABEL"}, {"seccomp", "SECCOMP"},
	{"capeff", "EFFECTIVE CAPS"}, {"hpid", "HPID"}, {"huser", "HUSER"},
}

// Top lists the processes of the containers cs, a row each under the descriptors' headers. It
// reads /proc, as podman does, rather than running ps(1): PIDs, users and groups are the
// container's (its PID namespace, its /etc/passwd and /etc/group), hpid and huser the host's.
// Running ps cost `pod top` of 3 members ~6 ms, and ps knows neither the container's view nor
// seccomp (asked for it, it printed nothing at all).
func (r *Runtime) Top(cs []*model.Container, descriptors []string) ([][]string, error) {
	if len(descriptors) == 0 {
		descriptors = []string{"user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"}
	}
	keys := make([]string, 0, len(descriptors))
	headers := make([]string, 0, len(descriptors))
	for _, d := range descriptors {
		d = strings.TrimPrefix(strings.ToLower(d), "%")
		if d == "cpu" {
			d = "pcpu"
		}
		i := slices.IndexFunc(topHeaders, func(p [2]string) bool { return p[0] == d })
		if i < 0 {
			return nil, fmt.Errorf("unknown top descriptor %q: %w", d, errdefs.ErrInvalid)
		}
		keys, headers = append(keys, d), append(headers, topHeaders[i][1])
	}
	rows := [][]string{headers}
	t := topContext{now: time.Now(), boot: bootTime(), hostUsers: idNames("/", "etc/passwd")}
	if rootless.Active() {
		// IDs as pea's namespace sees them; the host's are through its map (0: the user).
		t.ownUIDMap, _ = rootless.IDMaps()
	}
	for _, c := range cs {
		pids, err := r.containerPids(c)
		if err != nil {
			continue
		}
		var procs []*procInfo
		inNS := map[int]int{} // host PID -> PID in the container
		for _, pid := range pids {
			if p, err := readProc(pid); err == nil { // a process may end meanwhile
				procs = append(procs, p)
				inNS[p.hostPID] = p.nsPID
			}
		}
		if len(procs) == 0 {
			continue
		}
		root := fmt.Sprintf("/proc/%d/root", c.State.Pid)
		users, groups := idNames(root, "etc/passwd"), idNames(root, "etc/group")
		// In a user namespace the host IDs of /proc/PID/status are the container's through
		// its mappings.
		uidMap, gidMap := readIDMap(c.State.Pid, "uid_map"), readIDMap(c.State.Pid, "gid_map")
		for _, p := range procs {
			p.uid, p.euid = idInNS(uidMap, p.uid), idInNS(uidMap, p.euid)
			p.gid, p.egid = idInNS(gidMap, p.gid), idInNS(gidMap, p.egid)
			row := make([]string, len(keys))
			for i, k := range keys {
				row[i] = t.field(k, p, inNS, users, groups)
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// procInfo is what Top reads of one process.
type procInfo struct {
	hostPID, nsPID, ppid, pgid int
	state                      string
	tty                        uint64
	cpuTicks, startTicks       uint64
	nice                       int
	vsize, rssPages            uint64
	uid, euid, gid, egid       string // the container's IDs once Top has mapped them
	hostEUID                   string
	seccomp                    string
	capEff                     uint64
	comm, args                 string
}

// clockTicks is the unit of /proc/PID/stat's times (USER_HZ, 100 on every Linux architecture
// pea builds for).
const clockTicks = 100

func readProc(pid int) (*procInfo, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	f, ok := fsx.ProcStat(pid) // f[n-3] is proc(5)'s field n
	if !ok || len(f) < 22 {
		return nil, fmt.Errorf("%s/stat: cannot read it", dir)
	}
	num := func(i int) uint64 { n, _ := strconv.ParseUint(f[i], 10, 64); return n }
	p := &procInfo{hostPID: pid, nsPID: pid, state: f[0], tty: num(4), cpuTicks: num(11) + num(12),
		startTicks: num(19), vsize: num(20), rssPages: num(21)}
	p.ppid, _ = strconv.Atoi(f[1])
	p.pgid, _ = strconv.Atoi(f[2])
	p.nice, _ = strconv.Atoi(f[16])
	status, err := fsx.ReadFile(dir + "/status")
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v := strings.Fields(val)
		last := func() int {
			if len(v) == 0 {
				return 0
			}
			n, _ := strconv.Atoi(v[len(v)-1])
			return n
		}
		switch key {
		case "Uid":
			if len(v) >= 2 {
				p.uid, p.euid, p.hostEUID = v[0], v[1], v[1]
			}
		case "Gid":
			if len(v) >= 2 {
				p.gid, p.egid = v[0], v[1]
			}
		case "NSpid":
			p.nsPID = last()
		case "NSpgid":
			p.pgid = last()
		case "Seccomp":
			if len(v) == 1 {
				p.seccomp = v[0]
			}
		case "CapEff":
			if len(v) == 1 {
				p.capEff, _ = strconv.ParseUint(v[0], 16, 64)
			}
		}
	}
	if b, err := fsx.ReadFile(dir + "/comm"); err == nil {
		p.comm = strings.TrimSuffix(string(b), "\n")
	}
	if b, err := fsx.ReadFile(dir + "/cmdline"); err == nil {
		// Every argument followed by a space, the last too: podman's (psgo's) args.
		p.args = strings.ReplaceAll(string(b), "\x00", " ")
	}
	if strings.TrimSpace(p.args) == "" {
		p.args = "[" + p.comm + "]"
	}
	return p, nil
}

// readIDMap reads /proc/PID/uid_map or gid_map (nil when it cannot be read, or PID shares this
// process's user namespace: IDs are then shown as they are).
func readIDMap(pid int, file string) []model.IDMap {
	// A process of this pea's own user namespace (a rootless pea's container without one of
	// its own) already shows its IDs as its own: the map would translate them once more.
	if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/user", pid)); err == nil {
		if own, _ := os.Readlink("/proc/self/ns/user"); own == l {
			return nil
		}
	}
	b, err := fsx.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return nil
	}
	var out []model.IDMap
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		var v [3]uint32
		for i := range f {
			n, _ := strconv.ParseUint(f[i], 10, 32)
			v[i] = uint32(n)
		}
		out = append(out, model.IDMap{ContainerID: v[0], HostID: v[1], Size: v[2]})
	}
	return out
}

// idInNS turns host ID id into the ID the mappings give it inside (containerID).
func idInNS(maps []model.IDMap, id string) string {
	n, err := strconv.ParseUint(id, 10, 32)
	if maps == nil || err != nil {
		return id
	}
	return strconv.FormatUint(uint64(containerID(maps, uint32(n))), 10)
}

// topContext is what every row of one Top shares.
type topContext struct {
	now, boot time.Time
	hostUsers map[string]string
	ownUIDMap []model.IDMap // a rootless pea's namespace's (nil otherwise)
}

func (t topContext) field(key string, p *procInfo, inNS map[int]int, users, groups map[string]string) string {
	name := func(names map[string]string, id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	started := t.boot.Add(time.Duration(p.startTicks) * time.Second / clockTicks)
	cpu := time.Duration(p.cpuTicks) * time.Second / clockTicks
	switch key {
	case "user":
		return name(users, p.euid)
	case "ruser":
		return name(users, p.uid)
	case "group":
		return name(groups, p.egid)
	case "rgroup":
		return name(groups, p.gid)
	case "huser":
		id := p.hostEUID
		if n, err := strconv.ParseUint(id, 10, 32); err == nil && t.ownUIDMap != nil {
			id = strconv.FormatUint(uint64(hostIDOf(t.ownUIDMap, uint32(n))), 10)
		}
		return name(t.hostUsers, id)
	case "pid":
		return strconv.Itoa(p.nsPID)
	case "hpid":
		return strconv.Itoa(p.hostPID)
	case "ppid":
		return strconv.Itoa(inNS[p.ppid]) // 0 for a parent outside the container (conmon)
	case "pgid":
		return strconv.Itoa(p.pgid)
	case "pcpu":
		pct := 0.0
		if elapsed := t.now.Sub(started); elapsed > 0 {
			pct = 100 * cpu.Seconds() / elapsed.Seconds()
		}
		return strconv.FormatFloat(pct, 'f', 3, 64)
	case "etime":
		return t.now.Sub(started).String()
	case "time":
		return cpu.Truncate(time.Second).String()
	case "tty":
		return ttyName(p.tty)
	case "args":
		return p.args
	case "comm":
		return p.comm
	case "nice":
		return strconv.Itoa(p.nice)
	case "vsz":
		return strconv.FormatUint(p.vsize/1024, 10)
	case "rss":
		return strconv.FormatUint(p.rssPages*uint64(os.Getpagesize())/1024, 10)
	case "state":
		return p.state
	case "seccomp":
		switch p.seccomp {
		case "0":
			return "disabled"
		case "1":
			return "strict"
		case "2":
			return "filter"
		}
		return "?"
	case "capeff":
		return capList(p.capEff)
	case "label":
		b, err := fsx.ReadFile(fmt.Sprintf("/proc/%d/attr/current", p.hostPID))
		if l := strings.TrimRight(string(b), "\x00\n"); err == nil && strings.Count(l, ":") >= 2 {
			return l // an SELinux context
		}
		return "?"
	}
	return "?"
}

// capList names the capabilities of a mask, without CAP_ and sorted: "full" for all the
// kernel's, "none" for none.
func capList(mask uint64) string {
	if mask == 0 {
		return "none"
	}
	if b, err := fsx.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if last, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && last >= 0 && last < 63 {
			if all := uint64(1)<<(last+1) - 1; mask&all == all {
				return "full"
			}
		}
	}
	var names []string
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		if n, ok := oci.CapabilityName(bit); ok {
			names = append(names, strings.TrimPrefix(n, "CAP_"))
		} else {
			names = append(names, strconv.Itoa(bit))
		}
	}
	slices.Sort(names)
	return strings.Join(names, ",")
}

// ttyName names a controlling terminal from /proc/PID/stat's tty_nr; "?" for none.
func ttyName(nr uint64) string {
	if nr == 0 {
		return "?"
	}
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", (major-136)*256+minor)
	case major == 4 && minor < 64:
		return fmt.Sprintf("tty%d", minor)
	case major == 4:
		return fmt.Sprintf("ttyS%d", minor-64)
	case major == 5 && minor == 1:
		return "console"
	}
	return "?"
}

// bootTime is when the host booted, from /proc/stat (whole seconds, as ps computes it).
func bootTime() time.Time {
	b, _ := fsx.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				return time.Unix(n, 0)
			}
		}
	}
	return time.Now()
}

// idNames maps the IDs of a passwd or group file to their names (the first name of an ID wins);
// empty when it cannot be read, and IDs then show as numbers, as podman shows them.
func idNames(root, rel string) map[string]string {
	m := map[string]string{}
	for _, f := range readColonFile(root, rel) {
		if len(f) < 3 || f[0] == "" {
			continue
		}
		if _, seen := m[f[2]]; !seen {
			m[f[2]] = f[0]
		}
	}
	return m
}

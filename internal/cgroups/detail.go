package cgroups

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
)

// Detail is more of a cgroup's resource use than Stats: what the CRI's metrics report (under
// cAdvisor's names). Times are nanoseconds; what the host's hierarchy does not keep reads 0.
type Detail struct {
	Stats
	MemUsageRaw uint64 // with the page cache: v1 memory.usage_in_bytes, v2 memory.current
	CPUUser     uint64
	CPUSystem   uint64
	// Periods are the CFS periods that passed while the cgroup was limited, ThrottledPeriods
	// those it was throttled in, ThrottledNanos for how long.
	Periods, ThrottledPeriods, ThrottledNanos uint64
	Cache, RSS, MappedFile, Swap, Kernel      uint64
	MaxUsage                                  uint64 // peak memory use
	Failcnt                                   uint64 // times the memory limit was hit
	PgFault, PgMajFault                       uint64
	OOMKills                                  uint64
	PidsMax                                   uint64 // 0: no limit
	Procs                                     []int  // the processes in the cgroup
}

// ReadDetail reads Detail of the cgroup path; a cgroup that is gone is an error wrapping
// os.ErrNotExist, as for ReadStats.
func ReadDetail(p string) (*Detail, error) {
	h, err := current()
	if err != nil {
		return nil, err
	}
	return h.readDetail(p)
}

func (h *hierarchies) readDetail(p string) (*Detail, error) {
	s, err := h.readStats(p)
	if err != nil {
		return nil, err
	}
	d := &Detail{Stats: *s}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	r := &statsReader{cgroup: p, buf: make([]byte, 0, 16384)}
	if h.v2 {
		r.primary = filepath.Join(h.unified, p)
		d.readV2(r, r.primary)
	} else {
		for _, c := range []string{"memory", "cpuacct", "pids"} {
			if root, ok := h.v1[c]; ok {
				r.primary = filepath.Join(root, p)
				break
			}
		}
		dir := func(ctrl string) string {
			if root, ok := h.v1[ctrl]; ok {
				return filepath.Join(root, p)
			}
			return ""
		}
		d.readV1(r, dir)
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

// userHZ is the unit of v1's cpuacct.stat, clock ticks (USER_HZ, 100 on Linux).
const userHZ = 100

func (d *Detail) readV1(r *statsReader, dir func(string) string) {
	if m := dir("memory"); m != "" {
		d.MemUsageRaw = parseUint(r.read(m, "memory.usage_in_bytes"))
		st := r.read(m, "memory.stat")
		d.Cache, d.RSS = statField(st, "total_cache"), statField(st, "total_rss")
		d.MappedFile, d.Swap = statField(st, "total_mapped_file"), statField(st, "total_swap")
		d.PgFault, d.PgMajFault = statField(st, "total_pgfault"), statField(st, "total_pgmajfault")
		d.MaxUsage = parseUint(r.read(m, "memory.max_usage_in_bytes"))
		d.Failcnt = parseUint(r.read(m, "memory.failcnt"))
		d.Kernel = parseUint(r.read(m, "memory.kmem.usage_in_bytes"))
		d.OOMKills = statField(r.read(m, "memory.oom_control"), "oom_kill")
		d.Procs = parseProcs(r.read(m, "cgroup.procs"))
	}
	if c := dir("cpuacct"); c != "" {
		st := r.read(c, "cpuacct.stat")
		d.CPUUser = statField(st, "user") * (1e9 / userHZ)
		d.CPUSystem = statField(st, "system") * (1e9 / userHZ)
	}
	if c := dir("cpu"); c != "" {
		st := r.read(c, "cpu.stat")
		d.Periods, d.ThrottledPeriods, d.ThrottledNanos = statField(st, "nr_periods"), statField(st, "nr_throttled"), statField(st, "throttled_time")
	}
	if p := dir("pids"); p != "" {
		d.PidsMax = parseUint(r.read(p, "pids.max")) // "max" reads 0
	}
}

func (d *Detail) readV2(r *statsReader, dir string) {
	d.MemUsageRaw = parseUint(r.read(dir, "memory.current"))
	st := r.read(dir, "memory.stat")
	d.Cache, d.RSS, d.MappedFile = statField(st, "file"), statField(st, "anon"), statField(st, "file_mapped")
	d.Kernel = statField(st, "kernel")
	d.PgFault, d.PgMajFault = statField(st, "pgfault"), statField(st, "pgmajfault")
	d.Swap = parseUint(r.read(dir, "memory.swap.current"))
	d.MaxUsage = parseUint(r.read(dir, "memory.peak"))
	ev := r.read(dir, "memory.events")
	d.Failcnt, d.OOMKills = statField(ev, "max"), statField(ev, "oom_kill")
	cpu := r.read(dir, "cpu.stat")
	d.CPUUser, d.CPUSystem = statField(cpu, "user_usec")*1000, statField(cpu, "system_usec")*1000
	d.Periods, d.ThrottledPeriods = statField(cpu, "nr_periods"), statField(cpu, "nr_throttled")
	d.ThrottledNanos = statField(cpu, "throttled_usec") * 1000
	d.PidsMax = parseUint(r.read(dir, "pids.max"))
	d.Procs = parseProcs(r.read(dir, "cgroup.procs"))
}

// parseProcs reads the PIDs of a cgroup.procs file.
func parseProcs(b []byte) []int {
	var pids []int
	for _, f := range bytes.Fields(b) {
		if n, err := strconv.Atoi(string(f)); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

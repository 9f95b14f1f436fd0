package api

import (
	"encoding/json"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/model"
)

// sample is one reading of a container's resource use with the host's CPU time, from which the
// docker client computes CPU percentages (container CPU delta over host CPU delta, times CPUs).
type sample struct {
	at     time.Time
	stats  *engine.CtrStats // nil: not running
	system uint64           // host CPU time, nanoseconds
}

// hostCPUNanos is the host's total CPU time from /proc/stat, in nanoseconds (Docker's
// system_cpu_usage).
func hostCPUNanos() uint64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "cpu" {
		return 0
	}
	var ticks uint64
	for _, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return ticks * (1e9 / 100) // USER_HZ is 100 on Linux
}

func (s *Server) sampleStats(rt *engine.Runtime, c *model.Container) sample {
	sm := sample{at: time.Now(), system: hostCPUNanos()}
	if rows, err := rt.Stats([]*model.Container{c}, 0); err == nil && len(rows) == 1 {
		sm.stats = rows[0]
	}
	return sm
}

// statsJSON is Docker's stats object of cur, with prev as its "pre" reading.
func statsJSON(c *model.Container, cur, prev sample) map[string]any {
	cpu := func(sm sample) map[string]any {
		var total uint64
		if sm.stats != nil {
			total = sm.stats.CPUNanos
		}
		return map[string]any{
			"cpu_usage":        map[string]any{"total_usage": total, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
			"system_cpu_usage": sm.system, "online_cpus": runtime.NumCPU(),
			"throttling_data": map[string]uint64{"periods": 0, "throttled_periods": 0, "throttled_time": 0},
		}
	}
	out := map[string]any{
		"read": cur.at.Format(time.RFC3339Nano), "preread": prev.at.Format(time.RFC3339Nano),
		"name": "/" + c.Config.Name, "id": c.Config.ID,
		"cpu_stats": cpu(cur), "precpu_stats": cpu(prev),
		"pids_stats": map[string]any{}, "memory_stats": map[string]any{}, "networks": map[string]any{},
		"blkio_stats": map[string]any{"io_service_bytes_recursive": []any{}}, "num_procs": 0, "storage_stats": map[string]any{},
	}
	if st := cur.stats; st != nil {
		out["pids_stats"] = map[string]uint64{"current": st.Pids}
		out["memory_stats"] = map[string]any{"usage": st.MemUsage, "limit": st.MemLimit, "stats": map[string]uint64{}}
		out["networks"] = map[string]any{"eth0": map[string]uint64{"rx_bytes": st.NetIn, "tx_bytes": st.NetOut}}
		out["blkio_stats"] = map[string]any{"io_service_bytes_recursive": []map[string]any{
			{"major": 0, "minor": 0, "op": "read", "value": st.BlockIn},
			{"major": 0, "minor": 0, "op": "write", "value": st.BlockOut},
		}}
	}
	return out
}

// getContainerStats is GET /containers/{id}/stats?stream=&one-shot=: one reading (with a
// reading a moment before it, so that the client can compute CPU use), or one a second until
// the container stops or the client goes away.
func (s *Server) getContainerStats(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	stream := boolParam(r, "stream", true)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := httpFlusher(w)
	enc := json.NewEncoder(w)
	prev := s.sampleStats(rt, c)
	if !stream {
		if !boolParam(r, "one-shot", false) {
			cpupin.Sleep(500 * time.Millisecond)
		}
		return enc.Encode(statsJSON(c, s.sampleStats(rt, c), prev))
	}
	enc.Encode(statsJSON(c, prev, prev))
	if flush != nil {
		flush()
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
		}
		cur, err := rt.LookupContainer(c.Config.ID)
		if err != nil {
			return nil
		}
		sm := s.sampleStats(rt, cur)
		if err := enc.Encode(statsJSON(cur, sm, prev)); err != nil {
			return nil
		}
		if flush != nil {
			flush()
		}
		prev = sm
	}
}

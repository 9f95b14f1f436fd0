package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/model"
)

// libpodCtrStats is podman 4.3's ContainerStats: CPU is the percentage of one CPU used since
// the last report (since the container started for the first one), AvgCPU since it started;
// SystemNano is when the reading was taken; UpTime and Duration are the CPU time used.
type libpodCtrStats struct {
	AvgCPU        float64
	ContainerID   string
	Name          string
	PerCPU        []uint64
	CPU           float64
	CPUNano       uint64
	CPUSystemNano uint64
	SystemNano    uint64
	MemUsage      uint64
	MemLimit      uint64
	MemPerc       float64
	NetInput      uint64
	NetOutput     uint64
	BlockInput    uint64
	BlockOutput   uint64
	PIDs          uint64
	UpTime        time.Duration
	Duration      uint64
}

// libpodStatsReport is one report of the stats stream. Error is podman's error interface,
// which its client can read only as null.
type libpodStatsReport struct {
	Error any
	Stats []libpodCtrStats
}

// statsReading is a container's CPU time when a report read it.
type statsReading struct {
	cpu uint64
	at  time.Time
}

// getLibpodContainersStats is GET /libpod/containers/stats?containers=&stream=&interval=&all=:
// reports of the named containers (none named: every running one; pods' infra containers too)
// that run, the first at once, then one every interval seconds (5) until the client goes away
// or a named container is removed; stream=false sends the first alone.
func (s *Server) getLibpodContainersStats(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	names := q["containers"]
	stream := boolParam(r, "stream", true)
	interval := 5 * time.Second
	if v := q.Get("interval"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return badRequest("invalid interval %q: a number of seconds, at least 1", v)
		}
		interval = time.Duration(n) * time.Second
	}
	pick := func() ([]*model.Container, error) {
		if len(names) == 0 {
			return rt.ListContainers()
		}
		var cs []*model.Container
		for _, n := range names {
			c, err := rt.LookupContainer(n)
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
		}
		return cs, nil
	}
	cs, err := pick()
	if err != nil {
		return err // before the answer's header: the client prints it
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := httpFlusher(w)
	enc := json.NewEncoder(w)
	prev := map[string]statsReading{}
	for {
		rows, err := rt.Stats(cs, 0)
		if err != nil {
			return nil
		}
		rep := libpodStatsReport{Stats: []libpodCtrStats{}}
		now := time.Now()
		next := map[string]statsReading{}
		for _, st := range rows {
			id := st.Container.Config.ID
			row := libpodCtrStats{AvgCPU: st.AvgCPU, ContainerID: id, Name: st.Container.Config.Name, CPU: st.AvgCPU,
				CPUNano: st.CPUNanos, SystemNano: uint64(now.UnixNano()), MemUsage: st.MemUsage, MemLimit: st.MemLimit,
				MemPerc: st.MemPerc, NetInput: st.NetIn, NetOutput: st.NetOut, BlockInput: st.BlockIn, BlockOutput: st.BlockOut,
				PIDs: st.Pids, UpTime: time.Duration(st.CPUNanos), Duration: st.CPUNanos}
			if p, ok := prev[id]; ok && st.CPUNanos >= p.cpu && now.After(p.at) {
				row.CPU = float64(st.CPUNanos-p.cpu) / float64(now.Sub(p.at).Nanoseconds()) * 100
			}
			next[id] = statsReading{cpu: st.CPUNanos, at: now}
			rep.Stats = append(rep.Stats, row)
		}
		prev = next
		if err := enc.Encode(&rep); err != nil || !stream {
			return nil
		}
		if flush != nil {
			flush()
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-cpupin.After(interval):
		}
		if cs, err = pick(); err != nil {
			return nil // a named container is gone
		}
	}
}

package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/model"
)

// podStatsRow has podman's `pod stats` field names (PIDS, not stats' PIDs); a member that
// does not run has "--" for every figure, as podman's.
type podStatsRow struct {
	CPU, MemUsage, MemUsageBytes, Mem, NetIO, BlockIO, PIDS string
	Pod, CID, Name                                          string
	// MemPct is the default table's "MEM %" (a template's {{.Mem}} is headed "MEM").
	MemPct string `json:"-"`
}

// binarySize is a size in binary units with four significant digits (go-units' BytesSize,
// podman's MemUsageBytes): "212KiB".
func binarySize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

func toPodStatsRow(c *model.Container, s *engine.CtrStats) *podStatsRow {
	r := &podStatsRow{Pod: shortID(c.Config.Pod), CID: shortID(c.Config.ID), Name: c.Config.Name,
		CPU: "--", MemUsage: "-- / --", MemUsageBytes: "-- / --", Mem: "--", NetIO: "-- / --", BlockIO: "-- / --", PIDS: "--"}
	if s != nil {
		r.CPU = fmt.Sprintf("%.2f%%", s.CPUPerc)
		r.MemUsage = statsSize(s.MemUsage) + " / " + statsSize(s.MemLimit)
		r.MemUsageBytes = binarySize(s.MemUsage) + " / " + binarySize(s.MemLimit)
		r.Mem = fmt.Sprintf("%.2f%%", s.MemPerc)
		r.NetIO = statsSize(s.NetIn) + " / " + statsSize(s.NetOut)
		r.BlockIO = statsSize(s.BlockIn) + " / " + statsSize(s.BlockOut)
		r.PIDS = fmt.Sprint(s.Pids)
	}
	r.MemPct = r.Mem
	return r
}

// podStatsHeaders are podman's pod stats column heads.
func podStatsHeaders() map[string]string {
	return map[string]string{"Pod": "POD", "CID": "CID", "Name": "NAME", "CPU": "CPU %", "MemUsage": "MEM USAGE/ LIMIT",
		"MemUsageBytes": "MEM USAGE/ LIMIT", "Mem": "MEM", "MemPct": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO", "PIDS": "PIDS"}
}

func newPodStatsCommand(a *app) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats [options] [POD...]",
		Short: "Display resource usage of the containers of pods",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			for first := true; ; first = false {
				members, err := podStatsMembers(rt, args, &o)
				if err != nil {
					return err
				}
				interval := time.Second // streaming: CPU % over the last second
				if o.noStream {
					interval = 0 // one sample: the average since each container started
				}
				stats, err := rt.Stats(members, interval)
				if err != nil {
					return err
				}
				if !o.noStream && !o.noReset && !first {
					fmt.Fprint(a.stdout, "\033[2J\033[H")
				}
				if err := printPodStats(a, o.format, members, stats); err != nil {
					return err
				}
				if o.noStream {
					return nil
				}
				if o.interval > 1 {
					cpupin.Sleep(time.Duration(o.interval-1) * time.Second)
				}
			}
		},
	}
	o.register(cmd)
	return cmd
}

// podStatsMembers are the members of the pods pod stats shows (every pod without names),
// grouped by pod, each pod's infra container first.
func podStatsMembers(rt *engine.Runtime, args []string, o *statsOptions) ([]*model.Container, error) {
	var infos []*engine.PodInfo
	switch {
	case len(args) == 0 || o.all:
		all, err := rt.ListPods()
		if err != nil {
			return nil, err
		}
		infos = all
	case o.latest:
		p, err := rt.LatestPod()
		if err != nil {
			return nil, err
		}
		info, err := rt.InspectPod(p.Config.ID)
		if err != nil {
			return nil, err
		}
		infos = []*engine.PodInfo{info}
	default:
		for _, n := range args {
			info, err := rt.InspectPod(n)
			if err != nil {
				return nil, err
			}
			infos = append(infos, info)
		}
	}
	var out []*model.Container
	for _, p := range infos {
		out = append(out, p.Members...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Config.Pod != out[j].Config.Pod {
			return out[i].Config.Pod < out[j].Config.Pod
		}
		return out[i].Config.IsInfra && !out[j].Config.IsInfra
	})
	return out, nil
}

// printPodStats prints a row for every member, its figures when it runs. As podman's pod stats,
// any template but json gets the heads, a "table" one aligned.
func printPodStats(a *app, format string, members []*model.Container, stats []*engine.CtrStats) error {
	byID := make(map[string]*engine.CtrStats, len(stats))
	for _, s := range stats {
		byID[s.Container.Config.ID] = s
	}
	rows := make([]*podStatsRow, 0, len(members))
	for _, c := range members {
		rows = append(rows, toPodStatsRow(c, byID[c.Config.ID]))
	}
	if format == "json" {
		return printJSONStyle(a.stdout, rows, jsonFive)
	}
	items := make([]any, 0, len(rows))
	for _, r := range rows {
		items = append(items, r)
	}
	t := table{format: "{{.Pod}}\t{{.CID}}\t{{.Name}}\t{{.CPU}}\t{{.MemUsage}}\t{{.MemPct}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}",
		headers: podStatsHeaders()}
	if format != "" && !strings.HasPrefix(format, "table") {
		if len(rows) > 0 { // podman's header comes with the first row: no row, no header
			fmt.Fprint(a.stdout, headerFor(normalizeTemplate(format), t.headers))
		}
		return render(a.stdout, format, true, items, nil, t)
	}
	return render(a.stdout, format, false, items, nil, t)
}

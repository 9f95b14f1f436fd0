package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// statsRow has podman's `stats` / `pod stats` field names.
type statsRow struct {
	Pod, CID, ID, Name, CPU, CPUPerc, MemUsage, MemUsageBytes, Mem, MemPerc, NetIO, BlockIO, PIDs string
	AvgCPU, CPUTime                                                                               string
}

// statsSize is a size as podman's stats write it: SI units, 4 significant digits, no space.
func statsSize(n uint64) string { return siSize(int64(n), 4, "") }

// toStatsRow makes a row of s, IDs shortened unless noTrunc.
func toStatsRow(s *engine.CtrStats, noTrunc bool) *statsRow {
	c := s.Container
	id := c.Config.ID
	if !noTrunc {
		id = shortID(id)
	}
	return &statsRow{
		Pod: shortID(c.Config.Pod), CID: id, ID: id, Name: c.Config.Name,
		CPU: fmt.Sprintf("%.2f%%", s.CPUPerc), CPUPerc: fmt.Sprintf("%.2f%%", s.CPUPerc), AvgCPU: fmt.Sprintf("%.2f%%", s.AvgCPU),
		CPUTime:       time.Duration(s.CPUNanos).String(),
		MemUsage:      fmt.Sprintf("%s / %s", statsSize(s.MemUsage), statsSize(s.MemLimit)),
		MemUsageBytes: fmt.Sprintf("%d / %d", s.MemUsage, s.MemLimit),
		Mem:           fmt.Sprintf("%.2f%%", s.MemPerc), MemPerc: fmt.Sprintf("%.2f%%", s.MemPerc),
		NetIO:   fmt.Sprintf("%s / %s", statsSize(s.NetIn), statsSize(s.NetOut)),
		BlockIO: fmt.Sprintf("%s / %s", statsSize(s.BlockIn), statsSize(s.BlockOut)),
		PIDs:    fmt.Sprint(s.Pids),
	}
}

type statsOptions struct {
	noStream, all, latest, noReset, noTrunc bool
	format                                  string
	interval                                int
}

func (o *statsOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&o.noStream, "no-stream", false, "print one sample and exit")
	f.BoolVarP(&o.all, "all", "a", false, "every running pod or container")
	f.BoolVarP(&o.latest, "latest", "l", false, "the latest pod or container")
	f.BoolVar(&o.noReset, "no-reset", false, "do not clear the screen between samples")
	f.StringVar(&o.format, "format", "", "format with a Go template or json")
	f.IntVarP(&o.interval, "interval", "i", 5, "seconds between samples when streaming")
}

// printStats samples the containers chosen by pick once, or repeatedly when streaming.
func printStats(a *app, o *statsOptions, pick func(rt *engine.Runtime) ([]*model.Container, error)) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	for first := true; ; first = false {
		cs, err := pick(rt)
		if err != nil {
			return err
		}
		// One sample: CPU % is the average since each container started, as podman's
		// --no-stream; streaming: over the last second.
		interval := time.Second
		if o.noStream {
			interval = 0
		}
		stats, err := rt.Stats(cs, interval)
		if err != nil {
			return err
		}
		sort.SliceStable(stats, func(i, j int) bool {
			if stats[i].Container.Config.Pod != stats[j].Container.Config.Pod {
				return stats[i].Container.Config.Pod < stats[j].Container.Config.Pod
			}
			return stats[i].Container.Config.IsInfra && !stats[j].Container.Config.IsInfra
		})
		if !o.noStream && !o.noReset && !first {
			fmt.Fprint(a.stdout, "\033[2J\033[H")
		}
		if o.format == "json" {
			if err := printStatsJSON(a, stats, o.noTrunc); err != nil {
				return err
			}
		} else {
			rows := make([]any, 0, len(stats))
			for _, s := range stats {
				rows = append(rows, toStatsRow(s, o.noTrunc))
			}
			def := "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}\t{{.CPUTime}}\t{{.AvgCPU}}"
			headers := map[string]string{"ID": "ID", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
				"NetIO": "NET IO", "BlockIO": "BLOCK IO", "PIDs": "PIDS", "CID": "CID", "Pod": "POD", "CPU": "CPU %", "Mem": "MEM %",
				"CPUTime": "CPU TIME", "AvgCPU": "AVG CPU %"}
			if err := render(a.stdout, o.format, false, rows, nil, table{format: def, headers: headers}); err != nil {
				return err
			}
		}
		if o.noStream {
			return nil
		}
		if o.interval > 1 {
			cpupin.Sleep(time.Duration(o.interval-1) * time.Second)
		}
	}
}

func init() { register(newStatsCommand, "stats") }

func newStatsCommand(a *app) *cobra.Command {
	var o statsOptions
	cmd := &cobra.Command{
		Use:   "stats [options] [CONTAINER...]",
		Short: "Display resource usage of containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			return printStats(a, &o, func(rt *engine.Runtime) ([]*model.Container, error) {
				if len(args) == 0 || o.all {
					all, err := rt.ListContainers()
					if err != nil {
						return nil, err
					}
					// podman's: every running container, pods' infra containers too.
					return all, nil
				}
				var out []*model.Container
				for _, n := range args {
					c, err := rt.LookupContainer(n)
					if err != nil {
						return nil, err
					}
					out = append(out, c)
				}
				return out, nil
			})
		},
	}
	o.register(cmd)
	cmd.Flags().BoolVar(&o.noTrunc, "no-trunc", false, "show the full container IDs")
	return cmd
}

func newPodLogsCommand(a *app) *cobra.Command {
	var o logsOptions
	var ctr string
	cmd := &cobra.Command{
		Use:   "logs [options] POD",
		Short: "Print the logs of the containers of a pod, merged in time order",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			lo, err := o.toEngine()
			if err != nil {
				return err
			}
			target, rest, err := targetAndRest(rt, o.latest, args, "pod", "pod logs")
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return usageError{fmt.Errorf("pod logs takes one pod, not %d", len(args))}
			}
			info, err := rt.InspectPod(target)
			if err != nil {
				return err
			}
			var cs []*model.Container
			for _, m := range info.Members {
				if m.Config.IsInfra {
					continue
				}
				if ctr != "" && m.Config.Name != ctr && !strings.HasPrefix(m.Config.ID, ctr) {
					continue
				}
				cs = append(cs, m)
			}
			if ctr != "" && len(cs) == 0 {
				return fmt.Errorf("container %s is not in pod %s: %w", ctr, info.Pod.Config.Name, errdefs.ErrNoSuchContainer)
			}
			o.prefix = ctr == ""
			return printLogs(a, rt, cs, lo, o)
		},
	}
	o.register(cmd)
	cmd.Flags().StringVarP(&ctr, "container", "c", "", "only this container's logs")
	return cmd
}

// ctrStatsJSON is one container of `stats --format json`, podman's keys in podman's order.
type ctrStatsJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CPUTime    string `json:"cpu_time"`
	CPUPercent string `json:"cpu_percent"`
	AvgCPU     string `json:"avg_cpu"`
	MemUsage   string `json:"mem_usage"`
	MemPercent string `json:"mem_percent"`
	NetIO      string `json:"net_io"`
	BlockIO    string `json:"block_io"`
	PIDs       string `json:"pids"`
}

// printStatsJSON prints stats as podman's `stats --format json` (one-space indent).
func printStatsJSON(a *app, stats []*engine.CtrStats, noTrunc bool) error {
	js := []ctrStatsJSON{}
	for _, s := range stats {
		r := toStatsRow(s, noTrunc)
		js = append(js, ctrStatsJSON{ID: r.ID, Name: r.Name, CPUTime: r.CPUTime, CPUPercent: r.CPUPerc, AvgCPU: r.AvgCPU,
			MemUsage: r.MemUsage, MemPercent: r.MemPerc, NetIO: r.NetIO, BlockIO: r.BlockIO, PIDs: r.PIDs})
	}
	return printJSONStyle(a.stdout, js, jsonOne)
}

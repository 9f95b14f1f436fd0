package cli

import (
	"context"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

type logsOptions struct {
	follow, timestamps, latest, names, color bool
	tail                                     int
	since, until                             string
	// prefix marks every line with its container even when there is one (pod logs without
	// -c, as podman's).
	prefix bool
}

func (o *logsOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "follow the log output")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "show timestamps")
	f.BoolVarP(&o.latest, "latest", "l", false, "act on the latest container")
	f.BoolVarP(&o.names, "names", "n", false, "mark each line with its container's name rather than its ID (several containers)")
	f.BoolVar(&o.color, "color", false, "print each container's lines in a colour of its own")
	f.IntVar(&o.tail, "tail", -1, "print the last N lines (-1: all)")
	f.StringVar(&o.since, "since", "", "show lines since a time (RFC 3339, a Unix time, or a duration like 10m)")
	f.StringVar(&o.until, "until", "", "show lines until a time (RFC 3339, a Unix time, or a duration like 10m)")
}

func (o *logsOptions) toEngine() (engine.LogOptions, error) {
	lo := engine.LogOptions{Follow: o.follow, Tail: o.tail}
	var err error
	if o.since != "" {
		if lo.Since, err = parseTimeArg(o.since); err != nil {
			return lo, err
		}
	}
	if o.until != "" {
		if lo.Until, err = parseUntilArg(o.until); err != nil {
			return lo, err
		}
	}
	return lo, nil
}

// parseTimeArg accepts RFC 3339 times, dates, Unix seconds and durations before now.
func parseTimeArg(s string) (time.Time, error) { return engine.ParseTimeArg(s) }

// parseUntilArg is parseTimeArg for --until, whose duration counts from now into the future,
// as podman's (logs --until 10m shows what was logged until ten minutes from now: all of it).
func parseUntilArg(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d), nil
	}
	return engine.ParseTimeArg(s)
}

func init() { register(newLogsCommand, "logs") }

func newLogsCommand(a *app) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [options] CONTAINER [CONTAINER...]",
		Short: "Print the logs of one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			lo, err := o.toEngine()
			if err != nil {
				return err
			}
			if args, err = targets(rt, o.latest, args, "container", "logs"); err != nil {
				return err
			}
			cs := make([]*model.Container, 0, len(args))
			for _, name := range args {
				c, err := rt.LookupContainer(name)
				if err != nil {
					return err
				}
				cs = append(cs, c)
			}
			return printLogs(a, rt, cs, lo, o)
		},
	}
	o.register(cmd)
	return cmd
}

// logColor is the terminal colour of the i-th container's lines under --color: podman's
// sequence (white, red, yellow, blue, magenta, cyan, green), over again from the eighth.
func logColor(i int) string {
	switch i % 7 {
	case 0:
		return "\x1b[37m"
	case 1:
		return "\x1b[31m"
	case 2:
		return "\x1b[33m"
	case 3:
		return "\x1b[34m"
	case 4:
		return "\x1b[35m"
	case 5:
		return "\x1b[36m"
	}
	return "\x1b[32m"
}

// printLogs prints the logs of one or more containers (logs, pod logs). With several, each line
// starts with its container's short ID, or name under --names, and the lines of all are merged
// in time order; following, lines are printed as they come from any of them. Lines the
// container wrote to stderr go to stderr.
func printLogs(a *app, rt *engine.Runtime, cs []*model.Container, lo engine.LogOptions, o logsOptions) error {
	ctx := context.Background()
	type style struct{ prefix, color string }
	styles := make(map[*model.Container]style, len(cs))
	for i, c := range cs {
		var st style
		if len(cs) > 1 || o.prefix {
			st.prefix = shortID(c.Config.ID) + " "
			if o.names {
				st.prefix = c.Config.Name + " "
			}
		}
		if o.color {
			st.color = logColor(i)
		}
		styles[c] = st
	}
	write := func(l engine.LogLine) {
		var w io.Writer = a.stdout
		if l.Stream == "stderr" {
			w = a.stderr
		}
		st := styles[l.Container]
		if st.color == "" {
			engine.WriteLogLine(w, l, o.timestamps, st.prefix)
			return
		}
		partial := l.Partial
		l.Partial = true
		io.WriteString(w, st.color)
		engine.WriteLogLine(w, l, o.timestamps, st.prefix)
		io.WriteString(w, "\x1b[0m")
		if !partial {
			io.WriteString(w, "\n")
		}
	}
	if !lo.Follow && len(cs) > 1 {
		var all []engine.LogLine
		for _, c := range cs {
			ch := make(chan engine.LogLine, 64)
			done := make(chan error, 1)
			go func() { done <- rt.ReadLogs(ctx, c, lo, ch); close(ch) }()
			for l := range ch {
				all = append(all, l)
			}
			if err := <-done; err != nil {
				return err
			}
		}
		sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
		for _, l := range all {
			write(l)
		}
		return nil
	}
	// One container, or following: lines are printed as they are read.
	ch := make(chan engine.LogLine, 64)
	done := make(chan error, len(cs))
	for _, c := range cs {
		go func() { done <- rt.ReadLogs(ctx, c, lo, ch) }()
	}
	var first error
	for left := len(cs); left > 0; {
		select {
		case l := <-ch:
			write(l)
		case err := <-done:
			if err != nil && first == nil {
				first = err
			}
			left--
		}
	}
	for {
		select {
		case l := <-ch:
			write(l)
		default:
			return first
		}
	}
}

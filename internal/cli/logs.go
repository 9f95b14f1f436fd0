package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

type logsOptions struct {
	follow, timestamps, latest, names bool
	tail                              int
	since, until                      string
}

func (o *logsOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "follow the log output")
	f.BoolVarP(&o.timestamps, "timestamps", "t", false, "show timestamps")
	f.BoolVarP(&o.latest, "latest", "l", false, "act on the latest container")
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
		if lo.Until, err = parseTimeArg(o.until); err != nil {
			return lo, err
		}
	}
	return lo, nil
}

// parseTimeArg accepts RFC 3339 times, dates, Unix seconds and durations before now.
func parseTimeArg(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(int64(n), int64((n-float64(int64(n)))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use RFC 3339, a Unix time or a duration: %w", s, errdefs.ErrInvalid)
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
			for _, name := range args {
				c, err := rt.LookupContainer(name)
				if err != nil {
					return err
				}
				prefix := ""
				if len(args) > 1 || o.names {
					prefix = shortID(c.Config.ID) + " "
				}
				out := make(chan engine.LogLine, 64)
				done := make(chan error, 1)
				go func() { done <- rt.ReadLogs(context.Background(), c, lo, out); close(out) }()
				for l := range out {
					w := a.stdout
					if l.Stream == "stderr" {
						w = a.stderr
					}
					engine.WriteLogLine(w, l, o.timestamps, prefix)
				}
				if err := <-done; err != nil {
					return err
				}
			}
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

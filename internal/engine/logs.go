package engine

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// LogLine is one line of a container's log as conmon wrote it (k8s-file format:
// "<RFC3339Nano time> <stdout|stderr> <F|P> <text>"; P marks a partial line).
type LogLine struct {
	Time      time.Time
	Stream    string
	Text      string
	Partial   bool
	Container *model.Container
}

// LogOptions select log lines.
type LogOptions struct {
	Follow bool
	Tail   int // -1: all
	Since  time.Time
	Until  time.Time
}

// LogPath is where conmon writes a container's log.
func (r *Runtime) LogPath(cfg *model.ContainerConfig) string { return r.logPath(cfg) }

// LogsReadable tells why pea cannot read c's log (its log driver keeps none, or keeps it in
// the journal), or nil.
func LogsReadable(c *model.Container) error {
	switch d := c.Config.LogDriver; d {
	case LogDriverJournald:
		return fmt.Errorf("container %s logs to the journal, which pea does not read: use journalctl CONTAINER_ID_FULL=%s: %w", c.Config.Name, c.Config.ID, errdefs.ErrInvalid)
	case LogDriverNone, LogDriverPassthrough:
		return fmt.Errorf("this container is using the '%s' log driver, cannot read logs: this container is not logging output: %w", d, errdefs.ErrInvalid)
	}
	return nil
}

// ReadLogs sends a container's log lines to out until the log ends (or, following, until the
// container stops and the log is drained, or ctx ends).
func (r *Runtime) ReadLogs(ctx context.Context, c *model.Container, o LogOptions, out chan<- LogLine) error {
	if err := LogsReadable(c); err != nil {
		return err
	}
	f, err := os.Open(r.logPath(c.Config))
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	defer f.Close()
	rd := bufio.NewReader(f)
	var lines []LogLine
	emit := func(l LogLine) bool {
		if !o.Since.IsZero() && l.Time.Before(o.Since) {
			return true
		}
		if !o.Until.IsZero() && l.Time.After(o.Until) {
			return true
		}
		if o.Tail >= 0 && lines != nil {
			lines = append(lines, l)
			return true
		}
		select {
		case out <- l:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if o.Tail >= 0 {
		lines = []LogLine{}
	}
	var pending string
	readAll := func() bool {
		for {
			s, err := rd.ReadString('\n')
			if err != nil {
				pending += s
				return true
			}
			s = pending + s
			pending = ""
			if l, ok := parseLogLine(strings.TrimSuffix(s, "\n")); ok {
				l.Container = c
				if !emit(l) {
					return false
				}
			}
		}
	}
	if !readAll() {
		return ctx.Err()
	}
	if lines != nil {
		// --tail counts whole lines: keep the last N, with partial pieces joined to their line.
		// Pieces at the end with no final piece yet (output without a newline) are a line.
		start := len(lines)
		for n := 0; start > 0 && n < o.Tail; n++ {
			start--
			for start > 0 && lines[start-1].Partial {
				start--
			}
		}
		for _, l := range lines[start:] {
			select {
			case out <- l:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		lines = nil
	}
	if !o.Follow {
		return nil
	}
	for {
		cur, err := r.LookupContainer(c.Config.ID)
		running := err == nil && cur.State.Active()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-cpupin.After(100 * time.Millisecond):
		}
		if !readAll() {
			return ctx.Err()
		}
		if !running {
			readAll()
			return nil
		}
	}
}

func parseLogLine(s string) (LogLine, bool) {
	parts := strings.SplitN(s, " ", 4)
	if len(parts) < 3 {
		return LogLine{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, parts[0])
	if err != nil {
		return LogLine{}, false
	}
	l := LogLine{Time: t, Stream: parts[1], Partial: parts[2] == "P"}
	if len(parts) == 4 {
		l.Text = parts[3]
	}
	return l, true
}

// WriteLogLine prints one line as `logs` does.
func WriteLogLine(w io.Writer, l LogLine, timestamps bool, prefix string) {
	var b strings.Builder
	b.WriteString(prefix)
	if timestamps {
		b.WriteString(l.Time.Format(time.RFC3339Nano))
		b.WriteByte(' ')
	}
	b.WriteString(l.Text)
	if !l.Partial {
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

// logTail returns a container's last n log lines joined by " | ", for error messages.
func (r *Runtime) logTail(ctx context.Context, c *model.Container, n int) string {
	ch := make(chan LogLine, 64)
	go func() {
		r.ReadLogs(ctx, c, LogOptions{Tail: n}, ch)
		close(ch)
	}()
	var lines []string
	for l := range ch {
		lines = append(lines, l.Text)
	}
	return strings.Join(lines, " | ")
}

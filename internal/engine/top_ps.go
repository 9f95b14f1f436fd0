package engine

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// TopPS lists container c's processes as the host's ps(1) shows them given psArgs: Docker's
// `docker top CONTAINER [ps OPTIONS]` (aux, -ef, -o pid,comm), whose options are ps's, not
// podman's descriptors (Top). ps runs on the host; its rows are those whose PID column is
// one of c's processes (host PIDs, as Docker's are). The first row is the header.
func (r *Runtime) TopPS(ctx context.Context, c *model.Container, psArgs []string) ([][]string, error) {
	pids, err := r.containerPids(c)
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd := cpupin.CommandContext(ctx, "ps", psArgs...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("ps %s: %s: %w", strings.Join(psArgs, " "), msg, errdefs.ErrInvalid)
	}
	return psRows(string(out), pids)
}

// psRows keeps of ps's output the header and the rows of pids. A row has as many columns as
// the header: the fields beyond are the last column's (a command's arguments). A row whose PID
// is "-" (a thread, with ps -m) goes with the row above it.
func psRows(out string, pids []int) ([][]string, error) {
	lines := strings.Split(out, "\n")
	titles := strings.Fields(lines[0])
	pidCol := slices.Index(titles, "PID")
	if pidCol < 0 {
		return nil, fmt.Errorf("the ps options leave out the PID column, by which the container's processes are found: %w", errdefs.ErrInvalid)
	}
	rows := [][]string{titles}
	keep := false
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= pidCol {
			continue
		}
		if f[pidCol] == "-" {
			if keep {
				rows = append(rows, fitColumns(f, len(titles)))
			}
			continue
		}
		pid, err := strconv.Atoi(f[pidCol])
		if err != nil {
			return nil, fmt.Errorf("ps printed %q where a PID was expected: %w", f[pidCol], errdefs.ErrInvalid)
		}
		if keep = slices.Contains(pids, pid); keep {
			rows = append(rows, fitColumns(f, len(titles)))
		}
	}
	return rows, nil
}

// fitColumns joins the fields from the nth on into the nth column.
func fitColumns(f []string, n int) []string {
	if len(f) <= n {
		return f
	}
	return append(f[:n-1:n-1], strings.Join(f[n-1:], " "))
}

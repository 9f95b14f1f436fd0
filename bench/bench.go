package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"
)

// bench holds one run: the engines side by side, the floor and the collected rows.
type bench struct {
	ctx     context.Context
	engines []*engine
	floors  []*floor // the floor, and the floor with pea's spec when it could be made
	n       int      // repetitions of a single operation
	bulkN   int      // repetitions of a bulk operation
	levels  []int    // pod counts for ps and pod ps
	filter  *regexp.Regexp
	res     *results
	vars    map[*engine]map[string]string // per-engine fixtures (a running container, a pod)

	peaSource string // which source the pea binary was built from
}

// sample is one measured value of one row.
type sample struct {
	row string
	v   float64
}

func secs(d time.Duration) float64 { return d.Seconds() }

// op is one measurement: prep runs once per engine before the repetitions; measure runs one
// repetition, doing its own untimed setup and teardown, and returns the timed values.
type op struct {
	rows    []string
	reps    int
	prep    func(e *engine) error
	measure func(e *engine) ([]sample, error)
	floor   bool          // also time the crun floors in each round
	state   *machineState // the state each timed command starts in (state.go); nil: as left
}

// group is a set of ops that share fixtures; every pod and container is removed after it.
type group struct {
	name  string
	ops   []op
	after func() // when set, run once the ops are done (before the stores are emptied)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func (b *bench) set(e *engine, k, v string) {
	if b.vars[e] == nil {
		b.vars[e] = map[string]string{}
	}
	b.vars[e][k] = v
}

func (b *bench) get(e *engine, k string) string { return b.vars[e][k] }

// runGroup runs a group's ops and then empties every engine's store of pods and containers.
func (b *bench) runGroup(g group) {
	if b.filter != nil && !b.filter.MatchString(g.name) {
		return
	}
	b.logf("group %s", g.name)
	for _, o := range g.ops {
		if b.ctx.Err() != nil {
			return
		}
		b.runOp(o)
	}
	if g.after != nil {
		g.after()
	}
	for _, e := range b.engines {
		if err := e.reset(b.ctx); err != nil && b.ctx.Err() == nil {
			b.logf("  %s: cleaning up after %s: %v", e.name, g.name, err)
		}
	}
	b.vars = map[*engine]map[string]string{}
}

// runOp interleaves the repetitions: pea, podman, (floor,) pea, podman, ... An engine whose
// prep fails, or that fails twice in a row, is dropped from this op; its error is shown.
func (b *bench) runOp(o op) {
	b.logf("  %s", o.rows[0])
	live := map[*engine]bool{}
	for _, e := range b.engines {
		if o.prep != nil {
			if err := o.prep(e); err != nil {
				b.failRows(o, e, err)
				continue
			}
		}
		live[e] = true
	}
	reps := o.reps
	if reps == 0 {
		reps = b.n
	}
	fails := map[*engine]int{}
	for i := 0; i < reps && b.ctx.Err() == nil; i++ {
		for _, e := range b.engines {
			if !live[e] || b.ctx.Err() != nil {
				continue
			}
			ss, err := o.measure(e)
			for _, s := range ss {
				b.res.add(s.row, e.name, s.v)
			}
			if err != nil {
				if b.ctx.Err() != nil {
					return
				}
				b.failRows(o, e, err)
				if fails[e]++; fails[e] >= 2 {
					live[e] = false
				}
				continue
			}
			fails[e] = 0
		}
		if o.floor {
			b.runFloors(i, o.state)
		}
	}
}

// runFloors times each floor once, in round i, each starting in state s (nil: as the previous
// command left the machine). The floors take turns at going first: the one right after an
// engine's run shares the machine with what the kernel still does for it.
func (b *bench) runFloors(i int, s *machineState) {
	for k := range b.floors {
		f := b.floors[(k+i)%len(b.floors)]
		row := s.row(f.row)
		if d, err := f.run(b.ctx, s); err != nil {
			b.logf("    %s: %v", row, err)
			b.res.fail(row, "crun", err)
		} else {
			b.res.add(row, "crun", secs(d))
		}
	}
}

func (b *bench) failRows(o op, e *engine, err error) {
	b.logf("    %s: %v", e.name, err)
	for _, r := range o.rows {
		b.res.fail(r, e.name, err)
	}
}

// single is an op timing one command per repetition, with untimed setup and teardown.
func (b *bench) single(rowName string, setup func(e *engine) ([]string, error), teardown func(e *engine, args []string)) op {
	return b.singleIn(nil, rowName, setup, teardown)
}

// singleIn is single with each timed command started in state s (state.go), its row named
// after s; nil: as the previous command left the machine.
func (b *bench) singleIn(s *machineState, rowName string, setup func(e *engine) ([]string, error), teardown func(e *engine, args []string)) op {
	row := s.row(rowName)
	return op{rows: []string{row}, state: s, measure: func(e *engine) ([]sample, error) {
		args, err := setup(e)
		if err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		d, err := e.timedIn(b.ctx, s, args...)
		if teardown != nil {
			teardown(e, args)
		}
		if err != nil {
			return nil, err
		}
		return []sample{{row, secs(d)}}, nil
	}}
}

// fixed returns a setup that always runs the same command.
func fixed(args ...string) func(e *engine) ([]string, error) {
	return func(*engine) ([]string, error) { return args, nil }
}

// untimed runs commands in order and stops at the first error.
func (b *bench) untimed(e *engine, cmds ...[]string) error {
	for _, c := range cmds {
		if _, err := e.out(b.ctx, c...); err != nil {
			return err
		}
	}
	return nil
}

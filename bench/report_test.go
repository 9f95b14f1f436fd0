package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestRatioText(t *testing.T) {
	for _, c := range []struct {
		q, bar float64
		want   string
	}{
		{0.104, 0.1, "0.104"},  // fails the bar: two decimals would read 0.10
		{0.0996, 0.1, "0.100"}, // meets it: three decimals say how close
		{0.1, 0.1, "0.10"},     // exactly the bar
		{0.12, 0.1, "0.12"},
		{0.094, 0.1, "0.09"},
		{0.104, 0, "0.10"}, // no bar
		{0.2049, 0.2, "0.205"},
	} {
		if got := ratioText(c.q, c.bar); got != c.want {
			t.Errorf("ratioText(%v, %v) = %q, want %q", c.q, c.bar, got, c.want)
		}
	}
}

// The run row is compared with both floors; only the first, the bare `crun spec` bundle, has
// the bar.
func TestFloorNotes(t *testing.T) {
	r := newResults()
	run := "run --rm --network none bb true"
	for _, v := range []float64{0.030, 0.030, 0.030} {
		r.add(run, "pea", v)
		r.add(run, "podman", 10*v)
		r.add(floorRow, "crun", v/2)
		r.add(specFloorRow, "crun", v/1.5)
	}
	x := r.by[run]
	x.floor, x.maxFlr, x.specFloor = floorRow, 1.5, specFloorRow
	var out strings.Builder
	r.write(&out, true)
	for _, want := range []string{"pea/floor 2.00× (bar ≤ 1.5×) ✗", "podman/floor 20.00×", "pea/floor with pea's spec 1.50×"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
}

// Each machine state's run row is compared with the floors timed in the same state, and both
// carry the bars.
func TestRunRowsPerMachineState(t *testing.T) {
	b := &bench{res: newResults()}
	for i, s := range machineStates {
		v := 0.020 * float64(i+1)
		b.res.add(s.row(runNoneRow), "pea", v)
		b.res.add(s.row(runNoneRow), "podman", 10*v)
		b.res.add(s.row(floorRow), "crun", v/float64(i+1))
		b.res.add(s.row(specFloorRow), "crun", v)
	}
	b.annotate()
	var out strings.Builder
	b.res.write(&out, true)
	for i, s := range machineStates {
		x := b.res.by[s.row(runNoneRow)]
		if x.floor != s.row(floorRow) || x.specFloor != s.row(specFloorRow) || x.maxFlr != 1.5 {
			t.Errorf("%s: compared with %q and %q (bar %v)", x.name, x.floor, x.specFloor, x.maxFlr)
		}
		if bars[x.name] != 0.35 {
			t.Errorf("%s: no 0.35 bar against podman", x.name)
		}
		want := fmt.Sprintf("| %s |", s.row(runNoneRow))
		line := ""
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, want) {
				line = l
			}
		}
		wantNote := fmt.Sprintf("pea/floor %.2f× (bar ≤ 1.5×) %s", float64(i+1), map[bool]string{true: "✓", false: "✗"}[i == 0])
		if !strings.Contains(line, wantNote) {
			t.Errorf("no %q in %q", wantNote, line)
		}
	}
}

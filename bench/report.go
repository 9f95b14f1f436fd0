package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// unit says how a row's values read.
type unit int

const (
	seconds unit = iota
	bytes
)

// row is one line of the table: samples per engine ("pea", "podman", or "crun" for the floor).
type row struct {
	name   string
	unit   unit
	bar    float64 // the highest acceptable pea/podman median ratio; 0 for none
	vals   map[string][]float64
	errs   map[string]string
	note   string
	floor  string // name of the floor row this row is compared with
	maxFlr float64
	// specFloor names a second floor row, without a bar: crun running pea's own configuration
	specFloor string
	base      string // for list levels: the 0-pod row, to show the cost per pod
	pods      int
}

// results collects rows in the order they were first touched. It is safe for concurrent use.
type results struct {
	mu   sync.Mutex
	rows []*row
	by   map[string]*row
}

func newResults() *results { return &results{by: map[string]*row{}} }

// row returns the row named name, creating it.
func (r *results) row(name string, u unit) *row {
	r.mu.Lock()
	defer r.mu.Unlock()
	if x := r.by[name]; x != nil {
		return x
	}
	x := &row{name: name, unit: u, vals: map[string][]float64{}, errs: map[string]string{}}
	r.rows = append(r.rows, x)
	r.by[name] = x
	return x
}

func (r *results) add(name, engine string, v float64) {
	x := r.row(name, seconds)
	r.mu.Lock()
	x.vals[engine] = append(x.vals[engine], v)
	r.mu.Unlock()
}

func (r *results) fail(name, engine string, err error) {
	x := r.row(name, seconds)
	r.mu.Lock()
	if x.errs[engine] == "" {
		x.errs[engine] = err.Error()
	}
	r.mu.Unlock()
}

type summary struct {
	med, min, max float64
	n             int
}

func summarize(v []float64) (summary, bool) {
	if len(v) == 0 {
		return summary{}, false
	}
	s := append([]float64{}, v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return summary{med: m, min: s[0], max: s[len(s)-1], n: len(s)}, true
}

func (u unit) format(v float64) string {
	switch u {
	case bytes:
		switch {
		case v >= 1<<20:
			return fmt.Sprintf("%.2f MiB", v/(1<<20))
		case v >= 1<<10:
			return fmt.Sprintf("%.0f KiB", v/(1<<10))
		}
		return fmt.Sprintf("%.0f B", v)
	}
	d := time.Duration(v * float64(time.Second))
	switch {
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// cell renders "median (min–max)", or the error, or a dash.
func (x *row) cell(engine string) string {
	s, ok := summarize(x.vals[engine])
	if e := x.errs[engine]; e != "" {
		msg := "error: " + e
		if len(msg) > 90 {
			msg = msg[:87] + "..."
		}
		if ok {
			return fmt.Sprintf("%s (%s–%s), %s", x.unit.format(s.med), x.unit.format(s.min), x.unit.format(s.max), escape(msg))
		}
		return escape(msg)
	}
	if !ok {
		return "—"
	}
	if s.n == 1 {
		return x.unit.format(s.med)
	}
	return fmt.Sprintf("%s (%s–%s)", x.unit.format(s.med), x.unit.format(s.min), x.unit.format(s.max))
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func ratio(a, b []float64) (float64, bool) {
	x, ok1 := summarize(a)
	y, ok2 := summarize(b)
	if !ok1 || !ok2 || y.med == 0 {
		return 0, false
	}
	return x.med / y.med, true
}

// ratioText prints a ratio with two decimals, or three when two would print the bar itself: a
// median ratio of 0.104 against a bar of 0.10 shows as 0.104 ✗, not as 0.10 ✗.
func ratioText(q, bar float64) string {
	s := fmt.Sprintf("%.2f", q)
	if bar > 0 && s == fmt.Sprintf("%.2f", bar) && q != bar {
		return fmt.Sprintf("%.3f", q)
	}
	return s
}

// write prints the table.
func (r *results) write(w io.Writer, withPodman bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(w, "| operation | pea median (min–max) | podman median (min–max) | pea/podman | bar | notes |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, x := range r.rows {
		if _, isFloor := x.vals["crun"]; isFloor {
			fmt.Fprintf(w, "| %s | %s | — | — | | the runtime alone, no engine: this row's figure is crun's |\n", x.name, x.cell("crun"))
			continue
		}
		pod := "not run"
		if withPodman {
			pod = x.cell("podman")
		}
		rat, bar := "—", ""
		var notes []string
		q, ok := ratio(x.vals["pea"], x.vals["podman"])
		if ok {
			rat = ratioText(q, x.bar)
		}
		if x.bar > 0 {
			bar = fmt.Sprintf("≤ %.2f", x.bar)
			if ok {
				if q <= x.bar {
					bar += " ✓"
				} else {
					bar += " ✗"
				}
			}
		}
		if fr := r.by[x.floor]; fr != nil {
			if f, ok := ratio(x.vals["pea"], fr.vals["crun"]); ok {
				verdict := ""
				if x.maxFlr > 0 {
					verdict = fmt.Sprintf(" (bar ≤ %.1f×) %s", x.maxFlr, map[bool]string{true: "✓", false: "✗"}[f <= x.maxFlr])
				}
				notes = append(notes, fmt.Sprintf("pea/floor %.2f×%s", f, verdict))
			}
			if f, ok := ratio(x.vals["podman"], fr.vals["crun"]); ok {
				notes = append(notes, fmt.Sprintf("podman/floor %.2f×", f))
			}
		}
		if fr := r.by[x.specFloor]; fr != nil {
			if f, ok := ratio(x.vals["pea"], fr.vals["crun"]); ok {
				notes = append(notes, fmt.Sprintf("pea/floor with pea's spec %.2f×", f))
			}
		}
		if b := r.by[x.base]; b != nil && x.pods > 0 {
			for _, eng := range []string{"pea", "podman"} {
				s1, ok1 := summarize(x.vals[eng])
				s0, ok0 := summarize(b.vals[eng])
				if ok1 && ok0 {
					notes = append(notes, fmt.Sprintf("%s %+.2f ms/pod over 0 pods", eng, (s1.med-s0.med)*1000/float64(x.pods)))
				}
			}
		}
		if x.note != "" {
			notes = append(notes, x.note)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", x.name, x.cell("pea"), pod, rat, bar, strings.Join(notes, "; "))
	}
}

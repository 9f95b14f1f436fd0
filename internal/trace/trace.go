// Package trace records when the phases of one pea command happen, for profiling the wall time
// of short commands where a CPU profile shows little (most of their time is spent waiting on
// conmon, the runtime and the kernel). PEA_TRACE=1 prints the marks on standard error when the
// command ends; without it a mark costs one branch.
//
// PEA_TRACE_KILL=<mark> is for tests of crash safety: the process SIGKILLs itself when it reaches
// that mark (the first time), which stands for a pea killed at that point of its work
// (scripts/killfuzz.sh kills at random points; this kills at one, every time).
// PEA_TRACE_KILL=SIGTERM:<mark> (or SIGINT:, SIGHUP:) sends that signal instead, and goes on.
package trace

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	show   = os.Getenv("PEA_TRACE") != ""
	killAt = os.Getenv("PEA_TRACE_KILL")
	killed atomic.Bool
	on     = show || killAt != ""
	start  = time.Now()
	mu     sync.Mutex
	marks  []mark
)

type mark struct {
	at   time.Duration
	what string
}

// Enabled reports whether marks are recorded.
func Enabled() bool { return on }

// Mark records that the named phase was reached.
func Mark(what string) {
	if !on {
		return
	}
	if killAt != "" {
		kill(what)
	}
	at := time.Since(start)
	mu.Lock()
	marks = append(marks, mark{at, what})
	mu.Unlock()
}

// Dump writes the marks, one a line: milliseconds since the program started, the time since the
// previous mark, and the phase.
func Dump(w io.Writer) {
	if !show {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	var prev time.Duration
	for _, m := range marks {
		fmt.Fprintf(w, "trace %8.3f ms  +%7.3f  %s\n", ms(m.at), ms(m.at-prev), m.what)
		prev = m.at
	}
	var st runtime.MemStats
	runtime.ReadMemStats(&st)
	fmt.Fprintf(w, "trace Go heap: %d KiB allocated in %d objects, %d KiB obtained from the OS\n", st.TotalAlloc>>10, st.Mallocs, st.Sys>>10)
	// The threads alive at the end: the runtime ends one only when a goroutine locked to it
	// exits (pea does that after entering namespaces), so for most commands this is how many
	// were made.
	fmt.Fprintf(w, "trace threads: %d, GOMAXPROCS %d\n", threads(), runtime.GOMAXPROCS(0))
}

// threads counts the process's threads.
func threads() int {
	ents, _ := os.ReadDir("/proc/self/task")
	return len(ents)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// kill sends the signal PEA_TRACE_KILL names when what is its mark, once.
func kill(what string) {
	sig, at := syscall.SIGKILL, killAt
	for _, s := range [...]struct {
		prefix string
		sig    syscall.Signal
	}{{"SIGTERM:", syscall.SIGTERM}, {"SIGINT:", syscall.SIGINT}, {"SIGHUP:", syscall.SIGHUP}} {
		if rest, ok := strings.CutPrefix(killAt, s.prefix); ok {
			sig, at = s.sig, rest
		}
	}
	if what != at || killed.Swap(true) {
		return
	}
	syscall.Kill(os.Getpid(), sig)
	if sig == syscall.SIGKILL {
		select {} // it is on its way
	}
}

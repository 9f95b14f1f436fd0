package trace

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestMarks: with tracing on, the marks come out in order with their times; off, Mark records
// nothing and Dump writes nothing.
func TestMarks(t *testing.T) {
	old, oldShow := on, show
	t.Cleanup(func() { on, show = old, oldShow; marks = nil })

	on, show, marks = false, false, nil
	Mark("ignored")
	var b bytes.Buffer
	Dump(&b)
	if len(marks) != 0 || b.Len() != 0 {
		t.Fatalf("tracing off: %d marks, output %q", len(marks), b.String())
	}

	on, show = true, true
	Mark("first")
	Mark("second")
	Dump(&b)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[0], "  first") || !strings.HasSuffix(lines[1], "  second") ||
		!strings.HasPrefix(lines[2], "trace Go heap: ") || !strings.HasPrefix(lines[3], "trace threads: ") {
		t.Fatalf("output:\n%s", b.String())
	}
	if marks[1].at < marks[0].at {
		t.Fatalf("marks out of order: %v", marks)
	}
}

// PEA_TRACE_KILL=<mark>: the process dies of SIGKILL at that mark, not before (checked in a child
// process, the test binary itself), and prints no trace.
func TestKillAt(t *testing.T) {
	if os.Getenv("TRACE_CHILD") != "" {
		Mark("before")
		os.Stdout.WriteString("reached\n")
		Mark("here")
		os.Stdout.WriteString("survived\n")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillAt$")
	cmd.Env = append(os.Environ(), "TRACE_CHILD=1", "PEA_TRACE_KILL=here")
	out, err := cmd.Output()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL || string(out) != "reached\n" {
		t.Fatalf("child: %v, output %q", err, out)
	}
}

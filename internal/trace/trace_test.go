package trace

import (
	"bytes"
	"strings"
	"testing"
)

// TestMarks: with tracing on, the marks come out in order with their times; off, Mark records
// nothing and Dump writes nothing.
func TestMarks(t *testing.T) {
	old := on
	t.Cleanup(func() { on = old; marks = nil })

	on, marks = false, nil
	Mark("ignored")
	var b bytes.Buffer
	Dump(&b)
	if len(marks) != 0 || b.Len() != 0 {
		t.Fatalf("tracing off: %d marks, output %q", len(marks), b.String())
	}

	on = true
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

package cli

import (
	"io"
	"testing"
)

// BenchmarkCommandTree measures what every pea invocation pays to build its command tree.
func BenchmarkCommandTree(b *testing.B) {
	for i := 0; i < b.N; i++ {
		a := &app{stdout: io.Discard, stderr: io.Discard}
		addCommands(newRootCommand(a), a, []string{"--root", "/x", "ps", "-a"})
	}
}

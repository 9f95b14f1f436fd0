package cli

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// holdInterrupts: a SIGTERM during the hold does not end the process; release then ends it by
// that signal, also when the signal came just before release (it was lost when release stopped
// the handler before the handler had recorded it). Checked in child processes (the test binary).
func TestHoldInterrupts(t *testing.T) {
	if os.Getenv("HOLD_CHILD") != "" {
		release := holdInterrupts()
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		os.Stdout.WriteString("held\n")
		release()
		os.Stdout.WriteString("survived\n")
		os.Exit(0)
	}
	for i := 0; i < 20; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHoldInterrupts$")
		cmd.Env = append(os.Environ(), "HOLD_CHILD=1")
		out, err := cmd.Output()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM || string(out) != "held\n" {
			t.Fatalf("child %d: %v, output %q", i, err, out)
		}
	}
}

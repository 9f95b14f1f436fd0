package cli

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// holdInterrupts: a SIGTERM during the hold does not end the process; release then ends it by
// that signal. Checked in child processes (the test binary), each releasing as soon as the
// hold has taken the signal (a release that stopped the handler before the handler had
// recorded it lost the signal). A signal still on its way at the release may end the process
// then or be lost with the command done: the child waits for the hold to have it, since the
// kernel hands kill(2)'s signal to a thread of its choosing, which under load takes it late.
func TestHoldInterrupts(t *testing.T) {
	if os.Getenv("HOLD_CHILD") != "" {
		release := holdInterrupts()
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		for deadline := time.Now().Add(5 * time.Second); heldSignals.Load() == 0 && time.Now().Before(deadline); {
			runtime.Gosched()
		}
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

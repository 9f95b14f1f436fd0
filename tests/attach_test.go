package tests

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAttachSigProxyLatest: attach --latest attaches to the newest container; a signal pea's
// attach receives reaches the container (--sig-proxy, the default), whose exit code attach
// returns.
func TestAttachSigProxyLatest(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "old", "--network", "none", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--name", "trapper", "--network", "none", "localhost/bb", "sh", "-c",
		`trap 'echo got-term; exit 3' TERM; echo ready; while :; do sleep 0.1; done`)
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("logs", "trapper"); out != "ready" {
			return fmt.Errorf("logs %q", out)
		}
		return nil
	})
	cmd := exec.Command(peaBin, e.args("attach", "--latest")...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the attach connects
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("attach did not end after the signal")
	}
	if code := cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(out.String(), "got-term") {
		t.Fatalf("attach --latest after SIGTERM: exit %d, output %q", code, out.String())
	}
	if st := e.Pea("inspect", "-f", "{{.State.Status}}", "old"); st != "running" {
		t.Fatalf("the older container: %s", st)
	}
}

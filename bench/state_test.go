package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// The idle state waits idleGap, and no longer than its context allows.
func TestIdleStateWaits(t *testing.T) {
	start := time.Now()
	if err := idleState.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < idleGap {
		t.Errorf("idle settled after %v, before %v", d, idleGap)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := idleState.settle(ctx); err == nil {
		t.Error("a cancelled idle wait returned no error")
	}
}

// The probe reports a measured write and a verdict on it.
func TestAttachLockProbe(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("writing cgroup.procs needs root")
	}
	got := attachLockProbe(context.Background())
	if !strings.Contains(got, " ms: ") || !strings.Contains(got, "grace period") {
		t.Errorf("probe: %q", got)
	}
}

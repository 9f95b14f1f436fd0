package engine

import (
	"errors"
	"syscall"
	"testing"

	"pea/internal/errdefs"
)

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{
		"KILL": syscall.SIGKILL, "SIGKILL": syscall.SIGKILL, "kill": syscall.SIGKILL, "sigterm": syscall.SIGTERM,
		"9": syscall.SIGKILL, "HUP": syscall.SIGHUP, "STKFLT": syscall.SIGSTKFLT, "winch": syscall.SIGWINCH,
		"RTMIN": 34, "RTMIN+3": 37, "SIGRTMAX": 64, "RTMAX-2": 62, "64": 64,
	} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "65", "-1", "NOPE", "SIGFOO", "RTMINx"} {
		if _, err := ParseSignal(in); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("ParseSignal(%q): %v, want an invalid-argument error", in, err)
		}
	}
	for sig, want := range map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGUSR2: "SIGUSR2", 40: "40"} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
}

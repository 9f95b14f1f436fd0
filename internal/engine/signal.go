package engine

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"pea/internal/errdefs"
)

// signals are the signals' names without SIG. (A slice rather than a map: a map literal is
// built when the program starts, which every pea command would pay.)
var signals = []struct {
	name string
	sig  syscall.Signal
}{
	{"ABRT", syscall.SIGABRT}, {"ALRM", syscall.SIGALRM}, {"BUS", syscall.SIGBUS}, {"CHLD", syscall.SIGCHLD},
	{"CONT", syscall.SIGCONT}, {"FPE", syscall.SIGFPE}, {"HUP", syscall.SIGHUP}, {"ILL", syscall.SIGILL},
	{"INT", syscall.SIGINT}, {"IO", syscall.SIGIO}, {"KILL", syscall.SIGKILL}, {"PIPE", syscall.SIGPIPE},
	{"PROF", syscall.SIGPROF}, {"PWR", syscall.SIGPWR}, {"QUIT", syscall.SIGQUIT}, {"SEGV", syscall.SIGSEGV},
	{"STOP", syscall.SIGSTOP}, {"SYS", syscall.SIGSYS}, {"TERM", syscall.SIGTERM}, {"TRAP", syscall.SIGTRAP},
	{"TSTP", syscall.SIGTSTP}, {"TTIN", syscall.SIGTTIN}, {"TTOU", syscall.SIGTTOU}, {"URG", syscall.SIGURG},
	{"USR1", syscall.SIGUSR1}, {"USR2", syscall.SIGUSR2}, {"VTALRM", syscall.SIGVTALRM}, {"WINCH", syscall.SIGWINCH},
	{"XCPU", syscall.SIGXCPU}, {"XFSZ", syscall.SIGXFSZ}, {"STKFLT", syscall.SIGSTKFLT},
}

// ParseSignal accepts a signal name (KILL, SIGKILL, kill) or number.
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal number %d: %w", n, errdefs.ErrInvalid)
		}
		return syscall.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	for _, n := range signals {
		if n.name == name {
			return n.sig, nil
		}
	}
	if strings.HasPrefix(name, "RTMIN") || strings.HasPrefix(name, "RTMAX") {
		base, off := 34, 0
		if strings.HasPrefix(name, "RTMAX") {
			base = 64
		}
		rest := name[5:]
		if rest != "" {
			n, err := strconv.Atoi(rest)
			if err != nil {
				return 0, fmt.Errorf("invalid signal %q: %w", s, errdefs.ErrInvalid)
			}
			off = n
		}
		return syscall.Signal(base + off), nil
	}
	return 0, fmt.Errorf("invalid signal %q: %w", s, errdefs.ErrInvalid)
}

// SignalName returns the SIG-less name of sig, or its number.
func SignalName(sig syscall.Signal) string {
	for _, n := range signals {
		if n.sig == sig {
			return "SIG" + n.name
		}
	}
	return strconv.Itoa(int(sig))
}

package cli

import (
	"os"
	"os/signal"
	"runtime"
	"sync/atomic"
	"syscall"

	"github.com/spf13/cobra"
)

// A SIGINT, SIGTERM or SIGHUP used to end pea wherever it was, as a SIGKILL does: a container
// created but not started by `run -d`, a network connect's interface made and not recorded.
// What a kill leaves is crash-safe (the next command repairs or removes it), but a signal that
// can be handled should leave nothing half done. The verbs that change state in a short time
// (create, start, stop, rm, connect...) finish first: the signal is held until the command's end,
// then has its usual effect (pea dies of it, after printing what it printed). A second signal
// ends pea at once, for a stop waiting out its timeout. Verbs that pass signals on (an attached
// run, start or exec: to the container), that run long (logs, events, service, kube play), or
// whose interruption undoes itself (pull, push, build, load, save, import, commit: their partial
// files are unnamed or in the store's temporary places) keep the default.
//
// The handler is set up before the verb's work, not beside it as proxySignals does: a signal
// that came before it has its default effect, and nothing was changed yet. It costs ~0.1 ms
// (signal.Notify starts the runtime's signal thread), on the verbs that hold only.

// holdsInterrupts reports whether cmd is one of the verbs that finish before a signal ends them.
func holdsInterrupts(cmd *cobra.Command) bool {
	flag := func(name string) bool {
		f := cmd.Flags().Lookup(name)
		return f != nil && f.Value.String() == "true"
	}
	switch cmd.Name() {
	case "run", "exec":
		return flag("detach")
	case "start":
		return !flag("attach") && !flag("interactive")
	case "check": // system check: its removals
		return flag("repair") || flag("force")
	case "create", "stop", "restart", "rm", "kill", "pause", "unpause", "rename", "update", "tag", "untag",
		"rmi", "connect", "disconnect", "reload", "prune", "init", "reset", "down", "mount", "umount", "unmount", "clone":
		return true
	}
	return false
}

// heldSignals counts the signals a hold has taken (for its test, which must know when the
// signal it sent is held before it releases).
var heldSignals atomic.Int32

// holdInterrupts holds SIGINT, SIGTERM and SIGHUP until release, which then ends the process by
// the first one that came (a second one ends it at once).
func holdInterrupts() (release func()) {
	ch := make(chan os.Signal, 2)
	stop, stopped := make(chan struct{}), make(chan struct{})
	var got syscall.Signal
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	// os/signal's watcher (started by the first Notify) blocks in the runtime for good, which
	// hands this process's one P to a new thread. Letting it get there now, before the verb's
	// work, rather than at some syscall in the middle of it, saves ~0.15 ms of the hold's
	// ~0.4 ms (perf stat of `tag`, 40 runs: 5.79 → 5.62 ms; no hold 5.41 ms).
	runtime.Gosched()
	take := func(s os.Signal) {
		if got == 0 {
			got = s.(syscall.Signal)
			heldSignals.Add(1)
			return
		}
		signal.Reset(s) // a second one: at once
		syscall.Kill(os.Getpid(), s.(syscall.Signal))
	}
	go func() {
		defer close(stopped)
		for {
			select {
			case s := <-ch:
				take(s)
			case <-stop:
				for { // what came before signal.Stop returned
					select {
					case s := <-ch:
						take(s)
					default:
						return
					}
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch) // the signals' default effect again; those before it are in ch
		close(stop)
		<-stopped
		if got != 0 {
			syscall.Kill(os.Getpid(), got)
			select {} // it is on its way
		}
	}
}

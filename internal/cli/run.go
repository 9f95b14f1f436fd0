package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"pea/internal/detach"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/trace"
)

type runOptions struct {
	createFlags
	detach     bool
	sigProxy   bool
	rmi        bool
	detachKeys detachKeysFlag
	attach     []string
}

func init() { register(newRunCommand, "run") }

func newRunCommand(a *app) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [options] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(a, &o, args, cmd.Flags().Changed)
		},
	}
	noHelpShorthand(cmd)
	o.register(cmd.Flags())
	cmd.Flags().BoolVarP(&o.detach, "detach", "d", false, "run in the background and print the container ID")
	cmd.Flags().BoolVar(&o.sigProxy, "sig-proxy", true, "forward signals received by pea to the container")
	cmd.Flags().BoolVar(&o.rmi, "rmi", false, "remove the image after the container exits, unless another container uses it (implies --rm)")
	cmd.Flags().StringSliceVarP(&o.attach, "attach", "a", nil, "attach to STDIN, STDOUT or STDERR (repeatable; default: STDOUT and STDERR)")
	o.detachKeys.register(cmd.Flags())
	return withFlagAliases(cmd, podmanFlagAlias)
}

func runRun(a *app, o *runOptions, args []string, changed func(string) bool) error {
	detachKeys, err := o.detachKeys.keys(a)
	if err != nil {
		return err
	}
	attached, err := parseAttach(o.attach, o.stdin)
	if err != nil {
		return err
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	o.conf = a.cfg
	cfg, co, err := o.toConfig(args[0], args[1:], changed)
	if err != nil {
		return err
	}
	warn(a, o.warnings)
	if cfg.LogDriver == engine.LogDriverPassthrough && (isTerminal(os.Stdin) || isTerminal(os.Stdout)) {
		// A container writing to (or reading) the caller's terminal could inject input
		// into it (TIOCSTI), as podman refuses.
		return invalid("the passthrough log driver cannot be used on a terminal: redirect stdin and stdout")
	}
	// -d with -a: detached, nothing attached (podman 4.3's; Docker refuses the two).
	if cfg.InitContainerType != "" {
		return invalid("init containers are made with `pea create --pod P --init-ctr` and run by `pea pod start`")
	}
	if o.rmi {
		if o.detach {
			return invalid("--rmi removes the image once the container exits: it cannot be combined with --detach")
		}
		cfg.AutoRemove = true
	}
	// Only once the options hold: conmon is launched now and waits for the start, and the
	// kernel's cgroup attach lock is readied (engine.PrepareRun).
	defer rt.PrepareRun(cfg, co.PreserveFDs)()
	cfg.CreateCommand = a.args
	co.Registry = o.registry.options(changed, a.stderr)
	co.Replaced = func(name string) { fmt.Fprintln(a.stdout, name) } // podman's rm prints it
	ctx := context.Background()
	if o.detach || attached.none() {
		// -a stdin without -i attaches nothing: the container runs in the background, as podman's.
		c, err := rt.RunContainer(ctx, cfg, co)
		if err != nil {
			return runStartError(err)
		}
		if o.cidFile != "" {
			os.WriteFile(o.cidFile, []byte(c.Config.ID), 0o644)
		}
		fmt.Fprintln(a.stdout, c.Config.ID)
		return nil
	}
	streams := &engine.Streams{}
	if cfg.LogDriver == engine.LogDriverPassthrough {
		// The container writes to pea's own stdio itself (conmon hands it over): nothing
		// comes through the attach socket, and stdin is the container's, not pea's to read.
	} else {
		if attached.stdout {
			streams.Stdout = a.stdout
		}
		if attached.stderr {
			streams.Stderr = a.stderr
		}
	}
	if attached.stdin && cfg.LogDriver != engine.LogDriverPassthrough {
		streams.Stdin = a.stdin
	}
	if o.tty {
		// Only a terminal container's input is watched for the sequence (as Docker's): data
		// piped to a container without one passes as is, whatever its bytes.
		streams.DetachKeys = detachKeys
		restore := setupTerminal(streams)
		defer restore()
	}
	trace.Mark("run: engine open, options parsed")
	c, err := rt.CreateContainer(ctx, cfg, co)
	if err != nil {
		return err
	}
	trace.Mark("run: created")
	if o.cidFile != "" {
		os.WriteFile(o.cidFile, []byte(c.Config.ID), 0o644)
	}
	if o.sigProxy {
		stop := proxySignals(rt, c.Config.ID)
		defer stop()
	}
	started, err := rt.StartCreated(ctx, c, streams)
	if err != nil {
		// As podman's run: a container that did not start stays, created, unless --rm.
		if cfg.AutoRemove {
			rt.RemoveContainer(context.Background(), c.Config.ID, engine.RemoveOptions{Force: true, Ignore: true})
		}
		return runStartError(&engine.StartError{Err: err})
	}
	trace.Mark("run: started")
	rt.LogAttach(started) // podman's run logs it after start
	code, err := rt.AttachWait(ctx, started, streams)
	if errors.Is(err, detach.ErrDetached) {
		return nil // the container goes on; a --rm one is removed by its cleanup at its exit
	}
	if err != nil {
		return err
	}
	trace.Mark("run: exited")
	if cfg.AutoRemove { // with its anonymous volumes, as podman's --rm
		if err := rt.RemoveContainer(context.Background(), c.Config.ID, engine.RemoveOptions{Force: true, Ignore: true, Volumes: true}); err != nil {
			fmt.Fprintf(a.stderr, "Error: removing container %s: %v\n", c.Config.Name, err)
		} else if o.rmi {
			// By the name given: an image with other names only loses this one.
			if _, _, err := rt.ImageRemove(args[0], false); err != nil {
				fmt.Fprintf(a.stderr, "Error: removing image %s: %v\n", args[0], err)
			}
		}
	} else {
		rt.SyncContainer(c.Config.ID)
	}
	if code != 0 {
		return &errdefs.ExitError{Code: code}
	}
	return nil
}

// setupTerminal puts a terminal stdin in raw mode and forwards window sizes.
func setupTerminal(s *engine.Streams) func() {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return func() {}
	}
	old, err := term.MakeRaw(fd)
	if err != nil {
		return func() {}
	}
	resize := make(chan [2]uint16, 1)
	send := func() {
		if w, h, err := term.GetSize(fd); err == nil {
			select {
			case resize <- [2]uint16{uint16(h), uint16(w)}:
			default:
			}
		}
	}
	if w, h, err := term.GetSize(fd); err == nil {
		s.Size = &[2]uint16{uint16(h), uint16(w)}
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			send()
		}
	}()
	s.Resize = resize
	return func() {
		signal.Stop(winch)
		term.Restore(fd, old)
	}
}

// proxySignals forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to the container.
//
// The handlers are set up beside the container's start: the first signal.Notify of a process
// hands each signal, one round trip at a time, to a thread the Go runtime starts for it (0.4 ms
// here, a fiftieth of a `run --rm`). A signal in that moment has its default effect, as one
// during the container's creation does.
func proxySignals(rt *engine.Runtime, id string) func() {
	ch := make(chan os.Signal, 4)
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
		close(ready)
		for {
			select {
			case s := <-ch:
				rt.KillContainer(context.Background(), id, s.(syscall.Signal))
			case <-done:
				return
			}
		}
	}()
	return func() { <-ready; signal.Stop(ch); close(done) }
}

// runStartError is run's exit for a container that was made but did not start: 126, as
// podman's, unless the runtime gave its own (127 for a command not found, ...).
func runStartError(err error) error {
	var se *engine.StartError
	var ee *errdefs.ExitError
	if errors.As(err, &ee) || !errors.As(err, &se) {
		return err
	}
	return &errdefs.ExitError{Code: exitCannotInvoke, Err: err}
}

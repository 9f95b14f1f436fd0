package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

func init() { register(newUnshareCommand, "unshare") }

// newUnshareCommand is `pea unshare [COMMAND [ARG...]]`: the command runs in pea's namespaces,
// with the store's paths in podman's variables (CONTAINERS_GRAPHROOT, CONTAINERS_RUNROOT), and
// pea exits with its code. For an unprivileged user those are the user namespace and mount
// namespace of the user's rootless pea (internal/rootless), where the user is root and the
// store's files show their owners as containers see them; for root, the host's.
func newUnshareCommand(a *app) *cobra.Command {
	var rootlessNetns bool
	cmd := &cobra.Command{
		Use:   "unshare [options] [COMMAND [ARG...]]",
		Short: "Run a command with the store's paths in its environment",
		Long: "Run a command (default: $SHELL) with CONTAINERS_GRAPHROOT and CONTAINERS_RUNROOT set to pea's --root and --runroot. " +
			"For an unprivileged user the command runs in the user namespace of the user's containers (as its root); for root, in the host's namespaces.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if rootlessNetns {
				return invalid("--rootless-netns: pea has no shared rootless network namespace (each rootless container or pod has a slirp4netns namespace of its own)")
			}
			return runUnshare(a, args)
		},
	}
	cmd.Flags().SetInterspersed(false) // the command's own flags are its own
	cmd.Flags().BoolVar(&rootlessNetns, "rootless-netns", false, "join the rootless network namespace (rootless only)")
	return cmd
}

func runUnshare(a *app, args []string) error {
	if len(args) == 0 {
		shell := os.Getenv("SHELL")
		if shell == "" {
			shell = "/bin/sh"
		}
		args = []string{shell}
	}
	root, err := filepath.Abs(a.opts.Root)
	if err != nil {
		return err
	}
	runRoot, err := filepath.Abs(a.opts.RunRoot)
	if err != nil {
		return err
	}
	c := cpupin.Command(args[0], args[1:]...)
	c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
	c.Env = append(os.Environ(), "CONTAINERS_GRAPHROOT="+root, "CONTAINERS_RUNROOT="+runRoot)
	// The terminal's signals reach the command too: pea outlives it to report its code. Caught
	// (not ignored) here, so the command gets them with their default action.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := cpupin.Start(c); err != nil {
		switch {
		case errors.Is(err, exec.ErrNotFound), errors.Is(err, os.ErrNotExist):
			return &errdefs.ExitError{Code: exitNotFound, Err: fmt.Errorf("%s: %w", args[0], err)}
		default:
			return &errdefs.ExitError{Code: exitCannotInvoke, Err: fmt.Errorf("%s: %w", args[0], err)}
		}
	}
	go func() {
		for s := range sigs {
			if s == syscall.SIGTERM || s == syscall.SIGHUP {
				c.Process.Signal(s) // sent to pea alone: passed on
			}
		}
	}()
	err = c.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return &errdefs.ExitError{Code: code}
	}
	return err
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"pea/internal/detach"
	"pea/internal/engine"
	"pea/internal/errdefs"
)

func init() { register(newExecCommand, "exec") }

func newExecCommand(a *app) *cobra.Command {
	var interactive, tty, background, privileged, latest bool
	var env, envFile []string
	var user, workdir string
	var detachKeys detachKeysFlag
	var preserveFDs uint
	cmd := &cobra.Command{
		Use:   "exec [options] CONTAINER COMMAND [ARG...]",
		Short: "Run a process in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkPreservedFDs(preserveFDs); err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, args, err := targetAndRest(rt, latest, args, "container", "exec")
			if err != nil {
				return err
			}
			keys, err := detachKeys.keys(a)
			if err != nil {
				return execFailed(err)
			}
			envs, err := parseEnv(env, envFile)
			if err != nil {
				return err
			}
			o := engine.ExecOptions{Cmd: args, Env: envs, User: user, WorkDir: workdir, Tty: tty, Detach: background,
				Privileged: privileged, Stdout: a.stdout, Stderr: a.stderr, PreserveFDs: int(preserveFDs), SessionID: engine.NewID()}
			var code int
			if tty && !background {
				// On a terminal pea holds (and relays), whether or not pea's own input is one.
				var stdin io.Reader
				if interactive {
					stdin = a.stdin
				}
				code, err = execOnTerminal(a, rt, target, o, keys, stdin)
			} else {
				if interactive {
					o.Stdin = a.stdin
				}
				code, err = rt.Exec(context.Background(), target, o)
			}
			if errors.Is(err, detach.ErrDetached) {
				return nil // the process goes on
			}
			if err != nil {
				return execFailed(err)
			}
			if background {
				fmt.Fprintln(a.stdout, o.SessionID) // podman prints its exec session's ID
			}
			if code != 0 {
				return &errdefs.ExitError{Code: code}
			}
			return nil
		},
	}
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	f.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	f.BoolVarP(&background, "detach", "d", false, "run in the background")
	f.BoolVar(&privileged, "privileged", false, "give the process every capability")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable")
	listVar(f, &envFile, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&user, "user", "u", "", "user[:group] to run as")
	f.StringVarP(&workdir, "workdir", "w", "", "working directory")
	f.UintVar(&preserveFDs, "preserve-fds", 0, "pass file descriptors 3 to 3+N-1 on to the process")
	detachKeys.register(f)
	return cmd
}

// execOnTerminal runs an interactive exec on a terminal this process relays (rather than the
// runtime's own relay), so that the detach keys can be watched for in the input: typed, the
// process goes on and exec returns detach.ErrDetached.
func execOnTerminal(a *app, rt *engine.Runtime, target string, o engine.ExecOptions, keys []byte, stdin io.Reader) (int, error) {
	term := &engine.Streams{}
	defer setupTerminal(term)()
	o.DetachKeys = keys
	return rt.ExecOnTerminal(context.Background(), target, o, stdin, func(setSize func(rows, cols uint16)) {
		if term.Size != nil {
			setSize(term.Size[0], term.Size[1])
		}
		if term.Resize != nil {
			go func() {
				for sz := range term.Resize {
					setSize(sz[0], sz[1])
				}
			}()
		}
	})
}

// execFailed is exec's exit for a session that could not be run once its container was found
// (not running, no command, an unknown user, bad detach keys): 255, as podman's, unless the
// runtime's own code (126, 127) is there. A container not found (or a name that is not one)
// is 125, as podman's.
func execFailed(err error) error {
	var ee *errdefs.ExitError
	if errors.As(err, &ee) || errors.Is(err, errdefs.ErrNoSuchContainer) || errors.Is(err, errdefs.ErrAmbiguous) {
		return err
	}
	return &errdefs.ExitError{Code: 255, Err: err}
}

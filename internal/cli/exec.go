package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

func init() { register(newExecCommand, "exec") }

func newExecCommand(a *app) *cobra.Command {
	var interactive, tty, detach, privileged, latest bool
	var env, envFile []string
	var user, workdir string
	cmd := &cobra.Command{
		Use:   "exec [options] CONTAINER COMMAND [ARG...]",
		Short: "Run a process in a running container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, args, err := targetAndRest(rt, latest, args, "container", "exec")
			if err != nil {
				return err
			}
			envs, err := parseEnv(env, envFile)
			if err != nil {
				return err
			}
			o := engine.ExecOptions{Cmd: args, Env: envs, User: user, WorkDir: workdir, Tty: tty, Detach: detach,
				Privileged: privileged, Stdout: a.stdout, Stderr: a.stderr}
			if interactive {
				o.Stdin = a.stdin
			}
			code, err := rt.Exec(context.Background(), target, o)
			if err != nil {
				return err
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
	f.BoolVarP(&detach, "detach", "d", false, "run in the background")
	f.BoolVar(&privileged, "privileged", false, "give the process every capability")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	f.StringArrayVarP(&env, "env", "e", nil, "set an environment variable")
	f.StringArrayVar(&envFile, "env-file", nil, "read environment variables from a file")
	f.StringVarP(&user, "user", "u", "", "user[:group] to run as")
	f.StringVarP(&workdir, "workdir", "w", "", "working directory")
	return cmd
}

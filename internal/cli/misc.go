package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

func init() {
	register(newWaitCommand, "wait")
	register(newRenameCommand, "rename")
	register(newTopCommand, "top")
}

func newWaitCommand(a *app) *cobra.Command {
	var conditions []string
	var latest, ignore bool
	var interval string
	cmd := &cobra.Command{
		Use:   "wait [options] CONTAINER [CONTAINER...]",
		Short: "Wait for containers to stop and print their exit codes",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if args, err = targets(rt, latest, args, "container", "wait"); err != nil {
				return err
			}
			for _, t := range args { // all looked up before any is waited for, as podman's
				if _, err := rt.LookupContainer(t); err != nil && !(ignore && errdefs.Is(err, errdefs.ErrNotFound)) {
					return err
				}
			}
			var errs []error
			for _, t := range args {
				code, err := rt.WaitContainer(context.Background(), t, conditions)
				if err != nil {
					if ignore && errdefs.Is(err, errdefs.ErrNotFound) {
						fmt.Fprintln(a.stdout, -1)
						continue
					}
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.stdout, code)
			}
			return joinErrors(a, errs)
		},
	}
	cmd.Flags().StringSliceVar(&conditions, "condition", nil, "condition to wait for: created, running, paused, stopped, exited")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	cmd.Flags().BoolVar(&ignore, "ignore", false, "ignore containers that do not exist")
	cmd.Flags().StringVarP(&interval, "interval", "i", "250ms", "polling interval (accepted for compatibility)")
	return cmd
}

func newRenameCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rename CONTAINER NAME",
		Short: "Rename a container",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.RenameContainer(context.Background(), args[0], args[1])
		},
	}
}

func newTopCommand(a *app) *cobra.Command {
	var latest bool
	cmd := &cobra.Command{
		Use:   "top [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]",
		Short: "Display the running processes of a container",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, args, err := targetAndRest(rt, latest, args, "container", "top")
			if err != nil {
				return err
			}
			c, err := rt.LookupContainer(target)
			if err != nil {
				return err
			}
			if !c.State.Active() {
				return fmt.Errorf("top can only be used on running containers: %w", errdefs.ErrCtrStateInvalid)
			}
			if len(args) > 0 && strings.HasPrefix(args[0], "-") {
				// ps(1) options: run the container's own ps with them, as podman does.
				code, err := rt.Exec(context.Background(), c.Config.ID, engine.ExecOptions{Cmd: append([]string{"ps"}, args...), Stdout: a.stdout, Stderr: a.stderr})
				if err != nil {
					return err
				}
				if code != 0 {
					return fmt.Errorf("ps %s in the container failed with exit code %d", strings.Join(args, " "), code)
				}
				return nil
			}
			rows, err := rt.Top([]*model.Container{c}, splitDescriptors(args))
			if errdefs.Is(err, errdefs.ErrInvalid) && len(args) > 0 {
				// Descriptors top does not know: the container's own ps(1) with them, as
				// podman's; if that fails too, the descriptors' error.
				var out bytes.Buffer
				code, xerr := rt.Exec(context.Background(), c.Config.ID, engine.ExecOptions{Cmd: append([]string{"ps"}, args...), Stdout: &out, Stderr: io.Discard})
				if xerr == nil && code == 0 {
					_, err = a.stdout.Write(out.Bytes())
					return err
				}
			}
			if err != nil {
				return err
			}
			return printRows(a, rows)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

func splitDescriptors(args []string) []string {
	var out []string
	for _, a := range args {
		for _, d := range strings.Split(a, ",") {
			if d = strings.TrimSpace(d); d != "" {
				out = append(out, d)
			}
		}
	}
	return out
}

// printRows prints a table in podman's layout (alignColumns).
func printRows(a *app, rows [][]string) error {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t"))
		b.WriteByte('\n')
	}
	_, err := a.stdout.Write(alignColumns([]byte(b.String())))
	return err
}

package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

// newCleanupCommand is `pea container cleanup`: conmon's exit command (`container cleanup ID`,
// the full ID and no flag: it records the exit, applies the restart and pod exit policies and
// removes a --rm container), and podman's verb for users, which releases what stopped
// containers still hold and with --rm (--rmi) removes them (and their images).
func newCleanupCommand(a *app) *cobra.Command {
	var all, latest, rm, rmi bool
	var execID string
	cmd := &cobra.Command{
		Use:   "cleanup [options] CONTAINER [CONTAINER...]",
		Short: "Clean up the network and mount resources of one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if execID != "" {
				// pea's exec sessions are waited for by the exec command itself: nothing is
				// left for a cleanup to release.
				return invalid("--exec: pea's exec sessions need no cleanup")
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if len(args) == 1 && !all && !latest && !rm && !rmi && isFullID(args[0]) {
				// conmon's call: nothing may be refused (the container runs again under a
				// restart policy, or is gone already), so it is not looked up first.
				if err := rt.CleanupContainer(context.Background(), args[0]); err != nil {
					return fmt.Errorf("cleanup of %s: %w", args[0], err)
				}
				fmt.Fprintln(a.stdout, args[0])
				return nil
			}
			if !all && !latest && len(args) == 0 {
				return usageError{errors.New("you must provide at least one name or id")}
			}
			stopped := func(c *model.Container) bool { return !c.State.Live() }
			return forEachTarget(a, args, all, latest, stopped, func(rt *engine.Runtime, t string) error {
				_, err := rt.CleanupStopped(context.Background(), t, engine.CleanupOptions{Remove: rm || rmi, RemoveImage: rmi})
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "clean up every container that does not run")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	f.BoolVar(&rm, "rm", false, "remove the container after the cleanup")
	f.BoolVar(&rmi, "rmi", false, "remove the container and its image after the cleanup")
	f.StringVar(&execID, "exec", "", "clean up the given exec session instead of the container")
	return cmd
}

// isFullID reports whether s is a whole 64-digit hexadecimal ID.
func isFullID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

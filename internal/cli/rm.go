package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

func init() {
	register(newRmCommand, "rm", "remove")

}

func newRmCommand(a *app) *cobra.Command {
	var sel selection
	var force, volumes, depend bool
	var t timeoutFlag
	cmd := &cobra.Command{
		Use:     "rm [options] CONTAINER [CONTAINER...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			t.set = cmd.Flags().Changed("time")
			if t.set {
				force = true
			}
			missing := 0
			err := forEachSelected(a, args, sel, func(c *model.Container) bool { return !c.Config.IsInfra }, func(rt *engine.Runtime, target string) error {
				err := rt.RemoveContainer(context.Background(), target, engine.RemoveOptions{Force: force, Timeout: t.ptr(), Volumes: volumes, Depend: depend,
					Removed: func(id string) { fmt.Fprintln(a.stdout, id) }})
				if errdefs.Is(err, errdefs.ErrNotFound) {
					if sel.ignore {
						return nil
					}
					missing++
				}
				return err
			})
			// podman: 1 when a container did not exist and nothing else failed, 2 when one is running.
			if err != nil && missing > 0 && errdefs.Is(err, errdefs.ErrNotFound) {
				return &errdefs.ExitError{Code: 1, Err: err}
			}
			if err != nil && errdefs.Is(err, errdefs.ErrWrongState) {
				return &errdefs.ExitError{Code: 2, Err: err}
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&sel.all, "all", "a", false, "remove every container")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "stop running containers first")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove anonymous volumes too")
	cmd.Flags().BoolVarP(&sel.ignore, "ignore", "i", false, "ignore containers that do not exist")
	cmd.Flags().BoolVar(&depend, "depend", false, "also remove the containers that depend on it (first)")
	cmd.Flags().UintVarP(&t.val, "time", "t", 10, "seconds to wait before killing a running container")
	sel.register(cmd.Flags(), true, true, true)
	return cmd
}

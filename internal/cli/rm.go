package cli

import (
	"context"
	"fmt"
	"slices"

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
			if sel.all && len(sel.filters) == 0 {
				// Dependents first: a container others require or join is refused removal
				// while they exist.
				rt, err := a.engine()
				if err != nil {
					return err
				}
				cs, err := rt.ListContainers()
				if err != nil {
					return err
				}
				if args = dependentsFirst(cs); len(args) == 0 {
					return nil
				}
				sel.all = false
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

// dependentsFirst orders the IDs of cs (infra containers left out, their pod removes them) so
// that each comes before the containers it requires or joins.
func dependentsFirst(cs []*model.Container) []string {
	byID := map[string]*model.Container{}
	for _, c := range cs {
		byID[c.Config.ID] = c
	}
	done := map[string]bool{}
	var order []string // dependencies before dependents; reversed at the end
	var visit func(c *model.Container)
	visit = func(c *model.Container) {
		if done[c.Config.ID] {
			return
		}
		done[c.Config.ID] = true
		deps := append([]string{}, c.Config.Requires...)
		for _, ns := range c.Config.Namespaces {
			if ns.Mode == model.NSModeContainer {
				deps = append(deps, ns.Value)
			}
		}
		for _, d := range deps {
			if dc, ok := byID[d]; ok {
				visit(dc)
			}
		}
		if !c.Config.IsInfra {
			order = append(order, c.Config.ID)
		}
	}
	for _, c := range cs {
		visit(c)
	}
	slices.Reverse(order)
	return order
}

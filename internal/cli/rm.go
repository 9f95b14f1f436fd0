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
			if len(sel.filters) == 0 {
				if err := checkSelection(args, sel.all, sel.latest, len(sel.cidFiles) > 0, "cidfile"); err != nil {
					return err
				}
			}
			if force {
				sel.ignore = true // podman's rm -f: a container that is not there is no error
			}
			var infraPods []string // with --all, the pods whose infra containers go too
			var services []string  // kube play's service containers: after their pods
			all := sel.all && len(sel.filters) == 0
			if all {
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
				for _, c := range cs {
					if c.Config.IsInfra && c.Config.Pod != "" {
						infraPods = append(infraPods, c.Config.Pod)
					}
					if c.Config.IsService {
						services = append(services, c.Config.ID)
					}
				}
				rt.SweepOrphans() // and what creations killed before their row left
				if args = dependentsFirst(cs); len(args) == 0 && len(infraPods) == 0 && len(services) == 0 {
					return nil
				}
				sel.all = false
			}
			var err error
			if len(args) > 0 || !all {
				err = forEachSelected(a, args, sel, func(c *model.Container) bool { return !c.Config.IsInfra }, func(rt *engine.Runtime, target string) error {
					err := rt.RemoveContainer(context.Background(), target, engine.RemoveOptions{Force: force, Timeout: t.ptr(), Volumes: volumes, Depend: depend,
						Removed: func(id string) { fmt.Fprintln(a.stdout, id) }})
					if sel.ignore && errdefs.Is(err, errdefs.ErrNotFound) {
						return errQuiet // removed meanwhile
					}
					return err
				})
			}
			if len(infraPods) > 0 {
				// podman's rm --all removes infra containers too, and a pod goes with its
				// infra container: what is left of each such pod is removed as the pod.
				if perr := removeInfraPods(a, infraPods, force, t.ptr()); perr != nil {
					if err != nil {
						fmt.Fprintf(a.stderr, "Error: %v\n", err)
					}
					err = perr
				}
			}
			if len(services) > 0 {
				// A service container goes with the last of its pods; one left is removed.
				if serr := removeServices(a, services, force, t.ptr()); serr != nil {
					if err != nil {
						fmt.Fprintf(a.stderr, "Error: %v\n", err)
					}
					err = serr
				}
			}
			// podman: 1 when a container did not exist and nothing else failed, 2 when one is running.
			if err != nil && errdefs.Is(err, errdefs.ErrNotFound) {
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

// dependentsFirst orders the IDs of cs (infra and service containers left out, their pods
// remove them) so
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
		if !c.Config.IsInfra && !c.Config.IsService {
			order = append(order, c.Config.ID)
		}
	}
	for _, c := range cs {
		visit(c)
	}
	slices.Reverse(order)
	return order
}

// removeInfraPods removes, for rm --all, the pods of the infra containers it removes, printing
// each infra container's ID as podman's rm prints the containers it removed.
func removeInfraPods(a *app, pods []string, force bool, timeout *uint) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range pods {
		p, err := rt.LookupPod(id)
		if err != nil {
			continue // removed meanwhile
		}
		infra := p.State.InfraContainerID
		if err := rt.RemovePod(context.Background(), id, engine.PodRemoveOptions{Force: force, Timeout: timeout, Ignore: true}); err != nil {
			errs = append(errs, fmt.Errorf("removing container %s from pod %s: %w", infra, id, err))
			continue
		}
		if infra != "" {
			fmt.Fprintln(a.stdout, infra)
		}
	}
	return joinErrors(a, errs)
}

// removeServices is rm --all's end: kube play's service containers, which their pods' removal
// took with them unless one failed (then refused: its pods are still there).
func removeServices(a *app, ids []string, force bool, timeout *uint) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := rt.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: force, Timeout: timeout, Ignore: true}); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(a.stdout, id)
	}
	return joinErrors(a, errs)
}

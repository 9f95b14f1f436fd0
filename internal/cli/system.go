package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"pea/internal/engine"
	"pea/internal/rootless"
)

func init() { register(newSystemCommand, "system") }

// newSystemCommand is `pea system`: prune, reset, info, df, check.
func newSystemCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Manage pea itself", RunE: groupRunE}
	var all, volumes, force bool
	var po pruneOptions
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove stopped pods and containers, unused networks, dangling images (and volumes)", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := engine.ParsePruneFilters(po.filters)
			if err != nil {
				return err
			}
			if !po.force {
				images, vols := "all dangling images", ""
				if all {
					images = "all images without at least one container associated with them"
				}
				if volumes {
					vols = "\t- all volumes not used by at least one container\n"
				}
				yes, err := confirmOrEOF(a, "WARNING! This command removes:\n\t- all stopped containers\n\t- all networks not used by at least one container\n"+
					vols+"\t- "+images+"\n\t- all dangling build cache\n")
				if err != nil || !yes {
					return err
				}
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return systemPrune(a, rt, all, volumes, f)
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "remove every unused image, not only dangling ones")
	prune.Flags().BoolVar(&volumes, "volumes", false, "remove unused volumes too")
	po.register(prune)
	afterFD := -1
	emptyTrash := &cobra.Command{
		Use: "empty-trash", Hidden: true, Args: takesNoArgs,
		Short: "Delete what removals put in the store's trash, and copy a large WAL into the database (started by pea itself)",
		RunE: func(cmd *cobra.Command, args []string) error {
			a.afterCommand = true
			if afterFD >= 0 {
				waitPidfd(afterFD)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.AfterCommand()
		},
	}
	emptyTrash.Flags().IntVar(&afterFD, "after-fd", -1, "first wait for the process this pidfd refers to to exit")
	reset := &cobra.Command{
		Use: "reset [options]", Short: "Remove every pod, container, image, volume and network, and the store itself", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !force && !confirm(a, fmt.Sprintf("WARNING! This will remove:\n\t- all containers\n\t- all pods\n\t- all images\n\t- all networks\n\t- all build cache\n\t- all volumes\n\t- all secrets\n\t- the store: %q\n\t- the runroot: %q",
				a.opts.Root, a.opts.RunRoot)) {
				return nil
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ctx := context.Background()
			pods, _ := rt.ListPods()
			for _, p := range pods {
				rt.RemovePod(ctx, p.Pod.Config.ID, engine.PodRemoveOptions{Force: true, Timeout: new(uint), Ignore: true})
			}
			cs, _ := rt.ListContainers()
			for _, c := range cs {
				rt.RemoveContainer(ctx, c.Config.ID, engine.RemoveOptions{Force: true, Timeout: new(uint), Ignore: true})
			}
			nets, _ := rt.NetworkList()
			for _, n := range nets {
				rt.NetworkRemoveAny(ctx, n.Name)
			}
			rt.StopDNS()
			rt.StopRootlessNetwork()
			if err := rt.NetworkReleaseClaims(); err != nil {
				return err
			}
			mounted, _ := rt.MountedImages() // read-only overlays in the store: unmounted first
			for _, m := range mounted {
				rt.ImageUnmount(m.Image.ID, true)
			}
			opts := rt.Options()
			rt.Close()
			a.rt = nil
			if err := os.RemoveAll(opts.Root); err != nil {
				return err
			}
			if rootless.Active() {
				rootless.StopPause(opts.RunRoot) // the user namespace goes with this pea
			}
			return os.RemoveAll(opts.RunRoot)
		},
	}
	reset.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	var newRuntime string
	migrate := &cobra.Command{
		Use: "migrate [options]", Short: "Check that this pea can open the store (pea keeps nothing that a new version must migrate)", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if newRuntime != "" {
				return invalid("--new-runtime: pea records no runtime per container; every command uses --runtime (default crun)")
			}
			rt, err := a.engine() // opening the store checks its schema version
			if err == nil && rootless.Active() {
				// As podman's: the pause process goes, and the next pea makes the user
				// namespace anew (with the user's current subordinate IDs).
				rootless.StopPause(rt.Options().RunRoot)
			}
			return err
		},
	}
	migrate.Flags().StringVar(&newRuntime, "new-runtime", "", "not supported: pea records no runtime per container")
	renumber := &cobra.Command{
		Use: "renumber", Short: "Renumber the locks (nothing to do: pea's locks are files named by object ID)", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := a.engine()
			return err
		},
	}
	cmd.AddCommand(prune, reset, emptyTrash, newInfoCommand(a), newServiceCommand(a), newCRICommand(a), newDfCommand(a), newCheckCommand(a), migrate, renumber,
		newConnectionCommand(a), newDialStdioCommand(a))
	return cmd
}

func systemPrune(a *app, rt *engine.Runtime, all, volumes bool, f engine.PruneFilter) error {
	rep, err := rt.SystemPrune(context.Background(), all, volumes, f)
	if err != nil {
		return err
	}
	for _, g := range []struct {
		what string
		ids  []string
	}{{"Containers", rep.Containers}, {"Pods", rep.Pods}, {"Volumes", rep.Volumes}, {"Networks", rep.Networks}, {"Images", rep.Images}} {
		if len(g.ids) == 0 {
			continue
		}
		fmt.Fprintf(a.stdout, "Deleted %s\n", g.what)
		for _, id := range g.ids {
			fmt.Fprintln(a.stdout, id)
		}
	}
	// podman's order of the lists, and its last line
	fmt.Fprintf(a.stdout, "Total reclaimed space: %s\n", dfSize(rep.Reclaimed))
	return nil
}

// waitPidfd waits until the process the pidfd fd refers to has exited (its pidfd turns
// readable); any error ends the wait.
func waitPidfd(fd int) {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err != unix.EINTR {
			break
		}
	}
	unix.Close(fd)
}

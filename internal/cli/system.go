package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"pea/internal/engine"
)

func init() { register(newSystemCommand, "system") }

// newSystemCommand is `pea system`: prune, reset, info, df.
func newSystemCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Manage pea itself", RunE: groupRunE}
	var all, volumes, force bool
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove stopped pods and containers, unused networks, dangling images (and volumes)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return systemPrune(a, rt, all, volumes)
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "remove every unused image, not only dangling ones")
	prune.Flags().BoolVar(&volumes, "volumes", false, "remove unused volumes too")
	prune.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	afterFD := -1
	emptyTrash := &cobra.Command{
		Use: "empty-trash", Hidden: true, Args: cobra.NoArgs,
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
		Use: "reset [options]", Short: "Remove every pod, container, image, volume and network, and the store itself", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
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
				rt.NetworkRemove(ctx, n.Name, true)
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
			return os.RemoveAll(opts.RunRoot)
		},
	}
	reset.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	cmd.AddCommand(prune, reset, emptyTrash, newInfoCommand(a), newServiceCommand(a), newCRICommand(a), newDfCommand(a))
	return cmd
}

func systemPrune(a *app, rt *engine.Runtime, all, volumes bool) error {
	ctx := context.Background()
	pods, err := rt.PrunePods(ctx)
	if err != nil {
		return err
	}
	ctrs, err := rt.PruneContainers(ctx)
	if err != nil {
		return err
	}
	nets, err := rt.NetworkPrune(ctx)
	if err != nil {
		return err
	}
	imgs, err := rt.ImagePrune(all)
	if err != nil {
		return err
	}
	// Whatever an interrupted deletion left in the trash goes too (this command's own removals
	// included: the space is back when prune returns).
	rt.EmptyTrash()
	var vols []string
	if volumes {
		if vols, err = rt.PruneVolumes(); err != nil {
			return err
		}
	}
	for _, g := range []struct {
		what string
		ids  []string
	}{{"Pods", pods}, {"Containers", ctrs}, {"Networks", nets}, {"Images", imgs}, {"Volumes", vols}} {
		if len(g.ids) == 0 {
			continue
		}
		fmt.Fprintf(a.stdout, "Deleted %s\n", g.what)
		for _, id := range g.ids {
			fmt.Fprintln(a.stdout, id)
		}
	}
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

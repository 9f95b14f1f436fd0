package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// newContainerCloneCommand is `pea container clone CONTAINER [NAME] [IMAGE]`: a new container
// with the configuration of an existing one.
func newContainerCloneCommand(a *app) *cobra.Command {
	var o engine.CloneOptions
	var res resourceFlags
	cmd := &cobra.Command{
		Use:   "clone [options] CONTAINER NAME IMAGE",
		Short: "Clone an existing container",
		Long:  "Create a copy of an existing container: its configuration, a new ID, name and state. NAME and IMAGE, when given, replace the original's.",
		Args:  cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, _, err := res.update(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			o.Resources = u
			if err := cloneName(&o.Name, args); err != nil {
				return err
			}
			if len(args) > 2 {
				o.Image = args[2]
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			c, err := rt.CloneContainer(context.Background(), args[0], o)
			if c != nil {
				fmt.Fprintln(a.stdout, c.Config.ID)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Name, "name", "", "assign a name to the clone")
	f.BoolVar(&o.Destroy, "destroy", false, "destroy the original container")
	f.BoolVarP(&o.Force, "force", "f", false, "with --destroy: stop a running original first")
	f.StringVar(&o.Pod, "pod", "", "put the clone in this pod")
	f.BoolVar(&o.Run, "run", false, "start the clone")
	res.register(cmd)
	return cmd
}

// cloneName takes the clone's name from the argument after the original's (container clone,
// pod clone), refusing a different --name beside it.
func cloneName(name *string, args []string) error {
	if len(args) < 2 {
		return nil
	}
	if *name != "" && *name != args[1] {
		return usageError{fmt.Errorf("the clone's name is given twice (--name %s and %s)", *name, args[1])}
	}
	*name = args[1]
	return nil
}

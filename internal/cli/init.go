package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

func init() { register(newInitCommand, "init") }

// newInitCommand is `pea init`: make containers in the runtime without starting them.
func newInitCommand(a *app) *cobra.Command {
	var all, latest bool
	cmd := &cobra.Command{
		Use:   "init [options] CONTAINER [CONTAINER...]",
		Short: "Initialize one or more containers",
		Long:  "Initialize one or more containers: mount the root filesystem, attach the network and create the container in the runtime, without starting it.",
		RunE: func(cmd *cobra.Command, args []string) error {
			// --all picks the containers there is something to initialize in, as podman.
			notLive := func(c *model.Container) bool { return !c.State.Live() }
			return forEachTarget(a, args, all, latest, notLive, func(rt *engine.Runtime, t string) error {
				_, err := rt.InitContainer(context.Background(), t)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "initialize every container")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

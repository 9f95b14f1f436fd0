package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// existsCommand builds `X exists NAME`: exit 0 when it exists, 1 when not, 125 on error.
func existsCommand(a *app, what string, exists func(name string) (bool, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "exists " + what,
		Short: "Check whether a " + what + " exists",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ok, err := exists(args[0])
			if err != nil {
				return err
			}
			if !ok {
				return &errdefs.ExitError{Code: 1}
			}
			return nil
		},
	}
}

func newExistsCommand(a *app) *cobra.Command {
	cmd := existsCommand(a, "CONTAINER", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		return rt.ContainerExists(name)
	})
	cmd.Flags().Bool("external", false, "count containers of other tools too (buildah's, for podman; pea's store has none)")
	return cmd
}

func newPruneCommand(a *app) *cobra.Command {
	var o pruneOptions
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove every stopped container",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(a, "WARNING! This will remove all non running containers.", func(rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
				return rt.PruneContainers(context.Background(), f)
			})
		},
	}
	o.register(cmd)
	return cmd
}

package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

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
	return existsCommand(a, "CONTAINER", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		return rt.ContainerExists(name)
	})
}

func newPruneCommand(a *app) *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove every stopped container",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ids, err := rt.PruneContainers(context.Background())
			for _, id := range ids {
				fmt.Fprintln(a.stdout, id)
			}
			return err
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "filters (accepted for compatibility)")
	return cmd
}

package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

// newNetworkReloadCommand is `pea network reload`: make again the firewall rules of running
// containers' networks (NAT, forwarding, published ports) after something removed them.
func newNetworkReloadCommand(a *app) *cobra.Command {
	var all, latest bool
	cmd := &cobra.Command{
		Use:   "reload [options] [CONTAINER...]",
		Short: "Reload the network configuration of containers",
		Long:  "Make again the firewall rules (NAT, forwarding, published ports) of containers' networks, for example after a reload of the host's firewall removed them.",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			targets := args
			switch {
			case all:
				cs, err := rt.ListContainers()
				if err != nil {
					return err
				}
				targets = nil
				for _, c := range cs {
					// The containers that hold a network of their own, as podman's --all.
					if c.State.Live() && c.State.NetNS != "" {
						targets = append(targets, c.Config.ID)
					}
				}
			case latest:
				c, err := rt.LatestContainer()
				if err != nil {
					return err
				}
				targets = []string{c.Config.ID}
			case len(args) == 0:
				return usageError{fmt.Errorf("at least one container name or ID must be given (or --all / --latest)")}
			}
			var errs []error
			for _, t := range targets {
				id, err := rt.ReloadNetwork(context.Background(), t)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.stdout, id)
			}
			return joinErrors(a, errs)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "reload the network of every running container")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/network"
)

// newNetworkUpdateCommand is `pea network update NAME` (podman 5.0): add and drop the
// network's upstream DNS servers (network_dns_servers), which aardvark-dns asks for the names
// it does not know, for the containers running on it too.
func newNetworkUpdateCommand(a *app) *cobra.Command {
	var o network.UpdateOptions
	cmd := &cobra.Command{
		Use:   "update [options] NETWORK",
		Short: "Update an existing network",
		Long:  "Update an existing network: add (--dns-add) and drop (--dns-drop) the DNS servers that aardvark-dns asks for the names it does not know.",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if _, err := rt.NetworkUpdate(args[0], o); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, args[0])
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&o.AddDNSServers, "dns-add", nil, "add network level nameservers")
	cmd.Flags().StringSliceVar(&o.DropDNSServers, "dns-drop", nil, "remove network level nameservers")
	return cmd
}

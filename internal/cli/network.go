package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

func networkInspectValue(rt *engine.Runtime, name string) (any, error) {
	return rt.NetworkInspect(name)
}

func init() { register(newNetworkCommand, "network") }

func newNetworkCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage networks", RunE: groupRunE}
	var co network.CreateOptions
	var labels, opts []string
	create := &cobra.Command{
		Use: "create [options] [NAME]", Short: "Create a network", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if len(args) == 1 {
				co.Name = args[0]
			}
			if co.Labels, err = parseKV(labels, "label"); err != nil {
				return err
			}
			if co.Options, err = parseKV(opts, "option"); err != nil {
				return err
			}
			// podman spells the macvlan/ipvlan master as -o parent=IFACE.
			if p, ok := co.Options["parent"]; ok {
				co.Parent = p
				delete(co.Options, "parent")
			}
			n, err := rt.NetworkCreate(co)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, n.Name)
			return nil
		},
	}
	f := create.Flags()
	f.StringVar(&co.Subnet, "subnet", "", "subnet in CIDR form")
	f.StringVar(&co.Gateway, "gateway", "", "gateway address")
	f.StringVar(&co.IPRange, "ip-range", "", "range to allocate addresses from")
	f.BoolVar(&co.Internal, "internal", false, "no route to the outside")
	f.StringVarP(&co.Driver, "driver", "d", "bridge", "driver: bridge, macvlan, ipvlan")
	f.StringVar(&co.NetworkInterface, "interface-name", "", "name of the bridge")
	f.StringArrayVar(&labels, "label", nil, "set a label")
	f.StringArrayVarP(&opts, "opt", "o", nil, "driver option (mtu, mode, parent)")

	var format string
	var quiet bool
	var filters []string
	ls := &cobra.Command{
		Use: "ls [options]", Aliases: []string{"list"}, Short: "List networks", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ns, err := rt.NetworkList()
			if err != nil {
				return err
			}
			var sel []*network.Network
			for _, n := range ns {
				if networkMatches(n, filters) {
					sel = append(sel, n)
				}
			}
			if quiet {
				for _, n := range sel {
					fmt.Fprintln(a.stdout, n.Name)
				}
				return nil
			}
			if format == "json" {
				if sel == nil {
					sel = []*network.Network{}
				}
				return printJSON(a.stdout, sel)
			}
			var rows []any
			for _, n := range sel {
				rows = append(rows, &netRow{ID: shortID(n.ID), Name: n.Name, Driver: n.Driver, Labels: n.Labels, n: n})
			}
			return render(a.stdout, format, false, rows, nil, table{format: "{{.ID}}\t{{.Name}}\t{{.Driver}}", headers: map[string]string{"ID": "NETWORK ID"}})
		},
	}
	ls.Flags().StringVar(&format, "format", "", "format with a Go template or json")
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only")
	ls.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter: name=, id=, driver=, label=")

	var iformat string
	inspect := &cobra.Command{
		Use: "inspect NETWORK [NETWORK...]", Short: "Display the configuration of networks", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return inspectEach(a, args, iformat, func(n string) (any, error) { return rt.NetworkInspect(n) })
		},
	}
	inspect.Flags().StringVarP(&iformat, "format", "f", "", "format with a Go template or json")

	var force bool
	rm := &cobra.Command{
		Use: "rm [options] NETWORK [NETWORK...]", Aliases: []string{"remove"}, Short: "Remove networks", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return removeEach(a, args, func(n string) error { return rt.NetworkRemove(context.Background(), n, force) })
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "remove the containers and pods using it too")
	var pforce bool
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove every unused network", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			names, err := rt.NetworkPrune(context.Background())
			for _, n := range names {
				fmt.Fprintln(a.stdout, n)
			}
			return err
		},
	}
	prune.Flags().BoolVarP(&pforce, "force", "f", false, "do not ask for confirmation")
	var connectAliases []string
	connect := &cobra.Command{
		Use: "connect NETWORK CONTAINER", Short: "Connect a container to a network", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.NetworkConnect(context.Background(), args[0], args[1], engine.ConnectOptions{Aliases: connectAliases})
		},
	}
	connect.Flags().StringArrayVar(&connectAliases, "alias", nil, "a further name the containers on the network find the container by")
	disconnect := &cobra.Command{
		Use: "disconnect NETWORK CONTAINER", Short: "Disconnect a container from a network", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.NetworkDisconnect(context.Background(), args[0], args[1])
		},
	}
	exists := existsCommand(a, "NETWORK", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		_, err = rt.NetworkInspect(name)
		return err == nil, nil
	})
	cmd.AddCommand(create, ls, inspect, rm, prune, connect, disconnect, exists, newNetworkReloadCommand(a))
	return cmd
}

type netRow struct {
	ID, Name, Driver string
	Labels           map[string]string
	n                *network.Network
}

func networkMatches(n *network.Network, filters []string) bool {
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "name":
			if !strings.Contains(n.Name, v) {
				return false
			}
		case "id":
			if !strings.HasPrefix(n.ID, v) {
				return false
			}
		case "driver":
			if n.Driver != v {
				return false
			}
		case "label":
			if !model.LabelsMatch(n.Labels, v) {
				return false
			}
		}
	}
	return true
}

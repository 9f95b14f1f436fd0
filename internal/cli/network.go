package cli

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

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
	var ipamDriver string
	var ignore bool
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
			if ipamDriver != "" && ipamDriver != "host-local" {
				return invalid("--ipam-driver %s: pea's networks give addresses with host-local", ipamDriver)
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
			if ignore && co.Name != "" {
				// An existing network is kept as it is: the options given are not applied to it.
				if _, err := rt.NetworkInspect(co.Name); err == nil {
					fmt.Fprintln(a.stdout, co.Name)
					return nil
				}
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
	f.StringArrayVar(&co.Subnets, "subnet", nil, "subnet in CIDR form (repeat for more: IPv4 and IPv6 make a dual-stack network)")
	listVar(f, &co.Gateways, "gateway", nil, "gateway address of the --subnet at the same position")
	f.StringArrayVar(&co.IPRanges, "ip-range", nil, "range to allocate addresses from, in the --subnet at the same position")
	f.BoolVar(&co.IPv6, "ipv6", false, "dual stack: an IPv6 subnet (a random fd00::/8 /64 unless given) besides the IPv4 one")
	f.BoolVar(&co.Internal, "internal", false, "no route to the outside")
	f.StringArrayVar(&co.Routes, "route", nil, "static route of the containers: DESTINATION-CIDR,GATEWAY (repeatable)")
	f.StringSliceVar(&co.DNSServers, "dns", nil, "DNS server aardvark-dns asks for the names it does not know, instead of the host's resolvers (repeat for more)")
	f.BoolVar(&co.DisableDNS, "disable-dns", false, "containers on the network do not find each other by name")
	f.StringVar(&ipamDriver, "ipam-driver", "", "IP address management driver: host-local (the only one)")
	f.StringVarP(&co.Driver, "driver", "d", "bridge", "driver: bridge, macvlan, ipvlan")
	f.StringVar(&co.NetworkInterface, "interface-name", "", "name of the bridge")
	f.StringArrayVar(&labels, "label", nil, "set a label")
	f.StringArrayVarP(&opts, "opt", "o", nil, "driver option (mtu, mode, parent, vlan, no_default_route)")
	f.BoolVar(&ignore, "ignore", false, "do not fail when the network exists: print its name (its options stay as they are)")

	var format string
	var quiet, noHeading, noTrunc bool
	var filters []string
	ls := &cobra.Command{
		Use: "ls [options]", Aliases: []string{"list"}, Short: "List networks", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ns, err := rt.NetworkList()
			if err != nil {
				return err
			}
			sel, err := filterNetworks(rt, ns, filters)
			if err != nil {
				return err
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
				return printJSONStyle(a.stdout, sel, jsonTwo)
			}
			var rows []any
			for _, n := range sel {
				rows = append(rows, &netRow{ID: truncID(n.ID, noTrunc), Name: n.Name, Driver: n.Driver, Labels: joinLabels(n.Labels), Network: n})
			}
			return render(a.stdout, format, noHeading, rows, nil, table{format: "{{.ID}}\t{{.Name}}\t{{.Driver}}", headers: map[string]string{"ID": "NETWORK ID"}})
		},
	}
	ls.Flags().StringVar(&format, "format", "", "format with a Go template or json")
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only")
	ls.Flags().StringArrayVarP(&filters, "filter", "f", nil, "filter: name=, id=, driver=, label=, label!=, until=, dangling=")
	ls.Flags().BoolVarP(&noHeading, "noheading", "n", false, "do not print the header")
	ls.Flags().BoolVar(&noTrunc, "no-trunc", false, "show the full network IDs")

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
	var rmTime timeoutFlag
	rm := &cobra.Command{
		Use: "rm [options] NETWORK [NETWORK...]", Aliases: []string{"remove"}, Short: "Remove networks", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			rmTime.set = cmd.Flags().Changed("time")
			// As podman: a missing network is exit 1 (and skipped with -f), a network in use
			// stops the removal with exit 2.
			return removeWithCodes(a, args, force, true, func(n string) error {
				return rt.NetworkRemoveTimeout(context.Background(), n, force, rmTime.ptr())
			})
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "remove the containers and pods using it too")
	rm.Flags().UintVarP(&rmTime.val, "time", "t", 10, "with --force, seconds to wait before killing the containers using it")
	var po pruneOptions
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove every unused network", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return po.run(a, "WARNING! This will remove all networks not used by at least one container.", func(rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
				return rt.NetworkPrune(context.Background(), f)
			})
		},
	}
	po.register(prune)
	var connectAliases []string
	var connectIP, connectIP6, connectMAC string
	var disconnectForce bool
	connect := &cobra.Command{
		Use: "connect NETWORK CONTAINER", Short: "Connect a container to a network", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			var nc model.NetworkConfig
			nc.StaticIP = connectIP
			if err := setIP6(&nc, connectIP6); err != nil {
				return err
			}
			return rt.NetworkConnect(context.Background(), args[0], args[1], engine.ConnectOptions{Aliases: connectAliases, IP: connectIP, IP6: connectIP6, MAC: connectMAC})
		},
	}
	listVar(connect.Flags(), &connectAliases, "alias", nil, "a further name the containers on the network find the container by")
	connect.Flags().StringVar(&connectIP, "ip", "", "the container's static IPv4 address on the network")
	connect.Flags().StringVar(&connectIP6, "ip6", "", "the container's static IPv6 address on the network")
	connect.Flags().StringVar(&connectMAC, "mac-address", "", "the container's static MAC address on the network")
	disconnect := &cobra.Command{
		Use: "disconnect NETWORK CONTAINER", Short: "Disconnect a container from a network", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.NetworkDisconnect(context.Background(), args[0], args[1], disconnectForce)
		},
	}
	disconnect.Flags().BoolVarP(&disconnectForce, "force", "f", false, "remove the container from the network even when its teardown fails or the network is gone")
	exists := existsCommand(a, "NETWORK", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		_, err = rt.NetworkInspect(name)
		return err == nil, nil
	})
	cmd.AddCommand(create, ls, inspect, rm, prune, connect, disconnect, exists, newNetworkReloadCommand(a), newNetworkUpdateCommand(a))
	return cmd
}

// netRow is a network ls line: the network's fields (as podman's, {{.Subnets}} and
// {{.IPv6Enabled}} among them) with the ID truncated unless --no-trunc. The default columns
// are fields of its own, which the template shortcut prints (format_fast.go).
type netRow struct {
	ID, Name, Driver string
	Labels           string // "k=v,k2=v2", sorted, as podman's network ls prints them
	*network.Network
}

// joinLabels is labels as podman's listings print them: key=value pairs, sorted, comma-separated.
func joinLabels(labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	for i, k := range keys {
		keys[i] = k + "=" + labels[k]
	}
	return strings.Join(keys, ",")
}

// filterNetworks applies network ls's --filter: name= (a regular expression), id= (a prefix),
// driver=, label=, label!=, until=, dangling= (no container uses it). Values of one key are
// alternatives; different keys must all match.
func filterNetworks(rt *engine.Runtime, ns []*network.Network, filters []string) ([]*network.Network, error) {
	spec := filterSpec{what: "network", keys: []string{"name", "id", "driver", "label", "label!", "until", "dangling"}}
	return filterListing(ns, filters, spec, func(n *network.Network) time.Time { return n.Created }, func(n *network.Network, k, v string) bool {
		switch k {
		case "name": // a regular expression, as podman's (an invalid one matches nothing)
			ok, _ := regexp.MatchString(v, n.Name)
			return ok
		case "id":
			return strings.HasPrefix(n.ID, v)
		case "driver":
			return n.Driver == v
		case "label":
			return model.LabelsMatch(n.Labels, v)
		case "label!":
			return !model.LabelsMatch(n.Labels, v)
		case "dangling":
			want, _ := strconv.ParseBool(v)
			users, err := rt.NetworkUsers(n.Name)
			return err == nil && (len(users) == 0) == want
		}
		return false
	})
}

package engine

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// NetworkChoice is what a repeated --network asks for, read by podman 4.3's rules
// (ParseNetworkFlags). DefaultNetwork in Networks stands for the default network, listed
// beside others (`--network bridge --network NAME`).
type NetworkChoice struct {
	Mode model.Namespace
	// Networks are the named networks in the order given (the first gets eth0); empty with
	// the bridge mode: the default network alone.
	Networks []string
	// Opts are the per-network options (NAME:ip=...,mac=...,alias=...,interface_name=...)
	// by network name; DefaultNetwork's are those of `bridge:OPTS`.
	Opts map[string]NetworkOpts
}

// DefaultNetwork is the default network's place in NetworkChoice.
const DefaultNetwork = "default"

// NetworkOpts are the options of one network of a --network value.
type NetworkOpts struct {
	IPs           []string // ip=, repeatable: one address of each IP version at most
	MAC           string
	Aliases       []string
	InterfaceName string
}

// ParseNetworkFlags reads a repeated --network flag as podman 4.3's kube play and pod create do.
// The first value is a mode (bridge[:OPTS], none, host, private or default, slirp4netns[:OPTS], pasta[:OPTS],
// ns:PATH, container:ID), NAME:OPTS, or NAME[,NAME...] (a comma list: names only, no options).
// The values after it each add one network, NAME[:OPTS], and need the bridge mode: a mode there
// (bridge, host, none...) is refused, as is a second value after host, none, slirp4netns...
func ParseNetworkFlags(values []string) (NetworkChoice, error) {
	var c NetworkChoice
	fail := func(format string, args ...any) (NetworkChoice, error) {
		return NetworkChoice{}, fmt.Errorf(format+": %w", append(args, errdefs.ErrInvalid)...)
	}
	add := func(name, opts string, hasOpts bool) error {
		if name == "" {
			return fmt.Errorf("network name cannot be empty: %w", errdefs.ErrInvalid)
		}
		if !slices.Contains(c.Networks, name) && name != DefaultNetwork {
			c.Networks = append(c.Networks, name)
		}
		if !hasOpts {
			return nil
		}
		o, err := parseNetworkOpts(opts)
		if err != nil {
			return fmt.Errorf("invalid option for network %s: %v: %w", name, err, errdefs.ErrInvalid)
		}
		if c.Opts == nil {
			c.Opts = map[string]NetworkOpts{}
		}
		c.Opts[name] = o
		return nil
	}
	first := ""
	if len(values) > 0 {
		first = values[0]
	}
	name, opts, hasOpts := strings.Cut(first, ":")
	switch {
	case first == "" || first == "default" || first == model.NSModePrivate:
		c.Mode = model.Namespace{Mode: model.NSModePrivate}
	case first == "none" || first == "host":
		c.Mode = model.Namespace{Mode: first}
	case name == model.NSModeBridge:
		c.Mode = model.Namespace{Mode: model.NSModeBridge}
		if hasOpts {
			if err := add(DefaultNetwork, opts, true); err != nil {
				return NetworkChoice{}, err
			}
		}
	case name == model.NSModeSlirp || name == model.NSModePasta:
		c.Mode = model.Namespace{Mode: name, Value: opts}
	case name == "ns":
		c.Mode = model.Namespace{Mode: model.NSModePath, Value: opts}
	case name == "container":
		c.Mode = model.Namespace{Mode: model.NSModeContainer, Value: opts}
	case hasOpts:
		c.Mode = model.Namespace{Mode: model.NSModeBridge}
		if err := add(name, opts, true); err != nil {
			return NetworkChoice{}, err
		}
	default: // a comma list of names, podman's older form
		c.Mode = model.Namespace{Mode: model.NSModeBridge}
		for _, n := range strings.Split(first, ",") {
			if err := add(n, "", false); err != nil {
				return NetworkChoice{}, err
			}
		}
	}
	if len(values) < 2 {
		return c, nil
	}
	if c.Mode.Mode != model.NSModeBridge {
		return fail("cannot set multiple networks without bridge network mode, selected mode %s", c.Mode.Mode)
	}
	if len(c.Networks) == 0 {
		c.Networks = []string{DefaultNetwork} // bridge, then more: the default network first
	}
	for _, v := range values[1:] {
		name, opts, hasOpts := strings.Cut(v, ":")
		switch name {
		case "":
			return fail("network name cannot be empty")
		case model.NSModeBridge, model.NSModeSlirp, model.NSModePasta, model.NSModeNone, model.NSModeHost, model.NSModePrivate,
			model.NSModeContainer, "default", "ns", "pod", "path":
			return fail("can only set extra network names, selected mode %s conflicts with bridge", name)
		}
		if err := add(name, opts, hasOpts); err != nil {
			return NetworkChoice{}, err
		}
	}
	return c, nil
}

// parseNetworkOpts reads the options of one network: ip=IP (repeatable), mac=MAC, alias=NAME
// (repeatable), interface_name=NAME.
func parseNetworkOpts(s string) (NetworkOpts, error) {
	var o NetworkOpts
	if s == "" {
		return o, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return o, fmt.Errorf("%q: want KEY=VALUE", kv)
		}
		switch k {
		case "ip", "ip6":
			a, err := netip.ParseAddr(v)
			if err != nil {
				return o, fmt.Errorf("invalid ip address %q", v)
			}
			o.IPs = append(o.IPs, a.String())
		case "mac":
			if _, err := net.ParseMAC(v); err != nil {
				return o, fmt.Errorf("address %s: invalid MAC address", v)
			}
			o.MAC = v
		case "alias":
			o.Aliases = append(o.Aliases, v)
		case "interface_name":
			o.InterfaceName = v
		default:
			return o, fmt.Errorf("unknown bridge network option: %s", k)
		}
	}
	return o, nil
}

// Apply sets the networks, static addresses and aliases the choice names on nc (a container's
// network settings, or a pod's infra container's). defaultName is the default network's name,
// used where the default network is listed beside others. Each network gets its interface
// eth0, eth1... in the order given; an interface_name= other than that is refused.
func (c NetworkChoice) Apply(nc *model.NetworkConfig, defaultName string) error {
	names := slices.Clone(c.Networks)
	if len(names) == 0 && c.Mode.Mode == model.NSModeBridge {
		names = []string{DefaultNetwork}
	}
	nc.Networks = nil
	for i, name := range names {
		key, real := name, name
		if name == DefaultNetwork {
			real = defaultName
			if key = real; len(names) == 1 {
				key = "*" // the aliases of a container's only network, as run's --network-alias
			}
		}
		if len(names) > 1 || name != DefaultNetwork {
			nc.Networks = append(nc.Networks, real)
		}
		o, ok := c.Opts[name]
		if !ok {
			continue
		}
		if o.InterfaceName != "" && o.InterfaceName != "eth"+strconv.Itoa(i) {
			return fmt.Errorf("network %s: interface_name=%s: pea names the interfaces eth0, eth1... in the networks' order: %w", name, o.InterfaceName, errdefs.ErrInvalid)
		}
		var a model.NetworkAddr
		for _, ip := range o.IPs {
			addr := netip.MustParseAddr(ip)
			slot := &a.IP
			if addr.Is6() && !addr.Is4In6() {
				slot = &a.IP6
			}
			if *slot != "" {
				return fmt.Errorf("network %s: one static address of each IP version at most (%s, %s): %w", name, *slot, ip, errdefs.ErrInvalid)
			}
			*slot = ip
		}
		a.MAC = o.MAC
		if i == 0 {
			nc.StaticIP, nc.StaticIP6, nc.StaticMAC = a.IP, a.IP6, a.MAC
		} else if a != (model.NetworkAddr{}) {
			if nc.Addrs == nil {
				nc.Addrs = map[string]model.NetworkAddr{}
			}
			nc.Addrs[real] = a
		}
		if len(o.Aliases) > 0 {
			if nc.Aliases == nil {
				nc.Aliases = map[string][]string{}
			}
			nc.Aliases[key] = o.Aliases
		}
	}
	return nil
}

// DefaultNetworkName is the network a container naming none joins: containers.conf's
// default_network, else pea's own, made now if it is not there yet.
func (r *Runtime) DefaultNetworkName() (string, error) {
	if name := r.conf().Network.DefaultNetworkName(); name != "" {
		return name, nil
	}
	n, err := r.networks().Default()
	if err != nil {
		return "", err
	}
	return n.Name, nil
}

package api

// The network side of Docker's create: network mode and networks, published ports, DNS and
// hosts, and the settings Docker refuses with a network or UTS mode that makes them moot.

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

// toNetwork sets the network namespace, networks, published ports, DNS and hosts of cfg.
func toNetwork(req *createRequest, cfg *model.ContainerConfig) error {
	hc := &req.HostConfig
	nc := &cfg.Network
	nc.DNSServers, nc.DNSSearch, nc.DNSOptions, nc.AddHosts = hc.DNS, hc.DNSSearch, hc.DNSOptions, hc.ExtraHosts
	for _, h := range nc.AddHosts {
		// Docker's HOST:IP; an IPv6 address has colons of its own, the first one separates.
		if name, ip, ok := strings.Cut(h, ":"); !ok || name == "" || ip == "" {
			return badRequest("invalid ExtraHosts entry %q: want HOST:IP", h)
		}
	}
	ports := make([]string, 0, len(hc.PortBindings))
	for p := range hc.PortBindings {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	for _, p := range ports {
		cp, err := parsePortProto(p)
		if err != nil {
			return err
		}
		bindings := hc.PortBindings[p]
		if len(bindings) == 0 {
			bindings = []portBinding{{}}
		}
		for _, b := range bindings {
			pm := cp
			pm.HostIP = b.HostIP
			if pm.HostIP == "0.0.0.0" {
				pm.HostIP = ""
			}
			if b.HostPort != "" {
				hp, err := strconv.ParseUint(b.HostPort, 10, 16)
				if err != nil {
					return badRequest("invalid host port %q", b.HostPort)
				}
				pm.HostPort = uint16(hp)
			}
			nc.Ports = append(nc.Ports, pm)
		}
	}
	mode := hc.NetworkMode
	if req.NetworkDisabled {
		mode = "none"
	}
	cfg.Namespaces[model.NSNet], nc.Networks = engine.NetworkMode(mode)
	// Further networks of the endpoints config (docker run --network a --network b), and a
	// static address or MAC of the first.
	for name, ep := range req.NetworkingConfig.EndpointsConfig {
		if ep != nil && len(ep.Aliases) > 0 && name != "bridge" && name != "default" && cfg.NS(model.NSNet).Mode == model.NSModeBridge {
			if nc.Aliases == nil {
				nc.Aliases = map[string][]string{}
			}
			nc.Aliases[name] = ep.Aliases
		}
		if ep == nil || name == mode || name == "bridge" && len(nc.Networks) == 0 {
			if ep != nil && ep.IPAMConfig != nil {
				nc.StaticIP, nc.StaticIP6 = ep.IPAMConfig.IPv4Address, ep.IPAMConfig.IPv6Address
			}
			if ep != nil && ep.MacAddress != "" {
				nc.StaticMAC = ep.MacAddress
			}
			continue
		}
		if cfg.NS(model.NSNet).Mode == model.NSModeBridge {
			nc.Networks = append(nc.Networks, name)
		}
	}
	if m := cfg.NS(model.NSNet).Mode; (m == model.NSModeHost || m == model.NSModeNone) && len(nc.Ports) > 0 {
		return badRequest("conflicting options: port publishing and the container type network mode %s", m)
	}
	return nil
}

// parsePortProto parses Docker's "PORT/PROTO" key (PROTO tcp when absent).
func parsePortProto(s string) (model.PortMapping, error) {
	port, proto, _ := strings.Cut(s, "/")
	if proto == "" {
		proto = "tcp"
	}
	if proto != "tcp" && proto != "udp" && proto != "sctp" {
		return model.PortMapping{}, badRequest("invalid protocol %q in port %q", proto, s)
	}
	n, err := strconv.ParseUint(port, 10, 16)
	if err != nil || n == 0 {
		return model.PortMapping{}, badRequest("invalid port %q", s)
	}
	return model.PortMapping{ContainerPort: uint16(n), Protocol: proto}, nil
}

// checkConflicts refuses the settings Docker refuses together with the network and UTS modes:
// a container that joins another's network namespace has that one's name resolution, and one
// in the host's UTS namespace has the host's name.
func checkConflicts(req *createRequest, cfg *model.ContainerConfig) error {
	hc := &req.HostConfig
	net := cfg.NS(model.NSNet).Mode
	switch {
	case cfg.NS(model.NSUts).Mode == model.NSModeHost && (req.Hostname != "" || req.Domainname != ""):
		return badRequest("conflicting options: hostname and the UTS mode")
	case net == model.NSModeContainer && req.Hostname != "":
		return badRequest("conflicting options: hostname and the network mode")
	case net == model.NSModeContainer && (len(hc.PortBindings) > 0 || hc.PublishAllPorts):
		return badRequest("conflicting options: port publishing and the container type network mode")
	case net == model.NSModeContainer && len(hc.DNS)+len(hc.DNSSearch)+len(hc.DNSOptions) > 0:
		return badRequest("conflicting options: dns and the network mode")
	case net == model.NSModeContainer && len(hc.ExtraHosts) > 0:
		return badRequest("conflicting options: custom host-to-IP mapping and the network mode")
	case net == model.NSModeContainer && len(req.ExposedPorts) > 0:
		return badRequest("conflicting options: port exposing and the container type network mode")
	case (net == model.NSModeContainer || net == model.NSModeHost) && cfg.Network.StaticMAC != "":
		return badRequest("conflicting options: mac-address and the network mode")
	case net == model.NSModeHost && len(cfg.Links) > 0:
		return badRequest("conflicting options: host type networking can't be used with links. This would result in undefined behavior")
	case net == model.NSModeContainer && len(cfg.Links) > 0:
		return badRequest("conflicting options: container type network can't be used with links. This would result in undefined behavior")
	case len(cfg.Links) > 0 && (net != model.NSModeBridge || onlyDefaultNetwork(cfg)):
		return badRequest("links (--link) need a network of the user's: pea's default network has no name resolution and pea sets no link variables; run both containers on a network made with docker network create, where they find each other by name")
	}
	for _, h := range hc.ExtraHosts {
		if _, ip, _ := strings.Cut(h, ":"); ip != engine.HostGateway && !validIP(ip) {
			return badRequest("invalid IP address in add-host: %q", ip)
		}
	}
	return nil
}

// onlyDefaultNetwork reports whether a bridge-mode container is on pea's default network alone.
func onlyDefaultNetwork(cfg *model.ContainerConfig) bool {
	for _, n := range cfg.Network.Networks {
		if n != dockerBridge && n != "default" && n != network.DefaultName {
			return false
		}
	}
	return true
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

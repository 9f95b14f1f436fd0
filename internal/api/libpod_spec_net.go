package api

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/view"
)

// The namespaces, pod, networks and ports of a SpecGenerator.

// applyUserNS sets the user namespace (--userns, --uidmap/--gidmap) as pea run does.
func (sp *libpodSpec) applyUserNS(cfg *model.ContainerConfig) error {
	uidmap, gidmap, autoSize := idMapStrings(sp.IDMappings)
	hasMaps := len(uidmap) > 0 || len(gidmap) > 0
	v := ""
	switch ns := sp.UserNS; ns.Mode {
	case "", "default":
	case "private":
		if !hasMaps {
			return invalidSpec("--userns private needs --uidmap/--gidmap")
		}
	case "host", "keep-id", "nomap": // keep-id and nomap are refused by pea as root, as pea run does
		v = ns.Mode
	case "auto":
		v = "auto"
		if autoSize > 0 {
			v += fmt.Sprintf(":size=%d", autoSize)
		}
	case "container":
		v = "container:" + ns.Value
	case "path":
		v = "ns:" + ns.Value
	default:
		return invalidSpec("invalid --userns %q (host, auto, container:ID, ns:PATH)", ns.Mode)
	}
	if sp.Pod != "" && hasMaps {
		return invalidSpec("a container in a pod cannot have ID mappings of its own (--uidmap/--gidmap): it joins the pod's user namespace; set them on the pod")
	}
	if sp.Pod != "" && v != "" {
		return invalidSpec("a container in a pod cannot set its own user namespace (--userns %s); it has the pod's, set on the pod", v)
	}
	userns, err := engine.ParseUserNS(v, hasMaps)
	if err != nil {
		return err
	}
	if userns.Mode != model.NSModeHost {
		cfg.Namespaces[model.NSUser] = userns
	}
	cfg.UIDMap, cfg.GIDMap, err = engine.ParseIDMaps(uidmap, gidmap)
	return err
}

// applyNamespaces sets the PID, IPC, UTS and cgroup namespaces, the cgroups mode and the pod.
func (sp *libpodSpec) applyNamespaces(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	for _, n := range []struct {
		kind string
		ns   view.SpecNamespace
	}{{model.NSPid, sp.PidNS}, {model.NSIpc, sp.IpcNS}, {model.NSUts, sp.UtsNS}, {model.NSCgroup, sp.CgroupNS}} {
		ipc, cgroup := n.kind == model.NSIpc, n.kind == model.NSCgroup
		switch m := n.ns.Mode; {
		case m == "" || m == "default":
		case m == model.NSModeHost || m == model.NSModePrivate,
			ipc && (m == model.NSModeShareable || m == model.NSModeNone):
			cfg.Namespaces[n.kind] = model.Namespace{Mode: m}
		case !cgroup && (m == model.NSModeContainer || m == model.NSModePath) && n.ns.Value != "":
			cfg.Namespaces[n.kind] = model.Namespace{Mode: m, Value: n.ns.Value}
		default:
			flag := n.kind
			if cgroup {
				flag = "cgroupns"
			}
			return invalidSpec("invalid --%s %q", flag, m)
		}
	}
	if m := cfg.NS(model.NSIpc).Mode; sp.ShmSize != nil && *sp.ShmSize > 0 && (m == model.NSModeHost || m == model.NSModeNone) {
		return invalidSpec("cannot set --shm-size with --ipc %s: the container has no /dev/shm of its own", m)
	}
	if m := sp.CgroupsMode; m != "" && m != engine.CgroupsEnabled {
		cfg.Cgroups = m // the engine refuses split, as for pea run
	}
	if sp.Pod != "" {
		if sp.NetNS.Mode == "" || sp.NetNS.Mode == "default" {
			delete(cfg.Namespaces, model.NSNet) // the pod's
		}
		o.Pod = sp.Pod
		// The namespaces the client named stand instead of the pod's, as for pea run --pod.
		o.OwnNamespaces = []string{}
		for kind, ns := range map[string]view.SpecNamespace{model.NSPid: sp.PidNS, model.NSIpc: sp.IpcNS, model.NSUts: sp.UtsNS,
			model.NSCgroup: sp.CgroupNS, model.NSNet: sp.NetNS} {
			if ns.Mode != "" && ns.Mode != "default" {
				o.OwnNamespaces = append(o.OwnNamespaces, kind)
			}
		}
		o.HostnameSet = sp.Hostname != ""
	}
	return nil
}

// applyNetwork sets the static addresses and aliases of each network, the published and
// exposed ports and the /etc files' settings (toNetwork set the mode, networks and DNS).
func (sp *libpodSpec) applyNetwork(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	nc := &cfg.Network
	if err := applyNetworkOpts(nc, sp.Networks, cfg.NS(model.NSNet).Mode == model.NSModeBridge); err != nil {
		return err
	}
	if sp.UseImageResolv {
		return invalidSpec("--dns none (the image's own /etc/resolv.conf): pea always writes the container's resolv.conf")
	}
	nc.NoHosts = sp.UseImageHosts
	if err := engine.CheckHostsFile(sp.BaseHostsFile); err != nil {
		return err
	}
	nc.HostsFile = sp.BaseHostsFile
	return sp.applyPorts(cfg, o)
}

// applyNetworkOpts sets on nc what is asked of each network (of a container, or of a pod's
// infra container): static addresses (the first network's are nc's own, the others' in Addrs)
// and aliases, which need a bridge namespace of the container's own.
func applyNetworkOpts(nc *model.NetworkConfig, networks map[string]view.SpecNetwork, bridge bool) error {
	names := networkNames(networks)
	if _, ok := networks["default"]; ok && len(names) == 0 {
		names = []string{"default"} // the default network, with --ip, --mac-address...
	}
	for i, name := range names {
		opts := networks[name]
		if opts.InterfaceName != "" && opts.InterfaceName != "eth"+strconv.Itoa(i) {
			return invalidSpec("--network %s:interface_name=%s: pea names the interfaces eth0, eth1... in the networks' order", name, opts.InterfaceName)
		}
		var a model.NetworkAddr
		for _, ip := range opts.StaticIPs {
			addr, err := netip.ParseAddr(ip)
			if err != nil {
				return invalidSpec("invalid static IP %q on network %s", ip, name)
			}
			slot := &a.IP
			if addr.Is6() && !addr.Is4In6() {
				slot = &a.IP6
			}
			if *slot != "" {
				return invalidSpec("network %s: one static address of each IP version at most (%s, %s)", name, *slot, ip)
			}
			*slot = addr.String()
		}
		a.MAC = opts.StaticMAC
		if a != (model.NetworkAddr{}) && !bridge {
			return invalidSpec("--ip, --ip6 and --mac-address need a bridge network of the container's own")
		}
		if i == 0 {
			nc.StaticIP, nc.StaticIP6, nc.StaticMAC = a.IP, a.IP6, a.MAC
		} else if a != (model.NetworkAddr{}) {
			if nc.Addrs == nil {
				nc.Addrs = map[string]model.NetworkAddr{}
			}
			nc.Addrs[name] = a
		}
		if len(opts.Aliases) > 0 {
			if !bridge {
				return invalidSpec("--network-alias needs a bridge network of the container's own")
			}
			key := name
			if name == "default" {
				key = "*" // pea run's key for aliases on the container's networks
			}
			if nc.Aliases == nil {
				nc.Aliases = map[string][]string{}
			}
			nc.Aliases[key] = opts.Aliases
		}
	}
	return nil
}

// applyPorts sets -p (with its ranges and protocols, as pea run keeps them) and --expose.
func (sp *libpodSpec) applyPorts(cfg *model.ContainerConfig, o *engine.CreateOptions) error {
	nc := &cfg.Network
	for _, p := range sp.PortMappings {
		protos := p.Protocol
		if protos == "" {
			protos = "tcp"
		}
		if p.ContainerPort == 0 {
			return invalidSpec("invalid port mapping: no container port")
		}
		if p.HostIP != "" {
			if _, err := netip.ParseAddr(p.HostIP); err != nil {
				return invalidSpec("invalid port mapping: host IP %q is not an IP address", p.HostIP)
			}
		}
		for _, proto := range strings.Split(protos, ",") {
			if proto != "tcp" && proto != "udp" && proto != "sctp" {
				return invalidSpec("invalid port mapping protocol %q (tcp, udp, sctp)", proto)
			}
			nc.Ports = append(nc.Ports, model.PortMapping{HostIP: p.HostIP, HostPort: p.HostPort, ContainerPort: p.ContainerPort,
				Protocol: proto, Range: max(p.Range, 1)})
		}
	}
	if sp.Pod != "" && len(nc.Ports) > 0 {
		return invalidSpec("published ports of a pod member are set on the pod (pod create -p); a container in a pod cannot publish its own")
	}
	if engine.NoPortsToPublish(cfg.NS(model.NSNet).Mode) && len(nc.Ports) > 0 {
		nc.Ports = nil // dropped, as podman's service drops them (its client warns)
	}
	ports := make([]int, 0, len(sp.Expose))
	for p := range sp.Expose {
		ports = append(ports, int(p))
	}
	sort.Ints(ports)
	for _, p := range ports {
		protos := sp.Expose[uint16(p)]
		if protos == "" {
			protos = "tcp"
		}
		for _, proto := range strings.Split(protos, ",") {
			if p == 0 || (proto != "tcp" && proto != "udp" && proto != "sctp") {
				return invalidSpec("invalid --expose %d/%s", p, proto)
			}
			o.Expose = append(o.Expose, model.PortMapping{ContainerPort: uint16(p), Protocol: proto, Range: 1})
		}
	}
	return nil
}

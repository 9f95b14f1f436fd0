package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

// lease is one host-local address file of a container.
type lease struct{ network, ifname, ip string }

// leases finds a container's host-local leases: files runDir/ipam/<network>/<ip> holding
// "<container ID>\r\n<ifname>".
func (m *Manager) leases(containerID string) []lease {
	files, _ := filepath.Glob(filepath.Join(m.ipamDir(), "*", "*"))
	var out []lease
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil || len(data) > 512 {
			continue
		}
		id, ifname, ok := strings.Cut(string(data), "\r\n")
		if ok && strings.TrimSpace(id) == containerID {
			out = append(out, lease{filepath.Base(filepath.Dir(f)), strings.TrimSpace(ifname), filepath.Base(f)})
		}
	}
	return out
}

// leaseResult stands in for the CNI result a lost attachment never cached: the firewall
// plugin finds the rules to delete through the addresses of its previous result. ls are the
// attachment's leases, one per subnet it got an address in.
func leaseResult(n *Network, ls []lease, netns string) map[string]any {
	var ips []any
	for _, l := range ls {
		addr := l.ip
		for _, s := range n.Subnets {
			if p, err := netip.ParsePrefix(s.Subnet); err == nil {
				if a, err := netip.ParseAddr(l.ip); err == nil && p.Contains(a) {
					addr = netip.PrefixFrom(a, p.Bits()).String()
				}
			}
		}
		ips = append(ips, map[string]any{"address": addr, "interface": 0})
	}
	return map[string]any{
		"cniVersion": cniVersion,
		"interfaces": []any{map[string]any{"name": ls[0].ifname, "sandbox": netns}},
		"ips":        ips,
	}
}

// capabilityArgs are what libcni hands, as runtimeConfig, to the plugins that declare the
// capability: portMappings to portmap, mac to tuning, ips to host-local through the bridge.
func capabilityArgs(o AttachOptions, ports, mac bool, ips []string) map[string]any {
	caps := map[string]any{}
	if ports && len(o.Ports) > 0 {
		caps["portMappings"] = o.Ports
	}
	if mac && o.StaticMAC != "" {
		caps["mac"] = o.StaticMAC
	}
	if len(ips) > 0 {
		caps["ips"] = ips
	}
	return caps
}

// cniArgs are CNI_ARGS; K8S_POD_NAME-style keys are not needed, but the container's name
// helps whoever reads plugin logs. IgnoreUnknown keeps plugins from refusing it.
func cniArgs(o AttachOptions) [][2]string {
	if o.ContainerName == "" {
		return nil
	}
	return [][2]string{{"IgnoreUnknown", "1"}, {"PEA_CONTAINER_NAME", o.ContainerName}}
}

// add runs ADD for one network and publishes the ports rt's capability arguments hold; when
// either fails, it runs DEL so the plugins that succeeded undo their work. The ports stay in the
// capability arguments, which libcni caches: Teardown and UpdatePorts find them there.
func (m *Manager) add(ctx context.Context, n *Network, rt *libcni.RuntimeConf) (Status, error) {
	_, wantMAC := rt.CapabilityArgs["mac"]
	staticIPs, _ := rt.CapabilityArgs["ips"].([]string)
	list, err := m.runtimeList(n.Name, nil, wantMAC, staticIPs)
	if err != nil {
		return Status{}, fmt.Errorf("network %s: %w", n.Name, err)
	}
	if n.Driver == "bridge" && !n.Internal {
		if err := enableForwarding(n.IPv6Enabled); err != nil {
			return Status{}, err
		}
	}
	if n.Driver == "bridge" && n.IPv6Enabled {
		if err := makeBridgeNoDAD(n.NetworkInterface, n.mtu()); err != nil {
			return Status{}, fmt.Errorf("network %s: %w", n.Name, err)
		}
	}
	res, err := m.cniConfig().AddNetworkList(ctx, list, rt)
	if err != nil {
		m.del(context.WithoutCancel(ctx), n.Name, nil, withoutPorts(rt))
		return Status{}, fmt.Errorf("network %s: attach %s: %w", n.Name, rt.IfName, err)
	}
	st, err := status(n.Name, rt, res)
	if err == nil {
		if ports := capPorts(rt.CapabilityArgs); len(ports) > 0 {
			err = m.publishPorts(n, rt.ContainerID, resultTargets(res, rt.IfName), ports)
		}
	}
	if err != nil {
		m.del(context.WithoutCancel(ctx), n.Name, nil, withoutPorts(rt)) // publishPorts left no rules
		return Status{}, err
	}
	return st, nil
}

// withoutPorts is rt without port mappings, for a DEL that need not look for published ports.
func withoutPorts(rt *libcni.RuntimeConf) *libcni.RuntimeConf {
	if _, ok := rt.CapabilityArgs["portMappings"]; !ok {
		return rt
	}
	c := *rt
	c.CapabilityArgs = map[string]any{}
	for k, v := range rt.CapabilityArgs {
		if k != "portMappings" {
			c.CapabilityArgs[k] = v
		}
	}
	return &c
}

// del runs DEL for one network with the config it was attached with. With config nil it uses
// the current conflist; libcni then gives the plugins the cached result if there is one, and
// otherwise one rebuilt from the attachment's host-local lease, if there is one.
func (m *Manager) del(ctx context.Context, name string, config []byte, rt *libcni.RuntimeConf) error {
	var list *libcni.NetworkConfigList
	var err, portsErr error
	if config != nil {
		list, err = libcni.ConfListFromBytes(config)
	} else {
		var n *Network
		if n, err = m.Get(name); err == nil {
			var prev map[string]any
			var mine []lease
			for _, l := range m.leases(rt.ContainerID) {
				if l.network == n.Name && l.ifname == rt.IfName {
					mine = append(mine, l)
				}
			}
			if len(mine) > 0 {
				prev = leaseResult(n, mine, rt.NetNS)
			}
			list, err = m.runtimeList(n.Name, prev, true, nil)
		}
	}
	if err == nil {
		// Published ports first: their rules are found through the cached result, which DEL
		// removes. An attachment cached with portmap in its list leaves them to portmap.
		if ports := capPorts(rt.CapabilityArgs); len(ports) > 0 && !listHasPortmap(list) {
			var targets []portTarget
			if res, rerr := m.cniConfig().GetNetworkListCachedResult(list, rt); rerr == nil {
				targets = resultTargets(res, rt.IfName)
			}
			portsErr = m.unpublishPorts(list.Name, rt.ContainerID, targets, ports)
		}
		_, nsErr := os.Stat(rt.NetNS)
		err = m.cniConfig().DelNetworkList(ctx, list, rt)
		if err == nil && nsErr != nil {
			// Without the namespace the plugins cannot reach the interface, and leave what
			// they find through it: the masquerade rules of an attachment made with the bridge
			// plugin's ipMasq (older pea), and tuning's record of the interface's settings.
			if bridgeMasquerades(list) {
				err = sweepMasquerade(list.Name, rt.ContainerID)
			}
			os.Remove(filepath.Join(m.tuningDir(), rt.ContainerID+"_"+rt.IfName+".json"))
		}
		err = errors.Join(portsErr, err)
	}
	if err != nil {
		return fmt.Errorf("network %s: detach %s: %w", name, rt.IfName, err)
	}
	return nil
}

// bridgeMasquerades reports whether a list's bridge plugin does outbound NAT itself (ipMasq),
// as attachments made by pea before its per-network rules did.
func bridgeMasquerades(list *libcni.NetworkConfigList) bool {
	for _, p := range list.Plugins {
		if p.Network.Type != "bridge" {
			continue
		}
		var conf struct {
			IPMasq bool `json:"ipMasq"`
		}
		if json.Unmarshal(p.Bytes, &conf) == nil && conf.IPMasq {
			return true
		}
	}
	return false
}

func listHasPortmap(list *libcni.NetworkConfigList) bool { return findPlugin(list, "portmap") != nil }

// findPlugin returns the last plugin of a list of the given type, or nil.
func findPlugin(list *libcni.NetworkConfigList, typ string) *libcni.NetworkConfig {
	var found *libcni.NetworkConfig
	for _, p := range list.Plugins {
		if p.Network.Type == typ {
			found = p
		}
	}
	return found
}

// status picks, from a CNI result, the interface inside the namespace and its first address of
// each family.
func status(network string, rt *libcni.RuntimeConf, res types.Result) (Status, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return Status{}, fmt.Errorf("network %s: %w", network, err)
	}
	st := Status{Network: network, Interface: rt.IfName}
	idx := -1
	for i, ifc := range r.Interfaces {
		if ifc.Sandbox != "" && ifc.Name == rt.IfName {
			idx, st.MAC = i, ifc.Mac
		}
	}
	for _, ip := range r.IPs {
		if ip.Interface != nil && *ip.Interface != idx && idx >= 0 {
			continue
		}
		addr, ones, gw := &st.IP, &st.PrefixLen, &st.Gateway
		if ip.Address.IP.To4() == nil {
			addr, ones, gw = &st.IPv6, &st.IPv6PrefixLen, &st.IPv6Gateway
		}
		if *addr != "" {
			continue
		}
		*addr = ip.Address.IP.String()
		*ones, _ = ip.Address.Mask.Size()
		if ip.Gateway != nil {
			*gw = ip.Gateway.String()
		}
	}
	if st.IP == "" && st.IPv6 == "" {
		return st, fmt.Errorf("network %s: the CNI result has no address for %s", network, rt.IfName)
	}
	return st, nil
}

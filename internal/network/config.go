package network

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/containernetworking/cni/libcni"
)

// cniVersion is the spec version written into conflists; Debian 12's plugins (1.1.1) speak 1.0.0.
const cniVersion = "1.0.0"

// mainPlugin is the first plugin of a pea conflist: the one that creates the interface and
// calls IPAM. Field order is the order a reader of the file sees.
type mainPlugin struct {
	Type         string          `json:"type"`
	Bridge       string          `json:"bridge,omitempty"`
	Master       string          `json:"master,omitempty"`
	Mode         string          `json:"mode,omitempty"`
	IsGateway    bool            `json:"isGateway,omitempty"`
	IPMasq       bool            `json:"ipMasq,omitempty"`
	HairpinMode  bool            `json:"hairpinMode,omitempty"`
	MTU          int             `json:"mtu,omitempty"`
	Vlan         int             `json:"vlan,omitempty"`
	IPAM         ipamConf        `json:"ipam"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
	Args         struct {
		Pea peaArgs `json:"pea"`
	} `json:"args"`
}

type ipamConf struct {
	Type   string        `json:"type"`
	Ranges [][]ipamRange `json:"ranges"`
	Routes []ipamRoute   `json:"routes,omitempty"`
}

type ipamRange struct {
	Subnet     string `json:"subnet"`
	Gateway    string `json:"gateway,omitempty"`
	RangeStart string `json:"rangeStart,omitempty"`
	RangeEnd   string `json:"rangeEnd,omitempty"`
}

type ipamRoute struct {
	Dst string `json:"dst"`
	GW  string `json:"gw,omitempty"`
}

// peaArgs are pea's own fields, kept in the "args" dictionary the CNI spec reserves for the
// runtime; plugins ignore them.
type peaArgs struct {
	ID       string    `json:"id"`
	Created  time.Time `json:"created"`
	Internal bool      `json:"internal,omitempty"`
	NoDNS    bool      `json:"noDNS,omitempty"` // made with --disable-dns
	// DNSServers are the network's upstream DNS servers (network_dns_servers).
	DNSServers []string          `json:"dnsServers,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Options    map[string]string `json:"options,omitempty"`
	Routes     []Route           `json:"routes,omitempty"`
}

type simplePlugin struct {
	Type         string          `json:"type"`
	Backend      string          `json:"backend,omitempty"`
	Capabilities map[string]bool `json:"capabilities,omitempty"`
}

type confList struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

// networkID derives a network's ID from its name, as podman's CNI backend did.
func networkID(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:])
}

// mtu is the network's "mtu" option, 0 when it has none.
func (n *Network) mtu() int {
	mtu := 0
	if s := n.Options["mtu"]; s != "" {
		fmt.Sscan(s, &mtu)
	}
	return mtu
}

// bridgeVLANFiltering reports whether this kernel's bridges filter VLANs (a bridge's
// vlan_filtering attribute), which the bridge plugin's vlan needs: without it a network's vlan
// option is kept but not applied (the plugin would fail every attachment), as netavark 1.4,
// podman's here, leaves it.
func bridgeVLANFiltering() bool {
	m, _ := filepath.Glob("/sys/class/net/*/bridge/vlan_filtering")
	return len(m) > 0
}

// conflistBytes renders n as a conflist. The plugin order matters for rollback: tuning runs
// before portmap and firewall, and firewall last, so that a failed ADD leaves at most the
// failing plugin's own work behind (firewall's DEL needs the cached result, which a failed
// ADD never writes).
func conflistBytes(n *Network) ([]byte, error) {
	main := mainPlugin{Type: n.Driver, IPAM: ipamConf{Type: "host-local"}}
	main.Args.Pea = peaArgs{ID: n.ID, Created: n.Created, Internal: n.Internal, Labels: n.Labels, NoDNS: !n.DNSEnabled && n.Name != DefaultName, DNSServers: n.NetworkDNSServers, Routes: n.Routes}
	opts := map[string]string{}
	for k, v := range n.Options {
		opts[k] = v
	}
	switch n.Driver {
	case "bridge":
		main.Bridge = n.NetworkInterface
		main.IsGateway = !n.Internal
		main.IPMasq = false // pea does outbound NAT per network (masq_net.go)
		main.HairpinMode = true
	default:
		main.Master = n.NetworkInterface
		main.Mode = opts["mode"]
	}
	main.MTU = n.mtu()
	if s := n.Options["vlan"]; s != "" && n.Driver == "bridge" && bridgeVLANFiltering() {
		fmt.Sscan(s, &main.Vlan)
	}
	if len(opts) > 0 {
		main.Args.Pea.Options = opts
	}
	main.Capabilities = map[string]bool{"ips": true}
	var ranges []ipamRange
	for _, s := range n.Subnets {
		r := ipamRange{Subnet: s.Subnet, Gateway: s.Gateway}
		if s.LeaseRange != nil {
			r.RangeStart, r.RangeEnd = s.LeaseRange.StartIP, s.LeaseRange.EndIP
		}
		ranges = append(ranges, r)
		if noDefault := n.Options["no_default_route"]; !n.Internal && noDefault != "true" && noDefault != "1" {
			dst := "0.0.0.0/0"
			if p, err := netip.ParsePrefix(s.Subnet); err == nil && p.Addr().Is6() {
				dst = "::/0"
			}
			if !slices.Contains(main.IPAM.Routes, ipamRoute{Dst: dst}) { // one default route per family
				main.IPAM.Routes = append(main.IPAM.Routes, ipamRoute{Dst: dst})
			}
		}
	}
	for _, r := range n.Routes {
		main.IPAM.Routes = append(main.IPAM.Routes, ipamRoute{Dst: r.Destination, GW: r.Gateway})
	}
	// One range set per subnet: host-local then hands out one address from each.
	for _, r := range ranges {
		main.IPAM.Ranges = append(main.IPAM.Ranges, []ipamRange{r})
	}

	plugins := []any{main}
	if n.Driver != "ipvlan" { // an ipvlan slave shares its master's MAC and cannot change it
		plugins = append(plugins, simplePlugin{Type: "tuning", Capabilities: map[string]bool{"mac": true}})
	}
	if n.Driver == "bridge" && !n.Internal {
		// No firewall plugin: pea keeps the forwarding rules per network (masq_net.go).
		plugins = append(plugins, simplePlugin{Type: "portmap", Capabilities: map[string]bool{"portMappings": true}})
	}
	return json.MarshalIndent(confList{CNIVersion: cniVersion, Name: n.Name, Plugins: plugins}, "", "  ")
}

// parseConflist reads a network back from its conflist bytes. A conflist pea did not write is
// accepted when its first plugin is a bridge, macvlan or ipvlan with host-local IPAM.
func parseConflist(data []byte, modTime time.Time) (*Network, error) {
	var raw struct {
		Name    string            `json:"name"`
		Plugins []json.RawMessage `json:"plugins"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw.Name == "" || len(raw.Plugins) == 0 {
		return nil, fmt.Errorf("no name or no plugins")
	}
	var main mainPlugin
	if err := json.Unmarshal(raw.Plugins[0], &main); err != nil {
		return nil, err
	}
	a := main.Args.Pea
	n := &Network{
		Name: raw.Name, ID: a.ID, Driver: main.Type, Created: a.Created,
		Internal: a.Internal, Labels: a.Labels, Options: a.Options, NetworkDNSServers: a.DNSServers, Routes: a.Routes,
		DNSEnabled:  raw.Name != DefaultName && !a.NoDNS, // podman's: the default network names no one
		IPAMOptions: map[string]string{"driver": main.IPAM.Type},
	}
	switch main.Type {
	case "bridge":
		n.NetworkInterface = main.Bridge
	case "macvlan", "ipvlan":
		n.NetworkInterface = main.Master
	default:
		return nil, fmt.Errorf("unsupported plugin type %q", main.Type)
	}
	if n.ID == "" {
		n.ID = networkID(n.Name)
	}
	if n.Created.IsZero() {
		n.Created = modTime
	}
	for _, set := range main.IPAM.Ranges {
		for _, r := range set {
			s := Subnet{Subnet: r.Subnet, Gateway: r.Gateway}
			if r.RangeStart != "" || r.RangeEnd != "" {
				s.LeaseRange = &LeaseRange{StartIP: r.RangeStart, EndIP: r.RangeEnd}
			}
			if p, err := netip.ParsePrefix(r.Subnet); err == nil && p.Addr().Is6() {
				n.IPv6Enabled = true
			}
			n.Subnets = append(n.Subnets, s)
		}
	}
	return n, nil
}

// runtimeList loads a network's conflist as pea runs it, and points the plugins' state at this
// store's runDir: host-local's leases at runDir/ipam and tuning's backups at runDir/tuning. A
// non-nil prevResult is given to every plugin; libcni passes it through when it has no cached
// result.
//
// Plugins whose work pea does itself are left out: the firewall plugin (older conflists list
// it; pea's per-network rules replace it, masq_net.go) and portmap (conflists list it, as
// podman's do; pea publishes ports itself, hostports.go). With idleTuning false, a tuning
// plugin that would do nothing (no MAC asked for, and nothing in its configuration but its
// capabilities) is left out too: it is one plugin process (3-5 ms of CPU) less per attachment.
// DEL then uses the list ADD cached, without them.
func (m *Manager) runtimeList(name string, prevResult map[string]any, idleTuning bool, staticIPs []string) (*libcni.NetworkConfigList, error) {
	data, err := os.ReadFile(m.confPath(name))
	if err != nil {
		return nil, err
	}
	var list map[string]any
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", m.confPath(name), err)
	}
	plugins, _ := list["plugins"].([]any)
	kept := plugins[:0]
	for _, p := range plugins {
		if pm, ok := p.(map[string]any); ok && (pm["type"] == "firewall" || pm["type"] == "portmap") {
			continue
		}
		if pm, ok := p.(map[string]any); ok && pm["type"] == "tuning" && !idleTuning && tuningIdle(pm) {
			continue
		}
		kept = append(kept, p)
	}
	plugins = kept
	list["plugins"] = plugins
	for _, p := range plugins {
		pm, ok := p.(map[string]any)
		if !ok {
			continue
		}
		if ipam, ok := pm["ipam"].(map[string]any); ok && ipam["type"] == "host-local" {
			ipam["dataDir"] = m.ipamDir()
			if len(staticIPs) > 0 {
				wholeSubnets(ipam, staticIPs)
			}
		}
		if pm["type"] == "tuning" {
			pm["dataDir"] = m.tuningDir()
		}
		if pm["type"] == "bridge" {
			pm["ipMasq"] = false // pea does outbound NAT per network, also for older conflists
			if internalWithDNS(pm) {
				// The bridge keeps its gateway address, where aardvark-dns listens (dns.go),
				// as podman's internal networks do; no route leads out (no default route).
				pm["isGateway"] = true
			}
		}
		if prevResult != nil {
			pm["prevResult"] = prevResult
		}
	}
	out, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	return libcni.ConfListFromBytes(out)
}

// wholeSubnets lets host-local give an address anywhere in its range's subnet when the
// container asks for one there (ips, "ADDR/PREFIX" or "ADDR"): an --ip-range (rangeStart,
// rangeEnd) bounds the addresses it picks, not one asked for, as with podman's netavark. The
// ranges of the other subnets (another family's) keep their bounds for what they pick. The
// leases of both kinds live in the same directory, so a static address is still refused while
// a picked one holds it.
func wholeSubnets(ipam map[string]any, ips []string) {
	var want []netip.Addr
	for _, s := range ips {
		if p, err := netip.ParsePrefix(s); err == nil {
			want = append(want, p.Addr())
		} else if a, err := netip.ParseAddr(s); err == nil {
			want = append(want, a)
		}
	}
	sets, _ := ipam["ranges"].([]any)
	for _, set := range sets {
		ranges, _ := set.([]any)
		for _, r := range ranges {
			rm, ok := r.(map[string]any)
			if !ok {
				continue
			}
			sub, _ := rm["subnet"].(string)
			subnet, err := netip.ParsePrefix(sub)
			if err != nil || !slices.ContainsFunc(want, subnet.Contains) {
				continue
			}
			delete(rm, "rangeStart")
			delete(rm, "rangeEnd")
		}
	}
}

// internalWithDNS reports whether a bridge plugin's configuration is an internal network's
// that names its containers (pea's args).
func internalWithDNS(pm map[string]any) bool {
	args, _ := pm["args"].(map[string]any)
	a, _ := args["pea"].(map[string]any)
	internal, _ := a["internal"].(bool)
	noDNS, _ := a["noDNS"].(bool)
	return internal && !noDNS
}

// tuningIdle reports whether a tuning plugin's configuration asks for nothing but the MAC
// capability, so that it does nothing when no MAC is given.
func tuningIdle(pm map[string]any) bool {
	for k := range pm {
		switch k {
		case "type", "capabilities", "name", "cniVersion":
		default:
			return false
		}
	}
	return true
}

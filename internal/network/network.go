// Package network gives containers their network: networks stored as CNI network configuration
// lists, network namespaces pinned by bind mounts, and the CNI ADD/DEL calls that attach a
// namespace to one or more networks and detach it again. It knows nothing of pods, containers'
// records or the engine; the engine hands it a container ID and a namespace path.
//
// On disk:
//
//	configDir/                      persistent (under --root); any CNI tool can read it
//	    <name>.conflist             one network: bridge|macvlan|ipvlan + host-local IPAM
//	                                (one range set per subnet: an address of each; IPv4 and
//	                                IPv6 ones make a dual-stack network), tuning, portmap
//	                                (never run: hostports.go); pea's own fields (ID, labels,
//	                                options, created, internal) under the first plugin's "args.pea"
//	runDir/                         per store, under --runroot (tmpfs, wiped at boot)
//	    network.lock                flock held while networks are created or removed
//	    netns/<name>                network namespaces, pinned by a bind mount of nsfs
//	    ipam/<network>/<ip>         host-local leases (injected as ipam.dataDir at run time)
//	    tuning/                     tuning plugin's backups of interface settings
//	    cni-cache/results/<network>-<container>-<ifname>
//	                                libcni's cache: config, runtime args (ports) and result of
//	                                each attachment; DEL, Connect and CheckPorts read it
//	/var/lib/pea-host/network-claims
//	                                host-wide, every store's: the bridge names and subnets
//	                                bridge networks claim (claims.go draws it)
//
// The conflists hold no per-store paths: dataDir settings are injected when a network is used,
// so two throw-away stores never share IPAM state through a conflist.
//
// Run Teardown before RemoveNetNS: the bridge plugin finds the masquerade rules to delete through
// the addresses on the container's interface. When the namespace is already gone, Teardown falls
// back to sweeping those rules by their comment, which costs two more iptables calls.
package network

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// DefaultName is the name of the network used when a container names none.
const DefaultName = "pea"

// PodmanDefaultName is podman's default network's name, which finds pea's (Manager.Get): a
// script written for podman that names it (--network podman, network inspect podman) runs.
const PodmanDefaultName = "podman"

// Network is one network as `pea network inspect` shows it; the JSON names follow podman's.
type Network struct {
	Name             string    `json:"name"`
	ID               string    `json:"id"`
	Driver           string    `json:"driver"`
	NetworkInterface string    `json:"network_interface"`
	Created          time.Time `json:"created"`
	Subnets          []Subnet  `json:"subnets"`
	IPv6Enabled      bool      `json:"ipv6_enabled"`
	Internal         bool      `json:"internal"`
	DNSEnabled       bool      `json:"dns_enabled"`
	// NetworkDNSServers are where aardvark-dns sends the questions of the network's
	// containers it cannot answer (create --dns, network update); none: the host's resolvers.
	NetworkDNSServers []string          `json:"network_dns_servers,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
	// Routes are the static routes its containers get (create --route, podman 5's).
	Routes []Route `json:"routes,omitempty"`
	// IPAMOptions name the address manager ({"driver": "host-local"}), as podman shows it.
	IPAMOptions map[string]string `json:"ipam_options,omitempty"`
}

// Route is a static route of a network's containers: to Destination (a CIDR) through Gateway.
type Route struct {
	Destination string  `json:"destination"`
	Gateway     string  `json:"gateway"`
	Metric      *uint32 `json:"metric,omitempty"` // podman's; pea refuses one (parseRoute)
}

// Subnet is one address range of a network.
type Subnet struct {
	Subnet     string      `json:"subnet"`
	Gateway    string      `json:"gateway,omitempty"`
	LeaseRange *LeaseRange `json:"lease_range,omitempty"`
}

// LeaseRange narrows the addresses handed out inside a subnet.
type LeaseRange struct {
	StartIP string `json:"start_ip"`
	EndIP   string `json:"end_ip"`
}

// CreateOptions are the settings of `pea network create`.
type CreateOptions struct {
	Name   string // empty: "peaN", the first free N >= 1
	Driver string // "bridge" (default), "macvlan" or "ipvlan"
	// Subnets are CIDRs of either family, several allowed (host-local gives a container one
	// address from each); none: the first free /24 from 10.90.1.0 upward (chooseSubnets).
	Subnets []string
	// Gateways and IPRanges belong to the subnet at the same index, as podman's repeated
	// --gateway and --ip-range: a gateway empty or missing is the subnet's first address, an
	// IP range (CIDR or "start-end") narrows the addresses handed out.
	Gateways []string
	IPRanges []string
	// IPv6 makes the network dual stack: an IPv4 and an IPv6 subnet, each chosen when none of
	// its family is given. An IPv6 subnet given without it makes the network IPv6 too.
	IPv6   bool
	Parent string // macvlan/ipvlan master; empty: the interface of the default route
	// NetworkInterface names the bridge; empty: "peaN", the first name no network of this store
	// uses, no other store's network claims (claims.go) and no link of the host has.
	NetworkInterface string
	Internal         bool
	DisableDNS       bool // containers on it do not find each other by name
	// DNSServers are the network's upstream DNS servers (--dns): aardvark-dns asks them, not
	// the host's resolvers, what its containers ask of other names.
	DNSServers []string
	Labels     map[string]string
	// Routes are --route's DESTINATION,GATEWAY (podman 5's; its third field, a metric, is
	// refused: the CNI plugins here set none).
	Routes []string
	// Options: "mtu" (all drivers), "mode" (macvlan: bridge|private|vepa|passthru,
	// ipvlan: l2|l3|l3s), "no_default_route" (podman 5's).
	Options map[string]string
	// pools are the manager's subnet pools (SetDefaults), for chooseSubnets.
	pools []SubnetPool
}

// Manager reads and writes networks in configDir and attaches namespaces to them, keeping its
// run-time state in runDir. It is safe for concurrent use; network creation and removal are
// also serialized across processes.
type Manager struct {
	configDir  string
	runDir     string
	pluginDirs []string
	// claimDir is the host-wide claim registry (claims.go); empty: hostClaimDir. Only tests
	// of this package set another.
	claimDir string

	once sync.Once
	cni  *libcni.CNIConfig
	// workNS, when set, gives the network namespace the manager works in (within.go).
	workNS func() (string, error)
	// rootlessMu guards rootlessPath, the rootless network namespace once ensured.
	rootlessMu   sync.Mutex
	rootlessPath string
	// defaultSubnet is the default network's subnet when it is made ("": chosen), pools
	// where other networks' IPv4 subnets are chosen (nil: pea's range): SetDefaults.
	defaultSubnet string
	pools         []SubnetPool
	// helperDirs are where helper programs (aardvark-dns) are looked for first: containers.conf's
	// helper_binaries_dir.
	helperDirs []string
}

// SetHelperDirs names the directories where helper programs are looked for first.
func (m *Manager) SetHelperDirs(dirs []string) { m.helperDirs = dirs }

// SetDefaults gives the subnet of the default network when it is first made and the pools new
// networks' subnets are chosen from (containers.conf's default_subnet and default_subnet_pools).
func (m *Manager) SetDefaults(defaultSubnet string, pools []SubnetPool) {
	m.defaultSubnet, m.pools = defaultSubnet, pools
}

// NewManager returns a Manager; it does no I/O until used.
func NewManager(configDir, runDir string, pluginDirs []string) *Manager {
	if len(pluginDirs) == 0 {
		pluginDirs = []string{"/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"}
	}
	return &Manager{configDir: configDir, runDir: runDir, pluginDirs: pluginDirs}
}

func (m *Manager) cniConfig() *libcni.CNIConfig {
	m.once.Do(func() {
		exec := &pluginExec{invoke.DefaultExec{RawExec: &invoke.RawExec{}, PluginDecoder: version.PluginDecoder{}}}
		m.cni = libcni.NewCNIConfigWithCacheDir(m.pluginDirs, m.cacheDir(), exec)
	})
	return m.cni
}

func (m *Manager) cacheDir() string            { return filepath.Join(m.runDir, "cni-cache") }
func (m *Manager) ipamDir() string             { return filepath.Join(m.runDir, "ipam") }
func (m *Manager) netnsDir() string            { return filepath.Join(m.runDir, "netns") }
func (m *Manager) confPath(name string) string { return filepath.Join(m.configDir, name+".conflist") }
func (m *Manager) tuningDir() string           { return filepath.Join(m.runDir, "tuning") }
func (m *Manager) lockPath() string            { return filepath.Join(m.runDir, "network.lock") }

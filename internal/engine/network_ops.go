package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/trace"
)

// NetworkCreate makes a network.
func (r *Runtime) NetworkCreate(o network.CreateOptions) (*network.Network, error) {
	n, err := r.networks().Create(o)
	if err == nil {
		r.networkEvent("create", n.ID, n.Name, n.Labels)
	}
	return n, err
}

// NetworkList returns every network, the default one included (it is created on first use).
func (r *Runtime) NetworkList() ([]*network.Network, error) {
	if _, err := r.networks().Default(); err != nil {
		return nil, err
	}
	return r.networks().List()
}

// NetworkInspect finds a network by name or ID.
func (r *Runtime) NetworkInspect(name string) (*network.Network, error) {
	if name == network.DefaultName {
		return r.networks().Default()
	}
	return r.networks().Get(name)
}

// NetworkUsers lists the containers attached to a network (by config).
func (r *Runtime) NetworkUsers(name string) ([]*model.Container, error) { return r.networkUsers(name) }

// networkUsers lists the containers attached to a network (by config).
func (r *Runtime) networkUsers(name string) ([]*model.Container, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	cs, err := st.ListContainers("", "")
	if err != nil {
		return nil, err
	}
	var out []*model.Container
	for _, c := range cs {
		if c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
			continue
		}
		nets := c.Config.Network.Networks
		if len(nets) == 0 {
			nets = []string{network.DefaultName}
		}
		for _, n := range nets {
			if n == name {
				out = append(out, c)
				break
			}
		}
	}
	return out, nil
}

// NetworkRemove deletes a network; refused while containers use it unless force removes them.
func (r *Runtime) NetworkRemove(ctx context.Context, name string, force bool) error {
	return r.NetworkRemoveTimeout(ctx, name, force, nil)
}

// NetworkRemoveTimeout is NetworkRemove whose forced removal stops the containers and pods on
// the network within timeout seconds (nil: their own stop timeouts).
func (r *Runtime) NetworkRemoveTimeout(ctx context.Context, name string, force bool, timeout *uint) error {
	return r.removeNetwork(ctx, name, force, timeout, false)
}

// NetworkRemoveAny removes a network and the containers and pods on it, the default network
// too (for system reset).
func (r *Runtime) NetworkRemoveAny(ctx context.Context, name string) error {
	return r.removeNetwork(ctx, name, true, new(uint), true)
}

// IsDefaultNetwork reports whether network name is the one containers join when they name
// none: pea's own, or containers.conf's default_network. It cannot be removed, as podman's.
func (r *Runtime) IsDefaultNetwork(name string) bool {
	return name == network.DefaultName || name == r.conf().Network.DefaultNetworkName()
}

func (r *Runtime) removeNetwork(ctx context.Context, name string, force bool, timeout *uint, anyNetwork bool) error {
	n, err := r.networks().Get(name)
	if errors.Is(err, errdefs.ErrNotFound) {
		r.networks().SweepOrphanChains(name) // a removal killed half-way (network's removeHere)
	}
	if err != nil {
		return err
	}
	if !anyNetwork && r.IsDefaultNetwork(n.Name) {
		return errdefs.Errorf(errdefs.ErrInvalid, "default network %s cannot be removed", n.Name)
	}
	users, err := r.networkUsers(n.Name)
	if err != nil {
		return err
	}
	if len(users) > 0 && !force {
		// podman's words (the container is pea's addition)
		return errdefs.Errorf(errdefs.ErrInUse, "%q has associated containers with it (%s). Use -f to forcibly delete containers and pods: network is being used", n.Name, users[0].Config.Name)
	}
	for _, c := range users {
		if c.Config.IsInfra {
			if err := r.RemovePod(ctx, c.Config.Pod, PodRemoveOptions{Force: true, Ignore: true, Timeout: timeout}); err != nil {
				return err
			}
			continue
		}
		if err := r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Force: true, Ignore: true, Timeout: timeout}); err != nil {
			return err
		}
	}
	if err := r.networks().Remove(n.Name); err != nil {
		return err
	}
	r.dropDNS(n.Name)
	r.networkEvent("remove", n.ID, n.Name, n.Labels)
	return nil
}

// NetworkReleaseClaims gives up every host-wide claim (bridge names, subnets) that names a
// network of this store, the networks' own removal having released theirs: for `system reset`,
// after which nothing of the store may hold a name another store could use.
func (r *Runtime) NetworkReleaseClaims() error { return r.networks().ReleaseClaims() }

// NetworkPrune removes every network no container uses (the default one stays).
func (r *Runtime) NetworkPrune(ctx context.Context, f PruneFilter) ([]string, error) {
	ns, err := r.networks().List()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range ns {
		if r.IsDefaultNetwork(n.Name) || !f.Matches(n.Labels, n.Created) {
			continue
		}
		if users, _ := r.networkUsers(n.Name); len(users) > 0 {
			continue
		}
		if err := r.networks().Remove(n.Name); err == nil {
			r.dropDNS(n.Name)
			r.networkEvent("remove", n.ID, n.Name, n.Labels)
			out = append(out, n.Name)
		}
	}
	return out, nil
}

// NetworkConnect attaches a running container to one more network.
func (r *Runtime) NetworkConnect(ctx context.Context, netName, ctr string, o ConnectOptions) error {
	return r.changeNetwork(ctx, netName, ctr, true, o)
}

// ConnectOptions qualify a network connect.
type ConnectOptions struct {
	Aliases []string // further names of the container on the network
	// Only makes the network the only one of a container that is not running and has none
	// configured but the implicit default (the API's disconnect of a created container's
	// last network, then its connect: Docker's way of giving it aliases).
	Only bool
	// IP, IP6 and MAC are the container's static addresses on the network (network connect
	// --ip, --ip6, --mac-address), kept for its next starts.
	IP, IP6, MAC string
	force        bool // a disconnect whatever fails (NetworkDisconnect)
}

// NetworkDisconnect detaches a container from a network. With force (podman's --force) the
// container leaves the network even when its teardown fails, its attachment is no longer in
// the network's records, or the network itself is gone: what can be torn down is, the rest is
// forgotten, and the failure is only logged.
func (r *Runtime) NetworkDisconnect(ctx context.Context, netName, ctr string, force bool) error {
	return r.changeNetwork(ctx, netName, ctr, false, ConnectOptions{force: force})
}

func (r *Runtime) changeNetwork(ctx context.Context, netName, ctr string, connect bool, o ConnectOptions) error {
	n, err := r.NetworkInspect(netName)
	if err != nil && o.force && errdefs.Is(err, errdefs.ErrNotFound) {
		n, err = &network.Network{Name: netName}, nil // gone: the containers that name it may leave it
	}
	if err != nil {
		return err
	}
	netName = n.Name // given by ID prefix, or as "podman"
	l, c, err := r.lookupAndLock(ctr)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
		return fmt.Errorf("container %s does not own a bridge network namespace (it shares another's or uses host/none): %w", c.Config.Name, errdefs.ErrInvalid)
	}
	if err := validateAliases(o.Aliases); err != nil {
		return err
	}
	addr := model.NetworkAddr{IP: o.IP, IP6: o.IP6, MAC: o.MAC}
	for i, a := range []string{addr.IP, addr.IP6} {
		if a == "" {
			continue
		}
		ip := net.ParseIP(a)
		if ip == nil {
			return fmt.Errorf("invalid IP address %q: %w", a, errdefs.ErrInvalid)
		}
		if i == 1 && (ip.To4() != nil || addr.IP != "" && net.ParseIP(addr.IP).To4() == nil) {
			return fmt.Errorf("the static IPs on network %s are one IPv4 and one IPv6 address (%s, %s): %w", n.Name, addr.IP, addr.IP6, errdefs.ErrInvalid)
		}
		if inSubnets([]*network.Network{n}, ip) != nil {
			return fmt.Errorf("IP address %s is not in a subnet of network %s: %w", a, n.Name, errdefs.ErrInvalid)
		}
	}
	if addr.MAC != "" {
		if _, err := net.ParseMAC(addr.MAC); err != nil {
			return fmt.Errorf("invalid MAC address %q: %w", addr.MAC, errdefs.ErrInvalid)
		}
	}
	nets := c.Config.Network.Networks
	if o.Only && (len(nets) > 0 || c.State.NetNS != "") {
		return fmt.Errorf("container %s has networks or is running: the network cannot be its only one: %w", c.Config.Name, errdefs.ErrInvalid)
	}
	if len(nets) == 0 && !o.Only {
		nets = []string{network.DefaultName}
	}
	has := false
	for _, n := range nets {
		if n == netName {
			has = true
		}
	}
	if connect == has {
		if connect {
			return fmt.Errorf("container %s is already connected to network %s: %w", c.Config.Name, netName, errdefs.ErrExists)
		}
		return fmt.Errorf("container %s is not connected to network %s: %w", c.Config.Name, netName, errdefs.ErrNotFound)
	}
	if c.State.NetNS != "" {
		// Only the new interface's settings: the container's own IP, MAC and eth0 are taken.
		ao := network.AttachOptions{ContainerID: c.Config.ID, ContainerName: c.Config.Name, NetNSPath: c.State.NetNS,
			StaticIP: parseIP(addr.IP), StaticIP6: parseIP(addr.IP6), StaticMAC: addr.MAC}
		if connect {
			ao.Reattach = true // the record says not connected (above)
			s, err := r.networks().Connect(ctx, ao, netName)
			if err != nil {
				return err
			}
			trace.Mark("network connect: attached")
			if c.State.Networks == nil {
				c.State.Networks = map[string]model.NetworkStatus{}
			}
			c.State.Networks[netName] = networkStatus(s)
		} else if o.force {
			if err := r.networks().ForceDisconnect(ctx, ao, netName); err != nil {
				slog.Warn("network disconnect --force: the teardown failed; the container left the network anyway",
					"container", c.Config.Name, "network", netName, "err", err)
			}
			delete(c.State.Networks, netName)
		} else {
			if err := r.networks().Disconnect(ctx, ao, netName); err != nil {
				return err
			}
			delete(c.State.Networks, netName)
		}
	}
	if connect {
		nets = append(nets, netName)
	} else {
		var keep []string
		for _, n := range nets {
			if n != netName {
				keep = append(keep, n)
			}
		}
		nets = keep
	}
	c.Config.Network.Networks = nets
	if connect && len(o.Aliases) > 0 {
		if c.Config.Network.Aliases == nil {
			c.Config.Network.Aliases = map[string][]string{}
		}
		c.Config.Network.Aliases[netName] = o.Aliases
	} else if !connect {
		delete(c.Config.Network.Aliases, netName)
	}
	if connect && addr != (model.NetworkAddr{}) {
		if c.Config.Network.Addrs == nil {
			c.Config.Network.Addrs = map[string]model.NetworkAddr{}
		}
		c.Config.Network.Addrs[netName] = addr
	} else if !connect {
		delete(c.Config.Network.Addrs, netName)
	}
	st, _ := r.state()
	if err := st.SaveContainerConfig(c.Config); err != nil {
		return err
	}
	if err := st.SaveContainerState(c.Config.ID, c.State); err != nil {
		return err
	}
	if c.State.NetNS != "" {
		r.refreshPeerHosts(append(r.userNetworks(c), netName), nil)
		if len(r.userNetworks(c)) == 0 {
			// On no network of the user's any more: it names no one.
			rewritePeers(filepath.Join(r.etcDir(c.Config.ID), "hosts"), "")
		}
		if len(r.dnsListen(netName)) > 0 {
			r.rewriteResolvConf(c) // the network's DNS server joins or leaves its list
		}
	}
	status := "connect"
	if !connect {
		status = "disconnect"
	}
	r.emit(Event{Type: EventNetwork, Status: status, ID: c.Config.ID, Name: c.Config.Name, Network: netName,
		Attributes: map[string]string{"networkID": n.ID}})
	return nil
}

// NetworkUpdate changes a network's upstream DNS servers (podman 5's network update) and
// rewrites its aardvark-dns file, which aardvark rereads: the running containers on it ask
// the new servers from then on.
func (r *Runtime) NetworkUpdate(name string, o network.UpdateOptions) (*network.Network, error) {
	n, err := r.networks().Update(name, o)
	if err != nil {
		return nil, err
	}
	r.namesByNetwork.Delete(n.Name)
	r.refreshPeerHosts([]string{n.Name}, nil)
	return n, nil
}

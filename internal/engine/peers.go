package engine

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/trace"
)

// Containers on a network of the user's (not the default one, as in podman and Docker) find
// each other by name: every running container on such a network has, at the end of its
// /etc/hosts, a section naming the addresses of the containers it shares a network with — their
// names, their aliases on that network (--network-alias, compose's service names), and for a
// pod's infra container the pod's name and its members' names; on a dual-stack network a line
// for each of a container's addresses, IPv4 first. The section is rewritten whenever a
// container on the network starts, stops, connects or disconnects, by the pea process that made
// the change, under the store-wide "peer-hosts" lock. The file is rewritten in place, so the
// bind mount a running container sees shows the change. Under the same lock the same refresh
// rebuilds the network's file for aardvark-dns (network/dns.go), which answers the same names
// (and the short ID) over DNS on the network's gateway.

// peersMarker starts the section pea keeps at the end of a container's /etc/hosts.
const peersMarker = "# pea: containers on the same networks (kept up to date by pea)\n"

// userNetworks are the networks of c's own namespace that name their containers: all but the
// default network and those made with --disable-dns.
func (r *Runtime) userNetworks(c *model.Container) []string {
	var out []string
	for n := range c.State.Networks {
		if n == network.DefaultName {
			continue
		}
		if !r.networkNames(n) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// netNames is what the peers' refresh needs of a network.
type netNames struct {
	names bool     // it names its containers (not made with --disable-dns)
	dns   []string // where aardvark-dns answers on it (its gateways); nil: no DNS server
	// servers are the network's upstream DNS servers (network_dns_servers).
	servers []string
}

// networkNames reports whether network n names its containers (it was not made with
// --disable-dns), read once per process; a network that cannot be read counts as naming them.
func (r *Runtime) networkNames(n string) bool { return r.netNames(n).names }

// dnsListen are the addresses aardvark-dns listens on for network n (nil: it has no DNS).
func (r *Runtime) dnsListen(n string) []string { return r.netNames(n).dns }

func (r *Runtime) netNames(n string) netNames {
	if v, ok := r.namesByNetwork.Load(n); ok {
		return v.(netNames)
	}
	net, err := r.networks().Get(n)
	v := netNames{names: true}
	if err == nil {
		v = netNames{names: net.DNSEnabled, dns: net.DNSListen(), servers: net.NetworkDNSServers}
	}
	r.namesByNetwork.Store(n, v)
	return v
}

// peerNetworksOf are the networks whose containers' peers sections name c: its own user
// networks, or a pod member's infra container's (the member answers to its name there).
func (r *Runtime) peerNetworksOf(c *model.Container) []string {
	if nets := r.userNetworks(c); len(nets) > 0 || c.Config.Pod == "" || c.Config.IsInfra {
		return nets
	}
	st, err := r.state()
	if err != nil {
		return nil
	}
	pod, err := st.Pod(c.Config.Pod)
	if err != nil || pod.State.InfraContainerID == "" {
		return nil
	}
	infra, err := st.Container(pod.State.InfraContainerID)
	if err != nil {
		return nil
	}
	return r.userNetworks(infra)
}

// aliasesOn are c's aliases on network n: those given for n and those for every network ("*").
func aliasesOn(c *model.Container, n string) []string {
	a := c.Config.Network.Aliases
	return append(append([]string{}, a[n]...), a["*"]...)
}

// refreshPeerHosts rewrites the peers section of every running container on the networks nets,
// and of starting, a container whose process has not started yet (counted as running: it knows
// its peers from its first instruction, and they know it). Errors are logged, not returned:
// name resolution is a convenience the change that called it must not fail for.
func (r *Runtime) refreshPeerHosts(nets []string, starting *model.Container) {
	if len(nets) == 0 {
		return
	}
	st, err := r.state()
	if err != nil {
		return
	}
	l, err := r.locks.Lock("peer-hosts")
	if err != nil {
		slog.Warn("peer hosts: lock", "err", err)
		return
	}
	defer l.Unlock()
	trace.Mark("peers: locked")
	cs, err := st.ListContainers("", "")
	if err != nil {
		slog.Warn("peer hosts: listing containers", "err", err)
		return
	}
	trace.Mark("peers: containers listed")
	if starting != nil {
		for i, c := range cs {
			if c.Config.ID == starting.Config.ID {
				cs[i] = starting
			}
		}
	}
	touched := map[string]bool{}
	for _, n := range nets {
		touched[n] = true
	}
	// The names each running namespace owner answers to, by network.
	podNames := map[string][]string{} // infra ID -> pod name and member names
	for _, c := range cs {
		if c.Config.Pod == "" || c.Config.IsInfra {
			continue
		}
		podNames[c.Config.Pod] = append(podNames[c.Config.Pod], c.Config.Name)
	}
	type peer struct {
		ip, name string // name: the container's own
		names    []string
	}
	byNet := map[string][]peer{}
	// The networks aardvark-dns answers on, their files rebuilt whole from the running
	// containers: a line left by a pea that died half-way goes with the next change.
	dnsFiles := map[string]*network.DNSFile{}
	for _, n := range nets {
		if listen := r.dnsListen(n); len(listen) > 0 {
			dnsFiles[n] = &network.DNSFile{Listen: listen, Servers: r.netNames(n).servers}
		}
	}
	var owners []*model.Container
	for _, c := range cs {
		if !c.State.Active() && c != starting || c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
			continue
		}
		mine := r.userNetworks(c)
		if len(mine) == 0 {
			continue
		}
		owners = append(owners, c)
		for _, n := range mine {
			ips := c.State.Networks[n].Addrs() // a dual-stack network: a line for each family
			if len(ips) == 0 {
				continue
			}
			names := []string{c.Config.Name}
			if c.Config.IsInfra && c.Config.Pod != "" {
				if p, err := st.Pod(c.Config.Pod); err == nil {
					names = append([]string{p.Config.Name}, podNames[c.Config.Pod]...)
				}
			}
			names = append(names, aliasesOn(c, n)...)
			valid := names[:0:0]
			for _, name := range names {
				if validName(name) { // a name is a word of a hosts line, nothing more
					valid = append(valid, name)
				}
			}
			for _, ip := range ips {
				byNet[n] = append(byNet[n], peer{ip, c.Config.Name, valid})
			}
			if f := dnsFiles[n]; f != nil {
				f.Records = append(f.Records, dnsRecord(c, n, valid))
			}
		}
	}
	if len(dnsFiles) > 0 {
		if err := r.networks().SyncDNS(dnsFiles); err != nil {
			slog.Warn("DNS: aardvark-dns", "err", err)
		}
		trace.Mark("peers: aardvark's files written")
	}
	for _, c := range owners {
		mine := r.userNetworks(c)
		concerned := false
		for _, n := range mine {
			concerned = concerned || touched[n]
		}
		if !concerned || c.Config.Network.NoHosts {
			continue
		}
		sort.Strings(mine)
		linked := linkAliases(c)
		var sec strings.Builder
		sec.WriteString(peersMarker)
		for _, n := range mine {
			for _, p := range byNet[n] {
				names := append(slices.Clone(p.names), linked[p.name]...)
				sec.WriteString(p.ip + "\t" + strings.Join(uniq(names), " ") + "\n")
			}
		}
		if err := rewritePeers(filepath.Join(r.etcDir(c.Config.ID), "hosts"), sec.String()); err != nil {
			slog.Warn("peer hosts: rewriting", "container", c.Config.Name, "err", err)
		}
	}
	trace.Mark("peers: hosts files rewritten")
}

// dnsRecord is c's line in network n's aardvark file: its addresses there and its names
// (names, valid host names: its own or its pod's and members', its aliases) and its short ID,
// as podman's.
func dnsRecord(c *model.Container, n string, names []string) network.DNSRecord {
	rec := network.DNSRecord{ID: c.Config.ID, Names: uniq(append(slices.Clone(names), shortID(c.Config.ID)))}
	for _, ip := range c.State.Networks[n].Addrs() {
		if strings.Contains(ip, ":") {
			rec.IPv6 = append(rec.IPv6, ip)
		} else {
			rec.IPv4 = append(rec.IPv4, ip)
		}
	}
	return rec
}

// dropDNS removes a removed network's aardvark file, if a pea that died left one (its last
// container's stop removes it otherwise), and stops aardvark if it was the last.
func (r *Runtime) dropDNS(n string) {
	if _, err := os.Lstat(filepath.Join(r.networks().DNSDir(), n)); err != nil {
		return
	}
	l, err := r.locks.Lock("peer-hosts")
	if err != nil {
		return
	}
	defer l.Unlock()
	if err := r.networks().SyncDNS(map[string]*network.DNSFile{n: nil}); err != nil {
		slog.Warn("DNS: aardvark-dns", "err", err)
	}
}

// StopDNS stops the store's aardvark-dns and removes its files (system reset).
func (r *Runtime) StopDNS() {
	l, err := r.locks.Lock("peer-hosts")
	if err != nil {
		return
	}
	defer l.Unlock()
	r.networks().StopDNS()
}

// linkAliases are the further names c knows other containers by (Docker's links, NAME:ALIAS),
// by their names: only in c's own /etc/hosts.
func linkAliases(c *model.Container) map[string][]string {
	if len(c.Config.Links) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, l := range c.Config.Links {
		name, alias, _ := strings.Cut(l, ":")
		if alias == "" {
			alias = name
		}
		if validName(alias) {
			out[name] = append(out[name], alias)
		}
	}
	return out
}

// rewritePeers replaces the peers section of the hosts file at path, in place (the running
// container's bind mount keeps showing the same file). A missing file is left alone.
func rewritePeers(path, section string) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > 1<<20 {
		return fmt.Errorf("%s is not a hosts file of pea's (not a regular file, or over 1 MiB)", path)
	}
	old := make([]byte, st.Size)
	if _, err := f.ReadAt(old, 0); err != nil && st.Size > 0 {
		return err
	}
	base := old
	if i := bytes.Index(old, []byte(peersMarker)); i >= 0 {
		base = old[:i]
	}
	if string(old[len(base):]) == section {
		return nil // unchanged
	}
	// The old section goes first, then the new one is appended: a reader meanwhile sees no
	// peers for a moment, never a stale address or half of one line and half of another.
	if err := f.Truncate(int64(len(base))); err != nil {
		return err
	}
	if section == "" {
		return nil
	}
	_, err = f.WriteAt([]byte(section), int64(len(base)))
	return err
}

func uniq(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

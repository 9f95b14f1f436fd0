package engine

import (
	"cmp"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/rootless"
)

// writeEtcFiles writes the container's /etc/hosts, /etc/resolv.conf and /etc/hostname and
// returns them by destination. A pod member that shares the pod's network uses the infra
// container's files, so every member sees one set.
func (r *Runtime) writeEtcFiles(c *model.Container, rootfs string) (map[string]string, error) {
	cfg := c.Config
	if ns := cfg.NS(model.NSNet); ns.Mode == model.NSModeContainer {
		dir := r.etcDir(ns.Value)
		files := map[string]string{}
		for _, f := range []string{"hosts", "resolv.conf", "hostname"} {
			p := filepath.Join(dir, f)
			if _, err := os.Stat(p); err == nil {
				files["/etc/"+f] = p
			}
		}
		// The owner's resolv.conf is missing when it has none (--network none, --dns none):
		// then the member has none either, as the owner.
		if files["/etc/hostname"] != "" && files["/etc/hosts"] != "" {
			if cfg.NS(model.NSUts).Mode != model.NSModeContainer && cfg.Hostname != "" {
				own := filepath.Join(r.etcDir(cfg.ID), "hostname")
				os.MkdirAll(filepath.Dir(own), 0o700)
				if err := os.WriteFile(own, []byte(cfg.Hostname+"\n"), 0o644); err != nil {
					return nil, err
				}
				files["/etc/hostname"] = own
			}
			return files, nil
		}
	}
	dir := r.etcDir(cfg.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = shortID(cfg.ID)
	}
	net := r.withConfDNS(cfg.Network) // containers.conf's DNS where the container gives none
	var hosts strings.Builder
	if !net.NoHosts {
		// podman's order: --add-host's lines first (the first match wins), then the base
		// file's, host.containers.internal, the container's own.
		for _, h := range net.AddHosts {
			name, ip, ok := strings.Cut(h, ":")
			if !ok {
				continue
			}
			name = strings.ReplaceAll(name, ";", " ") // podman 5's NAME;NAME:IP
			if ip == HostGateway {
				for _, gw := range r.hostGateways(c) {
					fmt.Fprintf(&hosts, "%s\t%s\n", gw, name)
				}
				continue
			}
			fmt.Fprintf(&hosts, "%s\t%s\n", ip, name)
		}
		hosts.WriteString(r.baseHosts(cfg, rootfs))
		// The addresses of one network (a dual-stack one gives one of each family), as
		// podman's hosts file names the container by each of its addresses.
		var ips []string
		for _, s := range c.State.Networks {
			if ips = s.Addrs(); len(ips) > 0 {
				break
			}
		}
		names := hostname
		if cfg.Name != "" && cfg.Name != hostname {
			names += " " + cfg.Name
		}
		if ip, hostNames := r.hostContainersInternal(c, net.AddHosts); ip != "" {
			fmt.Fprintf(&hosts, "%s\t%s\n", ip, hostNames)
		}
		if len(ips) == 0 {
			ips = r.userNetAddrs(cfg)
		}
		for _, ip := range ips {
			fmt.Fprintf(&hosts, "%s\t%s\n", ip, names)
		}
		if len(ips) == 0 && cfg.NS(model.NSNet).Mode != model.NSModeHost {
			fmt.Fprintf(&hosts, "127.0.1.1\t%s\n", names)
		}
	}
	files := map[string]string{
		"/etc/hostname":    filepath.Join(dir, "hostname"),
		"/etc/resolv.conf": filepath.Join(dir, "resolv.conf"),
	}
	if slices.Equal(net.DNSServers, []string{"none"}) || cfg.NS(model.NSNet).Mode == model.NSModeNone && !isBuildContainer(cfg) {
		// --dns none: the image's own, as podman's; --network none: no DNS to ask (podman
		// mounts none either; buildah's RUN gets one, with build --dns too).
		delete(files, "/etc/resolv.conf")
	}
	if !net.NoHosts {
		files["/etc/hosts"] = filepath.Join(dir, "hosts")
		if err := os.WriteFile(files["/etc/hosts"], []byte(hosts.String()), 0o644); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(files["/etc/hostname"], []byte(hostname+"\n"), 0o644); err != nil {
		return nil, err
	}
	if p, ok := files["/etc/resolv.conf"]; ok {
		if err := os.WriteFile(p, []byte(r.resolvConf(cfg, net, r.dnsServers(c))), 0o644); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// rewriteResolvConf writes a running container's resolv.conf anew, in place (its bind mount
// shows the new content), after its networks changed. Errors are logged: the network change
// that called it stands.
func (r *Runtime) rewriteResolvConf(c *model.Container) {
	p := filepath.Join(r.etcDir(c.Config.ID), "resolv.conf")
	if _, err := os.Stat(p); err != nil {
		return // --dns none, or another's namespace: not a file of its own
	}
	data := r.resolvConf(c.Config, r.withConfDNS(c.Config.Network), r.dnsServers(c))
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		slog.Warn("rewriting resolv.conf", "container", c.Config.Name, "err", err)
	}
}

// HostGateway is the address of an --add-host NAME:host-gateway: the host, as the container
// reaches it.
const HostGateway = "host-gateway"

// hostGateways are the addresses host-gateway stands for in c's /etc/hosts: the gateways (the
// host's side of the bridge) of its first network (as configured) that has one, IPv4 first; the loopback
// address with the host's network; none without a network.
func (r *Runtime) hostGateways(c *model.Container) []string {
	switch ns := c.Config.NS(model.NSNet); ns.Mode {
	case model.NSModeHost:
		return []string{"127.0.0.1"}
	case model.NSModeSlirp:
		return []string{network.SlirpAddrs(slirpOptions(ns)).Gateway}
	case model.NSModePasta:
		pc, _ := network.ParsePastaOptions(r.pastaOptions(ns), nil)
		return network.PastaHostIPs(pc)
	}
	order := append(slices.Clone(c.Config.Network.Networks), slices.Sorted(maps.Keys(c.State.Networks))...)
	for _, n := range order {
		s := c.State.Networks[n]
		var gws []string
		for _, gw := range []string{s.Gateway, s.IPv6Gateway} {
			if gw != "" {
				gws = append(gws, gw)
			}
		}
		if len(gws) > 0 {
			return gws
		}
	}
	return nil
}

// userNetAddrs are the addresses of a container on slirp4netns or pasta, which its /etc/hosts
// names it by (podman's), IPv4 first.
func (r *Runtime) userNetAddrs(cfg *model.ContainerConfig) []string {
	switch ns := cfg.NS(model.NSNet); ns.Mode {
	case model.NSModeSlirp:
		return []string{network.SlirpAddrs(slirpOptions(ns)).Guest}
	case model.NSModePasta:
		pc, _ := network.ParsePastaOptions(r.pastaOptions(ns), nil)
		return ipv4First(network.PastaGuestAddrs(pc))
	}
	return nil
}

// ipv4First orders addresses IPv4 first, keeping the order within each family.
func ipv4First(addrs []string) []string {
	slices.SortStableFunc(addrs, func(a, b string) int { return cmp.Compare(strings.Count(a, ":"), strings.Count(b, ":")) })
	return addrs
}

// CheckHostsFile checks a --hosts-file value: "", image, none, or the absolute path of a file.
func CheckHostsFile(f string) error {
	switch {
	case f == "" || f == "image" || f == "none":
		return nil
	case !filepath.IsAbs(f):
		return fmt.Errorf("--hosts-file %q: an absolute path, image or none: %w", f, errdefs.ErrInvalid)
	}
	if st, err := os.Stat(f); err != nil || st.IsDir() {
		return fmt.Errorf("--hosts-file %q: not a file: %w", f, errdefs.ErrInvalid)
	}
	return nil
}

// baseHosts are the lines a container's /etc/hosts takes from --hosts-file or containers.conf's
// base_hosts_file: the host's /etc/hosts by default (as podman copies it: entries only, as
// "IP<TAB>NAMES"), the image's own ("image"), none ("none"), or a file; pea's localhost lines
// (both families) when the base names no localhost.
func (r *Runtime) baseHosts(cfg *model.ContainerConfig, rootfs string) string {
	var b []byte
	f := cfg.Network.HostsFile
	if f == "" {
		f = r.conf().Containers.BaseHostsFile
	}
	switch f {
	case "none":
	case "image":
		if rootfs != "" {
			b, _ = readInRoot(rootfs, "etc/hosts", maxIDFile)
		}
	case "":
		b, _ = os.ReadFile("/etc/hosts")
	default:
		b, _ = os.ReadFile(f)
	}
	var out strings.Builder
	localhost := false
	for _, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 2 || net.ParseIP(f[0]) == nil {
			continue
		}
		localhost = localhost || slices.Contains(f[1:], "localhost")
		fmt.Fprintf(&out, "%s\t%s\n", f[0], strings.Join(f[1:], " "))
	}
	if !localhost {
		return "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n" +
			"::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n" + out.String()
	}
	return out.String()
}

// hostContainersInternal is the address the names host.containers.internal and
// host.docker.internal (podman 4.7's second name) stand for in c's /etc/hosts, and those names
// that --add-host does not give already; "" for no line. The address is containers.conf's
// host_containers_internal_ip ("none": no line), else podman 4.3's choice: on a bridge the
// gateway of the container's first network; behind pasta a host address the container was
// not given (none when it was given them all); otherwise (host, none, slirp4netns, a
// namespace of a path) the host's first global address, IPv4 first.
func (r *Runtime) hostContainersInternal(c *model.Container, addHosts []string) (ip, names string) {
	var todo []string
	for _, n := range []string{"host.containers.internal", "host.docker.internal"} {
		if !slices.ContainsFunc(addHosts, func(h string) bool {
			names, _, _ := strings.Cut(h, ":")
			return slices.Contains(strings.Split(names, ";"), n)
		}) {
			todo = append(todo, n)
		}
	}
	if len(todo) == 0 {
		return "", ""
	}
	ip = r.conf().Containers.HostContainersInternalIP
	switch {
	case ip == "none":
		return "", ""
	case ip != "":
	case c.Config.NS(model.NSNet).Mode == model.NSModeBridge || c.Config.NS(model.NSNet).Mode == model.NSModePasta:
		if gws := r.hostGateways(c); len(gws) > 0 {
			ip = gws[0]
		}
	default:
		addrs := ipv4First(network.HostAddrs())
		if len(addrs) > 0 {
			ip = addrs[0]
		}
	}
	if ip == "" {
		return "", ""
	}
	return ip, strings.Join(todo, " ")
}

// dnsServers are the addresses aardvark-dns answers c on: those of each of its networks with
// DNS, by network name. None (and no file read) for a container on no network of the user's.
func (r *Runtime) dnsServers(c *model.Container) []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(c.State.Networks)) {
		if n == network.DefaultName || c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
			continue
		}
		for _, a := range r.dnsListen(n) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// dnsNetworks reports whether one of nets has a DNS server.
func (r *Runtime) dnsNetworks(nets []string) bool {
	for _, n := range nets {
		if len(r.dnsListen(n)) > 0 {
			return true
		}
	}
	return false
}

func (r *Runtime) etcDir(id string) string { return filepath.Join(r.opts.RunRoot, "etc", id) }

// resolvConf builds resolv.conf from net's options (cfg's, with containers.conf's), falling
// back to the host's servers (without loopback ones, which mean nothing in another network
// namespace). On networks with DNS (dnsServers: aardvark's addresses on them) those come
// first, and the search list starts with dns.podman, as podman's: both only when the
// container names none of its own (--dns, --dns-search).
func (r *Runtime) resolvConf(cfg *model.ContainerConfig, net model.NetworkConfig, dnsServers []string) string {
	hostNet := cfg.NS(model.NSNet).Mode == model.NSModeHost
	var servers, search, options []string
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			switch f[0] {
			case "nameserver":
				if hostNet || !(strings.HasPrefix(f[1], "127.") || f[1] == "::1") {
					servers = append(servers, f[1])
				}
			case "search":
				search = f[1:]
			case "options":
				options = f[1:]
			}
		}
	}
	switch ns := cfg.NS(model.NSNet); {
	case ns.Mode == model.NSModeSlirp:
		servers = append([]string{network.SlirpAddrs(slirpOptions(ns)).DNS}, servers...) // slirp4netns answers there
	case ns.Mode == model.NSModeBridge && rootless.Active():
		servers = append([]string{network.SlirpDNS}, servers...) // the rootless network namespace's slirp4netns
	case ns.Mode == model.NSModePasta:
		pc, _ := network.ParsePastaOptions(r.pastaOptions(ns), nil)
		servers = append([]string{pc.DNSForward}, servers...) // pasta forwards it to the host's
	}
	if len(dnsServers) > 0 {
		servers = append(slices.Clone(dnsServers), servers...)
		search = append([]string{network.DNSSearchDomain}, search...)
	}
	if len(net.DNSServers) > 0 {
		servers = net.DNSServers
	}
	if len(net.DNSSearch) > 0 {
		search = net.DNSSearch
		if len(search) == 1 && search[0] == "." {
			search = nil
		}
	}
	if len(net.DNSOptions) > 0 {
		options = net.DNSOptions
	}
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(options) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(options, " "))
	}
	return b.String()
}

// zoneinfoDir holds the host's time zones, which --tz names.
const zoneinfoDir = "/usr/share/zoneinfo"

// timezoneFile is the host file that --tz tz makes the container's /etc/localtime: the host's
// own for "local", else the zone's in the host's zoneinfo ("" when tz is empty).
func timezoneFile(tz string) (string, error) {
	if tz == "" {
		return "", nil
	}
	file := "/etc/localtime"
	if tz != "local" {
		if strings.HasPrefix(tz, "/") || strings.Contains("/"+tz+"/", "/../") {
			return "", fmt.Errorf("invalid --tz %q: a zone such as Europe/Paris, or local: %w", tz, errdefs.ErrInvalid)
		}
		file = filepath.Join(zoneinfoDir, tz)
	}
	resolved, err := filepath.EvalSymlinks(file)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(resolved); err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("not a zone file")
		}
	}
	if err != nil {
		return "", fmt.Errorf("invalid --tz %q: %s has no such zone (%v): %w", tz, zoneinfoDir, err, errdefs.ErrInvalid)
	}
	return resolved, nil
}

// containerEnvPath is where a container finds /run/.containerenv, the file by which a process
// tells it runs in a container (podman's; toolbox and others look for it).
const containerEnvPath = "/run/.containerenv"

// writeContainerEnv writes a container's /run/.containerenv, as podman's: empty, or, for a
// --privileged container (which can see the host anyway), what it runs as.
func (r *Runtime) writeContainerEnv(cfg *model.ContainerConfig) (string, error) {
	dir := r.etcDir(cfg.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	var b strings.Builder
	if cfg.Privileged {
		rootlessN := 0
		if rootless.Active() {
			rootlessN = 1
		}
		fmt.Fprintf(&b, "engine=%q\nname=%q\nid=%q\nimage=%q\nimageid=%q\nrootless=%d\n",
			ContainerEnvName, cfg.Name, cfg.ID, cfg.ImageName, cfg.Image, rootlessN)
	}
	p := filepath.Join(dir, "containerenv")
	return p, os.WriteFile(p, []byte(b.String()), 0o644)
}

// mtabTarget is what the /etc/mtab link pea makes names (podman's, Docker's).
const mtabTarget = "/proc/mounts"

// linkMtab makes /etc/mtab a link to /proc/mounts in a root filesystem that has none, as
// podman does: mount, df and getmntent read the mount table there. The link is made in the
// container's own layer, by a path resolved inside the root (an image's /etc that links
// elsewhere stays inside it); diff and commit leave it out (runtimeMade). Making it is a
// convenience, so failing to (an /etc that is not a directory) is not an error of the start.
func linkMtab(rootfs string, ns *userNS) {
	rfd, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(rfd)
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	etc, err := unix.Openat2(rfd, "etc", how)
	if err == unix.ENOENT {
		if unix.Mkdirat(rfd, "etc", 0o755) != nil {
			return
		}
		if ns != nil {
			unix.Fchownat(rfd, "etc", int(ns.uid), int(ns.gid), unix.AT_SYMLINK_NOFOLLOW)
		}
		etc, err = unix.Openat2(rfd, "etc", how)
	}
	if err != nil {
		return
	}
	defer unix.Close(etc)
	if unix.Symlinkat(mtabTarget, etc, "mtab") != nil {
		return // there already, most often
	}
	if ns != nil {
		unix.Fchownat(etc, "mtab", int(ns.uid), int(ns.gid), unix.AT_SYMLINK_NOFOLLOW)
	}
}

package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// User-mode networking with pasta (Debian's passt package): pasta copies the host's addresses,
// routes and interface name into the container's network namespace and carries the traffic of
// a tap device there through ordinary sockets of the host's namespace, so that the container
// sees the host's own address and published ports keep their clients' source addresses. It is
// podman 5's rootless default; pea uses it on --network pasta[:OPTIONS] (root or rootless) and,
// when containers.conf's default_rootless_network_cmd says pasta, for rootless containers.
//
// pasta is started with podman's options (--config-net; -t/-u per published port, else "none",
// and -T/-U none, so that no port is forwarded by what happens to be bound; --no-map-gw unless
// the options say --map-gw; --dns-forward 169.254.1.1, which resolv.conf names first). The
// command forks its server once the namespace is configured and exits 0, so its exit is the
// sync; the server writes RUNDIR/pasta/SHORTID.pid and quits by itself when the namespace's
// pin goes, and pea kills it then too (trusted only while it is pasta), waiting for it when it
// forwards ports so that they are free when the stop returns.

// PastaDNSForward is the address pasta answers DNS on unless the options name another.
const PastaDNSForward = "169.254.1.1"

// PastaPath is pasta's path; empty: found on PATH or in helper_binaries_dir.
var PastaPath string

// PastaOptions configure one pasta.
type PastaOptions struct {
	ID        string // the namespace's owner (a container ID)
	NetNSPath string
	Ports     []PortMapping
	// Options are containers.conf's pasta_options followed by --network pasta:OPTIONS, split
	// at commas: pasta's own arguments, plus podman's --map-gw.
	Options []string
}

// PastaConfig is what the options decide beyond pasta's arguments.
type PastaConfig struct {
	Args       []string // pasta's arguments but the namespace's, the PID file's and --runas
	MapGW      bool     // the gateway's address reaches the host
	DNSForward string   // where the container's DNS queries go first
	Addresses  []string // -a: the addresses the container gets in place of the host's
}

// ParsePastaOptions builds pasta's arguments from the options and the published ports. It
// refuses the options pea sets itself; pasta checks the rest when it starts.
func ParsePastaOptions(opts []string, ports []PortMapping) (PastaConfig, error) {
	var c PastaConfig
	has := map[string]bool{}
	for i, o := range opts {
		name, val, hasVal := strings.Cut(o, "=")
		if !strings.HasPrefix(name, "--") {
			name, hasVal = o, false // a short option's value is the next word
		}
		if !hasVal && i+1 < len(opts) {
			val = opts[i+1]
		}
		switch name {
		case "":
			continue
		case "--map-gw":
			c.MapGW = true
			continue
		case "--netns", "--userns", "--netns-only", "-P", "--pid", "-f", "--foreground", "--no-netns-quit":
			return PastaConfig{}, invalidf("pasta option %s: pea sets it itself", name)
		case "-t", "--tcp-ports":
			has["-t"] = true
		case "-u", "--udp-ports":
			has["-u"] = true
		case "-T", "--tcp-ns":
			has["-T"] = true
		case "-U", "--udp-ns":
			has["-U"] = true
		case "--no-map-gw":
			has[name] = true
		case "--dns-forward":
			c.DNSForward = val
		case "-a", "--address":
			c.Addresses = append(c.Addresses, val)
		}
		c.Args = append(c.Args, o)
	}
	c.Args = append(c.Args, "--config-net")
	var tcp, udp []PortMapping
	for _, p := range ports {
		switch p.Protocol {
		case "", "tcp":
			tcp = append(tcp, p)
		case "udp":
			udp = append(udp, p)
		default:
			return PastaConfig{}, invalidf("port %s: pasta forwards tcp and udp only", p)
		}
	}
	for _, f := range []struct {
		flag  string
		ports []PortMapping
	}{{"-t", tcp}, {"-u", udp}} {
		for _, spec := range pastaPortSpecs(f.ports) {
			c.Args = append(c.Args, f.flag, spec)
		}
		if len(f.ports) == 0 && !has[f.flag] {
			c.Args = append(c.Args, f.flag, "none")
		}
	}
	for _, f := range []string{"-T", "-U"} {
		if !has[f] {
			c.Args = append(c.Args, f, "none")
		}
	}
	if !c.MapGW && !has["--no-map-gw"] {
		c.Args = append(c.Args, "--no-map-gw")
	}
	if c.DNSForward == "" {
		c.DNSForward = PastaDNSForward
		c.Args = append(c.Args, "--dns-forward", PastaDNSForward)
	}
	return c, nil
}

// pastaPortSpecs are pasta's -t/-u specs of ports of one protocol: [ADDR/]HOST[-END]:CTR[-END],
// consecutive ports folded into ranges.
func pastaPortSpecs(ports []PortMapping) []string {
	var specs []string
	for i := 0; i < len(ports); {
		p := ports[i]
		n := 1
		for i+n < len(ports) {
			q := ports[i+n]
			if q.HostIP != p.HostIP || int(q.HostPort) != int(p.HostPort)+n || int(q.ContainerPort) != int(p.ContainerPort)+n {
				break
			}
			n++
		}
		spec := ""
		if p.HostIP != "" {
			spec = p.HostIP + "/"
		}
		if n == 1 {
			spec += fmt.Sprintf("%d:%d", p.HostPort, p.ContainerPort)
		} else {
			spec += fmt.Sprintf("%d-%d:%d-%d", p.HostPort, int(p.HostPort)+n-1, p.ContainerPort, int(p.ContainerPort)+n-1)
		}
		specs = append(specs, spec)
		i += n
	}
	return specs
}

func (m *Manager) pastaDir() string { return filepath.Join(m.runDir, "pasta") }

// pastaFiles are a namespace's pasta files, named by the short ID.
func (m *Manager) pastaFiles(id string) (pidFile, logFile string) {
	short := id
	if len(short) > 12 {
		short = short[:12]
	}
	base := filepath.Join(m.pastaDir(), short)
	return base + ".pid", base + ".log"
}

// PastaBinary finds pasta: --network-cmd-path's is slirp4netns's, so pasta is looked for in
// containers.conf's helper_binaries_dir, then on $PATH.
func (m *Manager) PastaBinary() (string, error) {
	if PastaPath != "" {
		return PastaPath, nil
	}
	for _, d := range m.helperDirs {
		p := filepath.Join(d, "pasta")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath("pasta")
	if err != nil {
		return "", fmt.Errorf("pasta is needed for this network (apt install passt): %w", errdefs.ErrNotFound)
	}
	return p, nil
}

// BeginPasta starts pasta for the namespace and returns at once the function that waits until
// it has configured the namespace (about 100 ms of pasta's own start-up here, which the caller
// spends creating the container meanwhile). Should the wait fail, nothing of it is left.
func (m *Manager) BeginPasta(o PastaOptions) (wait func() error, err error) {
	pc, err := ParsePastaOptions(o.Options, o.Ports)
	if err != nil {
		return nil, err
	}
	bin, err := m.PastaBinary()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(m.pastaDir(), 0o700); err != nil {
		return nil, err
	}
	pidFile, logFile := m.pastaFiles(o.ID)
	os.Remove(pidFile)
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	args := slices.Clone(pc.Args)
	if os.Geteuid() == 0 && !slices.ContainsFunc(args, func(a string) bool { return a == "--runas" || strings.HasPrefix(a, "--runas=") }) {
		// As (namespace) root, pasta would become nobody before it joins the namespace,
		// which nobody may not enter.
		args = append(args, "--runas", "0:0")
	}
	args = append(args, "--quiet", "--pid", pidFile, "--netns", o.NetNSPath)
	cmd := cpupin.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cpupin.Start(cmd); err != nil {
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	return func() error {
		var err error
		select {
		case err = <-exited:
		case <-cpupin.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
			err = errors.New("no answer within 10 s")
		}
		if err != nil {
			msg := pastaError(logFile, err)
			m.stopPasta(o.ID, false) // a server forked before the failure
			return fmt.Errorf("pasta did not configure the namespace: %s: %w", msg, errdefs.ErrInvalid)
		}
		return nil // the server outlives this pea
	}, nil
}

// pastaError is the first line of what pasta said that is not its attempt to reach syslog
// (which a machine without one makes it print), else err.
func pastaError(logFile string, err error) string {
	b, _ := os.ReadFile(logFile)
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.Contains(line, "to syslog") || strings.HasPrefix(line, "pasta unknown version") {
			continue
		}
		if i := strings.Index(line, "ERROR:"); i >= 0 {
			line = strings.TrimSpace(line[i+len("ERROR:"):])
		}
		return strings.TrimSuffix(line, "Failed to send")
	}
	return err.Error()
}

// pastaPID is the namespace's pasta server while it runs, else 0: the recorded PID is only
// trusted while it is pasta (which runs as passt, or passt.avx2 on CPUs that have it).
func (m *Manager) pastaPID(id string) int {
	pidFile, _ := m.pastaFiles(id)
	pid, stat := runningFromPIDFile(pidFile)
	if pid == 0 {
		return 0
	}
	comm := stat[strings.IndexByte(stat, '(')+1 : strings.LastIndexByte(stat, ')')]
	if comm == "pasta" || comm == "passt" || strings.HasPrefix(comm, "passt.") || strings.HasPrefix(comm, "pasta.") {
		return pid
	}
	return 0
}

// StopPasta ends the namespace's pasta (if any) and removes its files; with wait it returns
// once the process has exited, so that ports it forwarded are free.
func (m *Manager) StopPasta(id string, wait bool) { m.stopPasta(id, wait) }

func (m *Manager) stopPasta(id string, wait bool) {
	if pid := m.pastaPID(id); pid > 0 {
		killAndWait(pid, wait)
	}
	pidFile, logFile := m.pastaFiles(id)
	os.Remove(pidFile)
	os.Remove(logFile)
}

// killAndWait kills pid and, with wait, waits (up to 2 s) until it has exited: its pidfd turns
// readable then.
func killAndWait(pid int, wait bool) {
	fd, pidfdErr := unix.PidfdOpen(pid, 0)
	if pidfdErr == nil {
		defer unix.Close(fd)
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		return
	}
	if pidfdErr == nil && wait {
		unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 2000)
	}
}

// PastaHostIPs are the addresses by which a container behind pasta reaches the host (podman
// 5.0's host.containers.internal): the gateway when the options map it to the host, else the
// host's global addresses that the container was not given (pasta copies the addresses of the
// interface with the default route, or takes -a's), IPv4 first. None when every address was
// copied: the container cannot tell the host from itself then.
func PastaHostIPs(pc PastaConfig) []string {
	if pc.MapGW {
		if _, gw, err := defaultRoute(); err == nil {
			return []string{gw}
		}
	}
	copied := PastaGuestAddrs(pc)
	var v4, v6 []string
	for _, a := range HostAddrs() {
		if slices.Contains(copied, a) {
			continue
		}
		if strings.Contains(a, ":") {
			v6 = append(v6, a)
		} else {
			v4 = append(v4, a)
		}
	}
	return append(v4, v6...)
}

// PastaGuestAddrs are the addresses a container behind pasta has: -a's, else those of the
// host's interface with the default route, which pasta copies.
func PastaGuestAddrs(pc PastaConfig) []string {
	if len(pc.Addresses) > 0 {
		return pc.Addresses
	}
	return defaultRouteAddrs()
}

// HostAddrs are the host's global unicast addresses, in interface order.
func HostAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if ok && n.IP.IsGlobalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// defaultRouteAddrs are the addresses of the interface of the default route, which pasta
// copies.
func defaultRouteAddrs() []string {
	name, _, err := defaultRoute()
	if err != nil {
		return nil
	}
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		return nil
	}
	addrs, _ := ifc.Addrs()
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
			out = append(out, n.IP.String())
		}
	}
	return out
}

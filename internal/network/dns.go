package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/oci"
)

// Containers on a bridge network of the user's with DNS (not the default network, not made
// with --disable-dns) ask aardvark-dns, podman's DNS server, for each other's names, as
// podman's netavark sets it up: one aardvark-dns per store listens on port 53 of every such
// network's gateway addresses and answers from one file per network; names it does not know
// it forwards to the host's resolvers (its /etc/resolv.conf).
//
//	runDir/aardvark-dns/            aardvark's configuration directory, which it reads whole:
//	                                nothing but these files may be in it
//	    <network>                   a network that has running containers:
//	                                    GATEWAY[,GATEWAY...] [SERVER[,SERVER...]]
//	                                                 addresses to listen on; the network's
//	                                                 upstream servers (network_dns_servers),
//	                                                 asked instead of the host's resolvers
//	                                    ID IPV4[,...] IPV6[,...] NAME[,...] one line a container
//	                                (single spaces; an empty IPv4 or IPv6 list leaves two
//	                                spaces; a malformed line makes aardvark exit at its reload)
//	    aardvark.pid                its PID, written by aardvark (left behind when it is killed)
//	runDir/aardvark-dns.log         its standard error at its last start (it logs to syslog)
//	runDir/aardvark-dns.new         a file being written, renamed into the directory
//
// SyncDNS writes the files and then starts aardvark (which daemonizes itself once it serves),
// tells it to reread them (SIGHUP) and waits until it answers a name it gained, or stops it when
// no file is left. Its callers serialise it for a store (the engine under its store-wide peers
// lock).

// dnsDirName is aardvark's configuration directory under runDir.
const dnsDirName = "aardvark-dns"

// aardvarkPidFile is the file aardvark writes its PID to, in its configuration directory.
const aardvarkPidFile = "aardvark.pid"

// DNSPort is where aardvark listens on each gateway address, as podman's (dns_bind_port).
const DNSPort = 53

// DNSSearchDomain is the search domain of containers on DNS networks (aardvark answers
// NAME.dns.podman as NAME).
const DNSSearchDomain = "dns.podman"

// DNSRecord is a container as aardvark answers for it on one network.
type DNSRecord struct {
	ID         string
	IPv4, IPv6 []string
	Names      []string // name, aliases, short ID: each a DNS label or dotted name
}

// DNSFile is one network's configuration for aardvark: the addresses it listens on and the
// containers it names.
type DNSFile struct {
	Listen  []string
	Servers []string // the network's upstream DNS servers; none: the host's resolvers
	Records []DNSRecord
}

// DNSListen returns the addresses aardvark listens on for n: the gateways of its subnets when
// n is a bridge network with DNS, nil otherwise (macvlan and ipvlan containers cannot reach
// the host's side; netavark gives them no DNS either).
func (n *Network) DNSListen() []string {
	if !n.DNSEnabled || n.Driver != "bridge" {
		return nil
	}
	var out []string
	for _, s := range n.Subnets {
		if gw, err := netip.ParseAddr(s.Gateway); err == nil {
			out = append(out, gw.String())
		}
	}
	return out
}

// DNSDir is aardvark's configuration directory for this store.
func (m *Manager) DNSDir() string { return filepath.Join(m.runDir, dnsDirName) }

// SyncDNS writes the file of each network in files (nil, or no records: the network's file is
// removed), drops the files of networks that no longer exist, and has aardvark serve what is
// left: started when it does not run, told to reread its files when it does, stopped when none
// is left. Calls for one store must not overlap.
func (m *Manager) SyncDNS(files map[string]*DNSFile) error {
	dir := m.DNSDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	changed := false
	probe := map[string]dnsProbe{} // by listen address, a name a file gained: answered once this returns
	for name, f := range files {
		if !validName(name) || name == aardvarkPidFile {
			continue // never a file aardvark would take for something else
		}
		path := filepath.Join(dir, name)
		if f == nil || len(f.Records) == 0 || len(f.Listen) == 0 {
			if err := os.Remove(path); err == nil {
				changed = true
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		data := f.render()
		old, err := os.ReadFile(path)
		if err == nil && string(old) == data {
			continue
		}
		if name, qtype := f.newName(string(old)); name != "" {
			for _, a := range f.Listen {
				probe[a] = dnsProbe{name, qtype}
			}
		}
		tmp := filepath.Join(m.runDir, dnsDirName+".new")
		if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			os.Remove(tmp)
			return err
		}
		changed = true
	}
	left, err := m.dnsFiles()
	if err != nil {
		return err
	}
	pid := m.aardvarkPID()
	switch {
	case left == 0:
		m.stopAardvark(pid)
		return nil
	case pid == 0:
		if err := m.startAardvark(); err != nil {
			return err
		}
		m.awaitNames(probe)
	case changed:
		if err := unix.Kill(pid, unix.SIGHUP); err != nil {
			return m.startAardvark()
		}
		m.awaitNames(probe)
	}
	return nil
}

// awaitNames waits (a second at most) until aardvark answers, on each address, the name
// probe[address]: a name its files did not have before, so that the answer comes from the
// reloaded configuration, on the reopened socket (aardvark 1.4 closes and opens again every
// socket at a reload: a container started meanwhile found the port closed, and its resolver
// moved on to the host's servers).
func (m *Manager) awaitNames(probe map[string]dnsProbe) {
	deadline := time.Now().Add(time.Second)
	for addr, p := range probe {
		if !m.answers(addr, p, deadline) {
			slog.Warn("DNS: aardvark-dns does not answer yet", "address", addr, "name", p.name)
			return
		}
	}
}

// answers asks aardvark at addr the probe's question until it answers with an address or the
// deadline passes. The socket is made in the manager's namespace (where the gateways are).
func (m *Manager) answers(addr string, p dnsProbe, deadline time.Time) bool {
	query := dnsQuery(p.name, p.qtype)
	wait, timeout := 100*time.Microsecond, time.Millisecond
	for time.Now().Before(deadline) {
		conn, err := within(m, func() (net.Conn, error) {
			return net.Dial("udp", net.JoinHostPort(addr, strconv.Itoa(DNSPort)))
		})
		if err != nil {
			return false
		}
		// It answers within a millisecond; a query the closing socket took is lost: ask again,
		// waiting longer each time (a loaded machine).
		conn.SetDeadline(time.Now().Add(timeout))
		timeout = min(2*timeout, 50*time.Millisecond)
		_, err = conn.Write(query)
		buf := make([]byte, 512)
		n := 0
		if err == nil {
			n, err = conn.Read(buf)
		}
		conn.Close()
		// The same ID, no error code, at least one answer.
		if err == nil && n >= 12 && buf[0] == query[0] && buf[1] == query[1] && buf[3]&0x0f == 0 && binary.BigEndian.Uint16(buf[6:8]) > 0 {
			return true
		}
		cpupin.Sleep(wait)
		wait = min(2*wait, 10*time.Millisecond)
	}
	return false
}

// dnsQuery is a DNS query for name's records of type qtype.
func dnsQuery(name string, qtype uint16) []byte {
	q := []byte{0x70, 0x65, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0} // ID "pe", recursion desired, one question
	for _, label := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		q = append(q, byte(len(label)))
		q = append(q, label...)
	}
	return append(q, 0, byte(qtype>>8), byte(qtype), 0, 1) // end of name, type, class IN
}

// newName is a name of f's records that the file content old does not have ("" if none), and
// the type of record to ask for it (A, or AAAA for a container without an IPv4 address).
func (f *DNSFile) newName(old string) (string, uint16) {
	known := map[string]bool{}
	for _, line := range strings.Split(old, "\n")[1:] {
		if fields := strings.Split(line, " "); len(fields) >= 4 {
			for _, n := range strings.Split(fields[3], ",") {
				known[strings.ToLower(n)] = true
			}
		}
	}
	for i := len(f.Records) - 1; i >= 0; i-- {
		r := f.Records[i]
		for _, n := range r.Names {
			if n = strings.ToLower(n); !known[n] && dnsName(n) {
				if len(r.IPv4) == 0 {
					return n, typeAAAA
				}
				return n, typeA
			}
		}
	}
	return "", 0
}

// dnsName reports whether n can be asked as it is: labels of 1 to 63 bytes, 253 in all.
func dnsName(n string) bool {
	for _, l := range strings.Split(n, ".") {
		if len(l) == 0 || len(l) > 63 {
			return false
		}
	}
	return len(n) <= 253
}

// DNS record types of the probes.
const (
	typeA    = 1
	typeAAAA = 28
)

// dnsProbe is a question the reloaded aardvark must answer.
type dnsProbe struct {
	name  string
	qtype uint16
}

// render writes f in aardvark's format.
func (f *DNSFile) render() string {
	var b strings.Builder
	b.WriteString(strings.Join(f.Listen, ","))
	if len(f.Servers) > 0 {
		b.WriteString(" " + strings.Join(f.Servers, ","))
	}
	b.WriteByte('\n')
	for _, r := range f.Records {
		fmt.Fprintf(&b, "%s %s %s %s\n", r.ID, strings.Join(r.IPv4, ","), strings.Join(r.IPv6, ","), strings.Join(r.Names, ","))
	}
	return b.String()
}

// dnsFiles counts the network files in aardvark's directory, removing those of networks that
// no longer exist (left by a pea that died between a network's removal and its file's).
func (m *Manager) dnsFiles() (int, error) {
	entries, err := os.ReadDir(m.DNSDir())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if e.Name() == aardvarkPidFile {
			continue
		}
		if _, err := os.Stat(m.confPath(e.Name())); errors.Is(err, os.ErrNotExist) {
			os.Remove(filepath.Join(m.DNSDir(), e.Name()))
			continue
		}
		n++
	}
	return n, nil
}

// StopDNS stops this store's aardvark and removes its files (system reset).
func (m *Manager) StopDNS() {
	m.stopAardvark(m.aardvarkPID())
	os.RemoveAll(m.DNSDir())
	os.Remove(filepath.Join(m.runDir, dnsDirName+".log"))
	os.Remove(filepath.Join(m.runDir, dnsDirName+".new"))
}

// aardvarkPID is the PID of this store's running aardvark, 0 when none: the process its PID
// file names, when it still is aardvark-dns with this store's directory (a PID file outlives
// a killed aardvark, and its PID may be another process's by now).
func (m *Manager) aardvarkPID() int {
	pid, _ := runningFromPIDFile(filepath.Join(m.DNSDir(), aardvarkPidFile))
	if pid == 0 {
		return 0
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) < 3 || filepath.Base(args[0]) != "aardvark-dns" {
		return 0
	}
	for i, a := range args[:len(args)-1] {
		if (a == "--config" || a == "-c") && args[i+1] == m.DNSDir() {
			return pid
		}
	}
	return 0
}

// aardvarkBinary finds aardvark-dns: in containers.conf's helper_binaries_dir, as podman looks
// for it, else on $PATH or in podman's default helper directories (Debian's package puts it in
// /usr/lib/podman).
func (m *Manager) aardvarkBinary() (string, error) {
	for _, d := range m.helperDirs {
		p := filepath.Join(d, "aardvark-dns")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return oci.FindBinary("aardvark-dns", "/usr/lib/podman", "/usr/local/lib/podman")
}

// startAardvark starts aardvark on this store's directory, in the manager's namespace (a
// rootless store's bridges are in its rootless network namespace). `aardvark-dns run` forks
// the server, which makes its own session and PID file, and exits once the server is ready.
func (m *Manager) startAardvark() error {
	bin, err := m.aardvarkBinary()
	if err != nil {
		return err
	}
	logPath := filepath.Join(m.runDir, dnsDirName+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := cpupin.Command(bin, "--config", m.DNSDir(), "-p", strconv.Itoa(DNSPort), "run")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if _, err := within(m, func() (struct{}, error) { return struct{}{}, cpupin.Start(cmd) }); err != nil {
		return fmt.Errorf("starting aardvark-dns: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		msg, _ := os.ReadFile(logPath)
		return fmt.Errorf("aardvark-dns did not start (%v): %s", err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// stopAardvark ends aardvark (pid; 0: none runs) and waits for its exit, so that a start that
// follows does not find the port taken.
func (m *Manager) stopAardvark(pid int) {
	if pid > 0 {
		fd, pidfdErr := unix.PidfdOpen(pid, 0)
		if pidfdErr == nil {
			defer unix.Close(fd)
		}
		if err := unix.Kill(pid, unix.SIGTERM); err == nil && pidfdErr == nil {
			unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, 2000)
		}
	}
	os.Remove(filepath.Join(m.DNSDir(), aardvarkPidFile))
}

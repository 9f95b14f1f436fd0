package network

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

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
//	                                    GATEWAY[,GATEWAY...]               addresses to listen on
//	                                    ID IPV4[,...] IPV6[,...] NAME[,...] one line a container
//	                                (single spaces; an empty IPv4 or IPv6 list leaves two
//	                                spaces; a malformed line makes aardvark exit at its reload)
//	    aardvark.pid                its PID, written by aardvark (left behind when it is killed)
//	runDir/aardvark-dns.log         its standard error at its last start (it logs to syslog)
//	runDir/aardvark-dns.new         a file being written, renamed into the directory
//
// SyncDNS writes the files and then starts aardvark (which daemonizes itself once it serves),
// tells it to reread them (SIGHUP), or stops it when no file is left. Its callers serialise it
// for a store (the engine under its store-wide peers lock).

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
		if old, err := os.ReadFile(path); err == nil && string(old) == data {
			continue
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
		return m.startAardvark()
	case changed:
		if err := unix.Kill(pid, unix.SIGHUP); err != nil {
			return m.startAardvark()
		}
	}
	return nil
}

// render writes f in aardvark's format.
func (f *DNSFile) render() string {
	var b strings.Builder
	b.WriteString(strings.Join(f.Listen, ","))
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
	b, err := os.ReadFile(filepath.Join(m.DNSDir(), aardvarkPidFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
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
			if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
				if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
					return 0 // exited, not yet reaped
				}
			}
			return pid
		}
	}
	return 0
}

// AardvarkBinary finds aardvark-dns: on $PATH or in podman's helper directories (Debian's
// package puts it in /usr/lib/podman).
func AardvarkBinary() (string, error) {
	return oci.FindBinary("aardvark-dns", "/usr/lib/podman", "/usr/local/lib/podman")
}

// startAardvark starts aardvark on this store's directory, in the manager's namespace (a
// rootless store's bridges are in its rootless network namespace). `aardvark-dns run` forks
// the server, which makes its own session and PID file, and exits once the server is ready.
func (m *Manager) startAardvark() error {
	bin, err := AardvarkBinary()
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

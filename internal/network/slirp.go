package network

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// User-mode networking: slirp4netns gives a network namespace a tap device whose traffic it
// carries through ordinary sockets of the host's network namespace. It needs no privilege, so
// it is what a rootless pea's containers use (podman's default there too), and any pea's with
// --network slirp4netns. The container sees podman's layout: its address 10.0.2.100, the
// gateway (the host) 10.0.2.2, DNS 10.0.2.3. Published ports are slirp4netns forwards added
// through its API socket; the container sees their connections come from 10.0.2.2.
//
// slirp4netns lives as long as the namespace: it is started on its own session, its PID kept
// in RUNDIR/slirp/ID.pid, and killed when the namespace goes.

// Addresses of the slirp4netns network.
const (
	SlirpGuestIP   = "10.0.2.100"
	SlirpGatewayIP = "10.0.2.2"
	SlirpDNS       = "10.0.2.3"
)

// SlirpNet are the addresses of one slirp4netns network: podman's layout by default, or
// network+100, +2 and +3 of the options' cidr, as slirp4netns lays them out.
type SlirpNet struct{ Guest, Gateway, DNS string }

// SlirpAddrs are the addresses of the slirp4netns network the options (checked by
// ParseSlirpOptions) ask for.
func SlirpAddrs(opts []string) SlirpNet {
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "cidr="); ok {
			if _, n, err := net.ParseCIDR(v); err == nil && n.IP.To4() != nil {
				at := func(i byte) string {
					ip := slices.Clone(n.IP.To4())
					ip[3] += i
					return ip.String()
				}
				return SlirpNet{Guest: at(100), Gateway: at(2), DNS: at(3)}
			}
		}
	}
	return SlirpNet{Guest: SlirpGuestIP, Gateway: SlirpGatewayIP, DNS: SlirpDNS}
}

// SlirpOptions configure one slirp4netns.
type SlirpOptions struct {
	ID        string // the namespace's owner (a container ID)
	NetNSPath string
	Ports     []PortMapping
	// Options are --network slirp4netns:OPTIONS, comma-separated (podman's: mtu=N,
	// allow_host_loopback=true|false, enable_ipv6=true|false, cidr=CIDR,
	// outbound_addr=IP, outbound_addr6=IP, port_handler=slirp4netns|rootlessport).
	Options []string
}

func (m *Manager) slirpDir() string { return filepath.Join(m.runDir, "slirp") }

// slirpFiles are a namespace's slirp4netns files (the API socket's path must fit in 108 bytes:
// the short ID names them).
func (m *Manager) slirpFiles(id string) (pidFile, sock, logFile string) {
	short := id
	if len(short) > 12 {
		short = short[:12]
	}
	base := filepath.Join(m.slirpDir(), short)
	return base + ".pid", base + ".sock", base + ".log"
}

// ParseSlirpOptions checks --network slirp4netns:OPTIONS and turns them into slirp4netns's
// flags.
func ParseSlirpOptions(opts []string) ([]string, error) {
	args := []string{"--mtu=65520"}
	loopback := false
	for _, o := range opts {
		if o == "" {
			continue
		}
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			return nil, invalidf("slirp4netns option %q: KEY=VALUE expected", o)
		}
		boolean := func() (bool, error) {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, invalidf("slirp4netns option %s: %q is not true or false", k, v)
			}
			return b, nil
		}
		switch k {
		case "mtu":
			n, err := strconv.Atoi(v)
			if err != nil || n < 68 || n > 65521 {
				return nil, invalidf("slirp4netns option mtu: %q is not a number from 68 to 65521", v)
			}
			args[0] = "--mtu=" + v
		case "allow_host_loopback":
			b, err := boolean()
			if err != nil {
				return nil, err
			}
			loopback = b
		case "enable_ipv6":
			b, err := boolean()
			if err != nil {
				return nil, err
			}
			if b {
				args = append(args, "--enable-ipv6")
			}
		case "cidr":
			ip, n, err := net.ParseCIDR(v)
			if err != nil || ip.To4() == nil {
				return nil, invalidf("slirp4netns option cidr: %q is not an IPv4 CIDR", v)
			}
			if ones, _ := n.Mask.Size(); ones > 25 {
				return nil, invalidf("slirp4netns option cidr: %s is smaller than a /25", v)
			}
			args = append(args, "--cidr="+v)
		case "outbound_addr", "outbound_addr6":
			args = append(args, "--"+strings.ReplaceAll(k, "_", "-")+"="+v)
		case "port_handler":
			if v != "slirp4netns" && v != "rootlessport" {
				return nil, invalidf("slirp4netns option port_handler: %q is not slirp4netns or rootlessport", v)
			}
		default:
			return nil, invalidf("unknown slirp4netns option %q", k)
		}
	}
	if !loopback {
		args = append(args, "--disable-host-loopback")
	}
	return args, nil
}

// StartSlirp starts slirp4netns for the namespace and adds its port forwards; on failure
// nothing of it is left.
func (m *Manager) StartSlirp(o SlirpOptions) error {
	wait, err := m.BeginSlirp(o)
	if err != nil {
		return err
	}
	return wait()
}

// SlirpPath is slirp4netns's path (pea --network-cmd-path); empty: found on PATH.
var SlirpPath string

// BeginSlirp starts slirp4netns for the namespace and returns at once the function that waits
// until it has configured the namespace and adds the port forwards (3-5 ms here, which the
// caller spends creating the container meanwhile). Should the wait fail, nothing of it is left.
func (m *Manager) BeginSlirp(o SlirpOptions) (wait func() error, err error) {
	flags, err := ParseSlirpOptions(o.Options)
	if err != nil {
		return nil, err
	}
	name := SlirpPath
	if name == "" {
		name = "slirp4netns"
	}
	bin, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("slirp4netns is needed for this network (apt install slirp4netns): %w", errdefs.ErrNotFound)
	}
	if err := os.MkdirAll(m.slirpDir(), 0o700); err != nil {
		return nil, err
	}
	pidFile, sock, logFile := m.slirpFiles(o.ID)
	os.Remove(sock)
	logf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the process has its own
	ready, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--configure", "--enable-sandbox", "--enable-seccomp", "--ready-fd=3", "--api-socket", sock,
		"--netns-type=path"}, flags...)
	args = append(args, o.NetNSPath, "tap0")
	cmd := cpupin.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cpupin.Start(cmd); err != nil {
		ready.Close()
		readyW.Close()
		return nil, fmt.Errorf("start slirp4netns: %w", err)
	}
	readyW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fail := func(err error) error {
		cmd.Process.Kill()
		<-exited
		m.removeSlirpFiles(o.ID)
		return err
	}
	// The PID is known at once: a rollback before the wait finds the process.
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o600); err != nil {
		ready.Close()
		return nil, fail(err)
	}
	got := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := ready.Read(b[:])
		got <- err
	}()
	return func() error {
		defer ready.Close()
		select {
		case err := <-got:
			if err != nil {
				return fail(fmt.Errorf("slirp4netns did not configure the namespace: %s", slirpLog(logFile)))
			}
		case <-cpupin.After(10 * time.Second):
			return fail(fmt.Errorf("slirp4netns did not configure the namespace within 10 s: %s", slirpLog(logFile)))
		}
		guest := SlirpAddrs(o.Options).Guest
		for _, p := range o.Ports {
			if _, err := slirpForwardTo(sock, p, guest); err != nil {
				return fail(err)
			}
		}
		return nil // the process outlives this pea
	}, nil
}

// slirpLog is the last line slirp4netns logged.
func slirpLog(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// slirpForwardTo asks slirp4netns to forward a host port to guest:ContainerPort and returns
// the forward's ID.
func slirpForwardTo(sock string, p PortMapping, guest string) (int, error) {
	if p.Protocol != "" && p.Protocol != "tcp" && p.Protocol != "udp" {
		return 0, invalidf("port %s: slirp4netns forwards tcp and udp only", p)
	}
	proto := p.Protocol
	if proto == "" {
		proto = "tcp"
	}
	hostAddr := p.HostIP
	if hostAddr == "" {
		hostAddr = "0.0.0.0"
	}
	var resp struct {
		Return struct {
			ID int `json:"id"`
		} `json:"return"`
	}
	err := slirpCall(sock, map[string]any{"execute": "add_hostfwd", "arguments": map[string]any{
		"proto": proto, "host_addr": hostAddr, "host_port": p.HostPort, "guest_addr": guest, "guest_port": p.ContainerPort}}, &resp)
	if err != nil {
		return 0, fmt.Errorf("cannot expose port %s through slirp4netns: %w", p, err)
	}
	return resp.Return.ID, nil
}

// slirpUnforward removes a forward slirpForwardTo added.
func slirpUnforward(sock string, id int) error {
	return slirpCall(sock, map[string]any{"execute": "remove_hostfwd", "arguments": map[string]any{"id": id}}, nil)
}

// slirpCall makes one request of slirp4netns's API and decodes its answer's "return" into out.
func slirpCall(sock string, req any, out any) error {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return fmt.Errorf("slirp4netns API: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return fmt.Errorf("slirp4netns API: %w", err)
	}
	conn.(*net.UnixConn).CloseWrite()
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return fmt.Errorf("slirp4netns API: %w", err)
	}
	var resp struct {
		Error *struct {
			Desc string `json:"desc"`
		} `json:"error"`
	}
	if err := json.Unmarshal(line, &resp); err != nil {
		return fmt.Errorf("slirp4netns API: %q: %w", line, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("%s: %w", resp.Error.Desc, errdefs.ErrInvalid)
	}
	if out != nil {
		return json.Unmarshal(line, out)
	}
	return nil
}

// slirpAlive reports whether the namespace's slirp4netns runs.
func (m *Manager) slirpAlive(id string) bool { return m.slirpPID(id) > 0 }

// slirpPID is the namespace's slirp4netns process while it runs, else 0: the recorded PID is
// only trusted while it is a slirp4netns.
func (m *Manager) slirpPID(id string) int {
	pidFile, _, _ := m.slirpFiles(id)
	pid, stat := runningFromPIDFile(pidFile)
	if pid > 0 && strings.HasSuffix(stat[:strings.LastIndexByte(stat, ')')], "(slirp4netns") {
		return pid
	}
	return 0
}

// runningFromPIDFile is the process a PID file names and its /proc/PID/stat ("PID (COMM) STATE
// ..."), while it runs: 0 when the file or the process is gone, or the process has exited and
// is not reaped yet (Z).
func runningFromPIDFile(pidFile string) (int, string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, ""
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, ""
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i <= 0 || strings.HasPrefix(string(stat[i:]), ") Z") {
		return 0, ""
	}
	return pid, string(stat)
}

// StopSlirp ends the namespace's slirp4netns (if any) and removes its files. It returns once
// the process has exited, so that ports it forwarded are free.
func (m *Manager) StopSlirp(id string) { m.stopSlirp(id, true) }

// KillSlirp is StopSlirp without the wait, for a namespace that forwards no port: slirp4netns's
// exit closes its tap device, whose unregistering waits out an RCU grace period (13-23 ms of a
// rootless `run --rm` here), which nothing needs to wait for.
func (m *Manager) KillSlirp(id string) { m.stopSlirp(id, false) }

func (m *Manager) stopSlirp(id string, wait bool) {
	if pid := m.slirpPID(id); pid > 0 {
		killAndWait(pid, wait)
	}
	m.removeSlirpFiles(id)
}

func (m *Manager) removeSlirpFiles(id string) {
	pidFile, sock, logFile := m.slirpFiles(id)
	os.Remove(pidFile)
	os.Remove(sock)
	os.Remove(logFile)
}

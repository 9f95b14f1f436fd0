package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// PortMapping publishes a container port on the host. HostIP "" means every host address.
// The JSON names are those of CNI's portMappings capability.
type PortMapping struct {
	HostIP        string `json:"hostIP,omitempty"`
	HostPort      uint16 `json:"hostPort"`
	ContainerPort uint16 `json:"containerPort"`
	Protocol      string `json:"protocol"` // tcp, udp or sctp
}

func (p PortMapping) String() string {
	host := p.HostIP
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d->%d/%s", host, p.HostPort, p.ContainerPort, p.Protocol)
}

// ParsePublish parses one -p/--publish value:
//
//	[hostIP:][hostPort:]containerPort[/protocol]
//
// where the ports may be ranges ("8080-8082:80-82") and an IPv6 host IP is bracketed
// ("[::1]:8080:80"). A missing or zero host port gets a free port of the host; a host range
// for a single container port gets the first free port of that range.
func ParsePublish(spec string) ([]PortMapping, error) {
	p, err := parsePublish(spec)
	if err != nil {
		return nil, err
	}
	hostRange := p.hostLast > p.hostFirst
	var out []PortMapping
	for c := uint32(p.ctrFirst); c <= uint32(p.ctrLast); c++ {
		m := PortMapping{HostIP: p.hostIP, ContainerPort: uint16(c), Protocol: p.proto}
		switch {
		case hostRange && p.ctrFirst == p.ctrLast:
			port, err := freePortIn(p.proto, p.hostIP, p.hostFirst, p.hostLast)
			if err != nil {
				return nil, fmt.Errorf("publish %q: %w", spec, err)
			}
			m.HostPort = port
		case p.hostFirst != 0:
			m.HostPort = p.hostFirst + uint16(c-uint32(p.ctrFirst))
		default:
			port, err := freePortIn(p.proto, p.hostIP, 0, 0)
			if err != nil {
				return nil, fmt.Errorf("publish %q: %w", spec, err)
			}
			m.HostPort = port
		}
		out = append(out, m)
	}
	return out, nil
}

type publishSpec struct {
	hostIP              string
	hostFirst, hostLast uint16 // 0, 0: pick a free port
	ctrFirst, ctrLast   uint16
	proto               string
}

// parsePublish is the pure parse of ParsePublish: it does no I/O.
func parsePublish(spec string) (publishSpec, error) {
	bad := func(why string) (publishSpec, error) {
		return publishSpec{}, invalidf("publish %q: %s; want [hostIP:][hostPort:]containerPort[/tcp|udp|sctp]", spec, why)
	}
	p := publishSpec{proto: "tcp"}
	rest := spec
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		p.proto = strings.ToLower(rest[i+1:])
		rest = rest[:i]
		if p.proto != "tcp" && p.proto != "udp" && p.proto != "sctp" {
			return bad(fmt.Sprintf("unknown protocol %q", p.proto))
		}
	}
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]")
		if end < 0 || len(rest) == end+1 || rest[end+1] != ':' {
			return bad("an IPv6 host IP is written [addr]:hostPort:containerPort")
		}
		p.hostIP, rest = rest[1:end], rest[end+2:]
		if ip := net.ParseIP(p.hostIP); ip == nil || ip.To4() != nil {
			return bad(fmt.Sprintf("%q is not an IPv6 address", p.hostIP))
		}
	}
	parts := strings.Split(rest, ":")
	var hostPart, ctrPart string
	switch {
	case len(parts) == 1:
		ctrPart = parts[0]
	case len(parts) == 2:
		hostPart, ctrPart = parts[0], parts[1]
	case len(parts) == 3 && p.hostIP == "":
		p.hostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
		if net.ParseIP(p.hostIP) == nil || strings.Contains(p.hostIP, ":") {
			return bad(fmt.Sprintf("%q is not an IPv4 address", p.hostIP))
		}
	default:
		return bad("too many ':'")
	}
	if ip := net.ParseIP(p.hostIP); ip != nil && ip.IsUnspecified() {
		p.hostIP = ""
	}
	var err error
	if p.ctrFirst, p.ctrLast, err = portRange(ctrPart, false); err != nil {
		return bad("container port " + err.Error())
	}
	if hostPart != "" {
		if p.hostFirst, p.hostLast, err = portRange(hostPart, true); err != nil {
			return bad("host port " + err.Error())
		}
	}
	hostN, ctrN := int(p.hostLast)-int(p.hostFirst), int(p.ctrLast)-int(p.ctrFirst)
	if p.hostFirst != 0 && hostN != ctrN && ctrN != 0 {
		return bad(fmt.Sprintf("host range %s has %d ports but container range %s has %d", hostPart, hostN+1, ctrPart, ctrN+1))
	}
	return p, nil
}

func portRange(s string, zeroOK bool) (uint16, uint16, error) {
	first, last, isRange := strings.Cut(s, "-")
	a, err := strconv.ParseUint(first, 10, 16)
	if err != nil || (a == 0 && (!zeroOK || isRange)) {
		return 0, 0, fmt.Errorf("%q is not a port (1-65535) or range", s)
	}
	b := a
	if isRange {
		if b, err = strconv.ParseUint(last, 10, 16); err != nil || b < a {
			return 0, 0, fmt.Errorf("%q is not a port range (low-high)", s)
		}
	}
	return uint16(a), uint16(b), nil
}

// freePortIn finds a port of the host that is free for proto on hostIP: any port when
// first is 0, else the first free one in first..last.
func freePortIn(proto, hostIP string, first, last uint16) (uint16, error) {
	if proto == "sctp" {
		if first == 0 {
			return 0, invalidf("sctp ports need an explicit host port")
		}
		return first, nil
	}
	for p := uint32(first); p <= uint32(last); p++ {
		port, err := tryBind(proto, hostIP, uint16(p))
		if err == nil {
			return port, nil
		}
		if !errors.Is(err, errdefs.ErrInUse) || first == 0 {
			return 0, err
		}
	}
	return 0, fmt.Errorf("no free %s port in %d-%d: %w", proto, first, last, errdefs.ErrInUse)
}

// tryBind binds hostIP:port for a moment and returns the bound port (port 0: the kernel's
// pick). A port another socket holds is ErrInUse; an address the host lacks is ErrInvalid.
func tryBind(proto, hostIP string, port uint16) (uint16, error) {
	addr := net.JoinHostPort(hostIP, strconv.Itoa(int(port)))
	var bound net.Addr
	var closer interface{ Close() error }
	var err error
	if proto == "udp" {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr); err == nil {
			bound, closer = c.LocalAddr(), c
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			bound, closer = l.Addr(), l
		}
	}
	switch {
	case err == nil:
		closer.Close()
	case errors.Is(err, unix.EADDRINUSE):
		return 0, fmt.Errorf("port %d/%s is already in use on the host: %w", port, proto, errdefs.ErrInUse)
	case errors.Is(err, unix.EADDRNOTAVAIL):
		return 0, invalidf("host IP %s is not an address of this host", hostIP)
	case errors.Is(err, unix.EACCES):
		// A rootless pea (no privilege on the host's network namespace).
		start, _ := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start")
		return 0, invalidf("cannot expose privileged port %d: add 'net.ipv4.ip_unprivileged_port_start=%d' to /etc/sysctl.conf (currently %s), or choose a port >= %s",
			port, port, strings.TrimSpace(string(start)), strings.TrimSpace(string(start)))
	default:
		return 0, err
	}
	_, ps, _ := net.SplitHostPort(bound.String())
	n, _ := strconv.Atoi(ps)
	return uint16(n), nil
}

// CheckPorts reports the first host port that cannot be published: one given twice, one that
// an attached container of this store already publishes, or one that a host socket holds.
func (m *Manager) CheckPorts(ports []PortMapping) error {
	return m.CheckPortsExcept(ports, "")
}

// CheckPortsExcept is CheckPorts ignoring what container except publishes (the container a
// clone replaces).
func (m *Manager) CheckPortsExcept(ports []PortMapping, except string) error {
	published, err := m.publishedPorts()
	if err != nil {
		return err
	}
	for i, p := range ports {
		for _, q := range ports[:i] {
			if portsClash(p, q) {
				return fmt.Errorf("port %d/%s is published twice: %w", p.HostPort, p.Protocol, errdefs.ErrInvalid)
			}
		}
		for _, q := range published {
			if except != "" && q.container == except {
				continue
			}
			if portsClash(p, q.PortMapping) {
				return &PortOwnedError{PortMapping: p, Container: q.container}
			}
		}
		if p.Protocol == "sctp" || p.HostPort == 0 {
			continue
		}
		if _, err := tryBind(p.Protocol, p.HostIP, p.HostPort); err != nil {
			return err
		}
	}
	return nil
}

// PortOwnedError is CheckPorts' answer for a host port that an attached container publishes.
type PortOwnedError struct {
	PortMapping
	Container string // its ID
}

func (e *PortOwnedError) Error() string {
	return fmt.Sprintf("port %d/%s is already published by container %s", e.HostPort, e.Protocol, e.Container)
}

// Unwrap makes the error errdefs.ErrInUse.
func (e *PortOwnedError) Unwrap() error { return errdefs.ErrInUse }

func portsClash(a, b PortMapping) bool {
	return a.HostPort == b.HostPort && a.Protocol == b.Protocol &&
		(a.HostIP == "" || b.HostIP == "" || a.HostIP == b.HostIP)
}

type publishedPort struct {
	PortMapping
	container string
}

// publishedPorts lists the ports of every attached container, from libcni's cache.
func (m *Manager) publishedPorts() ([]publishedPort, error) {
	atts, err := m.cniConfig().GetCachedAttachments("")
	if err != nil {
		return nil, err
	}
	var out []publishedPort
	for _, a := range atts {
		raw, ok := a.CapabilityArgs["portMappings"]
		if !ok {
			continue
		}
		data, _ := json.Marshal(raw)
		var pms []PortMapping
		if json.Unmarshal(data, &pms) != nil {
			continue
		}
		for _, p := range pms {
			out = append(out, publishedPort{p, a.ContainerID})
		}
	}
	return out, nil
}

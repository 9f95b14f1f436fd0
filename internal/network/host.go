package network

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/containernetworking/cni/pkg/invoke"
	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/trace"
)

// hostPrefixes returns the IPv4 prefixes the host already uses: its routes in the main table
// (default routes aside) and the subnets of its addresses.
func hostPrefixes() []netip.Prefix {
	var out []netip.Prefix
	if f, err := os.Open("/proc/net/route"); err == nil {
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 8 {
				continue
			}
			dst, err1 := strconv.ParseUint(fields[1], 16, 32)
			mask, err2 := strconv.ParseUint(fields[7], 16, 32)
			if err1 != nil || err2 != nil || mask == 0 {
				continue
			}
			var d, mk [4]byte
			binary.LittleEndian.PutUint32(d[:], uint32(dst))
			binary.LittleEndian.PutUint32(mk[:], uint32(mask))
			ones, _ := net.IPMask(mk[:]).Size()
			out = append(out, netip.PrefixFrom(netip.AddrFrom4(d), ones).Masked())
		}
		f.Close()
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() && !p.Addr().IsLoopback() {
				out = append(out, p.Masked())
			}
		}
	}
	return out
}

// defaultRouteInterface names the interface of the IPv4 default route.
func defaultRouteInterface() (string, error) {
	name, _, err := defaultRoute()
	return name, err
}

// defaultRoute is the host's first IPv4 default route (/proc/net/route): its interface and
// gateway.
func defaultRoute() (iface, gateway string, err error) {
	data, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		gw, err := strconv.ParseUint(f[2], 16, 32)
		if err != nil {
			continue
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(gw))
		return f[0], netip.AddrFrom4(b).String(), nil
	}
	return "", "", errors.New("the host has no default route")
}

func linkExists(name string) bool {
	_, err := os.Lstat("/sys/class/net/" + name)
	return err == nil
}

// deleteLink removes a host link by name; a missing link is not an error.
func deleteLink(name string) error {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return nil
	}
	err = rtnlLink(unix.RTM_DELLINK, int32(ifi.Index), 0, 0)
	if errors.Is(err, unix.ENODEV) {
		return nil
	}
	return err
}

// makeBridgeNoDAD makes a bridge, down, with IPv6 duplicate address detection off, unless a
// link of that name exists. It is for a network with an IPv6 subnet, before the bridge plugin's
// first ADD: the plugin reuses the bridge and puts the gateway's address on it, which DAD would
// otherwise hold "tentative" for a second or more (no source address, no neighbour answers:
// the containers' first IPv6 packets through the gateway are lost). netavark turns DAD off on
// its bridges too. The plugin makes a missing bridge the same way (kind bridge, the MTU, the
// kernel's default queue length).
func makeBridgeNoDAD(name string, mtu int) error {
	if linkExists(name) {
		return nil
	}
	body := make([]byte, unix.SizeofIfInfomsg)
	body[0] = unix.AF_UNSPEC
	body = appendAttr(body, unix.IFLA_IFNAME, append([]byte(name), 0))
	if mtu > 0 {
		body = appendAttr(body, unix.IFLA_MTU, binary.NativeEndian.AppendUint32(nil, uint32(mtu)))
	}
	body = appendAttr(body, unix.IFLA_LINKINFO, appendAttr(nil, unix.IFLA_INFO_KIND, []byte("bridge\x00")))
	err := netlinkRequest(unix.NETLINK_ROUTE, unix.RTM_NEWLINK, unix.NLM_F_ACK|unix.NLM_F_CREATE|unix.NLM_F_EXCL, body, nil)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create bridge %s: %w", name, err)
	}
	// Missing when the host has IPv6 off: then there is no DAD to turn off either.
	os.WriteFile("/proc/sys/net/ipv6/conf/"+name+"/accept_dad", []byte("0"), 0o644)
	return nil
}

// appendAttr appends one netlink attribute (route netlink's rtattr), padded to 4 bytes.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(4+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// rtnlLink sends one ifinfomsg request on a route netlink socket opened in the calling
// thread's network namespace and waits for the kernel's acknowledgement.
func rtnlLink(msgType uint16, index int32, flags, change uint32) error {
	body := make([]byte, unix.SizeofIfInfomsg)
	ne := binary.NativeEndian
	body[0] = unix.AF_UNSPEC
	ne.PutUint32(body[4:], uint32(index))
	ne.PutUint32(body[8:], flags)
	ne.PutUint32(body[12:], change)
	return netlinkRequest(unix.NETLINK_ROUTE, msgType, unix.NLM_F_ACK, body, nil)
}

// netlinkRequest sends one request (type, flags besides NLM_F_REQUEST, body after the header)
// on a netlink socket of the given protocol and reads the answer up to its end: NLMSG_DONE for
// a dump, the acknowledgement (or error) otherwise. each, if not nil, gets every other
// message's data.
func netlinkRequest(protocol int, msgType, flags uint16, body []byte, each func([]byte)) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, protocol)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	sa := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Bind(fd, sa); err != nil {
		return err
	}
	ne := binary.NativeEndian
	msg := make([]byte, unix.SizeofNlMsghdr, unix.SizeofNlMsghdr+len(body))
	msg = append(msg, body...)
	ne.PutUint32(msg[0:], uint32(len(msg)))
	ne.PutUint16(msg[4:], msgType)
	ne.PutUint16(msg[6:], unix.NLM_F_REQUEST|flags)
	ne.PutUint32(msg[8:], 1) // sequence number
	if err := unix.Sendto(fd, msg, 0, sa); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				if len(m.Data) < 4 {
					return unix.EINVAL
				}
				if code := int32(ne.Uint32(m.Data)); code != 0 {
					return unix.Errno(-code)
				}
				return nil // the acknowledgement
			default:
				if each != nil {
					each(m.Data)
				}
			}
		}
	}
}

// enableForwarding turns on IPv4 (and for IPv6 networks, IPv6) forwarding, which a bridge
// network with a gateway needs. The bridge plugin does it too; doing it here makes it explicit.
func enableForwarding(ipv6 bool) error {
	files := []string{"/proc/sys/net/ipv4/ip_forward"}
	if ipv6 {
		files = append(files, "/proc/sys/net/ipv6/conf/all/forwarding")
	}
	for _, f := range files {
		if cur, err := os.ReadFile(f); err == nil && strings.TrimSpace(string(cur)) == "1" {
			continue
		}
		if err := os.WriteFile(f, []byte("1"), 0o644); err != nil {
			return fmt.Errorf("enable forwarding: %w", err)
		}
	}
	return nil
}

// flock takes an exclusive lock on path, creating it; the returned func releases it.
func flock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// pluginExec runs CNI plugins with a PATH that holds the iptables binaries they call, whatever
// PATH pea itself was started with.
type pluginExec struct{ invoke.DefaultExec }

func (e *pluginExec) ExecPlugin(ctx context.Context, path string, stdin []byte, env []string) ([]byte, error) {
	cpupin.Release() // a child inherits the CPU set
	const sbin = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	out := make([]string, 0, len(env)+1)
	found := false
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			found = true
			kv = "PATH=" + v + ":" + sbin
		}
		out = append(out, kv)
	}
	if !found {
		out = append(out, "PATH="+sbin)
	}
	res, err := e.DefaultExec.ExecPlugin(ctx, path, stdin, out)
	if trace.Enabled() {
		for _, kv := range env {
			if c, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
				trace.Mark("cni " + c + " " + filepath.Base(path)) // "cni ADD bridge"
			}
		}
	}
	return res, err
}

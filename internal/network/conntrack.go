package network

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"

	"golang.org/x/sys/unix"
)

// Publishing a UDP port forgets the kernel's connection-tracking entries that already go to that
// port of the host: a client that kept sending to it before the port was published (DNS
// retries, syslog, a game server's clients) has an entry that says "to the host itself", and
// while it keeps sending the entry never expires, so its packets would never reach the
// container. TCP needs nothing: a new connection gets a new entry. portmap did the same.
//
// The entries are read and deleted over ctnetlink (NETLINK_NETFILTER): a dump of the family's
// table, then one delete per entry whose original direction is UDP to one of the ports.

const (
	nfnlSubsysCtnetlink = 1
	ctMsgGet            = 1
	ctMsgDelete         = 2

	ctaTupleOrig = 1
	ctaTupleIP   = 1
	ctaTupleProt = 2
	ctaIPv4Dst   = 2
	ctaIPv6Dst   = 4
	ctaProtoNum  = 1
	ctaProtoDst  = 3

	nlaFNested = 1 << 15
)

// udpFlow is the original-direction tuple of one tracked flow: what a delete names it by.
type udpFlow struct {
	tuple []byte // the CTA_TUPLE_ORIG attribute, header included
	dst   netip.Addr
	port  uint16
}

// forgetUDPFlows deletes the tracked UDP flows of family v6 that go to a host port the UDP
// mappings of that family publish (on the mapping's host IP, unless it is any address): one dump
// of the table, one delete per flow. Missing conntrack support is not an error: then there is
// nothing to forget.
func forgetUDPFlows(v6 bool, ports []PortMapping) error {
	type dest struct {
		addr netip.Addr // invalid: any address
		port uint16
	}
	var want []dest
	for _, p := range ports {
		if _, ok := portHostIP(p.HostIP, v6); !ok || p.Protocol != "udp" {
			continue
		}
		d := dest{port: p.HostPort}
		if a, err := netip.ParseAddr(p.HostIP); err == nil && !a.IsUnspecified() {
			d.addr = a.Unmap()
		}
		want = append(want, d)
	}
	if len(want) == 0 {
		return nil
	}
	flows, err := dumpUDPFlows(v6)
	if err != nil {
		if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EOPNOTSUPP) {
			return nil
		}
		return err
	}
	var errs []error
	for _, f := range flows {
		if !slices.ContainsFunc(want, func(d dest) bool { return d.port == f.port && (!d.addr.IsValid() || d.addr == f.dst) }) {
			continue
		}
		if err := nfRequest(nfnlSubsysCtnetlink, ctMsgDelete, ctFamily(v6), unix.NLM_F_ACK, f.tuple, nil); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// dumpUDPFlows lists the tracked UDP flows of one family.
func dumpUDPFlows(v6 bool) ([]udpFlow, error) {
	var out []udpFlow
	err := nfRequest(nfnlSubsysCtnetlink, ctMsgGet, ctFamily(v6), unix.NLM_F_DUMP, nil, func(attrs []byte) {
		if f, ok := parseUDPFlow(attrs); ok {
			out = append(out, f)
		}
	})
	return out, err
}

func ctFamily(v6 bool) byte {
	if v6 {
		return unix.AF_INET6
	}
	return unix.AF_INET
}

// nfRequest sends one nfnetlink request (subsystem, message type, nfgenmsg family, attributes)
// and hands each answering message's attributes to each.
func nfRequest(subsys, msg uint16, family byte, flags uint16, attrs []byte, each func([]byte)) error {
	body := append([]byte{family, 0, 0, 0}, attrs...) // nfgenmsg: family, version 0, resource 0
	var data func([]byte)
	if each != nil {
		data = func(b []byte) {
			if len(b) >= 4 {
				each(b[4:]) // after the nfgenmsg
			}
		}
	}
	return netlinkRequest(unix.NETLINK_NETFILTER, subsys<<8|msg, flags, body, data)
}

// parseUDPFlow reads a flow's original tuple from a ctnetlink message's attributes.
func parseUDPFlow(attrs []byte) (udpFlow, bool) {
	var f udpFlow
	found := false
	walkAttrs(attrs, func(typ uint16, val, whole []byte) {
		if typ != ctaTupleOrig {
			return
		}
		f.tuple = slices.Clone(whole)
		// The delete request needs the nested flag that dumps may leave out.
		binary.NativeEndian.PutUint16(f.tuple[2:], ctaTupleOrig|nlaFNested)
		var proto byte
		walkAttrs(val, func(typ uint16, val, _ []byte) {
			switch typ {
			case ctaTupleIP:
				walkAttrs(val, func(typ uint16, val, _ []byte) {
					if (typ == ctaIPv4Dst && len(val) == 4) || (typ == ctaIPv6Dst && len(val) == 16) {
						f.dst, _ = netip.AddrFromSlice(val)
					}
				})
			case ctaTupleProt:
				walkAttrs(val, func(typ uint16, val, _ []byte) {
					switch {
					case typ == ctaProtoNum && len(val) >= 1:
						proto = val[0]
					case typ == ctaProtoDst && len(val) >= 2:
						f.port = binary.BigEndian.Uint16(val)
					}
				})
			}
		})
		found = proto == unix.IPPROTO_UDP && f.dst.IsValid()
	})
	return f, found
}

// walkAttrs calls fn with the type (without flags), the value and the whole of each netlink
// attribute in b.
func walkAttrs(b []byte, fn func(typ uint16, val, whole []byte)) {
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b))
		if l < 4 || l > len(b) {
			return
		}
		fn(binary.NativeEndian.Uint16(b[2:])&^(nlaFNested|1<<14), b[4:l], b[:l])
		next := (l + 3) &^ 3
		if next > len(b) {
			return
		}
		b = b[next:]
	}
}

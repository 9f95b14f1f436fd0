package state

import (
	"encoding/json"
	"fmt"

	"pea/internal/jsonfast"
	"pea/internal/model"
)

// The two documents a listing decodes for every container, its listed config and its state,
// are read here by hand: encoding/json was half of `pea ps -a` with 300 containers (about 8 µs
// a container, most of it generic machinery around 1.3 KB of JSON).
//
// The fast path reads what json.Marshal writes for these types. Anything it is not sure to read
// as encoding/json would (an escape in a string, a key that only differs in case from a field's,
// a number that is not a plain integer, a syntax error) makes it give up, and the document goes
// through json.Unmarshal instead, so the result is always encoding/json's. A fuzz test compares
// the two on random values.

// decodeListedConfig decodes the listedConfig members of a container config.
func decodeListedConfig(b []byte, l *listedConfig) error {
	if fastListedConfig(b, l) == nil {
		return nil
	}
	*l = listedConfig{}
	return json.Unmarshal(b, l)
}

// decodeState decodes a container state.
func decodeState(b []byte, into *model.ContainerState) error {
	if fastState(b, into) == nil {
		return nil
	}
	*into = model.ContainerState{}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("decode container state: %w", err)
	}
	return nil
}

var (
	listedKeys = jsonfast.KeySet{"id", "name", "namespace", "pod", "isInfra", "created", "image", "imageName",
		"entrypoint", "cmd", "labels", "mounts", "network", "autoRemove"}
	mountKeys   = jsonfast.KeySet{"type", "source", "destination", "options", "readOnly"}
	networkKeys = jsonfast.KeySet{"networks", "ports", "staticIP", "staticMAC", "dnsServers", "dnsSearch", "dnsOptions",
		"addHosts", "noHosts"}
	portKeys  = jsonfast.KeySet{"hostIP", "hostPort", "containerPort", "protocol", "range"}
	stateKeys = jsonfast.KeySet{"status", "pid", "conmonPid", "exitCode", "oomKilled", "startedAt", "finishedAt",
		"mounted", "mountPoint", "netNS", "networks", "error", "restartCount", "stoppedByUser"}
	netStatusKeys = jsonfast.KeySet{"interface", "ipAddress", "prefixLen", "gateway", "macAddress", "ipv6"}
)

func fastListedConfig(b []byte, l *listedConfig) error {
	return jsonfast.Document(b, func(s *jsonfast.Scanner, key []byte) error {
		switch string(key) {
		case "id":
			return s.Str(&l.ID)
		case "name":
			return s.Str(&l.Name)
		case "namespace":
			return s.Str(&l.Namespace)
		case "pod":
			return s.Str(&l.Pod)
		case "isInfra":
			return s.Bool(&l.IsInfra)
		case "created":
			return s.Time(&l.Created)
		case "image":
			return s.Str(&l.Image)
		case "imageName":
			return s.Str(&l.ImageName)
		case "entrypoint":
			return s.Strings(&l.Entrypoint)
		case "cmd":
			return s.Strings(&l.Cmd)
		case "labels":
			return s.StringMap(&l.Labels)
		case "mounts":
			return mounts(s, &l.Mounts)
		case "network":
			return network(s, &l.Network)
		case "autoRemove":
			return s.Bool(&l.AutoRemove)
		}
		return s.Unknown(key, listedKeys)
	})
}

func mounts(s *jsonfast.Scanner, into *[]model.Mount) error {
	return jsonfast.Objects(s, into, func(m *model.Mount, key []byte) error {
		switch string(key) {
		case "type":
			return s.Str(&m.Type)
		case "source":
			return s.Str(&m.Source)
		case "destination":
			return s.Str(&m.Destination)
		case "options":
			return s.Strings(&m.Options)
		case "readOnly":
			return s.Bool(&m.ReadOnly)
		}
		return s.Unknown(key, mountKeys)
	})
}

func network(s *jsonfast.Scanner, n *model.NetworkConfig) error {
	return s.Object(func(key []byte) error {
		switch string(key) {
		case "networks":
			return s.Strings(&n.Networks)
		case "ports":
			return ports(s, &n.Ports)
		case "staticIP":
			return s.Str(&n.StaticIP)
		case "staticMAC":
			return s.Str(&n.StaticMAC)
		case "dnsServers":
			return s.Strings(&n.DNSServers)
		case "dnsSearch":
			return s.Strings(&n.DNSSearch)
		case "dnsOptions":
			return s.Strings(&n.DNSOptions)
		case "addHosts":
			return s.Strings(&n.AddHosts)
		case "noHosts":
			return s.Bool(&n.NoHosts)
		}
		return s.Unknown(key, networkKeys)
	})
}

func ports(s *jsonfast.Scanner, into *[]model.PortMapping) error {
	return jsonfast.Objects(s, into, func(p *model.PortMapping, key []byte) error {
		switch string(key) {
		case "hostIP":
			return s.Str(&p.HostIP)
		case "hostPort":
			return s.Uint16(&p.HostPort)
		case "containerPort":
			return s.Uint16(&p.ContainerPort)
		case "protocol":
			return s.Str(&p.Protocol)
		case "range":
			return s.Uint16(&p.Range)
		}
		return s.Unknown(key, portKeys)
	})
}

func fastState(b []byte, st *model.ContainerState) error {
	return jsonfast.Document(b, func(s *jsonfast.Scanner, key []byte) error {
		switch string(key) {
		case "status":
			return s.Str(&st.Status)
		case "pid":
			return s.Int(&st.Pid)
		case "conmonPid":
			return s.Int(&st.ConmonPid)
		case "exitCode":
			return s.Int32(&st.ExitCode)
		case "oomKilled":
			return s.Bool(&st.OOMKilled)
		case "startedAt":
			return s.Time(&st.StartedAt)
		case "finishedAt":
			return s.Time(&st.FinishedAt)
		case "mounted":
			return s.Bool(&st.Mounted)
		case "mountPoint":
			return s.Str(&st.MountPoint)
		case "netNS":
			return s.Str(&st.NetNS)
		case "networks":
			return netStatuses(s, &st.Networks)
		case "error":
			return s.Str(&st.Error)
		case "restartCount":
			return s.Int(&st.RestartCount)
		case "stoppedByUser":
			return s.Bool(&st.StoppedByUser)
		}
		return s.Unknown(key, stateKeys)
	})
}

func netStatuses(s *jsonfast.Scanner, into *map[string]model.NetworkStatus) error {
	if s.Literal("null") {
		*into = nil
		return nil
	}
	m := *into
	if m == nil {
		m = map[string]model.NetworkStatus{}
	}
	err := s.Object(func(name []byte) error {
		var n model.NetworkStatus // a repeated name starts afresh, as in encoding/json
		err := s.Object(func(key []byte) error {
			switch string(key) {
			case "interface":
				return s.Str(&n.Interface)
			case "ipAddress":
				return s.Str(&n.IPAddress)
			case "prefixLen":
				return s.Int(&n.PrefixLen)
			case "gateway":
				return s.Str(&n.Gateway)
			case "macAddress":
				return s.Str(&n.MacAddress)
			case "ipv6":
				return s.Str(&n.IPv6)
			}
			return s.Unknown(key, netStatusKeys)
		})
		m[string(name)] = n
		return err
	})
	*into = m
	return err
}

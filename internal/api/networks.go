package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/view"
)

// Docker clients expect a network named "bridge": pea's default network (network.DefaultName)
// answers to that name too, as podman's "podman" network does, while it lists under its own.
const dockerBridge = "bridge"

// networkRoutes registers the /networks endpoints.
func (s *Server) networkRoutes() {
	s.route("GET", "/networks", s.getNetworks)
	s.route("GET", "/networks/{$}", s.getNetworks)
	s.route("GET", "/networks/{id}", s.getNetwork)
	s.route("POST", "/networks/create", s.postNetworkCreate)
	s.route("DELETE", "/networks/{id}", s.deleteNetwork)
	s.route("POST", "/networks/prune", s.postNetworksPrune)
	s.route("POST", "/networks/{id}/connect", s.postNetworkConnect(true))
	s.route("POST", "/networks/{id}/disconnect", s.postNetworkConnect(false))
}

// apiNetwork is Docker's view of a network.
type apiNetwork struct {
	Name       string                     `json:"Name"`
	ID         string                     `json:"Id"`
	Created    string                     `json:"Created"`
	Scope      string                     `json:"Scope"`
	Driver     string                     `json:"Driver"`
	EnableIPv6 bool                       `json:"EnableIPv6"`
	IPAM       apiIPAM                    `json:"IPAM"`
	Internal   bool                       `json:"Internal"`
	Attachable bool                       `json:"Attachable"`
	Ingress    bool                       `json:"Ingress"`
	ConfigFrom struct{ Network string }   `json:"ConfigFrom"`
	ConfigOnly bool                       `json:"ConfigOnly"`
	Containers map[string]networkEndpoint `json:"Containers"`
	Options    map[string]string          `json:"Options"`
	Labels     map[string]string          `json:"Labels"`
}

type apiIPAM struct {
	Driver  string            `json:"Driver"`
	Options map[string]string `json:"Options"`
	Config  []ipamConfig      `json:"Config"`
}

type ipamConfig struct {
	Subnet  string `json:"Subnet,omitempty"`
	IPRange string `json:"IPRange,omitempty"`
	Gateway string `json:"Gateway,omitempty"`
}

// networkEndpoint is a container's attachment in a network's inspect.
type networkEndpoint struct {
	Name        string `json:"Name"`
	EndpointID  string `json:"EndpointID"`
	MacAddress  string `json:"MacAddress"`
	IPv4Address string `json:"IPv4Address"`
	IPv6Address string `json:"IPv6Address"`
}

// toAPINetwork is Docker's view of n; with ctrs (the store's containers), its Containers are
// the running containers attached to it.
func toAPINetwork(n *network.Network, ctrs []*model.Container) apiNetwork {
	out := apiNetwork{
		Name: n.Name, ID: n.ID, Created: dockerTime(n.Created), Scope: "local", Driver: n.Driver,
		EnableIPv6: n.IPv6Enabled, Internal: n.Internal, Containers: map[string]networkEndpoint{},
		Options: map[string]string{}, Labels: map[string]string{},
		IPAM: apiIPAM{Driver: "default", Options: map[string]string{}, Config: []ipamConfig{}},
	}
	for k, v := range n.Options {
		out.Options[k] = v
	}
	if n.Driver == "bridge" && n.NetworkInterface != "" {
		out.Options["com.docker.network.bridge.name"] = n.NetworkInterface
	}
	for k, v := range n.Labels {
		out.Labels[k] = v
	}
	for _, sub := range n.Subnets {
		cfg := ipamConfig{Subnet: sub.Subnet, Gateway: sub.Gateway}
		if lr := sub.LeaseRange; lr != nil {
			cfg.IPRange = ipRangeText(lr)
		}
		out.IPAM.Config = append(out.IPAM.Config, cfg)
	}
	for _, c := range ctrs {
		st, ok := c.State.Networks[n.Name]
		if !ok || !c.State.Active() {
			continue
		}
		a := view.NewAddresses(st)
		ep := networkEndpoint{Name: c.Config.Name, MacAddress: a.MacAddress}
		if a.IPAddress != "" {
			ep.IPv4Address = a.IPAddress + "/" + strconv.Itoa(a.IPPrefixLen)
		}
		if a.GlobalIPv6Address != "" {
			ep.IPv6Address = a.GlobalIPv6Address + "/" + strconv.Itoa(a.GlobalIPv6PrefixLen)
		}
		out.Containers[c.Config.ID] = ep
	}
	return out
}

// findNetwork finds a network by name, ID or ID prefix ("bridge": the default network), with
// Docker's 404.
func findNetwork(rt *engine.Runtime, nameOrID string) (*network.Network, error) {
	name := nameOrID
	if name == dockerBridge {
		name = network.DefaultName
	}
	n, err := rt.NetworkInspect(name)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil, &apiError{http.StatusNotFound, "network " + nameOrID + " not found"}
	}
	return n, err
}

// networkUsers maps each network's name to the containers configured on it.
func networkUsers(ctrs []*model.Container) map[string][]*model.Container {
	out := map[string][]*model.Container{}
	for _, c := range ctrs {
		if c.Config.NS(model.NSNet).Mode != model.NSModeBridge {
			continue
		}
		nets := c.Config.Network.Networks
		if len(nets) == 0 {
			nets = []string{network.DefaultName}
		}
		for _, n := range nets {
			out[n] = append(out[n], c)
		}
	}
	return out
}

// matchNetwork applies docker network ls's filters: each key must match one of its values.
func matchNetwork(n *network.Network, f map[string][]string, used bool) (bool, error) {
	return matchFilters(f, func(key, v string) (ok bool, err error) {
		switch key {
		case "name":
			ok = strings.Contains(n.Name, v) || v == dockerBridge && n.Name == network.DefaultName
		case "id":
			ok = strings.HasPrefix(n.ID, v)
		case "driver":
			ok = n.Driver == v
		case "scope":
			ok = v == "local"
		case "type":
			builtin := n.Name == network.DefaultName
			ok = v == "builtin" && builtin || v == "custom" && !builtin
		case "dangling":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return false, badRequest("invalid filter 'dangling=%s'", v)
			}
			ok = b != used
		case "label":
			ok = model.LabelsMatch(n.Labels, v)
		case "label!":
			ok = !model.LabelsMatch(n.Labels, v)
		case "until":
			ok = true // checked by the prune
		default:
			return false, badRequest("invalid filter '%s'", key)
		}
		return ok, nil
	})
}

// listNetworks is the networks the request's filters select, and every container (for
// the networks' users); the Docker and libpod lists show them each their way.
func listNetworks(r *http.Request, rt *engine.Runtime) ([]*network.Network, []*model.Container, error) {
	f, err := filters(r)
	if err != nil {
		return nil, nil, err
	}
	ns, err := rt.NetworkList()
	if err != nil {
		return nil, nil, err
	}
	ctrs, err := rt.ListContainers()
	if err != nil {
		return nil, nil, err
	}
	users := networkUsers(ctrs)
	var out []*network.Network
	for _, n := range ns {
		ok, err := matchNetwork(n, f, len(users[n.Name]) > 0)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, ctrs, nil
}

// getNetworks is GET /networks?filters=.
func (s *Server) getNetworks(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	ns, ctrs, err := listNetworks(r, rt)
	if err != nil {
		return err
	}
	out := []apiNetwork{}
	for _, n := range ns {
		out = append(out, toAPINetwork(n, ctrs))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getNetwork is GET /networks/{id}.
func (s *Server) getNetwork(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	n, err := findNetwork(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	ctrs, err := rt.ListContainers()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPINetwork(n, ctrs))
	return nil
}

// networkCreateRequest is the body of POST /networks/create.
type networkCreateRequest struct {
	Name           string `json:"Name"`
	CheckDuplicate bool   `json:"CheckDuplicate"`
	Driver         string `json:"Driver"`
	Scope          string `json:"Scope"`
	Internal       bool   `json:"Internal"`
	Attachable     bool   `json:"Attachable"`
	Ingress        bool   `json:"Ingress"`
	ConfigOnly     bool   `json:"ConfigOnly"`
	EnableIPv6     *bool  `json:"EnableIPv6"`
	IPAM           *struct {
		Driver  string            `json:"Driver"`
		Config  []ipamConfig      `json:"Config"`
		Options map[string]string `json:"Options"`
	} `json:"IPAM"`
	Options map[string]string `json:"Options"`
	Labels  map[string]string `json:"Labels"`
}

// postNetworkCreate is POST /networks/create: 201 {"Id", "Warning"}; 409 when the name is
// taken.
func (s *Server) postNetworkCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req networkCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Name == "" {
		return badRequest("network name is required")
	}
	switch req.Name {
	case dockerBridge, "host", "none", network.DefaultName:
		return &apiError{http.StatusConflict, fmt.Sprintf("network with name %s already exists", req.Name)}
	}
	if req.Scope != "" && req.Scope != "local" {
		return badRequest("network scope %q is not supported: pea networks are local", req.Scope)
	}
	if req.ConfigOnly || req.Ingress {
		return badRequest("config-only and ingress networks are not supported")
	}
	o := network.CreateOptions{Name: req.Name, Driver: req.Driver, Internal: req.Internal, Labels: req.Labels}
	var warnings []string
	for k, v := range req.Options {
		switch k {
		case "com.docker.network.bridge.name":
			o.NetworkInterface = v
		case "com.docker.network.driver.mtu", "mtu":
			setOpt(&o, "mtu", v)
		case "macvlan_mode", "ipvlan_mode", "mode":
			setOpt(&o, "mode", v)
		case "parent":
			o.Parent = v
		default:
			if strings.HasPrefix(k, "com.docker.network.") {
				warnings = append(warnings, "option "+k+" ignored")
				continue
			}
			setOpt(&o, k, v) // the engine names what it does not know
		}
	}
	if req.IPAM != nil {
		if req.IPAM.Driver != "" && req.IPAM.Driver != "default" {
			return badRequest("IPAM driver %q is not supported: pea's is the default one", req.IPAM.Driver)
		}
		if err := ipamSubnets(&o, req.IPAM.Config); err != nil {
			return err
		}
	}
	// Dual stack, as podman's: an IPv4 and an IPv6 subnet, each chosen unless given.
	o.IPv6 = req.EnableIPv6 != nil && *req.EnableIPv6
	if _, err := rt.NetworkInspect(req.Name); err == nil {
		return &apiError{http.StatusConflict, fmt.Sprintf("network with name %s already exists", req.Name)}
	}
	n, err := rt.NetworkCreate(o)
	if errdefs.Is(err, errdefs.ErrExists) {
		return &apiError{http.StatusConflict, fmt.Sprintf("network with name %s already exists", req.Name)}
	}
	if err != nil {
		return err
	}
	sort.Strings(warnings)
	writeJSON(w, http.StatusCreated, map[string]string{"Id": n.ID, "Warning": strings.Join(warnings, "; ")})
	return nil
}

// ipRangeText is a lease range as Docker shows IPAM's IPRange: the CIDR it was given as (pea
// keeps the range without the CIDR's network and broadcast addresses, which a subnet's range
// cannot hand out), else start-end.
func ipRangeText(lr *network.LeaseRange) string {
	lo, err1 := netip.ParseAddr(lr.StartIP)
	hi, err2 := netip.ParseAddr(lr.EndIP)
	if err1 != nil || err2 != nil || lo.BitLen() != hi.BitLen() {
		return lr.StartIP + "-" + lr.EndIP
	}
	for bits := lo.BitLen(); bits >= 0; bits-- {
		p, err := lo.Prefix(bits)
		if err != nil || !p.Contains(hi) {
			continue
		}
		b := p.Addr().AsSlice() // the prefix's last address: its host bits set
		for i := range b {
			for bit := 0; bit < 8; bit++ {
				if i*8+bit >= bits {
					b[i] |= 0x80 >> bit
				}
			}
		}
		last, _ := netip.AddrFromSlice(b)
		first := p.Addr()
		if (lo == first || lo == first.Next()) && (hi == last || hi.Next() == last) {
			return p.String()
		}
		break
	}
	return lr.StartIP + "-" + lr.EndIP
}

// ipamSubnets turns Docker's IPAM configs into the network's subnets, each with its gateway and
// range at the same index; a config with neither subnet, gateway nor range says nothing.
func ipamSubnets(o *network.CreateOptions, configs []ipamConfig) error {
	for _, c := range configs {
		if c.Subnet == "" {
			if c.Gateway != "" || c.IPRange != "" {
				return badRequest("an IPAM config with a gateway or IP range needs its subnet")
			}
			continue
		}
		o.Subnets = append(o.Subnets, c.Subnet)
		o.Gateways = append(o.Gateways, c.Gateway)
		o.IPRanges = append(o.IPRanges, c.IPRange)
	}
	return nil
}

// untilCutoff reads a prune's until filter (unix seconds, an RFC 3339 time or a duration
// before now): only what was created before it is pruned; the zero time when absent.
func untilCutoff(f map[string][]string) (time.Time, error) {
	vals := f["until"]
	if len(vals) == 0 {
		return time.Time{}, nil
	}
	if len(vals) > 1 {
		return time.Time{}, badRequest("more than one until filter")
	}
	v := vals[0]
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if t, err := parseUnixTime(v); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest("invalid until filter %q: a duration, a unix time or an RFC 3339 time", v)
}

func setOpt(o *network.CreateOptions, k, v string) {
	if o.Options == nil {
		o.Options = map[string]string{}
	}
	o.Options[k] = v
}

// deleteNetwork is DELETE /networks/{id}: 204; 409 while containers use it; 403 for the
// default network.
func (s *Server) deleteNetwork(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	n, err := findNetwork(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rt.IsDefaultNetwork(n.Name) {
		return &apiError{http.StatusForbidden, fmt.Sprintf("%s is a pre-defined network and cannot be removed", r.PathValue("id"))}
	}
	if err := rt.NetworkRemove(r.Context(), n.Name, false); err != nil {
		if errdefs.Is(err, errdefs.ErrInUse) {
			return &apiError{http.StatusConflict, fmt.Sprintf("error while removing network: network %s id %s has active endpoints (%v)", n.Name, n.ID, err)}
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postNetworksPrune is POST /networks/prune?filters=: the networks no container uses (the
// default one stays).
func (s *Server) postNetworksPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	until, err := untilCutoff(f)
	if err != nil {
		return err
	}
	ns, err := rt.NetworkList()
	if err != nil {
		return err
	}
	deleted := []string{}
	for _, n := range ns {
		if rt.IsDefaultNetwork(n.Name) {
			continue
		}
		ok, err := matchNetwork(n, f, false)
		if err != nil {
			return err
		}
		if !ok || !until.IsZero() && !n.Created.Before(until) {
			continue
		}
		// Refused while containers use it: those stay.
		if err := rt.NetworkRemove(r.Context(), n.Name, false); err == nil {
			deleted = append(deleted, n.Name)
		} else if !errdefs.Is(err, errdefs.ErrInUse) && !errdefs.Is(err, errdefs.ErrNotFound) {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"NetworksDeleted": deleted})
	return nil
}

// postNetworkConnect is POST /networks/{id}/connect {Container} and /disconnect
// {Container, Force}.
func (s *Server) postNetworkConnect(connect bool) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		var req struct {
			Container      string `json:"Container"`
			Force          bool   `json:"Force"`
			EndpointConfig *struct {
				Aliases    []string `json:"Aliases"`
				MacAddress string   `json:"MacAddress"`
				IPAMConfig *struct {
					IPv4Address string `json:"IPv4Address"`
					IPv6Address string `json:"IPv6Address"`
				} `json:"IPAMConfig"`
			} `json:"EndpointConfig"`
		}
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		if req.Container == "" {
			return badRequest("a container is required")
		}
		n, err := findNetwork(rt, r.PathValue("id"))
		if err != nil {
			return err
		}
		c, err := lookup(rt, req.Container)
		if err != nil {
			return err
		}
		if connect {
			o := engine.ConnectOptions{Only: s.takeEmptied(c.Config.ID)}
			if ec := req.EndpointConfig; ec != nil {
				o.Aliases, o.MAC = ec.Aliases, ec.MacAddress
				if ec.IPAMConfig != nil {
					o.IP, o.IP6 = ec.IPAMConfig.IPv4Address, ec.IPAMConfig.IPv6Address
				}
			}
			err = rt.NetworkConnect(r.Context(), n.Name, c.Config.ID, o)
			if o.Only && errdefs.Is(err, errdefs.ErrInvalid) && strings.Contains(err.Error(), "cannot be its only one") {
				// Connected meanwhile by someone else (a pea command): an ordinary connect.
				o.Only = false
				err = rt.NetworkConnect(r.Context(), n.Name, c.Config.ID, o)
			}
		} else {
			err = rt.NetworkDisconnect(r.Context(), n.Name, c.Config.ID, req.Force)
			if err == nil && !c.State.Active() && len(c.Config.Network.Networks) == 1 {
				// Its last network: pea would give it the default one; a connect that follows
				// (compose's way of setting aliases) makes its network the only one again.
				s.markEmptied(c.Config.ID)
			}
		}
		switch {
		case err == nil:
		case connect && errdefs.Is(err, errdefs.ErrExists):
			return &apiError{http.StatusForbidden, fmt.Sprintf("endpoint with name %s already exists in network %s", c.Config.Name, n.Name)}
		case !connect && errdefs.Is(err, errdefs.ErrNotFound):
			return &apiError{http.StatusForbidden, fmt.Sprintf("container %s is not connected to network %s", c.Config.Name, n.Name)}
		default:
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// markEmptied records that the API disconnected a container that is not running from its last
// configured network; takeEmptied consumes the mark.
func (s *Server) markEmptied(id string) {
	s.emptiedMu.Lock()
	defer s.emptiedMu.Unlock()
	s.emptied[id] = true
}

func (s *Server) takeEmptied(id string) bool {
	s.emptiedMu.Lock()
	defer s.emptiedMu.Unlock()
	ok := s.emptied[id]
	delete(s.emptied, id)
	return ok
}

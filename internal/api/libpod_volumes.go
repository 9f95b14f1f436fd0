package api

import (
	"fmt"
	"net/http"
	"strconv"

	"pea/internal/engine"
	"pea/internal/network"
	"pea/internal/view"
)

// libpodVolumeRoutes registers the libpod volume and network endpoints. podman's volume is
// Docker's view (answered as a list, not wrapped); its network is pea's own network record,
// which has podman's keys.
func (s *Server) libpodVolumeRoutes() {
	s.lroute("GET", "/volumes/json", s.getLibpodVolumes)
	s.lroute("POST", "/volumes/create", s.postLibpodVolumeCreate)
	s.lroute("POST", "/volumes/prune", libpodPrune(func(_ *http.Request, rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
		return rt.PruneVolumes(f)
	}, pruneReports))
	s.lroute("GET", "/volumes/{name}/json", s.getLibpodVolume)
	s.lroute("GET", "/volumes/{name}/exists", s.getLibpodVolume)
	s.lroute("DELETE", "/volumes/{name}", s.deleteLibpodVolume)

	s.lroute("GET", "/networks/json", s.getLibpodNetworks)
	s.lroute("POST", "/networks/create", s.postLibpodNetworkCreate)
	s.lroute("POST", "/networks/prune", libpodPrune(func(r *http.Request, rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
		return rt.NetworkPrune(r.Context(), f)
	}, libpodNetworkPruneReports))
	s.lroute("GET", "/networks/{name}/json", s.getLibpodNetwork)
	s.lroute("POST", "/networks/{name}/update", s.postLibpodNetworkUpdate)
	s.lroute("GET", "/networks/{name}/exists", s.getLibpodNetwork)
	s.lroute("DELETE", "/networks/{name}", s.deleteLibpodNetwork)
	s.lroute("POST", "/networks/{id}/connect", s.postNetworkConnect(true))
	s.lroute("POST", "/networks/{id}/disconnect", s.postNetworkConnect(false))
}

// getLibpodVolumes is GET /libpod/volumes/json?filters=: a bare list.
func (s *Server) getLibpodVolumes(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	vs, err := listVolumes(r, rt)
	if err != nil {
		return err
	}
	out := []*view.Volume{}
	for _, v := range vs {
		out = append(out, view.NewVolume(v, rt.VolumeMountCount(v.Name)))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodVolume is GET /libpod/volumes/{name}/json, and /exists (204).
func (s *Server) getLibpodVolume(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	v, err := rt.LookupVolume(r.PathValue("name"))
	if err != nil {
		return err
	}
	if r.URL.Path[len(r.URL.Path)-len("/exists"):] == "/exists" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, view.NewVolume(v, rt.VolumeMountCount(v.Name)))
	return nil
}

// postLibpodVolumeCreate is POST /libpod/volumes/create {Name, Driver, Label, Options}: 201
// with the volume.
func (s *Server) postLibpodVolumeCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req struct {
		Name    string            `json:"Name"`
		Driver  string            `json:"Driver"`
		Label   map[string]string `json:"Label"`
		Labels  map[string]string `json:"Labels"`
		Options map[string]string `json:"Options"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Driver != "" && req.Driver != "local" {
		return badRequest("volume driver %q is not supported by pea (local)", req.Driver)
	}
	labels := req.Label
	for k, v := range req.Labels {
		if labels == nil {
			labels = map[string]string{}
		}
		labels[k] = v
	}
	v, err := rt.CreateVolume(req.Name, labels, req.Options)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, view.NewVolume(v, 0))
	return nil
}

// deleteLibpodVolume is DELETE /libpod/volumes/{name}?force=&timeout=: 204; a volume in use
// needs force, which removes its containers too (podman's volume rm -f).
func (s *Server) deleteLibpodVolume(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if err := rt.RemoveVolume(r.PathValue("name"), boolParam(r, "force", false)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getLibpodNetworks is GET /libpod/networks/json?filters=.
func (s *Server) getLibpodNetworks(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	ns, _, err := listNetworks(r, rt)
	if err != nil {
		return err
	}
	if ns == nil {
		ns = []*network.Network{}
	}
	writeJSON(w, http.StatusOK, ns)
	return nil
}

// getLibpodNetwork is GET /libpod/networks/{name}/json, and /exists (204).
func (s *Server) getLibpodNetwork(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	n, err := rt.NetworkInspect(r.PathValue("name"))
	if err != nil {
		return err
	}
	if r.URL.Path[len(r.URL.Path)-len("/exists"):] == "/exists" {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// postLibpodNetworkCreate is POST /libpod/networks/create with podman's network record: 200
// with the network made.
func (s *Server) postLibpodNetworkCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req struct {
		network.Network
		DNSEnabled *bool `json:"dns_enabled"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	o := network.CreateOptions{Name: req.Name, Driver: req.Driver, NetworkInterface: req.NetworkInterface,
		Internal: req.Internal, Labels: req.Labels, Options: req.Options, DNSServers: req.NetworkDNSServers}
	if req.DNSEnabled != nil {
		o.DisableDNS = !*req.DNSEnabled
	}
	for _, s := range req.Subnets {
		o.Subnets, o.Gateways = append(o.Subnets, s.Subnet), append(o.Gateways, s.Gateway)
		r := ""
		if lr := s.LeaseRange; lr != nil {
			r = lr.StartIP + "-" + lr.EndIP
		}
		o.IPRanges = append(o.IPRanges, r)
	}
	o.IPv6 = req.IPv6Enabled // dual stack
	for _, rt := range req.Routes {
		route := rt.Destination + "," + rt.Gateway
		if rt.Metric != nil {
			route += fmt.Sprintf(",%d", *rt.Metric)
		}
		o.Routes = append(o.Routes, route)
	}
	n, err := rt.NetworkCreate(o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, n)
	return nil
}

// postLibpodNetworkUpdate is POST /libpod/networks/{name}/update {"adddnsservers",
// "removednsservers"} (podman 5's network update): 204.
func (s *Server) postLibpodNetworkUpdate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req struct {
		Add    []string `json:"adddnsservers"`
		Remove []string `json:"removednsservers"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if _, err := rt.NetworkUpdate(r.PathValue("name"), network.UpdateOptions{AddDNSServers: req.Add, DropDNSServers: req.Remove}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteLibpodNetwork is DELETE /libpod/networks/{name}?force=&timeout=: [{"Name"}].
func (s *Server) deleteLibpodNetwork(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("name")
	var t *uint
	if v := r.URL.Query().Get("timeout"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return badRequest("invalid timeout %q", v)
		}
		u := uint(n)
		t = &u
	}
	if err := rt.NetworkRemoveTimeout(r.Context(), name, boolParam(r, "force", false), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, []map[string]any{{"Name": name}})
	return nil
}

// libpodNetworkPruneReports is libpod's answer to a network prune: [{"Name"}].
func libpodNetworkPruneReports(names []string) any {
	out := []map[string]any{}
	for _, n := range names {
		out = append(out, map[string]any{"Name": n})
	}
	return out
}

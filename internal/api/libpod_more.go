package api

// More libpod endpoints: container init and update, image tree, and the registry search
// (which Docker's /images/search answers too).

import (
	"net/http"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/view"
)

func (s *Server) libpodMoreRoutes() {
	s.lroute("POST", "/containers/{id}/init", s.postLibpodInit)
	s.lroute("POST", "/containers/{id}/update", s.postLibpodUpdate)
	s.lroute("GET", "/images/search", s.getLibpodImagesSearch)
}

// postLibpodInit is POST /libpod/containers/{id}/init: 204; 304 when it is initialized already.
func (s *Server) postLibpodInit(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := rt.LookupContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.State.Status == model.StatusInitialized {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if _, err := rt.InitContainer(r.Context(), c.Config.ID); err != nil {
		return err
	}
	s.changed(c.Config.ID)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postLibpodUpdate is POST /libpod/containers/{id}/update with the OCI LinuxResources to set
// (podman update): 201 with the container's ID, as podman's.
func (s *Server) postLibpodUpdate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var res view.SpecResources // the create's type: the same OCI LinuxResources
	if err := decodeBody(r, &res); err != nil {
		return err
	}
	if len(res.Unified) > 0 {
		return badRequest("unified cgroup settings are not supported by pea's update")
	}
	var u engine.ResourceUpdate
	if m := res.Memory; m != nil {
		if m.DisableOOMKiller != nil {
			return badRequest("the OOM killer setting cannot be updated")
		}
		u.Memory, u.MemoryReservation, u.MemorySwap = m.Limit, m.Reservation, m.Swap
		if m.Swappiness != nil {
			v := int64(*m.Swappiness)
			u.MemorySwappiness = &v
		}
	}
	if c := res.CPU; c != nil {
		u.CPUShares, u.CPUQuota, u.CPUPeriod = c.Shares, c.Quota, c.Period
		u.CPURtRuntime, u.CPURtPeriod = c.RealtimeRuntime, c.RealtimePeriod
		if c.Cpus != "" {
			u.CpusetCpus = &c.Cpus
		}
		if c.Mems != "" {
			u.CpusetMems = &c.Mems
		}
	}
	if p := res.Pids; p != nil {
		u.PidsLimit = &p.Limit
	}
	if b := res.BlockIO; b != nil {
		u.BlkioWeight = b.Weight
	}
	c, err := rt.UpdateContainerResources(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	s.changed(c.Config.ID)
	writeJSON(w, http.StatusCreated, map[string]string{"Id": c.Config.ID})
	return nil
}

// imageTree is GET /libpod/images/{name}/tree?whatrequires=: {"Tree"}, the text `image tree`
// prints.
func (s *Server) imageTree(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	img, layers, err := rt.ImageTree(name, boolParam(r, "whatrequires", false))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Tree": view.ImageTree(img, rt.ImageStorageSize(img), layers)})
	return nil
}

// searchImages runs a registry search for GET /libpod/images/search and /images/search:
// term=REGISTRY/TEXT, limit=, listTags=, tlsVerify= (a loopback registry is plain HTTP
// unless tlsVerify says otherwise).
func searchImages(r *http.Request, rt *engine.Runtime) ([]image.SearchResult, error) {
	q := r.URL.Query()
	term := q.Get("term")
	if term == "" {
		return nil, badRequest("term is required: REGISTRY/TEXT")
	}
	o := image.SearchOptions{ListTags: boolParam(r, "listTags", false)}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, badRequest("invalid limit %q", v)
		}
		o.Limit = n
	}
	host, _, _ := strings.Cut(term, "/")
	o.TLSVerify = image.LoopbackPlainHTTP(host)
	if v := q.Get("tlsVerify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, badRequest("invalid tlsVerify %q", v)
		}
		o.TLSVerify = &b
	}
	creds, err := registryCreds(r)
	if err != nil {
		return nil, err
	}
	o.Creds = creds
	res, err := rt.Search(r.Context(), term, o)
	if err != nil {
		return nil, err
	}
	if res == nil {
		res = []image.SearchResult{}
	}
	return res, nil
}

// getLibpodImagesSearch is GET /libpod/images/search: podman's results.
func (s *Server) getLibpodImagesSearch(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	res, err := searchImages(r, rt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// dockerSearchResult is one result of Docker's /images/search.
type dockerSearchResult struct {
	Description string `json:"description"`
	IsOfficial  bool   `json:"is_official"`
	IsAutomated bool   `json:"is_automated"`
	Name        string `json:"name"`
	StarCount   int    `json:"star_count"`
}

// dockerSearch is Docker's shape of the search results.
func dockerSearch(res []image.SearchResult) []dockerSearchResult {
	out := []dockerSearchResult{}
	for _, x := range res {
		out = append(out, dockerSearchResult{Description: x.Description, IsOfficial: x.Official == "[OK]",
			IsAutomated: x.Automated == "[OK]", Name: x.Name, StarCount: x.Stars})
	}
	return out
}

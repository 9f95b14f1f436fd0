package api

import (
	"net/http"

	"pea/internal/engine"
)

// postContainerUpdate is POST /containers/{id}/update (docker update): the limits the body
// sets (Docker's zero means "unchanged") go to the container, running or not.
func (s *Server) postContainerUpdate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req struct {
		Memory, MemorySwap, MemoryReservation, NanoCpus, CPUQuota int64
		CPUShares                                                 int64  `json:"CpuShares"`
		CPUPeriod                                                 int64  `json:"CpuPeriod"`
		CpusetCpus, CpusetMems                                    string `json:",omitempty"`
		PidsLimit                                                 *int64
		RestartPolicy                                             *restartPolicy
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.RestartPolicy != nil && req.RestartPolicy.Name != "" {
		return badRequest("updating the restart policy is not supported")
	}
	var u engine.ResourceUpdate
	if req.Memory != 0 {
		u.Memory = &req.Memory
	}
	if req.MemorySwap != 0 {
		u.MemorySwap = &req.MemorySwap
	}
	if req.MemoryReservation != 0 {
		u.MemoryReservation = &req.MemoryReservation
	}
	if req.NanoCpus != 0 {
		if req.NanoCpus < 0 {
			return badRequest("invalid NanoCpus %d", req.NanoCpus)
		}
		cpus := float64(req.NanoCpus) / 1e9
		u.CPUs = &cpus
	}
	if req.CPUShares > 0 {
		v := uint64(req.CPUShares)
		u.CPUShares = &v
	}
	if req.CPUPeriod > 0 {
		v := uint64(req.CPUPeriod)
		u.CPUPeriod = &v
	}
	if req.CPUQuota != 0 {
		u.CPUQuota = &req.CPUQuota
	}
	if req.CpusetCpus != "" {
		u.CpusetCpus = &req.CpusetCpus
	}
	if req.CpusetMems != "" {
		u.CpusetMems = &req.CpusetMems
	}
	if req.PidsLimit != nil && *req.PidsLimit != 0 {
		u.PidsLimit = req.PidsLimit
	}
	if u != (engine.ResourceUpdate{}) {
		if _, err := rt.UpdateContainerResources(r.Context(), c.Config.ID, u); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"Warnings": []string{}})
	return nil
}

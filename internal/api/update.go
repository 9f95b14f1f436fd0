package api

import (
	"net/http"
	"strconv"

	"pea/internal/engine"
)

// updateRequest is Docker's container.UpdateConfig: the resources and the restart policy.
type updateRequest struct {
	Memory, MemorySwap, MemoryReservation, NanoCpus, KernelMemory, KernelMemoryTCP int64
	CPUQuota                                                                       int64  `json:"CpuQuota"`
	CPUShares                                                                      int64  `json:"CpuShares"`
	CPUPeriod                                                                      int64  `json:"CpuPeriod"`
	CPURealtimePeriod                                                              int64  `json:"CpuRealtimePeriod"`
	CPURealtimeRuntime                                                             int64  `json:"CpuRealtimeRuntime"`
	CpusetCpus, CpusetMems                                                         string `json:",omitempty"`
	PidsLimit                                                                      *int64
	MemorySwappiness                                                               *int64
	BlkioWeight                                                                    uint16
	BlkioWeightDevice                                                              []weightDevice
	BlkioDeviceReadBps, BlkioDeviceWriteBps                                        []throttleDevice
	BlkioDeviceReadIOps, BlkioDeviceWriteIOps                                      []throttleDevice
	// What a running container's update cannot change: refused when set.
	OomKillDisable                    *bool
	Devices                           []deviceMapping
	DeviceCgroupRules                 []string
	DeviceRequests                    []deviceRequest
	Ulimits                           []ulimit
	CgroupParent                      string
	CPUCount                          int64 `json:"CpuCount"`
	CPUPercent                        int64 `json:"CpuPercent"`
	IOMaximumIOps, IOMaximumBandwidth uint64
	RestartPolicy                     *restartPolicy
}

// postContainerUpdate is POST /containers/{id}/update (docker update): the limits the body
// sets (Docker's zero means "unchanged") go to the container, running or not, and the restart
// policy to its next exits.
func (s *Server) postContainerUpdate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req updateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	switch {
	case req.OomKillDisable != nil && *req.OomKillDisable, len(req.Devices) > 0, len(req.DeviceCgroupRules) > 0,
		len(req.DeviceRequests) > 0, len(req.Ulimits) > 0, req.CgroupParent != "":
		return badRequest("update cannot change OomKillDisable, Devices, DeviceCgroupRules, DeviceRequests, Ulimits or CgroupParent: they are fixed at creation")
	case req.IOMaximumBandwidth != 0 || req.IOMaximumIOps != 0:
		return badRequest("Invalid QoS settings: linux does not support Maximum IO Bandwidth or Maximum IO IOps")
	}
	policy := ""
	if p := req.RestartPolicy; p != nil && p.Name != "" {
		switch p.Name {
		case "no", "always", "unless-stopped":
			if p.MaximumRetryCount != 0 {
				return badRequest("invalid restart policy: maximum retry count can only be used with 'on-failure'")
			}
			policy = p.Name
		case "on-failure":
			if p.MaximumRetryCount < 0 {
				return badRequest("invalid restart policy: maximum retry count cannot be negative")
			}
			policy = p.Name
			if p.MaximumRetryCount > 0 {
				policy += ":" + strconv.Itoa(p.MaximumRetryCount)
			}
		default:
			return badRequest("invalid restart policy %q (no, always, unless-stopped, on-failure)", p.Name)
		}
		if c.Config.AutoRemove && p.Name != "no" {
			return badRequest("Restart policy cannot be updated because AutoRemove is enabled for the container")
		}
	}
	u, err := req.resourceUpdate()
	if err != nil {
		return err
	}
	if u != (engine.ResourceUpdate{}) {
		if _, err := rt.UpdateContainerResources(r.Context(), c.Config.ID, u); err != nil {
			return err
		}
	}
	if policy != "" {
		if _, err := rt.UpdateRestartPolicy(c.Config.ID, policy); err != nil {
			return err
		}
	}
	warnings := []string{}
	if req.KernelMemory > 0 || req.KernelMemoryTCP > 0 {
		warnings = append(warnings, "Kernel memory limits are not supported (deprecated by the kernel and ignored by OCI runtimes): KernelMemory discarded.")
	}
	if req.CPUCount > 0 || req.CPUPercent > 0 {
		warnings = append(warnings, "linux does not support CPU count or percent: discarded.")
	}
	writeJSON(w, http.StatusOK, map[string]any{"Warnings": warnings})
	return nil
}

// resourceUpdate is the engine's change of the limits the request sets.
func (req *updateRequest) resourceUpdate() (engine.ResourceUpdate, error) {
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
			return u, badRequest("invalid NanoCpus %d", req.NanoCpus)
		}
		if req.CPUPeriod > 0 || req.CPUQuota > 0 {
			return u, badRequest("Conflicting options: NanoCpus cannot be set with CpuPeriod or CpuQuota (--cpus sets both)")
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
	if req.CPURealtimePeriod > 0 {
		v := uint64(req.CPURealtimePeriod)
		u.CPURtPeriod = &v
	}
	if req.CPURealtimeRuntime != 0 {
		u.CPURtRuntime = &req.CPURealtimeRuntime
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
	if s := req.MemorySwappiness; s != nil && *s != -1 {
		if *s < 0 || *s > 100 {
			return u, badRequest("invalid MemorySwappiness %d: from 0 to 100", *s)
		}
		u.MemorySwappiness = s
	}
	if req.BlkioWeight != 0 {
		u.BlkioWeight = &req.BlkioWeight
	}
	if len(req.BlkioWeightDevice) > 0 {
		var l []string
		for _, d := range req.BlkioWeightDevice {
			l = append(l, d.Path+":"+strconv.FormatUint(uint64(d.Weight), 10))
		}
		u.BlkioWeightDevice = &l
	}
	for _, d := range []struct {
		from []throttleDevice
		to   **[]string
	}{{req.BlkioDeviceReadBps, &u.DeviceReadBps}, {req.BlkioDeviceWriteBps, &u.DeviceWriteBps},
		{req.BlkioDeviceReadIOps, &u.DeviceReadIOps}, {req.BlkioDeviceWriteIOps, &u.DeviceWriteIOps}} {
		if len(d.from) == 0 {
			continue
		}
		var l []string
		for _, t := range d.from {
			l = append(l, t.Path+":"+strconv.FormatUint(t.Rate, 10))
		}
		*d.to = &l
	}
	return u, nil
}

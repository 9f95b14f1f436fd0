package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// ResourceUpdate is a change of a container's limits (podman's update): each field set
// replaces the container's value; the others stay.
type ResourceUpdate struct {
	Memory, MemorySwap, MemoryReservation *int64
	CPUs                                  *float64
	CPUShares, CPUPeriod                  *uint64
	CPUQuota                              *int64
	CpusetCpus, CpusetMems                *string
	PidsLimit                             *int64
	// Block I/O: the weight, and per-device lists (DEVICE:VALUE) that replace the old ones.
	BlkioWeight                                                                       *uint16
	BlkioWeightDevice, DeviceReadBps, DeviceWriteBps, DeviceReadIOps, DeviceWriteIOps *[]string
	MemorySwappiness                                                                  *int64
	CPURtPeriod                                                                       *uint64
	CPURtRuntime                                                                      *int64
}

// apply sets the fields of u on r. --cpus and the period/quota pair set the same limit: the
// one given replaces the other, as a removed memory limit takes its swap limit along.
func (u ResourceUpdate) apply(r *model.Resources) {
	if u.CPUs != nil {
		r.CPUQuota, r.CPUPeriod = 0, 0
	}
	if u.CPUQuota != nil || u.CPUPeriod != nil {
		r.CPUs = 0
	}
	if u.Memory != nil && *u.Memory == 0 && u.MemorySwap == nil {
		r.MemorySwap = 0
	}
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.Memory, u.Memory)
	set(&r.MemorySwap, u.MemorySwap)
	set(&r.MemoryReservation, u.MemoryReservation)
	set(&r.CPUQuota, u.CPUQuota)
	set(&r.PidsLimit, u.PidsLimit)
	if u.CPUs != nil {
		r.CPUs = *u.CPUs
	}
	if u.CPUShares != nil {
		r.CPUShares = *u.CPUShares
	}
	if u.CPUPeriod != nil {
		r.CPUPeriod = *u.CPUPeriod
	}
	if u.CpusetCpus != nil {
		r.CpusetCpus = *u.CpusetCpus
	}
	if u.CpusetMems != nil {
		r.CpusetMems = *u.CpusetMems
	}
	if u.BlkioWeight != nil {
		r.BlkioWeight = *u.BlkioWeight
	}
	for _, l := range []struct {
		dst *[]string
		v   *[]string
	}{{&r.BlkioWeightDevice, u.BlkioWeightDevice}, {&r.DeviceReadBps, u.DeviceReadBps}, {&r.DeviceWriteBps, u.DeviceWriteBps},
		{&r.DeviceReadIOps, u.DeviceReadIOps}, {&r.DeviceWriteIOps, u.DeviceWriteIOps}} {
		if l.v != nil {
			*l.dst = slices.Clone(*l.v)
		}
	}
	if u.MemorySwappiness != nil {
		sw := *u.MemorySwappiness
		r.MemorySwappiness = &sw
		if sw < 0 {
			r.MemorySwappiness = nil // the kernel's again
		}
	}
	if u.CPURtPeriod != nil {
		r.CPURtPeriod = *u.CPURtPeriod
	}
	set(&r.CPURtRuntime, u.CPURtRuntime)
}

// UpdateContainerResources changes a container's cgroup limits: a running container's at once
// (the runtime's update), and its configuration for its next starts. Nothing changes when the
// new limits are refused.
func (r *Runtime) UpdateContainerResources(ctx context.Context, nameOrID string, u ResourceUpdate) (*model.Container, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	res := c.Config.Resources
	u.apply(&res)
	if u.Memory != nil && u.MemorySwap == nil && res.MemorySwap > 0 && res.MemorySwap < res.Memory {
		res.MemorySwap = 0 // the old swap limit below the new memory limit: the default again
	}
	if u.Memory != nil && u.MemorySwap == nil && res.MemorySwap == 0 {
		defaultSwap(&res)
	}
	if res.Memory != 0 && res.Memory < 6*1024*1024 {
		return nil, fmt.Errorf("invalid memory limit %d: the minimum is 6MB: %w", res.Memory, errdefs.ErrInvalid)
	}
	if err := validateResources(res); err != nil {
		return nil, err
	}
	if err := resolveBlkioDevices(&res); err != nil {
		return nil, err
	}
	if err := checkBlkioWeight(res); err != nil {
		return nil, err
	}
	if s := res.MemorySwappiness; s != nil && *s > 100 {
		return nil, fmt.Errorf("invalid --memory-swappiness %d: from 0 to 100, or -1 for the kernel's: %w", *s, errdefs.ErrInvalid)
	}
	probe := *c.Config
	probe.Resources = res
	if err := checkRealtime(&probe); err != nil {
		return nil, err
	}
	if err := r.syncLocked(c); err != nil {
		return nil, err
	}
	if c.State.Active() {
		lr := &specs.LinuxResources{}
		linuxResources(res, lr)
		u.unlimit(res, lr)
		js, err := json.Marshal(lr)
		if err != nil {
			return nil, err
		}
		rt, err := r.ociRuntime()
		if err != nil {
			return nil, err
		}
		if err := rt.Update(c.Config.ID, js); err != nil {
			return nil, fmt.Errorf("updating the limits of %s: %v: %w", c.Config.Name, err, errdefs.ErrInvalid)
		}
	}
	c.Config.Resources = res
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	if err := st.SaveContainerConfig(c.Config); err != nil {
		return nil, err
	}
	r.containerEvent(c.Config, "update")
	return c, nil
}

// unlimit writes into lr, for the runtime's update, the limits u removes: the spec leaves an
// absent limit out (the kernel's default at creation), but an update must say "no limit" for
// the running container to lose the old one.
func (u ResourceUpdate) unlimit(res model.Resources, lr *specs.LinuxResources) {
	none := int64(-1) // memory: the runtime writes "max"
	mem := func() *specs.LinuxMemory {
		if lr.Memory == nil {
			lr.Memory = &specs.LinuxMemory{}
		}
		return lr.Memory
	}
	if u.Memory != nil && res.Memory == 0 {
		mem().Limit = &none
		mem().Swap = &none
	}
	if u.MemorySwap != nil && res.MemorySwap == -1 {
		mem().Swap = &none
	}
	cpu := func() *specs.LinuxCPU {
		if lr.CPU == nil {
			lr.CPU = &specs.LinuxCPU{}
		}
		return lr.CPU
	}
	if (u.CPUQuota != nil || u.CPUs != nil) && res.CPUQuota <= 0 && res.CPUs == 0 {
		// crun 1.8 refuses -1 here ("out of range"): a quota of every CPU for each period
		// limits nothing.
		period := uint64(100000)
		if res.CPUPeriod > 0 {
			period = res.CPUPeriod
		}
		all := int64(period) * int64(cpupin.NumCPU())
		cpu().Period, cpu().Quota = &period, &all
	}
	if u.PidsLimit != nil && res.PidsLimit <= 0 {
		// crun 1.8 writes -1 as it is, which pids.max refuses; the kernel's highest limit
		// (PID_MAX_LIMIT) is no limit.
		most := int64(4194304)
		lr.Pids = &specs.LinuxPids{Limit: &most}
	}
}

// UpdateRestartPolicy changes a container's restart policy (Docker's update --restart): no,
// always, unless-stopped or on-failure[:N], from its next exit on. An auto-removed container
// keeps none.
func (r *Runtime) UpdateRestartPolicy(nameOrID, policy string) (*model.Container, error) {
	name, n, hasN := strings.Cut(policy, ":")
	switch name {
	case "no", "always", "unless-stopped":
		if hasN {
			return nil, fmt.Errorf("invalid restart policy %q: only on-failure takes a retry count: %w", policy, errdefs.ErrInvalid)
		}
	case "on-failure":
		if _, err := strconv.ParseUint(n, 10, 16); hasN && err != nil {
			return nil, fmt.Errorf("invalid restart policy %q: want on-failure[:N]: %w", policy, errdefs.ErrInvalid)
		}
	default:
		return nil, fmt.Errorf("invalid restart policy %q (no, always, unless-stopped, on-failure[:N]): %w", policy, errdefs.ErrInvalid)
	}
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()
	if c.Config.AutoRemove && name != "no" {
		return nil, fmt.Errorf("the restart policy of %s cannot be %s: it is removed when it exits (--rm): %w", c.Config.Name, name, errdefs.ErrInvalid)
	}
	c.Config.RestartPolicy = policy
	if name == "no" {
		c.Config.RestartPolicy = ""
	}
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	if err := st.SaveContainerConfig(c.Config); err != nil {
		return nil, err
	}
	r.containerEvent(c.Config, "update")
	return c, nil
}

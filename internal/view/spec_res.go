package view

import (
	"strconv"
	"strings"

	"pea/internal/model"
)

// The limits of a SpecGenerator or PodSpecGenerator: the OCI runtime spec's LinuxResources and
// the per-device block I/O maps.

// specResources is the LinuxResources of pea's limits, nil when there are none.
func specResources(r model.Resources) *SpecResources {
	out := &SpecResources{}
	if r.Memory != 0 || r.MemoryReservation != 0 || r.MemorySwap != 0 || r.MemorySwappiness != nil || r.OOMKillDisable {
		m := &SpecMemory{}
		if r.Memory != 0 {
			m.Limit = ptr(r.Memory)
			m.Swap = ptr(r.MemorySwap) // also 0: no swap limit of the host's making (no swap accounting)
		}
		if r.MemorySwap != 0 {
			m.Swap = ptr(r.MemorySwap)
		}
		if r.MemoryReservation != 0 {
			m.Reservation = ptr(r.MemoryReservation)
		}
		if r.MemorySwappiness != nil {
			m.Swappiness = ptr(uint64(*r.MemorySwappiness))
		}
		if r.OOMKillDisable {
			m.DisableOOMKiller = ptr(true)
		}
		out.Memory = m
	}
	c := &SpecCPU{Cpus: r.CpusetCpus, Mems: r.CpusetMems}
	if r.CPUShares != 0 {
		c.Shares = ptr(r.CPUShares)
	}
	switch {
	case r.CPUs > 0:
		c.Period, c.Quota = ptr(uint64(100000)), ptr(int64(r.CPUs*100000))
	default:
		if r.CPUPeriod != 0 {
			c.Period = ptr(r.CPUPeriod)
		}
		if r.CPUQuota != 0 {
			c.Quota = ptr(r.CPUQuota)
		}
	}
	if r.CPURtRuntime != 0 {
		c.RealtimeRuntime = ptr(r.CPURtRuntime)
	}
	if r.CPURtPeriod != 0 {
		c.RealtimePeriod = ptr(r.CPURtPeriod)
	}
	if *c != (SpecCPU{}) {
		out.CPU = c
	}
	if r.PidsLimit > 0 {
		out.Pids = &SpecPids{Limit: r.PidsLimit}
	}
	if r.BlkioWeight > 0 {
		out.BlockIO = &SpecBlockIO{Weight: ptr(r.BlkioWeight)}
	}
	if out.Memory == nil && out.CPU == nil && out.Pids == nil && out.BlockIO == nil {
		return nil
	}
	return out
}

// specDeviceValues turns pea's DEVICE:VALUE block I/O lists into podman's maps by device path.
func specDeviceValues(r model.Resources) (weight, readBps, writeBps, readIOps, writeIOps map[string]SpecDeviceValue) {
	conv := func(list []string, isWeight bool) map[string]SpecDeviceValue {
		var out map[string]SpecDeviceValue
		for _, spec := range list {
			i := strings.LastIndex(spec, ":")
			n, err := strconv.ParseUint(spec[i+1:], 10, 64)
			if i <= 0 || err != nil {
				continue
			}
			v := SpecDeviceValue{Rate: n}
			if isWeight {
				v = SpecDeviceValue{Weight: ptr(uint16(n))}
			}
			if out == nil {
				out = map[string]SpecDeviceValue{}
			}
			out[spec[:i]] = v
		}
		return out
	}
	return conv(r.BlkioWeightDevice, true), conv(r.DeviceReadBps, false), conv(r.DeviceWriteBps, false),
		conv(r.DeviceReadIOps, false), conv(r.DeviceWriteIOps, false)
}

func ptr[T any](v T) *T { return &v }

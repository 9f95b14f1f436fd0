package api

import (
	"fmt"
	"sort"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/view"
)

// The resource limits of a SpecGenerator: cgroup settings (in the OCI spec's form, sizes in
// bytes), rlimits and block I/O devices.

func (sp *libpodSpec) applyResources(cfg *model.ContainerConfig, _ *engine.CreateOptions) error {
	res := &cfg.Resources
	if err := applyResourceLimits(sp.ResourceLimits, res); err != nil {
		return err
	}
	if r := sp.ResourceLimits; r != nil && len(r.Unified) > 0 {
		cfg.CgroupConf = r.Unified
	}
	if sp.ShmSize != nil && *sp.ShmSize > 0 {
		res.ShmSize = *sp.ShmSize
	}
	for _, d := range sp.DeviceRules {
		if !d.Allow {
			return invalidSpec("--device-cgroup-rule: pea's rules allow devices, they do not deny them")
		}
		num := func(n *int64) string {
			if n == nil {
				return "*"
			}
			return fmt.Sprint(*n)
		}
		res.DeviceCgroupRules = append(res.DeviceCgroupRules, fmt.Sprintf("%s %s:%s %s", d.Type, num(d.Major), num(d.Minor), d.Access))
	}
	var err error
	if res.BlkioWeightDevice, err = deviceValues("--blkio-weight-device", sp.WeightDevice, true); err != nil {
		return err
	}
	if res.DeviceReadBps, err = deviceValues("--device-read-bps", sp.ReadBps, false); err != nil {
		return err
	}
	if res.DeviceWriteBps, err = deviceValues("--device-write-bps", sp.WriteBps, false); err != nil {
		return err
	}
	if res.DeviceReadIOps, err = deviceValues("--device-read-iops", sp.ReadIOps, false); err != nil {
		return err
	}
	if res.DeviceWriteIOps, err = deviceValues("--device-write-iops", sp.WriteIOps, false); err != nil {
		return err
	}
	for _, l := range sp.Rlimits {
		rl, err := oci.ParseUlimit(fmt.Sprintf("%s=%d:%d", l.Type, l.Soft, l.Hard))
		if err != nil {
			return err
		}
		cfg.Ulimits = append(cfg.Ulimits, model.Ulimit{Name: strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_")), Soft: rl.Soft, Hard: rl.Hard})
	}
	return nil
}

// applyResourceLimits sets the cgroup limits of r (nil: none) on res: memory, CPU, pids and the
// block I/O weight.
func applyResourceLimits(r *view.SpecResources, res *model.Resources) error {
	if r == nil {
		return nil
	}
	if m := r.Memory; m != nil {
		if m.Limit != nil && *m.Limit > 0 {
			res.Memory = *m.Limit
			if res.Memory < 6*1024*1024 {
				return invalidSpec("invalid --memory %d: the minimum memory limit is 6MB", res.Memory)
			}
			// The client sends the swap limit it wants (twice the memory without
			// --memory-swap); none with a limit is --memory-swap -1.
			res.MemorySwap = -1
		}
		if m.Swap != nil {
			res.MemorySwap = *m.Swap
		}
		if m.Reservation != nil {
			res.MemoryReservation = *m.Reservation
		}
		if m.Swappiness != nil {
			if *m.Swappiness > 100 {
				return invalidSpec("invalid --memory-swappiness %d: from 0 to 100", *m.Swappiness)
			}
			sw := int64(*m.Swappiness)
			res.MemorySwappiness = &sw
		}
		if m.DisableOOMKiller != nil {
			res.OOMKillDisable = *m.DisableOOMKiller
		}
	}
	if c := r.CPU; c != nil {
		// --cpus comes as a quota of a 100ms period, which gives the cgroup the same values.
		if c.Shares != nil {
			res.CPUShares = *c.Shares
		}
		if c.Quota != nil {
			res.CPUQuota = *c.Quota
		}
		if c.Period != nil {
			res.CPUPeriod = *c.Period
		}
		if c.RealtimeRuntime != nil {
			res.CPURtRuntime = *c.RealtimeRuntime
		}
		if c.RealtimePeriod != nil {
			res.CPURtPeriod = *c.RealtimePeriod
		}
		res.CpusetCpus, res.CpusetMems = c.Cpus, c.Mems
	}
	if p := r.Pids; p != nil && p.Limit > 0 { // 0: --pids-limit 0 or -1, no limit
		res.PidsLimit = p.Limit
	}
	if b := r.BlockIO; b != nil && b.Weight != nil {
		res.BlkioWeight = *b.Weight
	}
	return nil
}

// deviceValues turns a map of device path to weight or rate into pea's DEVICE:VALUE list,
// sorted by device.
func deviceValues(flag string, m map[string]view.SpecDeviceValue, weight bool) ([]string, error) {
	var out []string
	for dev, v := range m {
		if !strings.HasPrefix(dev, "/") {
			return nil, invalidSpec("%s %s: a device path is needed", flag, dev)
		}
		n := v.Rate
		if weight {
			if v.Weight == nil {
				return nil, invalidSpec("%s %s: no weight", flag, dev)
			}
			n = uint64(*v.Weight)
		}
		out = append(out, fmt.Sprintf("%s:%d", dev, n))
	}
	sort.Strings(out)
	return out, nil
}

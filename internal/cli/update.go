package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

func init() { register(newUpdateCommand, "update") }

type updateOptions struct{ publish, unpublish []string }

func (o *updateOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&o.publish, "publish", "p", nil, "publish one more port: [hostIP:][hostPort:]containerPort[/proto]")
	cmd.Flags().StringArrayVar(&o.unpublish, "unpublish", nil, "stop publishing a port: [hostPort:]containerPort[/proto]")
}

func (o *updateOptions) parse() (publish, unpublish []model.PortMapping, err error) {
	for _, p := range o.publish {
		pm, err := parsePublish(p)
		if err != nil {
			return nil, nil, err
		}
		publish = append(publish, pm...)
	}
	for _, p := range o.unpublish {
		pm, err := parsePublish(p)
		if err != nil {
			return nil, nil, err
		}
		unpublish = append(unpublish, pm...)
	}
	if len(publish)+len(unpublish) == 0 {
		return nil, nil, usageError{fmt.Errorf("nothing to update: give --publish or --unpublish")}
	}
	return publish, unpublish, nil
}

// resourceFlags are podman's `update` limits.
type resourceFlags struct {
	memory, memorySwap, memoryReservation, cpusetCpus, cpusetMems string
	cpus                                                          float64
	cpuShares, cpuPeriod                                          uint64
	cpuQuota, pidsLimit                                           int64
	// Block I/O, swappiness, real-time CPU (podman's update has them too).
	blkioWeight                                               uint16
	blkioWeightDevice, readBps, writeBps, readIOps, writeIOps []string
	memorySwappiness, cpuRtRuntime                            int64
	cpuRtPeriod                                               uint64
}

func (f *resourceFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.memory, "memory", "m", "", "memory limit (a size with an optional unit: b, k, m, g)")
	fs.StringVar(&f.memorySwap, "memory-swap", "", "memory and swap together (-1: unlimited swap)")
	fs.StringVar(&f.memoryReservation, "memory-reservation", "", "soft memory limit")
	fs.Float64Var(&f.cpus, "cpus", 0, "number of CPUs")
	fs.Uint64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fs.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CPU CFS period, microseconds")
	fs.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CPU CFS quota, microseconds (-1: none)")
	fs.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs the container may use (0-3, 0,1)")
	fs.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes the container may use")
	fs.Int64Var(&f.pidsLimit, "pids-limit", 0, "process limit (-1: none)")
	fs.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "block I/O weight (10-1000)")
	listVar(fs, &f.blkioWeightDevice, "blkio-weight-device", nil, "block I/O weight of a device: DEVICE:WEIGHT (replaces the old list)")
	listVar(fs, &f.readBps, "device-read-bps", nil, "read rate limit of a device: DEVICE:RATE (replaces the old list)")
	listVar(fs, &f.writeBps, "device-write-bps", nil, "write rate limit of a device: DEVICE:RATE (replaces the old list)")
	listVar(fs, &f.readIOps, "device-read-iops", nil, "read operations per second of a device: DEVICE:N (replaces the old list)")
	listVar(fs, &f.writeIOps, "device-write-iops", nil, "write operations per second of a device: DEVICE:N (replaces the old list)")
	fs.Int64Var(&f.memorySwappiness, "memory-swappiness", -1, "swappiness of the container's memory (0-100, -1: the kernel's)")
	fs.Uint64Var(&f.cpuRtPeriod, "cpu-rt-period", 0, "real-time CPU period, microseconds")
	fs.Int64Var(&f.cpuRtRuntime, "cpu-rt-runtime", 0, "real-time CPU time per period, microseconds")
}

// update is the flags given on the command line as a resource update; ok is false when none was.
func (f *resourceFlags) update(changed func(string) bool) (u engine.ResourceUpdate, ok bool, err error) {
	size := func(name, v string) (*int64, error) {
		n, err := engine.ParseSize(v)
		if err != nil {
			return nil, invalid("invalid --%s %q: use a number with an optional unit (b, k, m, g)", name, v)
		}
		return &n, nil
	}
	if changed("memory") {
		if u.Memory, err = size("memory", f.memory); err != nil {
			return u, false, err
		}
	}
	if changed("memory-swap") {
		n, err := parseMemorySwap(f.memorySwap)
		if err != nil {
			return u, false, err
		}
		u.MemorySwap = &n
	}
	if changed("memory-reservation") {
		if u.MemoryReservation, err = size("memory-reservation", f.memoryReservation); err != nil {
			return u, false, err
		}
	}
	if changed("cpus") {
		if f.cpus < 0 {
			return u, false, invalid("invalid --cpus %v: must be positive", f.cpus)
		}
		u.CPUs = &f.cpus
	}
	if changed("cpu-shares") {
		u.CPUShares = &f.cpuShares
	}
	if changed("cpu-period") {
		u.CPUPeriod = &f.cpuPeriod
	}
	if changed("cpu-quota") {
		u.CPUQuota = &f.cpuQuota
	}
	if changed("cpuset-cpus") {
		u.CpusetCpus = &f.cpusetCpus
	}
	if changed("cpuset-mems") {
		u.CpusetMems = &f.cpusetMems
	}
	if changed("pids-limit") {
		u.PidsLimit = &f.pidsLimit
	}
	if changed("blkio-weight") {
		u.BlkioWeight = &f.blkioWeight
	}
	for _, l := range []struct {
		name string
		dst  **[]string
		v    *[]string
	}{{"blkio-weight-device", &u.BlkioWeightDevice, &f.blkioWeightDevice}, {"device-read-bps", &u.DeviceReadBps, &f.readBps},
		{"device-write-bps", &u.DeviceWriteBps, &f.writeBps}, {"device-read-iops", &u.DeviceReadIOps, &f.readIOps},
		{"device-write-iops", &u.DeviceWriteIOps, &f.writeIOps}} {
		if changed(l.name) {
			*l.dst = l.v
		}
	}
	if changed("memory-swappiness") {
		if f.memorySwappiness < -1 || f.memorySwappiness > 100 {
			return u, false, invalid("invalid --memory-swappiness %d: from 0 to 100, or -1 for the kernel's", f.memorySwappiness)
		}
		u.MemorySwappiness = &f.memorySwappiness
	}
	if changed("cpu-rt-period") {
		u.CPURtPeriod = &f.cpuRtPeriod
	}
	if changed("cpu-rt-runtime") {
		u.CPURtRuntime = &f.cpuRtRuntime
	}
	ok = u != (engine.ResourceUpdate{})
	return u, ok, nil
}

// newUpdateCommand is `pea update`: a container's limits (podman's update), and its published
// ports (pea's own), running or not.
func newUpdateCommand(a *app) *cobra.Command {
	var o updateOptions
	var res resourceFlags
	cmd := &cobra.Command{
		Use:   "update [options] CONTAINER",
		Short: "Change the limits or the published ports of a container, running or not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, hasLimits, err := res.update(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			var pub, unpub []model.PortMapping
			if len(o.publish)+len(o.unpublish) == 0 && !hasLimits {
				return usageError{fmt.Errorf("nothing to update: give a limit (--memory, --cpus, ...) or --publish/--unpublish")}
			}
			if len(o.publish)+len(o.unpublish) > 0 {
				if pub, unpub, err = o.parse(); err != nil {
					return err
				}
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			id := "" // everything is parsed above: a bad port cannot leave the limits half done
			if hasLimits {
				c, err := rt.UpdateContainerResources(context.Background(), args[0], u)
				if err != nil {
					return err
				}
				id = c.Config.ID
			}
			if len(pub)+len(unpub) > 0 {
				c, err := rt.UpdateContainerPorts(context.Background(), args[0], pub, unpub)
				if err != nil {
					return err
				}
				id = c.Config.ID
			}
			fmt.Fprintln(a.stdout, id)
			return nil
		},
	}
	o.register(cmd)
	res.register(cmd)
	return cmd
}

// newPodUpdateCommand is `pea pod update`: the published ports of a pod.
func newPodUpdateCommand(a *app) *cobra.Command {
	return updateCommand(a, "POD", "Change the published ports of a pod, running or not, without restarting it",
		func(rt *engine.Runtime, name string, pub, unpub []model.PortMapping) (string, error) {
			p, err := rt.UpdatePodPorts(context.Background(), name, pub, unpub)
			if err != nil {
				return "", err
			}
			return p.Config.ID, nil
		})
}

func updateCommand(a *app, what, short string, update func(rt *engine.Runtime, name string, pub, unpub []model.PortMapping) (string, error)) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [options] " + what,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, unpub, err := o.parse()
			if err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			id, err := update(rt, args[0], pub, unpub)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, id)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

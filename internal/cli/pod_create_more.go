package cli

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"pea/internal/model"
)

// podMoreFlags are pod create's --volumes-from, CPU shares, block I/O and infra conmon PID
// file flags.
type podMoreFlags struct {
	volumesFrom, blkioWeightDevice, readBps, writeBps []string
	blkioWeight                                       uint16
	cpuShares                                         uint64
	infraConmonPidFile, ip6, subUIDName, subGIDName   string
}

func (f *podMoreFlags) register(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.volumesFrom, "volumes-from", nil, "give every member the volumes and bind mounts of a container: CTR[:ro|rw]")
	fs.Uint16Var(&f.blkioWeight, "blkio-weight", 0, "block I/O weight of the pod (10-1000)")
	listVar(fs, &f.blkioWeightDevice, "blkio-weight-device", nil, "block I/O weight of the pod on a device: DEVICE:WEIGHT")
	fs.Uint64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight) of the pod")
	listVar(fs, &f.readBps, "device-read-bps", nil, "read rate limit of the pod on a device: DEVICE:RATE")
	listVar(fs, &f.writeBps, "device-write-bps", nil, "write rate limit of the pod on a device: DEVICE:RATE")
	fs.StringVar(&f.infraConmonPidFile, "infra-conmon-pidfile", "", "write the infra container's conmon PID to this host file")
	fs.StringVar(&f.ip6, "ip6", "", "static IPv6 address of the pod (on a network with an IPv6 subnet)")
	fs.StringVar(&f.subUIDName, "subuidname", "", "a user namespace for the pod mapping the UIDs of this name's /etc/subuid ranges")
	fs.StringVar(&f.subGIDName, "subgidname", "", "a user namespace for the pod mapping the GIDs of this name's /etc/subgid ranges")
}

// prepare turns --subuidname/--subgidname into the pod's ID maps, before those are read.
func (f *podMoreFlags) prepare(o *podCreateOptions) error {
	sub := moreCreateFlags{subUIDName: f.subUIDName, subGIDName: f.subGIDName}
	return sub.subIDMaps(&o.uidmap, &o.gidmap)
}

func (f *podMoreFlags) apply(cfg *model.PodConfig) error {
	cfg.VolumesFrom = f.volumesFrom
	r := &cfg.Resources
	r.BlkioWeight, r.BlkioWeightDevice, r.CPUShares = f.blkioWeight, f.blkioWeightDevice, f.cpuShares
	r.DeviceReadBps, r.DeviceWriteBps = f.readBps, f.writeBps
	if f.infraConmonPidFile != "" {
		if !cfg.HasInfra {
			return invalid("--infra-conmon-pidfile needs an infra container (--infra)")
		}
		abs, err := filepath.Abs(f.infraConmonPidFile)
		if err != nil {
			return err
		}
		cfg.InfraConmonPidFile = abs
	}
	return nil
}

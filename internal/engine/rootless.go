package engine

import (
	"log/slog"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/cgroups"
	"pea/internal/model"
	"pea/internal/network"
	"pea/internal/rootless"
)

// A rootless pea (internal/rootless) works as root of the user's own user namespace; what
// that root cannot do on the host is adapted here.

// rootlessCgroups: a rootless pea cannot make cgroups (cgroupfs wants root of the host, and
// nothing delegates a subtree to the user here), so its containers run without one, as
// podman's do on a cgroup v1 host, and their resource limits are dropped with podman's warning.
// Pods have no pod cgroup either (see rootlessPod).
func rootlessCgroups(cfg *model.ContainerConfig) {
	cfg.Cgroups = CgroupsDisabled
	dropLimits(&cfg.Resources)
	cfg.Resources.DeviceCgroupRules = nil // no device cgroup: crun binds the devices a container is given
	cfg.CgroupParent = ""
}

// rootlessPod: a rootless pod has no pod cgroup.
func rootlessPod(cfg *model.PodConfig) {
	dropLimits(&cfg.Resources)
	cfg.UsePodCgroup = false
	cfg.ShareCgroup = false
	cfg.CgroupParent = ""
}

func dropLimits(r *model.Resources) {
	if hasLimits(r) {
		if cgroups.Mode() == "v1" {
			slog.Warn("Resource limits are not supported and ignored on cgroups V1 rootless systems") // podman's words
		} else {
			slog.Warn("Resource limits are not supported and ignored: a rootless pea runs its containers without cgroups")
		}
		*r = model.Resources{ShmSize: r.ShmSize, DeviceCgroupRules: r.DeviceCgroupRules}
	}
}

// hasLimits reports whether r limits anything a cgroup enforces (device rules aside).
func hasLimits(r *model.Resources) bool {
	return r.Memory != 0 || r.CPUs != 0 || r.CpusetCpus != "" || r.PidsLimit != 0 || r.MemorySwap != 0 || r.MemoryReservation != 0 ||
		r.CPUShares != 0 || r.CpusetMems != "" || r.CPUPeriod != 0 || r.CPUQuota != 0 || r.BlkioWeight != 0 || r.MemorySwappiness != nil ||
		r.OOMKillDisable || len(r.BlkioWeightDevice)+len(r.DeviceReadBps)+len(r.DeviceWriteBps)+len(r.DeviceReadIOps)+len(r.DeviceWriteIOps) > 0 ||
		r.CPURtPeriod != 0 || r.CPURtRuntime != 0
}

// rootlessMounts adapts the default mounts to a namespace that maps the user alone: the tty
// group (gid 5) that devpts gives its terminals does not exist there.
func rootlessMounts(mounts []specs.Mount) {
	for i := range mounts {
		if mounts[i].Destination == "/dev/pts" {
			mounts[i].Options = slices.DeleteFunc(slices.Clone(mounts[i].Options), func(o string) bool { return o == "gid=5" })
		}
	}
}

// rootlessNetwork: a rootless pea cannot make bridges or veth pairs on the host, so what would
// join the default network (a container, or a pod's infra) gets user-mode networking:
// containers.conf's default_rootless_network_cmd, slirp4netns (podman 4's default) or pasta
// (podman 5's). Networks named outright are bridges in the rootless network namespace
// (network/rootless_netns.go).
func (r *Runtime) rootlessNetwork(ns model.Namespace, networks []string) model.Namespace {
	if rootless.Active() && ns.Mode == model.NSModeBridge && len(networks) == 0 {
		if r.conf().Network.DefaultRootlessNetworkCmd == model.NSModePasta {
			return model.Namespace{Mode: model.NSModePasta}
		}
		return model.Namespace{Mode: model.NSModeSlirp}
	}
	return ns
}

// slirpOptions are a slirp4netns namespace's options (--network slirp4netns:A,B).
func slirpOptions(ns model.Namespace) []string {
	if ns.Value == "" {
		return nil
	}
	return strings.Split(ns.Value, ",")
}

// pastaOptions are a pasta namespace's options: containers.conf's pasta_options, then
// --network pasta:A,B's.
func (r *Runtime) pastaOptions(ns model.Namespace) []string {
	return append(slices.Clone(r.conf().Network.PastaOptions), slirpOptions(ns)...)
}

// checkUserNet checks the options of a user-mode network namespace (slirp4netns's, pasta's)
// when its container or pod is created, so that bad ones fail the creation, not the start.
func (r *Runtime) checkUserNet(ns model.Namespace, ports []model.PortMapping) error {
	var err error
	switch ns.Mode {
	case model.NSModeSlirp:
		_, err = network.ParseSlirpOptions(slirpOptions(ns))
	case model.NSModePasta:
		_, err = network.ParsePastaOptions(r.pastaOptions(ns), expandPorts(ports))
	}
	return err
}

package api

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/view"
)

// libpodPodSpec is podman 4.3's PodSpecGenerator, as its client sends it for `podman pod
// create` and as `pea generate spec` prints a pod's (view.PodSpec), with the endpoint's methods.
type libpodPodSpec view.PodSpec

// postLibpodPodCreate is POST /libpod/pods/create with a PodSpecGenerator: 201 {"Id"}.
func (s *Server) postLibpodPodCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var spec libpodPodSpec
	if err := decodeBody(r, &spec); err != nil {
		return err
	}
	cfg, err := spec.toPodConfig()
	if err != nil {
		return err
	}
	p, err := rt.CreatePod(r.Context(), cfg, engine.PodCreateOptions{})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"Id": p.Config.ID})
	return nil
}

// toPodConfig turns the spec into a pod's config, as pea pod create's flags make it.
func (spec *libpodPodSpec) toPodConfig() (*model.PodConfig, error) {
	cfg := &model.PodConfig{Name: spec.Name, Hostname: spec.Hostname, Labels: spec.Labels, HasInfra: !spec.NoInfra,
		InfraImage: spec.InfraImage, InfraName: spec.InfraName, InfraCommand: spec.InfraCommand, ExitPolicy: spec.ExitPolicy,
		CgroupParent: spec.CgroupParent, CreateCommand: spec.CreateCommand, UsePodCgroup: spec.ShareParent == nil || *spec.ShareParent,
		RestartPolicy: spec.RestartPolicy, Devices: spec.Devices, Sysctls: spec.Sysctl, SecurityOpts: spec.SecurityOpts,
		VolumesFrom: spec.VolumesFrom}
	if cfg.ExitPolicy == "" {
		cfg.ExitPolicy = "continue"
	}
	var err error
	if cfg.InfraConmonPidFile, err = absPath("--infra-conmon-pidfile", spec.InfraConmonPidFile); err != nil {
		return nil, err
	}
	if err := spec.applyShared(cfg); err != nil {
		return nil, err
	}
	if err := spec.applyPodNetwork(cfg); err != nil {
		return nil, err
	}
	if err := spec.applyPodResources(cfg); err != nil {
		return nil, err
	}
	if err := spec.applyPodVolumes(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// applyShared sets the namespaces the pod shares and its PID, UTS and user namespaces.
func (spec *libpodPodSpec) applyShared(cfg *model.PodConfig) error {
	shared := spec.SharedNamespaces
	if shared == nil && cfg.HasInfra {
		shared = []string{"ipc", "net", "uts"} // podman's default
	}
	for _, k := range shared {
		switch k {
		case "ipc":
			cfg.ShareIpc = true
		case "net":
			cfg.ShareNet = true
		case "uts":
			cfg.ShareUts = true
		case "pid":
			cfg.SharePid = true
		case "cgroup":
			cfg.ShareCgroup = true
		case "none", "":
		default:
			return badRequest("invalid namespace to share %q (cgroup, ipc, net, pid, uts)", k)
		}
	}
	for _, n := range []struct {
		flag string
		ns   view.SpecNamespace
		dst  *string
	}{{"pid", spec.PidNS, &cfg.PidMode}, {"uts", spec.UtsNS, &cfg.UtsMode}} {
		switch n.ns.Mode {
		case "", "default":
		case model.NSModeHost, model.NSModePrivate:
			*n.dst = n.ns.Mode
		default:
			return invalidSpec("invalid --%s %q for a pod (host, private)", n.flag, n.ns.Mode)
		}
	}
	uidmap, gidmap, autoSize := idMapStrings(spec.IDMappings)
	hasMaps := len(uidmap) > 0 || len(gidmap) > 0
	v := ""
	switch spec.UserNS.Mode {
	case "", "default", "host":
	case "private":
		if !hasMaps {
			return invalidSpec("--userns private needs --uidmap/--gidmap")
		}
	case "auto":
		v = "auto"
		if autoSize > 0 {
			v += fmt.Sprintf(":size=%d", autoSize)
		}
	case "path":
		v = "ns:" + spec.UserNS.Value
	default:
		return invalidSpec("invalid --userns %q for a pod (host, auto, ns:PATH; or --uidmap/--gidmap)", spec.UserNS.Mode)
	}
	var err error
	if cfg.UserNS, err = engine.ParseUserNS(v, hasMaps); err != nil {
		return err
	}
	if cfg.UIDMap, cfg.GIDMap, err = engine.ParseIDMaps(uidmap, gidmap); err != nil {
		return err
	}
	if cfg.UserNS.Mode != model.NSModeHost {
		if !cfg.HasInfra {
			return invalidSpec("a pod's user namespace is held by its infra container: --userns and --uidmap/--gidmap need an infra container")
		}
		cfg.ShareUser = true
	}
	return nil
}

// applyPodNetwork sets the network namespace, networks (with static addresses and aliases),
// ports, DNS and hosts of the pod's infra container.
func (spec *libpodPodSpec) applyPodNetwork(cfg *model.PodConfig) error {
	switch spec.NetNS.Mode {
	case "", "bridge", "private", "default":
	case "host", "none":
		cfg.NetworkMode = spec.NetNS.Mode
	case "path":
		cfg.NetworkMode = "ns:" + spec.NetNS.Value
	case model.NSModeSlirp, model.NSModePasta:
		cfg.NetworkMode = spec.NetNS.Mode
		if opts := spec.NetworkOpts[spec.NetNS.Mode]; len(opts) > 0 {
			cfg.NetworkMode += ":" + strings.Join(opts, ",")
		}
	default:
		return badRequest("network mode %q of a pod is not supported by pea (bridge, host, none, path, slirp4netns, pasta)", spec.NetNS.Mode)
	}
	cfg.Infra.Networks = networkNames(spec.Networks)
	if err := applyNetworkOpts(&cfg.Infra, spec.Networks, cfg.NetworkMode == ""); err != nil {
		return err
	}
	for _, p := range spec.PortMappings {
		if p.ContainerPort == 0 {
			return badRequest("a port mapping needs a container port")
		}
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		for _, pr := range strings.Split(proto, ",") {
			hp := p.HostPort
			if hp == 0 {
				hp = p.ContainerPort
			}
			cfg.Infra.Ports = append(cfg.Infra.Ports, model.PortMapping{HostIP: p.HostIP, HostPort: hp, ContainerPort: p.ContainerPort, Protocol: pr, Range: p.Range})
		}
	}
	nc := &cfg.Infra
	nc.DNSServers, nc.DNSSearch, nc.DNSOptions, nc.AddHosts, nc.NoHosts = spec.DNSServers, spec.DNSSearch, spec.DNSOptions, spec.HostAdd, spec.NoManageHosts
	if spec.StaticIP != "" {
		nc.StaticIP = spec.StaticIP
	}
	if spec.StaticMAC != "" {
		nc.StaticMAC = spec.StaticMAC
	}
	if len(nc.Ports) > 0 && !cfg.ShareNet {
		return badRequest("published ports need the pod to share its network namespace")
	}
	return nil
}

// applyPodResources sets the pod's limits; its CPUs are pod create's --cpus, which podman's
// client sends as a quota of a period.
func (spec *libpodPodSpec) applyPodResources(cfg *model.PodConfig) error {
	res := &cfg.Resources
	if err := applyResourceLimits(spec.ResourceLimits, res); err != nil {
		return err
	}
	if r := spec.ResourceLimits; r != nil && len(r.Unified) > 0 {
		return invalidSpec("--cgroup-conf is for a container: a pod has no cgroup files of its own to set")
	}
	if res.CPUQuota == 0 && res.CPUPeriod == 0 { // only the top-level copy
		res.CPUQuota, res.CPUPeriod = spec.CPUQuota, spec.CPUPeriod
	}
	if res.CPUQuota > 0 && res.CPUPeriod > 0 {
		res.CPUs = float64(res.CPUQuota) / float64(res.CPUPeriod)
	}
	res.CPUQuota, res.CPUPeriod = 0, 0
	if res.CPURtPeriod != 0 || res.CPURtRuntime != 0 || res.MemorySwappiness != nil || res.OOMKillDisable || res.MemoryReservation != 0 {
		return invalidSpec("a pod's limits are memory, swap, CPUs, CPU shares, cpusets, pids and block I/O: the others are a container's")
	}
	if spec.ShmSize != nil && *spec.ShmSize > 0 {
		res.ShmSize = *spec.ShmSize
	}
	var err error
	if res.BlkioWeightDevice, err = deviceValues("--blkio-weight-device", spec.WeightDevice, true); err != nil {
		return err
	}
	if res.DeviceReadBps, err = deviceValues("--device-read-bps", spec.ReadBps, false); err != nil {
		return err
	}
	res.DeviceWriteBps, err = deviceValues("--device-write-bps", spec.WriteBps, false)
	return err
}

// applyPodVolumes turns the mounts and volumes, which every member gets, into pod create's
// -v values.
func (spec *libpodPodSpec) applyPodVolumes(cfg *model.PodConfig) error {
	add := func(v string) error {
		if _, err := engine.ParseVolume(v); err != nil {
			return err
		}
		cfg.Volumes = append(cfg.Volumes, v)
		return nil
	}
	for _, m := range spec.Mounts {
		if m.Type != "bind" && m.Type != "" {
			return invalidSpec("a pod's mounts are -v volumes and bind mounts: %s at %s is not one", m.Type, m.Destination)
		}
		if !filepath.IsAbs(m.Source) {
			return invalidSpec("bind mount %s:%s: the service needs an absolute source path", m.Source, m.Destination)
		}
		var opts []string
		for _, o := range m.Options {
			if o != "bind" && o != "rbind" {
				opts = append(opts, o)
			}
		}
		if err := add(volumeArg(m.Source, m.Destination, opts)); err != nil {
			return err
		}
	}
	for _, v := range spec.Volumes {
		arg := v.Dest // an anonymous volume
		if v.Name != "" {
			arg = volumeArg(v.Name, v.Dest, v.Options)
		}
		if err := add(arg); err != nil {
			return err
		}
	}
	// Binds come apart from named volumes: a mount goes after those of the directories above
	// it, as for a container (applyStorage).
	sort.SliceStable(cfg.Volumes, func(i, j int) bool {
		a, _ := engine.ParseVolume(cfg.Volumes[i])
		b, _ := engine.ParseVolume(cfg.Volumes[j])
		return pathDepth(a.Destination) < pathDepth(b.Destination)
	})
	return nil
}

// volumeArg is -v SRC:DST[:OPTS].
func volumeArg(src, dst string, opts []string) string {
	arg := src + ":" + dst
	if len(opts) > 0 {
		arg += ":" + strings.Join(opts, ",")
	}
	return arg
}

package engine

import (
	"slices"
	"strings"

	"pea/internal/conf"
	"pea/internal/model"
	"pea/internal/oci"
)

// buildLabel marks the containers a build makes (RUN steps, and those that only hold an image's
// files for COPY and ADD).
const buildLabel = "io.pea.build"

// isBuildContainer reports whether cfg is one of a build's containers.
func isBuildContainer(cfg *model.ContainerConfig) bool { return cfg.Labels[buildLabel] == "1" }

// applyBuildConf gives a RUN container the containers.conf keys podman 4.3.1's builds follow
// (buildah reads the file; compared with a Containerfile whose RUN prints what it got):
// default_ulimits, devices and volumes merged under the build's own --ulimit, --device and
// --volume (the build's win for the same limit, container path or destination), shm_size
// (read as --shm-size is, in powers of 1024, as buildah reads it) and pidns, utsns, ipcns
// when the build does not set them, and netns when it is host and the build names no network.
// The engine's own keys apply as to any container (default_capabilities, cgroupns, DNS), but
// not env, default_sysctls or pids_limit, which podman's RUN does not take; nor do tz, umask,
// no_hosts or a netns of none.
func (r *Runtime) applyBuildConf(cfg *model.ContainerConfig, network string) error {
	ct := &r.conf().Containers
	for _, n := range []struct{ kind, key, value string }{
		{model.NSPid, "pidns", ct.PidNS}, {model.NSUts, "utsns", ct.UTSNS}, {model.NSIpc, "ipcns", ct.IPCNS},
	} {
		if _, set := cfg.Namespaces[n.kind]; set || n.value == "" {
			continue
		}
		ns, err := ParseNamespace(n.kind, n.value)
		if err != nil {
			return confError(n.key, n.value, err)
		}
		cfg.Namespaces[n.kind] = ns
	}
	if network == "" && ct.NetNS == model.NSModeHost {
		cfg.Namespaces[model.NSNet], cfg.Network.Networks = model.Namespace{Mode: model.NSModeHost}, nil
	}
	if m := cfg.NS(model.NSIpc).Mode; ct.ShmSize != "" && cfg.Resources.ShmSize == 0 && m != model.NSModeHost && m != model.NSModeNone && m != model.NSModeContainer {
		size, err := ParseSize(ct.ShmSize)
		if err != nil {
			return confError("shm_size", ct.ShmSize, err)
		}
		cfg.Resources.ShmSize = size
	}
	return MergeConfLists(ct, cfg)
}

// MergeConfLists puts containers.conf's default_ulimits, devices and volumes under cfg's own,
// which win for the same limit, container path or destination (podman 4.3 drops the configured
// ulimits whole once a container names one; pea's run, its APIs and its builds merge them).
func MergeConfLists(ct *conf.Containers, cfg *model.ContainerConfig) error {
	var ulimits []model.Ulimit
	for _, s := range ct.DefaultUlimits {
		rl, err := oci.ParseUlimit(s)
		if err != nil {
			return confError("default_ulimits", s, err)
		}
		name := strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_"))
		if !slices.ContainsFunc(cfg.Ulimits, func(l model.Ulimit) bool { return l.Name == name }) {
			ulimits = append(ulimits, model.Ulimit{Name: name, Soft: rl.Soft, Hard: rl.Hard})
		}
	}
	cfg.Ulimits = append(ulimits, cfg.Ulimits...)
	var devices []string
	for _, d := range ct.Devices {
		if !slices.ContainsFunc(cfg.Devices, func(g string) bool { return deviceInContainer(g) == deviceInContainer(d) }) {
			devices = append(devices, d)
		}
	}
	cfg.Devices = append(devices, cfg.Devices...)
	for _, v := range ct.Volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return confError("volumes", v, err)
		}
		if !slices.ContainsFunc(cfg.Mounts, func(g model.Mount) bool { return g.Destination == m.Destination }) {
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	return nil
}

// deviceInContainer is the container path of a device HOST[:CONTAINER][:PERMS].
func deviceInContainer(d string) string {
	parts := strings.Split(d, ":")
	if len(parts) > 1 && strings.HasPrefix(parts[1], "/") {
		return parts[1]
	}
	return parts[0]
}

package api

// Docker's HostConfig in a container's inspect, made from pea's configuration: what the
// container does, in the fields Docker's create took it from, so that a client reading it back
// (or recreating the container from it) finds what it asked for.

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/oci"
)

// hostConfigView is the HostConfig of container c's inspect; ports are its port bindings.
func hostConfigView(rt *engine.Runtime, c *model.Container, ports map[string][]portBinding) map[string]any {
	cfg := c.Config
	r := cfg.Resources
	restart := restartPolicy{Name: "no"}
	if cfg.RestartPolicy != "" {
		name, n, _ := strings.Cut(cfg.RestartPolicy, ":")
		restart.Name = name
		restart.MaximumRetryCount, _ = strconv.Atoi(n)
	}
	var pidsLimit *int64
	if r.PidsLimit != 0 {
		pidsLimit = &r.PidsLimit
	}
	binds, tmpfs, mnts := mountViews(rt, cfg)
	hc := map[string]any{
		"Binds": binds, "ContainerIDFile": "", "LogConfig": logConfigView(cfg), "NetworkMode": networkMode(cfg),
		"PortBindings": ports, "RestartPolicy": restart, "AutoRemove": cfg.AutoRemove, "VolumeDriver": "",
		"VolumesFrom": cfg.VolumesFrom, "ConsoleSize": [2]uint{0, 0}, "CapAdd": cfg.CapAdd, "CapDrop": cfg.CapDrop,
		"CgroupnsMode": nsString(cfg, model.NSCgroup, "private"), "Dns": cfg.Network.DNSServers,
		"DnsOptions": cfg.Network.DNSOptions, "DnsSearch": cfg.Network.DNSSearch, "ExtraHosts": cfg.Network.AddHosts,
		"GroupAdd": cfg.GroupAdd, "IpcMode": nsString(cfg, model.NSIpc, "shareable"), "Cgroup": "", "Links": linksView(cfg),
		"OomScoreAdj": cfg.OOMScoreAdj, "PidMode": nsString(cfg, model.NSPid, ""), "Privileged": cfg.Privileged,
		"PublishAllPorts": false, "ReadonlyRootfs": cfg.ReadOnly, "SecurityOpt": securityOptView(cfg),
		"UTSMode": nsString(cfg, model.NSUts, ""), "UsernsMode": nsString(cfg, model.NSUser, ""),
		"ShmSize": r.ShmSize, "Sysctls": cfg.Sysctls, "Runtime": rt.OCIRuntimeName(), "Isolation": "",
		"CpuShares": r.CPUShares, "Memory": r.Memory, "NanoCpus": int64(r.CPUs * 1e9), "CgroupParent": cfg.CgroupParent,
		"BlkioWeight": r.BlkioWeight, "BlkioWeightDevice": weightDevices(r.BlkioWeightDevice),
		"BlkioDeviceReadBps": throttleDevices(r.DeviceReadBps), "BlkioDeviceWriteBps": throttleDevices(r.DeviceWriteBps),
		"BlkioDeviceReadIOps": throttleDevices(r.DeviceReadIOps), "BlkioDeviceWriteIOps": throttleDevices(r.DeviceWriteIOps),
		"CpuPeriod": r.CPUPeriod, "CpuQuota": r.CPUQuota, "CpuRealtimePeriod": r.CPURtPeriod, "CpuRealtimeRuntime": r.CPURtRuntime,
		"CpusetCpus": r.CpusetCpus, "CpusetMems": r.CpusetMems, "Devices": devicesView(cfg.Devices),
		"DeviceCgroupRules": r.DeviceCgroupRules, "DeviceRequests": nil, "KernelMemory": 0, "KernelMemoryTCP": 0,
		"MemoryReservation": r.MemoryReservation, "MemorySwap": r.MemorySwap, "MemorySwappiness": r.MemorySwappiness,
		"OomKillDisable": r.OOMKillDisable, "PidsLimit": pidsLimit, "Ulimits": ulimitsView(cfg.Ulimits),
		"CpuCount": 0, "CpuPercent": 0, "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
		"MaskedPaths": nil, "ReadonlyPaths": nil, "Init": cfg.Init,
	}
	if len(tmpfs) > 0 {
		hc["Tmpfs"] = tmpfs
	}
	if len(mnts) > 0 {
		hc["Mounts"] = mnts
	}
	if !cfg.Privileged {
		hc["MaskedPaths"], hc["ReadonlyPaths"] = oci.MaskedPaths, oci.ReadonlyPaths
		if cfg.OwnMasks {
			hc["MaskedPaths"], hc["ReadonlyPaths"] = orEmpty(cfg.MaskedPaths), orEmpty(cfg.ReadonlyPaths)
		}
	}
	return hc
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// mountViews are the container's mounts as Docker's create took them: -v's as Binds
// ("SRC:DST[:OPTS]"), --tmpfs's as Tmpfs, --mount's as Mounts. Anonymous volumes and those
// of --volumes-from are in none (Docker shows them in the inspect's Mounts only).
func mountViews(rt *engine.Runtime, cfg *model.ContainerConfig) (binds []string, tmpfs map[string]string, mnts []hostMount) {
	binds, tmpfs = []string{}, map[string]string{}
	for _, m := range cfg.Mounts {
		if m.CopyUp || m.Type == "volume" && anonymousVolume(rt, m.Source) {
			continue
		}
		if m.FromMount {
			mnts = append(mnts, mountView(m))
			continue
		}
		switch m.Type {
		case "tmpfs":
			tmpfs[m.Destination] = strings.Join(m.Options, ",")
		case "bind", "volume":
			opts := slices.Clone(m.Options)
			if m.ReadOnly {
				opts = append([]string{"ro"}, opts...)
			}
			if m.NoCopy {
				opts = append(opts, "nocopy")
			}
			if m.ChownToUser {
				opts = append(opts, "U")
			}
			b := m.Source + ":" + m.Destination
			if len(opts) > 0 {
				b += ":" + strings.Join(opts, ",")
			}
			binds = append(binds, b)
		}
	}
	return binds, tmpfs, mnts
}

func anonymousVolume(rt *engine.Runtime, name string) bool {
	v, err := rt.LookupVolume(name)
	return err == nil && v.Labels["anonymous"] == "true"
}

// mountView is one of HostConfig.Mounts.
func mountView(m model.Mount) hostMount {
	hm := hostMount{Type: m.Type, Source: m.Source, Target: m.Destination, ReadOnly: m.ReadOnly}
	switch m.Type {
	case "bind":
		for _, o := range m.Options {
			switch {
			case isPropagation(o):
				hm.bindOptions().Propagation = o
			case o == "bind":
				hm.bindOptions().NonRecursive = true
			}
		}
	case "volume":
		if m.NoCopy {
			hm.volumeOptions().NoCopy = true
		}
	case "tmpfs":
		for _, o := range m.Options {
			k, v, _ := strings.Cut(o, "=")
			switch k {
			case "size":
				if n, err := engine.ParseSize(v); err == nil {
					hm.tmpfsOptions().SizeBytes = n
				}
			case "mode":
				if n, err := strconv.ParseUint(v, 8, 32); err == nil {
					hm.tmpfsOptions().Mode = uint32(n)
				}
			default:
				t := hm.tmpfsOptions()
				t.Options = append(t.Options, strings.SplitN(o, "=", 2))
			}
		}
	}
	return hm
}

func (hm *hostMount) bindOptions() *bindOptions {
	if hm.BindOptions == nil {
		hm.BindOptions = &bindOptions{}
	}
	return hm.BindOptions
}

func (hm *hostMount) volumeOptions() *volumeOptions {
	if hm.VolumeOptions == nil {
		hm.VolumeOptions = &volumeOptions{}
	}
	return hm.VolumeOptions
}

func (hm *hostMount) tmpfsOptions() *tmpfsOptions {
	if hm.TmpfsOptions == nil {
		hm.TmpfsOptions = &tmpfsOptions{}
	}
	return hm.TmpfsOptions
}

// logConfigView is the log driver and the options pea keeps of it.
func logConfigView(cfg *model.ContainerConfig) logConfig {
	lc := logConfig{Type: orDefault(cfg.LogDriver, engine.LogDriverK8sFile), Config: map[string]string{}}
	if cfg.LogSizeMax > 0 {
		lc.Config["max-size"] = sizeString(cfg.LogSizeMax)
	}
	if cfg.LogTag != "" {
		lc.Config["tag"] = cfg.LogTag
	}
	return lc
}

// sizeString writes a size in the largest unit it is a whole number of (1m, 512k, 100).
func sizeString(n int64) string {
	for _, u := range []struct {
		unit  string
		bytes int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
		if n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + u.unit
		}
	}
	return strconv.FormatInt(n, 10)
}

// linksView is Docker's way of showing links: /TARGET:/CONTAINER/ALIAS.
func linksView(cfg *model.ContainerConfig) []string {
	var out []string
	for _, l := range cfg.Links {
		name, alias, _ := strings.Cut(l, ":")
		out = append(out, "/"+name+":/"+cfg.Name+"/"+alias)
	}
	return out
}

// securityOptView is the container's security options: a seccomp profile the create gave by
// its content shows that content again, as Docker's.
func securityOptView(cfg *model.ContainerConfig) []string {
	var out []string
	if cfg.NoNewPrivileges {
		out = append(out, "no-new-privileges")
	}
	switch {
	case cfg.Seccomp == "":
	case filepath.Base(cfg.Seccomp) == "seccomp.json" && strings.Contains(cfg.Seccomp, cfg.ID):
		if b, err := os.ReadFile(cfg.Seccomp); err == nil {
			out = append(out, "seccomp="+string(bytes.TrimSpace(b)))
		}
	default:
		out = append(out, "seccomp="+cfg.Seccomp)
	}
	return out
}

// devicesView turns pea's HOST[:CONTAINER[:PERMS]] devices into Docker's.
func devicesView(devs []string) []deviceMapping {
	var out []deviceMapping
	for _, d := range devs {
		parts := strings.SplitN(d, ":", 3)
		dm := deviceMapping{PathOnHost: parts[0], PathInContainer: parts[0], CgroupPermissions: "rwm"}
		if len(parts) > 1 && parts[1] != "" {
			if strings.HasPrefix(parts[1], "/") {
				dm.PathInContainer = parts[1]
			} else {
				dm.CgroupPermissions = parts[1]
			}
		}
		if len(parts) > 2 && parts[2] != "" {
			dm.CgroupPermissions = parts[2]
		}
		out = append(out, dm)
	}
	return out
}

// ulimitsView is Docker's ulimits: unlimited is -1.
func ulimitsView(ul []model.Ulimit) []ulimit {
	var out []ulimit
	for _, u := range ul {
		out = append(out, ulimit{Name: u.Name, Soft: int64(u.Soft), Hard: int64(u.Hard)})
	}
	return out
}

// throttleDevices and weightDevices turn pea's DEVICE:VALUE lists into Docker's.
func throttleDevices(list []string) []throttleDevice {
	out := []throttleDevice{}
	for _, s := range list {
		i := strings.LastIndex(s, ":")
		if n, err := strconv.ParseUint(s[i+1:], 10, 64); i > 0 && err == nil {
			out = append(out, throttleDevice{Path: s[:i], Rate: n})
		}
	}
	return out
}

func weightDevices(list []string) []weightDevice {
	out := []weightDevice{}
	for _, s := range list {
		i := strings.LastIndex(s, ":")
		if n, err := strconv.ParseUint(s[i+1:], 10, 16); i > 0 && err == nil {
			out = append(out, weightDevice{Path: s[:i], Weight: uint16(n)})
		}
	}
	return out
}

package cri

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"pea/internal/engine"
	"pea/internal/model"
)

// Version names pea, its version and the CRI version.
func (s *Server) Version(ctx context.Context, req *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	return &runtimeapi.VersionResponse{Version: "0.1.0", RuntimeName: RuntimeName, RuntimeVersion: s.version, RuntimeApiVersion: RuntimeAPIVersion}, nil
}

// Status says whether the runtime and the network are ready: the OCI runtime and conmon are
// there, and so are the CNI plugins of the default network.
func (s *Server) Status(ctx context.Context, req *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	rtCond := &runtimeapi.RuntimeCondition{Type: runtimeapi.RuntimeReady, Status: true}
	netCond := &runtimeapi.RuntimeCondition{Type: runtimeapi.NetworkReady, Status: true}
	var info *engine.Info
	err := s.withRuntime(func(rt *engine.Runtime) error {
		var err error
		info, err = rt.Info()
		return err
	})
	if err != nil {
		rtCond.Status, rtCond.Reason, rtCond.Message = false, "StoreUnavailable", err.Error()
	} else {
		for _, c := range []engine.ComponentInfo{info.Host.OCIRuntime, info.Host.Conmon} {
			if c.Path == "" {
				rtCond.Status, rtCond.Reason, rtCond.Message = false, "RuntimeMissing", c.Name+" is not installed"
			}
		}
	}
	found := false
	for _, dir := range []string{"/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"} { // network.NewManager's
		if _, err := exec.LookPath(dir + "/bridge"); err == nil {
			found = true
		}
	}
	if !found {
		netCond.Status, netCond.Reason, netCond.Message = false, "NetworkPluginNotReady", "the CNI bridge plugin is not installed"
	}
	handler := &runtimeapi.RuntimeHandler{Name: "", Features: &runtimeapi.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: kernelHasMountSetattr(), UserNamespaces: true}}
	resp := &runtimeapi.StatusResponse{
		Status:          &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{rtCond, netCond}},
		RuntimeHandlers: []*runtimeapi.RuntimeHandler{handler},
		Features:        &runtimeapi.RuntimeFeatures{SupplementalGroupsPolicy: true},
	}
	if req.Verbose && info != nil {
		b, _ := json.Marshal(info)
		resp.Info = map[string]string{"info": string(b)}
	}
	return resp, nil
}

// kernelHasMountSetattr reports whether the kernel has mount_setattr (5.12), which the runtime's
// recursive read-only mounts (rro) need: with no file descriptor the call fails with EBADF, not
// ENOSYS.
func kernelHasMountSetattr() bool {
	return unix.MountSetattr(-1, "", 0, &unix.MountAttr{}) != unix.ENOSYS
}

// RuntimeConfig tells kubelet the cgroup driver: pea manages cgroups itself (cgroupfs).
func (s *Server) RuntimeConfig(ctx context.Context, req *runtimeapi.RuntimeConfigRequest) (*runtimeapi.RuntimeConfigResponse, error) {
	return &runtimeapi.RuntimeConfigResponse{Linux: &runtimeapi.LinuxRuntimeConfiguration{CgroupDriver: runtimeapi.CgroupDriver_CGROUPFS}}, nil
}

// UpdateRuntimeConfig takes kubelet's pod CIDR; pea's networks have their own subnets, so there
// is nothing to change.
func (s *Server) UpdateRuntimeConfig(ctx context.Context, req *runtimeapi.UpdateRuntimeConfigRequest) (*runtimeapi.UpdateRuntimeConfigResponse, error) {
	return &runtimeapi.UpdateRuntimeConfigResponse{}, nil
}

// containerStats turns pea's statistics of a container into the CRI's.
func containerStats(st *engine.CtrStats, now int64) *runtimeapi.ContainerStats {
	cfg := st.Container.Config
	return &runtimeapi.ContainerStats{
		Attributes: &runtimeapi.ContainerAttributes{Id: cfg.ID, Metadata: containerMetadata(cfg), Labels: nonNil(cfg.Labels),
			Annotations: userAnnotations(cfg.Annotations)},
		Cpu: &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: st.CPUNanos}},
		Memory: &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{Value: st.MemUsage},
			UsageBytes: &runtimeapi.UInt64Value{Value: st.MemUsage}},
	}
}

// ContainerStats reads one container's statistics.
func (s *Server) ContainerStats(ctx context.Context, req *runtimeapi.ContainerStatsRequest) (*runtimeapi.ContainerStatsResponse, error) {
	var resp *runtimeapi.ContainerStatsResponse
	err := s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		stats, err := rt.Stats([]*model.Container{c}, 0)
		if err != nil {
			return err
		}
		resp = &runtimeapi.ContainerStatsResponse{}
		if len(stats) == 1 {
			resp.Stats = containerStats(stats[0], time.Now().UnixNano())
		} else { // not running: no usage to read
			resp.Stats = &runtimeapi.ContainerStats{Attributes: &runtimeapi.ContainerAttributes{Id: c.Config.ID,
				Metadata: containerMetadata(c.Config), Labels: nonNil(c.Config.Labels), Annotations: userAnnotations(c.Config.Annotations)}}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ListContainerStats reads the statistics of the running CRI containers the filter selects.
func (s *Server) ListContainerStats(ctx context.Context, req *runtimeapi.ListContainerStatsRequest) (*runtimeapi.ListContainerStatsResponse, error) {
	resp := &runtimeapi.ListContainerStatsResponse{}
	f := req.GetFilter()
	err := s.withRuntime(func(rt *engine.Runtime) error {
		cs, err := rt.ListContainers()
		if err != nil {
			return err
		}
		var sel []*model.Container
		for _, c := range cs {
			cfg := c.Config
			if _, ok := cfg.Annotations[annoName]; !ok || cfg.IsInfra {
				continue
			}
			if f != nil && (f.Id != "" && !strings.HasPrefix(cfg.ID, f.Id) ||
				f.PodSandboxId != "" && !strings.HasPrefix(cfg.Pod, f.PodSandboxId) || !labelsMatch(cfg.Labels, f.LabelSelector)) {
				continue
			}
			sel = append(sel, c)
		}
		stats, err := rt.Stats(sel, 0)
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		for _, st := range stats {
			resp.Stats = append(resp.Stats, containerStats(st, now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// sandboxStats sums the statistics of a sandbox's running members (the infra container's
// network namespace is the pod's: its traffic is the pod's).
func sandboxStats(pi *engine.PodInfo, stats []*engine.CtrStats, now int64) *runtimeapi.PodSandboxStats {
	pc := pi.Pod.Config
	out := &runtimeapi.PodSandboxStats{
		Attributes: &runtimeapi.PodSandboxAttributes{Id: pc.ID, Metadata: sandboxMetadata(pc), Labels: nonNil(pc.Labels),
			Annotations: userAnnotations(pc.Annotations)},
		Linux: &runtimeapi.LinuxPodSandboxStats{},
	}
	var cpu, mem, pids uint64
	for _, st := range stats {
		cpu += st.CPUNanos
		mem += st.MemUsage
		pids += st.Pids
		if st.Container.Config.IsInfra {
			iface := &runtimeapi.NetworkInterfaceUsage{Name: "eth0", RxBytes: &runtimeapi.UInt64Value{Value: st.NetIn},
				TxBytes: &runtimeapi.UInt64Value{Value: st.NetOut}}
			out.Linux.Network = &runtimeapi.NetworkUsage{Timestamp: now, DefaultInterface: iface, Interfaces: []*runtimeapi.NetworkInterfaceUsage{iface}}
			continue
		}
		if _, ok := st.Container.Config.Annotations[annoName]; ok {
			out.Linux.Containers = append(out.Linux.Containers, containerStats(st, now))
		}
	}
	out.Linux.Cpu = &runtimeapi.CpuUsage{Timestamp: now, UsageCoreNanoSeconds: &runtimeapi.UInt64Value{Value: cpu}}
	out.Linux.Memory = &runtimeapi.MemoryUsage{Timestamp: now, WorkingSetBytes: &runtimeapi.UInt64Value{Value: mem},
		UsageBytes: &runtimeapi.UInt64Value{Value: mem}}
	out.Linux.Process = &runtimeapi.ProcessUsage{Timestamp: now, ProcessCount: &runtimeapi.UInt64Value{Value: pids}}
	return out
}

// PodSandboxStats reads a sandbox's statistics: its members' summed, and each CRI container's.
func (s *Server) PodSandboxStats(ctx context.Context, req *runtimeapi.PodSandboxStatsRequest) (*runtimeapi.PodSandboxStatsResponse, error) {
	var resp *runtimeapi.PodSandboxStatsResponse
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := lookupSandbox(rt, req.PodSandboxId)
		if err != nil {
			return err
		}
		stats, err := rt.Stats(pi.Members, 0)
		if err != nil {
			return err
		}
		resp = &runtimeapi.PodSandboxStatsResponse{Stats: sandboxStats(pi, stats, time.Now().UnixNano())}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ListPodSandboxStats reads the statistics of the sandboxes the filter selects.
func (s *Server) ListPodSandboxStats(ctx context.Context, req *runtimeapi.ListPodSandboxStatsRequest) (*runtimeapi.ListPodSandboxStatsResponse, error) {
	resp := &runtimeapi.ListPodSandboxStatsResponse{}
	f := req.GetFilter()
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pods, err := rt.ListPods()
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		for _, pi := range pods {
			pc := pi.Pod.Config
			if !isSandbox(pi.Pod) || f != nil && (f.Id != "" && !strings.HasPrefix(pc.ID, f.Id) || !labelsMatch(pc.Labels, f.LabelSelector)) {
				continue
			}
			stats, err := rt.Stats(pi.Members, 0)
			if err != nil {
				return err
			}
			resp.Stats = append(resp.Stats, sandboxStats(pi, stats, now))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

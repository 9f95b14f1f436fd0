package cri

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// The annotations that keep a sandbox's or container's CRI metadata.
const (
	annoPrefix    = "io.pea.cri."
	annoName      = annoPrefix + "name"
	annoNamespace = annoPrefix + "namespace"
	annoUID       = annoPrefix + "uid"
	annoAttempt   = annoPrefix + "attempt"
	annoLogDir    = annoPrefix + "log-directory"
	annoImage     = annoPrefix + "image" // the image a container was asked for, as given
)

// userAnnotations are the annotations without the service's own.
func userAnnotations(a map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		if !strings.HasPrefix(k, annoPrefix) {
			out[k] = v
		}
	}
	return out
}

// isSandbox reports whether a pod was made through the CRI.
func isSandbox(p *model.Pod) bool {
	_, ok := p.Config.Annotations[annoUID]
	return ok
}

func sandboxMetadata(pc *model.PodConfig) *runtimeapi.PodSandboxMetadata {
	a := pc.Annotations
	att, _ := strconv.ParseUint(a[annoAttempt], 10, 32)
	return &runtimeapi.PodSandboxMetadata{Name: a[annoName], Uid: a[annoUID], Namespace: a[annoNamespace], Attempt: uint32(att)}
}

// nameChars are what pea allows in names; other characters of a Kubernetes name become '-'.
var nameBad = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// sandboxUserNS gives a pod the user namespace the sandbox asks: the host's (NODE, or no user
// namespace options at all), or one of its own (POD) with the one mapping of uids and of gids
// kubelet gives, from container ID 0; the infra container holds it and the members join it, as
// with pod create --uidmap/--gidmap.
func sandboxUserNS(pc *model.PodConfig, u *runtimeapi.UserNamespace) error {
	if u == nil { // none asked (its mode would read POD, the enum's zero)
		return nil
	}
	switch u.Mode {
	case runtimeapi.NamespaceMode_NODE:
		return nil
	case runtimeapi.NamespaceMode_POD:
	default:
		return invalid("sandbox user namespace mode %s is not supported (POD, NODE)", u.GetMode())
	}
	one := func(what string, ms []*runtimeapi.IDMapping) ([]model.IDMap, error) {
		if len(ms) != 1 {
			return nil, invalid("sandbox user namespace: one mapping of %s is needed, not %d", what, len(ms))
		}
		m := ms[0]
		if m.ContainerId != 0 || m.Length == 0 {
			return nil, invalid("sandbox user namespace: the mapping of %s must map container ID 0 (it maps %d-%d)",
				what, m.ContainerId, uint64(m.ContainerId)+uint64(m.Length))
		}
		return []model.IDMap{{ContainerID: m.ContainerId, HostID: m.HostId, Size: m.Length}}, nil
	}
	var err error
	if pc.UIDMap, err = one("uids", u.GetUids()); err != nil {
		return err
	}
	if pc.GIDMap, err = one("gids", u.GetGids()); err != nil {
		return err
	}
	pc.UserNS = model.Namespace{Mode: model.NSModePrivate}
	pc.ShareUser = true
	return nil
}

// podName is the pea pod name of a sandbox: k8s_POD_<name>_<namespace>_<uid>_<attempt>, the
// name kubelet's other runtimes give its infra container.
func podName(m *runtimeapi.PodSandboxMetadata) string {
	return nameBad.ReplaceAllString(fmt.Sprintf("k8s_POD_%s_%s_%s_%d", m.Name, m.Namespace, m.Uid, m.Attempt), "-")
}

// RunPodSandbox makes and starts a pod: its cgroup, its infra container and its network.
func (s *Server) RunPodSandbox(ctx context.Context, req *runtimeapi.RunPodSandboxRequest) (*runtimeapi.RunPodSandboxResponse, error) {
	c := req.GetConfig()
	m := c.GetMetadata()
	if m == nil || m.Name == "" || m.Uid == "" || m.Namespace == "" {
		return nil, invalid("sandbox config: metadata with a name, a uid and a namespace is needed")
	}
	if h := req.GetRuntimeHandler(); h != "" && h != RuntimeName {
		return nil, invalid("runtime handler %q: pea has one, %q (or none)", h, RuntimeName)
	}
	pc := model.NewPodConfig(podName(m))
	// The hostname is the sandbox's, else its name (pea's default, the pod's name, is longer
	// than a hostname may be), at most 63 characters as the kernel's limit is 64.
	pc.Hostname = c.GetHostname()
	if pc.Hostname == "" {
		pc.Hostname = m.Name
	}
	if len(pc.Hostname) > 63 {
		pc.Hostname = strings.TrimRight(pc.Hostname[:63], "-.")
	}
	pc.Labels = maps.Clone(c.GetLabels())
	pc.Annotations = maps.Clone(c.GetAnnotations())
	if pc.Annotations == nil {
		pc.Annotations = map[string]string{}
	}
	maps.Copy(pc.Annotations, map[string]string{annoName: m.Name, annoNamespace: m.Namespace, annoUID: m.Uid,
		annoAttempt: strconv.FormatUint(uint64(m.Attempt), 10), annoLogDir: c.GetLogDirectory()})
	if d := c.GetDnsConfig(); d != nil {
		pc.Infra.DNSServers, pc.Infra.DNSSearch, pc.Infra.DNSOptions = d.Servers, d.Searches, d.Options
	}
	for _, p := range c.GetPortMappings() {
		if p.HostPort == 0 {
			continue // a container port without a host port is not published (as Kubernetes)
		}
		pm, err := portMapping(p)
		if err != nil {
			return nil, err
		}
		pc.Infra.Ports = append(pc.Infra.Ports, pm)
	}
	if l := c.GetLinux(); l != nil {
		if l.CgroupParent != "" {
			pc.CgroupParent = l.CgroupParent
		}
		pc.Sysctls = l.Sysctls
		ns := l.GetSecurityContext().GetNamespaceOptions()
		switch ns.GetNetwork() {
		case runtimeapi.NamespaceMode_NODE:
			pc.NetworkMode = "host"
			pc.UtsMode = model.NSModeHost
			pc.Hostname = ""
			if len(pc.Infra.Ports) > 0 {
				pc.Infra.Ports = nil // the host's own ports: there is nothing to map
			}
		case runtimeapi.NamespaceMode_POD, runtimeapi.NamespaceMode_CONTAINER:
		default:
			return nil, invalid("sandbox network namespace mode %s is not supported", ns.GetNetwork())
		}
		if ns.GetIpc() == runtimeapi.NamespaceMode_NODE {
			pc.ShareIpc = false // each container joins the host's
		}
		if err := sandboxUserNS(pc, ns.GetUsernsOptions()); err != nil {
			return nil, err
		}
		if l.GetSecurityContext().GetPrivileged() {
			pc.SecurityOpts = append(pc.SecurityOpts, "label=disable")
		}
	}
	// The PID namespace: the pod's (the CRI's zero value, also when the config has no Linux
	// part), the host's, or each container's own.
	switch c.GetLinux().GetSecurityContext().GetNamespaceOptions().GetPid() {
	case runtimeapi.NamespaceMode_POD:
		pc.SharePid = true
	case runtimeapi.NamespaceMode_NODE:
		pc.PidMode = model.NSModeHost
	}
	var id string
	err := s.withRuntime(func(rt *engine.Runtime) error {
		if old, err := rt.LookupPod(pc.Name); err == nil {
			return fmt.Errorf("sandbox %s (%s) already exists: %w", pc.Name, old.Config.ID, errdefs.ErrExists)
		}
		pod, err := rt.CreatePod(ctx, pc, engine.PodCreateOptions{})
		if err != nil {
			return err
		}
		id = pod.Config.ID
		if _, err := rt.StartPod(ctx, id); err != nil {
			rt.RemovePod(context.Background(), id, engine.PodRemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
			return fmt.Errorf("starting sandbox %s: %w", pc.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &runtimeapi.RunPodSandboxResponse{PodSandboxId: id}, nil
}

func uintPtr(v uint) *uint { return &v }

// portMapping turns a CRI port mapping into pea's.
func portMapping(p *runtimeapi.PortMapping) (model.PortMapping, error) {
	proto := strings.ToLower(p.GetProtocol().String())
	if p.ContainerPort <= 0 || p.ContainerPort > 65535 || p.HostPort < 0 || p.HostPort > 65535 {
		return model.PortMapping{}, invalid("port mapping %d:%d: ports are 1-65535", p.HostPort, p.ContainerPort)
	}
	return model.PortMapping{HostIP: p.HostIp, HostPort: uint16(p.HostPort), ContainerPort: uint16(p.ContainerPort), Protocol: proto, Range: 1}, nil
}

// lookupSandbox finds a sandbox by ID (or a unique prefix of one).
func lookupSandbox(rt *engine.Runtime, id string) (*engine.PodInfo, error) {
	if id == "" {
		return nil, invalid("a pod sandbox ID is needed")
	}
	p, err := rt.LookupPod(id)
	if err != nil {
		return nil, err
	}
	if !isSandbox(p) {
		return nil, fmt.Errorf("pod %s was not made through the CRI: %w", p.Config.Name, errdefs.ErrNotFound)
	}
	return rt.InspectPod(p.Config.ID)
}

// readySandbox finds a sandbox that is ready (its infra container runs).
func readySandbox(rt *engine.Runtime, id string) (*engine.PodInfo, error) {
	pi, err := lookupSandbox(rt, id)
	if err != nil {
		return nil, err
	}
	if sandboxState(pi) != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, fmt.Errorf("sandbox %s is not ready: %w", pi.Pod.Config.Name, errdefs.ErrWrongState)
	}
	return pi, nil
}

// StopPodSandbox kills what still runs in the sandbox and its infra container, which tears
// its network down. A sandbox that is gone already is not an error (the CRI asks for that).
func (s *Server) StopPodSandbox(ctx context.Context, req *runtimeapi.StopPodSandboxRequest) (*runtimeapi.StopPodSandboxResponse, error) {
	return reply(&runtimeapi.StopPodSandboxResponse{}, s.withSandbox(req.PodSandboxId, func(rt *engine.Runtime, pi *engine.PodInfo) error {
		// Kubelet has stopped the containers, each with its grace period, before it asks:
		// what is left is killed at once, as other CRI runtimes do.
		_, err := rt.StopPod(ctx, pi.Pod.Config.ID, uintPtr(0))
		return err
	}))
}

// withSandbox opens the engine and calls fn with the sandbox id names; one that is not there
// is not an error (fn is not called), as the CRI asks of stops and removals.
func (s *Server) withSandbox(id string, fn func(rt *engine.Runtime, pi *engine.PodInfo) error) error {
	return s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := lookupSandbox(rt, id)
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(rt, pi)
	})
}

// RemovePodSandbox removes the sandbox with its containers (forcibly, as the CRI asks). A
// sandbox that is gone already is not an error.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtimeapi.RemovePodSandboxRequest) (*runtimeapi.RemovePodSandboxResponse, error) {
	return reply(&runtimeapi.RemovePodSandboxResponse{}, s.withSandbox(req.PodSandboxId, func(rt *engine.Runtime, pi *engine.PodInfo) error {
		return rt.RemovePod(ctx, pi.Pod.Config.ID, engine.PodRemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	}))
}

// sandboxState is READY while the infra container runs.
func sandboxState(pi *engine.PodInfo) runtimeapi.PodSandboxState {
	for _, c := range pi.Members {
		if c.Config.IsInfra && c.State.Status == model.StatusRunning {
			return runtimeapi.PodSandboxState_SANDBOX_READY
		}
	}
	return runtimeapi.PodSandboxState_SANDBOX_NOTREADY
}

// PodSandboxStatus reports a sandbox: its state, metadata, address and namespace modes, and
// (verbose) its containers' statuses.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtimeapi.PodSandboxStatusRequest) (*runtimeapi.PodSandboxStatusResponse, error) {
	var resp *runtimeapi.PodSandboxStatusResponse
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := lookupSandbox(rt, req.PodSandboxId)
		if err != nil {
			return err
		}
		pc := pi.Pod.Config
		st := &runtimeapi.PodSandboxStatus{
			Id: pc.ID, Metadata: sandboxMetadata(pc), State: sandboxState(pi), CreatedAt: pc.Created.UnixNano(),
			Labels: nonNil(pc.Labels), Annotations: userAnnotations(pc.Annotations), RuntimeHandler: "",
			Network: &runtimeapi.PodSandboxNetworkStatus{},
			Linux: &runtimeapi.LinuxPodSandboxStatus{Namespaces: &runtimeapi.Namespace{Options: &runtimeapi.NamespaceOption{
				Network: nsMode(pc.NetworkMode == "host", true), Pid: pidMode(pc), Ipc: nsMode(!pc.ShareIpc, pc.ShareIpc),
			}}},
		}
		for _, c := range pi.Members {
			if !c.Config.IsInfra {
				continue
			}
			names := slices.Sorted(maps.Keys(c.State.Networks))
			for _, n := range names {
				ns := c.State.Networks[n]
				for _, ip := range []string{ns.IPAddress, ns.IPv6} {
					if ip == "" {
						continue
					}
					if st.Network.Ip == "" {
						st.Network.Ip = ip
					} else {
						st.Network.AdditionalIps = append(st.Network.AdditionalIps, &runtimeapi.PodIP{Ip: ip})
					}
				}
			}
		}
		resp = &runtimeapi.PodSandboxStatusResponse{Status: st}
		if req.Verbose {
			resp.Info = map[string]string{"info": fmt.Sprintf(`{"name":%q,"cgroupPath":%q,"infraContainerID":%q}`,
				pc.Name, pi.Pod.State.CgroupPath, pi.Pod.State.InfraContainerID)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// nsMode is NODE for the host's namespace, POD for one the pod shares, CONTAINER otherwise.
func nsMode(host, shared bool) runtimeapi.NamespaceMode {
	switch {
	case host:
		return runtimeapi.NamespaceMode_NODE
	case shared:
		return runtimeapi.NamespaceMode_POD
	}
	return runtimeapi.NamespaceMode_CONTAINER
}

func pidMode(pc *model.PodConfig) runtimeapi.NamespaceMode {
	return nsMode(pc.PidMode == model.NSModeHost, pc.SharePid)
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// labelsMatch reports whether labels hold every pair of the selector.
func labelsMatch(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// ListPodSandbox lists the sandboxes (the pods made through the CRI) the filter selects.
func (s *Server) ListPodSandbox(ctx context.Context, req *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	resp := &runtimeapi.ListPodSandboxResponse{}
	f := req.GetFilter()
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pods, err := rt.ListPods()
		if err != nil {
			return err
		}
		for _, pi := range pods {
			pc := pi.Pod.Config
			if !isSandbox(pi.Pod) {
				continue
			}
			if f != nil {
				if f.Id != "" && !strings.HasPrefix(pc.ID, f.Id) {
					continue
				}
				if f.State != nil && f.State.State != sandboxState(pi) {
					continue
				}
				if !labelsMatch(pc.Labels, f.LabelSelector) {
					continue
				}
			}
			resp.Items = append(resp.Items, &runtimeapi.PodSandbox{Id: pc.ID, Metadata: sandboxMetadata(pc), State: sandboxState(pi),
				CreatedAt: pc.Created.UnixNano(), Labels: nonNil(pc.Labels), Annotations: userAnnotations(pc.Annotations)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

package cri

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// containerName is the pea name of a CRI container: k8s_<name>_<pod>_<namespace>_<uid>_<attempt>.
func containerName(m *runtimeapi.ContainerMetadata, pm *runtimeapi.PodSandboxMetadata) string {
	return nameBad.ReplaceAllString(fmt.Sprintf("k8s_%s_%s_%s_%s_%d", m.Name, pm.Name, pm.Namespace, pm.Uid, m.Attempt), "-")
}

// CreateContainer makes a container in a sandbox, from an image that must be there already
// (kubelet pulls first).
func (s *Server) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	c := req.GetConfig()
	m := c.GetMetadata()
	if m == nil || m.Name == "" {
		return nil, invalid("container config: metadata with a name is needed")
	}
	if c.GetImage().GetImage() == "" {
		return nil, invalid("container config: an image is needed")
	}
	var id string
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := readySandbox(rt, req.PodSandboxId)
		if err != nil {
			return err
		}
		pc := pi.Pod.Config
		cfg, o, err := containerConfig(c, pc)
		if err != nil {
			return err
		}
		cfg.Name = containerName(m, sandboxMetadata(pc))
		cfg.Pod = pc.ID
		o.Pod = pc.ID
		ctr, err := rt.CreateContainer(ctx, cfg, o)
		if err != nil {
			return err
		}
		id = ctr.Config.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &runtimeapi.CreateContainerResponse{ContainerId: id}, nil
}

// containerConfig turns a CRI container config into pea's.
func containerConfig(c *runtimeapi.ContainerConfig, pc *model.PodConfig) (*model.ContainerConfig, engine.CreateOptions, error) {
	m := c.GetMetadata()
	cfg := &model.ContainerConfig{
		ImageName:   c.GetImage().GetImage(),
		WorkingDir:  c.WorkingDir,
		Labels:      maps.Clone(c.Labels),
		Annotations: maps.Clone(c.Annotations),
		Terminal:    c.Tty,
		Stdin:       c.Stdin,
		StopTimeout: 10,
		Namespaces:  map[string]model.Namespace{},
	}
	if cfg.Annotations == nil {
		cfg.Annotations = map[string]string{}
	}
	maps.Copy(cfg.Annotations, map[string]string{annoName: m.Name, annoAttempt: strconv.FormatUint(uint64(m.Attempt), 10),
		annoImage: c.GetImage().GetImage()})
	// An image the CRI names by ID comes as "sha256:<hex>"; pea's IDs are the hex.
	cfg.ImageName = strings.TrimPrefix(cfg.ImageName, "sha256:")
	o := engine.CreateOptions{Pull: "never", EntrypointSet: len(c.Command) > 0, CmdSet: len(c.Args) > 0}
	cfg.Entrypoint, cfg.Cmd = c.Command, c.Args
	for _, kv := range c.Envs {
		if kv.Key == "" {
			return nil, o, invalid("an environment variable without a name")
		}
		cfg.Env = append(cfg.Env, kv.Key+"="+string(kv.Value))
	}
	if dir := pc.Annotations[annoLogDir]; dir != "" && c.LogPath != "" {
		cfg.LogPath = filepath.Join(dir, c.LogPath)
	}
	for _, mt := range c.Mounts {
		if ref := mt.GetImage().GetImage(); ref != "" {
			// An image volume: the image (there already: kubelet pulls it), read-only as the
			// CRI asks, its root or its ImageSubPath.
			if mt.ContainerPath == "" {
				return nil, o, invalid("image mount of %s: a container path is needed", ref)
			}
			if !mt.Readonly {
				return nil, o, invalid("image mount at %s: image volumes are read-only", mt.ContainerPath)
			}
			cfg.Mounts = append(cfg.Mounts, model.Mount{Type: "image", Source: strings.TrimPrefix(ref, "sha256:"),
				Destination: mt.ContainerPath, ReadOnly: true, SubPath: mt.ImageSubPath})
			continue
		}
		if mt.ContainerPath == "" || mt.HostPath == "" {
			return nil, o, invalid("mount %q -> %q: a host path and a container path are needed", mt.HostPath, mt.ContainerPath)
		}
		mount := model.Mount{Type: "bind", Source: mt.HostPath, Destination: mt.ContainerPath, ReadOnly: mt.Readonly}
		switch mt.Propagation {
		case runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
			mount.Options = append(mount.Options, "rslave")
		case runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			mount.Options = append(mount.Options, "rshared")
		}
		if mt.RecursiveReadOnly {
			// The mounts below the host path read-only too (the runtime's rro); mount events
			// cannot come in, nor go out, of such a tree.
			if !mt.Readonly {
				return nil, o, invalid("mount at %s: a recursive read-only mount must be read-only", mt.ContainerPath)
			}
			if mt.Propagation != runtimeapi.MountPropagation_PROPAGATION_PRIVATE {
				return nil, o, invalid("mount at %s: a recursive read-only mount must be private, not %s", mt.ContainerPath, mt.Propagation)
			}
			mount.Options = append(mount.Options, "rro")
		}
		cfg.Mounts = append(cfg.Mounts, mount)
	}
	for _, d := range c.Devices {
		perm := d.Permissions
		if perm == "" {
			perm = "rwm"
		}
		cfg.Devices = append(cfg.Devices, d.HostPath+":"+d.ContainerPath+":"+perm)
	}
	if sig := c.StopSignal; sig != runtimeapi.Signal_SIGNAL_RUNTIME_DEFAULT {
		n, ok := signalNumber(strings.TrimPrefix(sig.String(), "SIGNAL_"))
		if !ok {
			return nil, o, invalid("stop signal %s is not known", sig)
		}
		cfg.StopSignal = int(n)
	}
	l := c.GetLinux()
	if r := l.GetResources(); r != nil {
		cfg.Resources = resources(r)
	}
	if err := applyContainerSecurity(cfg, l.GetSecurityContext(), pc); err != nil {
		return nil, o, err
	}
	return cfg, o, nil
}

// signalNumbers are the signals of the CRI's Signal enum, by its names.
var signalNumbers = map[string]syscall.Signal{
	"SIGABRT": syscall.SIGABRT, "SIGALRM": syscall.SIGALRM, "SIGBUS": syscall.SIGBUS, "SIGCHLD": syscall.SIGCHLD,
	"SIGCONT": syscall.SIGCONT, "SIGFPE": syscall.SIGFPE, "SIGHUP": syscall.SIGHUP, "SIGILL": syscall.SIGILL,
	"SIGINT": syscall.SIGINT, "SIGIO": syscall.SIGIO, "SIGKILL": syscall.SIGKILL, "SIGPIPE": syscall.SIGPIPE,
	"SIGPROF": syscall.SIGPROF, "SIGPWR": syscall.SIGPWR, "SIGQUIT": syscall.SIGQUIT, "SIGSEGV": syscall.SIGSEGV,
	"SIGSTKFLT": syscall.SIGSTKFLT, "SIGSTOP": syscall.SIGSTOP, "SIGSYS": syscall.SIGSYS, "SIGTERM": syscall.SIGTERM,
	"SIGTRAP": syscall.SIGTRAP, "SIGTSTP": syscall.SIGTSTP, "SIGTTIN": syscall.SIGTTIN, "SIGTTOU": syscall.SIGTTOU,
	"SIGURG": syscall.SIGURG, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2, "SIGVTALRM": syscall.SIGVTALRM,
	"SIGWINCH": syscall.SIGWINCH, "SIGXCPU": syscall.SIGXCPU, "SIGXFSZ": syscall.SIGXFSZ,
	"SIGCLD": syscall.SIGCHLD, "SIGIOT": syscall.SIGABRT, "SIGPOLL": syscall.SIGIO,
}

// signalNumber is the number of a signal of the CRI's enum, by its name (without SIGNAL_):
// the table's, or a real-time one (SIGRTMIN is 34, SIGRTMAX 64 on Linux).
func signalNumber(name string) (syscall.Signal, bool) {
	if n, ok := signalNumbers[name]; ok {
		return n, true
	}
	const rtMin, rtMax = 34, 64
	switch {
	case name == "SIGRTMIN":
		return rtMin, true
	case name == "SIGRTMAX":
		return rtMax, true
	case strings.HasPrefix(name, "SIGRTMINPLUS"):
		if k, err := strconv.Atoi(strings.TrimPrefix(name, "SIGRTMINPLUS")); err == nil && k > 0 && rtMin+k < rtMax {
			return syscall.Signal(rtMin + k), true
		}
	case strings.HasPrefix(name, "SIGRTMAXMINUS"):
		if k, err := strconv.Atoi(strings.TrimPrefix(name, "SIGRTMAXMINUS")); err == nil && k > 0 && rtMax-k > rtMin {
			return syscall.Signal(rtMax - k), true
		}
	}
	return 0, false
}

// resources turns CRI limits into pea's.
func resources(r *runtimeapi.LinuxContainerResources) model.Resources {
	out := model.Resources{Memory: r.MemoryLimitInBytes, CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems}
	if r.CpuShares > 0 {
		out.CPUShares = uint64(r.CpuShares)
	}
	if r.CpuQuota > 0 {
		out.CPUQuota = r.CpuQuota
		out.CPUPeriod = uint64(r.CpuPeriod)
		if out.CPUPeriod == 0 {
			out.CPUPeriod = 100000
		}
	}
	if r.MemorySwapLimitInBytes > 0 {
		out.MemorySwap = r.MemorySwapLimitInBytes
	}
	return out
}

// applyContainerSecurity applies a container's security context: its user, capabilities,
// privileges, seccomp profile and namespace modes.
func applyContainerSecurity(cfg *model.ContainerConfig, sc *runtimeapi.LinuxContainerSecurityContext, pc *model.PodConfig) error {
	if sc == nil {
		cfg.Seccomp = "unconfined" // the CRI's default when no profile is named
		return nil
	}
	switch {
	case sc.RunAsUser != nil && sc.RunAsGroup != nil:
		cfg.User = strconv.FormatInt(sc.RunAsUser.Value, 10) + ":" + strconv.FormatInt(sc.RunAsGroup.Value, 10)
	case sc.RunAsUser != nil:
		cfg.User = strconv.FormatInt(sc.RunAsUser.Value, 10)
	case sc.RunAsUsername != "":
		cfg.User = sc.RunAsUsername
		if sc.RunAsGroup != nil {
			cfg.User += ":" + strconv.FormatInt(sc.RunAsGroup.Value, 10)
		}
	}
	for _, g := range sc.SupplementalGroups {
		cfg.GroupAdd = append(cfg.GroupAdd, strconv.FormatInt(g, 10))
	}
	cfg.GroupsStrict = sc.SupplementalGroupsPolicy == runtimeapi.SupplementalGroupsPolicy_Strict
	if caps := sc.Capabilities; caps != nil {
		cfg.CapAdd = append(cfg.CapAdd, caps.AddCapabilities...)
		cfg.CapDrop = append(cfg.CapDrop, caps.DropCapabilities...)
	}
	if sc.RunAsGroup != nil && sc.RunAsUser == nil && sc.RunAsUsername == "" {
		return invalid("security context: runAsGroup needs runAsUser or runAsUsername")
	}
	if sc.MaskedPaths != nil || sc.ReadonlyPaths != nil {
		cfg.OwnMasks, cfg.MaskedPaths, cfg.ReadonlyPaths = true, sc.MaskedPaths, sc.ReadonlyPaths
	}
	cfg.Privileged = sc.Privileged
	cfg.ReadOnly = sc.ReadonlyRootfs
	cfg.NoNewPrivileges = sc.NoNewPrivs
	switch p := sc.Seccomp; {
	case p == nil && sc.SeccompProfilePath == "", p != nil && p.ProfileType == runtimeapi.SecurityProfile_Unconfined:
		cfg.Seccomp = "unconfined"
	case p != nil && p.ProfileType == runtimeapi.SecurityProfile_Localhost:
		cfg.Seccomp = p.LocalhostRef
	case p == nil && sc.SeccompProfilePath != "":
		switch path := sc.SeccompProfilePath; {
		case path == "unconfined":
			cfg.Seccomp = "unconfined"
		case path == "runtime/default" || path == "docker/default":
		default:
			cfg.Seccomp = strings.TrimPrefix(path, "localhost/")
		}
	}
	ns := sc.GetNamespaceOptions()
	switch ns.GetPid() {
	case runtimeapi.NamespaceMode_NODE:
		cfg.Namespaces[model.NSPid] = model.Namespace{Mode: model.NSModeHost}
	case runtimeapi.NamespaceMode_CONTAINER:
		if pc.SharePid {
			cfg.Namespaces[model.NSPid] = model.Namespace{Mode: model.NSModePrivate}
		}
	case runtimeapi.NamespaceMode_TARGET:
		if ns.TargetId == "" {
			return invalid("pid namespace TARGET without a target container")
		}
		cfg.Namespaces[model.NSPid] = model.Namespace{Mode: model.NSModeContainer, Value: ns.TargetId}
	}
	if ns.GetIpc() == runtimeapi.NamespaceMode_NODE {
		cfg.Namespaces[model.NSIpc] = model.Namespace{Mode: model.NSModeHost}
	}
	// The user namespace is the sandbox's (its members join it): a container asks the same.
	if u := ns.GetUsernsOptions(); u != nil {
		switch {
		case u.Mode == runtimeapi.NamespaceMode_POD && !pc.ShareUser:
			return invalid("user namespace POD: the sandbox has none of its own")
		case u.Mode == runtimeapi.NamespaceMode_NODE && pc.ShareUser:
			return invalid("user namespace NODE: the sandbox has one of its own, which its containers share")
		case u.Mode != runtimeapi.NamespaceMode_POD && u.Mode != runtimeapi.NamespaceMode_NODE:
			return invalid("user namespace mode %s is not supported (POD, NODE)", u.Mode)
		}
	}
	return nil
}

// StartContainer starts a created container.
func (s *Server) StartContainer(ctx context.Context, req *runtimeapi.StartContainerRequest) (*runtimeapi.StartContainerResponse, error) {
	return reply(&runtimeapi.StartContainerResponse{}, s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		if c.State.Status != model.StatusCreated {
			return fmt.Errorf("container %s is %s, not created: %w", c.Config.ID, c.State.Status, errdefs.ErrWrongState)
		}
		_, err := rt.StartContainer(ctx, c.Config.ID, nil)
		return err
	}))
}

// withContainer opens the engine and calls fn with the CRI container id names; with goneOK, a
// container that is not there is not an error (fn is not called), as the CRI asks of stops and
// removals.
func (s *Server) withContainer(id string, goneOK bool, fn func(rt *engine.Runtime, c *model.Container) error) error {
	return s.withRuntime(func(rt *engine.Runtime) error {
		c, err := lookupContainer(rt, id)
		if goneOK && errdefs.Is(err, errdefs.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(rt, c)
	})
}

// reply is a call's answer: resp, or the error.
func reply[T any](resp *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// lookupContainer finds a container made through the CRI, by ID or a unique prefix of one.
func lookupContainer(rt *engine.Runtime, id string) (*model.Container, error) {
	if id == "" {
		return nil, invalid("a container ID is needed")
	}
	c, err := rt.LookupContainer(id)
	if err != nil {
		return nil, err
	}
	if _, ok := c.Config.Annotations[annoName]; !ok || c.Config.IsInfra {
		return nil, fmt.Errorf("container %s was not made through the CRI: %w", c.Config.Name, errdefs.ErrNotFound)
	}
	return c, nil
}

// StopContainer stops a container, waiting Timeout seconds before it kills it; one that is not
// running is not an error (nor one that is gone).
func (s *Server) StopContainer(ctx context.Context, req *runtimeapi.StopContainerRequest) (*runtimeapi.StopContainerResponse, error) {
	return reply(&runtimeapi.StopContainerResponse{}, s.withContainer(req.ContainerId, true, func(rt *engine.Runtime, c *model.Container) error {
		if !c.State.Active() {
			return nil
		}
		t := uint(max(req.Timeout, 0))
		_, err := rt.StopContainer(ctx, c.Config.ID, &t)
		if errdefs.Is(err, errdefs.ErrWrongState) {
			return nil // it exited meanwhile
		}
		return err
	}))
}

// RemoveContainer removes a container, forcibly if it runs; one that is gone is not an error.
func (s *Server) RemoveContainer(ctx context.Context, req *runtimeapi.RemoveContainerRequest) (*runtimeapi.RemoveContainerResponse, error) {
	return reply(&runtimeapi.RemoveContainerResponse{}, s.withContainer(req.ContainerId, true, func(rt *engine.Runtime, c *model.Container) error {
		return rt.RemoveContainer(ctx, c.Config.ID, engine.RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	}))
}

// containerState maps pea's status to the CRI's.
func containerState(st *model.ContainerState) runtimeapi.ContainerState {
	switch st.Status {
	case model.StatusCreated, model.StatusInitialized:
		return runtimeapi.ContainerState_CONTAINER_CREATED
	case model.StatusRunning, model.StatusPaused, model.StatusStopping:
		return runtimeapi.ContainerState_CONTAINER_RUNNING
	case model.StatusExited:
		return runtimeapi.ContainerState_CONTAINER_EXITED
	}
	return runtimeapi.ContainerState_CONTAINER_UNKNOWN
}

func containerMetadata(cfg *model.ContainerConfig) *runtimeapi.ContainerMetadata {
	att, _ := strconv.ParseUint(cfg.Annotations[annoAttempt], 10, 32)
	return &runtimeapi.ContainerMetadata{Name: cfg.Annotations[annoName], Attempt: uint32(att)}
}

// imageRef is the image ID as the CRI shows it.
func imageRef(cfg *model.ContainerConfig) string {
	if cfg.Image == "" {
		return ""
	}
	return "sha256:" + cfg.Image
}

// ListContainers lists the CRI containers the filter selects.
func (s *Server) ListContainers(ctx context.Context, req *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	resp := &runtimeapi.ListContainersResponse{}
	f := req.GetFilter()
	err := s.withRuntime(func(rt *engine.Runtime) error {
		cs, err := rt.ListContainers()
		if err != nil {
			return err
		}
		for _, c := range cs {
			cfg := c.Config
			if _, ok := cfg.Annotations[annoName]; !ok || cfg.IsInfra {
				continue
			}
			st := containerState(c.State)
			if f != nil {
				if f.Id != "" && !strings.HasPrefix(cfg.ID, f.Id) ||
					f.PodSandboxId != "" && !strings.HasPrefix(cfg.Pod, f.PodSandboxId) ||
					f.State != nil && f.State.State != st || !labelsMatch(cfg.Labels, f.LabelSelector) {
					continue
				}
			}
			resp.Containers = append(resp.Containers, &runtimeapi.Container{
				Id: cfg.ID, PodSandboxId: cfg.Pod, Metadata: containerMetadata(cfg),
				Image:    &runtimeapi.ImageSpec{Image: cfg.Annotations[annoImage]},
				ImageRef: imageRef(cfg), ImageId: imageRef(cfg), State: st, CreatedAt: cfg.Created.UnixNano(),
				Labels: nonNil(cfg.Labels), Annotations: userAnnotations(cfg.Annotations),
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// ContainerStatus reports a container: its state and times, exit code and reason, image,
// mounts and log path.
func (s *Server) ContainerStatus(ctx context.Context, req *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	var resp *runtimeapi.ContainerStatusResponse
	err := s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		cfg, st := c.Config, c.State
		cs := &runtimeapi.ContainerStatus{
			Id: cfg.ID, Metadata: containerMetadata(cfg), State: containerState(st), CreatedAt: cfg.Created.UnixNano(),
			Image:    &runtimeapi.ImageSpec{Image: cfg.Annotations[annoImage]},
			ImageRef: imageRef(cfg), ImageId: imageRef(cfg), Labels: nonNil(cfg.Labels), Annotations: userAnnotations(cfg.Annotations),
			LogPath: cfg.LogPath,
		}
		if !st.StartedAt.IsZero() {
			cs.StartedAt = st.StartedAt.UnixNano()
		}
		if st.Status == model.StatusExited {
			cs.FinishedAt = st.FinishedAt.UnixNano()
			cs.ExitCode = st.ExitCode
			switch {
			case st.OOMKilled:
				cs.Reason = "OOMKilled"
			case st.Error != "":
				cs.Reason, cs.Message = "Error", st.Error
			case st.ExitCode == 0:
				cs.Reason = "Completed"
			default:
				cs.Reason = "Error"
			}
		}
		for _, mt := range cfg.Mounts {
			if mt.Type == "image" {
				cs.Mounts = append(cs.Mounts, &runtimeapi.Mount{ContainerPath: mt.Destination, Readonly: mt.ReadOnly,
					Image: &runtimeapi.ImageSpec{Image: mt.Source, ImageRef: "sha256:" + mt.ImageID}, ImageSubPath: mt.SubPath})
				continue
			}
			if mt.Type == "bind" {
				m := &runtimeapi.Mount{ContainerPath: mt.Destination, HostPath: mt.Source, Readonly: mt.ReadOnly,
					RecursiveReadOnly: slices.Contains(mt.Options, "rro")}
				switch {
				case slices.Contains(mt.Options, "rshared"):
					m.Propagation = runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
				case slices.Contains(mt.Options, "rslave"):
					m.Propagation = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
				}
				cs.Mounts = append(cs.Mounts, m)
			}
		}
		if st.Status == model.StatusRunning {
			cs.User = processUser(rt, cfg.ID)
		}
		if r := cfg.Resources; r.Memory != 0 || r.CPUShares != 0 || r.CPUQuota != 0 || r.CPUPeriod != 0 || r.CpusetCpus != "" || r.CpusetMems != "" {
			cs.Resources = &runtimeapi.ContainerResources{Linux: &runtimeapi.LinuxContainerResources{
				MemoryLimitInBytes: r.Memory, CpuShares: int64(r.CPUShares), CpuQuota: r.CPUQuota, CpuPeriod: int64(r.CPUPeriod),
				CpusetCpus: r.CpusetCpus, CpusetMems: r.CpusetMems}}
		}
		resp = &runtimeapi.ContainerStatusResponse{Status: cs}
		if req.Verbose {
			resp.Info = map[string]string{"info": fmt.Sprintf(`{"name":%q,"pid":%d,"status":%q}`, cfg.Name, st.Pid, st.Status)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// processUser is the identity a container's process started with, as the CRI shows it: its
// supplementary groups with its own group among them, as the runtimes kubelet knows list them.
// nil when pea cannot tell.
func processUser(rt *engine.Runtime, id string) *runtimeapi.ContainerUser {
	uid, gid, groups, err := rt.ProcessUser(id)
	if err != nil {
		return nil
	}
	all := []int64{int64(gid)}
	for _, g := range groups {
		if !slices.Contains(all, int64(g)) {
			all = append(all, int64(g))
		}
	}
	return &runtimeapi.ContainerUser{Linux: &runtimeapi.LinuxContainerUser{Uid: int64(uid), Gid: int64(gid), SupplementalGroups: all}}
}

// ExecSync runs a command in a running container and returns its output and exit code; past
// the timeout (seconds, 0 none) the command is killed and the call fails with DeadlineExceeded.
func (s *Server) ExecSync(ctx context.Context, req *runtimeapi.ExecSyncRequest) (*runtimeapi.ExecSyncResponse, error) {
	if len(req.Cmd) == 0 {
		return nil, invalid("exec: a command is needed")
	}
	var resp *runtimeapi.ExecSyncResponse
	err := s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		if req.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(req.Timeout)*time.Second)
			defer cancel()
		}
		var out, errOut bytes.Buffer
		code, err := rt.Exec(ctx, c.Config.ID, engine.ExecOptions{Cmd: req.Cmd, Stdout: &out, Stderr: &errOut, WaitDelay: time.Second})
		if ctx.Err() != nil {
			return fmt.Errorf("exec in %s: command timed out: %w", c.Config.ID, ctx.Err())
		}
		if err != nil {
			if ee, ok := err.(*errdefs.ExitError); ok {
				code = ee.Code
			} else {
				return err
			}
		}
		resp = &runtimeapi.ExecSyncResponse{Stdout: out.Bytes(), Stderr: errOut.Bytes(), ExitCode: int32(code)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// UpdateContainerResources changes a container's limits (crun update).
func (s *Server) UpdateContainerResources(ctx context.Context, req *runtimeapi.UpdateContainerResourcesRequest) (*runtimeapi.UpdateContainerResourcesResponse, error) {
	r := req.GetLinux()
	if r == nil {
		return nil, invalid("update: Linux resources are needed")
	}
	return reply(&runtimeapi.UpdateContainerResourcesResponse{}, s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		res := resources(r)
		u := engine.ResourceUpdate{Memory: &res.Memory, CpusetCpus: &res.CpusetCpus, CpusetMems: &res.CpusetMems}
		if res.CPUShares > 0 {
			u.CPUShares = &res.CPUShares
		}
		if res.CPUQuota > 0 {
			u.CPUQuota, u.CPUPeriod = &res.CPUQuota, &res.CPUPeriod
		}
		if res.Memory == 0 {
			none := int64(-1)
			u.Memory = &none
		}
		_, err := rt.UpdateContainerResources(ctx, c.Config.ID, u)
		return err
	}))
}

// ReopenContainerLog has conmon reopen the container's log file, which kubelet has moved away
// (its log rotation); the lines written from then on go to a new file at the path.
func (s *Server) ReopenContainerLog(ctx context.Context, req *runtimeapi.ReopenContainerLogRequest) (*runtimeapi.ReopenContainerLogResponse, error) {
	return reply(&runtimeapi.ReopenContainerLogResponse{}, s.withContainer(req.ContainerId, false, func(rt *engine.Runtime, c *model.Container) error {
		if c.State.Status != model.StatusRunning {
			return fmt.Errorf("container %s is %s, not running: %w", c.Config.ID, c.State.Status, errdefs.ErrWrongState)
		}
		if err := rt.ReopenLog(c); err != nil {
			return err
		}
		// conmon reopens the file when it next reads its fifo: wait for the new file (a
		// moment), so that the caller finds it once the call returns, as the CRI promises.
		if c.Config.LogPath != "" {
			deadline := time.Now().Add(2 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := os.Stat(c.Config.LogPath); err == nil {
					break
				}
				cpupin.Sleep(10 * time.Millisecond)
			}
		}
		return nil
	}))
}

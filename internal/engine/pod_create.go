package engine

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"pea/internal/cgroups"
	"pea/internal/errdefs"
	"pea/internal/model"

	"pea/internal/rootless"
)

// PodCreateOptions are the parts of a pod create request not stored in its config.
type PodCreateOptions struct {
	Replace bool
	// replacing is the infra container of a pod a clone is made to replace (pod clone
	// --destroy): the host ports it publishes are not a clash.
	replacing string
}

// CreatePod validates cfg, stores the pod, makes its cgroup and its infra container. Nothing is
// left behind when a step fails.
func (r *Runtime) CreatePod(ctx context.Context, cfg *model.PodConfig, o PodCreateOptions) (*model.Pod, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	if rootless.Active() {
		rootlessPod(cfg)
	}
	if err := validatePodConfig(cfg); err != nil {
		return nil, err
	}
	if err := r.preparePodRunFlags(cfg); err != nil {
		return nil, err
	}
	defaultSwap(&cfg.Resources)
	generated := cfg.Name == ""
	if !generated && !validName(cfg.Name) {
		return nil, fmt.Errorf("pod name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", cfg.Name, errdefs.ErrInvalid)
	}
	if o.Replace {
		if old, err := r.LookupPod(cfg.Name); err == nil {
			if err := r.RemovePod(ctx, old.Config.ID, PodRemoveOptions{Force: true}); err != nil {
				return nil, fmt.Errorf("replacing pod %s: %w", cfg.Name, err)
			}
		}
	}
	cfg.ID = newID()
	cfg.Namespace = r.opts.Namespace
	cfg.Created = time.Now()
	if cfg.ExitPolicy == "" {
		cfg.ExitPolicy = model.ExitPolicyContinue
	}
	defaultHostname := cfg.Hostname == ""
	if cfg.CgroupParent == "" && !rootless.Active() {
		cfg.CgroupParent = defaultCgroupParent
	}
	if err := r.preparePortsReplacing(cfg.Infra.Ports, o.replacing); err != nil {
		return nil, err
	}
	if err := noDNSWithoutNetwork(cfg.NetworkMode, cfg.Infra); err != nil {
		return nil, err
	}
	if ns, _ := NetworkMode(cfg.NetworkMode); ns.UserNet() {
		if err := r.checkUserNet(ns, cfg.Infra.Ports); err != nil {
			return nil, err
		}
	} else if cfg.NetworkMode == "" || cfg.NetworkMode == "bridge" || !strings.ContainsAny(cfg.NetworkMode, ":") && cfg.NetworkMode != "host" && cfg.NetworkMode != "none" {
		if err := r.validateNetworks(&cfg.Infra); err != nil {
			return nil, err
		}
	}
	pod := &model.Pod{Config: cfg, State: &model.PodState{}}

	var u undo
	defer u.run()
	err = addWithName(!generated, func(name string) { cfg.Name = name }, func() error {
		if defaultHostname {
			cfg.Hostname, cfg.HostnameDefault = cfg.Name, true
		}
		return st.AddPod(pod)
	})
	if err != nil {
		return nil, err
	}
	u.add(func() { st.RemovePod(cfg.ID); r.locks.Remove(cfg.ID) })

	l, err := r.locks.Lock(cfg.ID)
	if err != nil {
		return nil, err
	}
	defer l.Unlock()

	if cfg.UsePodCgroup {
		path := podCgroupPath(cfg)
		if err := cgroups.Create(path, cgroups.Limits{
			Memory: cfg.Resources.Memory, MemorySwap: cfg.Resources.MemorySwap, CPUs: cfg.Resources.CPUs,
			CpusetCpus: cfg.Resources.CpusetCpus, CpusetMems: cfg.Resources.CpusetMems, PidsLimit: cfg.Resources.PidsLimit,
			CPUShares: cfg.Resources.CPUShares, BlkioWeight: cfg.Resources.BlkioWeight,
			BlkioWeightDevice: deviceNumbers(cfg.Resources.BlkioWeightDevice),
			ReadBps:           deviceNumbers(cfg.Resources.DeviceReadBps), WriteBps: deviceNumbers(cfg.Resources.DeviceWriteBps),
		}); err != nil {
			return nil, fmt.Errorf("pod cgroup: %w", err)
		}
		u.add(func() { cgroups.Remove(path) })
		pod.State.CgroupPath = path
	}
	if cfg.HasInfra {
		infra, err := r.createInfra(ctx, pod)
		if err != nil {
			return nil, err
		}
		u.add(func() {
			r.RemoveContainer(context.Background(), infra.Config.ID, RemoveOptions{Force: true, podRemoval: true, Ignore: true})
		})
		pod.State.InfraContainerID = infra.Config.ID
	}
	if err := st.SavePodState(cfg.ID, pod.State); err != nil {
		return nil, err
	}
	u.done()
	r.podEvent(cfg, "create")
	return pod, nil
}

func validatePodConfig(cfg *model.PodConfig) error {
	if !cfg.HasInfra && len(cfg.SharedKinds()) > 0 {
		return fmt.Errorf("a pod without an infra container cannot share namespaces (--share %v needs --infra): %w", cfg.SharedKinds(), errdefs.ErrInvalid)
	}
	if cfg.SharePid && cfg.PidMode == model.NSModeHost {
		return fmt.Errorf("--share pid and --pid host conflict: a pod cannot both share a private PID namespace and use the host's: %w", errdefs.ErrInvalid)
	}
	if cfg.ShareUts && cfg.UtsMode == model.NSModeHost && cfg.Hostname != "" {
		return fmt.Errorf("--hostname cannot be set with --uts host: %w", errdefs.ErrInvalid)
	}
	if cfg.ShareCgroup && !cfg.UsePodCgroup {
		return fmt.Errorf("--share cgroup needs the pod cgroup: it cannot be combined with --share-parent=false: %w", errdefs.ErrInvalid)
	}
	if cfg.ExitPolicy != "" && cfg.ExitPolicy != model.ExitPolicyContinue && cfg.ExitPolicy != model.ExitPolicyStop {
		return fmt.Errorf("invalid exit policy %q (continue, stop): %w", cfg.ExitPolicy, errdefs.ErrInvalid)
	}
	if err := validateResources(cfg.Resources); err != nil {
		return err
	}
	if !cfg.ShareNet && (len(cfg.Infra.Ports) > 0) {
		return fmt.Errorf("published ports need a shared network namespace (--share net): %w", errdefs.ErrInvalid)
	}
	return nil
}

// createInfra makes the pod's infra container: catatonit in an empty root filesystem (or the
// --infra-image), holding the namespaces the pod shares.
func (r *Runtime) createInfra(ctx context.Context, pod *model.Pod) (*model.Container, error) {
	pc := pod.Config
	name := pc.InfraName
	if name == "" {
		name = shortID(pc.ID) + "-infra"
	}
	cfg := &model.ContainerConfig{
		Name:          name,
		Pod:           pc.ID,
		IsInfra:       true,
		Hostname:      pc.Hostname,
		Labels:        maps.Clone(pc.Labels), // the pod's, as podman's infra container has them
		Network:       pc.Infra,
		Namespaces:    map[string]model.Namespace{},
		CgroupParent:  pod.State.CgroupPath,
		StopSignal:    int(syscall.SIGTERM),
		StopTimeout:   10,
		Sysctls:       pc.Sysctls,
		Resources:     model.Resources{ShmSize: pc.Resources.ShmSize},
		ConmonPidFile: pc.InfraConmonPidFile,
	}
	if cfg.CgroupParent == "" {
		cfg.CgroupParent = pc.CgroupParent
	}
	if !pc.ShareUts {
		cfg.Hostname = ""
	}
	for _, o := range pc.SecurityOpts {
		if err := ApplySecurityOpt(cfg, o); err != nil {
			return nil, err
		}
	}
	switch pc.NetworkMode {
	case "host":
		cfg.Namespaces[model.NSNet] = model.Namespace{Mode: model.NSModeHost}
	case "none":
		cfg.Namespaces[model.NSNet] = model.Namespace{Mode: model.NSModeNone}
	case "", "bridge":
		cfg.Namespaces[model.NSNet] = r.rootlessNetwork(model.Namespace{Mode: model.NSModeBridge}, cfg.Network.Networks)
	default:
		if ns, _ := NetworkMode(pc.NetworkMode); ns.UserNet() {
			cfg.Namespaces[model.NSNet] = ns
		} else if p, ok := strings.CutPrefix(pc.NetworkMode, "ns:"); ok {
			cfg.Namespaces[model.NSNet] = model.Namespace{Mode: model.NSModePath, Value: p}
		} else {
			cfg.Namespaces[model.NSNet] = model.Namespace{Mode: model.NSModeBridge}
		}
	}
	if pc.PidMode == model.NSModeHost {
		cfg.Namespaces[model.NSPid] = model.Namespace{Mode: model.NSModeHost}
	}
	if pc.UtsMode == model.NSModeHost {
		cfg.Namespaces[model.NSUts] = model.Namespace{Mode: model.NSModeHost}
		cfg.Hostname = ""
	}
	if pc.ShareCgroup {
		cfg.Namespaces[model.NSCgroup] = model.Namespace{Mode: model.NSModePrivate}
	}
	if pc.ShareUser && pc.UserNS.Mode != model.NSModeHost && pc.UserNS.Mode != "" {
		cfg.Namespaces[model.NSUser] = pc.UserNS
		cfg.UIDMap, cfg.GIDMap = pc.UIDMap, pc.GIDMap
	}
	o := CreateOptions{EntrypointSet: true, CmdSet: true}
	if pc.InfraImage != "" {
		cfg.ImageName = pc.InfraImage
		cfg.Entrypoint = nil
		cfg.Cmd = pc.InfraCommand
		if len(cfg.Cmd) == 0 {
			o.CmdSet, o.EntrypointSet = false, false
		}
	} else {
		cfg.Entrypoint = []string{"/catatonit", "-P"}
		if len(pc.InfraCommand) > 0 {
			cfg.Entrypoint = pc.InfraCommand
		}
	}
	// The caller holds the pod lock; cfg.Pod is set, so CreateContainer does not take it again.
	return r.CreateContainer(ctx, cfg, o)
}

// podCgroupPath is the pod cgroup of a pod that has one: <parent>/pod-<id>.
func podCgroupPath(cfg *model.PodConfig) string {
	if !cfg.UsePodCgroup {
		return ""
	}
	return filepath.Join(cfg.CgroupParent, "pod-"+cfg.ID)
}

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// PodCloneOptions control ClonePod.
type PodCloneOptions struct {
	Name         string            // the clone's name (default: the original's with -clone, -clone1, ...)
	InfraName    string            // its infra container's (default: the original infra's clone name)
	InfraCommand []string          // another infra command
	Hostname     string            // another hostname
	Labels       map[string]string // labels added to the original's
	Resources    ResourceUpdate    // pod limits instead of the original's
	ShmSize      int64             // another /dev/shm size (0: the original's)
	Volumes      []string          // volumes added for every member (SRC:DST[:OPTS])
	Devices      []string          // host devices added for every member
	Sysctls      map[string]string // sysctls set for every member
	SecurityOpts []string          // security options added for every member
	Destroy      bool              // remove the original pod (and its containers) once cloned
	Start        bool              // start the clone
	// Pod create's settings the clone has instead of the original's ("" and nil: the
	// original's); VolumesFrom are added to the original's.
	CgroupParent       string
	UserNS             *PodUserNS
	PidMode, UtsMode   string // host or private
	VolumesFrom        []string
	InfraConmonPidFile string
}

// PodUserNS is a pod's user namespace (pod create's --userns, --uidmap, --gidmap).
type PodUserNS struct {
	NS             model.Namespace
	UIDMap, GIDMap []model.IDMap
}

// applyCreateSettings gives cfg, a copy of the original pod's config, the pod create settings o
// names.
func (o PodCloneOptions) applyCreateSettings(cfg *model.PodConfig) error {
	if o.CgroupParent != "" {
		cfg.CgroupParent = o.CgroupParent
	}
	if u := o.UserNS; u != nil {
		cfg.UserNS, cfg.UIDMap, cfg.GIDMap = u.NS, u.UIDMap, u.GIDMap
		cfg.ShareUser = u.NS.Mode != model.NSModeHost && u.NS.Mode != ""
		if cfg.ShareUser && !cfg.HasInfra {
			return fmt.Errorf("a pod's user namespace is held by its infra container, which pod %s has none of: %w", cfg.Name, errdefs.ErrInvalid)
		}
	}
	if o.PidMode != "" {
		cfg.PidMode = o.PidMode
	}
	if o.UtsMode != "" {
		cfg.UtsMode = o.UtsMode
	}
	cfg.VolumesFrom = append(cfg.VolumesFrom, o.VolumesFrom...)
	if o.InfraConmonPidFile != "" {
		if !cfg.HasInfra {
			return fmt.Errorf("--infra-conmon-pidfile: pod %s has no infra container: %w", cfg.Name, errdefs.ErrInvalid)
		}
		cfg.InfraConmonPidFile = o.InfraConmonPidFile
	}
	return nil
}

// ClonePod creates a new pod with the configuration of an existing one, a new infra container,
// and a clone of each of its other containers (`pea pod clone`). A clone that fails halfway is
// removed whole.
func (r *Runtime) ClonePod(ctx context.Context, nameOrID string, o PodCloneOptions) (*model.Pod, error) {
	orig, err := r.LookupPod(nameOrID)
	if err != nil {
		return nil, err
	}
	members, err := r.PodMembers(orig.Config.ID)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(orig.Config)
	if err != nil {
		return nil, err
	}
	cfg := &model.PodConfig{}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, err
	}
	cfg.ID, cfg.Created = "", time.Time{}
	cfg.ServiceContainer = "" // a clone is no part of the kube play that made the original
	if cfg.Name = o.Name; cfg.Name == "" {
		if cfg.Name, err = r.clonePodName(orig.Config.Name); err != nil {
			return nil, err
		}
	}
	if cfg.Hostname == orig.Config.Name { // the default, the pod's name: the clone's is its own
		cfg.Hostname = ""
	}
	if o.Hostname != "" {
		cfg.Hostname = o.Hostname
	}
	if len(o.InfraCommand) > 0 {
		cfg.InfraCommand = o.InfraCommand
	}
	for k, v := range o.Labels {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[k] = v
	}
	o.Resources.apply(&cfg.Resources)
	if o.ShmSize > 0 {
		cfg.Resources.ShmSize = o.ShmSize
	}
	cfg.Volumes = append(cfg.Volumes, o.Volumes...)
	cfg.Devices = append(cfg.Devices, o.Devices...)
	cfg.SecurityOpts = append(cfg.SecurityOpts, o.SecurityOpts...)
	for k, v := range o.Sysctls {
		if cfg.Sysctls == nil {
			cfg.Sysctls = map[string]string{}
		}
		cfg.Sysctls[k] = v
	}
	if err := o.applyCreateSettings(cfg); err != nil {
		return nil, err
	}
	cfg.InfraName = o.InfraName
	for _, m := range members {
		if m.Config.IsInfra && cfg.InfraName == "" {
			if cfg.InfraName, err = r.cloneName(m.Config.Name); err != nil {
				return nil, err
			}
		}
	}
	po := PodCreateOptions{}
	if o.Destroy {
		po.replacing = orig.State.InfraContainerID // its ports go with it, before the clone can run
	}
	pod, err := r.CreatePod(ctx, cfg, po)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		if m.Config.IsInfra {
			continue
		}
		if _, err := r.CloneContainer(ctx, m.Config.ID, CloneOptions{Pod: pod.Config.ID}); err != nil {
			r.RemovePod(context.Background(), pod.Config.ID, PodRemoveOptions{Force: true, Ignore: true})
			return nil, fmt.Errorf("cloning container %s of pod %s: %w", m.Config.Name, orig.Config.Name, err)
		}
	}
	if o.Destroy {
		if err := r.RemovePod(ctx, orig.Config.ID, PodRemoveOptions{Force: true}); err != nil {
			return pod, fmt.Errorf("pod %s cloned, but the original not destroyed: %w", pod.Config.Name, err)
		}
	}
	if o.Start {
		if _, err := r.StartPod(ctx, pod.Config.ID); err != nil {
			return pod, err
		}
	}
	return pod, nil
}

// clonePodName is podman's name for a clone of the pod called name: name-clone, or the first of
// name-clone1, name-clone2... that is free.
func (r *Runtime) clonePodName(name string) (string, error) {
	for i := 0; i < 1000; i++ {
		candidate := name + "-clone"
		if i > 0 {
			candidate += strconv.Itoa(i)
		}
		if p, err := r.LookupPod(candidate); err != nil || p.Config.Name != candidate {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("no free name for a clone of pod %s: give one: %w", name, errdefs.ErrExists)
}

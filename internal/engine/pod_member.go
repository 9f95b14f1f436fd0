package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/lock"
	"pea/internal/model"
)

// lockPod takes a pod's lock and re-reads it.
func (r *Runtime) lockPod(id string) (*lock.Lock, *model.Pod, error) {
	st, err := r.state()
	if err != nil {
		return nil, nil, err
	}
	return lockAndRead(r, id, st.Pod, errdefs.ErrPodRemoved)
}

// podForMember finds (or with new:NAME creates) the pod a new container joins and locks it;
// the returned function releases the lock.
func (r *Runtime) podForMember(ctx context.Context, ref string, u *undo) (*model.Pod, func(), error) {
	var pod *model.Pod
	if name, ok := strings.CutPrefix(ref, "new:"); ok {
		p, err := r.CreatePod(ctx, model.NewPodConfig(name), PodCreateOptions{})
		if err != nil {
			return nil, nil, err
		}
		u.add(func() {
			r.RemovePod(context.Background(), p.Config.ID, PodRemoveOptions{Force: true, Timeout: uintPtr(0)})
		})
		pod = p
	} else {
		p, err := r.LookupPod(ref)
		if err != nil {
			return nil, nil, err
		}
		pod = p
	}
	l, pod, err := r.lockPod(pod.Config.ID)
	if err != nil {
		return nil, nil, err
	}
	return pod, l.Unlock, nil
}

// joinPod makes cfg a member of pod: for every namespace the pod shares, the infra container's
// (but for the kinds in own, which the user chose for this member); the pod cgroup as cgroup
// parent when the pod has one. Sharing the cgroup namespace and living under the pod cgroup are
// separate settings (podman's bug 6149 confused them).
func joinPod(cfg *model.ContainerConfig, pod *model.Pod, own []string, hostnameSet bool) error {
	pc := pod.Config
	cfg.Pod = pc.ID
	if cfg.Namespaces == nil {
		cfg.Namespaces = map[string]model.Namespace{}
	}
	if ns, ok := cfg.Namespaces[model.NSUser]; ok && ns.Mode != model.NSModeHost && ns.Mode != "" {
		return fmt.Errorf("a container in a pod cannot set its own user namespace; set it on the pod: %w", errdefs.ErrInvalid)
	}
	infra := pod.State.InfraContainerID
	joined := map[string]bool{}
	for _, kind := range pc.SharedKinds() {
		if infra == "" {
			break
		}
		if _, ok := cfg.Namespaces[kind]; ok && slices.Contains(own, kind) && kind != model.NSUser {
			continue // the member's own choice (podman's: an explicit mode is not the pod's)
		}
		if ns, ok := cfg.Namespaces[kind]; ok && ns.Mode != model.NSModePrivate && !(kind == model.NSNet && ns.Mode == model.NSModeBridge) {
			return fmt.Errorf("the pod shares the %s namespace, so a member cannot set --%s %s: %w", kind, nsFlag(kind), ns.Mode, errdefs.ErrInvalid)
		}
		cfg.Namespaces[kind] = model.Namespace{Mode: model.NSModeContainer, Value: infra}
		joined[kind] = true
	}
	if joined[model.NSNet] {
		if len(cfg.Network.Ports) > 0 {
			return fmt.Errorf("published ports of a pod member are set on the pod (pod create -p); a container in pod %s cannot publish its own: %w", pc.Name, errdefs.ErrInvalid)
		}
		if len(cfg.Network.Networks) > 0 || cfg.Network.StaticIP != "" || cfg.Network.StaticIP6 != "" || cfg.Network.StaticMAC != "" {
			return fmt.Errorf("networks, static IPs and MACs of a pod member are set on the pod: %w", errdefs.ErrInvalid)
		}
		if own != nil && len(cfg.Network.AddHosts) > 0 {
			return fmt.Errorf("extra host entries of a pod member are set on the pod (pod create --add-host): %w", errdefs.ErrInvalid)
		}
	}
	if pc.UsePodCgroup && pod.State.CgroupPath != "" {
		if cfg.CgroupParent != "" && cfg.CgroupParent != pod.State.CgroupPath {
			return fmt.Errorf("a container in pod %s has the pod cgroup as its parent; --cgroup-parent cannot be set: %w", pc.Name, errdefs.ErrInvalid)
		}
		cfg.CgroupParent = pod.State.CgroupPath
	} else if cfg.CgroupParent == "" {
		cfg.CgroupParent = pc.CgroupParent
	}
	if joined[model.NSUts] {
		if hostnameSet && cfg.Hostname != "" {
			return fmt.Errorf("a container that joins its pod's UTS namespace has the pod's hostname; set it on the pod (pod create --hostname), or give the container --uts private: %w", errdefs.ErrInvalid)
		}
		cfg.Hostname = ""
	}
	// Pod-wide settings every member gets.
	for _, v := range pc.Volumes {
		m, err := ParseVolume(v)
		if err != nil {
			return err
		}
		if !userMounts(cfg, m.Destination) {
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	for _, m := range pc.VolumesFromMounts {
		if !userMounts(cfg, m.Destination) {
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	cfg.Devices = append(append([]string{}, pc.Devices...), cfg.Devices...)
	for k, v := range pc.Sysctls {
		if cfg.Sysctls == nil {
			cfg.Sysctls = map[string]string{}
		}
		if _, ok := cfg.Sysctls[k]; !ok {
			cfg.Sysctls[k] = v
		}
	}
	if pc.Resources.ShmSize > 0 && cfg.Resources.ShmSize == 0 {
		cfg.Resources.ShmSize = pc.Resources.ShmSize
	}
	for _, o := range pc.SecurityOpts {
		if err := ApplySecurityOpt(cfg, o); err != nil {
			return err
		}
	}
	return nil
}

func nsFlag(kind string) string {
	switch kind {
	case model.NSNet:
		return "network"
	case model.NSCgroup:
		return "cgroupns"
	case model.NSMount:
		return "mount"
	case model.NSUser:
		return "userns"
	}
	return kind
}

// ensureInfraRunning starts the pod's infra container when it is not running; the caller holds
// the pod lock.
func (r *Runtime) ensureInfraRunning(ctx context.Context, pod *model.Pod) error {
	id := pod.State.InfraContainerID
	if id == "" {
		return nil
	}
	l, infra, err := r.lockContainer(id)
	if err != nil {
		return err
	}
	defer l.Unlock()
	if err := r.syncLocked(infra); err != nil {
		return err
	}
	if infra.State.Active() {
		if infra.State.Status == model.StatusPaused {
			return r.setPausedLocked(infra, false)
		}
		return nil
	}
	if err := r.startLocked(ctx, infra, nil); err != nil {
		return fmt.Errorf("starting the infra container of pod %s: %w", pod.Config.Name, err)
	}
	return nil
}

// applyExitPolicy stops the pod's infra container when the policy is "stop" and no application
// container is running any more. afterRemoval: a member was just removed, and a pod left with
// no application container stops too (as podman's, whose check follows a member's exit, stop
// and removal alike).
func (r *Runtime) applyExitPolicy(ctx context.Context, podID string, afterRemoval bool) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	pod, err := st.Pod(podID)
	if err != nil || pod.Config.ExitPolicy != model.ExitPolicyStop {
		return nil
	}
	l, _, err := r.lockPod(podID)
	if err != nil {
		return err
	}
	defer l.Unlock()
	members, err := st.ListContainers("", podID)
	if err != nil {
		return err
	}
	var infra *model.Container
	apps := 0
	for _, c := range members {
		if c.Config.IsInfra {
			infra = c
			continue
		}
		if c.Config.InitContainerType != "" {
			continue // init containers exit by design
		}
		apps++
		if _, done := r.exited(c); c.State.Active() && !done {
			return nil
		}
	}
	if infra == nil || (apps == 0 && !afterRemoval) {
		return nil
	}
	il, infra, err := r.lockContainer(infra.Config.ID)
	if err != nil {
		return err
	}
	defer il.Unlock()
	if err := r.syncLocked(infra); err != nil || !infra.State.Active() {
		return err
	}
	return r.stopLocked(infra, nil)
}

// memberGone applies the exit policy of c's pod after c, an application member, was stopped or
// removed by a user's command. The stop or removal is done: a failure to stop the pod is not
// theirs, and is dropped.
func (r *Runtime) memberGone(ctx context.Context, c *model.Container) {
	if c.Config.Pod == "" || c.Config.IsInfra || c.Config.InitContainerType != "" {
		return
	}
	r.applyExitPolicy(ctx, c.Config.Pod, true)
}

package kube

import (
	"fmt"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// defaultStopTimeout is pea's (and podman's) --stop-timeout default.
const defaultStopTimeout = 10

// planContainer turns one container of the pod spec into a container config.
func (p *PodPlan) planContainer(c *k8s.Container, w *Workload, vols map[string]volSource, env envContext, volumePath func(string) string) (*CtrPlan, error) {
	cfg := &model.ContainerConfig{
		Name:          ContainerName(p.Name, c.Name),
		ImageName:     strings.TrimSpace(c.Image),
		WorkingDir:    c.WorkingDir,
		Annotations:   copyMap(w.Meta.Annotations),
		Terminal:      c.TTY,
		Stdin:         c.Stdin,
		StopTimeout:   defaultStopTimeout,
		RestartPolicy: p.Pod.RestartPolicy,
		Namespaces:    map[string]model.Namespace{},
	}
	if g := w.Spec.TerminationGracePeriodSeconds; g != nil && *g >= 0 {
		cfg.StopTimeout = uint(*g)
	}
	cp := &CtrPlan{KubeName: c.Name, Config: cfg, Opts: engine.CreateOptions{Pod: p.Name, ImageVolume: "bind"}}
	switch c.ImagePullPolicy {
	case k8s.PullAlways:
		cp.Opts.Pull = "always"
	case k8s.PullNever:
		cp.Opts.Pull = "never"
	default:
		cp.Opts.Pull = "missing"
	}
	var err error
	if cfg.Env, cp.PodIPEnv, err = env.resolveEnv(c); err != nil {
		return nil, err
	}
	if len(c.Command) > 0 {
		cfg.Entrypoint, cp.Opts.EntrypointSet = expandArgs(c.Command, cfg.Env), true
	}
	if len(c.Args) > 0 {
		cfg.Cmd, cp.Opts.CmdSet = expandArgs(c.Args, cfg.Env), true
	}
	cfg.Resources.Memory, cfg.Resources.CPUs = limits(c.Resources.Limits)
	if err := applySecurity(cfg, w.Spec.SecurityContext, c.SecurityContext); err != nil {
		return nil, err
	}
	for _, vm := range c.VolumeMounts {
		m, err := p.mountFor(vm, vols, volumePath)
		if err != nil {
			return nil, err
		}
		cfg.Mounts = append(cfg.Mounts, m)
	}
	return cp, nil
}

// applySecurity merges the pod's and the container's security context (the container's wins).
func applySecurity(cfg *model.ContainerConfig, pod *k8s.PodSecurityContext, sc *k8s.SecurityContext) error {
	var uid, gid *int64
	if pod != nil {
		uid, gid = pod.RunAsUser, pod.RunAsGroup
		if pod.SeccompProfile != nil && pod.SeccompProfile.Type == k8s.SeccompProfileTypeUnconfined {
			cfg.Seccomp = "unconfined"
		}
	}
	if sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
		if c := sc.Capabilities; c != nil {
			for _, a := range c.Add {
				cfg.CapAdd = append(cfg.CapAdd, string(a))
			}
			for _, d := range c.Drop {
				cfg.CapDrop = append(cfg.CapDrop, string(d))
			}
		}
		cfg.Privileged = isTrue(sc.Privileged)
		cfg.ReadOnly = isTrue(sc.ReadOnlyRootFilesystem)
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			cfg.NoNewPrivileges = true
		}
		if sc.SeccompProfile != nil {
			switch sc.SeccompProfile.Type {
			case k8s.SeccompProfileTypeUnconfined:
				cfg.Seccomp = "unconfined"
			case k8s.SeccompProfileTypeRuntimeDefault:
				cfg.Seccomp = ""
			}
		}
	}
	switch {
	case uid != nil && gid != nil:
		cfg.User = strconv.FormatInt(*uid, 10) + ":" + strconv.FormatInt(*gid, 10)
	case uid != nil:
		cfg.User = strconv.FormatInt(*uid, 10)
	case gid != nil:
		return fmt.Errorf("securityContext: runAsGroup needs runAsUser too (pea sets the process's user and group together)")
	}
	if uid != nil && *uid < 0 || gid != nil && *gid < 0 {
		return fmt.Errorf("securityContext: runAsUser and runAsGroup must not be negative")
	}
	return nil
}

package kube

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// container describes one application container. What it has from its image (entrypoint, command,
// variables, working directory, user) is left out, so that the YAML says only what was chosen.
func container(cfg *model.ContainerConfig, img *ImageDefaults, podNames []string, vols *volumeSet) (k8s.Container, error) {
	if img == nil {
		img = &ImageDefaults{}
	}
	if cfg.ImageName == "" {
		return k8s.Container{}, fmt.Errorf("container %s has no image (a root filesystem directory cannot be described in Kubernetes YAML): %w", cfg.Name, errdefs.ErrInvalid)
	}
	name := cfg.Name
	for _, p := range podNames { // play names a container <pod>-<name>
		if n, ok := strings.CutPrefix(cfg.Name, p+"-"); ok && n != "" {
			name = n
			break
		}
	}
	kc := k8s.Container{
		Name:  dnsLabel(name),
		Image: cfg.ImageName,
		TTY:   cfg.Terminal,
		Stdin: cfg.Stdin,
	}
	// Kubernetes: command replaces the entrypoint, args the command; with command alone the
	// image's command is dropped, so args must then be spelt out.
	if !slices.Equal(cfg.Entrypoint, img.Entrypoint) {
		kc.Command = nonNil(cfg.Entrypoint)
		kc.Args = cfg.Cmd
	} else if !slices.Equal(cfg.Cmd, img.Cmd) {
		kc.Args = nonNil(cfg.Cmd)
	}
	if len(kc.Command) == 0 && kc.Command != nil {
		// An entrypoint cleared by the user: Kubernetes cannot say "no entrypoint"; the command
		// alone runs.
		kc.Command, kc.Args = cfg.Cmd, nil
	}
	for _, kv := range cfg.Env {
		if slices.Contains(img.Env, kv) {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		kc.Env = append(kc.Env, k8s.EnvVar{Name: k, Value: v})
	}
	if cfg.WorkingDir != "" && cfg.WorkingDir != "/" && cfg.WorkingDir != img.WorkingDir {
		kc.WorkingDir = cfg.WorkingDir
	}
	if l := resourceList(cfg.Resources.Memory, cfg.Resources.CPUs); l != nil {
		kc.Resources.Limits = l
	}
	kc.SecurityContext = securityContext(cfg, img)
	kc.LivenessProbe, kc.StartupProbe = probes(cfg)
	for _, m := range cfg.Mounts {
		name, err := vols.add(m)
		if err != nil {
			return kc, err
		}
		kc.VolumeMounts = append(kc.VolumeMounts, k8s.VolumeMount{Name: name, MountPath: m.Destination, ReadOnly: m.ReadOnly})
	}
	return kc, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// securityContext says what differs from the defaults (nil when nothing does).
func securityContext(cfg *model.ContainerConfig, img *ImageDefaults) *k8s.SecurityContext {
	sc := &k8s.SecurityContext{}
	set := false
	if len(cfg.CapAdd)+len(cfg.CapDrop) > 0 {
		sc.Capabilities = &k8s.Capabilities{Add: capNames(cfg.CapAdd), Drop: capNames(cfg.CapDrop)}
		set = true
	}
	t, f := true, false
	if cfg.Privileged {
		sc.Privileged, set = &t, true
	}
	if cfg.ReadOnly {
		sc.ReadOnlyRootFilesystem, set = &t, true
	}
	if cfg.NoNewPrivileges {
		sc.AllowPrivilegeEscalation, set = &f, true
	}
	if cfg.Seccomp == "unconfined" {
		sc.SeccompProfile, set = &k8s.SeccompProfile{Type: k8s.SeccompProfileTypeUnconfined}, true
	}
	if cfg.User != "" && cfg.User != img.User {
		u, g, hasGroup := strings.Cut(cfg.User, ":")
		if uid, err := strconv.ParseInt(u, 10, 64); err == nil {
			sc.RunAsUser, set = &uid, true
		}
		if gid, err := strconv.ParseInt(g, 10, 64); hasGroup && err == nil && sc.RunAsUser != nil {
			sc.RunAsGroup = &gid
		}
	}
	if !set {
		return nil
	}
	return sc
}

// capNames spells capabilities as Kubernetes does: upper case, without CAP_.
func capNames(caps []string) []k8s.Capability {
	var out []k8s.Capability
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		out = append(out, k8s.Capability(strings.TrimPrefix(c, "CAP_")))
	}
	return out
}

// volumeSet gathers the pod's volumes: one per host path, named volume or tmpfs mount.
type volumeSet struct {
	pod   string
	named map[string]*model.Volume
	bySrc map[string]string // kind+source → volume name
	taken map[string]bool
	list  []k8s.Volume
}

func newVolumeSet(pod string, named map[string]*model.Volume) *volumeSet {
	return &volumeSet{pod: pod, named: named, bySrc: map[string]string{}, taken: map[string]bool{}}
}

// add returns the name of the volume behind mount m, adding it when new.
func (s *volumeSet) add(m model.Mount) (string, error) {
	key := m.Type + "\x00" + m.Source
	if m.Type == "tmpfs" {
		key += "\x00" + m.Destination // every tmpfs mount is its own
	}
	if name, ok := s.bySrc[key]; ok {
		return name, nil
	}
	var v k8s.Volume
	switch m.Type {
	case "bind":
		v = k8s.Volume{Name: s.unique(dnsLabel(m.Source) + "-host"),
			VolumeSource: k8s.VolumeSource{HostPath: &k8s.HostPathVolumeSource{Path: m.Source}}}
	case "volume":
		if nv := s.named[m.Source]; nv != nil && nv.Labels[LabelEmptyDir] != "" && nv.Labels[LabelPod] == s.pod {
			v = k8s.Volume{Name: s.unique(nv.Labels[LabelEmptyDir]), VolumeSource: k8s.VolumeSource{EmptyDir: &k8s.EmptyDirVolumeSource{}}}
			break
		}
		v = k8s.Volume{Name: s.unique(dnsLabel(m.Source) + "-pvc"),
			VolumeSource: k8s.VolumeSource{PersistentVolumeClaim: &k8s.PersistentVolumeClaimVolumeSource{ClaimName: m.Source}}}
	case "tmpfs":
		ed := &k8s.EmptyDirVolumeSource{Medium: k8s.StorageMediumMemory}
		for _, o := range m.Options {
			if sz, ok := strings.CutPrefix(o, "size="); ok {
				if n, err := engine.ParseSize(sz); err == nil && n > 0 {
					ed.SizeLimit = k8s.NewQuantity(n, k8s.BinarySI)
				}
			}
		}
		v = k8s.Volume{Name: s.unique(dnsLabel(m.Destination) + "-tmpfs"), VolumeSource: k8s.VolumeSource{EmptyDir: ed}}
	default:
		return "", fmt.Errorf("mount of type %q at %s cannot be described in Kubernetes YAML: %w", m.Type, m.Destination, errdefs.ErrInvalid)
	}
	s.bySrc[key] = v.Name
	s.list = append(s.list, v)
	return v.Name, nil
}

func (s *volumeSet) unique(name string) string {
	base := name
	for i := 1; s.taken[name]; i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	s.taken[name] = true
	return name
}

// probes describes a container's checks as Kubernetes probes: its health check as a liveness
// probe when a failure restarts or kills the container (what a liveness probe does, and what
// kube play makes of one; a check that only reports stays out, as podman 4.3 leaves every
// check out), its startup check as a startup probe.
func probes(cfg *model.ContainerConfig) (live, startup *k8s.Probe) {
	// A check without an interval (what a startup probe alone gates) runs nothing after it.
	if hc := cfg.Healthcheck; hc != nil && (cfg.HealthOnFailure == "restart" || cfg.HealthOnFailure == "kill") && hc.Interval > 0 {
		if live = probeOf(hc.Test, hc.Probe); live != nil {
			live.PeriodSeconds = seconds(hc.Interval)
			live.TimeoutSeconds = seconds(hc.Timeout)
			live.FailureThreshold = int32(hc.Retries)
			live.InitialDelaySeconds = seconds(hc.StartPeriod)
		}
	}
	if s := cfg.StartupHealthcheck; s != nil {
		startup = probeOf(s.Test, s.Probe)
		if startup != nil {
			startup.PeriodSeconds = seconds(s.Interval)
			startup.TimeoutSeconds = seconds(s.Timeout)
			startup.FailureThreshold = int32(s.Retries)
		}
	}
	return live, startup
}

// probeOf is a check's handler: pea's own probe, or the test as an exec probe (nil: NONE).
func probeOf(test []string, np *model.NetProbe) *k8s.Probe {
	switch {
	case np != nil && np.Kind == "http":
		g := &k8s.HTTPGetAction{Path: np.Path, Port: k8s.FromInt32(int32(np.Port)), Host: np.Host}
		for _, h := range np.Headers {
			n, v, _ := strings.Cut(h, ":")
			g.HTTPHeaders = append(g.HTTPHeaders, k8s.HTTPHeader{Name: strings.TrimSpace(n), Value: strings.TrimSpace(v)})
		}
		return &k8s.Probe{HTTPGet: g}
	case np != nil:
		return &k8s.Probe{TCPSocket: &k8s.TCPSocketAction{Port: k8s.FromInt32(int32(np.Port)), Host: np.Host}}
	case len(test) > 1 && test[0] == "CMD":
		return &k8s.Probe{Exec: &k8s.ExecAction{Command: test[1:]}}
	case len(test) > 1 && test[0] == "CMD-SHELL":
		return &k8s.Probe{Exec: &k8s.ExecAction{Command: []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}}}
	case len(test) > 0 && test[0] != "NONE" && test[0] != "CMD" && test[0] != "CMD-SHELL":
		return &k8s.Probe{Exec: &k8s.ExecAction{Command: test}}
	}
	return nil
}

// seconds is d in whole seconds, at least 1 when d is not zero (Kubernetes counts seconds).
func seconds(d time.Duration) int32 {
	if d <= 0 {
		return 0
	}
	return int32(max((d+time.Second/2)/time.Second, 1))
}

package kube

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
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
		Labels:        copyMap(w.Meta.Labels), // the pod's labels, as podman's members carry them
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
	if err := planProbes(cfg, c); err != nil {
		return nil, err
	}
	return cp, nil
}

// planProbes turns a container's liveness probe into its health check and its startup probe
// into its startup check (podman 4.3 maps the liveness probe; 4.4 added startup checks):
// periodSeconds is the interval (10 s when unset), timeoutSeconds the timeout (1 s),
// failureThreshold the retries (3), initialDelaySeconds the start period. A failed liveness
// check restarts the container as the kubelet's would, unless the pod's restart policy is
// Never (then it is killed); so do failureThreshold failures of the startup check. A startup
// probe without a liveness probe gates a check that then runs no more (k8s runs nothing after
// it either). readinessProbe is not used: pea has no Service endpoints to take a pod out of.
func planProbes(cfg *model.ContainerConfig, c *k8s.Container) error {
	if lp := c.LivenessProbe; lp != nil {
		test, probe, err := probeTest(lp, c, "livenessProbe")
		if err != nil {
			return err
		}
		cfg.Healthcheck = &model.HealthConfig{Test: test, Probe: probe, Interval: probeSeconds(lp.PeriodSeconds, 10),
			Timeout: probeSeconds(lp.TimeoutSeconds, 1), Retries: failureThreshold(lp),
			StartPeriod: probeSeconds(lp.InitialDelaySeconds, 0)}
		cfg.HealthOnFailure = "restart"
		if cfg.RestartPolicy == "no" {
			cfg.HealthOnFailure = "kill"
		}
	}
	if sp := c.StartupProbe; sp != nil {
		test, probe, err := probeTest(sp, c, "startupProbe")
		if err != nil {
			return err
		}
		retries := failureThreshold(sp)
		cfg.StartupHealthcheck = &model.StartupHealthConfig{Test: test, Probe: probe, Interval: probeSeconds(sp.PeriodSeconds, 10),
			Timeout: probeSeconds(sp.TimeoutSeconds, 1), Retries: retries}
		if cfg.Healthcheck == nil {
			cfg.Healthcheck = &model.HealthConfig{Test: test, Probe: probe, Timeout: cfg.StartupHealthcheck.Timeout, Retries: retries}
		}
	}
	return nil
}

// failureThreshold is a probe's failureThreshold, Kubernetes' 3 when unset.
func failureThreshold(p *k8s.Probe) int {
	if p.FailureThreshold <= 0 {
		return 3
	}
	return int(p.FailureThreshold)
}

// probeSeconds is a probe's seconds as a duration, def when unset.
func probeSeconds(n, def int32) time.Duration {
	if n <= 0 {
		n = def
	}
	return time.Duration(n) * time.Second
}

// probeTest is a probe's check: an exec probe's command as it is (no shell, as the kubelet
// runs it; podman 4.3 joins its words into a shell line), or pea's own HTTP GET or TCP
// connection with podman's curl or nc command as the test inspect shows. HTTPS and gRPC are
// refused: pea's probe speaks neither.
func probeTest(pr *k8s.Probe, c *k8s.Container, field string) ([]string, *model.NetProbe, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("container %s: %s: "+format+": %w", append([]any{c.Name, field}, append(args, errdefs.ErrInvalid)...)...)
	}
	port := func(p k8s.IntOrString) (int, error) {
		if !p.IsString {
			if p.Int < 1 || p.Int > 65535 {
				return 0, bad("port %d is not a port number", p.Int)
			}
			return int(p.Int), nil
		}
		for _, cp := range c.Ports {
			if cp.Name == p.Str {
				return int(cp.ContainerPort), nil
			}
		}
		return 0, bad("no port of the container is named %q", p.Str)
	}
	switch {
	case pr.Exec != nil:
		if len(pr.Exec.Command) == 0 {
			return nil, nil, bad("exec has no command")
		}
		return append([]string{"CMD"}, pr.Exec.Command...), nil, nil
	case pr.HTTPGet != nil:
		g := pr.HTTPGet
		if g.Scheme != "" && !strings.EqualFold(g.Scheme, "HTTP") {
			return nil, nil, bad("httpGet scheme %s: pea's probe speaks HTTP only", g.Scheme)
		}
		n, err := port(g.Port)
		if err != nil {
			return nil, nil, err
		}
		p := &model.NetProbe{Kind: "http", Host: g.Host, Port: n, Path: g.Path}
		for _, h := range g.HTTPHeaders {
			p.Headers = append(p.Headers, h.Name+": "+h.Value)
		}
		host := g.Host
		if host == "" {
			host = "localhost"
		}
		path := g.Path
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		url := "http://" + net.JoinHostPort(host, strconv.Itoa(n)) + path
		return []string{"CMD-SHELL", "curl -f " + url + " || exit 1"}, p, nil
	case pr.TCPSocket != nil:
		n, err := port(pr.TCPSocket.Port)
		if err != nil {
			return nil, nil, err
		}
		host := pr.TCPSocket.Host
		if host == "" {
			host = "localhost"
		}
		p := &model.NetProbe{Kind: "tcp", Host: pr.TCPSocket.Host, Port: n}
		return []string{"CMD-SHELL", "nc -z -v " + host + " " + strconv.Itoa(n) + " || exit 1"}, p, nil
	case pr.GRPC != nil:
		return nil, nil, bad("gRPC probes are not supported")
	}
	return nil, nil, bad("no exec, httpGet or tcpSocket handler")
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

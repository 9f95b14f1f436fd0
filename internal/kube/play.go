package kube

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// PlayOptions control Play.
type PlayOptions struct {
	PlanOptions
	Replace bool // remove pods of the same names first
	Start   bool // start the pods (run the init containers, then the others)
	// Prepare, when set, runs once every pod is planned and before anything is made (kube
	// play --build's builds): bad input has been refused by then.
	Prepare func(ctx context.Context) error
	// ServiceContainer, when set, is the name of a service container (see ServiceName) made and
	// started before the pods, which all name it (--service-container). It needs Start.
	ServiceContainer string
}

// PlayReport says what Play made.
type PlayReport struct {
	Pods     []PodReport
	Volumes  []string // volumes made for PersistentVolumeClaims
	Warnings []string
	// Service is the service container, as started (nil without one, or without pods).
	Service *model.Container
}

// PodReport is one pod Play made.
type PodReport struct {
	ID, Name   string
	Containers []string // IDs of the application containers (init containers are not kept)
}

// Play makes (and with o.Start runs) the pods of manifest m. Every step is undone when a later
// one fails, so a play that fails leaves nothing behind. A started container that notifies
// (see CtrPlan.Notify) has said READY=1 when it returns.
func Play(ctx context.Context, rt *engine.Runtime, m *Manifest, o PlayOptions) (rep *PlayReport, err error) {
	if len(m.Workloads) == 0 && len(m.Claims) == 0 {
		return nil, fmt.Errorf("nothing to play: no Pod, Deployment, DaemonSet, Job or PersistentVolumeClaim found: %w", errdefs.ErrInvalid)
	}
	if o.ServiceContainer != "" && !o.Start {
		return nil, fmt.Errorf("--service-container does not work with --start=stop: %w", errdefs.ErrInvalid)
	}
	if o.Root == "" {
		o.Root = rt.Options().Root
	}
	if o.VolumePath == nil {
		o.VolumePath = rt.VolumePath
	}
	if err := o.PlanOptions.resolveNetworks(rt); err != nil {
		return nil, err
	}
	rep = &PlayReport{Warnings: append([]string{}, m.Warnings...)}
	plans, err := planAll(rt, m, o, rep)
	if err != nil {
		return nil, err
	}
	if o.Prepare != nil {
		if err := o.Prepare(ctx); err != nil {
			return nil, err
		}
	}
	if o.Replace {
		// Every pod an earlier play of these workloads made goes, whatever its replica count was.
		if _, err := Down(ctx, rt, &Manifest{Workloads: m.Workloads}, false); err != nil {
			return nil, fmt.Errorf("--replace: %w", err)
		}
	}
	var u undoList
	defer func() {
		if err != nil {
			u.run()
		}
	}()
	for _, c := range m.Claims {
		made, err := playClaim(rt, c)
		if err != nil {
			return nil, err
		}
		if made {
			name := c.Name
			u.add(func() { rt.RemoveVolume(name, true) })
			rep.Volumes = append(rep.Volumes, name)
		}
	}
	if o.ServiceContainer != "" && len(plans) > 0 {
		svc, err := rt.CreateServiceContainer(ctx, o.ServiceContainer, o.CreateCommand, o.Replace)
		if err != nil {
			return nil, fmt.Errorf("service container: %w", err)
		}
		id := svc.Config.ID
		u.add(func() {
			rt.RemoveContainer(context.Background(), id, engine.RemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
		})
		if rep.Service, err = rt.StartCreated(ctx, svc, nil); err != nil {
			return nil, fmt.Errorf("starting service container %s: %w", o.ServiceContainer, err)
		}
		for _, p := range plans {
			p.Pod.ServiceContainer = id
		}
	}
	var proxies notifyProxies
	defer proxies.close()
	for _, p := range plans {
		pr, err := playPod(ctx, rt, p, o, &u, &proxies, rep)
		if err != nil {
			return nil, err
		}
		rep.Pods = append(rep.Pods, *pr)
	}
	if rep.Service != nil {
		// As it is now: a pod's start starts it again if an earlier pod's exit stopped it.
		if rep.Service, err = rt.LookupContainer(rep.Service.Config.ID); err != nil {
			return nil, fmt.Errorf("service container: %w", err)
		}
	}
	return rep, nil
}

// planAll plans every pod before anything is made, so that bad input fails without side effects.
func planAll(rt *engine.Runtime, m *Manifest, o PlayOptions, rep *PlayReport) ([]*PodPlan, error) {
	var plans []*PodPlan
	names := map[string]string{}
	existing, err := rt.ListPods()
	if err != nil {
		return nil, err
	}
	for _, w := range m.Workloads {
		podNames := w.PodNames()
		if len(podNames) == 0 {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("%s %s has replicas: 0: no pod made", strings.ToLower(w.Kind), w.Name))
		}
		if !o.Replace {
			re := replicaPattern(w.Kind, w.Name)
			for _, p := range existing {
				if re.MatchString(p.Pod.Config.Name) {
					return nil, fmt.Errorf("pod %s of %s %s already exists (use --replace, or kube down first): %w",
						p.Pod.Config.Name, strings.ToLower(w.Kind), w.Name, errdefs.ErrExists)
				}
			}
		}
		if len(podNames) > 1 {
			if hp := fixedHostPorts(w, append(servicePorts(w, m), o.Publish...)); hp != "" {
				return nil, fmt.Errorf("%s %s: %d replicas cannot all publish host port %s: a host port is bound by one pod only; drop hostPort (or --publish the port without a host port) or set replicas: 1: %w",
					strings.ToLower(w.Kind), w.Name, len(podNames), hp, errdefs.ErrInvalid)
			}
		}
		for _, name := range podNames {
			if prev, dup := names[name]; dup {
				return nil, fmt.Errorf("pod name %s is made twice (by %s and by %s %s): %w", name, prev, strings.ToLower(w.Kind), w.Name, errdefs.ErrInvalid)
			}
			names[name] = strings.ToLower(w.Kind) + " " + w.Name
			if !o.Replace {
				if _, err := rt.LookupPod(name); err == nil {
					return nil, fmt.Errorf("pod %s already exists (use --replace, or kube down first): %w", name, errdefs.ErrExists)
				}
			}
			p, err := PlanPod(w, name, m, o.PlanOptions)
			if err != nil {
				return nil, err
			}
			plans = append(plans, p)
		}
	}
	if len(o.IPs) > len(plans) || len(o.MACs) > len(plans) {
		return nil, fmt.Errorf("%d pods, but %d --ip and %d --mac-address values: one per pod at most: %w", len(plans), len(o.IPs), len(o.MACs), errdefs.ErrInvalid)
	}
	for i, p := range plans {
		// As podman's: --ip and --mac-address are for a pod on one network (NAME:ip= is for
		// more), and the network's own ip= or mac= wins over them.
		infra := &p.Pod.Infra
		if i < len(o.IPs) {
			if len(infra.Networks) > 1 {
				return nil, fmt.Errorf("cannot set static ip addresses for more than network, use netname:ip=<ip> syntax to specify ips for more than network: %w", errdefs.ErrInvalid)
			}
			if infra.StaticIP == "" {
				infra.StaticIP = o.IPs[i]
			}
		}
		if i < len(o.MACs) {
			if len(infra.Networks) > 1 {
				return nil, fmt.Errorf("cannot set static mac address for more than network, use netname:mac=<mac> syntax to specify mac for more than network: %w", errdefs.ErrInvalid)
			}
			if infra.StaticMAC == "" {
				infra.StaticMAC = o.MACs[i]
			}
		}
	}
	return plans, nil
}

// fixedHostPorts returns the first host port a workload pins ("" when none).
func fixedHostPorts(w *Workload, publish []model.PortMapping) string {
	if w.Spec.HostNetwork {
		for _, c := range w.Spec.Containers {
			for _, p := range c.Ports {
				return fmt.Sprintf("%d/%s (host network)", p.ContainerPort, strings.ToLower(string(p.Protocol)))
			}
		}
	}
	for _, c := range w.Spec.Containers {
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				proto := strings.ToLower(string(p.Protocol))
				if proto == "" {
					proto = "tcp"
				}
				return fmt.Sprintf("%d/%s", p.HostPort, proto)
			}
		}
	}
	for _, p := range publish {
		if p.HostPort != 0 {
			return fmt.Sprintf("%d/%s", p.HostPort, p.Protocol)
		}
	}
	return ""
}

// playClaim makes the volume of a PersistentVolumeClaim; an existing one is reused.
func playClaim(rt *engine.Runtime, c *k8s.PersistentVolumeClaim) (bool, error) {
	if _, err := rt.LookupVolume(c.Name); err == nil {
		return false, nil
	}
	labels := copyMap(c.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelClaim] = "true"
	if _, err := rt.CreateVolume(c.Name, labels, nil); err != nil {
		return false, fmt.Errorf("persistentVolumeClaim %s: %w", c.Name, err)
	}
	return true, nil
}

// playPod makes one pod of a plan: its files and volumes, the pod, its containers; and with
// o.Start runs the init containers to completion, in order, then starts the others and waits
// for those that notify to say READY=1 on their proxies' sockets.
func playPod(ctx context.Context, rt *engine.Runtime, p *PodPlan, o PlayOptions, u *undoList, proxies *notifyProxies, rep *PlayReport) (*PodReport, error) {
	if err := writeFiles(p); err != nil {
		return nil, err
	}
	dir := p.FilesDir
	u.add(func() { os.RemoveAll(dir) })
	for _, name := range p.EmptyDirs {
		if err := freshEmptyDir(rt, p.Name, name); err != nil {
			return nil, err
		}
		vol := name
		u.add(func() { rt.RemoveVolume(vol, true) })
	}
	if err := makeHostPaths(p); err != nil {
		return nil, err
	}
	pod, err := rt.CreatePod(ctx, p.Pod, engine.PodCreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", p.Name, err)
	}
	podID := pod.Config.ID
	u.add(func() {
		rt.RemovePod(context.Background(), podID, engine.PodRemoveOptions{Force: true, Timeout: uintPtr(0), Ignore: true})
	})
	pr := &PodReport{ID: podID, Name: p.Name}
	if err := fillPodIP(ctx, rt, p, pod, o.Start, rep); err != nil {
		return nil, err
	}
	// Init containers run once, as podman's kube play makes them: pod start runs them in order
	// before the others and removes each after it succeeded.
	for _, cp := range p.Init {
		cp.Config.InitContainerType = model.InitOnce
		if _, err := rt.CreateContainer(ctx, cp.Config, cp.Opts); err != nil {
			return nil, fmt.Errorf("pod %s: init container %s: %w", p.Name, cp.KubeName, err)
		}
	}
	var notifying []*notifyProxy
	for _, cp := range p.Containers {
		var proxy *notifyProxy
		if cp.Notify && o.Start {
			var err error
			if proxy, err = proxies.add(rt.Options().RunRoot, cp.Config.Name); err != nil {
				return nil, fmt.Errorf("pod %s: container %s: %w", p.Name, cp.KubeName, err)
			}
			cp.Config.SdNotifySocket = proxy.path
		}
		c, err := rt.CreateContainer(ctx, cp.Config, cp.Opts)
		if err != nil {
			return nil, fmt.Errorf("pod %s: container %s: %w", p.Name, cp.KubeName, err)
		}
		pr.Containers = append(pr.Containers, c.Config.ID)
		if proxy != nil {
			proxy.ctrID = c.Config.ID
			notifying = append(notifying, proxy)
		}
	}
	if !o.Start {
		return pr, nil
	}
	if _, err := rt.StartPod(ctx, podID); err != nil {
		return nil, fmt.Errorf("starting pod %s: %w", p.Name, err)
	}
	if err := waitReady(ctx, rt, notifying); err != nil {
		return nil, fmt.Errorf("pod %s: %w", p.Name, err)
	}
	return pr, nil
}

// fillPodIP gives the variables that ask for status.podIP the pod's address: the infra
// container's, which means starting it now, before the containers are made.
func fillPodIP(ctx context.Context, rt *engine.Runtime, p *PodPlan, pod *model.Pod, start bool, rep *PlayReport) error {
	need := false
	for _, cp := range append(append([]*CtrPlan{}, p.Init...), p.Containers...) {
		need = need || len(cp.PodIPEnv) > 0
	}
	if !need {
		return nil
	}
	ip := ""
	switch {
	case p.Pod.NetworkMode == "host":
		ip = hostIP()
	case !start:
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("pod %s: status.podIP is empty: the pod is not started (--start=false)", p.Name))
	default:
		if _, err := rt.StartPod(ctx, pod.Config.ID); err != nil {
			return fmt.Errorf("starting pod %s: %w", p.Name, err)
		}
		infra, err := rt.LookupContainer(pod.State.InfraContainerID)
		if err != nil {
			return err
		}
		var nets []string
		for n := range infra.State.Networks {
			nets = append(nets, n)
		}
		sort.Strings(nets)
		for _, n := range nets {
			if a := infra.State.Networks[n].Addrs(); len(a) > 0 && ip == "" {
				ip = a[0] // IPv4 first, as Kubernetes' status.podIP of a dual-stack pod
			}
		}
	}
	for _, cp := range append(append([]*CtrPlan{}, p.Init...), p.Containers...) {
		for _, k := range cp.PodIPEnv {
			for i, kv := range cp.Config.Env {
				if strings.HasPrefix(kv, k+"=") {
					cp.Config.Env[i] = k + "=" + ip
				}
			}
		}
	}
	return nil
}

package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// PlanOptions are the play flags that shape every pod.
type PlanOptions struct {
	Root string // the store root: configMap and secret files are written below it
	// Networks are the --network values (engine.ParseNetworkFlags): a mode or networks, then
	// more networks, each NAME[:OPTS].
	Networks []string
	// DefaultNetwork is the default network's name where Networks list it beside others
	// (`--network bridge --network NAME`); Play sets it.
	DefaultNetwork string
	Publish        []model.PortMapping // --publish: host ports added to every pod
	// CreateCommand is recorded on every pod and container (the play command line).
	CreateCommand []string
	// VolumePath is where a named volume's data lives (for subPath mounts of volumes).
	VolumePath func(name string) string
	// Annotations are added to every pod and container (--annotation).
	Annotations map[string]string
	// IPs and MACs are the pods' static addresses, one each in the order the pods are planned
	// (--ip, --mac-address).
	IPs, MACs []string
	NoHosts   bool              // --no-hosts: no /etc/hosts of pea's making
	UserNS    *model.Namespace  // --userns: the pods' user namespace (nil: the YAML's)
	Registry  image.PullOptions // how images are pulled (--creds, --authfile, --tls-verify)
	// Log is every container's log settings (--log-driver, --log-opt): its LogDriver,
	// LogSizeMax and LogTag are copied.
	Log model.ContainerConfig
}

// PodPlan is everything one pod of a workload becomes; nothing in it has been made yet.
type PodPlan struct {
	Name       string
	Pod        *model.PodConfig
	Init       []*CtrPlan // run to completion, in order, before Containers start
	Containers []*CtrPlan
	FilesDir   string   // configMap and secret volumes are written below it
	Files      []File   // …these files
	EmptyDirs  []string // named volumes to create fresh for emptyDir volumes
	HostDirs   []string // hostPath DirectoryOrCreate: made when missing
	HostFiles  []string // hostPath FileOrCreate: made when missing
}

// CtrPlan is one container of a pod plan.
type CtrPlan struct {
	KubeName string
	Config   *model.ContainerConfig
	Opts     engine.CreateOptions
	PodIPEnv []string // variables that get the pod's IP once the pod runs
	// Notify: the container says READY itself (sd-notify mode container or conmon, from the
	// io.containers.sdnotify annotations); a started play waits for it.
	Notify bool
}

// File is one file of a configMap or secret volume.
type File struct {
	Path string
	Data []byte
	Mode os.FileMode
}

// PlanPod turns one pod of workload w, named name, into a plan. src holds the ConfigMaps and
// Secrets references resolve against.
func PlanPod(w *Workload, name string, src *Manifest, o PlanOptions) (*PodPlan, error) {
	spec := &w.Spec
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s %s: %s: %w", strings.ToLower(w.Kind), w.Name, fmt.Sprintf(format, args...), errdefs.ErrInvalid)
	}
	if len(spec.Containers) == 0 {
		return nil, fail("spec.containers is empty: a pod needs at least one container")
	}
	seen := map[string]bool{}
	for _, c := range append(append([]k8s.Container{}, spec.InitContainers...), spec.Containers...) {
		switch {
		case c.Name == "":
			return nil, fail("every container needs a name")
		case seen[c.Name]:
			return nil, fail("container name %q is used twice", c.Name)
		case strings.TrimSpace(c.Image) == "":
			return nil, fail("container %s has no image", c.Name)
		}
		seen[c.Name] = true
	}
	p := &PodPlan{Name: name, FilesDir: filesDir(o.Root, name)}
	pc, err := podConfig(w, name, src, o)
	if err != nil {
		return nil, fail("%v", err)
	}
	p.Pod = pc
	pc.CreateCommand = o.CreateCommand
	pc.Annotations = addAll(pc.Annotations, o.Annotations)
	pc.Infra.NoHosts = pc.Infra.NoHosts || o.NoHosts
	if o.UserNS != nil {
		pc.UserNS, pc.ShareUser = *o.UserNS, o.UserNS.Mode != model.NSModeHost
	}
	vols, err := p.planVolumes(w, src)
	if err != nil {
		return nil, fail("%v", err)
	}
	env := envContext{pod: name, namespace: w.Namespace, meta: &w.Meta, src: src}
	volPath := o.VolumePath
	if volPath == nil {
		volPath = func(n string) string { return filepath.Join(o.Root, "volumes", n, "_data") }
	}
	for i, c := range spec.InitContainers {
		cp, err := p.planContainer(&spec.InitContainers[i], w, vols, env, volPath)
		if err != nil {
			return nil, fail("init container %s: %v", c.Name, err)
		}
		o.apply(cp)
		cp.Config.SdNotify = engine.SdNotifyIgnore
		p.Init = append(p.Init, cp)
	}
	for i, c := range spec.Containers {
		cp, err := p.planContainer(&spec.Containers[i], w, vols, env, volPath)
		if err != nil {
			return nil, fail("container %s: %v", c.Name, err)
		}
		o.apply(cp)
		if cp.Config.SdNotify, err = sdNotifyMode(w, c.Name, o.Annotations); err != nil {
			return nil, fail("%v", err)
		}
		cp.Notify = cp.Config.SdNotify != engine.SdNotifyIgnore
		p.Containers = append(p.Containers, cp)
	}
	return p, nil
}

// apply gives a container what the options ask of every container.
func (o *PlanOptions) apply(cp *CtrPlan) {
	cp.Config.CreateCommand = o.CreateCommand
	cp.Config.Annotations = addAll(cp.Config.Annotations, o.Annotations)
	if o.NoHosts {
		cp.Config.Network.NoHosts = true
	}
	cp.Opts.Registry = o.Registry
	if o.Log.LogDriver != "" {
		cp.Config.LogDriver = o.Log.LogDriver
	}
	if o.Log.LogSizeMax != 0 {
		cp.Config.LogSizeMax = o.Log.LogSizeMax
	}
	if o.Log.LogTag != "" {
		cp.Config.LogTag = o.Log.LogTag
	}
}

// addAll returns m with extra's entries added (a new map when m is nil and extra is not empty).
func addAll(m, extra map[string]string) map[string]string {
	if len(extra) == 0 {
		return m
	}
	if m == nil {
		m = make(map[string]string, len(extra))
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// playNetworks reads play's --network values; a pod cannot take another's or a path's
// network namespace, as podman's play refuses.
func playNetworks(values []string) (engine.NetworkChoice, error) {
	choice, err := engine.ParseNetworkFlags(values)
	if err != nil {
		return choice, err
	}
	if m := choice.Mode.Mode; m == model.NSModePath || m == model.NSModeContainer {
		return choice, fmt.Errorf("pods presently do not support network mode %s: %w", m, errdefs.ErrInvalid)
	}
	return choice, nil
}

// resolveNetworks checks the --network values before anything is planned and, when they list
// the default network beside others, finds its name (making pea's default network if it is not
// there yet).
func (o *PlanOptions) resolveNetworks(rt *engine.Runtime) error {
	for i, v := range o.Networks {
		o.Networks[i] = strings.TrimSpace(v)
	}
	choice, err := playNetworks(o.Networks)
	if err != nil || o.DefaultNetwork != "" || len(choice.Networks) < 2 || !slices.Contains(choice.Networks, engine.DefaultNetwork) {
		return err
	}
	o.DefaultNetwork, err = rt.DefaultNetworkName()
	return err
}

// podConfig is the pod-level part: namespaces, network, ports, hostname, labels, limits.
func podConfig(w *Workload, name string, src *Manifest, o PlanOptions) (*model.PodConfig, error) {
	spec := &w.Spec
	pc := &model.PodConfig{
		Name: name, Hostname: spec.Hostname, Labels: copyMap(w.Meta.Labels),
		HasInfra: true, UsePodCgroup: true, ShareIpc: true, ShareNet: true, ShareUts: true,
		SharePid:      spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace,
		ExitPolicy:    model.ExitPolicyStop,
		RestartPolicy: restartPolicy(spec.RestartPolicy),
	}
	if spec.HostPID {
		pc.SharePid, pc.PidMode = false, model.NSModeHost
	}
	if spec.HostUsers != nil && !*spec.HostUsers {
		// A user namespace for the pod, its host IDs picked as Kubernetes does (--userns auto).
		pc.UserNS, pc.ShareUser = model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSAuto}, true
	}
	choice, err := playNetworks(o.Networks)
	if err != nil {
		return nil, err
	}
	switch mode := choice.Mode; {
	case spec.HostNetwork || mode.Mode == model.NSModeHost:
		pc.NetworkMode = "host"
	case mode.Mode == model.NSModeNone:
		pc.NetworkMode = "none"
	case mode.UserNet():
		pc.NetworkMode = mode.Mode
		if mode.Value != "" {
			pc.NetworkMode += ":" + mode.Value
		}
	default:
		if err := choice.Apply(&pc.Infra, o.DefaultNetwork); err != nil {
			return nil, err
		}
	}
	if pc.NetworkMode == "" {
		for _, c := range spec.Containers {
			for _, port := range c.Ports {
				if port.HostPort == 0 {
					continue // not published, as podman
				}
				if port.ContainerPort <= 0 || port.ContainerPort > 65535 || port.HostPort < 0 || port.HostPort > 65535 {
					return nil, fmt.Errorf("container %s: port %d:%d is out of range (1-65535)", c.Name, port.HostPort, port.ContainerPort)
				}
				proto := strings.ToLower(string(port.Protocol))
				if proto == "" {
					proto = "tcp"
				}
				pc.Infra.Ports = append(pc.Infra.Ports, model.PortMapping{HostIP: port.HostIP,
					HostPort: uint16(port.HostPort), ContainerPort: uint16(port.ContainerPort), Protocol: proto, Range: 1})
			}
		}
		pc.Infra.Ports = addPorts(pc.Infra.Ports, servicePorts(w, src)...)
		pc.Infra.Ports = overridePorts(pc.Infra.Ports, o.Publish)
	} else if len(o.Publish) > 0 && pc.NetworkMode == "host" {
		return nil, fmt.Errorf("--publish cannot be used with the host network")
	}
	if d := spec.DNSConfig; d != nil {
		pc.Infra.DNSServers, pc.Infra.DNSSearch = d.Nameservers, d.Searches
		for _, opt := range d.Options {
			if opt.Value != nil {
				pc.Infra.DNSOptions = append(pc.Infra.DNSOptions, opt.Name+":"+*opt.Value)
			} else {
				pc.Infra.DNSOptions = append(pc.Infra.DNSOptions, opt.Name)
			}
		}
	}
	for _, h := range spec.HostAliases {
		for _, n := range h.Hostnames {
			pc.Infra.AddHosts = append(pc.Infra.AddHosts, n+":"+h.IP)
		}
	}
	if sc := spec.SecurityContext; sc != nil && len(sc.Sysctls) > 0 {
		pc.Sysctls = map[string]string{}
		for _, s := range sc.Sysctls {
			pc.Sysctls[s.Name] = s.Value
		}
	}
	if spec.Resources != nil {
		pc.Resources.Memory, pc.Resources.CPUs = limits(spec.Resources.Limits)
	}
	return pc, nil
}

// servicePorts are the node ports of the NodePort services that select the workload's pods,
// published on the host as podman does.
func servicePorts(w *Workload, src *Manifest) []model.PortMapping {
	var out []model.PortMapping
	for _, svc := range src.Services {
		if svc.Spec.Type != k8s.ServiceTypeNodePort || len(svc.Spec.Selector) == 0 {
			continue
		}
		match := true
		for k, v := range svc.Spec.Selector {
			match = match && w.Meta.Labels[k] == v
		}
		if !match {
			continue
		}
		for _, sp := range svc.Spec.Ports {
			if sp.NodePort == 0 {
				continue
			}
			target := sp.Port
			if sp.TargetPort.IntValue() > 0 {
				target = int32(sp.TargetPort.IntValue())
			} else if name := sp.TargetPort.String(); name != "" && name != "0" {
				for _, c := range w.Spec.Containers {
					for _, cp := range c.Ports {
						if cp.Name == name {
							target = cp.ContainerPort
						}
					}
				}
			}
			proto := strings.ToLower(string(sp.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			out = append(out, model.PortMapping{HostPort: uint16(sp.NodePort), ContainerPort: uint16(target), Protocol: proto, Range: 1})
		}
	}
	return out
}

// overridePorts merges --publish into the YAML's ports as podman does: a mapping of the same
// container port and protocol is replaced, others are added.
func overridePorts(ports, publish []model.PortMapping) []model.PortMapping {
	for _, p := range publish {
		replaced := false
		for i, q := range ports {
			if p.Range <= 1 && q.ContainerPort == p.ContainerPort && q.Protocol == p.Protocol {
				ports[i], replaced = p, true
			}
		}
		if !replaced {
			ports = append(ports, p)
		}
	}
	return ports
}

// addPorts appends the mappings whose host port is not published yet.
func addPorts(ports []model.PortMapping, more ...model.PortMapping) []model.PortMapping {
	for _, p := range more {
		dup := false
		for _, q := range ports {
			dup = dup || q.HostPort == p.HostPort && q.Protocol == p.Protocol
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return ports
}

// restartPolicy maps a Kubernetes restart policy to podman's names; Kubernetes defaults to Always.
func restartPolicy(p k8s.RestartPolicy) string {
	switch p {
	case k8s.RestartPolicyNever:
		return "no"
	case k8s.RestartPolicyOnFailure:
		return "on-failure"
	}
	return "always"
}

// limits reads the memory (bytes) and CPU (cores) of a resource list.
func limits(l k8s.ResourceList) (int64, float64) {
	var mem int64
	var cpus float64
	if q, ok := l[k8s.ResourceMemory]; ok {
		mem = q.Value()
	}
	if q, ok := l[k8s.ResourceCPU]; ok {
		cpus = float64(q.MilliValue()) / 1000
	}
	return mem, cpus
}

func copyMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

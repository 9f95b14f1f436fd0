package kube

import (
	"fmt"
	"sort"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

// GenerateOptions control Generate.
type GenerateOptions struct {
	Type     string // pod (default), deployment, daemonset, job
	Service  bool   // add a NodePort Service per pod
	Replicas int32  // of a deployment (default 1)
}

// PodSource is one pod to describe, or a set of containers outside pods (Pod nil) that become
// one pod named after the first.
type PodSource struct {
	Pod        *model.PodConfig
	Containers []*model.Container // application containers; an infra container is skipped
	Images     map[string]*ImageDefaults
	Volumes    map[string]*model.Volume // the named volumes the containers mount
}

// ImageDefaults are the parts of an image's config a container inherits; what a container has
// from its image is not repeated in the YAML.
type ImageDefaults struct {
	Entrypoint, Cmd, Env []string
	WorkingDir, User     string
}

// Generate describes pods as Kubernetes objects: per source a Pod (or a Deployment, DaemonSet or
// Job) and with Service a Service; then a PersistentVolumeClaim per volume in claims.
func Generate(srcs []*PodSource, claims []*model.Volume, o GenerateOptions) (objs []any, warnings []string, err error) {
	switch o.Type {
	case "", "pod", "deployment", "daemonset", "job":
	default:
		return nil, nil, fmt.Errorf("invalid --type %q (pod, deployment, daemonset, job): %w", o.Type, errdefs.ErrInvalid)
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	for _, s := range srcs {
		obj, name, labels, ports, err := generateWorkload(s, o)
		if err != nil {
			return nil, nil, err
		}
		objs = append(objs, obj)
		if o.Service {
			if len(ports) == 0 {
				warnings = append(warnings, fmt.Sprintf("%s publishes no ports: no Service generated for it", name))
				continue
			}
			objs = append(objs, service(name, labels, ports))
		}
	}
	for _, v := range claims {
		objs = append(objs, claim(v))
	}
	return objs, warnings, nil
}

// generateWorkload builds the object of one source, and returns its name, labels and ports.
func generateWorkload(s *PodSource, o GenerateOptions) (any, string, map[string]string, []k8s.ContainerPort, error) {
	var apps []*model.Container
	for _, c := range s.Containers {
		if !c.Config.IsInfra {
			apps = append(apps, c)
		}
	}
	if len(apps) == 0 {
		name := "?"
		if s.Pod != nil {
			name = s.Pod.Name
		}
		return nil, "", nil, nil, fmt.Errorf("pod %s has no containers besides its infra container: nothing to generate: %w", name, errdefs.ErrInvalid)
	}
	podName := apps[0].Config.Name + "-pod"
	if s.Pod != nil {
		podName = s.Pod.Name
	}
	podName = dnsSubdomain(podName)
	meta, spec, err := podSpec(s, apps, podName)
	if err != nil {
		return nil, "", nil, nil, err
	}
	name := meta.Name
	if o.Type != "" && o.Type != "pod" {
		name = strings.TrimSuffix(podName, "-pod") // the pod play makes of it is <name>-pod again
	}
	if meta.Labels == nil {
		meta.Labels = map[string]string{}
	}
	if _, ok := meta.Labels["app"]; !ok {
		meta.Labels["app"] = strings.Trim(dnsLabel(name), "-")
	}
	var ports []k8s.ContainerPort
	for _, c := range spec.Containers {
		ports = append(ports, c.Ports...)
	}
	tmpl := k8s.PodTemplateSpec{ObjectMeta: k8s.ObjectMeta{Labels: meta.Labels, Annotations: meta.Annotations}, Spec: spec}
	selector := &k8s.LabelSelector{MatchLabels: map[string]string{"app": meta.Labels["app"]}}
	top := k8s.ObjectMeta{Name: name, Labels: map[string]string{"app": meta.Labels["app"]}}
	switch o.Type {
	case "deployment":
		r := o.Replicas
		return &k8s.Deployment{TypeMeta: k8s.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"}, ObjectMeta: top,
			Spec: k8s.DeploymentSpec{Replicas: &r, Selector: selector, Template: tmpl}}, name, meta.Labels, ports, nil
	case "daemonset":
		return &k8s.DaemonSet{TypeMeta: k8s.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}, ObjectMeta: top,
			Spec: k8s.DaemonSetSpec{Selector: selector, Template: tmpl}}, name, meta.Labels, ports, nil
	case "job":
		if tmpl.Spec.RestartPolicy == k8s.RestartPolicyAlways {
			tmpl.Spec.RestartPolicy = k8s.RestartPolicyNever
		}
		return &k8s.Job{TypeMeta: k8s.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}, ObjectMeta: top,
			Spec: k8s.JobSpec{Template: tmpl}}, name, meta.Labels, ports, nil
	}
	return &k8s.Pod{TypeMeta: k8s.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: meta, Spec: spec}, name, meta.Labels, ports, nil
}

// podSpec describes a pod (or loose containers) and its application containers.
func podSpec(s *PodSource, apps []*model.Container, podName string) (k8s.ObjectMeta, k8s.PodSpec, error) {
	meta := k8s.ObjectMeta{Name: podName, Annotations: commonAnnotations(apps)}
	spec := k8s.PodSpec{}
	first := apps[0].Config
	restart := first.RestartPolicy
	var ports []model.PortMapping
	var res model.Resources
	if pc := s.Pod; pc != nil {
		meta.Labels = copyMap(pc.Labels)
		if pc.Hostname != "" && pc.Hostname != pc.Name {
			spec.Hostname = pc.Hostname
		}
		if pc.RestartPolicy != "" {
			restart = pc.RestartPolicy
		}
		spec.HostNetwork = pc.NetworkMode == "host"
		spec.HostPID = pc.PidMode == model.NSModeHost
		if pc.SharePid {
			t := true
			spec.ShareProcessNamespace = &t
		}
		if pc.ShareUser && pc.UserNS.Mode == model.NSModePrivate {
			f := false
			spec.HostUsers = &f
		}
		ports = pc.Infra.Ports
		spec.DNSConfig, spec.HostAliases = dnsConfig(pc.Infra)
		if len(pc.Sysctls) > 0 {
			spec.SecurityContext = &k8s.PodSecurityContext{Sysctls: sysctls(pc.Sysctls)}
		}
		res = pc.Resources
	} else {
		if first.Hostname != "" && first.Hostname != podName {
			spec.Hostname = first.Hostname
		}
		spec.HostNetwork = first.NS(model.NSNet).Mode == model.NSModeHost
		if first.UserNS().Mode == model.NSModePrivate {
			f := false
			spec.HostUsers = &f
		}
		for _, c := range apps {
			ports = append(ports, c.Config.Network.Ports...)
		}
		spec.DNSConfig, spec.HostAliases = dnsConfig(first.Network)
	}
	spec.RestartPolicy = kubeRestartPolicy(restart)
	if l := resourceList(res.Memory, res.CPUs); l != nil {
		spec.Resources = &k8s.ResourceRequirements{Limits: l}
	}
	if first.StopTimeout != defaultStopTimeout {
		g := int64(first.StopTimeout)
		spec.TerminationGracePeriodSeconds = &g
	}
	vols := newVolumeSet(podName, s.Volumes)
	prefixes := []string{podName}
	if s.Pod != nil {
		prefixes = []string{s.Pod.Name, podName}
		vols.pod = s.Pod.Name // emptyDir volumes are labelled with the pea pod's own name
	}
	for i, c := range apps {
		kc, err := container(c.Config, s.Images[c.Config.Image], prefixes, vols)
		if err != nil {
			return meta, spec, err
		}
		if i == 0 && !spec.HostNetwork {
			kc.Ports = containerPorts(ports)
		}
		spec.Containers = append(spec.Containers, kc)
	}
	spec.Volumes = vols.list
	return meta, spec, nil
}

// commonAnnotations are the annotations every application container carries (play puts a pod's
// annotations on each of its containers).
func commonAnnotations(apps []*model.Container) map[string]string {
	out := copyMap(apps[0].Config.Annotations)
	for _, c := range apps[1:] {
		for k, v := range out {
			if c.Config.Annotations[k] != v {
				delete(out, k)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func kubeRestartPolicy(p string) k8s.RestartPolicy {
	switch {
	case p == "always" || p == "unless-stopped":
		return k8s.RestartPolicyAlways
	case strings.HasPrefix(p, "on-failure"):
		return k8s.RestartPolicyOnFailure
	}
	return k8s.RestartPolicyNever
}

func resourceList(mem int64, cpus float64) k8s.ResourceList {
	l := k8s.ResourceList{}
	if mem > 0 {
		l[k8s.ResourceMemory] = *k8s.NewQuantity(mem, k8s.BinarySI)
	}
	if cpus > 0 {
		l[k8s.ResourceCPU] = *k8s.NewMilliQuantity(int64(cpus*1000+0.5), k8s.DecimalSI)
	}
	if len(l) == 0 {
		return nil
	}
	return l
}

// containerPorts lists published ports, one per port of a range.
func containerPorts(ports []model.PortMapping) []k8s.ContainerPort {
	var out []k8s.ContainerPort
	for _, p := range ports {
		for i := uint16(0); i < max(p.Range, 1); i++ {
			out = append(out, k8s.ContainerPort{HostIP: p.HostIP, HostPort: int32(p.HostPort + i),
				ContainerPort: int32(p.ContainerPort + i), Protocol: k8s.Protocol(strings.ToUpper(p.Protocol))})
		}
	}
	return out
}

func dnsConfig(n model.NetworkConfig) (*k8s.PodDNSConfig, []k8s.HostAlias) {
	var d *k8s.PodDNSConfig
	if len(n.DNSServers)+len(n.DNSSearch)+len(n.DNSOptions) > 0 {
		d = &k8s.PodDNSConfig{Nameservers: n.DNSServers, Searches: n.DNSSearch}
		for _, o := range n.DNSOptions {
			k, v, ok := strings.Cut(o, ":")
			opt := k8s.PodDNSConfigOption{Name: k}
			if ok {
				opt.Value = &v
			}
			d.Options = append(d.Options, opt)
		}
	}
	var aliases []k8s.HostAlias
	byIP := map[string]int{}
	for _, h := range n.AddHosts {
		name, ip, _ := strings.Cut(h, ":")
		if i, ok := byIP[ip]; ok {
			aliases[i].Hostnames = append(aliases[i].Hostnames, name)
			continue
		}
		byIP[ip] = len(aliases)
		aliases = append(aliases, k8s.HostAlias{IP: ip, Hostnames: []string{name}})
	}
	return d, aliases
}

func sysctls(m map[string]string) []k8s.Sysctl {
	var out []k8s.Sysctl
	for k, v := range m {
		out = append(out, k8s.Sysctl{Name: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// service is a NodePort Service reaching the pod's published ports; a host port in the node
// port range becomes the node port, otherwise Kubernetes picks one.
func service(name string, labels map[string]string, ports []k8s.ContainerPort) *k8s.Service {
	svc := &k8s.Service{TypeMeta: k8s.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: k8s.ObjectMeta{Name: name, Labels: map[string]string{"app": labels["app"]}},
		Spec:       k8s.ServiceSpec{Type: k8s.ServiceTypeNodePort, Selector: map[string]string{"app": labels["app"]}}}
	for _, p := range ports {
		sp := k8s.ServicePort{Name: fmt.Sprintf("%d-%s", p.ContainerPort, strings.ToLower(string(p.Protocol))),
			Protocol: p.Protocol, Port: p.ContainerPort, TargetPort: k8s.FromInt32(p.ContainerPort)}
		if p.HostPort >= 30000 && p.HostPort <= 32767 {
			sp.NodePort = p.HostPort
		}
		svc.Spec.Ports = append(svc.Spec.Ports, sp)
	}
	return svc
}

// claim is the PersistentVolumeClaim of a named volume.
func claim(v *model.Volume) *k8s.PersistentVolumeClaim {
	labels := map[string]string{}
	for k, val := range v.Labels {
		if !strings.HasPrefix(k, "io.pea.kube.") {
			labels[k] = val
		}
	}
	if len(labels) == 0 {
		labels = nil
	}
	return &k8s.PersistentVolumeClaim{TypeMeta: k8s.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: k8s.ObjectMeta{Name: v.Name, Labels: labels},
		Spec: k8s.PersistentVolumeClaimSpec{
			AccessModes: []k8s.PersistentVolumeAccessMode{k8s.ReadWriteOnce},
			Resources: k8s.VolumeResourceRequirements{Requests: k8s.ResourceList{
				k8s.ResourceStorage: k8s.MustParse("1Gi")}},
		}}
}

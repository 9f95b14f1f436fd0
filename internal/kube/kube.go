// Package kube translates between Kubernetes YAML and pea's pods: Play turns Pods, Deployments,
// DaemonSets and Jobs (with their ConfigMaps, Secrets and PersistentVolumeClaims) into pods and
// containers, Down removes what a file made, and Generate describes existing pods and containers
// as Kubernetes objects. The API types and the YAML codec are pea's own (package k8s: the
// Kubernetes field names, only the fields pea uses; linking k8s.io/api would cost every pea
// command start-up time); the translation itself (plan.go, generate.go) is pure, the engine
// calls live in play.go, down.go and collect.go.
//
// Names: a workload's pod is named after the workload — a Pod keeps its name, a Deployment,
// DaemonSet or Job named W makes W-pod (W-pod-0 … W-pod-N-1 for replicas N > 1) — and a container
// C of pod P is named P-C, as podman does. Generate strips both again, so that generate → play →
// generate is stable.
//
// On disk, play writes the files of configMap and secret volumes below the store root:
//
//	<root>/kube/<pod name>/<volume name>/<key or item path>   (read-only bind mounts)
//
// and an emptyDir becomes a named volume <pod name>-<volume name> labelled with
// LabelEmptyDir=<volume name> and LabelPod=<pod name>; kube down removes both. A memory emptyDir
// is a tmpfs per container (not shared between them). Secret files are 0400 unless the YAML sets
// defaultMode or an item's mode (Kubernetes defaults to 0644; pea keeps secrets to root).
//
// Play: every pod gets exit policy "stop". Init containers run one after another, each to
// completion, before the others start, and are removed once they succeed (podman's "once" init
// containers, made with the engine's init-container type, so a later pod start runs them too); a
// failing one fails the play, which then removes everything it made. NodePort
// Services publish their node ports on the pods they select. status.podIP starts the pod's infra
// container before the containers are made, so that their variables can hold its address.
// With a service container (--service-container) and io.containers.sdnotify annotations, see
// service.go.
//
// Generate: command is the entrypoint and args the command, each only when it differs from the
// image's (with command given, args are always spelt out, as Kubernetes then drops the image's
// command); env lists only the variables that differ from the image's; workingDir and the user
// likewise. Ports are put on the first container. Bind mounts become hostPath volumes, named
// volumes persistentVolumeClaims (or emptyDir, for those play made), tmpfs mounts memory
// emptyDirs. Nothing varying (IDs, timestamps) is emitted, so output is stable.
package kube

import (
	"fmt"
	"pea/internal/model"
	"regexp"
	"strings"
)

// Labels pea puts on the volumes kube play makes.
const (
	LabelEmptyDir = model.LabelEmptyDir // the emptyDir's name in the pod spec
	LabelPod      = model.LabelOwnerPod // the pod whose emptyDir it is
	LabelClaim    = "io.pea.kube.pvc"   // a volume made for a PersistentVolumeClaim
)

// Header opens every generated file, as podman's does.
const Header = "# Save the output of this file and use kubectl create -f to import it into Kubernetes.\n#\n# Created with pea %s\n"

// DefaultNamespace is what fieldRef metadata.namespace gives when the YAML names none.
const DefaultNamespace = "default"

// workloadPodNames are the names of the pods a workload named name with n replicas makes.
func workloadPodNames(kind, name string, n int) []string {
	if kind == "Pod" {
		return []string{name}
	}
	if n == 1 {
		return []string{name + "-pod"}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-pod-%d", name, i)
	}
	return out
}

// replicaPattern matches the names of every pod a workload may have made, whatever its replica
// count was at play time.
func replicaPattern(kind, name string) *regexp.Regexp {
	if kind == "Pod" {
		return regexp.MustCompile("^" + regexp.QuoteMeta(name) + "$")
	}
	return regexp.MustCompile("^" + regexp.QuoteMeta(name) + `-pod(-[0-9]+)?$`)
}

// ContainerName is the name of container ctr of pod pod.
func ContainerName(pod, ctr string) string { return pod + "-" + ctr }

// filesDir is where the configMap and secret volumes of a pod are written.
func filesDir(root, pod string) string { return model.PodFilesDir(root, pod) }

// emptyDirVolume names the volume behind emptyDir vol of pod.
func emptyDirVolume(pod, vol string) string { return pod + "-" + vol }

var notDNS = lazyRegexp(`[^a-z0-9-]+`)
var notSubdomain = lazyRegexp(`[^a-z0-9.-]+`)

// dnsSubdomain turns s into a valid object name (DNS-1123 subdomain, at most 253 characters).
func dnsSubdomain(s string) string {
	s = strings.Trim(notSubdomain().ReplaceAllString(strings.ToLower(s), "-"), "-.")
	if len(s) > 253 {
		s = strings.TrimRight(s[:253], "-.")
	}
	if s == "" {
		s = "x"
	}
	return s
}

// dnsLabel turns s into a valid DNS-1123 label (lower case, digits and dashes, at most 63).
func dnsLabel(s string) string {
	s = notDNS().ReplaceAllString(strings.ToLower(s), "-")
	s = strings.Trim(s, "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	if s == "" {
		s = "x"
	}
	return s
}

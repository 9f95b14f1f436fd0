package kube

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/kube/k8s"
)

// Manifest is what one or more YAML files hold, sorted by what play does with it.
type Manifest struct {
	Workloads  []*Workload
	ConfigMaps map[string]*k8s.ConfigMap
	Secrets    map[string]*k8s.Secret
	Claims     []*k8s.PersistentVolumeClaim
	Services   []*k8s.Service // NodePort services publish their node ports on the pods they select
	// Warnings are said to the user and do not stop play: unknown kinds and unknown fields.
	Warnings []string
}

// Workload is a Pod, or the pod template of a Deployment, DaemonSet or Job.
type Workload struct {
	Kind      string
	Name      string
	Namespace string
	Replicas  int
	Meta      k8s.ObjectMeta // the pod's (template's) labels and annotations
	Spec      k8s.PodSpec
}

// PodNames are the names of the pods the workload makes.
func (w *Workload) PodNames() []string { return workloadPodNames(w.Kind, w.Name, w.Replicas) }

// NewManifest returns an empty manifest.
func NewManifest() *Manifest {
	return &Manifest{ConfigMaps: map[string]*k8s.ConfigMap{}, Secrets: map[string]*k8s.Secret{}}
}

// Parse reads every document of a YAML file (named file in messages) into a new manifest.
func Parse(file string, data []byte) (*Manifest, error) {
	m := NewManifest()
	return m, m.Add(file, data)
}

// Add reads the documents of one file into m.
func (m *Manifest) Add(file string, data []byte) error {
	for _, d := range splitDocuments(data) {
		if err := m.addDocument(file, d); err != nil {
			return err
		}
	}
	return nil
}

// document is one YAML document of a stream and the line it starts on.
type document struct {
	data  []byte
	first int // 1-based line of the document's first line
	index int // 1-based position in the file
}

// splitDocuments cuts a YAML stream at its "---" lines, dropping documents that hold only
// comments and blank lines.
func splitDocuments(data []byte) []document {
	var out []document
	var cur bytes.Buffer
	first, line, index := 1, 0, 0
	flush := func() {
		index++
		if hasContent(cur.Bytes()) {
			out = append(out, document{data: append([]byte{}, cur.Bytes()...), first: first, index: index})
		}
		cur.Reset()
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "---" || strings.HasPrefix(t, "--- ") || strings.HasPrefix(t, "---\t") {
			flush()
			first = line
			if rest := strings.TrimSpace(t[3:]); rest != "" && !strings.HasPrefix(rest, "#") {
				cur.WriteString(rest + "\n") // "--- {kind: Pod}" style: content on the marker line
			} else {
				cur.WriteString("\n") // keep line numbers: the marker line counts
			}
			continue
		}
		cur.WriteString(t + "\n")
	}
	flush()
	return out
}

func hasContent(b []byte) bool {
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") && l != "..." {
			return true
		}
	}
	return false
}

var yamlLine = lazyRegexp(`line (\d+)`)

// yamlError rewrites a YAML error of document d to name the line in the whole file.
func yamlError(file string, d document, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if loc := yamlLine().FindStringSubmatchIndex(msg); loc != nil {
		n, _ := strconv.Atoi(msg[loc[2]:loc[3]])
		msg = msg[:loc[2]] + strconv.Itoa(n+d.first-1) + msg[loc[3]:]
		return fmt.Errorf("%s: %s: %w", file, msg, errdefs.ErrInvalid)
	}
	return fmt.Errorf("%s: document %d (line %d): %s: %w", file, d.index, d.first, msg, errdefs.ErrInvalid)
}

func (m *Manifest) addDocument(file string, d document) error {
	doc, err := k8s.ParseYAML(d.data)
	if err != nil {
		return yamlError(file, d, err)
	}
	var tm k8s.TypeMeta
	if _, err := doc.Decode(&tm); err != nil {
		return yamlError(file, d, err)
	}
	where := fmt.Sprintf("%s: document %d (line %d)", file, d.index, d.first)
	if tm.Kind == "" {
		return fmt.Errorf("%s: no kind: every document needs apiVersion and kind (for example apiVersion: v1, kind: Pod): %w", where, errdefs.ErrInvalid)
	}
	decode := func(obj any) error { return m.decode(file, where, d, doc, tm.Kind, obj) }
	switch tm.Kind {
	case "Pod":
		var p k8s.Pod
		if err := decode(&p); err != nil {
			return err
		}
		return m.addWorkload(where, "Pod", p.ObjectMeta, 1, p.ObjectMeta, p.Spec)
	case "Deployment":
		var o k8s.Deployment
		if err := decode(&o); err != nil {
			return err
		}
		n := 1
		if o.Spec.Replicas != nil {
			n = int(*o.Spec.Replicas)
		}
		if n < 0 {
			return fmt.Errorf("%s: deployment %s: replicas must not be negative: %w", where, o.Name, errdefs.ErrInvalid)
		}
		return m.addWorkload(where, "Deployment", o.ObjectMeta, n, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec)
	case "DaemonSet":
		var o k8s.DaemonSet
		if err := decode(&o); err != nil {
			return err
		}
		return m.addWorkload(where, "DaemonSet", o.ObjectMeta, 1, o.Spec.Template.ObjectMeta, o.Spec.Template.Spec)
	case "Job":
		var o k8s.Job
		if err := decode(&o); err != nil {
			return err
		}
		spec := o.Spec.Template.Spec
		switch spec.RestartPolicy {
		case "":
			spec.RestartPolicy = k8s.RestartPolicyNever
		case k8s.RestartPolicyAlways:
			return fmt.Errorf("%s: job %s: restartPolicy must be Never or OnFailure: %w", where, o.Name, errdefs.ErrInvalid)
		}
		return m.addWorkload(where, "Job", o.ObjectMeta, 1, o.Spec.Template.ObjectMeta, spec)
	case "ConfigMap":
		var o k8s.ConfigMap
		if err := decode(&o); err != nil {
			return err
		}
		if o.Name == "" {
			return fmt.Errorf("%s: a ConfigMap needs metadata.name: %w", where, errdefs.ErrInvalid)
		}
		m.ConfigMaps[o.Name] = &o
	case "Secret":
		var o k8s.Secret
		if err := decode(&o); err != nil {
			return err
		}
		if o.Name == "" {
			return fmt.Errorf("%s: a Secret needs metadata.name: %w", where, errdefs.ErrInvalid)
		}
		m.Secrets[o.Name] = &o
	case "PersistentVolumeClaim":
		var o k8s.PersistentVolumeClaim
		if err := decode(&o); err != nil {
			return err
		}
		if o.Name == "" {
			return fmt.Errorf("%s: a PersistentVolumeClaim needs metadata.name: %w", where, errdefs.ErrInvalid)
		}
		m.Claims = append(m.Claims, &o)
	case "Service":
		var o k8s.Service
		if err := decode(&o); err != nil {
			return err
		}
		m.Services = append(m.Services, &o)
	default:
		m.Warnings = append(m.Warnings, fmt.Sprintf("%s: kind %s is not supported by kube play, skipped (supported: Pod, Deployment, DaemonSet, Job, ConfigMap, Secret, PersistentVolumeClaim, Service)", where, tm.Kind))
	}
	return nil
}

// decode reads a document into obj. Fields the type does not know are warned about (with their
// path), not silently dropped, and then ignored, as kubectl --validate=warn does.
func (m *Manifest) decode(file, where string, d document, doc *k8s.Document, kind string, obj any) error {
	unknown, err := doc.Decode(obj)
	if err != nil {
		return yamlError(file, d, err)
	}
	for _, u := range unknown {
		m.Warnings = append(m.Warnings, fmt.Sprintf("%s: %s: %s (ignored)", where, kind, u))
	}
	return nil
}

func (m *Manifest) addWorkload(where, kind string, meta k8s.ObjectMeta, n int, tmpl k8s.ObjectMeta, spec k8s.PodSpec) error {
	if meta.Name == "" {
		return fmt.Errorf("%s: a %s needs metadata.name: %w", where, kind, errdefs.ErrInvalid)
	}
	if kind == "Pod" {
		tmpl = meta
	}
	for _, w := range m.Workloads {
		if w.Kind == kind && w.Name == meta.Name {
			return fmt.Errorf("%s: %s %s is defined twice: %w", where, kind, meta.Name, errdefs.ErrInvalid)
		}
	}
	m.Workloads = append(m.Workloads, &Workload{Kind: kind, Name: meta.Name, Namespace: meta.Namespace, Replicas: n, Meta: tmpl, Spec: spec})
	return nil
}

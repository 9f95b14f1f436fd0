package kube

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"pea/internal/kube/k8s"
)

// envContext is what a container's environment is resolved against.
type envContext struct {
	pod, namespace string
	meta           *k8s.ObjectMeta
	src            *Manifest
}

// podIPPlaceholder stands for the pod's IP until the pod runs.
const podIPPlaceholder = "\x00podIP"

// resolveEnv returns a container's environment as KEY=VALUE: envFrom first, then env, which
// wins, as in Kubernetes; $(VAR) references to earlier variables are expanded. podIP lists the
// variables that take the pod's IP.
func (e envContext) resolveEnv(c *k8s.Container) (env []string, podIP []string, err error) {
	vals := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			order = append(order, k)
		}
		vals[k] = v
	}
	for _, from := range c.EnvFrom {
		var data map[string][]byte
		var found bool
		var what, name string
		var optional *bool
		switch {
		case from.ConfigMapRef != nil:
			what, name, optional = "configmap", from.ConfigMapRef.Name, from.ConfigMapRef.Optional
			data, found = configMapData(e.src, name)
		case from.SecretRef != nil:
			what, name, optional = "secret", from.SecretRef.Name, from.SecretRef.Optional
			data, found = secretData(e.src, name)
		default:
			return nil, nil, fmt.Errorf("envFrom needs configMapRef or secretRef")
		}
		if !found {
			if isTrue(optional) {
				continue
			}
			return nil, nil, fmt.Errorf("envFrom: %s %s not found%s", what, name, defineHint(what))
		}
		for _, k := range sortedKeys(data) {
			set(from.Prefix+k, string(data[k]))
		}
	}
	for _, v := range c.Env {
		if v.Name == "" {
			return nil, nil, fmt.Errorf("env: every variable needs a name")
		}
		if v.ValueFrom == nil {
			set(v.Name, expandRefs(v.Value, vals))
			continue
		}
		val, skip, err := e.valueFrom(v.ValueFrom)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %v", v.Name, err)
		}
		if !skip {
			set(v.Name, val)
		}
	}
	for _, k := range order {
		if vals[k] == podIPPlaceholder {
			podIP = append(podIP, k)
			vals[k] = ""
		}
		env = append(env, k+"="+vals[k])
	}
	return env, podIP, nil
}

func (e envContext) valueFrom(vf *k8s.EnvVarSource) (val string, skip bool, err error) {
	switch {
	case vf.ConfigMapKeyRef != nil:
		r := vf.ConfigMapKeyRef
		return keyRef("configmap", r.Name, r.Key, r.Optional, configMapData)(e.src)
	case vf.SecretKeyRef != nil:
		r := vf.SecretKeyRef
		return keyRef("secret", r.Name, r.Key, r.Optional, secretData)(e.src)
	case vf.FieldRef != nil:
		v, err := e.field(vf.FieldRef.FieldPath)
		return v, false, err
	}
	return "", false, fmt.Errorf("valueFrom: only configMapKeyRef, secretKeyRef and fieldRef are supported")
}

func keyRef(what, name, key string, optional *bool, get func(*Manifest, string) (map[string][]byte, bool)) func(*Manifest) (string, bool, error) {
	return func(src *Manifest) (string, bool, error) {
		data, found := get(src, name)
		if !found {
			if isTrue(optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("%s %s not found%s", what, name, defineHint(what))
		}
		v, ok := data[key]
		if !ok {
			if isTrue(optional) {
				return "", true, nil
			}
			return "", false, fmt.Errorf("%s %s has no key %q", what, name, key)
		}
		return string(v), false, nil
	}
}

func defineHint(what string) string {
	if what == "configmap" {
		return " (define it in the YAML or pass --configmap FILE)"
	}
	return " (define it in the YAML)"
}

var fieldSelector = lazyRegexp(`^metadata\.(labels|annotations)\['([^']*)'\]$`)

// field resolves a fieldRef path of the downward API.
func (e envContext) field(p string) (string, error) {
	switch p {
	case "metadata.name":
		return e.pod, nil
	case "metadata.namespace":
		if e.namespace == "" {
			return DefaultNamespace, nil
		}
		return e.namespace, nil
	case "status.podIP":
		return podIPPlaceholder, nil
	case "spec.nodeName":
		h, err := os.Hostname()
		return h, err
	}
	if m := fieldSelector().FindStringSubmatch(p); m != nil {
		if m[1] == "labels" {
			return e.meta.Labels[m[2]], nil
		}
		return e.meta.Annotations[m[2]], nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported (metadata.name, metadata.namespace, metadata.labels['KEY'], metadata.annotations['KEY'], status.podIP, spec.nodeName)", p)
}

var varRef = lazyRegexp(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)`)

// expandRefs expands $(VAR) references to known variables; $$ escapes a dollar and unknown
// references stay as written, as Kubernetes does.
func expandRefs(s string, vals map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	return varRef().ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		if v, ok := vals[name]; ok && v != podIPPlaceholder {
			return v
		}
		return m
	})
}

// expandArgs expands $(VAR) in a command or its arguments with the container's variables.
func expandArgs(args []string, env []string) []string {
	if len(args) == 0 {
		return args
	}
	vals := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vals[k] = v
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = expandRefs(a, vals)
	}
	return out
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

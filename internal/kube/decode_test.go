package kube

import (
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"malformed names the line", "kind: Pod\nspec: [\n", []string{"f.yaml: line 2", "did not find expected"}},
		{"line counted across documents", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: x\n   bad: indent\n",
			[]string{"f.yaml: line 8"}},
		{"no kind", "apiVersion: v1\nmetadata: {name: a}\n", []string{"document 1 (line 1)", "no kind"}},
		{"nameless pod", "apiVersion: v1\nkind: Pod\nspec: {containers: [{name: a, image: b}]}\n", []string{"needs metadata.name"}},
		{"negative replicas", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: -1}\n", []string{"replicas must not be negative"}},
		{"job restart always", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {restartPolicy: Always, containers: [{name: a, image: b}]}}}\n",
			[]string{"Never or OnFailure"}},
		{"pod twice", "kind: Pod\nmetadata: {name: p}\n---\nkind: Pod\nmetadata: {name: p}\n", []string{"defined twice"}},
		{"wrong type", "kind: Pod\nmetadata: {name: p}\nspec: {containers: 3}\n", []string{"document 1 (line 1)", "cannot unmarshal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !errdefs.Is(err, errdefs.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	y := `# a comment-only document is skipped
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: s}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: bb
    imagePullPolicyy: Never
---
`
	m, err := Parse("f.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Workloads) != 1 || m.Workloads[0].Name != "p" {
		t.Fatalf("workloads: %+v", m.Workloads)
	}
	all := strings.Join(m.Warnings, "\n")
	for _, w := range []string{"kind Ingress is not supported", `unknown field "spec.containers[0].imagePullPolicyy"`, "document 3 (line 6)"} {
		if !strings.Contains(all, w) {
			t.Errorf("warnings %q do not say %q", all, w)
		}
	}
}

func TestParseKinds(t *testing.T) {
	y := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec:
  replicas: 3
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}, annotations: {a: b}}
    spec: {containers: [{name: c, image: bb}]}
--- {apiVersion: apps/v1, kind: DaemonSet, metadata: {name: ds}, spec: {template: {spec: {containers: [{name: c, image: bb}]}}}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec: {template: {spec: {containers: [{name: c, image: bb}]}}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
data: {k: aGVsbG8=}
stringData: {t: plain}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claim}
`
	m, err := Parse("f.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) != 0 {
		t.Errorf("warnings: %q", m.Warnings)
	}
	var got []string
	for _, w := range m.Workloads {
		got = append(got, strings.Join(w.PodNames(), ","))
	}
	want := "d-pod-0,d-pod-1,d-pod-2 ds-pod j-pod"
	if strings.Join(got, " ") != want {
		t.Errorf("pod names %q, want %q", got, want)
	}
	if m.Workloads[0].Meta.Annotations["a"] != "b" || m.Workloads[0].Meta.Labels["app"] != "d" {
		t.Errorf("template metadata lost: %+v", m.Workloads[0].Meta)
	}
	if m.Workloads[2].Spec.RestartPolicy != "Never" {
		t.Errorf("job restart policy %q, want Never", m.Workloads[2].Spec.RestartPolicy)
	}
	if s := m.Secrets["s"]; s == nil || string(s.Data["k"]) != "hello" || s.StringData["t"] != "plain" {
		t.Errorf("secret: %+v", m.Secrets["s"])
	}
	if len(m.Claims) != 1 || m.Claims[0].Name != "claim" {
		t.Errorf("claims: %+v", m.Claims)
	}
}

func TestReplicaPattern(t *testing.T) {
	re := replicaPattern("Deployment", "kd")
	for name, want := range map[string]bool{"kd-pod": true, "kd-pod-0": true, "kd-pod-12": true, "kd": false, "kd-pod-x": false, "kdx-pod": false, "xkd-pod": false} {
		if re.MatchString(name) != want {
			t.Errorf("%s: match %v, want %v", name, !want, want)
		}
	}
	if !replicaPattern("Pod", "p.q").MatchString("p.q") || replicaPattern("Pod", "p.q").MatchString("pxq") {
		t.Error("pod pattern is not literal")
	}
}

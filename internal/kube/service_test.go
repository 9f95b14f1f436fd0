package kube

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"pea/internal/engine"
)

func TestServiceName(t *testing.T) {
	one := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n")
	two := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: b}\n")
	hash := func(b string) string {
		s := sha256.Sum256([]byte(b))
		return hex.EncodeToString(s[:])[:12] + "-service"
	}
	if got, want := ServiceName([][]byte{one}), hash(string(one)); got != want {
		t.Errorf("one file: %s, want %s (sha256sum's first 12 digits)", got, want)
	}
	if got, want := ServiceName([][]byte{one, two}), hash(string(one)+"\n---\n"+string(two)); got != want {
		t.Errorf("two files: %s, want %s (joined as one stream)", got, want)
	}
	if ServiceName([][]byte{one, two}) == ServiceName([][]byte{two, one}) {
		t.Error("the order of the files does not change the name")
	}
}

func TestSdNotifyMode(t *testing.T) {
	const pod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    io.containers.sdnotify: conmon
    io.containers.sdnotify/b: container
    io.containers.sdnotify/c: ignore
spec:
  containers:
  - {name: a, image: bb}
  - {name: b, image: bb}
  - {name: c, image: bb}
  initContainers:
  - {name: i, image: bb}
`
	m, err := Parse("p.yaml", []byte(pod))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		extra map[string]string
		ctr   string
		want  string
	}{
		{"pod-wide", nil, "a", engine.SdNotifyConmon},
		{"container's own", nil, "b", engine.SdNotifyContainer},
		{"container's ignore", nil, "c", engine.SdNotifyIgnore},
		{"--annotation wins", map[string]string{SdNotifyAnnotation: engine.SdNotifyIgnore}, "a", engine.SdNotifyIgnore},
		{"--annotation for one container", map[string]string{SdNotifyAnnotation + "/a": engine.SdNotifyContainer}, "a", engine.SdNotifyContainer},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := sdNotifyMode(m.Workloads[0], c.ctr, c.extra)
			if err != nil || got != c.want {
				t.Errorf("mode of %s: %q %v, want %q", c.ctr, got, err, c.want)
			}
		})
	}
	plain, _ := Parse("q.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec: {containers: [{name: a, image: bb}]}\n"))
	if got, _ := sdNotifyMode(plain.Workloads[0], "a", nil); got != engine.SdNotifyIgnore {
		t.Errorf("no annotation: %q, want ignore (podman's default for kube)", got)
	}
	if _, err := sdNotifyMode(m.Workloads[0], "a", map[string]string{SdNotifyAnnotation: "healthy"}); err == nil || !strings.Contains(err.Error(), `invalid sd-notify mode "healthy"`) {
		t.Errorf("an invalid mode: %v", err)
	}

	// The plan: notifying containers are marked, init containers never notify.
	p, err := PlanPod(m.Workloads[0], "p", m, PlanOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cp := range p.Containers {
		got = append(got, cp.KubeName+"="+cp.Config.SdNotify)
		if cp.Notify != (cp.Config.SdNotify != engine.SdNotifyIgnore) {
			t.Errorf("container %s: Notify %v with mode %s", cp.KubeName, cp.Notify, cp.Config.SdNotify)
		}
	}
	if strings.Join(got, " ") != "a=conmon b=container c=ignore" || p.Init[0].Config.SdNotify != engine.SdNotifyIgnore || p.Init[0].Notify {
		t.Errorf("planned modes %v, init %q", got, p.Init[0].Config.SdNotify)
	}
}

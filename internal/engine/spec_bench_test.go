package engine

import (
	"encoding/json"
	"strings"
	"testing"

	"pea/internal/model"
	"pea/internal/oci"
)

// benchSpecConfig is a pod member as `pea run -d --pod P bb sleep 1000` creates it.
func benchSpecConfig() *model.ContainerConfig {
	pod := strings.Repeat("ab", 32)
	return &model.ContainerConfig{
		ID: strings.Repeat("cd", 32), Name: "bench", Pod: pod,
		Image: strings.Repeat("ef", 32), ImageName: "localhost/bb:latest",
		Cmd:         []string{"sleep", "1000"},
		Env:         []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Hostname:    "bench",
		Labels:      map[string]string{"app": "bench"},
		StopTimeout: 10,
		Namespaces: map[string]model.Namespace{
			model.NSNet: {Mode: model.NSModeContainer, Value: pod},
			model.NSIpc: {Mode: model.NSModeContainer, Value: pod},
			model.NSUts: {Mode: model.NSModeContainer, Value: pod},
		},
		Mounts: []model.Mount{{Type: "bind", Source: "/srv/data", Destination: "/data", Options: []string{"ro"}}},
	}
}

func benchSpecInputs() specInputs {
	return specInputs{
		rootfs:      "/var/lib/pea/overlay/cdcd/merged",
		home:        "/root",
		cgroupsPath: "/pea/pod-abab/pea-cdcd",
		nsPaths: map[string]string{
			model.NSNet: "/proc/4242/ns/net",
			model.NSIpc: "/proc/4242/ns/ipc",
			model.NSUts: "/proc/4242/ns/uts",
		},
		etcFiles: map[string]string{
			"/etc/hosts":       "/run/pea/containers/cdcd/hosts",
			"/etc/resolv.conf": "/run/pea/containers/cdcd/resolv.conf",
			"/etc/hostname":    "/run/pea/containers/cdcd/hostname",
		},
	}
}

// BenchmarkBuildSpec is the spec alone, with the seccomp profile made beforehand.
func BenchmarkBuildSpec(b *testing.B) {
	cfg, in := benchSpecConfig(), benchSpecInputs()
	sc, err := seccompFor(cfg)
	if err != nil {
		b.Fatal(err)
	}
	in.seccomp = sc
	for b.Loop() {
		if _, err := buildSpec(cfg, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeccompProfile is the default seccomp profile for the default capabilities, which
// every start of an unprivileged container computes.
func BenchmarkSeccompProfile(b *testing.B) {
	cfg := benchSpecConfig()
	for b.Loop() {
		if _, err := seccompFor(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSpecForStart is what a start spends on config.json before running crun: the
// seccomp profile, the spec and its JSON.
func BenchmarkSpecForStart(b *testing.B) {
	cfg, in := benchSpecConfig(), benchSpecInputs()
	var size int
	for b.Loop() {
		sc, err := seccompFor(cfg)
		if err != nil {
			b.Fatal(err)
		}
		in.seccomp = sc
		s, err := buildSpec(cfg, in)
		if err != nil {
			b.Fatal(err)
		}
		data, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "json-bytes")
}

// BenchmarkCapabilities is the capability set every spec and seccomp profile starts from.
func BenchmarkCapabilities(b *testing.B) {
	for b.Loop() {
		if _, err := oci.Capabilities(nil, []string{"NET_RAW"}, false); err != nil {
			b.Fatal(err)
		}
	}
}

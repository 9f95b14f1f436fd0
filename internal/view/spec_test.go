package view

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSpecGolden pins what generate spec prints (podman 4.3's field names and order, what is
// left out when empty) for a container made with many flags, a pod member, and a pod.
func TestSpecGolden(t *testing.T) {
	ctr := &model.ContainerConfig{ID: "0123456789ab", Name: "web-clone", Cmd: []string{"sleep", "300"}, Env: []string{"PATH=/bin", "FOO=bar"},
		WorkingDir: "/data", User: "1000:1000", Labels: map[string]string{"app": "web"}, StopSignal: 15, StopTimeout: 10,
		RestartPolicy: "on-failure:3", SdNotify: "container", CreateCommand: []string{"pea", "run", "--name", "web", "bb"},
		Mounts: []model.Mount{{Type: "bind", Source: "/srv", Destination: "/data", ReadOnly: true}, {Type: "volume", Source: "vol1", Destination: "/vol"},
			{Type: "volume", Destination: "/anon"}, {Type: "volume", Destination: "/iv", CopyUp: true}, {Type: "tmpfs", Destination: "/scratch", Options: []string{"size=1m"}}},
		Resources:   model.Resources{Memory: 64 << 20, MemorySwap: 128 << 20, CPUs: 0.5, PidsLimit: 100},
		Ulimits:     []model.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}},
		Healthcheck: &model.HealthConfig{Test: []string{"CMD-SHELL", "true"}, Interval: 30 * time.Second, Timeout: 30 * time.Second, Retries: 3},
		Namespaces:  map[string]model.Namespace{model.NSNet: {Mode: model.NSModeBridge}, model.NSCgroup: {Mode: model.NSModeHost}},
		Network: model.NetworkConfig{Networks: []string{"n1"}, StaticIP: "10.89.0.5", Aliases: map[string][]string{"n1": {"db"}},
			Ports: []model.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp", Range: 1}}}}
	member := &model.ContainerConfig{ID: "0123456789ac", Name: "m-clone", Pod: "fedcba9876543210", Cmd: []string{"top"}, StopTimeout: 10,
		SdNotify: "container", Namespaces: map[string]model.Namespace{}}
	pod := model.NewPodConfig("pp-clone")
	pod.Labels, pod.SharePid, pod.Volumes = map[string]string{"a": "b"}, true, []string{"pv:/pv", "/srv:/hd:ro"}
	pod.Resources = model.Resources{Memory: 100 << 20, MemorySwap: 200 << 20, CPUs: 1.5}
	pod.Infra.Ports = []model.PortMapping{{HostPort: 7070, ContainerPort: 70, Protocol: "tcp", Range: 1}}
	for _, tc := range []struct {
		name string
		spec any
	}{
		{"container", NewContainerSpec(&engine.SpecSource{Container: ctr, Image: "localhost/bb:latest", ImageVolumes: []string{"/iv"}})},
		{"member", NewContainerSpec(&engine.SpecSource{Container: member, Image: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})},
		{"pod", NewPodSpec(&engine.SpecSource{Pod: pod})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.MarshalIndent(tc.spec, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "spec-"+tc.name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Errorf("%s differs (go test -run TestSpecGolden -update rewrites it):\n%s", path, got)
			}
		})
	}
}

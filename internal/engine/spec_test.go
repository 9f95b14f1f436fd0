package engine

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestSpecGolden pins the OCI spec pea writes for typical containers. What depends on the host is
// left out: rlimits (clamped to the caller's hard limits) and, for --privileged, the host's
// devices and capabilities.
func TestSpecGolden(t *testing.T) {
	member := benchSpecConfig()
	standalone := benchSpecConfig()
	standalone.Pod, standalone.Namespaces = "", map[string]model.Namespace{model.NSCgroup: {Mode: model.NSModeHost}}
	standalone.Hostname = ""
	standalone.ReadOnly, standalone.NoNewPrivileges, standalone.Init = true, true, true
	standalone.CapAdd, standalone.CapDrop = []string{"NET_ADMIN"}, []string{"CAP_CHOWN"}
	standalone.Resources = model.Resources{Memory: 64 << 20, CPUs: 0.5, PidsLimit: 100, ShmSize: 32 << 20}
	standalone.Mounts = append(standalone.Mounts, model.Mount{Type: "tmpfs", Destination: "/scratch"})
	standalone.Ulimits = []model.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}}
	privileged := benchSpecConfig()
	privileged.Pod, privileged.Namespaces, privileged.Privileged = "", nil, true

	for _, tc := range []struct {
		name string
		cfg  *model.ContainerConfig
		in   specInputs
	}{
		{"pod-member", member, benchSpecInputs()},
		{"standalone", standalone, specInputs{rootfs: "/r", home: "/root", cgroupsPath: "/pea/pea-x", catatonit: "/usr/bin/catatonit"}},
		{"privileged", privileged, specInputs{rootfs: "/r", cgroupsPath: "/pea/pea-y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := buildSpec(tc.cfg, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			s.Process.Rlimits = nil
			if tc.cfg.Privileged {
				s.Linux.Devices = nil        // the host's devices
				s.Process.Capabilities = nil // every capability this host grants
			}
			got, err := json.MarshalIndent(s, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "spec-"+tc.name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(want)) {
				t.Errorf("spec differs from %s (run with -update after checking the change):\n%s", path, got)
			}
		})
	}
}

func TestSpecBadCapability(t *testing.T) {
	cfg := benchSpecConfig()
	cfg.CapAdd = []string{"NOT_A_CAP"}
	if _, err := buildSpec(cfg, benchSpecInputs()); err == nil {
		t.Fatal("an unknown capability was accepted")
	}
}

func TestSpecUserNamespace(t *testing.T) {
	userNS := func(s *specs.Spec) (found bool, path string) {
		for _, ns := range s.Linux.Namespaces {
			if ns.Type == specs.UserNamespace {
				return true, ns.Path
			}
		}
		return false, ""
	}
	cfg := benchSpecConfig()
	cfg.Pod, cfg.Namespaces = "", nil
	s, err := buildSpec(cfg, benchSpecInputs())
	if err != nil {
		t.Fatal(err)
	}
	if found, _ := userNS(s); found || s.Linux.UIDMappings != nil {
		t.Fatalf("the default is the host's user namespace: %v, %v", s.Linux.Namespaces, s.Linux.UIDMappings)
	}

	cfg.Namespaces = map[string]model.Namespace{model.NSUser: {Mode: model.NSModePrivate}}
	cfg.UIDMap = []model.IDMap{{ContainerID: 0, HostID: 100000, Size: 65536}}
	cfg.GIDMap = []model.IDMap{{ContainerID: 0, HostID: 200000, Size: 1000}, {ContainerID: 1000, HostID: 7, Size: 1}}
	if s, err = buildSpec(cfg, benchSpecInputs()); err != nil {
		t.Fatal(err)
	}
	if found, path := userNS(s); !found || path != "" {
		t.Fatalf("a namespace of its own: %v", s.Linux.Namespaces)
	}
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: 100000, Size: 65536}) ||
		len(s.Linux.GIDMappings) != 2 || s.Linux.GIDMappings[1] != (specs.LinuxIDMapping{ContainerID: 1000, HostID: 7, Size: 1}) {
		t.Fatalf("mappings: %v %v", s.Linux.UIDMappings, s.Linux.GIDMappings)
	}

	// Joined: the namespace file, and no mappings (the namespace has its own).
	cfg.Namespaces = map[string]model.Namespace{model.NSUser: {Mode: model.NSModeContainer, Value: "x"}}
	cfg.UIDMap, cfg.GIDMap = nil, nil
	in := benchSpecInputs()
	in.nsPaths = map[string]string{model.NSUser: "/proc/42/ns/user"}
	if s, err = buildSpec(cfg, in); err != nil {
		t.Fatal(err)
	}
	if found, path := userNS(s); !found || path != "/proc/42/ns/user" || s.Linux.UIDMappings != nil {
		t.Fatalf("joined: %v, %v", s.Linux.Namespaces, s.Linux.UIDMappings)
	}
}

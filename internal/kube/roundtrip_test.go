package kube

import (
	"bytes"
	"testing"

	"pea/internal/model"
)

// simulateCreate makes of a plan what the engine would store: the image's defaults merged in
// (as engine.applyImageDefaults does), the pod's hostname defaulted, emptyDir volumes labelled.
func simulateCreate(p *PodPlan, images map[string]*ImageDefaults) *PodSource {
	pc := *p.Pod
	if pc.Hostname == "" {
		pc.Hostname = pc.Name
	}
	s := &PodSource{Pod: &pc, Images: map[string]*ImageDefaults{}, Volumes: map[string]*model.Volume{}}
	for _, cp := range p.Containers {
		cfg := *cp.Config
		img := images[cfg.ImageName]
		cfg.Image = "id-" + cfg.ImageName
		s.Images[cfg.Image] = img
		env := append([]string{}, img.Env...)
		for _, kv := range cfg.Env {
			replaced := false
			for i, e := range env {
				if envKey(e) == envKey(kv) {
					env[i], replaced = kv, true
				}
			}
			if !replaced {
				env = append(env, kv)
			}
		}
		cfg.Env = env
		if !cp.Opts.EntrypointSet {
			cfg.Entrypoint = img.Entrypoint
		}
		if !cp.Opts.CmdSet && !cp.Opts.EntrypointSet {
			cfg.Cmd = img.Cmd
		}
		if cfg.WorkingDir == "" {
			cfg.WorkingDir = img.WorkingDir
		}
		if cfg.WorkingDir == "" {
			cfg.WorkingDir = "/"
		}
		if cfg.User == "" {
			cfg.User = img.User
		}
		s.Containers = append(s.Containers, &model.Container{Config: &cfg, State: &model.ContainerState{}})
	}
	for _, name := range p.EmptyDirs {
		vol := name[len(p.Name)+1:]
		s.Volumes[name] = &model.Volume{Name: name, Labels: map[string]string{LabelEmptyDir: vol, LabelPod: p.Name}}
	}
	return s
}

func envKey(kv string) string {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i]
		}
	}
	return kv
}

// TestRoundTrip: generate, play (as a plan the engine would store), generate again: the same YAML.
func TestRoundTrip(t *testing.T) {
	images := map[string]*ImageDefaults{"docker.io/library/nginx:latest": nginxImage, "localhost/bb:latest": bbImage}
	tests := []struct {
		name string
		src  *PodSource
		opts GenerateOptions
	}{
		{"pod", webPod(), GenerateOptions{}},
		{"pod with service", webPod(), GenerateOptions{Service: true}},
		{"deployment", apiPod(), GenerateOptions{Type: "deployment"}},
		{"job", apiPod(), GenerateOptions{Type: "job"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, _, err := Generate([]*PodSource{tc.src}, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			y1, err := Marshal(objs, "test")
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse("gen.yaml", y1)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Warnings) > 0 {
				t.Errorf("play warns about generated YAML: %q", m.Warnings)
			}
			if len(m.Workloads) != 1 {
				t.Fatalf("%d workloads", len(m.Workloads))
			}
			w := m.Workloads[0]
			plan, err := PlanPod(w, w.PodNames()[0], m, PlanOptions{Root: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			objs, _, err = Generate([]*PodSource{simulateCreate(plan, images)}, nil, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			y2, err := Marshal(objs, "test")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(y1, y2) {
				t.Errorf("round trip differs:\n--- first\n%s\n--- second\n%s", y1, y2)
			}
		})
	}
}

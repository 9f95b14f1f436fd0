package kube

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/kube/k8s"
	"pea/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var bbImage = &ImageDefaults{Cmd: []string{"/bin/sh"}, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}}

var nginxImage = &ImageDefaults{
	Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx", "-g", "daemon off;"},
	Env: []string{"PATH=/usr/bin:/bin", "NGINX_VERSION=1.27"}, WorkingDir: "/", User: "",
}

func ctr(cfg model.ContainerConfig) *model.Container {
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = defaultStopTimeout
	}
	return &model.Container{Config: &cfg, State: &model.ContainerState{Status: model.StatusRunning}}
}

// webPod is a pod with most of what generate describes.
func webPod() *PodSource {
	pod := &model.PodConfig{Name: "web", Hostname: "webhost", Labels: map[string]string{"tier": "front"},
		RestartPolicy: "on-failure", SharePid: true, ShareNet: true, HasInfra: true,
		Resources: model.Resources{Memory: 512 << 20, CPUs: 1.5},
		Sysctls:   map[string]string{"net.core.somaxconn": "1024"},
		Infra: model.NetworkConfig{
			Ports: []model.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp", Range: 1},
				{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Protocol: "udp", Range: 2}},
			DNSServers: []string{"10.0.0.2"}, DNSSearch: []string{"example.com"}, DNSOptions: []string{"ndots:2", "rotate"},
			AddHosts: []string{"db:10.0.0.5", "cache:10.0.0.5", "api:10.0.0.6"},
		}}
	ann := map[string]string{"team": "a"}
	return &PodSource{
		Pod: pod,
		Containers: []*model.Container{
			ctr(model.ContainerConfig{Name: "web-infra", IsInfra: true, Entrypoint: []string{"/catatonit", "-P"}}),
			ctr(model.ContainerConfig{Name: "web-nginx", Image: "nginx-id", ImageName: "docker.io/library/nginx:latest",
				Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx", "-g", "daemon off;", "-q"},
				Env: []string{"PATH=/usr/bin:/bin", "NGINX_VERSION=1.27", "MODE=prod"}, WorkingDir: "/srv",
				Resources: model.Resources{Memory: 128 << 20, CPUs: 0.5}, Annotations: ann,
				CapAdd: []string{"net_admin"}, CapDrop: []string{"CAP_MKNOD"}, NoNewPrivileges: true, ReadOnly: true,
				User: "1000:1000", RestartPolicy: "on-failure",
				Mounts: []model.Mount{
					{Type: "bind", Source: "/srv/data", Destination: "/data", ReadOnly: true},
					{Type: "volume", Source: "webdata", Destination: "/var/lib/web"},
					{Type: "volume", Source: "web-cache", Destination: "/cache"},
					{Type: "tmpfs", Destination: "/run", Options: []string{"size=64m"}},
				}}),
			ctr(model.ContainerConfig{Name: "web-side", Image: "bb-id", ImageName: "localhost/bb:latest",
				Entrypoint: []string{"sh", "-c"}, Cmd: []string{"sleep 1000"}, Privileged: true, Annotations: ann,
				Env: bbImage.Env, WorkingDir: "/", Seccomp: "unconfined", Terminal: true, Stdin: true,
				Mounts: []model.Mount{{Type: "bind", Source: "/srv/data", Destination: "/in"}}}),
		},
		Images: map[string]*ImageDefaults{"nginx-id": nginxImage, "bb-id": bbImage},
		Volumes: map[string]*model.Volume{
			"webdata":   {Name: "webdata"},
			"web-cache": {Name: "web-cache", Labels: map[string]string{LabelEmptyDir: "cache", LabelPod: "web"}},
		},
	}
}

// looseContainers are two containers outside pods.
func looseContainers() *PodSource {
	return &PodSource{
		Containers: []*model.Container{
			ctr(model.ContainerConfig{Name: "solo", Image: "bb-id", ImageName: "localhost/bb:latest", Hostname: "solohost",
				Cmd: []string{"httpd", "-f"}, Env: bbImage.Env, WorkingDir: "/", RestartPolicy: "always", StopTimeout: 2,
				Network: model.NetworkConfig{Ports: []model.PortMapping{{HostPort: 30080, ContainerPort: 8080, Protocol: "tcp", Range: 1}}}}),
			ctr(model.ContainerConfig{Name: "helper", Image: "bb-id", ImageName: "localhost/bb:latest",
				Cmd: []string{"/bin/sh"}, Env: bbImage.Env, WorkingDir: "/", User: "65534"}),
		},
		Images: map[string]*ImageDefaults{"bb-id": bbImage},
	}
}

func apiPod() *PodSource {
	return &PodSource{
		Pod: &model.PodConfig{Name: "api-pod", Hostname: "api-pod", Labels: map[string]string{"app": "api"}, RestartPolicy: "always"},
		Containers: []*model.Container{
			ctr(model.ContainerConfig{Name: "api-pod-srv", Image: "bb-id", ImageName: "localhost/bb:latest",
				Entrypoint: []string{"sleep"}, Cmd: []string{"300"}, Env: bbImage.Env, WorkingDir: "/"}),
		},
		Images: map[string]*ImageDefaults{"bb-id": bbImage},
	}
}

func TestGenerateGolden(t *testing.T) {
	claimVol := &model.Volume{Name: "webdata", Labels: map[string]string{"backup": "daily", LabelClaim: "true"}}
	tests := []struct {
		name   string
		srcs   []*PodSource
		claims []*model.Volume
		opts   GenerateOptions
	}{
		{"pod", []*PodSource{webPod()}, nil, GenerateOptions{}},
		{"pod-service-claim", []*PodSource{webPod()}, []*model.Volume{claimVol}, GenerateOptions{Service: true}},
		{"containers-service", []*PodSource{looseContainers()}, nil, GenerateOptions{Service: true}},
		{"deployment", []*PodSource{apiPod()}, nil, GenerateOptions{Type: "deployment", Replicas: 3}},
		{"daemonset", []*PodSource{apiPod()}, nil, GenerateOptions{Type: "daemonset"}},
		{"job", []*PodSource{apiPod()}, nil, GenerateOptions{Type: "job"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, _, err := Generate(tc.srcs, tc.claims, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Marshal(objs, "test")
			if err != nil {
				t.Fatal(err)
			}
			strictDecode(t, got)
			golden := filepath.Join("testdata", tc.name+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("generated YAML differs from %s (go test -update refreshes it):\n%s", golden, got)
			}
		})
	}
}

// strictDecode decodes every document into its API type, refusing unknown fields.
func strictDecode(t *testing.T, data []byte) {
	t.Helper()
	docs := splitDocuments(data)
	if len(docs) == 0 {
		t.Fatal("no documents")
	}
	for _, d := range docs {
		doc, err := k8s.ParseYAML(d.data)
		if err != nil {
			t.Fatal(err)
		}
		var tm k8s.TypeMeta
		if _, err := doc.Decode(&tm); err != nil {
			t.Fatal(err)
		}
		var obj any
		switch tm.Kind {
		case "Pod":
			obj = &k8s.Pod{}
		case "Service":
			obj = &k8s.Service{}
		case "PersistentVolumeClaim":
			obj = &k8s.PersistentVolumeClaim{}
		case "Deployment":
			obj = &k8s.Deployment{}
		case "DaemonSet":
			obj = &k8s.DaemonSet{}
		case "Job":
			obj = &k8s.Job{}
		default:
			t.Fatalf("document %d: unexpected kind %q", d.index, tm.Kind)
		}
		if unknown, err := doc.Decode(obj); err != nil || len(unknown) > 0 {
			t.Errorf("document %d (%s) does not decode strictly: %v %q", d.index, tm.Kind, err, unknown)
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	onlyInfra := &PodSource{Pod: &model.PodConfig{Name: "empty"}, Containers: []*model.Container{ctr(model.ContainerConfig{Name: "i", IsInfra: true})}}
	rootfs := &PodSource{Containers: []*model.Container{ctr(model.ContainerConfig{Name: "r", Rootfs: "/x", Cmd: []string{"sh"}})}}
	for name, tc := range map[string]struct {
		src  *PodSource
		opts GenerateOptions
	}{
		"only infra": {onlyInfra, GenerateOptions{}},
		"rootfs":     {rootfs, GenerateOptions{}},
		"bad type":   {apiPod(), GenerateOptions{Type: "statefulset"}},
	} {
		if _, _, err := Generate([]*PodSource{tc.src}, nil, tc.opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	_, warns, err := Generate([]*PodSource{apiPod()}, nil, GenerateOptions{Service: true})
	if err != nil || len(warns) != 1 {
		t.Errorf("a service without ports: warnings %q, error %v", warns, err)
	}
}

func ExampleMarshal() {
	objs, _, _ := Generate([]*PodSource{apiPod()}, nil, GenerateOptions{})
	out, _ := Marshal(objs, "1.0")
	fmt.Print(string(out))
	// Output:
	// # Save the output of this file and use kubectl create -f to import it into Kubernetes.
	// #
	// # Created with pea 1.0
	// apiVersion: v1
	// kind: Pod
	// metadata:
	//   labels:
	//     app: api
	//   name: api-pod
	// spec:
	//   containers:
	//   - args:
	//     - "300"
	//     command:
	//     - sleep
	//     image: localhost/bb:latest
	//     name: srv
	//   restartPolicy: Always
}

func TestGenerateSanitizesNames(t *testing.T) {
	src := &PodSource{
		Pod:        &model.PodConfig{Name: "My_Pod", Hostname: "My_Pod"},
		Containers: []*model.Container{ctr(model.ContainerConfig{Name: "My_Pod-Web_1", ImageName: "localhost/bb:latest", Cmd: []string{"sh"}})},
	}
	objs, _, err := Generate([]*PodSource{src}, nil, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0].(*k8s.Pod)
	if p.Name != "my-pod" || p.Labels["app"] != "my-pod" || p.Spec.Containers[0].Name != "web-1" || p.Spec.Hostname != "" {
		t.Errorf("names: pod %q, app %q, container %q, hostname %q", p.Name, p.Labels["app"], p.Spec.Containers[0].Name, p.Spec.Hostname)
	}
	out, err := Marshal(objs, "test")
	if err != nil {
		t.Fatal(err)
	}
	strictDecode(t, out)
}

// A pod in a user namespace of its own is hostUsers: false, and such YAML plays as a pod with
// --userns auto (Kubernetes picks the host IDs itself, as pea does then).
func TestHostUsersRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  *PodSource
	}{
		{"pod", &PodSource{
			Pod:        &model.PodConfig{Name: "u", HasInfra: true, ShareUser: true, UserNS: model.Namespace{Mode: model.NSModePrivate}},
			Containers: []*model.Container{ctr(model.ContainerConfig{Name: "u-a", ImageName: "localhost/bb:latest", Cmd: []string{"sh"}})},
		}},
		{"container", &PodSource{Containers: []*model.Container{ctr(model.ContainerConfig{Name: "c", ImageName: "localhost/bb:latest", Cmd: []string{"sh"},
			Namespaces: map[string]model.Namespace{model.NSUser: {Mode: model.NSModePrivate}}, UIDMap: []model.IDMap{{HostID: 100000, Size: 10}}})}}},
	} {
		objs, _, err := Generate([]*PodSource{tc.src}, nil, GenerateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out, err := Marshal(objs, "1.0")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "hostUsers: false") {
			t.Fatalf("%s: no hostUsers: false in\n%s", tc.name, out)
		}
		m, err := Parse("u.yaml", out)
		if err != nil {
			t.Fatal(err)
		}
		p, err := PlanPod(m.Workloads[0], "u", m, PlanOptions{Root: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		if !p.Pod.ShareUser || p.Pod.UserNS != (model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSAuto}) {
			t.Fatalf("%s: played as ShareUser %v, UserNS %+v", tc.name, p.Pod.ShareUser, p.Pod.UserNS)
		}
	}
	// Without it, or with hostUsers: true, the host's.
	m, err := Parse("h.yaml", []byte("kind: Pod\nmetadata: {name: h}\nspec:\n  hostUsers: true\n  containers: [{name: a, image: b}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanPod(m.Workloads[0], "h", m, PlanOptions{Root: t.TempDir()})
	if err != nil || p.Pod.ShareUser || p.Pod.UserNS.Mode != "" {
		t.Fatalf("hostUsers: true: %+v %v", p.Pod.UserNS, err)
	}
}

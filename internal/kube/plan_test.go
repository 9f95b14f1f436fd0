package kube

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pea/internal/model"
)

const richPod = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {GREETING: hello, LEVEL: debug, app.conf: "x=1\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: hunter2, token: t0k}
---
apiVersion: v1
kind: Pod
metadata:
  name: rich
  namespace: ns1
  labels: {app: rich}
  annotations: {note: hi}
spec:
  hostname: richhost
  restartPolicy: OnFailure
  terminationGracePeriodSeconds: 3
  securityContext: {runAsUser: 1000, runAsGroup: 100}
  initContainers:
  - {name: init, image: bb, command: [sh, -c, "echo init"]}
  containers:
  - name: app
    image: bb
    command: [sh, -c]
    args: ["echo $(G) $(NOPE) $$(ESC)"]
    workingDir: /work
    env:
    - {name: A, value: "1"}
    - {name: B, value: "$(A)-2"}
    - {name: G, valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}}
    - {name: P, valueFrom: {secretKeyRef: {name: sec, key: password}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: L, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: MISSING, valueFrom: {configMapKeyRef: {name: nope, key: x, optional: true}}}
    envFrom:
    - {configMapRef: {name: cfg}, prefix: CM_}
    ports:
    - {containerPort: 80, hostPort: 8080}
    - {containerPort: 53, hostPort: 5353, protocol: UDP, hostIP: 127.0.0.1}
    - {containerPort: 9090}
    resources: {limits: {memory: 128Mi, cpu: 500m}}
    securityContext:
      runAsUser: 0
      capabilities: {add: [NET_ADMIN], drop: [MKNOD]}
      readOnlyRootFilesystem: true
      allowPrivilegeEscalation: false
    volumeMounts:
    - {name: conf, mountPath: /etc/app}
    - {name: secret, mountPath: /secret}
    - {name: host, mountPath: /host, readOnly: true}
    - {name: scratch, mountPath: /scratch}
    - {name: mem, mountPath: /mem}
    - {name: data, mountPath: /data}
    - {name: conf, mountPath: /app.conf, subPath: app.conf}
  volumes:
  - {name: conf, configMap: {name: cfg, items: [{key: app.conf, path: app.conf}, {key: LEVEL, path: sub/level, mode: 0600}]}}
  - {name: secret, secret: {secretName: sec}}
  - {name: host, hostPath: {path: /srv/x, type: DirectoryOrCreate}}
  - {name: scratch, emptyDir: {}}
  - {name: mem, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: data, persistentVolumeClaim: {claimName: claim1, readOnly: true}}
`

func TestPlanPod(t *testing.T) {
	m, err := Parse("rich.yaml", []byte(richPod))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	publish := []model.PortMapping{{HostPort: 9000, ContainerPort: 90, Protocol: "tcp", Range: 1}, {HostPort: 8081, ContainerPort: 80, Protocol: "tcp", Range: 1}}
	p, err := PlanPod(m.Workloads[0], "rich", m, PlanOptions{Root: root, Publish: publish})
	if err != nil {
		t.Fatal(err)
	}
	pc := p.Pod
	if pc.Name != "rich" || pc.Hostname != "richhost" || pc.Labels["app"] != "rich" || pc.ExitPolicy != model.ExitPolicyStop || pc.RestartPolicy != "on-failure" {
		t.Errorf("pod config: %+v", pc)
	}
	if !pc.HasInfra || !pc.ShareNet || !pc.ShareIpc || !pc.ShareUts || !pc.UsePodCgroup {
		t.Errorf("pod namespaces: %+v", pc)
	}
	wantPorts := []model.PortMapping{
		{HostPort: 8081, ContainerPort: 80, Protocol: "tcp", Range: 1}, // --publish overrides the YAML's 8080
		{HostIP: "127.0.0.1", HostPort: 5353, ContainerPort: 53, Protocol: "udp", Range: 1},
		{HostPort: 9000, ContainerPort: 90, Protocol: "tcp", Range: 1},
	}
	if !reflect.DeepEqual(pc.Infra.Ports, wantPorts) {
		t.Errorf("ports %+v, want %+v", pc.Infra.Ports, wantPorts)
	}
	if len(p.Init) != 1 || p.Init[0].Config.Name != "rich-init" || len(p.Containers) != 1 {
		t.Fatalf("containers: %d init, %d", len(p.Init), len(p.Containers))
	}
	c := p.Containers[0].Config
	o := p.Containers[0].Opts
	if c.Name != "rich-app" || c.ImageName != "bb" || o.Pod != "rich" || !o.EntrypointSet || !o.CmdSet || o.Pull != "missing" {
		t.Errorf("container: %+v %+v", c, o)
	}
	if got := strings.Join(c.Cmd, "|"); got != "echo hello $(NOPE) $(ESC)" {
		t.Errorf("args %q: $(VAR) expansion", got)
	}
	wantEnv := []string{"CM_GREETING=hello", "CM_LEVEL=debug", "CM_app.conf=x=1\n", "A=1", "B=1-2", "G=hello", "P=hunter2",
		"POD=rich", "NS=ns1", "IP=", "L=rich"}
	if !reflect.DeepEqual(c.Env, wantEnv) {
		t.Errorf("env\n got %q\nwant %q", c.Env, wantEnv)
	}
	if !reflect.DeepEqual(p.Containers[0].PodIPEnv, []string{"IP"}) {
		t.Errorf("pod IP variables %q", p.Containers[0].PodIPEnv)
	}
	if c.Resources.Memory != 128<<20 || c.Resources.CPUs != 0.5 {
		t.Errorf("resources %+v", c.Resources)
	}
	if c.User != "0:100" || !c.ReadOnly || !c.NoNewPrivileges || c.Privileged ||
		!reflect.DeepEqual(c.CapAdd, []string{"NET_ADMIN"}) || !reflect.DeepEqual(c.CapDrop, []string{"MKNOD"}) {
		t.Errorf("security: user %q ro %v nnp %v caps %v %v", c.User, c.ReadOnly, c.NoNewPrivileges, c.CapAdd, c.CapDrop)
	}
	if p.Init[0].Config.User != "1000:100" {
		t.Errorf("init container user %q: the pod's security context applies", p.Init[0].Config.User)
	}
	if c.StopTimeout != 3 || c.WorkingDir != "/work" || c.Annotations["note"] != "hi" || c.RestartPolicy != "on-failure" {
		t.Errorf("stop timeout %d, workdir %q, annotations %v", c.StopTimeout, c.WorkingDir, c.Annotations)
	}
	files := filepath.Join(root, "kube", "rich")
	wantMounts := []model.Mount{
		{Type: "bind", Source: filepath.Join(files, "conf"), Destination: "/etc/app", ReadOnly: true},
		{Type: "bind", Source: filepath.Join(files, "secret"), Destination: "/secret", ReadOnly: true},
		{Type: "bind", Source: "/srv/x", Destination: "/host", ReadOnly: true},
		{Type: "volume", Source: "rich-scratch", Destination: "/scratch"},
		{Type: "tmpfs", Destination: "/mem", Options: []string{"size=67108864"}},
		{Type: "volume", Source: "claim1", Destination: "/data", ReadOnly: true},
		{Type: "bind", Source: filepath.Join(files, "conf", "app.conf"), Destination: "/app.conf", ReadOnly: true},
	}
	if !reflect.DeepEqual(c.Mounts, wantMounts) {
		t.Errorf("mounts\n got %+v\nwant %+v", c.Mounts, wantMounts)
	}
	wantFiles := []File{
		{Path: filepath.Join(files, "conf", "app.conf"), Data: []byte("x=1\n"), Mode: 0o644},
		{Path: filepath.Join(files, "conf", "sub", "level"), Data: []byte("debug"), Mode: 0o600},
		{Path: filepath.Join(files, "secret", "password"), Data: []byte("hunter2"), Mode: 0o400},
		{Path: filepath.Join(files, "secret", "token"), Data: []byte("t0k"), Mode: 0o400},
	}
	if !reflect.DeepEqual(p.Files, wantFiles) {
		t.Errorf("files\n got %+v\nwant %+v", p.Files, wantFiles)
	}
	if !reflect.DeepEqual(p.EmptyDirs, []string{"rich-scratch"}) || !reflect.DeepEqual(p.HostDirs, []string{"/srv/x"}) {
		t.Errorf("empty dirs %q, host dirs %q", p.EmptyDirs, p.HostDirs)
	}
	if err := writeFiles(p); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(files, "secret", "password"))
	if err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("secret file: %v %v", fi, err)
	}
}

func TestPlanPodErrors(t *testing.T) {
	base := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
	tests := []struct{ name, spec, want string }{
		{"no containers", "  containers: []\n", "spec.containers is empty"},
		{"no image", "  containers: [{name: a}]\n", "container a has no image"},
		{"duplicate names", "  containers: [{name: a, image: b}, {name: a, image: b}]\n", `"a" is used twice`},
		{"missing configmap", "  containers: [{name: a, image: b, env: [{name: X, valueFrom: {configMapKeyRef: {name: nope, key: k}}}]}]\n",
			"configmap nope not found (define it in the YAML or pass --configmap FILE)"},
		{"missing key", "  containers: [{name: a, image: b, envFrom: [{secretRef: {name: s}}]}]\n", "secret s not found"},
		{"undefined volume", "  containers: [{name: a, image: b, volumeMounts: [{name: v, mountPath: /v}]}]\n", "no volume of that name"},
		{"relative host path", "  containers: [{name: a, image: b}]\n  volumes: [{name: v, hostPath: {path: rel}}]\n", "must be absolute"},
		{"unsupported volume", "  containers: [{name: a, image: b}]\n  volumes: [{name: v, nfs: {server: s, path: /p}}]\n", "unsupported volume type"},
		{"unsupported field", "  containers: [{name: a, image: b, env: [{name: X, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}]}]\n", "not supported"},
		{"item escapes", "  containers: [{name: a, image: b}]\n  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: ../x}]}}]\n", "stay inside"},
		{"group without user", "  containers: [{name: a, image: b, securityContext: {runAsGroup: 5}}]\n", "runAsGroup needs runAsUser"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.spec
			if tc.name == "item escapes" {
				y += "---\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n"
			}
			m, err := Parse("p.yaml", []byte(base+y))
			if err != nil {
				t.Fatal(err)
			}
			_, err = PlanPod(m.Workloads[0], "p", m, PlanOptions{Root: t.TempDir()})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestHostNetworkAndReplicaPorts(t *testing.T) {
	m, err := Parse("p.yaml", []byte("kind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 2\n  template:\n    spec:\n      hostNetwork: true\n      containers: [{name: a, image: b, ports: [{containerPort: 80, hostPort: 80}]}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	w := m.Workloads[0]
	if hp := fixedHostPorts(w, nil); hp == "" {
		t.Error("replicas of a host-network pod with ports are not refused")
	}
	p, err := PlanPod(w, "d-pod-0", m, PlanOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if p.Pod.NetworkMode != "host" || len(p.Pod.Infra.Ports) != 0 {
		t.Errorf("host network pod: mode %q ports %v", p.Pod.NetworkMode, p.Pod.Infra.Ports)
	}
	w.Spec.HostNetwork = false
	if fixedHostPorts(w, nil) != "80/tcp" {
		t.Errorf("fixed host port: %q", fixedHostPorts(w, nil))
	}
	w.Spec.Containers[0].Ports[0].HostPort = 0
	if fixedHostPorts(w, []model.PortMapping{{ContainerPort: 80, Protocol: "tcp"}}) != "" {
		t.Error("random host ports refused for replicas")
	}
}

func TestServiceNodePorts(t *testing.T) {
	y := `kind: Pod
metadata: {name: p, labels: {app: p}}
spec:
  containers: [{name: a, image: b, ports: [{name: http, containerPort: 80}, {containerPort: 81, hostPort: 30081}]}]
---
apiVersion: v1
kind: Service
metadata: {name: p}
spec:
  type: NodePort
  selector: {app: p}
  ports:
  - {port: 8080, targetPort: http, nodePort: 30080}
  - {port: 81, nodePort: 30081}
  - {port: 53, protocol: UDP, targetPort: 5353, nodePort: 30053}
  - {port: 9, targetPort: 9}
---
apiVersion: v1
kind: Service
metadata: {name: other}
spec: {type: NodePort, selector: {app: other}, ports: [{port: 1, nodePort: 30001}]}
`
	m, err := Parse("p.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanPod(m.Workloads[0], "p", m, PlanOptions{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := []model.PortMapping{
		{HostPort: 30081, ContainerPort: 81, Protocol: "tcp", Range: 1},
		{HostPort: 30080, ContainerPort: 80, Protocol: "tcp", Range: 1},
		{HostPort: 30053, ContainerPort: 5353, Protocol: "udp", Range: 1},
	}
	if !reflect.DeepEqual(p.Pod.Infra.Ports, want) {
		t.Errorf("ports\n got %+v\nwant %+v", p.Pod.Infra.Ports, want)
	}
}

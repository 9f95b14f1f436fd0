package tests

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// kubeFile writes YAML into the test's directory and returns its path.
func (e *Env) kubeFile(name, yaml string) string {
	e.t.Helper()
	p := filepath.Join(e.Dir, name)
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// kubeLogs waits until a container's log holds want and returns it.
func (e *Env) kubeLogs(ctr, want string) string {
	e.t.Helper()
	var out string
	eventually(e.t, 10*time.Second, func() error {
		out = e.Try("logs", ctr).Stdout
		if !strings.Contains(out, want) {
			return fmt.Errorf("logs of %s: %q, want %q", ctr, out, want)
		}
		return nil
	})
	return out
}

// kubeNothingLeft checks that the store holds no pod, container or volume, and no play files.
func (e *Env) kubeNothingLeft() {
	e.t.Helper()
	for _, what := range [][]string{{"pod", "ps", "-q"}, {"ps", "-aq"}, {"volume", "ls", "-q"}} {
		if out := e.Pea(what...); out != "" {
			e.t.Errorf("pea %s: %q left behind", strings.Join(what, " "), out)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(e.Root, "kube")); len(ents) > 0 {
		e.t.Errorf("play files left behind: %v", ents)
	}
}

func TestKubePlayTwoContainersShareLocalhost(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: duo, labels: {app: duo}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: localhost/bb:latest
    command: [sh, -c, "mkdir /www && echo hello-over-localhost > /www/i && httpd -f -p 127.0.0.1:8080 -h /www"]
  - name: cli
    image: localhost/bb:latest
    command: [sh, -c, "until wget -qO- http://127.0.0.1:8080/i; do sleep 0.2; done; sleep 300"]
`)
	start := time.Now()
	out := e.Pea("kube", "play", y)
	t.Logf("kube play of a 2-container pod: %v", time.Since(start))
	if !regexp.MustCompile(`^Pod:\n[0-9a-f]{64}\nContainers:\n[0-9a-f]{64}\n[0-9a-f]{64}$`).MatchString(out) {
		t.Errorf("play output %q", out)
	}
	e.kubeLogs("duo-cli", "hello-over-localhost")
	if got := e.Pea("pod", "inspect", "--format", "{{.ExitPolicy}} {{.NumContainers}}", "duo"); got != "stop 3" {
		t.Errorf("pod: %q, want exit policy stop and 3 containers (infra, srv, cli)", got)
	}
	// The pod's labels are its containers' too, as podman's: a label filter finds them.
	if got := e.Pea("inspect", "--format", "{{.Config.Labels.app}}", "duo-srv"); got != "duo" {
		t.Errorf("duo-srv's label app: %q, want the pod's (duo)", got)
	}
	if got := e.Pea("ps", "-a", "--filter", "label=app=duo", "--filter", "name=duo-", "--format", "{{.Names}}", "--sort", "names"); got != "duo-cli\nduo-srv" {
		t.Errorf("ps --filter label=app=duo: %q", got)
	}
	e.Pea("kube", "down", y)
	e.kubeNothingLeft()
}

func TestKubePlayInitContainerAndConfig(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "in.txt"), []byte("from-the-host"), 0o644)
	cm := e.kubeFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {EXTRA: from-flag}\n")
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {GREETING: hello-from-cm, app.conf: "port=80\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: sec}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Pod
metadata: {name: kp, annotations: {owner: tests}}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - name: first
    image: localhost/bb:latest
    command: [sh, -c, "echo one > /shared/flag"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  - name: second
    image: localhost/bb:latest
    command: [sh, -c, "cat /shared/flag > /shared/flag2 && echo two >> /shared/flag2"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: app
    image: localhost/bb:latest
    command: [sh, -c]
    args:
    - >-
      echo "flag=$(cat /shared/flag2 | tr '\n' ,)";
      echo "env=$GREETING/$EXTRA/$POD";
      echo "conf=$(cat /etc/app/app.conf)";
      echo "secret=$(cat /secret/password) mode=$(stat -c %a /secret/password)";
      echo "host=$(cat /host/in.txt)"; echo written > /host/out.txt;
      sleep 300
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: GREETING}}}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    envFrom: [{configMapRef: {name: extra}}]
    volumeMounts:
    - {name: shared, mountPath: /shared}
    - {name: conf, mountPath: /etc/app}
    - {name: secret, mountPath: /secret}
    - {name: host, mountPath: /host}
  volumes:
  - {name: shared, emptyDir: {}}
  - {name: conf, configMap: {name: cfg}}
  - {name: secret, secret: {secretName: sec}}
  - {name: host, hostPath: {path: `+host+`, type: Directory}}
`)
	e.Pea("kube", "play", "--configmap", cm, y)
	logs := e.kubeLogs("kp-app", "host=")
	for _, want := range []string{"flag=one,two,", "env=hello-from-cm/from-flag/kp", "conf=port=80", "secret=hunter2 mode=400", "host=from-the-host"} {
		if !strings.Contains(logs, want) {
			t.Errorf("app log %q lacks %q", logs, want)
		}
	}
	eventually(t, 5*time.Second, func() error {
		if b, _ := os.ReadFile(filepath.Join(host, "out.txt")); string(b) != "written\n" {
			return fmt.Errorf("the hostPath mount is not writable: out.txt %q", b)
		}
		return nil
	})
	// Init containers ran once and are gone; the pod's annotations are on its containers.
	if got := e.Pea("ps", "-a", "--format", "{{.Names}}", "--filter", "pod=kp"); strings.Contains(got, "first") || !strings.Contains(got, "kp-app") {
		t.Errorf("containers of kp: %q", got)
	}
	if got := e.Pea("inspect", "--format", "{{.Config.Annotations.owner}}", "kp-app"); got != "tests" {
		t.Errorf("annotation owner: %q", got)
	}
	// Without the ConfigMap file, play names what is missing and makes nothing.
	e.Pea("kube", "down", y)
	r := e.Fails(125, "kube", "play", y)
	if !strings.Contains(r.Stderr, "configmap extra not found") {
		t.Errorf("missing configmap: %s", r.Stderr)
	}
	e.kubeNothingLeft()
}

func TestKubePlayFailingInitRemovesEverything(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: claimed}
---
apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: broken}
spec:
  initContainers: [{name: init, image: localhost/bb:latest, command: [sh, -c, "echo init-says-no; exit 3"]}]
  containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"]}]
  volumes: [{name: v, emptyDir: {}}]
`)
	r := e.Fails(125, "kube", "play", y)
	if !strings.Contains(r.Stderr, "init exited with code 3") || !strings.Contains(r.Stderr, "init-says-no") {
		t.Errorf("failing init container: %s", r.Stderr)
	}
	e.kubeNothingLeft()
}

func TestKubeDeploymentReplicas(t *testing.T) {
	e := newEnv(t).withBusybox()
	dep := `apiVersion: apps/v1
kind: Deployment
metadata: {name: kd}
spec:
  replicas: 3
  selector: {matchLabels: {app: kd}}
  template:
    metadata: {labels: {app: kd}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"]%s}]
`
	y := e.kubeFile("dep.yaml", fmt.Sprintf(dep, ""))
	// From stdin, through the podman-style alias.
	data, _ := os.ReadFile(y)
	if r := e.PeaIn(string(data), "play", "kube", "-"); r.Code != 0 {
		t.Fatal(r)
	}
	if got := e.Pea("pod", "ps", "--filter", "status=running", "--format", "{{.Name}}", "--sort", "name"); got != "kd-pod-0\nkd-pod-1\nkd-pod-2" {
		t.Errorf("running pods: %q", got)
	}
	if got := e.Pea("ps", "--format", "{{.Names}}", "--filter", "name=kd-pod-1-c"); got != "kd-pod-1-c" {
		t.Errorf("container of replica 1: %q", got)
	}
	if r := e.Fails(125, "kube", "play", y); !strings.Contains(r.Stderr, "already exists") {
		t.Errorf("second play: %s", r.Stderr)
	}
	// --replace removes every replica an earlier play made, whatever the count was then.
	one := e.kubeFile("dep1.yaml", strings.Replace(fmt.Sprintf(dep, ""), "replicas: 3", "replicas: 1", 1))
	e.Pea("kube", "play", "--replace", one)
	if got := e.Pea("pod", "ps", "--format", "{{.Name}}"); got != "kd-pod" {
		t.Errorf("pods after --replace with 1 replica: %q", got)
	}
	e.Pea("play", "kube", "--down", y)
	e.kubeNothingLeft()

	// Replicas that all pin one host port cannot be: a clear error, nothing made.
	y = e.kubeFile("dep-port.yaml", fmt.Sprintf(dep, ", ports: [{containerPort: 80, hostPort: 18080}]"))
	r := e.Fails(125, "kube", "play", y)
	if !strings.Contains(r.Stderr, "3 replicas cannot all publish host port 18080/tcp") {
		t.Errorf("replicas with a host port: %s", r.Stderr)
	}
	e.kubeNothingLeft()
}

func TestKubeBadInput(t *testing.T) {
	e := newEnv(t).withBusybox()
	bad := e.kubeFile("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n   oops: [\n")
	r := e.Fails(125, "kube", "play", bad)
	if !strings.Contains(r.Stderr, "bad.yaml: line 5") {
		t.Errorf("malformed YAML: %s", r.Stderr)
	}
	unknown := e.kubeFile("unknown.yaml", `apiVersion: v1
kind: Pod
metadata: {name: u}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"], imagee: typo}]
`)
	r = e.Try("kube", "play", unknown)
	if r.Code != 0 || !strings.Contains(r.Stderr, `unknown field "spec.containers[0].imagee"`) {
		t.Errorf("unknown field: %s", r)
	}
	e.Pea("kube", "down", unknown)

	noImage := e.kubeFile("noimage.yaml", `apiVersion: v1
kind: Pod
metadata: {name: first}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: second}
spec:
  containers: [{name: c, image: localhost/does-not-exist:v1}]
`)
	r = e.Fails(125, "kube", "play", noImage)
	if !strings.Contains(r.Stderr, "localhost/does-not-exist:v1") || !strings.Contains(r.Stderr, "pod second: container c") {
		t.Errorf("missing image: %s", r.Stderr)
	}
	e.kubeNothingLeft() // the first pod, made before the failure, is gone

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	taken := e.kubeFile("taken.yaml", fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: taken}
spec:
  containers: [{name: c, image: localhost/bb:latest, command: [sleep, "300"], ports: [{containerPort: 80, hostPort: %d}]}]
`, port))
	r = e.Fails(125, "kube", "play", taken)
	if !strings.Contains(r.Stderr, fmt.Sprint(port)) {
		t.Errorf("port taken: %s", r.Stderr)
	}
	e.kubeNothingLeft()

	onlyService := e.kubeFile("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	if r := e.Fails(125, "kube", "play", onlyService); !strings.Contains(r.Stderr, "nothing to play") {
		t.Errorf("nothing to play: %s", r.Stderr)
	}
}

func TestKubeGenerateRoundTrip(t *testing.T) {
	e := newEnv(t).withBusybox()
	data := t.TempDir()
	e.Pea("pod", "create", "--name", "web", "-p", "18081:80", "--label", "tier=front", "--restart", "on-failure")
	e.Pea("create", "--pod", "web", "--name", "web-srv", "-e", "MODE=prod", "-w", "/var/www", "--memory", "64m",
		"--cap-add", "net_admin", "--cap-drop", "mknod", "--security-opt", "no-new-privileges", "-u", "1000:1000",
		"-v", data+":/data:ro", "-v", "webvol:/vol", "--tmpfs", "/cache", "--stop-timeout", "1", "localhost/bb:latest", "sleep", "300")
	e.Pea("create", "--pod", "web", "--name", "side", "--stop-timeout", "1", "--entrypoint", "sh", "localhost/bb:latest", "-c", "sleep 300")
	e.Pea("pod", "start", "web")
	y1 := e.Pea("kube", "generate", "web")
	for _, want := range []string{"# Save the output of this file", "kind: Pod", "name: srv", "name: side", "hostPort: 18081",
		"MODE", "workingDir: /var/www", "memory: 64Mi", "NET_ADMIN", "MKNOD", "allowPrivilegeEscalation: false",
		"runAsUser: 1000", "runAsGroup: 1000", "terminationGracePeriodSeconds: 1", "path: " + data, "claimName: webvol", "medium: Memory", "restartPolicy: OnFailure", "tier: front"} {
		if !strings.Contains(y1, want) {
			t.Errorf("generated YAML lacks %q:\n%s", want, y1)
		}
	}
	if strings.Contains(y1, "infra") || strings.Contains(y1, "catatonit") || strings.Contains(y1, "PATH=") {
		t.Errorf("generated YAML shows the infra container or image defaults:\n%s", y1)
	}
	f := filepath.Join(e.Dir, "web.yaml")
	e.Pea("kube", "generate", "-f", f, "web")
	e.Fails(125, "kube", "generate", "-f", f, "web") // not overwritten
	e.Pea("kube", "down", f)
	if e.Pea("pod", "ps", "-q") != "" {
		t.Fatal("kube down left the pod")
	}
	e.Pea("kube", "play", f)
	y2 := e.Pea("generate", "kube", "web")
	if y1 != y2 {
		t.Errorf("round trip differs:\n--- before\n%s\n--- after\n%s", y1, y2)
	}
	svc := e.Pea("kube", "generate", "-s", "--type", "deployment", "web")
	if !strings.Contains(svc, "kind: Deployment") || !strings.Contains(svc, "kind: Service") || !strings.Contains(svc, "type: NodePort") {
		t.Errorf("deployment with service:\n%s", svc)
	}
	if r := e.Fails(125, "kube", "generate", "web-srv"); !strings.Contains(r.Stderr, "generate the pod instead") {
		t.Errorf("container of a pod: %s", r.Stderr)
	}
	e.Pea("kube", "down", "--force", f)
	if out := e.Pea("volume", "ls", "-q"); out != "webvol" {
		t.Errorf("kube down removed a volume it did not claim: %q", out)
	}
}

func TestKubePlayFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: fl}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: localhost/bb:latest
    command: [sh, -c, "echo ip=$MYIP; sleep 300"]
    env: [{name: MYIP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
`)
	e.Pea("kube", "play", "--start=false", "-q", y)
	if got := e.Pea("pod", "ps", "--format", "{{.Name}} {{.Status}}"); got != "fl Created" {
		t.Errorf("--start=false: %q", got)
	}
	e.Fails(125, "kube", "play", y) // exists
	out := e.Pea("kube", "play", "--replace", "--publish", "18082:80", y)
	if !strings.HasPrefix(out, "Pod:\n") {
		t.Errorf("--replace output %q", out)
	}
	logs := e.kubeLogs("fl-c", "ip=")
	if !regexp.MustCompile(`ip=\d+\.\d+\.\d+\.\d+`).MatchString(logs) {
		t.Errorf("status.podIP: %q", logs)
	}
	if got := e.Pea("pod", "inspect", "--format", "{{range .InfraConfig.PortBindings}}{{range .}}{{.HostPort}}{{end}}{{end}}", "fl"); got != "18082" {
		t.Errorf("--publish: %q", got)
	}
	e.Pea("kube", "down", y)
	e.kubeNothingLeft()
}

func TestPodRmRemovesWhatKubePlayMadeForIt(t *testing.T) {
	// Regression: pod rm of a played pod left its ConfigMap files and emptyDir volumes until
	// the next kube down.
	e := newEnv(t).withBusybox()
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {app.conf: "x=1\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: owned}
spec:
  containers:
  - name: app
    image: localhost/bb:latest
    command: [sleep, "300"]
    volumeMounts: [{name: conf, mountPath: /etc/app}, {name: scratch, mountPath: /scratch}, {name: etc, mountPath: /etc}]
  volumes:
  - {name: conf, configMap: {name: cfg}}
  - {name: scratch, emptyDir: {}}
  - {name: etc, emptyDir: {}}
`)
	e.Pea("kube", "play", y)
	if out := e.Pea("volume", "ls", "-q"); out == "" {
		t.Fatal("no emptyDir volume was made")
	}
	// An emptyDir starts empty, as Kubernetes makes it: not filled with the image's /etc.
	if out := e.Pea("exec", "owned-app", "sh", "-c", "test -e /etc/passwd && echo copied || echo empty"); out != "empty" {
		t.Fatalf("an emptyDir over the image's /etc: %q", out)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "owned")
	if out := e.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("emptyDir volume left after pod rm: %q", out)
	}
	if _, err := os.Stat(filepath.Join(e.Root, "kube", "owned")); !os.IsNotExist(err) {
		t.Fatalf("the pod's files are left after pod rm: %v", err)
	}
}

// kube play --build (an image missing from the store is built from the directory of its name),
// --ip and --mac-address (one per pod, in order), --annotation, --no-hosts; bad values leave
// nothing.
func TestKubePlayBuildAndAddresses(t *testing.T) {
	e := newEnv(t).withBusybox()
	os.MkdirAll(filepath.Join(e.Dir, "kbuilt"), 0o755)
	os.WriteFile(filepath.Join(e.Dir, "kbuilt", "Containerfile"), []byte("FROM localhost/bb\nRUN echo built-here > /built\n"), 0o644)
	e.Pea("network", "create", "--subnet", "10.124.5.0/24", "kn")
	pod := func(name string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: localhost/kbuilt:latest
    command: [sh, -c, "cat /built; sleep 300"]
`
	}
	y := e.kubeFile("two.yaml", pod("k1")+"---\n"+pod("k2"))
	e.Fails(125, "kube", "play", "--network", "kn", "--ip", "10.124.5.20,10.124.5.21,10.124.5.22", y)
	e.Fails(125, "kube", "play", "--network", "kn", "--ip", "not-an-ip", y)
	e.Fails(125, "kube", "play", "--network", "kn", "--mac-address", "zz", y)
	if out := e.Pea("pod", "ps", "-q") + e.Pea("ps", "-aq") + e.Pea("images", "-q", "--filter", "reference=localhost/kbuilt"); out != "" {
		t.Fatalf("refused plays left %q (regression: the build ran before the addresses were checked)", out)
	}
	out := e.Pea("kube", "play", "--network", "kn", "--ip", "10.124.5.20,10.124.5.21", "--mac-address", "02:42:ac:11:00:20",
		"--annotation", "team=blue", "--no-hosts", y)
	if !strings.Contains(out, "COMMIT localhost/kbuilt:latest") || strings.Count(out, "Pod:\n") != 2 {
		t.Fatalf("play with a build: %q", out)
	}
	e.kubeLogs("k1-c", "built-here")
	if got := e.Pea("exec", "k1-c", "sh", "-c", "ip -4 -o addr show eth0 | grep -o '10[.0-9]*/'; cat /sys/class/net/eth0/address"); got != "10.124.5.20/\n02:42:ac:11:00:20" {
		t.Errorf("k1's address: %q", got)
	}
	if got := e.Pea("exec", "k2-c", "sh", "-c", "ip -4 -o addr show eth0 | grep -o '10[.0-9]*/'"); got != "10.124.5.21/" {
		t.Errorf("k2's address: %q", got)
	}
	if got := e.Pea("inspect", "--format", `{{index .Config.Annotations "team"}}`, "k2-c"); got != "blue" {
		t.Errorf("--annotation: %q", got)
	}
	if got := e.Try("exec", "k1-c", "grep", "-c", "k1", "/etc/hosts"); got.Stdout == "1\n" {
		t.Errorf("--no-hosts: /etc/hosts names the pod: %s", got)
	}
	// The image is there now: a second play does not build it again unless --build.
	e.Pea("kube", "down", y)
	if out := e.Pea("kube", "play", "--network", "kn", y); strings.Contains(out, "COMMIT") {
		t.Errorf("an image in the store was built again: %q", out)
	}
	e.Pea("kube", "down", y)
	if out := e.Pea("kube", "play", "--network", "kn", "--build", y); !strings.Contains(out, "COMMIT") {
		t.Errorf("--build did not build: %q", out)
	}
	e.Pea("kube", "down", y)
	e.Pea("network", "rm", "kn")
}

// kube play pulls the YAML's images with --creds and --tls-verify.
func TestKubePlayRegistryFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	reg := authRegistry(t, false)
	e.Pea("push", "--tls-verify=false", "--creds", "alice:s3cret", "localhost/bb", reg+"/team/bb:1")
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: pulled}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: `+reg+`/team/bb:1
    command: [sh, -c, "echo pulled-ok; sleep 300"]
`)
	if r := e.Try("kube", "play", "--tls-verify=false", y); r.Code == 0 {
		t.Fatalf("a play without credentials pulled from an authenticating registry: %s", r)
	}
	e.kubeNothingLeft()
	e.Pea("kube", "play", "--tls-verify=false", "--creds", "alice:s3cret", y)
	e.kubeLogs("pulled-c", "pulled-ok")
	e.Pea("kube", "down", y)
}

// kube play --log-driver and --log-opt apply to every container; a path= (one file for all)
// is refused before anything is made.
func TestKubePlayLogFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("pod.yaml", `apiVersion: v1
kind: Pod
metadata: {name: lg}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: a
    image: localhost/bb:latest
    command: [sh, -c, "echo hi; sleep 300"]
`)
	e.Fails(125, "kube", "play", "--network", "none", "--log-opt", "path=/tmp/x.log", y)
	e.kubeNothingLeft()
	e.Pea("kube", "play", "--network", "none", "--log-driver", "none", "--log-opt", "tag=kubetag", y)
	if got := e.Pea("inspect", "--format", "{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Tag}}", "lg-a"); got != "none kubetag" {
		t.Fatalf("the container's log settings: %q", got)
	}
	e.Fails(125, "logs", "lg-a")
	e.Pea("kube", "down", y)
}

package tests

// End-to-end tests of the CRI service (`pea system cri`, internal/cri), driven by the real
// crictl, on real containers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CRIEnv is a store served by `pea system cri`, and crictl pointed at it.
type CRIEnv struct {
	*Env
	Sock   string
	crictl string
}

// crictlPath is crictl: the one on PATH, else the one scripts/testdeps.sh built into .build/.
func crictlPath(t *testing.T) string { return clientTool(t, "crictl", "../.build/crictl/crictl") }

// newCRIEnv starts the CRI service on a fresh store holding localhost/bb:latest; it is stopped
// before the store is torn down.
func newCRIEnv(t *testing.T) *CRIEnv {
	t.Helper()
	e := newEnv(t).withBusybox()
	c := &CRIEnv{Env: e, Sock: filepath.Join(e.Dir, "cri.sock"), crictl: crictlPath(t)}
	// Registered before the service's own cleanup, so it runs after the service stopped.
	t.Cleanup(func() {
		if _, err := os.Stat(c.Sock); err == nil {
			t.Errorf("the service left its socket behind")
		}
	})
	startService(t, e, "system", "cri", "unix://"+c.Sock)
	eventually(t, 10*time.Second, func() error {
		conn, err := net.Dial("unix", c.Sock)
		if err != nil {
			return err
		}
		return conn.Close()
	})
	return c
}

// grpcConn is a gRPC connection to the service, for what crictl cannot ask; closed with the test.
func (c *CRIEnv) grpcConn() *grpc.ClientConn {
	c.t.Helper()
	conn, err := grpc.NewClient("unix://"+c.Sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { conn.Close() })
	return conn
}

// Crictl runs crictl against the service.
func (c *CRIEnv) Crictl(args ...string) Result {
	c.t.Helper()
	ep := "unix://" + c.Sock
	cmd := exec.Command(c.crictl, append([]string{"--config", "/dev/null", "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := Result{Stdout: strings.TrimSpace(out.String()), Stderr: strings.TrimSpace(errOut.String())}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("crictl %v: %v", args, err)
	}
	return r
}

// MustCrictl runs crictl and fails the test unless it succeeds.
func (c *CRIEnv) MustCrictl(args ...string) string {
	c.t.Helper()
	r := c.Crictl(args...)
	if r.Code != 0 {
		c.t.Fatalf("crictl %v: exit %d\n%s\n%s", args, r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// writeJSON writes v as a JSON file in the env's directory and returns its path.
func (c *CRIEnv) writeJSON(name string, v any) string {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	p := filepath.Join(c.Dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// inspectJSON runs an inspect verb and decodes its JSON.
func (c *CRIEnv) inspectJSON(verb, id string) map[string]any {
	c.t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(c.MustCrictl(verb, id)), &v); err != nil {
		c.t.Fatalf("%s %s: %v", verb, id, err)
	}
	return v
}

// path reads a nested field of decoded JSON by its keys.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// A sandbox and a container through crictl: run, list, inspect, logs where the CRI asked,
// exec, stop, remove; the sandbox is a pea pod (pea pod ps sees it) with the sandbox's
// hostname, and everything it made is gone after rmp.
func TestCRISandboxLifecycle(t *testing.T) {
	c := newCRIEnv(t)
	if out := c.MustCrictl("version"); !strings.Contains(out, "RuntimeName:  pea") || !strings.Contains(out, "RuntimeApiVersion:  v1") {
		t.Fatalf("version: %q", out)
	}
	var info map[string]any
	json.Unmarshal([]byte(c.MustCrictl("info")), &info)
	for _, cond := range path(info, "status", "conditions").([]any) {
		if path(cond, "status") != true {
			t.Fatalf("info: a condition is not met: %v", cond)
		}
	}
	logDir := filepath.Join(c.Dir, "podlogs", "web")
	sb := c.writeJSON("sandbox.json", map[string]any{
		"metadata": map[string]any{"name": "web", "namespace": "default", "uid": "uid-1", "attempt": 1},
		"hostname": "webhost", "log_directory": logDir,
		"labels": map[string]string{"app": "web"}, "annotations": map[string]string{"note": "kept"},
		"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"pid": 1}}}, // CONTAINER
	})
	pod := c.MustCrictl("runp", sb)
	if len(pod) != 64 {
		t.Fatalf("runp: %q", pod)
	}
	if out := c.MustCrictl("pods", "-q", "--label", "app=web"); out != pod {
		t.Fatalf("pods --label: %q", out)
	}
	if out := c.MustCrictl("pods", "-q", "--label", "app=other"); out != "" {
		t.Fatalf("pods --label app=other: %q", out)
	}
	st := c.inspectJSON("inspectp", pod)
	if path(st, "status", "state") != "SANDBOX_READY" || path(st, "status", "metadata", "name") != "web" ||
		path(st, "status", "metadata", "uid") != "uid-1" || path(st, "status", "metadata", "attempt") != float64(1) {
		t.Fatalf("inspectp: %v", st["status"])
	}
	if a := path(st, "status", "annotations").(map[string]any); len(a) != 1 || a["note"] != "kept" {
		t.Fatalf("inspectp annotations (the service's own must not show): %v", a)
	}
	ip, _ := path(st, "status", "network", "ip").(string)
	if net.ParseIP(ip) == nil {
		t.Fatalf("inspectp: no pod address: %v", path(st, "status", "network"))
	}
	if out := c.Pea("pod", "ps", "--format", "{{.Name}} {{.Status}}"); out != "k8s_POD_web_default_uid-1_1 Running" {
		t.Fatalf("pea pod ps: %q", out)
	}

	mount := filepath.Join(c.Dir, "data")
	os.MkdirAll(mount, 0o755)
	os.WriteFile(filepath.Join(mount, "msg"), []byte("from-the-host"), 0o644)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "main", "attempt": 2},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sh", "-c"},
		"args":     []string{"echo out-line; echo err-line >&2; cat /data/msg; echo; hostname; echo $GREETING; exec sleep 1000"},
		"envs":     []map[string]string{{"key": "GREETING", "value": "hi"}},
		"mounts":   []map[string]any{{"container_path": "/data", "host_path": mount, "readonly": true}},
		"log_path": "main/2.log",
		"labels":   map[string]string{"tier": "front"},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	if out := c.MustCrictl("ps", "-a", "-q", "--state", "created"); out != cid {
		t.Fatalf("ps --state created: %q (want %s)", out, cid)
	}
	c.MustCrictl("start", cid)
	want := "out-line\nerr-line\nfrom-the-host\nwebhost\nhi"
	eventually(t, 10*time.Second, func() error {
		if out := c.Crictl("logs", cid); out.Stdout+"\n"+out.Stderr != "" && !sameLines(out.Stdout+"\n"+out.Stderr, want) {
			return fmt.Errorf("logs: %q / %q", out.Stdout, out.Stderr)
		}
		return nil
	})
	// The log is where the CRI asked, in its format.
	raw, err := os.ReadFile(filepath.Join(logDir, "main", "2.log"))
	if err != nil || !strings.Contains(string(raw), " stdout F out-line\n") || !strings.Contains(string(raw), " stderr F err-line\n") {
		t.Fatalf("log file: %q %v", raw, err)
	}
	if out := c.MustCrictl("ps", "-q", "--label", "tier=front", "--pod", pod); out != cid {
		t.Fatalf("ps --label --pod: %q", out)
	}
	cs := c.inspectJSON("inspect", cid)
	if path(cs, "status", "state") != "CONTAINER_RUNNING" || path(cs, "status", "metadata", "name") != "main" ||
		path(cs, "status", "metadata", "attempt") != float64(2) || path(cs, "status", "logPath") != filepath.Join(logDir, "main", "2.log") ||
		!strings.HasPrefix(path(cs, "status", "imageRef").(string), "sha256:") {
		t.Fatalf("inspect: %v", cs["status"])
	}
	// exec -s: output, and the exit code.
	if out := c.MustCrictl("exec", "-s", cid, "sh", "-c", "echo $GREETING; cat /data/msg"); out != "hi\nfrom-the-host" {
		t.Fatalf("exec -s: %q", out)
	}
	if r := c.Crictl("exec", "-s", cid, "sh", "-c", "exit 7"); r.Code == 0 || !strings.Contains(r.Stderr, "exited with 7") {
		t.Fatalf("exec -s exit 7: %v", r)
	}
	// exec through the streaming server: output, exit code, input, a terminal of the client's size.
	if r := c.Crictl("exec", cid, "sh", "-c", "echo streamed; echo to-err >&2"); r.Code != 0 || r.Stdout != "streamed" || !strings.Contains(r.Stderr, "to-err") {
		t.Fatalf("exec: %v", r)
	}
	if r := c.Crictl("exec", cid, "sh", "-c", "exit 5"); r.Code == 0 || !strings.Contains(r.Stderr, "exit code 5") {
		t.Fatalf("exec exit 5: %v", r)
	}
	in := exec.Command(c.crictl, "--config", "/dev/null", "--runtime-endpoint", "unix://"+c.Sock, "exec", "-i", cid, "cat")
	in.Stdin = strings.NewReader("typed-in\n")
	if out, err := in.Output(); err != nil || string(out) != "typed-in\n" {
		t.Fatalf("exec -i: %q %v", out, err)
	}
	script := fmt.Sprintf("stty rows 33 cols 91; %s --config /dev/null --runtime-endpoint unix://%s exec -it %s sh -c 'tty; stty size'", c.crictl, c.Sock, cid)
	if out, err := exec.Command("script", "-qec", script, "/dev/null").Output(); err != nil || !strings.Contains(string(out), "/dev/pts/0") || !strings.Contains(string(out), "33 91") {
		t.Fatalf("exec -it: %q %v", out, err)
	}
	// The sandbox's statistics: its running container's, and the pod's sums.
	var ps map[string]any
	json.Unmarshal([]byte(c.MustCrictl("statsp", "--id", pod, "-o", "json")), &ps)
	if items, _ := path(ps, "stats").([]any); len(items) != 1 || path(items[0], "attributes", "id") != pod ||
		len(path(items[0], "linux", "containers").([]any)) != 1 || path(items[0], "linux", "memory", "workingSetBytes", "value") == nil {
		t.Fatalf("statsp: %v", ps)
	}
	// PID namespace CONTAINER: the container's process is its own PID 1 (not catatonit's pod).
	if out := c.MustCrictl("exec", "-s", cid, "cat", "/proc/1/cmdline"); !strings.HasPrefix(out, "sleep") {
		t.Fatalf("pid 1 of the container: %q", out)
	}
	// The read-only mount is read-only.
	if r := c.Crictl("exec", "-s", cid, "sh", "-c", "echo x > /data/msg"); r.Code == 0 {
		t.Fatalf("wrote to a read-only mount: %v", r)
	}
	c.MustCrictl("stop", "--timeout", "2", cid)
	c.MustCrictl("stop", cid) // again: not an error
	cs = c.inspectJSON("inspect", cid)
	if path(cs, "status", "state") != "CONTAINER_EXITED" || path(cs, "status", "exitCode") != float64(137) && path(cs, "status", "exitCode") != float64(143) {
		t.Fatalf("inspect after stop: %v", cs["status"])
	}
	c.MustCrictl("rm", cid)
	if out := c.MustCrictl("ps", "-a", "-q"); out != "" {
		t.Fatalf("ps after rm: %q", out)
	}
	c.MustCrictl("stopp", pod)
	if st := c.inspectJSON("inspectp", pod); path(st, "status", "state") != "SANDBOX_NOTREADY" {
		t.Fatalf("inspectp after stopp: %v", path(st, "status", "state"))
	}
	c.MustCrictl("stopp", pod) // again: not an error
	c.MustCrictl("rmp", pod)
	if out := c.MustCrictl("pods", "-q"); out != "" {
		t.Fatalf("pods after rmp: %q", out)
	}
	if out := c.Pea("pod", "ps", "-q"); out != "" {
		t.Fatalf("pea pod ps after rmp: %q", out)
	}
	if out := c.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("pea ps -a after rmp: %q", out)
	}
}

// sameLines reports whether two texts hold the same lines, in any order (crictl logs prints
// stdout and stderr on its own two streams).
func sameLines(a, b string) bool {
	la, lb := strings.Fields(a), strings.Fields(b)
	if len(la) != len(lb) {
		return false
	}
	count := map[string]int{}
	for _, l := range la {
		count[l]++
	}
	for _, l := range lb {
		count[l]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

// A sandbox's port mapping answers on the host; rmp of a running sandbox (with a running
// container) removes it all; pea's own pods are not sandboxes.
func TestCRIPortMappingAndForcedRemoval(t *testing.T) {
	c := newCRIEnv(t)
	c.Pea("pod", "create", "--name", "notcri", "--network", "none")
	port := freeHostPort(t)
	sb := c.writeJSON("sandbox.json", map[string]any{
		"metadata":      map[string]any{"name": "srv", "namespace": "ns1", "uid": "uid-2"},
		"port_mappings": []map[string]any{{"container_port": 80, "host_port": port, "host_ip": "127.0.0.1"}},
	})
	pod := c.MustCrictl("runp", sb)
	if out := c.MustCrictl("pods", "-q"); out != pod {
		t.Fatalf("pods lists %q (pea's own pod is not a sandbox)", out)
	}
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "httpd"},
		"image":    map[string]any{"image": "localhost/bb:latest"},
		"command":  []string{"sh", "-c", fmt.Sprintf(httpdCmd, "cri-page", 80)},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(url)
		if err != nil || body != "cri-page" {
			return fmt.Errorf("GET %s: %q %v", url, body, err)
		}
		return nil
	})
	// port-forward reaches the port inside the sandbox's network namespace.
	local := freeHostPort(t)
	pf := exec.Command(c.crictl, "--config", "/dev/null", "--runtime-endpoint", "unix://"+c.Sock, "port-forward", pod, fmt.Sprintf("%d:80", local))
	var pfOut bytes.Buffer
	pf.Stdout, pf.Stderr = &pfOut, &pfOut
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { pf.Process.Kill(); pf.Wait() }()
	furl := fmt.Sprintf("http://127.0.0.1:%d/", local)
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet(furl)
		if err != nil || body != "cri-page" {
			return fmt.Errorf("GET %s through port-forward: %q %v (%s)", furl, body, err, pfOut.String())
		}
		return nil
	})
	pf.Process.Kill()
	pf.Wait()
	// A second container of the same name and attempt is refused.
	if r := c.Crictl("create", pod, ctr, sb); r.Code == 0 {
		t.Fatalf("a second container of the same name: %v", r)
	}
	c.MustCrictl("rmp", "-f", pod)
	if out := c.Pea("pod", "ps", "--format", "{{.Name}}"); out != "notcri" {
		t.Fatalf("pods after rmp -f: %q", out)
	}
	if _, err := httpGet(url); err == nil {
		t.Fatalf("the port still answers after rmp")
	}
	// Bad input: one clear error, nothing made.
	bad := c.writeJSON("bad.json", map[string]any{"metadata": map[string]any{"name": "x", "namespace": "n", "uid": "u"},
		"port_mappings": []map[string]any{{"container_port": 70000, "host_port": port}}})
	if r := c.Crictl("runp", bad); r.Code == 0 || !strings.Contains(r.Stderr, "InvalidArgument") || !strings.Contains(r.Stderr, "ports are 1-65535") {
		t.Fatalf("runp with a bad port: %v", r)
	}
	if r := c.Crictl("runp", "--runtime", "kata", sb); r.Code == 0 || !strings.Contains(r.Stderr, `runtime handler \"kata\"`) {
		t.Fatalf("runp with an unknown runtime handler: %v", r)
	}
	if out := c.Pea("pod", "ps", "--format", "{{.Name}}"); out != "notcri" {
		t.Fatalf("a bad runp made a pod: %q", out)
	}
}

// A sandbox on the host's network: the container sees the host's interfaces and hostname.
func TestCRIHostNetwork(t *testing.T) {
	c := newCRIEnv(t)
	sb := c.writeJSON("sandbox.json", map[string]any{
		"metadata": map[string]any{"name": "hostnet", "namespace": "kube-system", "uid": "uid-3"},
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}}}, // NODE
	})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sleep", "1000"},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	host, _ := os.Hostname()
	if out := c.MustCrictl("exec", "-s", cid, "hostname"); out != host {
		t.Fatalf("hostname in a host-network sandbox: %q, want %q", out, host)
	}
	// The host's network namespace: the same interfaces as the host's, whatever their names.
	ifaces := func(dev string) []string {
		var names []string
		for _, l := range strings.Split(dev, "\n")[2:] {
			if name, _, ok := strings.Cut(strings.TrimSpace(l), ":"); ok {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	hostDev, _ := os.ReadFile("/proc/net/dev")
	if got, want := ifaces(c.MustCrictl("exec", "-s", cid, "cat", "/proc/net/dev")), ifaces(string(hostDev)); !slices.Equal(got, want) || len(want) < 2 {
		t.Fatalf("interfaces in the sandbox %v, the host's %v", got, want)
	}
	if st := c.inspectJSON("inspectp", pod); path(st, "status", "linux", "namespaces", "options", "network") != "NODE" {
		t.Fatalf("inspectp network mode: %v", path(st, "status", "linux"))
	}
	c.MustCrictl("rmp", "-f", pod)
}

// Images through the image service: pull from a registry on loopback with credentials,
// list, inspect, remove; a pull of what is not there fails.
func TestCRIImages(t *testing.T) {
	c := newCRIEnv(t)
	host := authRegistry(t, false) // takes alice:s3cret
	ref := host + "/cri/bb:1"
	c.Pea("tag", "localhost/bb", ref)
	c.Pea("push", "--tls-verify=false", "--creds", "alice:s3cret", ref)
	c.Pea("rmi", ref)
	c.Pea("rmi", "localhost/bb")
	if out := c.MustCrictl("images", "-q"); out != "" {
		t.Fatalf("images before the pull: %q", out)
	}
	if r := c.Crictl("pull", ref); r.Code == 0 {
		t.Fatalf("pull without credentials: %v", r)
	}
	out := c.MustCrictl("pull", "--creds", "alice:s3cret", ref)
	if !strings.HasPrefix(out, "Image is up to date for sha256:") {
		t.Fatalf("pull: %q", out)
	}
	id := strings.TrimPrefix(out, "Image is up to date for ")
	if got := c.MustCrictl("images", "-q", "--no-trunc"); got != id {
		t.Fatalf("images -q: %q want %q", got, id)
	}
	var img map[string]any
	json.Unmarshal([]byte(c.MustCrictl("inspecti", ref)), &img)
	if tags, _ := path(img, "status", "repoTags").([]any); len(tags) != 1 || tags[0] != ref {
		t.Fatalf("inspecti repoTags: %v", path(img, "status"))
	}
	if r := c.Crictl("inspecti", host+"/cri/nosuch:1"); r.Code == 0 {
		t.Fatalf("inspecti of a missing image: %v", r)
	}
	if r := c.Crictl("pull", "--creds", "alice:s3cret", host+"/cri/nosuch:1"); r.Code == 0 {
		t.Fatalf("pull of a missing image: %v", r)
	}
	var fs map[string]any
	json.Unmarshal([]byte(c.MustCrictl("imagefsinfo")), &fs)
	if used, _ := path(fs, "status", "imageFilesystems").([]any); len(used) != 1 {
		t.Fatalf("imagefsinfo: %v", fs)
	}
	c.MustCrictl("rmi", id)
	if out := c.MustCrictl("images", "-q"); out != "" {
		t.Fatalf("images after rmi: %q", out)
	}
}

// Log rotation as kubelet does it: the log file is moved away and ReopenContainerLog (crictl
// logs --reopen) has conmon write a new one at the path; nothing is lost between the two.
func TestCRIReopenContainerLog(t *testing.T) {
	c := newCRIEnv(t)
	logDir := filepath.Join(c.Dir, "podlogs")
	sb := c.writeJSON("sandbox.json", map[string]any{
		"metadata":      map[string]any{"name": "rot", "namespace": "default", "uid": "uid-4"},
		"log_directory": logDir,
	})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "ticker"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sh", "-c", "i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.05; done"},
		"log_path": "ticker.log",
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	logPath := filepath.Join(logDir, "ticker.log")
	eventually(t, 10*time.Second, func() error {
		b, _ := os.ReadFile(logPath)
		if !strings.Contains(string(b), "tick-3\n") {
			return fmt.Errorf("log: %q", b)
		}
		return nil
	})
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	c.MustCrictl("logs", "--reopen", cid)
	if _, err := os.Stat(logPath); err != nil {
		t.Fatalf("no new log file once the reopen returned: %v", err)
	}
	eventually(t, 10*time.Second, func() error {
		b, _ := os.ReadFile(logPath)
		if strings.Count(string(b), "tick-") < 3 {
			return fmt.Errorf("new log: %q", b)
		}
		return nil
	})
	old, _ := os.ReadFile(logPath + ".1")
	cur, _ := os.ReadFile(logPath)
	// The ticks run on across the two files, none missing.
	var ticks []string
	for _, l := range strings.Split(string(old)+string(cur), "\n") {
		if i := strings.Index(l, "tick-"); i >= 0 {
			ticks = append(ticks, l[i:])
		}
	}
	for i, tk := range ticks {
		if tk != fmt.Sprintf("tick-%d", i+1) {
			t.Fatalf("tick %d is %q: lines lost or reordered across the reopen", i+1, tk)
		}
	}
	c.MustCrictl("rmp", "-f", pod)
}

// A container's security context: its user by name, supplementary groups (which exec keeps),
// masked and read-only paths instead of the defaults, and a group without a user refused.
func TestCRISecurityContext(t *testing.T) {
	c := newCRIEnv(t)
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "sec", "namespace": "default", "uid": "uid-5"}})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sleep", "1000"},
		"linux": map[string]any{"security_context": map[string]any{
			"run_as_username": "bob", "supplemental_groups": []int{1234},
			"masked_paths": []string{"/etc/group"}, "readonly_paths": []string{"/tmp"},
		}},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	if out := c.MustCrictl("exec", "-s", cid, "id", "-G"); out != "1000 50 1234" { // bob is in staff (50)
		t.Fatalf("id -G: %q", out)
	}
	if out := c.MustCrictl("exec", "-s", cid, "cat", "/etc/group"); out != "" {
		t.Fatalf("a masked path reads %q", out)
	}
	if r := c.Crictl("exec", "-s", cid, "touch", "/tmp/x"); r.Code == 0 {
		t.Fatalf("wrote under a read-only path: %v", r)
	}
	// /proc/kcore is masked by default: with a list of its own, it is not.
	if r := c.Crictl("exec", "-s", cid, "sh", "-c", "grep -c kcore /proc/self/mountinfo; true"); r.Stdout != "0" {
		t.Fatalf("the default masks still apply: %v", r)
	}
	bad := c.writeJSON("bad.json", map[string]any{
		"metadata": map[string]any{"name": "bad"},
		"image":    map[string]any{"image": "localhost/bb"},
		"linux":    map[string]any{"security_context": map[string]any{"run_as_group": map[string]any{"value": 5}}},
	})
	if r := c.Crictl("create", pod, bad, sb); r.Code == 0 || !strings.Contains(r.Stderr, "runAsGroup needs runAsUser") {
		t.Fatalf("run_as_group alone: %v", r)
	}
	c.MustCrictl("rmp", "-f", pod)
}

// Kubelet's pod workers call side by side: sandboxes and their containers made, run and
// removed in parallel all work, and leave nothing behind.
func TestCRIParallelSandboxes(t *testing.T) {
	c := newCRIEnv(t)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "c"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sleep", "1000"},
	})
	const n = 4
	errs := make(chan error, n)
	pods := make(chan string, n)
	for i := range n {
		go func() {
			sb := c.writeJSON(fmt.Sprintf("sb%d.json", i), map[string]any{"metadata": map[string]any{"name": fmt.Sprintf("p%d", i), "namespace": "par", "uid": fmt.Sprintf("u%d", i)}})
			run := func(args ...string) (string, error) {
				r := c.Crictl(args...)
				if r.Code != 0 {
					return "", fmt.Errorf("crictl %v: %v", args, r)
				}
				return r.Stdout, nil
			}
			pod, err := run("runp", sb)
			if err == nil {
				pods <- pod
				var cid string
				if cid, err = run("create", pod, ctr, sb); err == nil {
					if _, err = run("start", cid); err == nil {
						var out string
						out, err = run("exec", "-s", cid, "hostname")
						if err == nil && out != fmt.Sprintf("p%d", i) {
							err = fmt.Errorf("sandbox p%d: hostname %q", i, out)
						}
					}
				}
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(pods)
	if out := c.MustCrictl("ps", "-q"); len(strings.Fields(out)) != n {
		t.Errorf("running containers: %q", out)
	}
	done := make(chan Result, n)
	count := 0
	for pod := range pods {
		count++
		go func() { done <- c.Crictl("rmp", "-f", pod) }()
	}
	for range count {
		if r := <-done; r.Code != 0 {
			t.Errorf("rmp -f: %v", r)
		}
	}
	if out := c.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("left after the parallel removals: %q", out)
	}
}

// RemoveImage removes every name of an image, given its ID (kubelet's garbage collection
// removes by ID) or any one of its names; calls side by side on the same image all succeed, as
// a removal another call made first is no error.
func TestCRIRemoveImageEveryName(t *testing.T) {
	c := newCRIEnv(t)
	imageID := func(ref string) string {
		return c.MustCrictl("inspecti", "-o", "go-template", "--template", "{{.status.id}}", ref)
	}
	c.Pea("tag", "localhost/bb", "localhost/bb:two", "localhost/other:1")
	id := imageID("localhost/bb")
	if !strings.HasPrefix(id, "sha256:") || len(id) != 71 {
		t.Fatalf("inspecti id: %q", id)
	}
	c.MustCrictl("rmi", id)
	if out := c.Pea("images", "-q"); out != "" {
		t.Fatalf("images left after rmi by ID: %q", out)
	}
	// By one of its names: the others go too.
	c.withBusybox()
	c.Pea("tag", "localhost/bb", "localhost/bb:two")
	c.MustCrictl("rmi", "localhost/bb:two")
	if out := c.Pea("images", "-q"); out != "" {
		t.Fatalf("images left after rmi by one name: %q", out)
	}
	// Side by side, by ID (crictl looks the image up before it removes it: these are the
	// calls themselves).
	c.withBusybox()
	c.Pea("tag", "localhost/bb", "localhost/bb:two")
	id = imageID("localhost/bb")
	images := runtimeapi.NewImageServiceClient(c.grpcConn())
	const n = 5
	done := make(chan error, n)
	for range n {
		go func() {
			_, err := images.RemoveImage(context.Background(), &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: id}})
			done <- err
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Errorf("RemoveImage side by side: %v", err)
		}
	}
	if out := c.Pea("images", "-q"); out != "" {
		t.Fatalf("images left after the removals side by side: %q", out)
	}
}

// ExecSync past its timeout answers DeadlineExceeded and kills the process it started, at
// once: none is left in the container, running or unreaped.
func TestCRIExecSyncTimeoutKills(t *testing.T) {
	c := newCRIEnv(t)
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "tmo", "namespace": "default", "uid": "uid-tmo"}})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "main"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"top"}, // no sleep of its own
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	const marker = "4327" // sleep's argument, to find its process on the host
	start := time.Now()
	r := c.Crictl("exec", "-s", "--timeout", "1", cid, "sleep", marker)
	if r.Code == 0 || !strings.Contains(r.Stderr, "timed out") {
		t.Fatalf("exec past its timeout: %v", r)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("exec with a timeout of 1s took %v", d)
	}
	// Not in the container, not even dead and unreaped (ps shows a zombie by its name), nor
	// anywhere on the host.
	if out := c.MustCrictl("exec", "-s", cid, "ps", "-o", "pid,stat,comm"); strings.Contains(out, "sleep") {
		t.Fatalf("the timed-out process is still there:\n%s", out)
	}
	if out, err := exec.Command("pgrep", "-f", "^sleep "+marker+"$").Output(); err == nil {
		t.Fatalf("the timed-out process runs on: %s", out)
	}
	c.MustCrictl("rmp", "-f", pod)
}

// Image volumes: a mount that names an image shows it read-only at the path (its root, or its
// image_sub_path), executable; the status names the image; the image is kept from removal
// while the container is there; a writable one, or a sub path the image does not have, is
// refused; nothing stays mounted once the sandbox is gone.
func TestCRIImageVolume(t *testing.T) {
	c := newCRIEnv(t)
	c.Pea("tag", "localhost/bb", "localhost/vol:1")
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "imgvol", "namespace": "default", "uid": "uid-iv"}})
	pod := c.MustCrictl("runp", sb)
	ctrWith := func(name string, mounts ...map[string]any) string {
		return c.writeJSON(name+".json", map[string]any{
			"metadata": map[string]any{"name": name},
			"image":    map[string]any{"image": "localhost/bb"},
			"command":  []string{"sleep", "1000"},
			"mounts":   mounts,
		})
	}
	ctr := ctrWith("main",
		map[string]any{"container_path": "/img", "readonly": true, "image": map[string]any{"image": "localhost/vol:1"}},
		map[string]any{"container_path": "/img-etc", "readonly": true, "image": map[string]any{"image": "localhost/vol:1"}, "image_sub_path": "etc"})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	if out := c.MustCrictl("exec", "-s", cid, "/img/bin/busybox", "cat", "/img-etc/passwd"); !strings.Contains(out, "bob:x:1000") {
		t.Fatalf("the image's /etc/passwd through the sub path, read by its own busybox: %q", out)
	}
	if r := c.Crictl("exec", "-s", cid, "ls", "/img-etc/etc"); r.Code == 0 {
		t.Fatalf("the sub path mounted the image's root: %v", r)
	}
	if r := c.Crictl("exec", "-s", cid, "touch", "/img/x"); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "Read-only") {
		t.Fatalf("wrote into an image volume: %v", r)
	}
	st := c.inspectJSON("inspect", cid)
	var found bool
	for _, m := range path(st, "status", "mounts").([]any) {
		if path(m, "containerPath") == "/img" {
			found = true
			if ref, _ := path(m, "image", "imageRef").(string); !strings.HasPrefix(ref, "sha256:") || path(m, "readonly") != true {
				t.Fatalf("the image volume in the status: %v", m)
			}
		}
	}
	if !found {
		t.Fatalf("no image volume in the status: %v", path(st, "status", "mounts"))
	}
	if r := c.Crictl("rmi", "localhost/vol:1"); r.Code == 0 {
		t.Fatalf("removed the image a container mounts: %v", r)
	}
	if r := c.Crictl("create", pod, ctrWith("rw", map[string]any{"container_path": "/img", "image": map[string]any{"image": "localhost/vol:1"}}), sb); r.Code == 0 || !strings.Contains(r.Stderr, "read-only") {
		t.Fatalf("a writable image volume: %v", r)
	}
	if r := c.Crictl("create", pod, ctrWith("nosub", map[string]any{"container_path": "/img", "readonly": true,
		"image": map[string]any{"image": "localhost/vol:1"}, "image_sub_path": "not-there"}), sb); r.Code == 0 || !strings.Contains(r.Stderr, "not-there") {
		t.Fatalf("a sub path the image does not have: %v", r)
	}
	c.MustCrictl("rmp", "-f", pod)
	if mi, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mi), c.Root) {
		t.Fatalf("mounts of the store left after rmp:\n%s", mi)
	}
	c.MustCrictl("rmi", "localhost/vol:1")
}

// SupplementalGroupsPolicy: Merge (the default) adds the groups the image's /etc/group gives the
// user to the supplemental groups, Strict does not, for the container's process and its execs;
// the status shows the identity the process started with. Status announces the feature.
func TestCRISupplementalGroupsPolicy(t *testing.T) {
	c := newCRIEnv(t)
	var info map[string]any
	json.Unmarshal([]byte(c.MustCrictl("info")), &info)
	if path(info, "features", "supplemental_groups_policy") != true {
		t.Fatalf("info does not announce supplemental_groups_policy: %v", info["features"])
	}
	logDir := filepath.Join(c.Dir, "podlogs")
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "grp", "namespace": "default", "uid": "uid-grp"},
		"log_directory": logDir})
	pod := c.MustCrictl("runp", sb)
	for _, tc := range []struct {
		name, want string
		policy     int
		groups     []any
	}{
		{"merge", "1000 50 1234", 0, []any{"1000", "50", "1234"}}, // bob is in staff (50) in the image
		{"strict", "1000 1234", 1, []any{"1000", "1234"}},
	} {
		ctr := c.writeJSON(tc.name+".json", map[string]any{
			"metadata": map[string]any{"name": tc.name},
			"image":    map[string]any{"image": "localhost/bb"},
			"command":  []string{"sh", "-c", "id -G; exec sleep 1000"},
			"log_path": tc.name + ".log",
			"linux": map[string]any{"security_context": map[string]any{"run_as_user": map[string]any{"value": 1000},
				"supplemental_groups": []int{1234}, "supplemental_groups_policy": tc.policy}},
		})
		cid := c.MustCrictl("create", pod, ctr, sb)
		c.MustCrictl("start", cid)
		eventually(t, 10*time.Second, func() error {
			if out := c.Crictl("logs", cid).Stdout; out != tc.want {
				return fmt.Errorf("%s: the process's groups %q, want %q", tc.name, out, tc.want)
			}
			return nil
		})
		if out := c.MustCrictl("exec", "-s", cid, "id", "-G"); out != tc.want {
			t.Fatalf("%s: an exec's groups %q, want %q", tc.name, out, tc.want)
		}
		user := path(c.inspectJSON("inspect", cid), "status", "user", "linux")
		if path(user, "uid") != "1000" || path(user, "gid") != "1000" || !slices.Equal(path(user, "supplementalGroups").([]any), tc.groups) {
			t.Fatalf("%s: the status's user: %v", tc.name, user)
		}
	}
	c.MustCrictl("rmp", "-f", pod)
}

// A sandbox config without a Linux part asks the CRI's zero values: its containers share the
// pod's PID namespace (the infra container's catatonit is their PID 1), as with POD given.
func TestCRIDefaultPidNamespaceIsPod(t *testing.T) {
	c := newCRIEnv(t)
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "pidns", "namespace": "default", "uid": "uid-pidns"}})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "main"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sleep", "1000"},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	if out := c.MustCrictl("exec", "-s", cid, "cat", "/proc/1/cmdline"); !strings.Contains(out, "catatonit") {
		t.Fatalf("PID 1 of a container of a sandbox without a Linux config: %q", out)
	}
	c.MustCrictl("rmp", "-f", pod)
}

// A recursive read-only mount makes the mounts below the host path read-only too (a plain
// read-only bind leaves them writable); it must be read-only and private. Status announces it.
func TestCRIRecursiveReadOnlyMount(t *testing.T) {
	c := newCRIEnv(t)
	var info map[string]any
	json.Unmarshal([]byte(c.MustCrictl("info")), &info)
	if h, _ := path(info, "runtimeHandlers").([]any); len(h) != 1 || path(h[0], "features", "recursive_read_only_mounts") != true {
		t.Fatalf("info does not announce recursive read-only mounts: %v", info["runtimeHandlers"])
	}
	host := filepath.Join(c.Dir, "rro")
	sub := filepath.Join(host, "sub")
	os.MkdirAll(sub, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "tmpfs", sub).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", sub).Run() })
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "rro", "namespace": "default", "uid": "uid-rro"}})
	pod := c.MustCrictl("runp", sb)
	ctrWith := func(name string, mount map[string]any) string {
		mount["container_path"], mount["host_path"] = "/mnt", host
		return c.writeJSON(name+".json", map[string]any{
			"metadata": map[string]any{"name": name},
			"image":    map[string]any{"image": "localhost/bb"},
			"command":  []string{"sleep", "1000"},
			"mounts":   []map[string]any{mount},
		})
	}
	for _, tc := range []struct {
		name      string
		recursive bool
	}{{"plain", false}, {"recursive", true}} {
		cid := c.MustCrictl("create", pod, ctrWith(tc.name, map[string]any{"readonly": true, "recursive_read_only": tc.recursive}), sb)
		c.MustCrictl("start", cid)
		if r := c.Crictl("exec", "-s", cid, "touch", "/mnt/x"); r.Code == 0 {
			t.Fatalf("%s: wrote to the read-only mount", tc.name)
		}
		r := c.Crictl("exec", "-s", cid, "touch", "/mnt/sub/x")
		if tc.recursive && (r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "Read-only")) || !tc.recursive && r.Code != 0 {
			t.Fatalf("%s: writing below the mount: %v", tc.name, r)
		}
		for _, m := range path(c.inspectJSON("inspect", cid), "status", "mounts").([]any) {
			if path(m, "containerPath") == "/mnt" && (path(m, "recursiveReadOnly") == true) != tc.recursive {
				t.Fatalf("%s: the mount in the status: %v", tc.name, m)
			}
		}
	}
	for name, mount := range map[string]map[string]any{
		"rw":    {"readonly": false, "recursive_read_only": true},
		"slave": {"readonly": true, "recursive_read_only": true, "propagation": 1},
	} {
		if r := c.Crictl("create", pod, ctrWith(name, mount), sb); r.Code == 0 || !strings.Contains(r.Stderr, "recursive read-only") {
			t.Fatalf("%s: a recursive read-only mount refused: %v", name, r)
		}
	}
	c.MustCrictl("rmp", "-f", pod)
}

// A sandbox with a user namespace of its own (POD, with kubelet's one mapping from container
// ID 0): its containers run in it (root inside, the mapped host ID outside); what the CRI does
// not allow is refused. Status announces user namespaces.
func TestCRIUserNamespace(t *testing.T) {
	c := newCRIEnv(t)
	c.withUserNS()
	var info map[string]any
	json.Unmarshal([]byte(c.MustCrictl("info")), &info)
	if h, _ := path(info, "runtimeHandlers").([]any); len(h) != 1 || path(h[0], "features", "user_namespaces") != true {
		t.Fatalf("info does not announce user namespaces: %v", info["runtimeHandlers"])
	}
	userns := func(mode int, maps ...map[string]any) map[string]any {
		return map[string]any{"mode": mode, "uids": maps, "gids": maps}
	}
	sandbox := func(name string, u map[string]any) string {
		return c.writeJSON(name+".json", map[string]any{"metadata": map[string]any{"name": name, "namespace": "default", "uid": "uid-" + name},
			"linux": map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"userns_options": u}}}})
	}
	mapping := map[string]any{"container_id": 0, "host_id": 300000, "length": 65536}
	sb := sandbox("userns", userns(0, mapping)) // POD
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "main"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sleep", "1000"},
		"linux":    map[string]any{"security_context": map[string]any{"namespace_options": map[string]any{"userns_options": userns(0, mapping)}}},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	if out := strings.Fields(c.MustCrictl("exec", "-s", cid, "cat", "/proc/self/uid_map")); !slices.Equal(out, []string{"0", "300000", "65536"}) {
		t.Fatalf("uid_map in the sandbox's user namespace: %q", out)
	}
	if out := c.MustCrictl("exec", "-s", cid, "id", "-u"); out != "0" {
		t.Fatalf("id -u: %q", out)
	}
	var pid string
	for _, l := range strings.Split(c.Pea("ps", "--format", "{{.Pid}} {{.Names}}"), "\n") {
		if p, name, _ := strings.Cut(l, " "); strings.HasPrefix(name, "k8s_main_") {
			pid = p
		}
	}
	if uid, _ := hostIDs(t, pid); uid != "300000" {
		t.Fatalf("the container's root is host uid %s, not the mapped 300000", uid)
	}
	c.MustCrictl("rmp", "-f", pod)
	for name, u := range map[string]map[string]any{
		"twomaps":   userns(0, mapping, map[string]any{"container_id": 65536, "host_id": 500000, "length": 10}),
		"notfrom0":  userns(0, map[string]any{"container_id": 1, "host_id": 300000, "length": 65536}),
		"container": userns(1),
	} {
		if r := c.Crictl("runp", sandbox(name, u)); r.Code == 0 || !strings.Contains(r.Stderr, "user namespace") {
			t.Fatalf("%s: %v", name, r)
		}
	}
	if out := c.Pea("pod", "ps", "-q"); out != "" {
		t.Fatalf("refused sandboxes left pods: %q", out)
	}
}

// The metrics calls: every metric reported is described, with as many label values as its
// descriptor has keys; a running container's come from its cgroup, processes and spec, its
// sandbox's network from the infra container's namespace.
func TestCRIMetrics(t *testing.T) {
	c := newCRIEnv(t)
	var descs struct {
		Descriptors []struct {
			Name      string   `json:"name"`
			Help      string   `json:"help"`
			LabelKeys []string `json:"labelKeys"`
		} `json:"descriptors"`
	}
	if err := json.Unmarshal([]byte(c.MustCrictl("metricdescs")), &descs); err != nil || len(descs.Descriptors) < 40 {
		t.Fatalf("metricdescs: %v %+v", err, descs)
	}
	keys := map[string]int{}
	for _, d := range descs.Descriptors {
		if d.Help == "" || len(d.LabelKeys) == 0 {
			t.Fatalf("descriptor without help or labels: %+v", d)
		}
		keys[d.Name] = len(d.LabelKeys)
	}
	sb := c.writeJSON("sandbox.json", map[string]any{"metadata": map[string]any{"name": "met", "namespace": "mns", "uid": "uid-met"}})
	pod := c.MustCrictl("runp", sb)
	ctr := c.writeJSON("ctr.json", map[string]any{
		"metadata": map[string]any{"name": "main"},
		"image":    map[string]any{"image": "localhost/bb"},
		"command":  []string{"sh", "-c", "sleep 1000 & sleep 1000 & wait"}, // three processes
		"linux": map[string]any{"resources": map[string]any{"memory_limit_in_bytes": 64 << 20, "cpu_period": 100000,
			"cpu_quota": 20000, "cpu_shares": 512}},
	})
	cid := c.MustCrictl("create", pod, ctr, sb)
	c.MustCrictl("start", cid)
	type metric struct {
		Name        string   `json:"name"`
		LabelValues []string `json:"labelValues"`
		Value       struct {
			Value string `json:"value"`
		} `json:"value"`
	}
	var got struct {
		PodMetrics []struct {
			PodSandboxID     string   `json:"podSandboxId"`
			Metrics          []metric `json:"metrics"`
			ContainerMetrics []struct {
				ContainerID string   `json:"containerId"`
				Metrics     []metric `json:"metrics"`
			} `json:"containerMetrics"`
		} `json:"podMetrics"`
	}
	eventually(t, 10*time.Second, func() error {
		got.PodMetrics = nil
		json.Unmarshal([]byte(c.MustCrictl("metricsp")), &got)
		if len(got.PodMetrics) != 1 || len(got.PodMetrics[0].ContainerMetrics) != 1 {
			return fmt.Errorf("metricsp: %+v", got)
		}
		return nil
	})
	pm := got.PodMetrics[0]
	if pm.PodSandboxID != pod || pm.ContainerMetrics[0].ContainerID != cid {
		t.Fatalf("metricsp names %s/%s, not %s/%s", pm.PodSandboxID, pm.ContainerMetrics[0].ContainerID, pod, cid)
	}
	values := map[string]string{}
	for _, m := range append(pm.Metrics, pm.ContainerMetrics[0].Metrics...) {
		n, ok := keys[m.Name]
		if !ok || len(m.LabelValues) != n {
			t.Fatalf("metric %s: %d label values, its descriptor %d keys (described: %v)", m.Name, len(m.LabelValues), n, ok)
		}
		if _, seen := values[m.Name]; !seen {
			values[m.Name] = m.Value.Value
		}
	}
	for name, want := range map[string]string{
		"container_spec_memory_limit_bytes": strconv.Itoa(64 << 20), "container_spec_cpu_quota": "20000",
		"container_spec_cpu_period": "100000", "container_spec_cpu_shares": "512", "container_processes": "3",
	} {
		if values[name] != want {
			t.Errorf("%s = %q, want %s", name, values[name], want)
		}
	}
	for _, name := range []string{"container_memory_usage_bytes", "container_memory_working_set_bytes", "container_threads",
		"container_file_descriptors", "container_start_time_seconds", "container_network_receive_bytes_total", "container_fs_inodes_total"} {
		if n, err := strconv.ParseUint(values[name], 10, 64); err != nil || n == 0 {
			t.Errorf("%s = %q, want a count", name, values[name])
		}
	}
	c.MustCrictl("rmp", "-f", pod)
}

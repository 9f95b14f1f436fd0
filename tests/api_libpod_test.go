package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pea/internal/image/registrytest"
)

// The libpod endpoints (podman's own REST API) driven by the real podman client as a remote
// client: podman --url unix://SOCK. The client needs no daemon and no storage of its own; it
// gets a home, a runtime directory and an empty containers.conf of its own, so the machine's
// podman configuration changes nothing.

// runPodmanIn runs the podman client with stdin (bounded: a client that hangs fails the test).
func (a *APIEnv) runPodmanIn(stdin string, args ...string) Result {
	a.t.Helper()
	a.stdinForPodman = stdin
	defer func() { a.stdinForPodman = "" }()
	return a.podmanRemote(args...)
}

// podmanRemote runs `podman --url unix://SOCK --log-level error ARGS...` against the service.
func (a *APIEnv) podmanRemote(args ...string) Result {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a client that hangs is killed
	defer cancel()
	cmd := a.podmanCommand(ctx, args...)
	if a.stdinForPodman != "" {
		cmd.Stdin = strings.NewReader(a.stdinForPodman)
	}
	return runCmd(cmd)
}

// podmanCommand is the podman client's command against the service, killed when ctx ends: it
// gets a home, a runtime directory and an empty containers.conf of its own.
func (a *APIEnv) podmanCommand(ctx context.Context, args ...string) *exec.Cmd {
	a.t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		a.t.Fatalf("no podman client on PATH (scripts/deps.sh installs Debian's podman): %v", err)
	}
	home := filepath.Join(a.Dir, "podman-home")
	os.MkdirAll(home, 0o700)
	cmd := exec.CommandContext(ctx, bin, append([]string{"--url", "unix://" + a.Sock, "--log-level", "error"}, args...)...)
	env := []string{}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "CONTAINER") || strings.HasPrefix(k, "XDG_") || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "HOME="+home, "XDG_RUNTIME_DIR="+home, "XDG_CONFIG_HOME="+home, "XDG_DATA_HOME="+home,
		"CONTAINERS_CONF=/dev/null", "CONTAINERS_REGISTRIES_CONF=/dev/null")
	return cmd
}

// mustPodman runs the podman client, fails the test unless it exits 0, and returns its
// trimmed stdout.
func (a *APIEnv) mustPodman(args ...string) string {
	a.t.Helper()
	r := a.podmanRemote(args...)
	if r.Code != 0 {
		a.t.Fatalf("podman --remote %s: %s", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout)
}

func TestLibpodSystem(t *testing.T) {
	a := newAPIEnv(t)
	// podman version prints the client's and the server's: the server is pea.
	out := a.mustPodman("version", "--format", "{{.Server.APIVersion}} {{.Server.Version}}")
	if !strings.HasPrefix(out, "4.3.1 ") || out == "4.3.1 4.3.1" {
		t.Fatalf("server version: %q", out)
	}
	out = a.mustPodman("info", "--format", "{{.Store.GraphRoot}} {{.Store.ImageStore.Number}} {{.Host.OCIRuntime.Name}}")
	if out != a.Root+" 1 crun" {
		t.Fatalf("info: %q, want %q", out, a.Root+" 1 crun")
	}
	// The versioned and the unversioned paths, with podman's headers.
	for _, p := range []string{"/v4.3.1/libpod/_ping", "/libpod/_ping"} {
		resp, err := a.client.Get("http://pea" + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Libpod-API-Version") != "4.3.1" || resp.Header.Get("Libpod-Buildah-Version") == "" {
			t.Fatalf("%s: %d %v", p, resp.StatusCode, resp.Header)
		}
	}
	// An endpoint pea lacks: 501 in podman's error shape, which the client prints as one line.
	code, body := a.Request("POST", "/v4.3.1/libpod/containers/x/checkpoint", nil)
	var e struct {
		Cause    string `json:"cause"`
		Message  string `json:"message"`
		Response int    `json:"response"`
	}
	if err := json.Unmarshal(body, &e); code != 501 || err != nil || e.Response != 501 || e.Cause == "" || !strings.Contains(e.Message, "not implemented") {
		t.Fatalf("unimplemented endpoint: %d %s", code, body)
	}
	a.Pea("run", "-d", "--name", "g", "--health-cmd", "test -e /ok", "--health-retries", "1", "localhost/bb", "sleep", "300")
	r := a.podmanRemote("container", "checkpoint", "g")
	if r.Code != 125 || !strings.Contains(r.Stderr, "not implemented") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("podman container checkpoint: %s", r)
	}
	// podman healthcheck run: the check's verdict as the client prints it.
	if r := a.podmanRemote("healthcheck", "run", "g"); r.Code != 1 || strings.TrimSpace(r.Stdout) != "unhealthy" {
		t.Fatalf("podman healthcheck run of a failing check: %s", r)
	}
	a.Pea("exec", "g", "touch", "/ok")
	if r := a.podmanRemote("healthcheck", "run", "g"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "" {
		t.Fatalf("podman healthcheck run of a passing check: %s", r)
	}
	if out := a.Pea("inspect", "-f", "{{.State.Health.Status}}", "g"); out != "healthy" {
		t.Fatalf("health after the remote checks: %q", out)
	}
	// Docker's API is still served beside it.
	if out := a.MustDocker("version", "--format", "{{.Server.APIVersion}}"); out != "1.41" {
		t.Fatalf("docker API version %q", out)
	}
}

func TestLibpodContainers(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("create", "--name", "k1", "-l", "tier=db", "localhost/bb", "sleep", "100")
	a.Pea("run", "-d", "--name", "k2", "localhost/bb", "sh", "-c", "echo out; echo err >&2; sleep 100")

	// ps lists what pea made, with podman's fields.
	out := a.mustPodman("ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Labels}} {{.Image}}")
	if !strings.Contains(out, "k1 Created map[tier:db] localhost/bb:latest") || !strings.Contains(out, "k2 Up ") {
		t.Fatalf("ps -a:\n%s", out)
	}
	if out := a.mustPodman("ps", "--format", "{{.Names}}"); out != "k2" {
		t.Fatalf("ps (running only): %q", out)
	}
	if out := a.mustPodman("ps", "-a", "--filter", "label=tier=db", "--format", "{{.Names}}"); out != "k1" {
		t.Fatalf("ps --filter label: %q", out)
	}
	// inspect is pea inspect's view.
	want := a.Pea("inspect", "k1", "--format", "{{.ID}} {{.State.Status}} {{.Config.Labels}} {{.ImageName}}")
	if out := a.mustPodman("inspect", "k1", "--format", "{{.ID}} {{.State.Status}} {{.Config.Labels}} {{.ImageName}}"); out != want {
		t.Fatalf("inspect: %q, pea inspect: %q", out, want)
	}
	a.mustPodman("container", "exists", "k1")
	if r := a.podmanRemote("container", "exists", "nope"); r.Code != 1 {
		t.Fatalf("exists nope: %s", r)
	}
	r := a.podmanRemote("inspect", "--type", "container", "nope")
	if r.Code != 125 || !strings.Contains(r.Stderr, "no such container") {
		t.Fatalf("inspect nope: %s", r)
	}

	a.mustPodman("start", "k1")
	if st := a.Pea("inspect", "k1", "--format", "{{.State.Status}}"); st != "running" {
		t.Fatalf("after podman start: %s", st)
	}
	eventually(t, 10*time.Second, func() error {
		r := a.podmanRemote("logs", "k2")
		if r.Stdout != "out\n" || r.Stderr != "err\n" {
			return &resultErr{r}
		}
		return nil
	})
	if out := a.mustPodman("top", "k1"); !strings.Contains(out, "sleep 100") {
		t.Fatalf("top:\n%s", out)
	}
	a.mustPodman("pause", "k2")
	if st := a.Pea("inspect", "k2", "--format", "{{.State.Status}}"); st != "paused" {
		t.Fatalf("after podman pause: %s", st)
	}
	a.mustPodman("unpause", "k2")
	a.mustPodman("stop", "-t", "0", "k1")
	if st := a.Pea("inspect", "k1", "--format", "{{.State.Status}}"); st != "exited" {
		t.Fatalf("after podman stop: %s", st)
	}
	a.mustPodman("kill", "k2")
	if out := a.mustPodman("wait", "k2"); out != "137" {
		t.Fatalf("wait after kill: %q", out)
	}
	a.mustPodman("restart", "k2")
	if st := a.Pea("inspect", "k2", "--format", "{{.State.Status}}"); st != "running" {
		t.Fatalf("after podman restart: %s", st)
	}
	// prune removes the stopped k1; rm -f the running k2.
	k1 := a.Pea("inspect", "k1", "--format", "{{.ID}}")
	if out := a.mustPodman("container", "prune", "-f"); out != k1 {
		t.Fatalf("prune: %q", out)
	}
	if r := a.Try("container", "exists", "k1"); r.Code != 1 {
		t.Fatalf("k1 after prune: %s", r)
	}
	if out := a.mustPodman("rm", "-f", "k2"); out != "k2" {
		t.Fatalf("rm -f: %q", out)
	}
	if out := a.Pea("ps", "-aq"); out != "" {
		t.Fatalf("left after podman rm -f: %q", out)
	}
	if r := a.podmanRemote("rm", "nope"); r.Code == 0 || !strings.Contains(r.Stderr, "no such container") {
		t.Fatalf("rm nope: %s", r)
	}
}

// resultErr carries a client's result as an error for eventually.
type resultErr struct{ r Result }

func (e *resultErr) Error() string { return e.r.String() }

func TestLibpodCreateRun(t *testing.T) {
	a := newAPIEnv(t)
	id := a.mustPodman("create", "--name", "k1", "-e", "FOO=bar", "-l", "z=1", "localhost/bb", "sh", "-c", "echo $FOO")
	if got := a.Pea("inspect", "k1", "--format", "{{.ID}} {{.Config.Labels}}"); got != id+" map[z:1]" {
		t.Fatalf("pea inspect of podman's create: %q (id %s)", got, id)
	}
	a.mustPodman("start", "k1")
	if out := a.mustPodman("wait", "k1"); out != "0" {
		t.Fatalf("wait: %q", out)
	}
	if out := a.mustPodman("logs", "k1"); out != "bar" {
		t.Fatalf("logs: %q", out)
	}
	// run -d with a published port, a named volume, and a short image name.
	a.mustPodman("run", "-d", "--name", "k2", "-p", "127.0.0.1:18391:80", "-v", "kvol:/data", "bb", "sleep", "100")
	if out := a.Pea("ps", "--format", "{{.Names}} {{.Ports}} {{.Status}}"); !strings.HasPrefix(out, "k2 127.0.0.1:18391->80/tcp Up") {
		t.Fatalf("pea ps after podman run -d: %q", out)
	}
	if out := a.Pea("volume", "ls", "-q"); out != "kvol" {
		t.Fatalf("volumes: %q", out)
	}
	a.mustPodman("run", "-d", "--name", "k3", "--network", "none", "bb", "sleep", "100")
	if out := a.Pea("inspect", "k3", "--format", "{{.HostConfig.NetworkMode}}"); out != "none" {
		t.Fatalf("--network none: %q", out)
	}
	// A member of a pod made with podman.
	a.mustPodman("pod", "create", "--name", "kp")
	a.mustPodman("run", "-d", "--pod", "kp", "--name", "k4", "bb", "sleep", "100")
	if out := a.Pea("ps", "--pod", "--filter", "name=k4", "--format", "{{.Names}} {{.PodName}}"); out != "k4 kp" {
		t.Fatalf("pod member: %q", out)
	}
	// exec (its exit code, stdin), attached run with --rm (the exit code after the removal), run -i.
	r0 := a.podmanRemote("exec", "k2", "sh", "-c", "echo hello; echo oops >&2; exit 3")
	if r0.Code != 3 || r0.Stdout != "hello\n" || r0.Stderr != "oops\n" {
		t.Fatalf("exec: %s", r0)
	}
	if r := a.runPodmanIn("in put\n", "exec", "-i", "k2", "cat"); r.Code != 0 || r.Stdout != "in put\n" {
		t.Fatalf("exec -i: %s", r)
	}
	if r := a.podmanRemote("run", "--rm", "bb", "sh", "-c", "echo ran; exit 5"); r.Code != 5 || r.Stdout != "ran\n" {
		t.Fatalf("run --rm: %s", r)
	}
	if r := a.runPodmanIn("piped\n", "run", "--rm", "-i", "bb", "cat"); r.Code != 0 || r.Stdout != "piped\n" {
		t.Fatalf("run --rm -i: %s", r)
	}
	if out := a.Pea("ps", "-a", "--format", "{{.Names}}", "--sort", "names"); !strings.HasSuffix(out, "-infra\nk1\nk2\nk3\nk4") {
		t.Fatalf("containers after the --rm runs: %q", out)
	}
	// diff, cp out of a container, export, commit, save, network connect.
	a.Pea("exec", "k2", "sh", "-c", "echo made > /made")
	if out := a.mustPodman("diff", "k2"); !strings.Contains(out, "A /made") {
		t.Fatalf("diff: %q", out)
	}
	dst := filepath.Join(a.Dir, "made")
	a.mustPodman("cp", "k2:/made", dst)
	if b, err := os.ReadFile(dst); err != nil || string(b) != "made\n" {
		t.Fatalf("cp out: %q %v", b, err)
	}
	a.mustPodman("cp", dst, "k2:/tmp/x") // more in TestLibpodCp
	if out := a.Pea("exec", "k2", "cat", "/tmp/x"); out != "made" {
		t.Fatalf("cp in: %q", out)
	}
	a.mustPodman("export", "-o", filepath.Join(a.Dir, "k2.tar"), "k2")
	if out := a.peaTarList(filepath.Join(a.Dir, "k2.tar")); !strings.Contains(out, "made") {
		t.Fatalf("export: %q", out)
	}
	a.mustPodman("commit", "k2", "localhost/k2img:1")
	if out := a.Pea("run", "--rm", "localhost/k2img:1", "cat", "/made"); out != "made" {
		t.Fatalf("committed image: %q", out)
	}
	a.mustPodman("save", "-o", filepath.Join(a.Dir, "img.tar"), "localhost/k2img:1")
	a.Pea("rmi", "localhost/k2img:1")
	a.Pea("load", "-i", filepath.Join(a.Dir, "img.tar"))
	a.Pea("image", "exists", "localhost/k2img:1")
	a.Pea("network", "create", "--subnet", "10.89.78.0/24", "kn")
	a.mustPodman("network", "connect", "kn", "k2")
	if out := a.Pea("inspect", "k2", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"); !strings.Contains(out, "kn") {
		t.Fatalf("after network connect: %q", out)
	}
	a.mustPodman("network", "disconnect", "kn", "k2")

	// An image that is not there and no registry to pull it from: one error, nothing made.
	r := a.podmanRemote("create", "--name", "k5", "localhost/nope:1")
	if r.Code != 125 || a.Try("container", "exists", "k5").Code != 1 {
		t.Fatalf("create of a missing image: %s", r)
	}
	a.mustPodman("pod", "rm", "-f", "kp")
	a.mustPodman("rm", "-f", "k1", "k2", "k3")
	a.Pea("network", "rm", "kn")
	if out := a.Pea("ps", "-aq"); out != "" {
		t.Fatalf("left: %q", out)
	}
}

func TestLibpodImages(t *testing.T) {
	a := newAPIEnv(t)
	id := a.Pea("images", "--no-trunc", "-q")
	id = strings.TrimPrefix(id, "sha256:")
	if out := a.mustPodman("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"); out != "localhost/bb:latest "+id[:12] {
		t.Fatalf("images: %q", out)
	}
	a.mustPodman("image", "exists", "localhost/bb")
	if r := a.podmanRemote("image", "exists", "nope"); r.Code != 1 {
		t.Fatalf("image exists nope: %s", r)
	}
	a.mustPodman("tag", "localhost/bb", "localhost/other:2")
	if out := a.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, "localhost/other:2") {
		t.Fatalf("pea images after podman tag: %q", out)
	}
	format := "{{.ID}} {{.RepoTags}} {{.Config.Cmd}} {{.RootFS.Layers}} {{.Os}}"
	if out, want := a.mustPodman("image", "inspect", "localhost/other:2", "--format", format), a.Pea("image", "inspect", "localhost/other:2", "--format", format); out != want || !strings.HasPrefix(out, id+" ") {
		t.Fatalf("image inspect: %q, pea image inspect: %q", out, want)
	}
	// The names an image has had (regression: libpod's History listed its names of now), and a
	// build's intermediate images only with -a (regression: always listed).
	if out := a.mustPodman("images", "--history", "--format", "{{.History}}", "localhost/other:2"); !strings.Contains(out, "localhost/other:2") || !strings.Contains(out, "localhost/bb:latest") {
		t.Fatalf("images --history: %q", out)
	}
	if out := a.mustPodman("rmi", "localhost/other:2"); out != "Untagged: localhost/other:2" {
		t.Fatalf("rmi: %q", out)
	}
	if out := a.mustPodman("images", "--history", "--format", "{{.History}}"); !strings.Contains(out, "localhost/other:2") {
		t.Fatalf("images --history after the tag went: %q", out)
	}
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN touch /a\nRUN touch /b\n"), 0o644)
	a.Pea("build", "-q", "-t", "localhost/layered", ctx)
	if all, plain := len(strings.Fields(a.mustPodman("images", "-a", "-q"))), len(strings.Fields(a.mustPodman("images", "-q"))); all != plain+1 || plain != 2 {
		t.Fatalf("images -a: %d, images: %d (want the intermediate image with -a only)", all, plain)
	}
	if r := a.podmanRemote("rmi", "nope"); r.Code != 1 || !strings.Contains(r.Stderr, "nope") {
		t.Fatalf("rmi nope: %s", r)
	}

	// pull from a registry on loopback (plain HTTP there, as Docker's), with podman's stream.
	reg := registrytest.New()
	srv := httptest.NewServer(http.HandlerFunc(reg.ServeHTTP))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/lib/bb:1"
	a.Pea("push", "--tls-verify=false", "localhost/bb", ref)
	r := a.podmanRemote("pull", ref)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != id || !strings.Contains(r.Stderr, "Copying") {
		t.Fatalf("pull: %s", r)
	}
	if out := a.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, ref) {
		t.Fatalf("pea images after podman pull: %q", out)
	}
	if r := a.podmanRemote("pull", strings.TrimPrefix(srv.URL, "http://")+"/lib/nope:1"); r.Code != 125 {
		t.Fatalf("pull of an unknown image: %s", r)
	}
	// prune -a removes the unused image.
	a.mustPodman("image", "prune", "-af")
	if out := a.Pea("images", "-q"); out != "" {
		t.Fatalf("images after prune -a: %q", out)
	}
}

func TestLibpodPods(t *testing.T) {
	a := newAPIEnv(t)
	id := a.mustPodman("pod", "create", "--name", "p1", "-l", "app=web", "-p", "127.0.0.1:18392:80")
	if out := a.Pea("pod", "ps", "--format", "{{.ID}} {{.Name}} {{.Status}} {{.Labels}}", "--no-trunc"); out != id+" p1 Created map[app:web]" {
		t.Fatalf("pea pod ps after podman pod create: %q", out)
	}
	a.Pea("create", "--pod", "p1", "--name", "m1", "localhost/bb", "sleep", "100")
	a.mustPodman("pod", "start", "p1")
	if out := a.Pea("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}}"); out != "p1 Running 2" {
		t.Fatalf("pea pod ps after podman pod start: %q", out)
	}
	if out := a.mustPodman("pod", "ps", "--format", "{{.Name}} {{.Status}} {{.NumberOfContainers}} {{.Labels}}"); out != "p1 Running 2 map[app:web]" {
		t.Fatalf("pod ps: %q", out)
	}
	want := a.Pea("pod", "inspect", "p1", "--format", "{{.ID}} {{.State}} {{.InfraConfig.PortBindings}} {{.NumContainers}}")
	if out := a.mustPodman("pod", "inspect", "p1", "--format", "{{.ID}} {{.State}} {{.InfraConfig.PortBindings}} {{.NumContainers}}"); out != want {
		t.Fatalf("pod inspect: %q, pea: %q", out, want)
	}
	a.mustPodman("pod", "exists", "p1")
	if r := a.podmanRemote("pod", "exists", "nope"); r.Code != 1 {
		t.Fatalf("pod exists nope: %s", r)
	}
	if out := a.mustPodman("pod", "top", "p1"); !strings.Contains(out, "sleep 100") || !strings.Contains(out, "catatonit") {
		t.Fatalf("pod top:\n%s", out)
	}
	if out := a.mustPodman("pod", "stats", "--no-stream", "--format", "{{.Name}}", "p1"); !strings.Contains(out, "m1") {
		t.Fatalf("pod stats: %q", out)
	}
	a.mustPodman("pod", "stop", "-t", "0", "p1")
	if out := a.Pea("pod", "ps", "--format", "{{.Status}}"); out != "Exited" {
		t.Fatalf("after pod stop: %q", out)
	}
	a.mustPodman("pod", "restart", "p1")
	a.mustPodman("pod", "kill", "p1")
	// A kill sends the signal and returns, as podman's: the exit is recorded once it happened.
	eventually(t, 10*time.Second, func() error {
		if out := a.Pea("inspect", "m1", "--format", "{{.State.Status}}"); out != "exited" {
			return fmt.Errorf("after pod kill: %q", out)
		}
		return nil
	})
	if out := a.mustPodman("pod", "prune", "-f"); out != id {
		t.Fatalf("pod prune: %q", out)
	}
	a.mustPodman("pod", "create", "--name", "p2")
	a.mustPodman("pod", "start", "p2")
	a.mustPodman("pod", "rm", "-f", "p2")
	if out := a.Pea("ps", "-aq"); out != "" || a.Pea("pod", "ps", "-q") != "" {
		t.Fatalf("left after pod rm -f: %q", out)
	}
	if r := a.podmanRemote("pod", "start", "nope"); r.Code != 125 || !strings.Contains(r.Stderr, "no such pod") {
		t.Fatalf("pod start nope: %s", r)
	}
}

func TestLibpodVolumesNetworks(t *testing.T) {
	a := newAPIEnv(t)
	if out := a.mustPodman("volume", "create", "-l", "k=v", "v1"); out != "v1" {
		t.Fatalf("volume create: %q", out)
	}
	if out := a.Pea("volume", "inspect", "v1", "--format", "{{.Name}} {{.Labels}}"); out != "v1 map[k:v]" {
		t.Fatalf("pea volume inspect: %q", out)
	}
	if out := a.mustPodman("volume", "ls", "--format", "{{.Name}} {{.Driver}}"); out != "v1 local" {
		t.Fatalf("volume ls: %q", out)
	}
	if out := a.mustPodman("volume", "inspect", "v1", "--format", "{{.Mountpoint}}"); out != a.Pea("volume", "inspect", "v1", "--format", "{{.Mountpoint}}") {
		t.Fatalf("volume inspect: %q", out)
	}
	a.mustPodman("volume", "exists", "v1")
	// podman's inspect fields of a volume with mount options, held by a running container.
	a.mustPodman("volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "tv")
	a.Pea("run", "-d", "--network", "none", "-v", "tv:/t", "localhost/bb", "sleep", "300")
	if out := a.mustPodman("volume", "inspect", "tv", "--format", "{{.MountCount}} {{.NeedsCopyUp}} {{.Options.type}}"); out != "1 true tmpfs" { // nothing at /t in the image: still to copy, as podman
		t.Fatalf("volume inspect of a mounted tmpfs volume: %q", out)
	}
	if r := a.podmanRemote("volume", "exists", "nope"); r.Code != 1 {
		t.Fatalf("volume exists nope: %s", r)
	}
	a.mustPodman("volume", "rm", "v1")
	a.mustPodman("volume", "create", "v2")
	if out := a.mustPodman("volume", "prune", "-f"); out != "v2" {
		t.Fatalf("volume prune: %q", out)
	}

	if out := a.mustPodman("network", "create", "--subnet", "10.89.77.0/24", "n1"); out != "n1" {
		t.Fatalf("network create: %q", out)
	}
	if out := a.Pea("network", "inspect", "n1", "--format", "{{range .Subnets}}{{.Subnet}}{{end}}"); out != "10.89.77.0/24" {
		t.Fatalf("pea network inspect: %q", out)
	}
	if out := a.mustPodman("network", "ls", "--format", "{{.Name}}"); !strings.Contains(out, "n1") {
		t.Fatalf("network ls: %q", out)
	}
	if out := a.mustPodman("network", "inspect", "n1", "--format", "{{.Name}} {{.Driver}}"); out != "n1 bridge" {
		t.Fatalf("network inspect: %q", out)
	}
	a.mustPodman("network", "exists", "n1")
	a.mustPodman("network", "rm", "n1")
	if r := a.podmanRemote("network", "exists", "n1"); r.Code != 1 {
		t.Fatalf("network exists after rm: %s", r)
	}
}

// peaTarList lists a tar file's entries.
func (a *APIEnv) peaTarList(file string) string {
	a.t.Helper()
	out, err := exec.Command("tar", "-tf", file).CombinedOutput()
	if err != nil {
		a.t.Fatalf("tar -tf %s: %v: %s", file, err, out)
	}
	return string(out)
}

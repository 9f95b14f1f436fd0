package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The docker client's everyday commands that a sweep against pea's service found wrong, each
// driven with the real client.

// docker ps --filter: names are regular expressions, ancestor takes the short name an image
// is run by, before and since name containers, bridge is the default network, publish and
// expose take container ports, is-task=false is every container; an unknown key or status is
// refused (Docker's 400) instead of listing nothing; -s adds the image to the size (virtual).
func TestAPIDockerPsFilters(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("tag", "localhost/bb", "bb")
	port := strconv.Itoa(freeHostPort(t))
	a.MustDocker("run", "-d", "--name", "web", "-p", "127.0.0.1:"+port+":80", "--label", "app=x", "localhost/bb", "sleep", "1000")
	a.MustDocker("create", "--name", "k1", "bb", "true")
	a.MustDocker("create", "--name", "k2", "--network", "none", "bb", "true")
	ps := func(filter string) string {
		t.Helper()
		return strings.Join(strings.Fields(a.MustDocker("ps", "-a", "--filter", filter, "--format", "{{.Names}}")), " ")
	}
	for filter, want := range map[string]string{
		"name=^k":            "k2 k1",
		"name=^/web$":        "web",
		"name=eb":            "web",
		"ancestor=bb":        "k2 k1 web",
		"ancestor=bb:latest": "k2 k1 web",
		"before=k2":          "k1 web",
		"since=web":          "k2 k1",
		"network=bridge":     "k1 web",
		"network=none":       "k2",
		"publish=80":         "web",
		"publish=80/udp":     "",
		"publish=79-81/tcp":  "web",
		"publish=" + port:    "", // a host port: Docker's publish is the container's
		"expose=80":          "web",
		"is-task=false":      "k2 k1 web",
		"is-task=true":       "",
		"label=app=x":        "web",
	} {
		if got := ps(filter); got != want {
			t.Errorf("ps --filter %s: %q, want %q", filter, got, want)
		}
	}
	for _, bad := range []string{"foo=bar", "status=bogus", "health=sick", "publish=1:2", "before=nosuch"} {
		if r := a.Docker("ps", "-a", "--filter", bad); r.Code == 0 {
			t.Errorf("ps --filter %s: %s, want a refusal", bad, r)
		}
	}
	a.MustDocker("exec", "web", "sh", "-c", "echo 1234 > /written")
	if got := a.MustDocker("ps", "-s", "--format", "{{.Size}}"); !strings.HasPrefix(got, "5B (virtual ") || strings.HasPrefix(got, "5B (virtual 5B") {
		t.Errorf("ps -s: %q, want the container's 5 bytes and the image's size", got)
	}
}

// docker system prune and docker builder prune ask POST /build/prune last: it answered 404 and
// failed both after the rest had been pruned.
func TestAPIDockerSystemPrune(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("create", "--name", "k1", "localhost/bb", "true")
	out := a.MustDocker("system", "prune", "-f")
	if !strings.Contains(out, "Deleted Containers:") || !strings.Contains(out, "Total reclaimed space") {
		t.Fatalf("docker system prune: %q", out)
	}
	if got := a.Pea("ps", "-aq"); got != "" {
		t.Fatalf("after system prune: %q", got)
	}
	a.MustDocker("builder", "prune", "-f")
}

// docker build's COPY of a directory (the context: COPY . /app) makes the destination a new
// directory 0755, not the copy of the context's own directory: the service unpacks the context
// into a fresh 0700 temporary directory, so a later USER could not read /app and, its time new
// on every build, the COPY never came from the cache. image prune keeps the steps of a named
// image (its cache); rmi takes them with the image, instead of leaving them as <none> images.
func TestAPIDockerBuildCopyDir(t *testing.T) {
	a := newAPIEnv(t)
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{
		"app.txt":    "app\n",
		"sub/in.txt": "in\n",
		"Dockerfile": "FROM localhost/bb\nCOPY . /app/\nCOPY sub /sub\nRUN echo ran > /ran\nUSER 1000\nCMD [\"sh\", \"-c\", \"cat /app/app.txt /sub/in.txt; stat -c %a /app /sub\"]\n",
	})
	os.Chmod(filepath.Join(ctx, "sub"), 0o700)
	a.MustDocker("build", "-t", "localhost/cp:1", ctx)
	if got := a.MustDocker("run", "--rm", "--network", "none", "localhost/cp:1"); got != "app\nin\n755\n755" {
		t.Fatalf("the copied directories as USER 1000: %q", got)
	}
	// system df counts the images the list shows, not the build's steps.
	if got := a.MustDocker("system", "df", "--format", "{{.Type}} {{.TotalCount}}"); !strings.Contains(got, "Images 2\n") {
		t.Fatalf("system df: %q, want 2 images (bb, cp:1)", got)
	}
	out := a.MustDocker("build", "-t", "localhost/cp:1", ctx)
	if strings.Count(out, "Using cache") != 5 { // every step after FROM is an image of its own
		t.Fatalf("the same build again, every step from the cache: %q", out)
	}
	steps := len(strings.Fields(a.MustDocker("images", "-aq")))
	a.MustDocker("image", "prune", "-f")
	if got := len(strings.Fields(a.MustDocker("images", "-aq"))); got != steps {
		t.Fatalf("image prune removed a named image's steps: %d images, %d before", got, steps)
	}
	out = a.MustDocker("rmi", "localhost/cp:1")
	if strings.Count(out, "Deleted: ") != 5 {
		t.Fatalf("docker rmi: %q, want the image and its four steps (COPY, COPY, RUN, USER) deleted", out)
	}
	if got := a.MustDocker("images", "-aq"); len(strings.Fields(got)) != 1 {
		t.Fatalf("images -a after rmi: %q (bb alone)", got)
	}
}

// A container Docker's API creates has Docker's default capabilities (NET_RAW: ping works);
// podman's client, through the libpod endpoint, still gets podman's.
func TestAPIDockerDefaultCaps(t *testing.T) {
	a := newAPIEnv(t)
	if c := capBits(t, a.MustDocker("run", "--rm", "localhost/bb", "grep", "CapEff", "/proc/self/status")); c != 0xa80425fb {
		t.Errorf("CapEff %x, want Docker's a80425fb", c)
	}
	if out := a.MustDocker("run", "--rm", "localhost/bb", "ping", "-c", "1", "-W", "2", "127.0.0.1"); !strings.Contains(out, "1 packets received") {
		t.Errorf("ping in docker run: %q", out)
	}
	if c := capBits(t, a.MustDocker("run", "--rm", "--cap-drop", "NET_RAW", "localhost/bb", "grep", "CapEff", "/proc/self/status")); c != 0xa80405fb {
		t.Errorf("--cap-drop NET_RAW: CapEff %x", c)
	}
	if got := a.MustDocker("inspect", "-f", "{{json .HostConfig.CapAdd}}", a.MustDocker("create", "localhost/bb")); got != "null" && got != "[]" {
		t.Errorf("HostConfig.CapAdd shows the defaults: %s", got)
	}
	if c := capBits(t, a.mustPodman("run", "--rm", "localhost/bb", "grep", "CapEff", "/proc/self/status")); c != 0x800405fb {
		t.Errorf("podman --remote run: CapEff %x, want podman's 800405fb", c)
	}
	if c := capBits(t, a.Pea("run", "--rm", "localhost/bb", "grep", "CapEff", "/proc/self/status")); c != 0x800405fb {
		t.Errorf("pea run: CapEff %x, want podman's 800405fb", c)
	}
}

// docker images REPO (and --filter reference=) lists the matching names only: the image's
// other repositories came as <none> rows of their digests. Removed and loaded names are
// Docker's familiar ones.
func TestAPIDockerImagesReference(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("tag", "localhost/bb", "bb:t2")
	a.MustDocker("tag", "localhost/bb", "example.com/foo/bar:1")
	got := a.MustDocker("images", "--format", "{{.Repository}}:{{.Tag}}", "bb")
	if strings.Contains(got, "example.com") || !strings.Contains(got, "bb:t2") {
		t.Fatalf("docker images bb: %q", got)
	}
	if got := a.MustDocker("images", "--format", "{{.Repository}}:{{.Tag}}", "--filter", "reference=example.com/*/*"); got != "example.com/foo/bar:1" {
		t.Fatalf("docker images --filter reference: %q", got)
	}
	if got := a.MustDocker("images", "--digests", "--format", "{{.Repository}} {{.Digest}}", "example.com/foo/bar"); strings.Count(got, "\n") != 0 {
		t.Fatalf("docker images --digests of one repository: %q", got)
	}
	if got := a.MustDocker("rmi", "bb:t2"); got != "Untagged: bb:t2" {
		t.Fatalf("docker rmi: %q", got)
	}
}

// docker top with ps's options (aux, -o pid,comm) runs the host's ps for the container's
// processes, as Docker's daemon does; podman's descriptors still work.
func TestAPIDockerTopPsArgs(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "k1", "localhost/bb", "sleep", "1000")
	hostPID := a.MustDocker("inspect", "-f", "{{.State.Pid}}", "k1")
	out := a.MustDocker("top", "k1", "-o", "pid,comm")
	if lines := strings.Split(out, "\n"); len(lines) != 2 || strings.Join(strings.Fields(lines[0]), " ") != "PID COMMAND" || strings.Join(strings.Fields(lines[1]), " ") != hostPID+" sleep" {
		t.Fatalf("docker top -o pid,comm: %q (host PID %s)", out, hostPID)
	}
	if out := a.MustDocker("top", "k1", "aux"); !strings.Contains(out, "STAT") || !strings.Contains(out, "sleep 1000") || strings.Count(out, "\n") != 1 {
		t.Fatalf("docker top aux: %q", out)
	}
	if out := a.MustDocker("top", "k1", "pid", "args"); !strings.Contains(out, "sleep 1000") {
		t.Fatalf("docker top with podman's descriptors: %q", out)
	}
	if r := a.Docker("top", "k1", "-o", "comm"); r.Code == 0 || !strings.Contains(r.Stderr, "PID") {
		t.Fatalf("docker top without a PID column: %s", r)
	}
}

// docker cp CTR:LINK copies the link, -L what it leads to, LINK/ the directory it leads to.
func TestAPIDockerCpLink(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "k1", "localhost/bb", "sh", "-c",
		"mkdir /d && echo a > /d/a.txt && ln -s a.txt /d/link && ln -s /d /dlink && sleep 1000")
	eventually(t, 5*time.Second, func() error {
		if r := a.Docker("exec", "k1", "test", "-L", "/dlink"); r.Code != 0 {
			return fmt.Errorf("the container's links are not made yet: %s", r)
		}
		return nil
	})
	out := filepath.Join(a.Dir, "out")
	os.MkdirAll(out, 0o755)
	a.MustDocker("cp", "k1:/d/link", filepath.Join(out, "link"))
	if target, err := os.Readlink(filepath.Join(out, "link")); err != nil || target != "a.txt" {
		t.Fatalf("docker cp of a link: %q %v, want the link to a.txt", target, err)
	}
	a.MustDocker("cp", "-L", "k1:/d/link", filepath.Join(out, "followed"))
	if b, err := os.ReadFile(filepath.Join(out, "followed")); err != nil || string(b) != "a\n" {
		t.Fatalf("docker cp -L: %q %v", b, err)
	}
	a.MustDocker("cp", "k1:/dlink/", filepath.Join(out, "dir"))
	if b, err := os.ReadFile(filepath.Join(out, "dir", "a.txt")); err != nil || string(b) != "a\n" {
		t.Fatalf("docker cp LINK/: %q %v", b, err)
	}
}

// Smaller differences: a command that cannot be executed (a directory) exits 126, as with
// Docker and podman (pea run too); info's Swarm is inactive and version's Experimental false;
// docker kill returns once the container has exited; a container on another's network has its
// host name.
func TestAPIDockerSmallDiffs(t *testing.T) {
	a := newAPIEnv(t)
	if r := a.Docker("run", "--rm", "localhost/bb", "/etc"); r.Code != 126 {
		t.Errorf("docker run IMAGE /etc: %s, want 126", r)
	}
	if r := a.Try("run", "--rm", "localhost/bb", "/etc"); r.Code != 126 {
		t.Errorf("pea run IMAGE /etc: %s, want 126", r)
	}
	if got := a.MustDocker("info", "-f", "{{.Swarm.LocalNodeState}}"); got != "inactive" {
		t.Errorf("info's Swarm: %q", got)
	}
	// The engine's ID: a UUID kept in the store, the same at every call (it was empty).
	id := a.MustDocker("info", "-f", "{{.ID}}")
	kept, _ := os.ReadFile(filepath.Join(a.Root, "engine-id"))
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) || strings.TrimSpace(string(kept)) != id {
		t.Errorf("info's ID %q, the store's engine-id %q", id, kept)
	}
	if again := a.MustDocker("info", "-f", "{{.ID}}"); again != id {
		t.Errorf("info's ID changed: %q, then %q", id, again)
	}
	if got := a.MustDocker("version", "-f", "{{.Server.Experimental}}"); got != "false" {
		t.Errorf("version's Experimental: %q", got)
	}
	// docker kill answers once the container is dead: an inspect right after saw it running.
	for i := range 3 {
		name := fmt.Sprintf("kill%d", i)
		a.MustDocker("run", "-d", "--name", name, "--network", "none", "localhost/bb", "sleep", "1000")
		a.MustDocker("kill", name)
		if got := a.MustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", name); got != "exited 137" {
			t.Errorf("inspect right after docker kill: %q", got)
		}
	}
	a.MustDocker("run", "-d", "--name", "k1", "--hostname", "h1", "localhost/bb", "sleep", "1000")
	if got := a.MustDocker("run", "--rm", "--network", "container:k1", "localhost/bb", "hostname"); got != "h1" {
		t.Errorf("hostname on container:k1's network: %q, want k1's h1", got)
	}
}

// docker build --memory, --shm-size, --ulimit (and the other limits) reach RUN's containers, and
// --platform is checked: they were taken and dropped.
func TestAPIDockerBuildLimits(t *testing.T) {
	a := newAPIEnv(t)
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{
		"Dockerfile": "FROM localhost/bb\nRUN echo nofile=$(ulimit -n); echo mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max); df -k /dev/shm | tail -1\n",
	})
	out := a.MustDocker("build", "--no-cache", "--memory", "64m", "--shm-size", "32m", "--ulimit", "nofile=1000:1000", ctx)
	if !strings.Contains(out, "nofile=1000\n") || !strings.Contains(out, "mem=67108864\n") || !strings.Contains(out, " 32768 ") {
		t.Fatalf("RUN's limits: %q", out)
	}
	foreign := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		foreign = "linux/amd64"
	}
	if r := a.Docker("build", "--platform", foreign, ctx); r.Code == 0 || !strings.Contains(r.Stdout+r.Stderr, "platform") {
		t.Fatalf("docker build --platform %s: %s", foreign, r)
	}
	a.MustDocker("build", "--platform", "linux/"+runtime.GOARCH, ctx)
}

// An exec whose working directory is not there exits 127, podman's code (crun's 255 came
// through), through the API and pea exec alike.
func TestAPIDockerExecMissingWorkdir(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "k1", "--network", "none", "localhost/bb", "sleep", "1000")
	if r := a.Docker("exec", "-w", "/nonexist", "k1", "pwd"); r.Code != 127 {
		t.Errorf("docker exec -w /nonexist: %s, want 127", r)
	}
	if r := a.Try("exec", "-w", "/nonexist", "k1", "pwd"); r.Code != 127 {
		t.Errorf("pea exec -w /nonexist: %s, want 127", r)
	}
}

// docker logs of a container that keeps no log (--log-driver none) fails with Docker's words;
// it had printed nothing and succeeded. podman --remote logs fails too (the 4.3 client reads
// the error as a broken stream, as it does against podman's own service).
func TestAPIDockerLogsNone(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "--name", "k1", "--log-driver", "none", "--network", "none", "localhost/bb", "echo", "hi")
	if r := a.Docker("logs", "k1"); r.Code == 0 || !strings.Contains(r.Stderr, "configured logging driver does not support reading") {
		t.Errorf("docker logs: %s", r)
	}
	if r := a.podmanRemote("logs", "k1"); r.Code == 0 {
		t.Errorf("podman --remote logs: %s", r)
	}
}

// A health check's event is Docker's "health_status: STATUS", sent when the status changes
// (pea logs every check, as podman); event=health_status selects them all.
func TestAPIDockerHealthEvents(t *testing.T) {
	a := newAPIEnv(t)
	since := time.Now()
	a.MustDocker("run", "-d", "--name", "k1", "--network", "none", "--health-cmd", "true", "--health-interval", "1s", "localhost/bb", "sleep", "1000")
	eventually(t, 10*time.Second, func() error {
		if n := strings.Count(a.Pea("events", "--since", unixArg(since), "--until", unixArg(time.Now()), "--filter", "event=health_status"), "\n"); n < 3 {
			return fmt.Errorf("%d health checks logged", n)
		}
		return nil
	})
	until := time.Now()
	for _, filter := range []string{"event=health_status", "event=health_status: healthy"} {
		got := a.MustDocker("events", "--since", unixArg(since), "--until", unixArg(until), "--filter", filter, "--format", "{{.Action}} {{.Actor.Attributes.name}}")
		if got != "health_status: healthy k1" {
			t.Errorf("docker events --filter %s: %q, want the one change to healthy", filter, got)
		}
	}
}

// The service stopped (SIGTERM) during a build waits for the build's handler to clean up: the
// context it unpacked in a temporary directory was left behind, the process gone before the
// handler's removal ran.
func TestAPIServiceStopCleansUp(t *testing.T) {
	a := newAPIEnv(t)
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{
		marker:       "x\n",
		"Dockerfile": "FROM localhost/bb\nRUN sleep 5\n",
	})
	left := func() []string {
		m, _ := filepath.Glob(filepath.Join(os.TempDir(), "pea-build-*", marker))
		return m
	}
	build := exec.Command(a.docker, "build", "--network", "none", ctx)
	build.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
	if err := build.Start(); err != nil {
		t.Fatal(err)
	}
	defer build.Wait()
	eventually(t, 10*time.Second, func() error {
		if len(left()) == 0 {
			return fmt.Errorf("the build's context is not unpacked yet")
		}
		return nil
	})
	syscall.Kill(a.pid, syscall.SIGTERM)
	eventually(t, 15*time.Second, func() error {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", a.pid)); err == nil && !strings.Contains(string(b), ") Z ") {
			return fmt.Errorf("the service still runs")
		}
		return nil
	})
	if l := left(); len(l) > 0 {
		t.Fatalf("the stopped service left its build context: %v", l)
	}
}

package tests

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The docker client's run: create, attach before the start, wait for the exit, output and
// exit code through the multiplexed stream, and --rm removal by the service.
func TestAPIDockerRun(t *testing.T) {
	a := newAPIEnv(t)
	r := a.Docker("run", "--rm", "--network", "none", "localhost/bb", "sh", "-c", "echo out; echo err >&2; exit 3")
	if r.Code != 3 || r.Stdout != "out\n" || !strings.Contains(r.Stderr, "err\n") {
		t.Fatalf("docker run: want exit 3, out on stdout and err on stderr: %s", r)
	}
	if out := a.Pea("ps", "-aq"); out != "" {
		t.Fatalf("--rm left containers: %q", out)
	}
	// Without --rm the container stays, exited with its code.
	a.MustDocker("run", "--name", "kept", "--network", "none", "localhost/bb", "true")
	if st := a.MustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.Name}}", "kept"); st != "exited 0 /kept" {
		t.Fatalf("inspect: %q", st)
	}
	// Input through the attached stream.
	r = a.DockerIn("line one\nline two\n", "run", "-i", "--rm", "--network", "none", "localhost/bb", "wc", "-l")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "2" {
		t.Fatalf("docker run -i: %s", r)
	}
	// The image's default command, the environment and the working directory.
	out := a.MustDocker("run", "--rm", "--network", "none", "-e", "A=b", "-w", "/tmp", "--entrypoint", "sh", "localhost/bb", "-c", "echo $A $(pwd)")
	if out != "b /tmp" {
		t.Fatalf("env and workdir: %q", out)
	}
	// A missing image is Docker's 404, and nothing is created.
	r = a.Docker("run", "--rm", "--pull", "never", "localhost/nosuch")
	if r.Code == 0 || !strings.Contains(r.Stderr, "No such image") {
		t.Fatalf("missing image: %s", r)
	}
	if n := len(strings.Fields(a.Pea("ps", "-aq"))); n != 1 {
		t.Fatalf("want only the kept container, got %d", n)
	}
}

// A detached container through its life: ps, logs, top, pause, rename, stop (its stop signal
// reaches it), restart, kill, rm; pea sees the same container.
func TestAPIContainerLifecycle(t *testing.T) {
	a := newAPIEnv(t)
	id := a.MustDocker("run", "-d", "--name", "web", "--network", "none", "-l", "app=demo", "localhost/bb",
		"sh", "-c", `echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done`)
	if len(id) != 64 {
		t.Fatalf("docker run -d printed %q", id)
	}
	if got := a.Pea("inspect", "-f", "{{.State.Status}}", "web"); got != "running" {
		t.Fatalf("pea sees %q", got)
	}
	eventually(t, 5*time.Second, func() error {
		if out := a.MustDocker("logs", "web"); out != "started" {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	if out := a.MustDocker("ps", "--filter", "label=app=demo", "--format", "{{.Names}} {{.State}}"); out != "web running" {
		t.Fatalf("ps: %q", out)
	}
	if out := a.MustDocker("ps", "--filter", "label=app=other", "-q"); out != "" {
		t.Fatalf("ps filter matched: %q", out)
	}
	if out := a.MustDocker("top", "web"); !strings.Contains(out, "sleep") {
		t.Fatalf("top: %q", out)
	}
	a.MustDocker("pause", "web")
	if st := a.MustDocker("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "web"); st != "paused true" {
		t.Fatalf("paused: %q", st)
	}
	a.MustDocker("unpause", "web")
	a.MustDocker("rename", "web", "web2")
	a.MustDocker("stop", "web2")
	if st := a.MustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web2"); st != "exited 0" {
		t.Fatalf("after stop: %q", st)
	}
	if out := a.MustDocker("logs", "web2"); out != "started\nbye" {
		t.Fatalf("the stop signal did not reach the trap: %q", out)
	}
	a.MustDocker("restart", "web2")
	if st := a.MustDocker("inspect", "-f", "{{.State.Status}}", "web2"); st != "running" {
		t.Fatalf("after restart: %q", st)
	}
	// rm of a running container is refused without force; kill gives 137.
	if r := a.Docker("rm", "web2"); r.Code == 0 || !strings.Contains(r.Stderr, "Stop the container") {
		t.Fatalf("rm of a running container: %s", r)
	}
	a.MustDocker("kill", "web2")
	if st := a.MustDocker("inspect", "-f", "{{.State.ExitCode}}", "web2"); st != "137" {
		t.Fatalf("after kill: %q", st)
	}
	if r := a.Docker("kill", "web2"); r.Code == 0 {
		t.Fatalf("kill of a stopped container: %s", r)
	}
	a.MustDocker("rm", "web2")
	if r := a.Docker("inspect", "web2"); r.Code == 0 || !strings.Contains(r.Stderr, "No such") {
		t.Fatalf("inspect after rm: %s", r)
	}
	// run -d --rm: conmon's exit command removes it.
	a.MustDocker("run", "-d", "--rm", "--network", "none", "localhost/bb", "true")
	eventually(t, 10*time.Second, func() error {
		if out := a.Pea("ps", "-aq"); out != "" {
			return fmt.Errorf("run -d --rm left %q", out)
		}
		return nil
	})
}

// docker run options that map onto pea's: ports on the default network, a bind mount, a
// tmpfs, a read-only root, limits, labels, restart policy, hostname; and wait.
func TestAPICreateOptions(t *testing.T) {
	a := newAPIEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), []byte("from host"), 0o644)
	out := a.MustDocker("run", "--rm", "--network", "none", "-v", dir+":/mnt:ro", "--tmpfs", "/scratch", "--read-only",
		"--hostname", "box", "--memory", "64m", "localhost/bb", "sh", "-c",
		"cat /mnt/f; echo; hostname; touch /scratch/x && echo tmpfs-ok; touch /f 2>/dev/null || echo ro-root; touch /mnt/y 2>/dev/null || echo ro-bind; cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max")
	want := "from host\nbox\ntmpfs-ok\nro-root\nro-bind\n67108864"
	if out != want {
		t.Fatalf("options inside the container:\n%s\nwant:\n%s", out, want)
	}
	port := freeHostPort(t)
	a.MustDocker("run", "-d", "--name", "srv", "-p", "127.0.0.1:"+strconv.Itoa(port)+":8080", "--restart", "on-failure:2", "localhost/bb",
		"sh", "-c", "mkdir /www; echo hello-api > /www/index.html; httpd -f -p 8080 -h /www")
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet("http://127.0.0.1:" + strconv.Itoa(port) + "/")
		if err != nil {
			return err
		}
		if strings.TrimSpace(body) != "hello-api" {
			return fmt.Errorf("got %q", body)
		}
		return nil
	})
	if out := a.MustDocker("port", "srv"); !strings.Contains(out, "8080/tcp -> 127.0.0.1:"+strconv.Itoa(port)) {
		t.Fatalf("docker port: %q", out)
	}
	if pol := a.MustDocker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "srv"); pol != "on-failure:2" {
		t.Fatalf("restart policy: %q", pol)
	}
	// docker wait answers with the exit code once it ends.
	a.MustDocker("run", "-d", "--name", "w", "--network", "none", "localhost/bb", "sh", "-c", "sleep 0.3; exit 7")
	if out := a.MustDocker("wait", "w"); out != "7" {
		t.Fatalf("docker wait: %q", out)
	}
	// Bad input: one clear error, nothing created.
	before := a.Pea("ps", "-aq")
	if r := a.Docker("run", "--rm", "--network", "none", "--restart", "always", "localhost/bb", "true"); r.Code == 0 {
		t.Fatalf("--rm with --restart always: %s", r)
	}
	if r := a.Docker("create", "--network", "none", "--cap-add", "NOPE", "localhost/bb"); r.Code == 0 || !strings.Contains(r.Stderr, "NOPE") {
		t.Fatalf("bad capability: %s", r)
	}
	if after := a.Pea("ps", "-aq"); after != before {
		t.Fatalf("a refused create left containers: %q -> %q", before, after)
	}
}

// Raw requests: version prefix, Docker's error shape and status codes, ping headers.
func TestAPIRawRequests(t *testing.T) {
	a := newAPIEnv(t)
	code, body := a.Request("GET", "/_ping", nil)
	if code != 200 || string(body) != "OK" {
		t.Fatalf("ping: %d %q", code, body)
	}
	var v struct{ ApiVersion, Version string }
	a.RequestJSON("GET", "/v1.41/version", nil, 200, &v)
	if v.ApiVersion != "1.41" {
		t.Fatalf("version: %+v", v)
	}
	var e struct{ Message string }
	a.RequestJSON("GET", "/v1.41/containers/nosuch/json", nil, 404, &e)
	if e.Message != "No such container: nosuch" {
		t.Fatalf("404 message: %q", e.Message)
	}
	a.RequestJSON("POST", "/v1.41/containers/create", `{"Image":""}`, 400, &e)
	a.RequestJSON("POST", "/v1.41/containers/create", `{not json`, 400, &e)
	a.RequestJSON("GET", "/v1.12/version", nil, 400, &e)
	var created struct{ Id string }
	a.RequestJSON("POST", "/v1.41/containers/create?name=raw", map[string]any{"Image": "localhost/bb", "Cmd": []string{"true"}, "HostConfig": map[string]any{"NetworkMode": "none"}}, 201, &created)
	a.RequestJSON("POST", "/v1.41/containers/create?name=raw", map[string]any{"Image": "localhost/bb", "HostConfig": map[string]any{"NetworkMode": "none"}}, 409, &e)
	a.RequestJSON("POST", "/containers/raw/start", nil, 204, nil)
	var w struct {
		StatusCode int
		Error      any
	}
	a.RequestJSON("POST", "/containers/raw/wait", nil, 200, &w)
	if w.StatusCode != 0 || w.Error != nil {
		t.Fatalf("wait: %+v", w)
	}
	var list []map[string]any
	a.RequestJSON("GET", "/containers/json?all=1", nil, 200, &list)
	if len(list) != 1 || list[0]["Id"] != created.Id || list[0]["State"] != "exited" {
		js, _ := json.Marshal(list)
		t.Fatalf("list: %s", js)
	}
	a.RequestJSON("DELETE", "/containers/raw", nil, 204, nil)
	a.RequestJSON("DELETE", "/containers/raw", nil, 404, &e)
}

// docker cp both ways, through the archive endpoints: a directory with a link and a file in,
// a directory out, a file to stdout as a tar, a missing path; a link in the container that
// points at a host directory does not lead the copy out.
func TestAPICopy(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "c", "--network", "none", "localhost/bb", "sleep", "1000")
	src := filepath.Join(t.TempDir(), "data")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "sub", "f"), []byte("hello"), 0o640)
	os.Symlink("/etc/passwd", filepath.Join(src, "link"))
	a.MustDocker("cp", src, "c:/tmp/")
	out := a.MustDocker("exec", "c", "sh", "-c", "cat /tmp/data/sub/f; echo; readlink /tmp/data/link; stat -c %a /tmp/data/sub/f")
	if out != "hello\n/etc/passwd\n640" {
		t.Fatalf("copied in: %q", out)
	}
	dst := filepath.Join(t.TempDir(), "back")
	a.MustDocker("cp", "c:/tmp/data", dst)
	if b, err := os.ReadFile(filepath.Join(dst, "sub", "f")); err != nil || string(b) != "hello" {
		t.Fatalf("copied out: %q %v", b, err)
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "/etc/passwd" {
		t.Fatalf("link copied out: %q %v", l, err)
	}
	r := a.Docker("cp", "c:/etc/hostname", "-")
	if r.Code != 0 || !strings.Contains(r.Stdout, "hostname") {
		t.Fatalf("cp to stdout: %s", r)
	}
	// (The client words the 404 its own way: 28 says "Could not find the file", 20.10 "No such
	// container:path".)
	if r := a.Docker("cp", "c:/nonexistent", dst); r.Code == 0 || !strings.Contains(r.Stderr, "Could not find the file") && !strings.Contains(r.Stderr, "No such container:path") {
		t.Fatalf("missing path: %s", r)
	}
	// The container makes /esc a link to a host directory; a copy into /esc/ lands in the
	// container's own /tmp/hostdir (or fails), never in the host's.
	hostDir := t.TempDir()
	a.MustDocker("exec", "c", "sh", "-c", "mkdir -p "+hostDir+" && ln -s "+hostDir+" /esc")
	one := filepath.Join(t.TempDir(), "one")
	os.WriteFile(one, []byte("x"), 0o644)
	a.Docker("cp", one, "c:/esc/")
	if ents, _ := os.ReadDir(hostDir); len(ents) != 0 {
		t.Fatalf("docker cp wrote into the host's %s: %v", hostDir, ents)
	}
	// A tar whose entries climb out of the destination is refused.
	code, body := a.Request("PUT", "/containers/c/archive?path=/tmp", string(climbingTar(t)))
	if code != 400 {
		t.Fatalf("climbing tar: %d %s", code, body)
	}
}

// docker stats: one reading with CPU and memory use against the container's limit; the
// service runs on every CPU the caller has (it must not inherit pea's start-up pin).
func TestAPIStats(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "busy", "--network", "none", "--memory", "64m", "localhost/bb", "sh", "-c", "while :; do :; done")
	out := a.MustDocker("stats", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}", "busy")
	f := strings.Fields(out)
	if len(f) < 4 || f[0] != "busy" || !strings.HasSuffix(out, " 1") || !strings.Contains(out, "/ 64MiB") {
		t.Fatalf("stats: %q", out)
	}
	cpu, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
	if err != nil || cpu < 20 {
		t.Fatalf("a busy loop shows %q CPU", f[1])
	}
	mine, _ := os.ReadFile("/proc/self/status")
	svc, _ := os.ReadFile("/proc/" + strconv.Itoa(a.pid) + "/status")
	if want, got := statusField(string(mine), "Cpus_allowed_list"), statusField(string(svc), "Cpus_allowed_list"); want != got {
		t.Fatalf("the service may run on CPUs %s, the caller on %s", got, want)
	}
}

func statusField(status, key string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// climbingTar is a tar with one entry named ../../escape.
func climbingTar(t *testing.T) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "../../escape", Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
	tw.Write([]byte("x"))
	tw.Close()
	return buf.Bytes()
}

// docker commit, diff, export and container prune.
func TestAPICommitDiffExport(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "--name", "src", "--network", "none", "localhost/bb", "sh", "-c", "echo made > /made; rm /bin/vi")
	diff := a.MustDocker("diff", "src")
	for _, want := range []string{"A /made", "D /bin/vi", "C /bin"} {
		if !strings.Contains(diff, want) {
			t.Fatalf("docker diff lacks %q:\n%s", want, diff)
		}
	}
	id := a.MustDocker("commit", "-c", "ENV FROM_COMMIT=yes", "-m", "a message", "src", "localhost/committed:v1")
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("commit printed %q", id)
	}
	if out := a.MustDocker("run", "--rm", "--network", "none", "localhost/committed:v1", "sh", "-c", "cat /made; echo $FROM_COMMIT; test -e /bin/vi || echo no-vi"); out != "made\nyes\nno-vi" {
		t.Fatalf("the committed image: %q", out)
	}
	tarPath := filepath.Join(t.TempDir(), "fs.tar")
	a.MustDocker("export", "-o", tarPath, "src")
	list, err := exec.Command("tar", "tf", tarPath).Output()
	if err != nil || !strings.Contains(string(list), "made") || strings.Contains(string(list), "bin/vi\n") {
		t.Fatalf("export: %v\n%s", err, list)
	}
	a.MustDocker("run", "-d", "--name", "up", "--network", "none", "localhost/bb", "sleep", "1000")
	srcID := a.Pea("inspect", "-f", "{{.ID}}", "src")
	labelled := a.MustDocker("create", "--network", "none", "--label", "batch=7", "localhost/bb", "true")
	if out := a.MustDocker("container", "prune", "-f", "--filter", "label=batch=7"); !strings.Contains(out, labelled) || strings.Contains(out, srcID) {
		t.Fatalf("prune --filter label: %q", out)
	}
	out := a.MustDocker("container", "prune", "-f")
	if !strings.Contains(out, srcID) {
		t.Fatalf("prune did not report src: %q", out)
	}
	if got := a.MustDocker("ps", "-a", "--format", "{{.Names}}"); got != "up" {
		t.Fatalf("after prune: %q", got)
	}
	if r := a.Docker("commit", "nosuch", "localhost/x"); r.Code == 0 || !strings.Contains(r.Stderr, "No such container") {
		t.Fatalf("commit of a missing container: %s", r)
	}
}

// A docker-compose (v1, on docker-py) project against the service: a network of the project's,
// a named volume, published ports, services that find each other by their service names,
// restart, down.
func TestAPICompose(t *testing.T) {
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is missing (scripts/deps.sh installs it)")
	}
	a := newAPIEnv(t)
	dir := t.TempDir()
	port := freeHostPort(t)
	yml := `version: "3"
services:
  web:
    image: localhost/bb
    command: sh -c "mkdir -p /www && cat /data/msg > /www/index.html; httpd -f -p 8080 -h /www"
    ports: ["127.0.0.1:` + strconv.Itoa(port) + `:8080"]
    volumes: ["data:/data"]
    depends_on: [seed]
  seed:
    image: localhost/bb
    command: sh -c "echo hello-compose > /data/msg"
    volumes: ["data:/data"]
  client:
    image: localhost/bb
    command: sleep 1000
    depends_on: [web]
volumes:
  data:
`
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(yml), 0o644)
	run := func(args ...string) Result {
		cmd := exec.Command(compose, append([]string{"-p", "proj"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
		return runCmd(cmd)
	}
	if r := run("up", "-d"); r.Code != 0 {
		t.Fatalf("compose up: %s", r)
	}
	t.Cleanup(func() { run("down", "-v", "-t", "0") })
	eventually(t, 10*time.Second, func() error {
		body, err := httpGet("http://127.0.0.1:" + strconv.Itoa(port) + "/")
		if err != nil {
			return err
		}
		if strings.TrimSpace(body) != "hello-compose" {
			return fmt.Errorf("published port answered %q", body)
		}
		return nil
	})
	get := func() (string, error) {
		r := a.Docker("exec", "proj_client_1", "wget", "-qO-", "http://web:8080/")
		if r.Code != 0 {
			return "", fmt.Errorf("wget web from client: %s", r)
		}
		return strings.TrimSpace(r.Stdout), nil
	}
	eventually(t, 10*time.Second, func() error {
		out, err := get()
		if err == nil && out != "hello-compose" {
			err = fmt.Errorf("client got %q", out)
		}
		return err
	})
	if r := run("ps"); r.Code != 0 || strings.Count(r.Stdout, "proj_web_1") != 1 || !strings.Contains(r.Stdout, "proj_client_1") {
		t.Fatalf("compose ps: %s", r)
	}
	if r := run("restart", "-t", "0", "web"); r.Code != 0 {
		t.Fatalf("compose restart: %s", r)
	}
	eventually(t, 10*time.Second, func() error {
		out, err := get()
		if err == nil && out != "hello-compose" {
			err = fmt.Errorf("after restart, client got %q", out)
		}
		return err
	})
	if r := run("down", "-v", "-t", "0"); r.Code != 0 {
		t.Fatalf("compose down: %s", r)
	}
	if out := a.Pea("ps", "-aq"); out != "" {
		t.Fatalf("compose down left containers: %q", out)
	}
	if out := a.Pea("network", "ls", "--format", "{{.Name}}"); strings.Contains(out, "proj") {
		t.Fatalf("compose down left its network: %q", out)
	}
	if out := a.Pea("volume", "ls", "-q"); out != "" {
		t.Fatalf("compose down -v left volumes: %q", out)
	}
}

// Regressions found in review: docker cp must not let a tar's link turn a later entry's chmod
// or times onto a host file; special files are refused, not copied as an empty success;
// setuid bits and hard links survive; the socket is root's alone; start failures give
// docker's 127 and 126; wait on a created container answers at once; version's details.
func TestAPIReviewRegressions(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "c", "--network", "none", "localhost/bb", "sleep", "1000")
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("x"), 0o600)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(victim, old, old)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "esc", Typeflag: tar.TypeSymlink, Linkname: victim, Mode: 0o777})
	tw.WriteHeader(&tar.Header{Name: "esc", Typeflag: tar.TypeDir, Mode: 0o777, ModTime: time.Unix(0, 0)})
	tw.Close()
	a.Request("PUT", "/containers/c/archive?path=/tmp", buf.String())
	if fi, err := os.Stat(victim); err != nil || fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(old) {
		t.Fatalf("a tar's link led docker cp to the host file: %v %v %v", fi.Mode(), fi.ModTime(), err)
	}
	// setuid and hard links.
	src := filepath.Join(t.TempDir(), "suid")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "prog"), []byte("#!/bin/sh\n"), 0o755)
	os.Chmod(filepath.Join(src, "prog"), 0o755|os.ModeSetuid)
	os.Link(filepath.Join(src, "prog"), filepath.Join(src, "again"))
	a.MustDocker("cp", src, "c:/tmp/")
	// (Both names arrive; pea's copier writes a hard link's names as separate files.)
	if out := a.MustDocker("exec", "c", "sh", "-c", "stat -c '%a' /tmp/suid/prog /tmp/suid/again"); out != "4755\n4755" {
		t.Fatalf("setuid and hard links in: %q", out)
	}
	// A FIFO is not a file to copy out: an error, not an empty success.
	a.MustDocker("exec", "c", "mkfifo", "/tmp/fifo")
	if r := a.Docker("cp", "c:/tmp/fifo", t.TempDir()); r.Code == 0 {
		t.Fatalf("cp of a FIFO succeeded: %s", r)
	}
	if fi, err := os.Stat(a.Sock); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the socket's mode: %v %v", fi.Mode(), err)
	}
	if r := a.Docker("run", "--rm", "--network", "none", "localhost/bb", "/nonexistent"); r.Code != 127 {
		t.Fatalf("a command not found: want 127, got %s", r)
	}
	if r := a.Docker("run", "--rm", "--network", "none", "localhost/bb", "/etc/passwd"); r.Code != 126 {
		t.Fatalf("a command that cannot be invoked: want 126, got %s", r)
	}
	a.MustDocker("create", "--name", "fresh", "--network", "none", "localhost/bb", "true")
	done := make(chan Result, 1)
	go func() { done <- a.Docker("wait", "fresh") }()
	select {
	case r := <-done:
		if r.Code != 0 || strings.TrimSpace(r.Stdout) != "0" {
			t.Fatalf("wait on a created container: %s", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("wait on a created container did not answer")
	}
	var v struct {
		Components []struct{ Details map[string]string }
	}
	a.RequestJSON("GET", "/version", nil, 200, &v)
	if len(v.Components) != 1 || v.Components[0].Details["ApiVersion"] != "1.41" {
		t.Fatalf("version components: %+v", v)
	}
}

// An attached client that goes away releases its attachment: a service with an idle timeout
// exits once the client is gone, whether the container was running or not yet started. And
// input ending on one attach leaves the container's stdin open for the next (no StdinOnce).
func TestAPIAttachLifetime(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "-i", "--name", "reader", "--network", "none", "localhost/bb", "sh", "-c", "while read l; do echo got $l; done")
	a.MustDocker("create", "--name", "idle", "--network", "none", "localhost/bb", "true")
	// Exited, with stdin: an attach waits for its next start, reading none of the client's input.
	a.MustDocker("create", "-i", "--name", "idlein", "--network", "none", "localhost/bb", "true")
	attachRaw := func(sock, id, input string) net.Conn {
		t.Helper()
		conn, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST /v1.41/containers/%s/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: pea\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n", id)
		br := bufio.NewReader(conn)
		status, err := br.ReadString('\n')
		if err != nil || !strings.Contains(status, "101") {
			t.Fatalf("attach %s: %q %v", id, status, err)
		}
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		if input != "" {
			conn.Write([]byte(input))
			conn.(*net.UnixConn).CloseWrite()
			deadline := time.Now().Add(5 * time.Second)
			conn.SetReadDeadline(deadline)
			var got []byte
			for !bytes.Contains(got, []byte("got "+strings.TrimSpace(input))) {
				b := make([]byte, 256)
				n, err := br.Read(b)
				got = append(got, b[:n]...)
				if err != nil {
					t.Fatalf("attach %s: no echo of %q: %q %v", id, input, got, err)
				}
			}
		}
		return conn
	}
	attachRaw(a.Sock, "reader", "one\n").Close()
	attachRaw(a.Sock, "reader", "two\n").Close() // stdin still open after the first's end
	time.Sleep(time.Second)
	if st := a.MustDocker("inspect", "-f", "{{.State.Running}}", "reader"); st != "true" {
		t.Fatalf("the clients' leaving closed the container's stdin (without StdinOnce): running=%s", st)
	}
	// A second service on the same store, with an idle timeout of a second.
	sock2 := filepath.Join(a.Dir, "api2.sock")
	cmd := exec.Command(peaBin, a.args("system", "service", "--time", "1", "unix://"+sock2)...)
	var log2 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log2, &log2
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	eventually(t, 5*time.Second, func() error { _, err := os.Stat(sock2); return err })
	c1 := attachRaw(sock2, "reader", "")
	c2 := attachRaw(sock2, "idle", "")
	c3 := attachRaw(sock2, "idlein", "")
	c1.Close()
	c2.Close()
	c3.Close()
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, to its log
		time.Sleep(500 * time.Millisecond)
		t.Fatalf("the service did not exit at its idle timeout once its attached clients had gone:\n%s", log2.String())
	}
}

// docker system df and pea system df: images, containers and volumes with their sizes, what
// is in use, and what could be reclaimed.
func TestSystemDF(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("volume", "create", "data")
	a.MustDocker("run", "-d", "--name", "w", "--network", "none", "-v", "data:/d", "localhost/bb", "sh", "-c",
		"dd if=/dev/zero of=/d/f bs=1000 count=100 2>/dev/null; dd if=/dev/zero of=/x bs=1000 count=50 2>/dev/null; echo done; sleep 1000")
	eventually(t, 10*time.Second, func() error {
		if out := a.MustDocker("logs", "w"); out != "done" {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	a.MustDocker("volume", "create", "unused")
	out := a.Pea("system", "df", "--format", "{{.Type}}|{{.Total}}|{{.Active}}|{{.Size}}|{{.Reclaimable}}")
	lines := strings.Split(out, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "Images|1|1|") || !strings.HasSuffix(lines[0], "|0B (0%)") ||
		lines[1] != "Containers|1|1|50kB|0B (0%)" || lines[2] != "Local Volumes|2|1|100kB|0B (0%)" {
		t.Fatalf("pea system df:\n%s", out)
	}
	if v := a.Pea("system", "df", "-v"); !strings.Contains(v, "Local Volumes space usage:") || !strings.Contains(v, "unused") {
		t.Fatalf("pea system df -v:\n%s", v)
	}
	out = a.MustDocker("system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}} {{.Reclaimable}}")
	for _, want := range []string{"Images 1 1", "Containers 1 1 50kB", "Local Volumes 2 1 100kB", " 0B (0%)\nContainers"} {
		if !strings.Contains(out, want) {
			t.Fatalf("docker system df lacks %q:\n%s", want, out)
		}
	}
	if v := a.MustDocker("system", "df", "-v"); !strings.Contains(v, "data") || !strings.Contains(v, "100kB") {
		t.Fatalf("docker system df -v:\n%s", v)
	}
}

// Socket activation, as systemd's pea.socket does it: the socket at fd 3, LISTEN_FDS=1 and
// LISTEN_PID the service's own; the service answers on it, exits when idle, and leaves the
// socket file (systemd's) in place.
func TestAPISocketActivation(t *testing.T) {
	e := newEnv(t).withBusybox()
	sock := filepath.Join(e.Dir, "activated.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	f, err := ln.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	// The shell's PID is the service's: exec keeps it, as systemd's LISTEN_PID needs.
	args := strings.Join(e.args("system", "service", "--time", "1", "unix:///nonexistent/unused.sock"), " ")
	cmd := exec.Command("sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec "+peaBin+" "+args)
	cmd.ExtraFiles = []*os.File{f}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	dc := exec.Command(dockerClient(t), "-H", "unix://"+sock, "run", "--rm", "--network", "none", "localhost/bb", "echo", "activated")
	dc.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(e.Dir, "docker-config"))
	r := runCmd(dc)
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "activated" {
		t.Fatalf("docker run through the activated socket: %s\nservice: %s", r, log.String())
	}
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatal("the activated service did not exit when idle")
	}
	if _, err := os.Stat(sock); err != nil {
		t.Fatalf("the service removed systemd's socket: %v", err)
	}
}

// docker-compose's depends_on condition service_healthy: compose waits for the healthcheck
// pea's timer runs, then starts the dependent service.
func TestAPIComposeHealthy(t *testing.T) {
	compose, err := exec.LookPath("docker-compose")
	if err != nil {
		t.Fatal("docker-compose is missing (scripts/deps.sh installs it)")
	}
	a := newAPIEnv(t)
	dir := t.TempDir()
	yml := `version: "2.4"
services:
  db:
    image: localhost/bb
    command: sh -c "sleep 1; touch /ready; sleep 1000"
    network_mode: none
    healthcheck:
      test: ["CMD", "test", "-e", "/ready"]
      interval: 500ms
      retries: 20
  app:
    image: localhost/bb
    command: sleep 1000
    network_mode: none
    depends_on:
      db:
        condition: service_healthy
`
	os.WriteFile(filepath.Join(dir, "docker-compose.yml"), []byte(yml), 0o644)
	run := func(args ...string) Result {
		cmd := exec.Command(compose, append([]string{"-p", "hp"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
		return runCmd(cmd)
	}
	t.Cleanup(func() { run("down", "-t", "0") })
	if r := run("up", "-d"); r.Code != 0 {
		t.Fatalf("compose up: %s", r)
	}
	if st := a.MustDocker("inspect", "-f", "{{.State.Health.Status}}", "hp_db_1"); st != "healthy" {
		t.Fatalf("compose started app before db was healthy: db is %q", st)
	}
	if st := a.MustDocker("inspect", "-f", "{{.State.Status}}", "hp_app_1"); st != "running" {
		t.Fatalf("app: %q", st)
	}
	if r := run("down", "-t", "0"); r.Code != 0 {
		t.Fatalf("compose down: %s", r)
	}
}

// Docker Compose v2 (the Go one) against the service: a healthcheck gating a dependency, a
// second `up` that changes nothing (regression: the containers' NetworkID was the network's
// name, and compose recreated every container at each up), `run --rm`, exec, and a changed
// service recreated while the old one still runs (regression: pea refused a host port that
// a running container publishes at the new container's creation; Docker checks at the start).
func TestAPIComposeV2(t *testing.T) {
	compose := clientTool(t, "docker-compose-v2", "../.build/compose/docker-compose")
	a := newAPIEnv(t)
	dir := t.TempDir()
	port := strconv.Itoa(freeHostPort(t))
	yml := func(greeting string) string {
		return `services:
  web:
    image: localhost/bb
    command: sh -c "mkdir -p /www && echo ` + greeting + ` > /www/index.html && httpd -f -p 8080 -h /www"
    ports: ["127.0.0.1:` + port + `:8080"]
    volumes: [data:/data]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 10
  client:
    image: localhost/bb
    command: sh -c "wget -qO- http://web:8080/ > /data/got; sleep 1000"
    depends_on:
      web: {condition: service_healthy}
    volumes: [data:/data]
volumes:
  data: {}
`
	}
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yml("first")), 0o644)
	run := func(args ...string) Result {
		cmd := exec.Command(compose, append([]string{"-p", "proj2"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
		return runCmd(cmd)
	}
	if r := run("up", "-d"); r.Code != 0 {
		t.Fatalf("compose up: %s", r)
	}
	t.Cleanup(func() { run("down", "-v", "-t", "0") })
	if out := a.MustDocker("exec", "proj2-client-1", "cat", "/data/got"); out != "first" {
		t.Fatalf("the client, started once web was healthy, got %q", out)
	}
	ids := a.MustDocker("ps", "-q", "--no-trunc")
	if r := run("up", "-d"); r.Code != 0 || strings.Contains(r.Stdout+r.Stderr, "Recreate") {
		t.Fatalf("a second up of the same project: %s", r)
	}
	if now := a.MustDocker("ps", "-q", "--no-trunc"); now != ids {
		t.Fatalf("a second up replaced containers: %q, before %q", now, ids)
	}
	netID := a.MustDocker("network", "inspect", "-f", "{{.Id}}", "proj2_default")
	if got := a.MustDocker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.NetworkID}}{{end}}", "proj2-web-1"); got != netID {
		t.Fatalf("NetworkID %q, want the network's ID %q", got, netID)
	}
	if r := run("run", "--rm", "-T", "client", "echo", "one-off"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "one-off" {
		t.Fatalf("compose run --rm: %s", r)
	}
	if r := run("exec", "-T", "web", "cat", "/www/index.html"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "first" {
		t.Fatalf("compose exec: %s", r)
	}
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(yml("second")), 0o644)
	if r := run("up", "-d"); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "Recreate") {
		t.Fatalf("up of a changed service: %s", r)
	}
	eventually(t, 15*time.Second, func() error {
		body, err := httpGet("http://127.0.0.1:" + port + "/")
		if err != nil || strings.TrimSpace(body) != "second" {
			return fmt.Errorf("the recreated service's port answered %q %v", body, err)
		}
		return nil
	})
	if r := run("down", "-v", "-t", "0"); r.Code != 0 {
		t.Fatalf("compose down: %s", r)
	}
	if out := a.Pea("ps", "-a", "-q") + a.Pea("volume", "ls", "-q") + a.Pea("network", "ls", "-q", "--filter", "name=proj2"); out != "" {
		t.Fatalf("left after down -v: %q", out)
	}
}

// TestServiceCORS: system service --cors ORIGIN puts the origin on every answer and answers a
// browser's preflight OPTIONS; without it, no CORS header.
func TestServiceCORS(t *testing.T) {
	e := newEnv(t)
	sock := filepath.Join(e.Dir, "cors.sock")
	startService(t, e, "system", "service", "--time", "0", "--cors", "https://ui.example", "unix://"+sock)
	client := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}}
	var resp *http.Response
	eventually(t, 10*time.Second, func() error {
		var err error
		resp, err = client.Get("http://pea/_ping")
		return err
	})
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://ui.example" {
		t.Fatalf("GET /_ping: Access-Control-Allow-Origin %q", got)
	}
	req, _ := http.NewRequest(http.MethodOptions, "http://pea/v1.41/containers/json", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	a := newAPIEnv(t) // a service without --cors
	r, err := a.client.Get("http://pea/_ping")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if got := r.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("without --cors: %q", got)
	}
}

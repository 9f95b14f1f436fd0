package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Docker Compose v2 the way its users drive it, against pea's service: two projects that
// between them use most of what a compose file says and most of compose's verbs. What the
// sweep found wrong is marked "regression".

// composeProject writes files into a new directory and returns a function that runs Docker
// Compose v2 there (legacy builder: BuildKit is not served). The compose file names the
// project (name:): given -p and no file, compose takes the project from its containers alone
// and down --rmi local finds no image of its own.
func composeProject(t *testing.T, a *APIEnv, name string, files map[string]string) (string, func(args ...string) Result) {
	t.Helper()
	compose := clientTool(t, "docker-compose-v2", "../.build/compose/docker-compose")
	dir := writeContext(t, filepath.Join(a.Dir, name), files)
	env := append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config,
		"DOCKER_BUILDKIT=0", "COMPOSE_DOCKER_CLI_BUILD=0", "COMPOSE_PROGRESS=plain")
	run := func(args ...string) Result {
		cmd := exec.Command(compose, args...)
		cmd.Dir, cmd.Env = dir, env
		return runCmd(cmd)
	}
	t.Cleanup(func() { run("down", "-v", "-t", "0", "--remove-orphans") })
	return dir, run
}

// mustCompose fails the test unless the compose command succeeded, and returns its trimmed
// standard output.
func mustCompose(t *testing.T, run func(args ...string) Result, args ...string) string {
	t.Helper()
	r := run(args...)
	if r.Code != 0 {
		t.Fatalf("compose %s: %s", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.Stdout)
}

// A stack: dependencies by condition, a health check, two networks with an alias (names
// resolved and connected to inside the containers), a port on 127.0.0.1, a bind mount, a
// named volume, env_file and environment, secrets and configs from files, a profile, and the
// container settings (init, read_only, tmpfs, capabilities, ulimits, sysctls, extra_hosts,
// user, working_dir, limits, stop signal and grace period, expose, network_mode, pid and ipc
// of another service, the host's network).
func TestAPIComposeStack(t *testing.T) {
	a := newAPIEnv(t)
	port := strconv.Itoa(freeHostPort(t))
	_, run := composeProject(t, a, "stk", map[string]string{
		"site/index.html": "hello-bind\n",
		"app.env":         "FROM_FILE=yes\nSHARED=file\n",
		"secret.txt":      "s3cr3t\n",
		"cfg.txt":         "cfg-content\n",
		"compose.yaml": `name: stk
services:
  web:
    image: localhost/bb
    command: httpd -f -p 80 -h /www
    volumes: ["./site:/www:ro"]
    networks:
      front: {aliases: [webalias]}
      back: {}
    ports: ["127.0.0.1:` + port + `:80"]
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1/"]
      interval: 1s
      retries: 20
  init:
    image: localhost/bb
    command: sh -c "echo initialized > /data/init"
    volumes: [data:/data]
    network_mode: none
  db:
    image: localhost/bb
    command: nc -ll -p 5432 -e echo db-ok
    networks:
      back: {aliases: [database]}
    restart: unless-stopped
  app:
    image: localhost/bb
    command: sleep 100000
    depends_on:
      web: {condition: service_healthy}
      init: {condition: service_completed_successfully}
      db: {condition: service_started}
    env_file: [app.env]
    environment: {SHARED: env, ONLY_ENV: "1"}
    volumes: [data:/data]
    networks: [front]
    init: true
    read_only: true
    tmpfs: [/scratch]
    cap_drop: [NET_RAW]
    cap_add: [SYS_TIME]
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    sysctls: {net.ipv4.ip_unprivileged_port_start: "100"}
    extra_hosts: ["myhost:10.1.2.3"]
    user: "1000"
    working_dir: /tmp
    secrets: [mysecret]
    configs: [mycfg]
    expose: ["9000"]
    stop_signal: SIGKILL
    stop_grace_period: 1s
    deploy:
      resources:
        limits: {memory: 64M, cpus: "0.5", pids: 100}
  side:
    image: localhost/bb
    command: sleep 100000
    network_mode: "service:web"
    pid: "service:db"
    ipc: "service:db"
  hostnet:
    image: localhost/bb
    command: sleep 100000
    network_mode: host
  dbg:
    image: localhost/bb
    command: sleep 100000
    profiles: [debug]
networks: {front: {}, back: {}}
volumes: {data: {}}
secrets: {mysecret: {file: ./secret.txt}}
configs: {mycfg: {file: ./cfg.txt}}
`,
	})
	mustCompose(t, run, "up", "-d", "--wait")
	if got := mustCompose(t, run, "ps", "-a", "--format", "{{.Service}}:{{.State}}"); strings.Join(strings.Fields(got), " ") != "app:running db:running hostnet:running init:exited side:running web:running" {
		t.Fatalf("compose ps after up --wait: %q", got)
	}
	// Names: the service, its alias on the network, only on the networks shared.
	if got := mustCompose(t, run, "exec", "-T", "app", "sh", "-c", "wget -qO- http://web/; wget -qO- http://webalias/; nc db 5432 </dev/null || echo no-db"); got != "hello-bind\nhello-bind\nno-db" {
		t.Errorf("from app (front): %q", got)
	}
	if got := mustCompose(t, run, "exec", "-T", "web", "sh", "-c", "nc db 5432 </dev/null; nc database 5432 </dev/null"); got != "db-ok\ndb-ok" {
		t.Errorf("from web (back): %q", got)
	}
	// Over DNS too (aardvark-dns on the project's networks), as compose users expect: the
	// service and its alias from app, the other network's service not.
	if got := mustCompose(t, run, "exec", "-T", "app", "sh", "-c", "nslookup web | grep -c '^Address: '; nslookup webalias | grep -c '^Address: '; nslookup db | grep -c '^Address: ' || true"); got != "1\n1\n0" {
		t.Errorf("nslookup from app: %q", got)
	}
	if body, err := httpGet("http://127.0.0.1:" + port + "/"); err != nil || strings.TrimSpace(body) != "hello-bind" {
		t.Errorf("the published port: %q %v", body, err)
	}
	if got := mustCompose(t, run, "port", "web", "80"); got != "127.0.0.1:"+port {
		t.Errorf("compose port: %q", got)
	}
	got := mustCompose(t, run, "exec", "-T", "app", "sh", "-c", `echo "$FROM_FILE $SHARED $ONLY_ENV"; id -u; pwd; ps -o comm | sed -n 2p; touch /x 2>/dev/null || echo ro; touch /scratch/y && echo tmpfs; grep CapBnd /proc/self/status; ulimit -Sn; ulimit -Hn; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; grep myhost /etc/hosts; cat /run/secrets/mysecret /mycfg /data/init`)
	want := "yes env 1\n1000\n/tmp\npea-init\nro\ntmpfs\nCapBnd:\t00000000aa0405fb\n1024\n2048\n100\n10.1.2.3\tmyhost\ns3cr3t\ncfg-content\ninitialized"
	if got != want {
		t.Errorf("app's settings:\n%s\nwant\n%s", got, want)
	}
	if got := a.MustDocker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.Config.StopSignal}} {{.Config.StopTimeout}}", "stk-app-1"); got != "67108864 500000000 100 SIGKILL 1" {
		t.Errorf("app's limits and stop settings: %q", got)
	}
	// side is in web's network namespace and db's PID and IPC namespaces.
	if got := mustCompose(t, run, "exec", "-T", "side", "sh", "-c", "wget -qO- http://127.0.0.1/; cat /proc/1/cmdline | tr '\\0' ' '; readlink /proc/1/ns/ipc"); !strings.HasPrefix(got, "hello-bind\nnc -ll -p 5432 -e echo db-ok ipc:") {
		t.Errorf("side: %q", got)
	}
	// regression: on the host's network a container has the host's name (it had its ID's).
	host, _ := os.Hostname()
	if got := mustCompose(t, run, "exec", "-T", "hostnet", "hostname"); got != host {
		t.Errorf("hostname on the host's network: %q, want %q", got, host)
	}
	// regression: ps shows the ports a service exposes without publishing them, and none for a
	// service in another's network namespace.
	var ps []struct {
		Service, Health, Ports string
		Publishers             []struct {
			URL                       string
			TargetPort, PublishedPort int
		}
	}
	for _, line := range strings.Split(mustCompose(t, run, "ps", "--format", "json"), "\n") {
		var e struct {
			Service, Health, Ports string
			Publishers             []struct {
				URL                       string
				TargetPort, PublishedPort int
			}
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("ps --format json: %v: %q", err, line)
		}
		ps = append(ps, e)
	}
	for _, e := range ps {
		switch e.Service {
		case "web":
			if e.Health != "healthy" || len(e.Publishers) != 1 || e.Publishers[0].URL != "127.0.0.1" || strconv.Itoa(e.Publishers[0].PublishedPort) != port {
				t.Errorf("ps of web: %+v", e)
			}
		case "side": // regression: it showed web's ports, whose network namespace it is in
			if e.Ports != "" || len(e.Publishers) != 0 {
				t.Errorf("ps of side: %+v, want no ports", e)
			}
		case "app":
			if e.Ports != "9000/tcp" {
				t.Errorf("ps of app: ports %q, want the exposed 9000/tcp", e.Ports)
			}
		}
	}
	// regression: top is Docker's ps -ef (host PIDs), not podman's columns.
	top := mustCompose(t, run, "top", "app")
	if pid := a.MustDocker("inspect", "-f", "{{.State.Pid}}", "stk-app-1"); !strings.Contains(top, "UID") || !strings.Contains(top, " "+pid+" ") {
		t.Errorf("compose top: %q (host PID %s)", top, pid)
	}
	// regression: compose images shows when the image was named, not year 1.
	if imgs := mustCompose(t, run, "images", "web"); strings.Contains(imgs, "292 years") || !strings.Contains(imgs, "ago") {
		t.Errorf("compose images: %q", imgs)
	}
	// A profile's service starts only when asked for.
	mustCompose(t, run, "--profile", "debug", "up", "-d", "dbg")
	if got := mustCompose(t, run, "--profile", "debug", "ps", "--format", "{{.Service}}", "dbg"); got != "dbg" {
		t.Errorf("the debug profile's service: %q", got)
	}
	// exec on a terminal (no -T) and its exit code; its events through compose events.
	ev := exec.Command(clientTool(t, "docker-compose-v2", "../.build/compose/docker-compose"), "-p", "stk", "events", "--json")
	ev.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
	var evOut syncBuffer
	ev.Stdout = &evOut
	if err := ev.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { ev.Process.Kill(); ev.Wait() }()
	time.Sleep(500 * time.Millisecond) // connected
	tty := exec.Command("script", "-qec", clientTool(t, "docker-compose-v2", "../.build/compose/docker-compose")+" -p stk exec web sh -c 'tty; exit 4'", "/dev/null")
	tty.Env = ev.Env
	r := runCmd(tty)
	if r.Code != 4 || !strings.Contains(r.Stdout, "/dev/pts/") {
		t.Errorf("compose exec on a terminal: %s", r)
	}
	eventually(t, 10*time.Second, func() error {
		if s := evOut.String(); !strings.Contains(s, `"action":"exec_die"`) || !strings.Contains(s, `"exitCode":"4"`) {
			return fmt.Errorf("compose events: %q", s)
		}
		return nil
	})
	if r := run("run", "--rm", "-T", "--no-deps", "app", "sh", "-c", "echo one-off $ONLY_ENV; exit 3"); r.Code != 3 || strings.TrimSpace(r.Stdout) != "one-off 1" {
		t.Errorf("compose run --rm: %s", r)
	}
	mustCompose(t, run, "--profile", "debug", "down", "-v", "-t", "0", "--remove-orphans")
	if out := a.Pea("ps", "-aq") + a.Pea("volume", "ls", "-q") + a.Pea("network", "ls", "-q", "--filter", "name=stk"); out != "" {
		t.Fatalf("left after down -v: %q", out)
	}
}

// A project's life: a build with build args (regression: compose's classic build adds a
// label, and the image of the file's last step was left as a <none> image), scale, recreation
// on --force-recreate and on a changed config, stop/start/restart/pause/unpause/kill, a stop
// signal, a restart policy, cp both ways, logs, run with an entrypoint, down --rmi local.
func TestAPIComposeLifecycle(t *testing.T) {
	a := newAPIEnv(t)
	file := func(env string) string {
		return `name: lc
services:
  ticker:
    build:
      context: ./ctx
      args: {GREETING: hello, VERSION: "2"}
    environment: {MODE: ` + env + `}
    stop_grace_period: 1s
  trapper:
    image: localhost/bb
    command: ["sh", "-c", "trap 'echo got-usr1; exit 0' USR1; echo ready; while true; do sleep 0.2; done"]
    stop_signal: SIGUSR1
  failer:
    image: localhost/bb
    command: ["sh", "-c", "echo run; exit 3"]
    restart: on-failure:2
  web:
    image: localhost/bb
    command: ["sh", "-c", "trap 'exit 0' TERM; echo $$HOSTNAME > /var/www/index.html; httpd -p 80 -h /var/www; while true; do sleep 0.2; done"]
  ep:
    image: localhost/bb
    entrypoint: ["/bin/echo", "entry"]
    command: ["a", "b"]
    profiles: [tools]
`
	}
	dir, run := composeProject(t, a, "lc", map[string]string{
		"ctx/Dockerfile": "FROM localhost/bb\nARG GREETING=default\nARG VERSION\nRUN echo \"$GREETING $VERSION\" > /greeting\n" +
			"CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; cat /greeting; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done\"]\n",
		"compose.yaml": file("one"),
	})
	mustCompose(t, run, "build")
	if got := a.MustDocker("images", "--format", "{{.Repository}}:{{.Tag}}"); strings.Contains(got, "<none>") || !strings.Contains(got, "lc-ticker:latest") {
		t.Fatalf("images after compose build: %q", got)
	}
	if got := a.MustDocker("image", "inspect", "-f", `{{index .Config.Labels "com.docker.compose.image.builder"}}`, "lc-ticker"); got != "classic" {
		t.Fatalf("the build's label: %q", got)
	}
	mustCompose(t, run, "up", "-d")
	if got := mustCompose(t, run, "exec", "-T", "ticker", "sh", "-c", "cat /greeting; echo $MODE"); got != "hello 2\none" {
		t.Fatalf("the built image's build args: %q", got)
	}
	eventually(t, 10*time.Second, func() error {
		if got := a.MustDocker("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}", "lc-failer-1"); got != "exited 3 2" {
			return fmt.Errorf("failer with on-failure:2: %q", got)
		}
		return nil
	})
	if got := mustCompose(t, run, "logs", "--no-log-prefix", "failer"); got != "run\nrun\nrun" {
		t.Errorf("failer's logs: %q", got)
	}
	// The stop signal.
	mustCompose(t, run, "stop", "trapper")
	if got := mustCompose(t, run, "logs", "--no-log-prefix", "trapper"); got != "ready\ngot-usr1" {
		t.Errorf("trapper stopped with SIGUSR1: %q", got)
	}
	// Scale: every replica answers by the service's name.
	mustCompose(t, run, "up", "-d", "--scale", "web=3", "web")
	if got := mustCompose(t, run, "ps", "--format", "{{.Name}}", "web"); strings.Join(strings.Fields(got), " ") != "lc-web-1 lc-web-2 lc-web-3" {
		t.Fatalf("after --scale web=3: %q", got)
	}
	if got := mustCompose(t, run, "exec", "-T", "ticker", "sh", "-c", "grep -c ' web$' /etc/hosts; wget -qO /dev/null http://web/ || echo fail"); got != "3" {
		t.Errorf("the replicas by the service's name: %q", got)
	}
	// Lifecycle verbs.
	for _, verb := range [][]string{{"pause", "web"}, {"unpause", "web"}, {"restart", "-t", "1", "ticker"}, {"kill", "-s", "SIGKILL", "web"}, {"start", "web"}} {
		mustCompose(t, run, verb...)
	}
	if got := mustCompose(t, run, "ps", "--format", "{{.Service}}:{{.State}}", "web", "ticker"); strings.Join(strings.Fields(got), " ") != "ticker:running web:running web:running web:running" {
		t.Errorf("after pause, unpause, restart, kill, start: %q", got)
	}
	// cp in and out.
	os.WriteFile(filepath.Join(dir, "in.txt"), []byte("copied\n"), 0o644)
	mustCompose(t, run, "cp", "in.txt", "ticker:/tmp/in.txt")
	mustCompose(t, run, "cp", "ticker:/greeting", filepath.Join(dir, "out.txt"))
	if b, _ := os.ReadFile(filepath.Join(dir, "out.txt")); string(b) != "hello 2\n" || mustCompose(t, run, "exec", "-T", "ticker", "cat", "/tmp/in.txt") != "copied" {
		t.Errorf("compose cp: %q", b)
	}
	if got := mustCompose(t, run, "logs", "--tail", "1", "--no-log-prefix", "ticker"); !strings.HasPrefix(got, "tick ") || strings.Contains(got, "\n") {
		t.Errorf("logs --tail 1: %q", got)
	}
	if got := mustCompose(t, run, "run", "--rm", "ep"); got != "entry a b" {
		t.Errorf("run of the entrypoint service: %q", got)
	}
	// --force-recreate replaces; an unchanged up does not; a changed config does.
	id := func() string { return a.MustDocker("inspect", "-f", "{{.Id}}", "lc-ticker-1") }
	first := id()
	mustCompose(t, run, "up", "-d", "--force-recreate", "ticker")
	second := id()
	mustCompose(t, run, "up", "-d", "ticker")
	if first == second || id() != second {
		t.Errorf("ticker's IDs: %s, after --force-recreate %s, after up %s", first, second, id())
	}
	os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(file("two")), 0o644)
	mustCompose(t, run, "up", "-d", "ticker")
	if id() == second || mustCompose(t, run, "exec", "-T", "ticker", "sh", "-c", "echo $MODE") != "two" {
		t.Errorf("a changed config was not recreated")
	}
	// compose removes its image with noprune (the build's steps stay, as with Docker's).
	down := run("down", "-v", "-t", "1", "--rmi", "local", "--remove-orphans")
	if got := a.MustDocker("images", "-a", "--format", "{{.Repository}}"); down.Code != 0 || strings.Contains(got, "lc-ticker") || !strings.Contains(got, "localhost/bb") {
		t.Fatalf("images after down --rmi local: %q (%s)", got, down)
	}
	if out := a.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers after down: %q", out)
	}
}

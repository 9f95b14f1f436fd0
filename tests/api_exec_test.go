package tests

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// execInspect is the part of GET /exec/{id}/json the tests read.
type execInspect struct {
	ID            string
	Running       bool
	ExitCode      *int
	ContainerID   string
	OpenStdout    bool
	ProcessConfig struct {
		Tty        bool     `json:"tty"`
		Entrypoint string   `json:"entrypoint"`
		Arguments  []string `json:"arguments"`
		User       string   `json:"user"`
	}
}

// TestAPIExec runs docker exec against the service: output and exit codes, stdin, separate
// stderr, environment, user and working directory, a detached process, a terminal, and the
// refusal for a container that does not run.
func TestAPIExec(t *testing.T) {
	a := newAPIEnv(t)
	id := a.MustDocker("run", "-d", "--network", "none", "localhost/bb", "sleep", "1000")
	t.Cleanup(func() { a.Docker("rm", "-f", id) })

	if out := a.MustDocker("exec", id, "echo", "hi"); out != "hi" {
		t.Fatalf("exec echo: %q", out)
	}
	if r := a.Docker("exec", id, "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("exec exit 3: %s", r)
	}
	if r := a.Docker("exec", id, "nosuchcommand"); r.Code == 0 {
		t.Fatalf("exec of a missing command succeeded: %s", r)
	}
	r := a.Docker("exec", id, "sh", "-c", "echo out; echo err >&2")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "out" || strings.TrimSpace(r.Stderr) != "err" {
		t.Fatalf("stdout and stderr apart: %s", r)
	}
	r = a.DockerIn("line one\nline two\n", "exec", "-i", id, "cat")
	if r.Code != 0 || r.Stdout != "line one\nline two\n" {
		t.Fatalf("exec -i cat: %s", r)
	}
	r = a.DockerIn("echo from-stdin\nexit 5\n", "exec", "-i", id, "sh")
	if r.Code != 5 || strings.TrimSpace(r.Stdout) != "from-stdin" {
		t.Fatalf("exec -i sh: %s", r)
	}
	out := a.MustDocker("exec", "-e", "A=B", "-u", "1000", "-w", "/tmp", id, "sh", "-c", `echo "$A $(id -u) $(pwd)"`)
	if out != "B 1000 /tmp" {
		t.Fatalf("exec env, user, workdir: %q", out)
	}

	// Privileged: every capability (CAP_SYS_ADMIN among them), where the default set lacks it.
	capEff := func(args ...string) uint64 {
		t.Helper()
		out := a.MustDocker(append(append([]string{"exec"}, args...), id, "grep", "CapEff", "/proc/self/status")...)
		n, err := strconv.ParseUint(strings.TrimSpace(strings.TrimPrefix(out, "CapEff:")), 16, 64)
		if err != nil {
			t.Fatalf("CapEff %q: %v", out, err)
		}
		return n
	}
	const capSysAdmin = 1 << 21
	if plain, priv := capEff(), capEff("--privileged"); plain&capSysAdmin != 0 || priv&capSysAdmin == 0 || priv&plain != plain {
		t.Fatalf("capabilities: default %x, --privileged %x", plain, priv)
	}

	// Detached: the client returns at once, the process runs on.
	start := time.Now()
	a.MustDocker("exec", "-d", id, "sleep", "100")
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("exec -d took %s", d)
	}
	eventually(t, 5*time.Second, func() error {
		if top := a.MustDocker("top", id); !strings.Contains(top, "sleep 100") {
			return fmt.Errorf("no detached sleep in docker top:\n%s", top)
		}
		return nil
	})

	// A terminal: the process's stdio is one, and the exit code still comes back.
	r = a.Docker("exec", "-t", id, "sh", "-c", "tty; exit 4")
	if r.Code != 4 || !strings.Contains(r.Stdout, "/dev/pts/") {
		t.Fatalf("exec -t: %s", r)
	}

	// A container that does not run has no exec.
	stopped := a.MustDocker("create", "--network", "none", "localhost/bb", "true")
	r = a.Docker("exec", stopped, "echo", "x")
	if r.Code == 0 || !strings.Contains(r.Stderr, "is not running") {
		t.Fatalf("exec in a created container: %s", r)
	}
	if code, body := a.Request("POST", "/containers/"+stopped+"/exec", map[string]any{"Cmd": []string{"true"}}); code != http.StatusConflict {
		t.Fatalf("exec create in a created container: %d %s", code, body)
	}
	if code, body := a.Request("POST", "/containers/nosuch/exec", map[string]any{"Cmd": []string{"true"}}); code != http.StatusNotFound {
		t.Fatalf("exec create in a missing container: %d %s", code, body)
	}
	a.MustDocker("rm", stopped)
}

// TestAPIExecInspect drives exec sessions with raw requests: create, a detached start,
// inspect while it runs and after (its exit code), a second start refused, the errors, and
// the resizes of a terminal session.
func TestAPIExecInspect(t *testing.T) {
	a := newAPIEnv(t)
	id := a.MustDocker("run", "-d", "--network", "none", "localhost/bb", "sleep", "1000")
	t.Cleanup(func() { a.Docker("rm", "-f", id) })

	if code, body := a.Request("POST", "/containers/"+id+"/exec", map[string]any{"Cmd": []string{}}); code != http.StatusBadRequest {
		t.Fatalf("exec create without a command: %d %s", code, body)
	}
	var created struct{ Id string }
	a.RequestJSON("POST", "/v1.41/containers/"+id+"/exec", map[string]any{
		"AttachStdout": true, "Cmd": []string{"sh", "-c", "sleep 1; exit 7"}, "User": "1000",
	}, http.StatusCreated, &created)
	if len(created.Id) != 64 {
		t.Fatalf("exec ID %q", created.Id)
	}
	var ei execInspect
	a.RequestJSON("GET", "/exec/"+created.Id+"/json", nil, http.StatusOK, &ei)
	if ei.Running || ei.ExitCode != nil || ei.ID != created.Id || ei.ContainerID != id || !ei.OpenStdout ||
		ei.ProcessConfig.Entrypoint != "sh" || strings.Join(ei.ProcessConfig.Arguments, " ") != "-c sleep 1; exit 7" || ei.ProcessConfig.User != "1000" {
		t.Fatalf("exec inspect before start: %+v", ei)
	}
	a.RequestJSON("POST", "/v1.41/exec/"+created.Id+"/start", map[string]any{"Detach": true}, http.StatusOK, nil)
	a.RequestJSON("GET", "/exec/"+created.Id+"/json", nil, http.StatusOK, &ei)
	if !ei.Running || ei.ExitCode != nil {
		t.Fatalf("exec inspect while it runs: %+v", ei)
	}
	eventually(t, 10*time.Second, func() error {
		a.RequestJSON("GET", "/exec/"+created.Id+"/json", nil, http.StatusOK, &ei)
		if ei.Running || ei.ExitCode == nil {
			return fmt.Errorf("exec still running: %+v", ei)
		}
		return nil
	})
	if *ei.ExitCode != 7 {
		t.Fatalf("exec exit code %d, want 7", *ei.ExitCode)
	}
	if code, body := a.Request("POST", "/exec/"+created.Id+"/start", map[string]any{"Detach": true}); code != http.StatusConflict {
		t.Fatalf("second start: %d %s", code, body)
	}
	if code, body := a.Request("GET", "/exec/nosuch/json", nil); code != http.StatusNotFound || !strings.Contains(string(body), "No such exec instance") {
		t.Fatalf("inspect of a missing exec: %d %s", code, body)
	}

	// A terminal's size: one asked before the start is given once the terminal exists (the
	// process may start before: it waits for a size), one asked while it runs reaches it.
	waitExec := func(id string) execInspect {
		t.Helper()
		var ei execInspect
		eventually(t, 15*time.Second, func() error {
			a.RequestJSON("GET", "/exec/"+id+"/json", nil, http.StatusOK, &ei)
			if ei.Running || ei.ExitCode == nil {
				return fmt.Errorf("exec still running: %+v", ei)
			}
			return nil
		})
		return ei
	}
	waitSize := func(want, file string) []string {
		return []string{"sh", "-c", `for i in $(seq 100); do s=$(stty size); [ "$s" = "` + want + `" ] && break; sleep 0.1; done; echo "$s" > ` + file}
	}
	a.RequestJSON("POST", "/containers/"+id+"/exec", map[string]any{"Tty": true, "Cmd": waitSize("33 91", "/tmp/size1")}, http.StatusCreated, &created)
	a.RequestJSON("POST", "/exec/"+created.Id+"/resize?h=33&w=91", nil, http.StatusOK, nil)
	a.RequestJSON("POST", "/exec/"+created.Id+"/start", map[string]any{"Detach": true, "Tty": true}, http.StatusOK, nil)
	if ei := waitExec(created.Id); *ei.ExitCode != 0 || !ei.ProcessConfig.Tty {
		t.Fatalf("terminal exec: %+v", ei)
	}
	if out := a.MustDocker("exec", id, "cat", "/tmp/size1"); out != "33 91" {
		t.Fatalf("terminal size %q, want 33 91 (asked before the start)", out)
	}
	a.RequestJSON("POST", "/containers/"+id+"/exec", map[string]any{"Tty": true, "Cmd": waitSize("44 120", "/tmp/size2")}, http.StatusCreated, &created)
	a.RequestJSON("POST", "/exec/"+created.Id+"/start", map[string]any{"Detach": true, "Tty": true}, http.StatusOK, nil)
	time.Sleep(300 * time.Millisecond)
	a.RequestJSON("POST", "/exec/"+created.Id+"/resize?h=44&w=120", nil, http.StatusOK, nil)
	waitExec(created.Id)
	if out := a.MustDocker("exec", id, "cat", "/tmp/size2"); out != "44 120" {
		t.Fatalf("terminal size %q, want 44 120 (asked while it runs)", out)
	}
}

// netInspect is the part of a network's inspect the tests read.
type netInspect struct {
	Name   string
	Id     string
	Driver string
	Scope  string
	IPAM   struct {
		Driver string
		Config []struct{ Subnet, Gateway string }
	}
	Containers map[string]struct{ Name, IPv4Address string }
	Labels     map[string]string
}

// TestAPINetwork creates a network with docker, lists and inspects it, runs two containers on
// it that reach each other, and removes it (refused while they use it).
func TestAPINetwork(t *testing.T) {
	a := newAPIEnv(t)
	const net = "apinet"
	nid := a.MustDocker("network", "create", "--subnet", "10.213.57.0/24", "--label", "team=blue", net)
	t.Cleanup(func() { a.Try("network", "rm", "-f", net) })
	if len(nid) != 64 {
		t.Fatalf("network create printed %q", nid)
	}
	if r := a.Docker("network", "create", net); r.Code == 0 || !strings.Contains(r.Stderr, "already exists") {
		t.Fatalf("duplicate network create: %s", r)
	}
	if ls := a.MustDocker("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"); !strings.Contains(ls, net+" bridge local") {
		t.Fatalf("network ls:\n%s", ls)
	}
	if ls := a.MustDocker("network", "ls", "-q", "--no-trunc", "--filter", "label=team=blue"); ls != nid {
		t.Fatalf("network ls by label: %q", ls)
	}
	if ls := a.MustDocker("network", "ls", "-q", "--filter", "label=team=red"); ls != "" {
		t.Fatalf("network ls by another label: %q", ls)
	}
	if name := a.MustDocker("network", "inspect", "-f", "{{.Name}} {{.Driver}}", net); name != net+" bridge" {
		t.Fatalf("docker network inspect: %q", name)
	}
	var n netInspect
	a.RequestJSON("GET", "/networks/"+net, nil, http.StatusOK, &n)
	if n.Name != net || n.Id != nid || n.Driver != "bridge" || n.Scope != "local" || n.IPAM.Driver != "default" ||
		len(n.IPAM.Config) != 1 || n.IPAM.Config[0].Subnet != "10.213.57.0/24" || n.IPAM.Config[0].Gateway != "10.213.57.1" || n.Labels["team"] != "blue" {
		t.Fatalf("network inspect: %+v", n)
	}

	// Two containers on it reach each other by address (ping needs its raw socket).
	c1 := a.MustDocker("run", "-d", "--network", net, "--cap-add", "NET_RAW", "localhost/bb", "sleep", "1000")
	c2 := a.MustDocker("run", "-d", "--network", net, "localhost/bb", "sleep", "1000")
	ip2 := a.MustDocker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", c2)
	if !strings.HasPrefix(ip2, "10.213.57.") {
		t.Fatalf("second container's address %q", ip2)
	}
	if r := a.Docker("exec", c1, "ping", "-c1", "-W2", ip2); r.Code != 0 {
		t.Fatalf("ping %s: %s", ip2, r)
	}
	var on netInspect
	a.RequestJSON("GET", "/networks/"+nid[:12], nil, http.StatusOK, &on)
	if len(on.Containers) != 2 || on.Containers[c2].IPv4Address != ip2+"/24" {
		t.Fatalf("network's containers: %+v", on.Containers)
	}

	if r := a.Docker("network", "rm", net); r.Code == 0 || !strings.Contains(r.Stderr, "active endpoints") {
		t.Fatalf("network rm in use: %s", r)
	}
	if code, body := a.Request("DELETE", "/networks/"+net, nil); code != http.StatusConflict {
		t.Fatalf("DELETE of a network in use: %d %s", code, body)
	}
	a.MustDocker("rm", "-f", c1, c2)
	a.MustDocker("network", "rm", net)
	if ls := a.MustDocker("network", "ls", "--format", "{{.Name}}"); strings.Contains(ls, net) {
		t.Fatalf("network still listed after rm:\n%s", ls)
	}
	if code, body := a.Request("DELETE", "/networks/"+net, nil); code != http.StatusNotFound {
		t.Fatalf("DELETE of a missing network: %d %s", code, body)
	}
}

// TestAPINetworkConnectAndBridge: the default network answers to "bridge" too; a running
// container joins it and leaves it again (docker network connect/disconnect); prune removes
// the unused networks only.
func TestAPINetworkConnectAndBridge(t *testing.T) {
	a := newAPIEnv(t)
	var def, bridge netInspect
	a.RequestJSON("GET", "/networks/pea", nil, http.StatusOK, &def)
	a.RequestJSON("GET", "/networks/bridge", nil, http.StatusOK, &bridge)
	if def.Id == "" || bridge.Id != def.Id || bridge.Name != "pea" {
		t.Fatalf("bridge is not the default network: %+v vs %+v", bridge, def)
	}
	if out := a.MustDocker("network", "inspect", "-f", "{{.Id}}", "bridge"); out != def.Id {
		t.Fatalf("docker network inspect bridge: %q", out)
	}
	if r := a.Docker("network", "rm", "bridge"); r.Code == 0 {
		t.Fatalf("the default network was removed: %s", r)
	}

	const net, unused = "apiconn", "apiunused"
	a.MustDocker("network", "create", "--subnet", "10.213.58.0/24", net)
	t.Cleanup(func() { a.Try("network", "rm", "-f", net) })
	a.MustDocker("network", "create", "--subnet", "10.213.59.0/24", unused)
	t.Cleanup(func() { a.Try("network", "rm", "-f", unused) })
	c := a.MustDocker("run", "-d", "--network", net, "localhost/bb", "sleep", "1000")
	t.Cleanup(func() { a.Docker("rm", "-f", c) })

	nets := func() string {
		return a.MustDocker("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}} {{end}}", c)
	}
	a.MustDocker("network", "connect", "bridge", c)
	got := nets()
	if !strings.Contains(got, "pea=") || strings.Contains(got, "pea= ") || !strings.Contains(got, net+"=10.213.58.") {
		t.Fatalf("after connect to bridge: %q", got)
	}
	// The container's new interface is up: it has an address of the default network.
	if out := a.MustDocker("exec", c, "sh", "-c", "ip -4 addr | grep -c 'inet '"); out != "3" {
		t.Fatalf("addresses after connect:\n%s", out)
	}
	if r := a.Docker("network", "connect", "bridge", c); r.Code == 0 {
		t.Fatalf("second connect: %s", r)
	}
	a.MustDocker("network", "disconnect", "bridge", c)
	if got := nets(); strings.Contains(got, "pea=") || !strings.Contains(got, net+"=") {
		t.Fatalf("after disconnect: %q", got)
	}
	if out := a.MustDocker("exec", c, "sh", "-c", "ip -4 addr | grep -c 'inet '"); out != "2" {
		t.Fatalf("addresses after disconnect:\n%s", out)
	}
	// docker network connect --ip: the container's address on that network.
	c2 := a.MustDocker("run", "-d", "localhost/bb", "sleep", "1000")
	t.Cleanup(func() { a.Docker("rm", "-f", c2) })
	a.MustDocker("network", "connect", "--ip", "10.213.58.77", net, c2)
	if got := a.MustDocker("inspect", "-f", "{{(index .NetworkSettings.Networks \""+net+"\").IPAddress}}", c2); got != "10.213.58.77" {
		t.Fatalf("network connect --ip: %q", got)
	}
	a.MustDocker("network", "disconnect", net, c2)

	out := a.MustDocker("network", "prune", "-f")
	if !strings.Contains(out, unused) || strings.Contains(out, net) {
		t.Fatalf("network prune: %q", out)
	}
	ls := a.MustDocker("network", "ls", "--format", "{{.Name}}")
	if strings.Contains(ls, unused) || !strings.Contains(ls, net) || !strings.Contains(ls, "pea") {
		t.Fatalf("networks after prune:\n%s", ls)
	}
}

// volInspect is the part of a volume's inspect the tests read.
type volInspect struct {
	Name, Driver, Mountpoint, CreatedAt, Scope string
	Labels                                     map[string]string
}

// TestAPIVolume creates, lists, inspects, uses, removes and prunes volumes with docker.
func TestAPIVolume(t *testing.T) {
	a := newAPIEnv(t)
	if out := a.MustDocker("volume", "create", "--label", "team=blue", "apivol"); out != "apivol" {
		t.Fatalf("volume create: %q", out)
	}
	if out := a.MustDocker("volume", "create", "apivol"); out != "apivol" { // Docker's: the one there
		t.Fatalf("second volume create: %q", out)
	}
	var v volInspect
	a.RequestJSON("GET", "/volumes/apivol", nil, http.StatusOK, &v)
	if v.Name != "apivol" || v.Driver != "local" || v.Scope != "local" || v.Labels["team"] != "blue" || v.Mountpoint == "" {
		t.Fatalf("volume inspect: %+v", v)
	}
	if _, err := time.Parse(time.RFC3339, v.CreatedAt); err != nil {
		t.Fatalf("volume CreatedAt %q: %v", v.CreatedAt, err)
	}
	if out := a.MustDocker("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{.Labels.team}}", "apivol"); out != "apivol local blue" {
		t.Fatalf("docker volume inspect: %q", out)
	}
	if code, body := a.Request("GET", "/volumes/nosuch", nil); code != http.StatusNotFound {
		t.Fatalf("inspect of a missing volume: %d %s", code, body)
	}

	// Data written by one container is there for the next.
	a.MustDocker("run", "--rm", "--network", "none", "-v", "apivol:/data", "localhost/bb", "sh", "-c", "echo persisted > /data/f")
	if out := a.MustDocker("run", "--rm", "--network", "none", "-v", "apivol:/data", "localhost/bb", "cat", "/data/f"); out != "persisted" {
		t.Fatalf("volume data: %q", out)
	}

	// docker run makes a volume it names; in use, it is not removed.
	c := a.MustDocker("run", "-d", "--network", "none", "-v", "apiused:/d", "localhost/bb", "sleep", "1000")
	t.Cleanup(func() { a.Docker("rm", "-f", c) })
	ls := a.MustDocker("volume", "ls", "--format", "{{.Driver}} {{.Name}}")
	if !strings.Contains(ls, "local apivol") || !strings.Contains(ls, "local apiused") {
		t.Fatalf("volume ls:\n%s", ls)
	}
	if ls := a.MustDocker("volume", "ls", "-q", "--filter", "label=team=blue"); ls != "apivol" {
		t.Fatalf("volume ls by label: %q", ls)
	}
	if ls := a.MustDocker("volume", "ls", "-q", "--filter", "dangling=false"); ls != "apiused" {
		t.Fatalf("volume ls of used volumes: %q", ls)
	}
	if r := a.Docker("volume", "rm", "apiused"); r.Code == 0 || !strings.Contains(r.Stderr, "in use") {
		t.Fatalf("volume rm in use: %s", r)
	}
	if code, body := a.Request("DELETE", "/volumes/apiused?force=1", nil); code != http.StatusConflict {
		t.Fatalf("forced DELETE of a volume in use: %d %s", code, body)
	}
	// (Clients word the 404 their own way: "no such volume" in 28, "No such volume" in 20.10.)
	if r := a.Docker("volume", "rm", "nosuch"); r.Code == 0 || !strings.Contains(strings.ToLower(r.Stderr), "no such volume") {
		t.Fatalf("volume rm of a missing volume: %s", r)
	}

	// Prune takes the unused ones only; then rm of the freed one works.
	a.MustDocker("volume", "create", "apispare")
	out := a.MustDocker("volume", "prune", "-f")
	if !strings.Contains(out, "apivol") || !strings.Contains(out, "apispare") || strings.Contains(out, "apiused") {
		t.Fatalf("volume prune: %q", out)
	}
	if ls := a.MustDocker("volume", "ls", "-q"); ls != "apiused" {
		t.Fatalf("volumes after prune: %q", ls)
	}
	a.MustDocker("rm", "-f", c)
	a.MustDocker("volume", "rm", "apiused")
	if ls := a.MustDocker("volume", "ls", "-q"); ls != "" {
		t.Fatalf("volumes after rm: %q", ls)
	}
}

// TestAPIImageVolume: an image's VOLUME is an anonymous volume holding the image's content
// under docker run (Docker's rule), removed by run --rm and rm -v, kept by rm.
func TestAPIImageVolume(t *testing.T) {
	a := newAPIEnv(t)
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nRUN mkdir -p /data && echo seeded > /data/seed\nVOLUME /data\n"), 0o644)
	a.Pea("build", "-q", "-t", "localhost/volimg", ctx)
	if out := a.MustDocker("run", "--rm", "--network", "none", "localhost/volimg", "sh", "-c", "mount | grep -c ' /data '; cat /data/seed"); out != "1\nseeded" {
		t.Fatalf("docker run of an image with a VOLUME: %q", out)
	}
	if ls := a.MustDocker("volume", "ls", "-q"); ls != "" {
		t.Fatalf("run --rm left the anonymous volume: %q", ls)
	}
	c := a.MustDocker("create", "--network", "none", "localhost/volimg", "true")
	vol := a.MustDocker("inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", c)
	if ls := a.MustDocker("volume", "ls", "-q"); vol == "" || ls != vol {
		t.Fatalf("the container's volume %q, volume ls %q", vol, ls)
	}
	a.MustDocker("rm", c)
	if ls := a.MustDocker("volume", "ls", "-q"); ls != vol {
		t.Fatalf("rm without -v removed the volume: %q", ls)
	}
	c = a.MustDocker("create", "--network", "none", "localhost/volimg", "true")
	a.MustDocker("rm", "-v", c)
	if ls := a.MustDocker("volume", "ls", "-q"); ls != vol {
		t.Fatalf("rm -v left the second container's volume: %q", ls)
	}
}

// TestAPIVolumeDriverOpts: compose's bind of a host directory through a volume's driver
// options (docker volume create -o type=none -o o=bind -o device=DIR) reaches the directory.
func TestAPIVolumeDriverOpts(t *testing.T) {
	a := newAPIEnv(t)
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "h"), []byte("from-host"), 0o644)
	a.MustDocker("volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device="+host, "hostdata")
	if out := a.MustDocker("run", "--rm", "--network", "none", "-v", "hostdata:/x", "localhost/bb", "cat", "/x/h"); out != "from-host" {
		t.Fatalf("docker run with the bind volume: %q", out)
	}
	if r := a.Docker("volume", "create", "-o", "nosuch=1", "badopts"); r.Code == 0 || !strings.Contains(r.Stderr, "invalid mount option nosuch") {
		t.Fatalf("an unknown driver option: %s", r)
	}
}

// A detached terminal exec's console socket lives in the store's run root: its holder,
// killed with the container, left a directory in /tmp behind each time (one a suite run).
func TestAPITerminalExecLeavesNothingInTmp(t *testing.T) {
	before, _ := filepath.Glob("/tmp/pea-exec-*")
	a := newAPIEnv(t)
	id := a.MustDocker("run", "-d", "--network", "none", "localhost/bb", "sleep", "1000")
	var created struct{ Id string }
	a.RequestJSON("POST", "/containers/"+id+"/exec", map[string]any{"Tty": true, "Cmd": []string{"sleep", "1000"}}, http.StatusCreated, &created)
	a.RequestJSON("POST", "/exec/"+created.Id+"/start", map[string]any{"Detach": true, "Tty": true}, http.StatusOK, nil)
	eventually(t, 10*time.Second, func() error {
		if dirs, _ := filepath.Glob(filepath.Join(a.RunRoot, "exec", "term-*")); len(dirs) != 1 {
			return fmt.Errorf("console socket directories in the run root: %v", dirs)
		}
		return nil
	})
	a.MustDocker("rm", "-f", id) // the exec's holder goes with the container, killed
	if after, _ := filepath.Glob("/tmp/pea-exec-*"); len(after) != len(before) {
		t.Fatalf("/tmp/pea-exec-* before %d, after %d", len(before), len(after))
	}
}

package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Side-by-side parity with podman 4.3.1 of the container and pod verbs: output text, column
// layout, JSON keys and types, exit codes. Each check holds pea to what podman 4.3.1 printed for
// the same command.

// TestParityPsFlagsFormatsFilters: ps's -n is --last; --sort and a few filters check their
// values; the template fields are podman's (Networks a joined string naming the default
// network, State the human status, ImageID short, Created a time); a "table" template takes its
// spaces for column breaks; --format json has podman's zero times and nulls; --size shows the
// writable layer and the virtual size.
func TestParityPsFlagsFormatsFilters(t *testing.T) {
	e := newEnv(t).withBusybox()
	bind := t.TempDir()
	e.Pea("create", "--name", "k1", "-v", bind+":/hostdir", "localhost/bb", "true")
	e.Pea("create", "--name", "k2", "--network", "none", "localhost/bb", "true")
	if out := e.Pea("ps", "-n", "1", "--format", "{{.Names}}"); out != "k2" {
		t.Fatalf("ps -n 1 (--last): %q", out)
	}
	if out := e.Pea("ps", "-a", "--noheading", "--format", "table {{.Names}}", "--sort", "names"); out != "k1\nk2" {
		t.Fatalf("--noheading: %q", out)
	}
	r := e.Fails(125, "ps", "-a", "--sort", "bogus")
	if !strings.Contains(r.Stderr, `"bogus" is not a valid value.  Choose from: "command, created, id, image, names, runningfor, size, status"`) {
		t.Fatalf("--sort bogus: %s", r)
	}
	e.Fails(125, "ps", "-a", "--filter", "exited=x")
	e.Fails(125, "ps", "-a", "--filter", "restart-policy=bogus")
	if out := e.Pea("ps", "-a", "--filter", "volume="+bind, "--format", "{{.Names}}"); out != "k1" {
		t.Fatalf("volume= a bind mount's source: %q", out)
	}
	if out := e.Pea("ps", "-a", "--filter", "volume="+bind+":/hostdir", "--format", "{{.Names}}"); out != "k1" {
		t.Fatalf("volume=SOURCE:DESTINATION: %q", out)
	}

	out := e.Pea("ps", "-a", "--sort", "names", "--format", "{{.Names}}|{{.Networks}}|{{.State}}|{{.Status}}|{{.AutoRemove}}")
	if out != "k1|pea|Created|Created|false\nk2||Created|Created|false" {
		t.Fatalf("Networks, State, AutoRemove: %q", out)
	}
	if out := e.Pea("ps", "-a", "--filter", "network=pea", "--format", "{{.Names}}"); out != "k1" {
		t.Fatalf("network= the default network: %q", out)
	}
	img := e.Pea("images", "--no-trunc", "-q", "localhost/bb")
	img = strings.TrimPrefix(img, "sha256:")
	if out := e.Pea("ps", "-a", "-n", "1", "--format", "{{.ImageID}}"); out != img[:12] {
		t.Fatalf("ImageID %q, want %q", out, img[:12])
	}
	if out := e.Pea("ps", "-a", "-n", "1", "--no-trunc", "--format", "{{.ImageID}}"); out != img {
		t.Fatalf("ImageID --no-trunc %q, want %q", out, img)
	}
	if out := e.Pea("ps", "-a", "-n", "1", "--format", "{{.Created}}|{{.StartedAt}}|{{.ExitedAt}}"); !regexp.MustCompile(`^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 UTC\|-62135596800\|-62135596800$`).MatchString(out) {
		t.Fatalf("Created (a time), StartedAt, ExitedAt (podman's zero time): %q", out)
	}
	// A table template's spaces are column breaks, as podman's.
	lines := strings.Split(e.Pea("ps", "-a", "--sort", "names", "--format", "table {{.Names}} {{.Status}}"), "\n")
	if len(lines) != 3 || lines[0] != "NAMES       STATUS" || lines[1] != "k1          Created" {
		t.Fatalf("table with spaces: %q", lines)
	}

	var js []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("ps", "-a", "--sort", "names", "--format", "json")), &js); err != nil || len(js) != 2 {
		t.Fatalf("ps json: %v %v", err, js)
	}
	if js[0]["StartedAt"] != float64(-62135596800) || js[0]["ExitedAt"] != float64(-62135596800) || js[0]["Ports"] != nil ||
		js[0]["State"] != "created" {
		t.Fatalf("ps json times, ports, state: %v", js[0])
	}
	if size, ok := js[0]["Size"]; !ok || size != nil {
		t.Fatalf("ps json Size: %v %v", size, ok)
	}
	if nets, _ := js[0]["Networks"].([]any); len(nets) != 1 || nets[0] != "pea" {
		t.Fatalf("ps json Networks: %v", js[0]["Networks"])
	}
	if nets, _ := js[1]["Networks"].([]any); nets == nil || len(nets) != 0 {
		t.Fatalf("ps json Networks of --network none: %v", js[1]["Networks"])
	}
	if out := e.Pea("ps", "-a", "-s", "-n", "1", "--format", "{{.Size}}"); !regexp.MustCompile(`^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)$`).MatchString(out) {
		t.Fatalf("ps --size: %q", out)
	}
	if err := json.Unmarshal([]byte(e.Pea("ps", "-a", "-s", "-n", "1", "--format", "json")), &js); err != nil {
		t.Fatal(err)
	}
	if size, _ := js[0]["Size"].(map[string]any); size == nil || size["rootFsSize"].(float64) < 1000 {
		t.Fatalf("ps --size json: %v", js[0]["Size"])
	}

	// An infra container's command is its pause image's in podman: the listing shows none.
	e.Pea("pod", "create", "--name", "pps")
	if out := e.Pea("ps", "-a", "--filter", "pod=pps", "--format", "[{{.Command}}]"); out != "[]" {
		t.Fatalf("infra command: %q", out)
	}
}

// TestParityInspectTemplatesAndKeys: inspect's templates take podman's .Id, .ImageID, .Src and
// .Dst; the JSON has podman 4.3's keys and types (Env with the runtime's variables, devices,
// capabilities, ulimits and mounts as objects, a State.Health for every container).
func TestParityInspectTemplatesAndKeys(t *testing.T) {
	e := newEnv(t).withBusybox()
	bind := t.TempDir()
	e.Pea("create", "--name", "k1", "-v", bind+":/b:ro", "-v", "kv:/v", "--tmpfs", "/t:size=1m", "--device", "/dev/null:/dev/xnull",
		"--cap-add", "net_admin", "--ulimit", "nofile=100:200", "-e", "X=1", "localhost/bb", "sleep", "100")
	id := e.Pea("inspect", "--format", "{{.ID}}", "k1")
	if out := e.Pea("inspect", "--format", "{{.Id}}|{{ .Id }}", "k1"); out != id+"|"+id {
		t.Fatalf("{{.Id}}: %q", out)
	}
	if out := e.Pea("inspect", "--format", "{{.ImageID}}", "k1"); out != e.Pea("inspect", "--format", "{{.Image}}", "k1") || len(out) != 64 {
		t.Fatalf("{{.ImageID}}: %q", out)
	}
	if out := e.Pea("inspect", "--format", "{{range .Mounts}}{{.Src}}>{{.Dst}} {{end}}", "k1"); out != filepath.Join(e.Root, "volumes/kv/_data")+">/v "+bind+">/b" {
		t.Fatalf("mounts with .Src and .Dst (named volumes first): %q", out)
	}
	var v []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("inspect", "k1")), &v); err != nil || len(v) != 1 {
		t.Fatal(err)
	}
	c := v[0]
	for _, k := range []string{"ImageDigest", "StaticDir", "PidFile", "ConmonPidFile", "OCIRuntime", "AppArmorProfile", "EffectiveCaps",
		"BoundingCaps", "ExecIDs", "GraphDriver", "IsService"} {
		if _, ok := c[k]; !ok {
			t.Errorf("inspect lacks %s", k)
		}
	}
	for _, k := range []string{"LogPath", "CreateCommand", "LockNumber"} {
		if _, ok := c[k]; ok {
			t.Errorf("inspect has %s, which podman's has not at the top", k)
		}
	}
	st := c["State"].(map[string]any)
	if h, _ := st["Health"].(map[string]any); h == nil || h["Status"] != "" || h["Log"] != nil {
		t.Errorf("State.Health of a container without a health check: %v", st["Health"])
	}
	cfg := c["Config"].(map[string]any)
	env := strings.Join(anyStrings(cfg["Env"]), " ")
	for _, want := range []string{"X=1", "TERM=xterm", "container=pea", "PATH="} {
		if !strings.Contains(env, want) {
			t.Errorf("Config.Env lacks %s: %s", want, env)
		}
	}
	if cfg["Labels"] != nil || cfg["Umask"] != "0022" || cfg["Passwd"] != true || cfg["HealthcheckOnFailureAction"] != "none" {
		t.Errorf("Config: %v", cfg)
	}
	hc := c["HostConfig"].(map[string]any)
	if got := anyStrings(hc["CapAdd"]); len(got) != 1 || got[0] != "CAP_NET_ADMIN" {
		t.Errorf("HostConfig.CapAdd: %v", hc["CapAdd"])
	}
	devs, _ := hc["Devices"].([]any)
	if len(devs) != 1 || devs[0].(map[string]any)["PathInContainer"] != "/dev/xnull" || devs[0].(map[string]any)["PathOnHost"] != "/dev/null" {
		t.Errorf("HostConfig.Devices: %v", hc["Devices"])
	}
	ul, _ := hc["Ulimits"].([]any)
	found := false
	for _, u := range ul {
		if m := u.(map[string]any); m["Name"] == "RLIMIT_NOFILE" && m["Soft"] == float64(100) && m["Hard"] == float64(200) {
			found = true
		}
	}
	if !found {
		t.Errorf("HostConfig.Ulimits: %v", hc["Ulimits"])
	}
	if got := anyStrings(hc["Binds"]); len(got) != 2 || got[0] != "kv:/v:rw,rprivate,nosuid,nodev,rbind" || got[1] != bind+":/b:ro,rprivate,rbind" {
		t.Errorf("HostConfig.Binds: %v", hc["Binds"])
	}
	if tm, _ := hc["Tmpfs"].(map[string]any); tm["/t"] != "size=1m,rw,rprivate,nosuid,nodev,tmpcopyup" {
		t.Errorf("HostConfig.Tmpfs: %v", hc["Tmpfs"])
	}
	if hc["VolumesFrom"] != nil || hc["BlkioWeightDevice"] != nil || hc["Cgroups"] != "default" {
		t.Errorf("HostConfig nulls and Cgroups: %v %v %v", hc["VolumesFrom"], hc["BlkioWeightDevice"], hc["Cgroups"])
	}
	mounts := c["Mounts"].([]any)
	if m := mounts[1].(map[string]any); m["Mode"] != "" || m["RW"] != false || strings.Join(anyStrings(m["Options"]), ",") != "rbind" {
		t.Errorf("a read-only bind mount: %v", m)
	}
	if m := mounts[0].(map[string]any); m["Name"] != "kv" || strings.Join(anyStrings(m["Options"]), ",") != "nosuid,nodev,rbind" {
		t.Errorf("a named volume: %v", m)
	}
	nets := c["NetworkSettings"].(map[string]any)["Networks"].(map[string]any)
	if n, _ := nets["pea"].(map[string]any); n == nil || strings.Join(anyStrings(n["Aliases"]), ",") != id[:12] {
		t.Errorf("a created container's network: %v", nets)
	}
	// Once started: the spec's environment, HOME and HOSTNAME with it.
	e.Pea("start", "k1")
	env = e.Pea("inspect", "--format", "{{range .Config.Env}}{{.}} {{end}}", "k1")
	if !strings.Contains(env, "HOSTNAME="+id[:12]) || !strings.Contains(env, "HOME=/root") {
		t.Errorf("a started container's Config.Env: %s", env)
	}
}

func anyStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestParityRunEnvUserWorkdir: the process's environment (TERM, container, HOSTNAME as
// podman's; -e NAME of an unset variable left out; -e NAME* importing a prefix), the user's
// group among its groups, a numeric user's HOME, and the refusals podman makes: a missing -w
// and an unknown user are 126 and leave the container created, an --add-host address that is
// not one and an existing --cidfile are 125.
func TestParityRunEnvUserWorkdir(t *testing.T) {
	e := newEnv(t).withBusybox()
	r := e.runEnv(nil, []string{"PARITY_A=1", "PARITY_B=2"}, "run", "--rm", "--name", "envk", "-e", "NOPE_UNSET", "-e", "PARITY_*",
		"localhost/bb", "sh", "-c", "env; echo ${NOPE_UNSET-unset}")
	if r.Code != 0 {
		t.Fatal(r)
	}
	for _, want := range []string{"TERM=xterm\n", "container=pea\n", "PARITY_A=1\n", "PARITY_B=2\n", "\nunset\n", "HOSTNAME="} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("env lacks %q:\n%s", want, r.Stdout)
		}
	}
	if out := e.Pea("run", "--rm", "-u", "4000:4000", "localhost/bb", "id"); out != "uid=4000(4000) gid=4000(4000) groups=4000(4000)" {
		t.Errorf("id of -u 4000:4000: %q", out)
	}
	// A group given by number that the image lacks gets a line of its own in /etc/group, for a
	// user the image has too (podman's).
	if out := e.Pea("run", "--rm", "-u", "0:4100", "localhost/bb", "id"); out != "uid=0(root) gid=4100(4100) groups=4100(4100)" {
		t.Errorf("id of -u 0:4100: %q", out)
	}
	if out := e.Pea("run", "--rm", "-u", "4000", "-w", "/tmp", "localhost/bb", "sh", "-c", "echo $HOME"); out != "/tmp" {
		t.Errorf("HOME of a user the image lacks: %q", out)
	}
	e.Pea("pod", "create", "--name", "hostpod", "-h", "myhost")
	if out := e.Pea("run", "--rm", "--pod", "hostpod", "localhost/bb", "sh", "-c", "echo $HOSTNAME"); out != "myhost" {
		t.Errorf("HOSTNAME in a pod: %q", out)
	}

	r = e.Fails(126, "run", "--name", "wd", "-w", "/nonexistent", "localhost/bb", "pwd")
	if !strings.Contains(r.Stderr, `workdir "/nonexistent" does not exist on container`) {
		t.Fatalf("missing workdir: %s", r)
	}
	if out := e.Pea("ps", "-a", "--filter", "name=wd", "--format", "{{.Status}}"); out != "Created" {
		t.Fatalf("a run whose start failed leaves its container created: %q", out)
	}
	e.Fails(126, "run", "--rm", "--name", "wd2", "-u", "nosuchuser", "localhost/bb", "true")
	if out := e.Pea("ps", "-a", "--filter", "name=wd2", "-q"); out != "" {
		t.Fatalf("--rm removes it: %q", out)
	}
	e.Fails(126, "run", "-d", "--name", "wd3", "-u", "nosuchuser", "localhost/bb", "true")
	// A directory from a mount needs not be in the image.
	if out := e.Pea("run", "--rm", "-v", t.TempDir()+":/m", "-w", "/m", "localhost/bb", "pwd"); out != "/m" {
		t.Fatalf("workdir on a mount: %q", out)
	}
	e.refused(`invalid IP address in add-host: "notip"`, "run", "--rm", "--add-host", "h:notip", "localhost/bb", "true")
	cid := filepath.Join(e.Dir, "cid")
	os.WriteFile(cid, []byte("x"), 0o644)
	e.refused("container id file exists", "run", "--rm", "--cidfile", cid, "localhost/bb", "true")
}

// TestParityContainerVerbs: the verbs that act on named containers look them all up before
// acting on any; start names only the containers it started; --ignore and rm -f stay silent
// about missing ones; podman's refusals of --all, --latest and names together; kill, pause,
// wait and port as podman words and codes them; rm --all takes the pods of the infra
// containers it removes.
func TestParityContainerVerbs(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "k1", "-p", "127.0.0.1::80", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "k2", "localhost/bb", "sleep", "300")
	id2 := e.Pea("inspect", "--format", "{{.ID}}", "k2")
	if out := e.Pea("start", "k1"); out != "" {
		t.Fatalf("start of a running container: %q", out)
	}
	r := e.Fails(125, "start", "k2", "nope")
	if r.Stdout != "" || e.Pea("inspect", "--format", "{{.State.Status}}", "k2") != "created" {
		t.Fatalf("start with a missing name must start none: %s", r)
	}
	e.Fails(125, "stop", "-t", "0", "k1", "nope")
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "k1"); st != "running" {
		t.Fatalf("stop with a missing name must stop none: %q", st)
	}
	if out := e.Pea("stop", "--ignore", "nope"); out != "" {
		t.Fatalf("stop --ignore of a missing container: %q", out)
	}
	if out := e.Pea("rm", "--ignore", "nope"); out != "" {
		t.Fatalf("rm --ignore of a missing container: %q", out)
	}
	if out := e.Pea("rm", "-f", "nope"); out != "" {
		t.Fatalf("rm -f of a missing container: %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"stop", "-a", "k1"}, "no arguments are needed with --all"},
		{[]string{"rm", "-a", "k1"}, "no arguments are needed with --all"},
		{[]string{"stop", "-l", "k1"}, "--latest and containers cannot be used together"},
		{[]string{"kill", "-a", "-l"}, "--all and --latest cannot be used together"},
		{[]string{"stop", "--cidfile", "x", "k1"}, "no arguments are needed with --latest or --cidfile"},
		{[]string{"start", "--all", "k1"}, "either start all containers or the container(s) provided in the arguments"},
		{[]string{"pause"}, "you must provide at least one name or id"},
		{[]string{"kill", "k2"}, "can only kill running containers. " + id2 + " is in state created"},
		{[]string{"wait", "k2", "nope"}, `no container with name or ID "nope" found`},
		{[]string{"port", "k1", "99"}, `failed to find published port "99"`},
		{[]string{"port", "k1", "bad"}, `parsing "bad": invalid syntax`},
		{[]string{"port", "k1", "80", "81"}, "`port` accepts at most 2 arguments"},
	} {
		r := e.Fails(125, c.args...)
		if !strings.Contains(r.Stderr, c.want) || c.args[0] == "wait" && r.Stdout != "" {
			t.Errorf("%v: want %q, got %s", c.args, c.want, r)
		}
	}
	r = e.Fails(1, "rm", "k2", "nope")
	if e.Try("container", "exists", "k2").Code != 0 {
		t.Fatalf("rm with a missing name must remove none: %s", r)
	}
	if out := e.Pea("port", "k1", "80"); !regexp.MustCompile(`^127\.0\.0\.1:\d+$`).MatchString(out) {
		t.Fatalf("port of one published port: %q", out)
	}
	if out := e.Pea("port", "k2", "80"); out != "" {
		t.Fatalf("port of a container without ports: %q", out)
	}
	e.Pea("pause", "k1")
	if r := e.Fails(125, "pause", "k1"); !strings.Contains(r.Stderr, "is already paused") {
		t.Fatalf("second pause: %s", r)
	}
	e.Pea("unpause", "k1")
	if out := e.Pea("wait", "--condition", "running", "k1"); out != "-1" {
		t.Fatalf("wait --condition running: %q", out)
	}

	// rm --all removes infra containers too, and their pods with them.
	e.Pea("pod", "create", "--name", "rmpod")
	e.Pea("create", "--pod", "rmpod", "--name", "rmpod-m", "localhost/bb", "true")
	e.Pea("pod", "create", "--name", "bare", "--infra=false")
	e.Pea("rm", "-af", "-t", "0")
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers after rm -af: %q", out)
	}
	if out := e.Pea("pod", "ps", "--format", "{{.Name}}"); out != "bare" {
		t.Fatalf("pods after rm -af (only the one without an infra container stays): %q", out)
	}
}

// TestParityExec: exec's codes are podman's (255 for a session that cannot be made, 126 and 127
// from the runtime's own log, never from what the process writes); -d prints a session ID; -t
// without a terminal on pea's side runs on a terminal pea holds; the process gets TERM and
// container.
func TestParityExec(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "k1", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "k2", "localhost/bb", "true")
	e.Fails(255, "exec", "k2", "true")
	e.Fails(255, "exec", "k1")
	e.Fails(255, "exec", "-u", "nosuchuser", "k1", "true")
	// ...but no container of that name is 125 (podman 4.3.1 checked; pea said 255).
	e.Fails(125, "exec", "no-such-ctr", "true")
	e.Fails(125, "exec", "-i", "no-such-ctr", "true")
	e.Fails(125, "exec", "-d", "no-such-ctr", "true")
	e.Fails(126, "exec", "k1", "/etc")
	e.Fails(126, "exec", "k1", "/etc/passwd")
	e.Fails(127, "exec", "k1", "/nonexistent")
	e.Fails(127, "exec", "-w", "/nonexistent", "k1", "pwd")
	// What the process writes does not make the code.
	e.Fails(3, "exec", "k1", "sh", "-c", `echo "exec: Permission denied" >&2; echo "executable file not found" >&2; exit 3`)
	if out := e.Pea("exec", "-d", "k1", "sleep", "1"); !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(out) {
		t.Fatalf("exec -d: %q", out)
	}
	if out := e.Pea("exec", "-t", "k1", "tty"); !strings.HasPrefix(out, "/dev/pts/") {
		t.Fatalf("exec -t: %q", out)
	}
	env := e.Pea("exec", "k1", "env")
	if !strings.Contains(env, "TERM=xterm") || !strings.Contains(env, "container=pea") {
		t.Fatalf("exec env: %q", env)
	}
}

// TestParityPodVerbs: pod create's --share none (no infra container), -h and -c, an existing
// --pod-id-file; pod ps's -q (full IDs), --sort, --ns columns, Cgroup and Networks; the pod
// verbs' look-up before acting, unpause of a pod that is not paused and kill of one that does
// not run; pod prune of stopped pods only.
func TestParityPodVerbs(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "nonepod", "--share", "none")
	e.Pea("pod", "create", "--name", "nonepod2", "--share", "none", "--infra=true")
	if out := e.Pea("pod", "ps", "--sort", "name", "--format", "{{.Name}} {{.NumberOfContainers}}", "--filter", "name=nonepod"); out != "nonepod 0\nnonepod2 1" {
		t.Fatalf("--share none: %q", out)
	}
	e.Pea("pod", "create", "--name", "hp", "-h", "myhost", "-c", "512", "--label", "a=b")
	if out := e.Pea("pod", "inspect", "--format", "{{.Hostname}} {{.CPUShares}}", "hp"); out != "myhost 512" {
		t.Fatalf("-h and -c: %q", out)
	}
	idFile := filepath.Join(e.Dir, "podid")
	os.WriteFile(idFile, []byte("x"), 0o644)
	e.refused("pod id file exists", "pod", "create", "--name", "idf", "--pod-id-file", idFile)

	for _, id := range strings.Fields(e.Pea("pod", "ps", "-q")) {
		if len(id) != 64 {
			t.Fatalf("pod ps -q: %q", id)
		}
	}
	if r := e.Fails(125, "pod", "ps", "--sort", "bogus"); !strings.Contains(r.Stderr, "invalid option for --sort, options are: id, names, or number") {
		t.Fatalf("pod ps --sort bogus: %s", r)
	}
	if head := strings.Split(e.Pea("pod", "ps", "--ns"), "\n")[0]; !regexp.MustCompile(`INFRA ID +CGROUP +NAMESPACES +# OF CONTAINERS$`).MatchString(head) {
		t.Fatalf("pod ps --ns header: %q", head)
	}
	if out := e.Pea("pod", "ps", "--filter", "name=^hp$", "--format", "{{.Cgroup}}|{{.Networks}}"); out != "/pea|pea" {
		t.Fatalf("pod ps Cgroup (the parent) and Networks: %q", out)
	}
	if out := e.Pea("pod", "ps", "--filter", "network=pea", "--sort", "name", "--format", "{{.Name}}"); out != "hp\nnonepod2" {
		t.Fatalf("pod ps --filter network=pea: %q", out)
	}

	// pod inspect: podman 4.3's keys.
	var p map[string]any
	if err := json.Unmarshal([]byte(e.Pea("pod", "inspect", "nonepod2")), &p); err != nil {
		t.Fatal(err)
	}
	if _, ok := p["LockNumber"]; ok || p["Hostname"] != "" || p["Labels"] != nil {
		t.Fatalf("pod inspect: LockNumber, Hostname (none given), Labels (none): %v", p)
	}
	if ic, _ := p["InfraConfig"].(map[string]any); ic == nil || ic["pid_ns"] != "private" || ic["userns"] != "host" || ic["uts_ns"] != "private" || ic["DNSServer"] != nil {
		t.Fatalf("pod inspect InfraConfig: %v", p["InfraConfig"])
	}
	if out := e.Pea("pod", "inspect", "--format", "{{.Id}}", "hp"); len(out) != 64 {
		t.Fatalf("pod inspect {{.Id}}: %q", out)
	}
	if r := e.Fails(125, "pod", "inspect", "nope"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("pod inspect of a missing pod: %s", r)
	}

	e.Pea("run", "-d", "--pod", "hp", "--name", "hpm", "localhost/bb", "sleep", "300")
	if out := e.Pea("pod", "unpause", "hp"); out != "" {
		t.Fatalf("pod unpause of a running pod: %q", out)
	}
	r := e.Fails(125, "pod", "stop", "-t", "0", "hp", "nope")
	if r.Stdout != "" || e.Pea("pod", "ps", "--filter", "name=^hp$", "--format", "{{.Status}}") != "Running" {
		t.Fatalf("pod stop with a missing name must stop none: %s", r)
	}
	e.Fails(125, "pod", "stop", "-a", "hp")
	e.Pea("pod", "stop", "-t", "0", "hp")
	hpID := e.Pea("pod", "inspect", "--format", "{{.ID}}", "hp")
	if out := e.Pea("pod", "kill", "hp"); out != hpID {
		t.Fatalf("pod kill of a stopped pod: %q", out)
	}
	e.Fails(1, "pod", "rm", "nonepod", "nope")
	if e.Try("pod", "exists", "nonepod").Code != 0 {
		t.Fatal("pod rm with a missing name must remove none")
	}
	if out := e.Pea("pod", "rm", "-f", "nope"); out != "" {
		t.Fatalf("pod rm -f of a missing pod: %q", out)
	}
	// Only the pods that ran and stopped are pruned.
	if out := e.Pea("pod", "prune", "-f"); out != hpID {
		t.Fatalf("pod prune: %q", out)
	}
}

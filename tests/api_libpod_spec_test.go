package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman --remote create/run honours what the user asked for: the client turns the flags into
// a SpecGenerator, which the service must read whole (internal/api/libpod_spec*.go). Each case
// makes a container with `pea run FLAGS` and one with `podman --remote run FLAGS`, and asks both
// the same things (a command in the container, or an inspect format): the answers must be the
// same, and show the setting (want).

// specProbe is what a container is asked: a command run in it, or ["-f", FORMAT] for pea
// inspect (["-f", FORMAT, "sort"]: its lines sorted). Its answer is the output, with the exit
// code when not 0.
func (a *APIEnv) specProbe(name string, probe []string) string {
	a.t.Helper()
	var r Result
	if probe[0] == "-f" {
		r = a.Try("inspect", "-f", probe[1], name)
	} else {
		r = a.Try(append([]string{"exec", name}, probe...)...)
	}
	out := strings.TrimSpace(r.Stdout + r.Stderr)
	if len(probe) == 3 && probe[2] == "sort" {
		lines := strings.Split(out, "\n")
		sort.Strings(lines)
		out = strings.Join(lines, "\n")
	}
	if r.Code != 0 {
		out += "\n(exit " + strconv.Itoa(r.Code) + ")"
	}
	return out
}

type specCase struct {
	name   string
	flags  []string
	probes [][]string
	want   []string // in the podman-made container's answers
}

// runSpecCases runs each case's pea run and podman run, and compares the answers.
func (a *APIEnv) runSpecCases(t *testing.T, cases []specCase) {
	t.Helper()
	for _, c := range cases {
		run := func(name string) []string {
			return append(append([]string{"run", "-d", "--name", name}, c.flags...), "localhost/bb", "sleep", "300")
		}
		if r := a.Try(run("p-" + c.name)...); r.Code != 0 {
			t.Errorf("%s: pea run %v: %s", c.name, c.flags, r)
			continue
		}
		if r := a.podmanRemote(run("r-" + c.name)...); r.Code != 0 {
			t.Errorf("%s: podman --remote run %v: %s", c.name, c.flags, r)
			a.Try("rm", "-f", "-t", "0", "p-"+c.name)
			continue
		}
		var got, want []string
		for _, p := range c.probes {
			got = append(got, a.specProbe("r-"+c.name, p))
			want = append(want, a.specProbe("p-"+c.name, p))
		}
		all := strings.Join(got, "\n")
		if all != strings.Join(want, "\n") {
			t.Errorf("%s: podman --remote run %v differs from pea run's:\n%s\npea run's:\n%s", c.name, c.flags, all, strings.Join(want, "\n"))
		}
		for _, w := range c.want {
			if !strings.Contains(all, w) {
				t.Errorf("%s: podman --remote run %v: %q not in\n%s", c.name, c.flags, w, all)
			}
		}
		a.Try("rm", "-f", "-t", "0", "p-"+c.name, "r-"+c.name)
	}
}

func TestLibpodSpecFlags(t *testing.T) {
	a := newAPIEnv(t)
	if err := os.Chmod(a.Dir, 0o711); err != nil { // for the containers in a user namespace
		t.Fatal(err)
	}
	bind := filepath.Join(a.Dir, "bind")
	os.MkdirAll(bind, 0o755)
	os.WriteFile(filepath.Join(bind, "f"), []byte("bound"), 0o644)
	envFile := filepath.Join(a.Dir, "env")
	os.WriteFile(envFile, []byte("A=1\n# no\nB=two\n"), 0o644)
	a.PeaIn("sekrit", "secret", "create", "s1", "-")
	a.Pea("run", "-d", "--name", "base", "-v", "basevol:/bv", "localhost/bb", "sleep", "300")
	a.Pea("pod", "create", "--name", "sp")
	ns := func(name string, kinds ...string) string {
		var out []string
		for _, k := range kinds {
			if name == "" {
				l, _ := os.Readlink("/proc/self/ns/" + k)
				out = append(out, l)
			} else {
				out = append(out, a.Pea("exec", name, "readlink", "/proc/self/ns/"+k))
			}
		}
		return strings.Join(out, "\n")
	}
	nsProbe := func(kinds ...string) []string {
		return []string{"sh", "-c", "for k in " + strings.Join(kinds, " ") + "; do readlink /proc/self/ns/$k; done"}
	}
	mountsOf := func(dirs ...string) []string {
		return []string{"sh", "-c", "for d in " + strings.Join(dirs, " ") + `; do grep " $d " /proc/mounts | cut -d" " -f2,3,4 | cut -d, -f1-4; done`}
	}
	cg := func(files ...string) []string {
		return append([]string{"cat"}, files...)
	}
	a.runSpecCases(t, []specCase{
		{"volumes", []string{"-v", "vol1:/n", "-v", "/anon", "-v", bind + ":/b:ro"},
			[][]string{mountsOf("/n", "/anon", "/b"), {"cat", "/b/f"}, {"-f", "{{range .Mounts}}{{.Type}}:{{.Destination}}\n{{end}}", "sort"}},
			[]string{"/n ", "/anon ", "/b ", " ro", "bound", "bind:/b\nvolume:/anon\nvolume:/n"}},
		{"mount", []string{"--mount", "type=bind,src=" + bind + ",dst=/m,ro=true", "--mount", "type=volume,src=vol2,dst=/v2",
			"--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700"},
			[][]string{mountsOf("/m", "/v2", "/t"), {"stat", "-c", "%a", "/t"}, {"cat", "/m/f"}},
			[]string{"/m ", "ro,", "/t tmpfs rw,nosuid,nodev,relatime", "700", "bound"}},
		{"tmpfs", []string{"--tmpfs", "/tt:size=2m,mode=1777,noexec"},
			[][]string{{"sh", "-c", "grep ' /tt ' /proc/mounts; stat -c %a /tt"}}, []string{"noexec", "size=2048k", "1777"}},
		{"env", []string{"--env-file", envFile, "-e", "X=y", "-e", "Y="},
			[][]string{{"sh", "-c", "env | grep -E '^(A|B|X|Y)=' | sort"}}, []string{"A=1\nB=two\nX=y\nY="}},
		{"labels", []string{"--label", "a=b", "--label", "c=", "--annotation", "k=v"},
			[][]string{{"-f", `{{.Config.Labels}} {{index .Config.Annotations "k"}}`}}, []string{"map[a:b c:] v"}},
		{"user", []string{"--hostname", "hh", "--user", "1000:1000", "--group-add", "60", "--workdir", "/tmp"},
			[][]string{{"sh", "-c", "hostname; id; pwd"}}, []string{"hh\nuid=1000(bob) gid=1000(bob) groups=50(staff),60\n/tmp"}},
		{"groupname", []string{"--user", "bob", "--group-add", "nogroup"}, [][]string{{"id"}}, []string{"65534(nogroup)"}},
		{"entrypoint", []string{"--entrypoint", "/bin/echo"}, [][]string{{"-f", "{{.Config.Entrypoint}} {{.Config.Cmd}}"}},
			[]string{"/bin/echo [sleep 300]"}},
		{"entrypoint-json", []string{"--entrypoint", `["/bin/sh","-c"]`}, [][]string{{"-f", "{{.Path}} {{json .Args}}"}},
			[]string{`/bin/sh ["-c","sleep","300"]`}},
		{"caps", []string{"--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN"}, [][]string{{"grep", "CapEff", "/proc/1/status"}},
			[]string{"800415fa"}},
		{"privileged", []string{"--privileged"}, [][]string{{"grep", "CapEff", "/proc/1/status"}}, []string{"CapEff:\t000001ff"}},
		{"read-only", []string{"--read-only"}, [][]string{{"sh", "-c", "touch /x"}, mountsOf("/tmp", "/var/tmp", "/run")},
			[]string{"Read-only file system", "/tmp tmpfs rw,nosuid,nodev,relatime", "/run tmpfs rw"}},
		{"read-only-notmpfs", []string{"--read-only", "--read-only-tmpfs=false"},
			[][]string{{"sh", "-c", "touch /tmp/x"}, mountsOf("/tmp", "/var/tmp", "/run")}, []string{"Read-only file system"}},
		{"security-opt", []string{"--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges"},
			[][]string{{"grep", "-E", "Seccomp:|NoNewPrivs", "/proc/1/status"}}, []string{"NoNewPrivs:\t1", "Seccomp:\t0"}},
		{"sysctl-ulimit", []string{"--sysctl", "net.ipv4.ip_forward=1", "--ulimit", "nofile=100:200"},
			[][]string{{"cat", "/proc/sys/net/ipv4/ip_forward"}, {"awk", "/open files/{print $4, $5}", "/proc/1/limits"}}, []string{"1\n100 200"}},
		{"device", []string{"--device", "/dev/null:/dev/mynull:rw"},
			[][]string{{"sh", "-c", "ls -l /dev/mynull | cut -c1-3; echo x > /dev/mynull && echo written"}}, []string{"crw\nwritten"}},
		{"memory", []string{"--memory", "64m", "--memory-reservation", "32m", "--memory-swap", "128m"},
			[][]string{cg("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.soft_limit_in_bytes",
				"/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")}, []string{"67108864\n33554432\n134217728"}},
		{"memory-default-swap", []string{"--memory", "64m"},
			[][]string{cg("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")}, []string{"134217728"}},
		{"memory-swap-unlimited", []string{"--memory", "64m", "--memory-swap", "-1", "--memory-swappiness", "10", "--oom-kill-disable"},
			[][]string{cg("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", "/sys/fs/cgroup/memory/memory.swappiness"),
				{"grep", "oom_kill_disable", "/sys/fs/cgroup/memory/memory.oom_control"}},
			[]string{"9223372036854771712\n10\noom_kill_disable 1"}},
		{"cpus", []string{"--cpus", "1.5", "--cpu-shares", "512", "--cpuset-cpus", "0"},
			[][]string{cg("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu/cpu.shares",
				"/sys/fs/cgroup/cpuset/cpuset.cpus")}, []string{"150000\n100000\n512\n0"}},
		{"cpu-quota", []string{"--cpu-period", "50000", "--cpu-quota", "25000", "--cpuset-mems", "0"},
			[][]string{cg("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpuset/cpuset.mems")},
			[]string{"25000\n50000\n0"}},
		{"pids-shm", []string{"--pids-limit", "50", "--shm-size", "16m"},
			[][]string{cg("/sys/fs/cgroup/pids/pids.max"), {"sh", "-c", "df -k /dev/shm | awk 'NR==2{print $2}'"}}, []string{"50\n16384"}},
		{"device-cgroup-rule", []string{"--device-cgroup-rule", "c 10:229 rwm", "--device-cgroup-rule", "b 8:* r"},
			[][]string{{"grep", "-E", "10:229|8:\\*", "/sys/fs/cgroup/devices/devices.list"}}, []string{"c 10:229 rwm\nb 8:* r"}},
		{"network-none", []string{"--network", "none"}, [][]string{{"ls", "/sys/class/net"}}, []string{"lo"}},
		{"network-host", []string{"--network", "host"}, [][]string{nsProbe("net")}, []string{ns("", "net")}},
		{"dns-hosts", []string{"--dns", "1.1.1.1", "--dns-search", "ex.com", "--dns-option", "ndots:2", "--add-host", "foo:1.2.3.4"},
			[][]string{{"cat", "/etc/resolv.conf"}, {"grep", "foo", "/etc/hosts"}},
			[]string{"search ex.com\nnameserver 1.1.1.1\noptions ndots:2", "1.2.3.4\tfoo"}},
		{"no-hosts", []string{"--no-hosts"}, [][]string{{"ls", "/etc/hosts"}}, []string{"No such file"}},
		{"init-restart", []string{"--init", "--restart", "on-failure:3"},
			[][]string{{"sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline"}, {"-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"}},
			[]string{"/run/pea-init -- sleep 300", "on-failure:3"}},
		{"restart-always", []string{"--restart", "always"}, [][]string{{"-f", "{{.HostConfig.RestartPolicy.Name}}"}}, []string{"always"}},
		{"health", []string{"--health-cmd", "test -e /ok", "--health-interval", "5s", "--health-retries", "2",
			"--health-timeout", "3s", "--health-start-period", "1s"}, [][]string{{"-f", "{{json .Config.Healthcheck}}"}},
			[]string{`{"Test":["CMD-SHELL","test -e /ok"],"Interval":5000000000,"Timeout":3000000000,"StartPeriod":1000000000,"Retries":2}`}},
		{"health-json", []string{"--health-cmd", `["CMD","true"]`, "--health-interval", "disable"},
			[][]string{{"-f", "{{json .Config.Healthcheck}}"}}, []string{`"Test":["CMD","true"]`}},
		{"stop", []string{"--stop-signal", "SIGUSR1", "--stop-timeout", "7"},
			[][]string{{"-f", "{{.Config.StopSignal}} {{.Config.StopTimeout}}"}}, []string{"10 7"}},
		{"idmaps", []string{"--uidmap", "0:100000:5000", "--gidmap", "0:100000:5000"},
			[][]string{{"sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '"}}, []string{"0 100000 5000\n 0 100000 5000"}},
		{"ns-host", []string{"--uts", "host", "--ipc", "host", "--pid", "host", "--cgroupns", "host"},
			[][]string{nsProbe("uts", "ipc", "pid", "cgroup")}, []string{ns("", "uts", "ipc", "pid", "cgroup")}},
		{"ns-container", []string{"--uts", "container:base", "--ipc", "container:base", "--pid", "container:base"},
			[][]string{nsProbe("uts", "ipc", "pid")}, []string{ns("base", "uts", "ipc", "pid")}},
		{"tz-umask", []string{"--tz", "Asia/Tokyo", "--umask", "0027"},
			[][]string{{"date", "+%Z"}, {"grep", "Umask", "/proc/1/status"}}, []string{"JST\nUmask:\t0027"}},
		{"log-driver", []string{"--log-driver", "none"}, [][]string{{"-f", "{{.HostConfig.LogConfig.Type}}"}}, []string{"none"}},
		{"secret", []string{"--secret", "s1", "--secret", "s1,type=env,target=SEC"},
			[][]string{{"sh", "-c", "cat /run/secrets/s1; echo; ls -l /run/secrets/s1 | cut -c1-10; tr '\\0' '\\n' < /proc/1/environ | grep SEC"}},
			[]string{"sekrit\n-r--r--r--\nSEC=sekrit"}},
		{"rm-tty", []string{"--rm", "-t", "-i"}, [][]string{{"readlink", "/proc/1/fd/0"}, {"-f", "{{.HostConfig.AutoRemove}} {{.Config.Tty}} {{.Config.OpenStdin}}"}},
			[]string{"/dev/pts/0\ntrue true true"}},
		{"process", []string{"--oom-score-adj", "100", "--personality", "LINUX32", "--unsetenv", "HOSTNAME", "--env-merge", "PATH=${PATH}:/x"},
			[][]string{{"cat", "/proc/1/oom_score_adj"}, {"uname", "-m"}, {"sh", "-c", "tr '\\0' '\\n' < /proc/1/environ | grep -E '^(PATH|HOSTNAME)='"}},
			[]string{"100\ni686\nPATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/x"}},
		{"hostuser", []string{"--hostuser", "daemon"}, [][]string{{"grep", "^daemon:", "/etc/passwd"}}, []string{"daemon:x:1:1:"}},
		{"volumes-from-requires", []string{"--volumes-from", "base", "--requires", "base"},
			[][]string{mountsOf("/bv"), {"-f", "{{.HostConfig.VolumesFrom}}"}}, []string{"/bv ", "[base]"}},
		{"systemd", []string{"--systemd", "always"}, [][]string{mountsOf("/run", "/tmp"), {"-f", "{{.Config.StopSignal}}"}},
			[]string{"/run tmpfs", "/tmp tmpfs", "37"}},
		{"pod", []string{"--pod", "sp"}, [][]string{{"-f", "{{.Pod}} {{.HostConfig.NetworkMode}}"}},
			[]string{a.Pea("pod", "inspect", "-f", "{{.ID}}", "sp")}},
	})
}

// TestLibpodSpecRefused: what pea cannot do is refused with one error, and nothing is made.
func TestLibpodSpecRefused(t *testing.T) {
	a := newAPIEnv(t)
	bind := filepath.Join(a.Dir, "bind")
	os.MkdirAll(bind, 0o755)
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{[]string{"-v", bind + ":/ov:O"}, `pea does not support overlay volumes, -v SRC:DST:O (SpecGenerator field "overlay_volumes")`},
		{[]string{"--mount", "type=image,src=localhost/bb,dst=/img"}, "pea does not support --mount type=image"},
		{[]string{"--mount", "type=devpts,dst=/dev/pts2"}, "--mount type=devpts (at /dev/pts2): pea mounts bind, volume and tmpfs only"},
		{[]string{"--dns", "none"}, "--dns none (the image's own /etc/resolv.conf)"},
		{[]string{"--userns", "keep-id"}, "--userns keep-id is only for rootless mode"},
		{[]string{"-v", bind + ":/m:idmap"}, `invalid volume option "idmap"`},
		{[]string{"--memory", "4m"}, "the minimum memory limit is 6MB"},
		{[]string{"--network", "pea:interface_name=eth5"}, "pea names the interfaces eth0, eth1"},
	} {
		r := a.podmanRemote(append(append([]string{"create", "--name", "x"}, c.flags...), "localhost/bb")...)
		if r.Code != 125 || !strings.Contains(r.Stderr, c.want) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("podman --remote create %v: want exit 125 and %q: %s", c.flags, c.want, r)
		}
		if a.Try("container", "exists", "x").Code != 1 {
			t.Fatalf("podman --remote create %v made a container", c.flags)
		}
	}
	// A --log-opt pea does not have is ignored, as podman ignores it; the client prints the
	// create's warning.
	r := a.podmanRemote("create", "--name", "lo", "--log-opt", "label=x", "localhost/bb")
	if r.Code != 0 || !strings.Contains(r.Stderr, "--log-opt label=x is ignored") {
		t.Fatalf("podman --remote create --log-opt label=x: %s", r)
	}
	// A field of a newer client (or one pea does not read) is refused by its name; set to its
	// zero value it asks for nothing.
	code, body := a.Request("POST", "/v4.3.1/libpod/containers/create",
		map[string]any{"image": "localhost/bb", "name": "y", "storage_opts": map[string]string{"size": "1G"}})
	var e struct {
		Message  string `json:"message"`
		Response int    `json:"response"`
	}
	if json.Unmarshal(body, &e); code != 400 || e.Response != 400 || !strings.Contains(e.Message, `"storage_opts"`) {
		t.Fatalf("create with an unknown field: %d %s", code, body)
	}
	code, body = a.Request("POST", "/v4.3.1/libpod/containers/create",
		map[string]any{"image": "localhost/bb", "name": "y", "startupHealthConfig": nil, "storage_opts": map[string]string{}})
	if code != 201 {
		t.Fatalf("create with unknown fields at their zero values: %d %s", code, body)
	}
}

// TestLibpodSpecBehaviour: settings that show in what the container does over time.
func TestLibpodSpecBehaviour(t *testing.T) {
	a := newAPIEnv(t)
	state := func(name string) string {
		r := a.Try("inspect", "-f", "{{.State.Status}} {{.RestartCount}}", name)
		if r.Code != 0 {
			return "gone"
		}
		return strings.TrimSpace(r.Stdout)
	}
	waitFor := func(name, want string) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			if got := state(name); got != want {
				return &resultErr{Result{Stdout: got}}
			}
			return nil
		})
	}
	a.mustPodman("run", "-d", "--name", "timeout", "--timeout", "2", "localhost/bb", "sleep", "300")
	a.mustPodman("run", "-d", "--name", "unhealthy", "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1",
		"--health-on-failure", "stop", "localhost/bb", "sleep", "300")
	a.mustPodman("run", "-d", "--name", "retries", "--restart", "on-failure:2", "localhost/bb", "sh", "-c", "exit 3")
	a.mustPodman("run", "-d", "--name", "rm", "--rm", "localhost/bb", "sleep", "300")
	a.Pea("stop", "-t", "0", "rm")
	waitFor("timeout", "exited 0")
	waitFor("unhealthy", "exited 0")
	waitFor("retries", "exited 2")
	waitFor("rm", "gone")

	// The log's file and size limit (the client turns max-size into bytes, in units of 1000),
	// conmon's pid file.
	logPath, pidFile := filepath.Join(a.Dir, "ctr.log"), filepath.Join(a.Dir, "conmon.pid")
	a.mustPodman("run", "-d", "--name", "logs", "--log-driver", "k8s-file", "--log-opt", "path="+logPath, "--log-opt", "max-size=2m",
		"--conmon-pidfile", pidFile, "localhost/bb", "sh", "-c", "echo logged; sleep 300")
	eventually(t, 10*time.Second, func() error {
		if b, err := os.ReadFile(logPath); err != nil || !strings.Contains(string(b), "logged") {
			return &resultErr{Result{Stdout: string(b)}}
		}
		return nil
	})
	if out := a.Pea("inspect", "-f", "{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Size}}", "logs"); out != "k8s-file 2000000B" {
		t.Fatalf("--log-driver, --log-opt max-size: %q", out)
	}
	if b, err := os.ReadFile(pidFile); err != nil {
		t.Fatalf("--conmon-pidfile: %v", err)
	} else if comm, _ := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/comm"); string(comm) != "conmon\n" {
		t.Fatalf("--conmon-pidfile holds %q, the pid of %q", b, comm)
	}

	// --rootfs DIR:O: the directory is the root, left unchanged.
	root := filepath.Join(a.Dir, "rootfs")
	os.MkdirAll(root, 0o755)
	if out, err := exec.Command("tar", "-xf", busyboxTar(t), "-C", root).CombinedOutput(); err != nil {
		t.Fatalf("untar: %v %s", err, out)
	}
	a.mustPodman("run", "-d", "--name", "rootfs", "--rootfs", root+":O", "sleep", "300")
	a.Pea("exec", "rootfs", "touch", "/made")
	if _, err := os.Stat(filepath.Join(root, "made")); err == nil {
		t.Fatalf("--rootfs :O wrote into the directory")
	}
	if out := a.Pea("inspect", "-f", "{{.ImageName}}|{{.Rootfs}}", "rootfs"); out != "|"+root {
		t.Fatalf("--rootfs: %q", out)
	}
}

// TestLibpodSpecNetworks: named networks with static addresses and aliases, several networks,
// another container's namespace, and published ports.
func TestLibpodSpecNetworks(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("network", "create", "--subnet", "10.89.213.0/24", "sn1")
	a.Pea("network", "create", "--subnet", "10.89.214.0/24", "sn2")
	a.mustPodman("run", "-d", "--name", "n1", "--network", "sn1", "--ip", "10.89.213.5", "--mac-address", "02:42:ac:11:00:99",
		"--network-alias", "al1", "localhost/bb", "sleep", "300")
	if out := a.Pea("inspect", "-f", "{{.NetworkSettings.Networks.sn1.IPAddress}} {{.NetworkSettings.Networks.sn1.MacAddress}}", "n1"); out != "10.89.213.5 02:42:ac:11:00:99" {
		t.Fatalf("--ip/--mac-address: %q", out)
	}
	if out := a.Pea("run", "--rm", "--network", "sn1", "localhost/bb", "grep", "al1", "/etc/hosts"); !strings.HasPrefix(out, "10.89.213.5\tn1 al1") {
		t.Fatalf("--network-alias: %q", out)
	}
	// Interfaces in the networks' order; a static address on the second.
	a.mustPodman("run", "-d", "--name", "n2", "--network", "sn2", "--network", "sn1:ip=10.89.213.6", "localhost/bb", "sleep", "300")
	if out := a.Pea("exec", "n2", "sh", "-c", "ip -o -4 addr | awk '{print $2, $4}'"); !strings.Contains(out, "eth0 10.89.213.6/24\neth1 10.89.214.") {
		t.Fatalf("two networks: %q", out)
	}
	a.mustPodman("run", "-d", "--name", "n3", "--network", "container:n1", "localhost/bb", "sleep", "300")
	if out := a.Pea("exec", "n3", "sh", "-c", "ip -o -4 addr show eth0 | awk '{print $4}'"); out != "10.89.213.5/24" {
		t.Fatalf("--network container:n1: %q", out)
	}
	// -p with a host IP, a range and udp, a random host port, --expose with -P.
	a.mustPodman("run", "-d", "--name", "ports", "-p", "127.0.0.1:18471:80", "-p", "18472-18474:9000-9002/udp", "-p", "7000",
		"--expose", "5000", "-P", "localhost/bb", "sleep", "300")
	out := a.Pea("inspect", "-f", "{{json .HostConfig.PortBindings}}", "ports")
	for _, w := range []string{`"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18471"}]`, `"9000/udp":[{"HostIp":"","HostPort":"18472"}]`,
		`"9002/udp":[{"HostIp":"","HostPort":"18474"}]`, `"7000/tcp":[{"HostIp":"","HostPort":"`, `"5000/tcp":[{"HostIp":"","HostPort":"`} {
		if !strings.Contains(out, w) {
			t.Fatalf("ports: %s lacks %s", out, w)
		}
	}
	a.Pea("rm", "-f", "-t", "0", "n3", "n2", "ports")
	a.Pea("rm", "-f", "-t", "0", "n1")
	a.Pea("network", "rm", "sn1", "sn2")
}

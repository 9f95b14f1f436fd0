package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runFlagCase is one docker run of the real docker client against pea: its flags, a shell
// command run in the container, and what the command, docker inspect and pea inspect must show
// for the flags to have taken effect.
type runFlagCase struct {
	name    string
	flags   []string
	cmd     string            // run by sh -c in localhost/bb
	want    []string          // lines (trimmed) the command's output must hold
	stderr  string            // what the client's stderr must hold (a create's warning)
	inspect map[string]string // docker inspect -f TEMPLATE: value
	pea     map[string]string // pea inspect --format TEMPLATE: value
	check   func(t *testing.T, out string)
	v1      bool // reads cgroup v1 files
}

// cgroupV1 reports whether the host has cgroup v1's controllers mounted.
func cgroupV1() bool {
	_, err := os.Stat("/sys/fs/cgroup/memory/memory.limit_in_bytes")
	return err == nil
}

// runFlag runs one case in a container of its own, named name, and removes it.
func (a *APIEnv) runFlag(t *testing.T, name string, c runFlagCase) {
	t.Helper()
	if c.v1 && !cgroupV1() {
		t.Skip("reads cgroup v1 files")
	}
	args := append(append([]string{"run", "--name", name}, c.flags...), "localhost/bb", "sh", "-c", c.cmd)
	r := a.Docker(args...)
	defer a.Docker("rm", "-f", name)
	if r.Code != 0 {
		t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	lines := map[string]bool{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		lines[strings.TrimSpace(l)] = true
	}
	for _, w := range c.want {
		if !lines[w] {
			t.Errorf("in the container: want a line %q, got:\n%s", w, r.Stdout)
		}
	}
	if !strings.Contains(r.Stderr, c.stderr) {
		t.Errorf("client's stderr: want %q, got %q", c.stderr, r.Stderr)
	}
	if c.check != nil {
		c.check(t, r.Stdout)
	}
	for tmpl, want := range c.inspect {
		if got := a.Docker("inspect", "-f", tmpl, name); strings.TrimSpace(got.Stdout) != want {
			t.Errorf("docker inspect -f %s: want %q, got %s", tmpl, want, got)
		}
	}
	for tmpl, want := range c.pea {
		if got := a.Try("inspect", "--format", tmpl, name); strings.TrimSpace(got.Stdout) != want {
			t.Errorf("pea inspect --format %s: want %q, got %s", tmpl, want, got)
		}
	}
}

// capBits parses the CapEff line of /proc/self/status in out.
func capBits(t *testing.T, out string) uint64 {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "CapEff:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no CapEff in %q", out)
	return 0
}

// TestAPIRunFlags: docker run's flags, given by the real docker client, take effect in the
// container as pea run's do, and docker inspect (and pea inspect) shows them back.
func TestAPIRunFlags(t *testing.T) {
	a := newAPIEnv(t)
	bdev, bnum := hostBlockDevice(t)
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("# a comment\nFROM_FILE=yes\nSECOND=2\n"), 0o644)
	profile := filepath.Join(dir, "seccomp.json")
	os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	bindSrc := filepath.Join(dir, "bind")
	os.MkdirAll(bindSrc, 0o755)
	os.WriteFile(filepath.Join(bindSrc, "f"), []byte("from-host\n"), 0o644)
	missing := filepath.Join(dir, "made", "by", "docker")
	hostNS := func(kind string) string {
		l, _ := os.Readlink("/proc/self/ns/" + kind)
		return l
	}
	hostPidNS, _ := os.Readlink("/proc/1/ns/pid")
	hostName, _ := os.Hostname()
	hostStatus, _ := os.ReadFile("/proc/self/status")
	cgParent := fmt.Sprintf("peatest-rf%d", os.Getpid())
	t.Cleanup(func() {
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", cgParent))
		for _, d := range dirs {
			os.Remove(d) // empty once its container is gone
		}
	})

	cases := []runFlagCase{
		{name: "memory", flags: []string{"--memory", "64m"}, v1: true,
			cmd: "cat /sys/fs/cgroup/memory/memory.limit_in_bytes", want: []string{"67108864"},
			inspect: map[string]string{"{{.HostConfig.Memory}}": "67108864"}, pea: map[string]string{"{{.HostConfig.Memory}}": "67108864"}},
		{name: "memory-reservation", flags: []string{"--memory", "64m", "--memory-reservation", "32m"}, v1: true,
			cmd: "cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes", want: []string{"33554432"},
			inspect: map[string]string{"{{.HostConfig.MemoryReservation}}": "33554432"}},
		{name: "memory-swap", flags: []string{"--memory", "64m", "--memory-swap", "128m"}, v1: true,
			cmd: "cat /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>/dev/null || echo 134217728", want: []string{"134217728"},
			inspect: map[string]string{"{{.HostConfig.MemorySwap}}": "134217728"}},
		{name: "memory-swappiness", flags: []string{"--memory-swappiness", "10"}, v1: true,
			cmd: "cat /sys/fs/cgroup/memory/memory.swappiness", want: []string{"10"},
			inspect: map[string]string{"{{json .HostConfig.MemorySwappiness}}": "10"}, pea: map[string]string{"{{.HostConfig.MemorySwappiness}}": "10"}},
		{name: "oom-kill-disable", flags: []string{"--memory", "64m", "--oom-kill-disable"}, v1: true,
			cmd: "grep oom_kill_disable /sys/fs/cgroup/memory/memory.oom_control", want: []string{"oom_kill_disable 1"},
			inspect: map[string]string{"{{.HostConfig.OomKillDisable}}": "true"}, pea: map[string]string{"{{.HostConfig.OomKillDisable}}": "true"}},
		{name: "kernel-memory", flags: []string{"--kernel-memory", "10m"}, cmd: "echo ran", want: []string{"ran"},
			stderr: "KernelMemory discarded", inspect: map[string]string{"{{.HostConfig.KernelMemory}}": "0"}},
		{name: "cpus", flags: []string{"--cpus", "0.5"}, v1: true,
			cmd: "cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us", want: []string{"100000", "50000"},
			inspect: map[string]string{"{{.HostConfig.NanoCpus}}": "500000000"}},
		{name: "cpu-shares", flags: []string{"--cpu-shares", "512"}, v1: true,
			cmd: "cat /sys/fs/cgroup/cpu/cpu.shares", want: []string{"512"}, inspect: map[string]string{"{{.HostConfig.CpuShares}}": "512"}},
		{name: "cpu-period-quota", flags: []string{"--cpu-period", "50000", "--cpu-quota", "25000"}, v1: true,
			cmd: "cat /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/cpu/cpu.cfs_quota_us", want: []string{"50000", "25000"},
			inspect: map[string]string{"{{.HostConfig.CpuPeriod}}/{{.HostConfig.CpuQuota}}": "50000/25000"}},
		{name: "cpuset", flags: []string{"--cpuset-cpus", "0", "--cpuset-mems", "0"}, v1: true,
			cmd: "echo cpus=$(cat /sys/fs/cgroup/cpuset/cpuset.cpus) mems=$(cat /sys/fs/cgroup/cpuset/cpuset.mems)", want: []string{"cpus=0 mems=0"},
			inspect: map[string]string{"{{.HostConfig.CpusetCpus}}/{{.HostConfig.CpusetMems}}": "0/0"}},
		{name: "pids-limit", flags: []string{"--pids-limit", "50"}, v1: true,
			cmd: "cat /sys/fs/cgroup/pids/pids.max", want: []string{"50"}, inspect: map[string]string{"{{.HostConfig.PidsLimit}}": "50"}},
		{name: "device-bps-iops", flags: []string{"--device-read-bps", bdev + ":1mb", "--device-write-iops", bdev + ":100"}, v1: true,
			cmd:  "cat /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device",
			want: []string{bnum + " 1048576", bnum + " 100"},
			inspect: map[string]string{"{{json .HostConfig.BlkioDeviceReadBps}}": `[{"Path":"` + bdev + `","Rate":1048576}]`,
				"{{json .HostConfig.BlkioDeviceWriteIOps}}": `[{"Path":"` + bdev + `","Rate":100}]`}},
		{name: "device-cgroup-rule", flags: []string{"--device-cgroup-rule", "c 1:11 r"}, v1: true,
			cmd: "grep '1:11' /sys/fs/cgroup/devices/devices.list", want: []string{"c 1:11 r"},
			inspect: map[string]string{"{{json .HostConfig.DeviceCgroupRules}}": `["c 1:11 r"]`}},
		{name: "oom-score-adj", flags: []string{"--oom-score-adj", "100"},
			cmd: "cat /proc/self/oom_score_adj", want: []string{"100"}, inspect: map[string]string{"{{.HostConfig.OomScoreAdj}}": "100"}},
		{name: "shm-size", flags: []string{"--shm-size", "32m"},
			cmd: "df -k /dev/shm | tail -1 | awk '{print $2}'", want: []string{"32768"}, inspect: map[string]string{"{{.HostConfig.ShmSize}}": "33554432"}},
		{name: "ulimit", flags: []string{"--ulimit", "nofile=100:200"},
			cmd: "ulimit -n; ulimit -Hn", want: []string{"100", "200"},
			inspect: map[string]string{"{{json .HostConfig.Ulimits}}": `[{"Name":"nofile","Hard":200,"Soft":100}]`}},
		{name: "sysctl", flags: []string{"--sysctl", "net.ipv4.ip_forward=1"},
			cmd: "cat /proc/sys/net/ipv4/ip_forward", want: []string{"1"}, inspect: map[string]string{`{{index .HostConfig.Sysctls "net.ipv4.ip_forward"}}`: "1"}},
		{name: "cap-add-drop", flags: []string{"--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN"}, cmd: "grep CapEff /proc/self/status",
			check: func(t *testing.T, out string) {
				if c := capBits(t, out); c&(1<<12) == 0 || c&1 != 0 {
					t.Errorf("CapEff %x: want NET_ADMIN (12) and not CHOWN (0)", c)
				}
			}, inspect: map[string]string{"{{json .HostConfig.CapAdd}} {{json .HostConfig.CapDrop}}": `["CAP_NET_ADMIN"] ["CAP_CHOWN"]`}},
		{name: "privileged", flags: []string{"--privileged"}, cmd: "grep CapEff /proc/self/status; test -e /dev/kmsg && echo host-devices",
			want: []string{"host-devices"}, check: func(t *testing.T, out string) {
				if c, host := capBits(t, out), capBits(t, string(hostStatus)); c != host {
					t.Errorf("CapEff %x: want every capability the host has, %x", c, host)
				}
			}, inspect: map[string]string{"{{.HostConfig.Privileged}}": "true"}},
		{name: "no-new-privileges", flags: []string{"--security-opt", "no-new-privileges"}, cmd: "grep NoNewPrivs /proc/self/status",
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "NoNewPrivs:\t1") {
					t.Errorf("want NoNewPrivs 1: %q", out)
				}
			}, inspect: map[string]string{"{{json .HostConfig.SecurityOpt}}": `["no-new-privileges"]`}},
		{name: "seccomp-unconfined", flags: []string{"--security-opt", "seccomp=unconfined"}, cmd: "grep Seccomp: /proc/self/status | tr -d '\\t'",
			want: []string{"Seccomp:0"}, inspect: map[string]string{"{{json .HostConfig.SecurityOpt}}": `["seccomp=unconfined"]`}},
		{name: "seccomp-profile", flags: []string{"--security-opt", "seccomp=" + profile}, cmd: "mkdir /x 2>/dev/null; echo mkdir=$?; touch /y && echo touch-ok",
			want: []string{"mkdir=1", "touch-ok"}},
		{name: "systempaths-unconfined", flags: []string{"--security-opt", "systempaths=unconfined"}, cmd: "grep -c -E ' /proc/kcore | /proc/sys ' /proc/self/mountinfo; true",
			want: []string{"0"}, inspect: map[string]string{"{{json .HostConfig.MaskedPaths}} {{json .HostConfig.ReadonlyPaths}}": "[] []"}},
		{name: "read-only", flags: []string{"--read-only"}, cmd: "touch /f 2>/dev/null || echo ro-root; touch /tmp/f 2>/dev/null || echo ro-tmp",
			want: []string{"ro-root", "ro-tmp"}, inspect: map[string]string{"{{.HostConfig.ReadonlyRootfs}}": "true"}},
		{name: "read-only-tmpfs", flags: []string{"--read-only", "--tmpfs", "/scratch:size=1m,mode=1770"},
			cmd:  "touch /scratch/x && echo tmpfs-rw; grep ' /scratch ' /proc/self/mountinfo | grep -o 'size=1024k,mode=1770'",
			want: []string{"tmpfs-rw", "size=1024k,mode=1770"}, inspect: map[string]string{"{{json .HostConfig.Tmpfs}}": `{"/scratch":"size=1m,mode=1770"}`}},
		{name: "mount-tmpfs", flags: []string{"--mount", "type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=0700"},
			cmd: "grep ' /t ' /proc/self/mountinfo | grep -o 'size=1024k,mode=700'", want: []string{"size=1024k,mode=700"},
			inspect: map[string]string{"{{range .HostConfig.Mounts}}{{.Type}} {{.Target}} {{.TmpfsOptions.SizeBytes}} {{.TmpfsOptions.Mode}}{{end}}": "tmpfs /t 1048576 -rwx------"}},
		{name: "mount-bind-readonly", flags: []string{"--mount", "type=bind,src=" + bindSrc + ",dst=/x,readonly"},
			cmd: "cat /x/f; touch /x/g 2>/dev/null || echo ro-bind", want: []string{"from-host", "ro-bind"},
			inspect: map[string]string{"{{range .HostConfig.Mounts}}{{.Type}} {{.Source}} {{.Target}} {{.ReadOnly}}{{end}} {{json .HostConfig.Binds}}": "bind " + bindSrc + " /x true []"}},
		{name: "mount-volume-nocopy", flags: []string{"--mount", "type=volume,src=rf-nocopy,dst=/etc,volume-nocopy"},
			cmd: "test -e /etc/passwd && echo copied || echo empty", want: []string{"empty"},
			inspect: map[string]string{"{{range .HostConfig.Mounts}}{{.Source}} {{.VolumeOptions.NoCopy}}{{end}}": "rf-nocopy true"}},
		{name: "mount-volume-copied", flags: []string{"--mount", "type=volume,src=rf-copy,dst=/etc"},
			cmd: "test -e /etc/passwd && echo copied || echo empty", want: []string{"copied"}},
		{name: "mount-volume-opts", flags: []string{"--mount", "type=volume,src=rf-tmpfsvol,dst=/v,volume-opt=type=tmpfs,volume-opt=device=tmpfs,volume-label=team=a"},
			cmd: "grep ' /v ' /proc/self/mountinfo | awk '{print $9}'", want: []string{"tmpfs"}},
		{name: "volume-options", flags: []string{"-v", bindSrc + ":/y:ro", "-v", missing + ":/z"},
			cmd: "cat /y/f; touch /y/g 2>/dev/null || echo ro-bind; touch /z/made && echo made", want: []string{"from-host", "ro-bind", "made"},
			check: func(t *testing.T, _ string) {
				if _, err := os.Stat(filepath.Join(missing, "made")); err != nil {
					t.Errorf("-v of a missing source: docker makes it: %v", err)
				}
			},
			// In either order: the docker client sends -v's from a map (a failed run saw them swapped).
			inspect: map[string]string{`{{len .HostConfig.Binds}}{{range .HostConfig.Binds}}{{if eq . "` + bindSrc + `:/y:ro"}} ro{{end}}{{end}}{{range .HostConfig.Binds}}{{if eq . "` + missing + `:/z"}} made{{end}}{{end}}`: "2 ro made"}},
		{name: "device", flags: []string{"--device", "/dev/null:/dev/xnull", "--device", "/dev/kmsg:/dev/xkmsg:r"},
			cmd:     "ls -l /dev/xnull | awk '{print $5 $6}'; (echo x > /dev/xkmsg) 2>/dev/null || echo kmsg-not-writable",
			want:    []string{"1,3", "kmsg-not-writable"},
			inspect: map[string]string{"{{range .HostConfig.Devices}}{{.PathOnHost}}:{{.PathInContainer}}:{{.CgroupPermissions}} {{end}}": "/dev/null:/dev/xnull:rwm /dev/kmsg:/dev/xkmsg:r"}},
		{name: "user-groups-workdir", flags: []string{"--user", "1000:1000", "--group-add", "50", "--workdir", "/var/www"},
			cmd: "id; pwd", want: []string{"uid=1000(bob) gid=1000(bob) groups=50(staff)", "/var/www"},
			inspect: map[string]string{"{{.Config.User}} {{.Config.WorkingDir}} {{json .HostConfig.GroupAdd}}": `1000:1000 /var/www ["50"]`}},
		{name: "entrypoint", flags: []string{"--entrypoint", "/bin/echo"}, cmd: "hello", want: []string{"sh -c hello"},
			inspect: map[string]string{"{{json .Config.Entrypoint}}": `["/bin/echo"]`}},
		{name: "env-label", flags: []string{"--env-file", envFile, "-e", "X=1", "--label", "team=blue"},
			cmd: "echo $FROM_FILE $SECOND $X", want: []string{"yes 2 1"},
			inspect: map[string]string{`{{index .Config.Labels "team"}}`: "blue"}, pea: map[string]string{"{{.Config.Labels.team}}": "blue"}},
		{name: "hostname-domainname", flags: []string{"--hostname", "h1", "--domainname", "example.com"},
			cmd: "hostname; cat /proc/sys/kernel/domainname", want: []string{"h1", "example.com"},
			inspect: map[string]string{"{{.Config.Hostname}} {{.Config.Domainname}}": "h1 example.com"}, pea: map[string]string{"{{.Config.Domainname}}": "example.com"}},
		{name: "dns", flags: []string{"--dns", "192.0.2.53", "--dns-search", "example.com", "--dns-option", "ndots:2"},
			cmd: "cat /etc/resolv.conf", want: []string{"nameserver 192.0.2.53", "search example.com", "options ndots:2"},
			inspect: map[string]string{"{{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}}": `["192.0.2.53"] ["example.com"] ["ndots:2"]`}},
		{name: "add-host", flags: []string{"--add-host", "foo:192.0.2.7", "--add-host", "gw:host-gateway"},
			cmd: "grep -E 'foo|gw' /etc/hosts; ip route | awk '/^default/ {print \"route \" $3}'", want: []string{"192.0.2.7\tfoo"},
			check: func(t *testing.T, out string) {
				var gw, line string
				for _, l := range strings.Split(out, "\n") {
					if v, ok := strings.CutPrefix(l, "route "); ok {
						gw = v
					}
					if strings.HasSuffix(l, "\tgw") {
						line = l
					}
				}
				if gw == "" || line != gw+"\tgw" {
					t.Errorf("host-gateway: want %q in /etc/hosts (the default route's gateway): %q", gw+"\tgw", out)
				}
			}, inspect: map[string]string{"{{json .HostConfig.ExtraHosts}}": `["foo:192.0.2.7","gw:host-gateway"]`}},
		{name: "init", flags: []string{"--init"}, cmd: "tr '\\0' ' ' < /proc/1/cmdline; echo",
			check: func(t *testing.T, out string) {
				if !strings.Contains(out, "init -- sh -c") {
					t.Errorf("PID 1: want the init running the command, got %q", out)
				}
			}, inspect: map[string]string{"{{.HostConfig.Init}}": "true"}},
		{name: "namespaces-host", flags: []string{"--pid", "host", "--uts", "host", "--ipc", "host", "--userns", "host"},
			cmd:     "readlink /proc/1/ns/pid; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc; readlink /proc/self/ns/user; hostname",
			want:    []string{hostPidNS, hostNS("uts"), hostNS("ipc"), hostNS("user"), hostName},
			inspect: map[string]string{"{{.HostConfig.PidMode}} {{.HostConfig.UTSMode}} {{.HostConfig.IpcMode}}": "host host host"}},
		{name: "namespaces-private", flags: []string{"--ipc", "private", "--cgroupns", "private"},
			cmd: "readlink /proc/self/ns/ipc; readlink /proc/self/ns/cgroup; head -1 /proc/self/cgroup",
			check: func(t *testing.T, out string) {
				if strings.Contains(out, hostNS("ipc")) || strings.Contains(out, hostNS("cgroup")) || !strings.HasSuffix(strings.TrimSpace(out), ":/") {
					t.Errorf("want IPC and cgroup namespaces of its own (its cgroup its root): %q", out)
				}
			}, inspect: map[string]string{"{{.HostConfig.IpcMode}} {{.HostConfig.CgroupnsMode}}": "private private"}},
		{name: "cgroup-parent", flags: []string{"--cgroup-parent", "/" + cgParent}, v1: true,
			cmd: "grep memory /proc/self/cgroup", check: func(t *testing.T, out string) {
				if !strings.Contains(out, ":/"+cgParent+"/") {
					t.Errorf("want the container's cgroup below /%s: %q", cgParent, out)
				}
			}, inspect: map[string]string{"{{.HostConfig.CgroupParent}}": "/" + cgParent}},
		{name: "log-driver", flags: []string{"--log-driver", "json-file", "--log-opt", "max-size=1m", "--log-opt", "max-file=3", "--log-opt", "tag=rf"},
			cmd: "echo logged", want: []string{"logged"}, stderr: "max-file",
			inspect: map[string]string{"{{json .HostConfig.LogConfig}}": `{"Type":"json-file","Config":{"max-size":"1m","tag":"rf"}}`},
			pea:     map[string]string{"{{.HostConfig.LogConfig.Type}} {{.HostConfig.LogConfig.Size}}": "json-file 1048576B"}},
		{name: "stop-signal-timeout", flags: []string{"--stop-signal", "SIGUSR1", "--stop-timeout", "7"}, cmd: "true",
			inspect: map[string]string{"{{.Config.StopSignal}} {{.Config.StopTimeout}}": "SIGUSR1 7"}},
		{name: "platform", flags: []string{"--platform", "linux/" + runtime.GOARCH}, cmd: "echo native", want: []string{"native"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { a.runFlag(t, fmt.Sprintf("rf%d", i), c) })
	}
	// Volumes the mounts made, with their options and labels.
	if out := a.MustDocker("volume", "inspect", "-f", "{{json .Labels}} {{json .Options}}", "rf-tmpfsvol"); out != `{"team":"a"} {"device":"tmpfs","type":"tmpfs"}` {
		t.Errorf("the volume --mount made: %s", out)
	}
}

// TestAPIRunFlagsRefused: what pea cannot honour is refused with one clear error, and nothing
// is made.
func TestAPIRunFlagsRefused(t *testing.T) {
	a := newAPIEnv(t)
	blkioRefused := "blkio.weight"
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err == nil || !cgroupV1() {
		blkioRefused = "" // the host can: see TestAPIRunFlags's other limits
	}
	cases := []struct {
		name  string
		flags []string
		want  string
	}{
		{"gpus", []string{"--gpus", "all"}, "--gpus is not supported"},
		{"storage-opt", []string{"--storage-opt", "size=1G"}, "--storage-opt is not supported"},
		{"runtime", []string{"--runtime", "runsc"}, "unknown or invalid runtime name: runsc"},
		{"isolation", []string{"--isolation", "hyperv"}, "only support 'default'"},
		{"log-driver", []string{"--log-driver", "syslog"}, `log driver "syslog" is not supported`},
		{"log-opt", []string{"--log-opt", "labels=a"}, `unknown log opt "labels"`},
		{"link-default-network", []string{"--link", "other:alias"}, "links (--link) need a network of the user's"},
		{"hostname-uts-host", []string{"--uts", "host", "--hostname", "h"}, "conflicting options: hostname and the UTS mode"},
		{"cpuset-unavailable", []string{"--cpuset-cpus", "4095"}, "Requested CPUs are not available"},
		{"cpus-above-host", []string{"--cpus", "4096"}, "range of CPUs is from 0.01 to"},
		{"memory-reservation-small", []string{"--memory-reservation", "1m"}, "Minimum memory reservation allowed is 6MB"},
		{"swap-without-memory", []string{"--memory-swap", "100m"}, "needs --memory"},
		{"device-missing", []string{"--device", "/dev/pea-no-such-device"}, "error gathering device information"},
		{"mount-source-missing", []string{"--mount", "type=bind,src=/pea-no-such-dir,dst=/x"}, "bind source path does not exist"},
		{"blkio-weight", []string{"--blkio-weight", "300"}, blkioRefused},
		{"security-opt", []string{"--security-opt", "nonsense=1"}, "invalid --security-opt"},
	}
	a.MustDocker("run", "-d", "--name", "other", "localhost/bb", "sleep", "100")
	before := a.Pea("ps", "-aq")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.want == "" {
				t.Skip("the host applies it")
			}
			args := append(append([]string{"run", "--rm"}, c.flags...), "localhost/bb", "true")
			r := a.Docker(args...)
			if r.Code == 0 || !strings.Contains(r.Stderr, c.want) {
				t.Fatalf("docker %s: want a refusal saying %q, got %s", strings.Join(args, " "), c.want, r)
			}
		})
	}
	if after := a.Pea("ps", "-aq"); after != before {
		t.Fatalf("refused runs left containers: %q -> %q", before, after)
	}
	// Conflicts with another container's network namespace.
	for _, flags := range [][]string{{"--dns", "192.0.2.1"}, {"--add-host", "a:192.0.2.1"}, {"--hostname", "h"}} {
		args := append(append([]string{"run", "--rm", "--network", "container:other"}, flags...), "localhost/bb", "true")
		if r := a.Docker(args...); r.Code == 0 || !strings.Contains(r.Stderr, "conflicting options") {
			t.Errorf("docker %s: %s", strings.Join(args, " "), r)
		}
	}
	// A start that fails ends docker run --rm, and leaves nothing behind.
	done := make(chan Result, 1)
	go func() {
		done <- a.Docker("run", "--rm", "--sysctl", "net.ipv4.pea_no_such_key=1", "localhost/bb", "true")
	}()
	select {
	case r := <-done:
		if r.Code == 0 {
			t.Fatalf("a run whose start fails: %s", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("docker run --rm of a container whose start failed never ended")
	}
	if after := a.Pea("ps", "-aq"); after != before {
		t.Fatalf("a failed start of a --rm container left it: %q -> %q", before, after)
	}
}

// TestAPIRunFlagsNetwork: --ip/--ip6 on a network with both subnets, --network-alias and
// --link (further names the container finds the other by), and a MAC address (Config.MacAddress,
// API 1.41's: the docker client 28 refuses --mac-address against that version itself).
func TestAPIRunFlagsNetwork(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("network", "create", "--subnet", "10.213.0.0/24", "--ipv6", "--subnet", "fd00:213::/64", "rfnet")
	a.MustDocker("run", "-d", "--name", "srv", "--network", "rfnet", "--network-alias", "web", "localhost/bb", "sleep", "100")
	srvIP := a.MustDocker("inspect", "-f", `{{(index .NetworkSettings.Networks "rfnet").IPAddress}}`, "srv")
	out := a.MustDocker("run", "--name", "cli", "--network", "rfnet", "--ip", "10.213.0.50", "--ip6", "fd00:213::50", "--link", "srv:db",
		"localhost/bb", "sh", "-c", "ip addr show eth0; cat /etc/hosts")
	for _, want := range []string{"inet 10.213.0.50/24", "inet6 fd00:213::50/64"} {
		if !strings.Contains(out, want) {
			t.Errorf("--ip/--ip6: want %q in:\n%s", want, out)
		}
	}
	found := false
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == srvIP {
			found = slices.Contains(f, "srv") && slices.Contains(f, "web") && slices.Contains(f, "db")
		}
	}
	if !found {
		t.Errorf("want srv's address (%s) named srv, web (its alias) and db (the link):\n%s", srvIP, out)
	}
	if got := a.MustDocker("inspect", "-f", `{{json .HostConfig.Links}} {{json (index .NetworkSettings.Networks "rfnet").IPAMConfig}}`, "cli"); got != `["/srv:/cli/db"] {"IPv4Address":"10.213.0.50","IPv6Address":"fd00:213::50"}` {
		t.Errorf("inspect of links and static addresses: %s", got)
	}
	// A link is for the linking container alone: srv's peers do not know db.
	if out := a.MustDocker("run", "--rm", "--network", "rfnet", "localhost/bb", "cat", "/etc/hosts"); strings.Contains(out, " db") {
		t.Errorf("a link leaked into another container's hosts:\n%s", out)
	}
	if r := a.Docker("run", "--rm", "--network", "rfnet", "--link", "nosuch:db", "localhost/bb", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "could not get container for nosuch") {
		t.Errorf("a link to no container: %s", r)
	}
	a.RequestJSON("POST", "/v1.41/containers/create?name=mac", map[string]any{"Image": "localhost/bb", "Cmd": []string{"cat", "/sys/class/net/eth0/address"},
		"MacAddress": "02:42:ac:11:00:09", "HostConfig": map[string]any{"NetworkMode": "rfnet"}}, 201, nil)
	if out := a.MustDocker("start", "-a", "mac"); out != "02:42:ac:11:00:09" {
		t.Errorf("Config.MacAddress: the container's is %q", out)
	}
	if got := a.MustDocker("inspect", "-f", "{{.Config.MacAddress}}", "mac"); got != "02:42:ac:11:00:09" {
		t.Errorf("inspect's MacAddress: %q", got)
	}
}

// TestAPIRunFlagsLifecycle: restart policies with their retries, health checks (and
// --no-healthcheck), the stop signal and timeout, --rm, -t, -i, --detach-keys, --pull never and
// --platform.
func TestAPIRunFlagsLifecycle(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "rs", "--restart", "on-failure:2", "localhost/bb", "sh", "-c", "exit 3")
	eventually(t, 30*time.Second, func() error {
		if got := a.MustDocker("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "rs"); got != "2 exited 3" {
			return fmt.Errorf("on-failure:2: restarts, status, exit code: %s", got)
		}
		return nil
	})
	if got := a.MustDocker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "rs"); got != "on-failure:2" {
		t.Errorf("restart policy: %s", got)
	}

	a.MustDocker("run", "-d", "--name", "hc", "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-retries", "1",
		"--health-timeout", "2s", "--health-start-period", "1s", "localhost/bb", "sh", "-c", "touch /tmp/ok; sleep 100")
	eventually(t, 20*time.Second, func() error {
		if got := a.MustDocker("inspect", "-f", "{{.State.Health.Status}}", "hc"); got != "healthy" {
			return fmt.Errorf("health: %s", got)
		}
		return nil
	})
	if got := a.MustDocker("inspect", "-f", "{{json .Config.Healthcheck}}", "hc"); got != `{"Test":["CMD-SHELL","test -f /tmp/ok"],"Interval":1000000000,"Timeout":2000000000,"StartPeriod":1000000000,"Retries":1}` {
		t.Errorf("inspect's health check: %s", got)
	}
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nHEALTHCHECK --interval=1s CMD [\"false\"]\n"), 0o644)
	a.Pea("build", "-q", "-t", "localhost/bbhc", ctx)
	a.MustDocker("run", "-d", "--name", "withhc", "localhost/bbhc", "sleep", "100")
	if got := a.MustDocker("inspect", "-f", "{{json .Config.Healthcheck.Test}}", "withhc"); got != `["CMD","false"]` {
		t.Fatalf("the image's health check: %s", got)
	}
	a.MustDocker("run", "-d", "--name", "nohc", "--no-healthcheck", "localhost/bbhc", "sleep", "100")
	if got := a.MustDocker("inspect", "-f", "{{.State.Health}}|{{.Config.Healthcheck}}", "nohc"); got != "<nil>|<nil>" {
		t.Errorf("--no-healthcheck: the image's check is still there: %s", got)
	}

	a.MustDocker("run", "-d", "--name", "sig", "--stop-signal", "SIGUSR1", "--stop-timeout", "30", "localhost/bb", "sh", "-c",
		`trap "echo got-usr1; exit 0" USR1; echo ready; while true; do sleep 0.1; done`)
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(a.MustDocker("logs", "sig"), "ready") {
			return fmt.Errorf("not ready")
		}
		return nil
	})
	a.MustDocker("stop", "sig")
	if got := a.MustDocker("logs", "sig"); !strings.Contains(got, "got-usr1") {
		t.Errorf("--stop-signal SIGUSR1: the container's log: %q", got)
	}
	// PID 1 ignores SIGTERM: the stop waits out --stop-timeout, then kills.
	a.MustDocker("run", "-d", "--name", "slow", "--stop-timeout", "1", "localhost/bb", "sleep", "100")
	start := time.Now()
	a.MustDocker("stop", "slow")
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("--stop-timeout 1: docker stop took %v (the default is 10s)", d)
	}

	a.MustDocker("run", "--rm", "--name", "gone", "localhost/bb", "true")
	if out := a.Pea("ps", "-a", "--format", "{{.Names}}"); strings.Contains(out, "gone") {
		t.Errorf("--rm: the container is still there: %q", out)
	}
	if out := a.MustDocker("run", "--rm", "-t", "localhost/bb", "tty"); !strings.HasPrefix(out, "/dev/pts/") {
		t.Errorf("-t: tty says %q", out)
	}
	if r := a.DockerIn("through stdin\n", "run", "--rm", "-i", "localhost/bb", "cat"); strings.TrimSpace(r.Stdout) != "through stdin" {
		t.Errorf("-i: %s", r)
	}
	if r := a.Docker("run", "--rm", "--pull", "never", "localhost/nosuch", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "No such image") {
		t.Errorf("--pull never of a missing image: %s", r)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	before := a.Pea("ps", "-aq")
	if r := a.Docker("run", "--rm", "--pull", "never", "--platform", "linux/"+other, "localhost/bb", "true"); r.Code == 0 {
		t.Errorf("--platform linux/%s of a linux/%s image: %s", other, runtime.GOARCH, r)
	}
	if after := a.Pea("ps", "-aq"); after != before {
		t.Errorf("--platform of another image made a container: %q -> %q", before, after)
	}

	p := startOnPty(t, []string{"DOCKER_HOST=unix://" + a.Sock, "DOCKER_CONFIG=" + a.config},
		a.docker, "run", "-it", "--detach-keys", "ctrl-a,x", "--name", "dk", "--network", "none", "localhost/bb", "sh", "-c", odCommand)
	p.waitFor("ready")
	p.typeKeys("ij")
	p.waitBytes("ij")
	a.detachAndCheck(p, "dk", "\x01", "x")
}

// TestAPIUpdateFlags: docker update changes a running container's cgroup and what docker
// inspect shows, its restart policy too; what the host cannot apply is refused.
func TestAPIUpdateFlags(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "up", "--memory", "64m", "localhost/bb", "sleep", "100")
	a.MustDocker("update", "--memory", "128m", "--memory-swap", "256m", "--cpus", "0.5", "--cpu-shares", "256", "--pids-limit", "40",
		"--cpuset-cpus", "0", "--restart", "on-failure:4", "up")
	if got := a.MustDocker("inspect", "-f", "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpusetCpus}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}", "up"); got != "134217728 268435456 500000000 256 40 0 on-failure:4" {
		t.Errorf("inspect after update: %s", got)
	}
	if cgroupV1() {
		out := a.MustDocker("exec", "up", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
			"/sys/fs/cgroup/cpu/cpu.shares", "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/cpuset/cpuset.cpus")
		if got := strings.Fields(out); strings.Join(got, " ") != "134217728 50000 256 40 0" {
			t.Errorf("the container's cgroup after update: %q", out)
		}
	}
	// The period and quota replace --cpus; -1 lifts the process limit.
	a.MustDocker("update", "--cpu-period", "50000", "--cpu-quota", "20000", "--pids-limit", "-1", "--restart", "no", "up")
	if got := a.MustDocker("inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.RestartPolicy.Name}}", "up"); got != "0 50000 20000 no" {
		t.Errorf("inspect after the second update: %s", got)
	}
	if r := a.Docker("update", "--kernel-memory", "10m", "up"); r.Code != 0 || !strings.Contains(r.Stdout+r.Stderr, "KernelMemory discarded") {
		t.Errorf("update --kernel-memory: want a warning: %s", r)
	}
	if _, err := os.Stat("/sys/fs/cgroup/blkio/blkio.weight"); err != nil && cgroupV1() {
		if r := a.Docker("update", "--blkio-weight", "300", "up"); r.Code == 0 || !strings.Contains(r.Stderr, "blkio.weight") {
			t.Errorf("update --blkio-weight on a host without it: %s", r)
		}
	}
	a.MustDocker("run", "-d", "--rm", "--name", "auto", "localhost/bb", "sleep", "100")
	if r := a.Docker("update", "--restart", "always", "auto"); r.Code == 0 || !strings.Contains(r.Stderr, "AutoRemove") {
		t.Errorf("update --restart of a --rm container: %s", r)
	}
}

// TestAPIExecInheritsProcess: docker exec runs as the container's own process does: its
// ulimits, no-new-privileges and capabilities.
func TestAPIExecInheritsProcess(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "ex", "--ulimit", "nofile=100:200", "--security-opt", "no-new-privileges", "--cap-add", "NET_ADMIN",
		"localhost/bb", "sleep", "100")
	for _, user := range []string{"", "1000"} {
		args := []string{"exec"}
		if user != "" {
			args = append(args, "-u", user)
		}
		out := a.MustDocker(append(args, "ex", "sh", "-c", "ulimit -n; ulimit -Hn; grep -E 'NoNewPrivs|CapBnd' /proc/self/status")...)
		if !strings.Contains(out, "100\n200\n") || !strings.Contains(out, "NoNewPrivs:\t1") {
			t.Errorf("exec (user %q): want the container's ulimits and no-new-privileges:\n%s", user, out)
		}
		bnd := strings.Replace(out[strings.Index(out, "CapBnd"):], "CapBnd", "CapEff", 1)
		if c := capBits(t, bnd); c&(1<<12) == 0 {
			t.Errorf("exec (user %q): the container's capabilities (NET_ADMIN) are not its bounding set: %x", user, c)
		}
	}
}

// TestAPIRunMountPropagation: --mount's bind-propagation and bind-nonrecursive, and -v's
// propagation, against a shared mount of the host's.
func TestAPIRunMountPropagation(t *testing.T) {
	a := newAPIEnv(t)
	src := filepath.Join(t.TempDir(), "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	mustRun := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	mustRun("mount", "--bind", src, src)
	t.Cleanup(func() { exec.Command("umount", "-R", "-l", src).Run() })
	mustRun("mount", "--make-shared", src)
	mustRun("mount", "-t", "tmpfs", "tmpfs", filepath.Join(src, "sub"))
	os.WriteFile(filepath.Join(src, "sub", "f"), []byte("below\n"), 0o644)

	a.MustDocker("run", "-d", "--name", "slave", "--mount", "type=bind,src="+src+",dst=/x,bind-propagation=rslave", "localhost/bb", "sleep", "100")
	if out := a.MustDocker("exec", "slave", "sh", "-c", "grep ' /x ' /proc/self/mountinfo; cat /x/sub/f"); !strings.Contains(out, "master:") || !strings.Contains(out, "below") {
		t.Errorf("rslave: want a slave mount (master:) with the mounts below it:\n%s", out)
	}
	// A mount the host makes later reaches the rslave container.
	os.MkdirAll(filepath.Join(src, "later"), 0o755)
	mustRun("mount", "-t", "tmpfs", "tmpfs", filepath.Join(src, "later"))
	os.WriteFile(filepath.Join(src, "later", "g"), []byte("later\n"), 0o644)
	if out := a.MustDocker("exec", "slave", "cat", "/x/later/g"); out != "later" {
		t.Errorf("rslave: the host's later mount did not reach the container: %q", out)
	}
	if got := a.MustDocker("inspect", "-f", "{{range .HostConfig.Mounts}}{{.BindOptions.Propagation}}{{end}}", "slave"); got != "rslave" {
		t.Errorf("inspect's propagation: %q", got)
	}
	if out := a.MustDocker("run", "--rm", "--mount", "type=bind,src="+src+",dst=/x,bind-nonrecursive", "localhost/bb", "sh", "-c", "ls /x/sub | wc -l"); out != "0" {
		t.Errorf("bind-nonrecursive: the mount below the source is there (%s files)", out)
	}
	if out := a.MustDocker("run", "--rm", "-v", src+":/x:rshared", "localhost/bb", "grep", " /x ", "/proc/self/mountinfo"); !strings.Contains(out, "shared:") {
		t.Errorf("-v :rshared: %s", out)
	}
}

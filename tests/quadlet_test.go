package tests

import (
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// quadletFiles writes Quadlet files (name -> text) into a directory of their own.
func quadletFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// quadletEnv is the environment without the variables that choose Quadlet's directories.
func quadletEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PEA_QUADLET_UNIT_DIRS=") && !strings.HasPrefix(kv, "XDG_CONFIG_HOME=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runQuadlet runs `pea quadlet ARGS` on the files of src.
func runQuadlet(src string, args ...string) Result {
	cmd := exec.Command(peaBin, append([]string{"quadlet"}, args...)...)
	cmd.Env = quadletEnv("PEA_QUADLET_UNIT_DIRS=" + src)
	return runCmd(cmd)
}

// dryrunUnits splits -dryrun's output (---NAME.service--- then the unit) into its units.
func dryrunUnits(t *testing.T, out string) map[string]string {
	t.Helper()
	units := map[string]string{}
	name := ""
	for _, l := range strings.SplitAfter(out, "\n") {
		if n, ok := strings.CutPrefix(strings.TrimSuffix(l, "\n"), "---"); ok && strings.HasSuffix(n, ".service---") {
			name = strings.TrimSuffix(n, "---")
			units[name] = ""
			continue
		}
		if name == "" {
			t.Fatalf("-dryrun printed %q before a unit's name", l)
		}
		units[name] += l
	}
	return units
}

// unitValues are the values of every key= line of a unit, but those of the X- sections
// (Quadlet's own, kept for reference), which systemd does not read.
func unitValues(unit, key string) []string {
	var out []string
	ignored := false
	for _, l := range strings.Split(unit, "\n") {
		if strings.HasPrefix(l, "[") {
			ignored = strings.HasPrefix(l, "[X-")
		}
		if v, ok := strings.CutPrefix(l, key+"="); ok && !ignored {
			out = append(out, v)
		}
	}
	return out
}

// unitRunner runs a generated unit's Exec lines as systemd would run them for the unit named
// name: words split as systemd splits them, the specifiers %t (runtime directory), %n, %N
// expanded, the [Service] Environment= set, and the store the test's (PEA_ROOT, PEA_RUNROOT).
type unitRunner struct {
	t                 *testing.T
	e                 *Env
	name, text, rtDir string
	extraEnv          []string
}

func (r *unitRunner) env() []string {
	env := quadletEnv("PEA_ROOT="+r.e.Root, "PEA_RUNROOT="+r.e.RunRoot)
	for _, v := range unitValues(r.text, "Environment") {
		env = append(env, r.words(v)...)
	}
	return append(env, r.extraEnv...)
}

func (r *unitRunner) words(line string) []string {
	line = strings.ReplaceAll(line, "%N", strings.TrimSuffix(r.name, ".service"))
	return systemdWords(line, r.rtDir, r.name)
}

// exec runs every key= line in order (ExecStopPost=-... may fail, as systemd allows).
func (r *unitRunner) exec(key string) string {
	r.t.Helper()
	lines := unitValues(r.text, key)
	if len(lines) == 0 {
		r.t.Fatalf("%s has no %s=:\n%s", r.name, key, r.text)
	}
	var out strings.Builder
	for _, l := range lines {
		mayFail := strings.HasPrefix(l, "-")
		argv := r.words(strings.TrimPrefix(l, "-"))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = r.env()
		res := runCmd(cmd)
		if res.Code != 0 && !mayFail {
			r.t.Fatalf("%s %s=%s: %s", r.name, key, l, res)
		}
		out.WriteString(res.Stdout)
	}
	return out.String()
}

// Quadlet's -dryrun prints podman-shaped services for .container, .volume and .network files,
// with pea's absolute path in every command, dependencies on the volume's and network's
// services and their names in the container's command; a bad file is reported and left out
// (exit 1) while the others are printed. The directory mode writes the same units into the
// first of systemd's three directories and enables them as [Install] asks.
func TestQuadletGenerate(t *testing.T) {
	src := quadletFiles(t, map[string]string{
		"web.container": `[Unit]
Description=web

[Container]
Image=localhost/bb
Exec=sh -c "echo hi; sleep 1000"
Volume=data.volume:/data
Network=net.network
Environment="A=b c"

[Service]
Restart=always

[Install]
WantedBy=multi-user.target
`,
		"data.volume":     "[Volume]\nVolumeName=qdata\n",
		"net.network":     "[Network]\nLabel=app=q\n",
		"bad.container":   "[Container]\nImage=x\nNoSuchKey=1\n",
		"noimg.container": "[Container]\nExec=true\n",
		"other.txt":       "not read",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 1 {
		t.Fatalf("-dryrun with bad files: %s", r)
	}
	for _, want := range []string{"unsupported key 'NoSuchKey' in group 'Container'", "converting \"noimg.container\": no Image or Rootfs key specified"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.Stderr)
		}
	}
	units := dryrunUnits(t, r.Stdout)
	if len(units) != 3 || units["web.service"] == "" || units["data-volume.service"] == "" || units["net-network.service"] == "" {
		t.Fatalf("units %v:\n%s", len(units), r.Stdout)
	}
	web := units["web.service"]
	start := unitValues(web, "ExecStart")
	if len(start) != 1 || !strings.HasPrefix(start[0], peaBin+" run --name=systemd-%N --cidfile=%t/%N.cid --replace --rm --sdnotify=conmon -d ") ||
		!strings.Contains(start[0], " --network systemd-net ") || !strings.Contains(start[0], " --volume qdata:/data ") ||
		!strings.Contains(start[0], ` --env "A=b c" `) || !strings.HasSuffix(start[0], ` localhost/bb sh -c "echo hi; sleep 1000"`) {
		t.Errorf("ExecStart: %q", start)
	}
	for key, want := range map[string]string{"Type": "notify", "NotifyAccess": "all", "KillMode": "mixed", "Delegate": "yes",
		"SyslogIdentifier": "%N", "Restart": "always", "WantedBy": "multi-user.target", "Description": "web",
		"ExecStop": peaBin + " rm -f -i --cidfile=%t/%N.cid", "ExecStopPost": "-" + peaBin + " rm -f -i --cidfile=%t/%N.cid",
		"SourcePath": filepath.Join(src, "web.container"), "Environment": "PODMAN_SYSTEMD_UNIT=%n"} {
		if got := unitValues(web, key); len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", key, got, want)
		}
	}
	if got := strings.Join(unitValues(web, "Requires"), " "); got != "net-network.service data-volume.service" {
		t.Errorf("Requires=%q", got)
	}
	if !strings.Contains(web, "\n[X-Container]\nImage=localhost/bb\n") {
		t.Errorf("the [Container] section is not kept as X-Container:\n%s", web)
	}
	vol := units["data-volume.service"]
	if got := unitValues(vol, "ExecStart"); len(got) != 1 || got[0] != peaBin+" volume create --ignore qdata" ||
		unitValues(vol, "Type")[0] != "oneshot" || unitValues(vol, "RemainAfterExit")[0] != "yes" {
		t.Errorf("volume unit:\n%s", vol)
	}
	if got := unitValues(units["net-network.service"], "ExecStart"); len(got) != 1 || got[0] != peaBin+" network create --ignore --label app=q systemd-net" {
		t.Errorf("network ExecStart=%q", got)
	}

	// Directory mode: the units go into the first directory, the others are left alone.
	out := t.TempDir()
	normal, early, late := filepath.Join(out, "normal"), filepath.Join(out, "early"), filepath.Join(out, "late")
	os.Remove(filepath.Join(src, "bad.container"))
	os.Remove(filepath.Join(src, "noimg.container"))
	if r := runQuadlet(src, "-no-kmsg-log", normal, early, late); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
		t.Fatalf("directory mode: %s", r)
	}
	written, _ := os.ReadFile(filepath.Join(normal, "web.service"))
	if string(written)+"\n" != web {
		t.Errorf("written unit differs from -dryrun's:\n%s\n---\n%s", written, web)
	}
	if target, err := os.Readlink(filepath.Join(normal, "multi-user.target.wants", "web.service")); err != nil || target != "../web.service" {
		t.Errorf("[Install] WantedBy=: %q %v", target, err)
	}
	for _, d := range []string{early, late} {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s was written: %v", d, err)
		}
	}
	if r := runQuadlet(src, "-no-kmsg-log"); r.Code != 1 || !strings.Contains(r.Stderr, "missing output directory argument") {
		t.Errorf("no directory: %s", r)
	}
	verifyUnits(t, filepath.Join(normal, "web.service"))
}

// A .container's service really runs the container: its ExecStart= (run as systemd would,
// with NOTIFY_SOCKET) creates the volume's and network's objects' users, tells systemd conmon's
// PID and READY=1, labels the container with its unit; started again it replaces the
// container; ExecStop= and ExecStopPost= remove it. The volume and network services are
// idempotent (--ignore).
func TestQuadletContainerUnits(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := quadletFiles(t, map[string]string{
		"qweb.container": `[Container]
Image=localhost/bb
Exec=sh -c "trap 'exit 0' TERM; echo started > /data/started; sleep 1000 & wait"
Volume=qdata.volume:/data
Network=qnet.network
Environment=GREETING="hello world"
EnvironmentFile=web.env
Label=app=qweb
User=0
Group=50
`,
		"web.env":      "FROM_FILE=yes\n",
		"qdata.volume": "[Volume]\nLabel=kind=data\n",
		"qnet.network": "[Network]\nNetworkName=qnet-x\nDisableDNS=true\n",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	rtDir := t.TempDir()
	run := func(name string, extra ...string) *unitRunner {
		return &unitRunner{t: t, e: e, name: name, text: units[name], rtDir: rtDir, extraEnv: extra}
	}
	for i := 0; i < 2; i++ { // a second start finds them and keeps them
		if out := run("qdata-volume.service").exec("ExecStart"); strings.TrimSpace(out) != "systemd-qdata" {
			t.Fatalf("volume ExecStart printed %q", out)
		}
		if out := run("qnet-network.service").exec("ExecStart"); strings.TrimSpace(out) != "qnet-x" {
			t.Fatalf("network ExecStart printed %q", out)
		}
	}
	e.Fails(125, "volume", "create", "systemd-qdata") // without --ignore, still an error
	e.Fails(125, "network", "create", "qnet-x")
	if got := e.Pea("volume", "inspect", "--format", "{{.Labels.kind}}", "systemd-qdata"); got != "data" {
		t.Fatalf("volume label: %q", got)
	}
	if got := e.Pea("network", "inspect", "--format", "{{.DNSEnabled}}", "qnet-x"); got != "false" {
		t.Fatalf("network DNSEnabled: %q", got)
	}

	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	web := run("qweb.service", "NOTIFY_SOCKET="+sock)
	var firstID string
	for round := 0; round < 2; round++ {
		web.exec("ExecStart")
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no sd_notify message: %v", err)
		}
		msg := string(buf[:n])
		pidText, ok := strings.CutPrefix(strings.Split(msg, "\n")[0], "MAINPID=")
		pid, _ := strconv.Atoi(pidText)
		if !ok || !strings.Contains(msg, "READY=1") {
			t.Fatalf("sd_notify message %q", msg)
		}
		if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) != "conmon" {
			t.Fatalf("MAINPID=%d is %q, not conmon", pid, comm)
		}
		cid, err := os.ReadFile(filepath.Join(rtDir, "qweb.cid"))
		if err != nil {
			t.Fatalf("cidfile: %v", err)
		}
		got := e.Pea("inspect", "--format", "{{.ID}} {{.State.Status}} {{.Config.User}} {{index .Config.Labels \"PODMAN_SYSTEMD_UNIT\"}} {{.Config.Labels.app}}", "systemd-qweb")
		if got != strings.TrimSpace(string(cid))+" running 0:50 qweb.service qweb" {
			t.Fatalf("container after ExecStart: %q (cidfile %s)", got, cid)
		}
		if round == 1 && strings.TrimSpace(string(cid)) == firstID {
			t.Fatalf("a second ExecStart did not replace the container")
		}
		firstID = strings.TrimSpace(string(cid))
	}
	if got := e.Pea("exec", "systemd-qweb", "sh", "-c", `echo "$GREETING/$FROM_FILE"; cat /data/started`); got != "hello world/yes\nstarted" {
		t.Fatalf("environment and volume: %q", got)
	}
	mp := e.Pea("volume", "inspect", "--format", "{{.Mountpoint}}", "systemd-qdata")
	if b, err := os.ReadFile(filepath.Join(mp, "started")); err != nil || string(b) != "started\n" {
		t.Fatalf("the volume's file: %q %v", b, err)
	}
	if got := e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", "systemd-qweb"); got != "qnet-x" {
		t.Fatalf("networks: %q", got)
	}
	web.exec("ExecStop")
	web.exec("ExecStopPost") // the container is gone already: rm -i succeeds
	if r := e.Try("container", "exists", "systemd-qweb"); r.Code != 1 {
		t.Fatalf("container after ExecStop: %s", r)
	}
}

// The [Container] keys become run flags pea takes and applies: a service made of many of
// them starts, and the container has what they asked for.
func TestQuadletContainerKeys(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.PeaIn("s3cret", "secret", "create", "qtoken", "-")
	src := quadletFiles(t, map[string]string{
		"keys.container": `[Container]
Image=localhost/bb
ContainerName=qkeys
Exec=sleep 1000
Network=none
HostName=qhost
Timezone=UTC
RunInit=true
ReadOnly=true
NoNewPrivileges=true
DropCapability=CAP_MKNOD CAP_CHOWN
AddCapability=CAP_NET_ADMIN
Sysctl=net.ipv4.ip_forward=1
WorkingDir=/tmp
User=1000
Group=50
Tmpfs=/scratch:size=1m
Mount=type=tmpfs,destination=/m
ExposeHostPort=9000
EnvironmentHost=true
Secret=qtoken
Label=team=ops "note=a b"
Annotation=ann=1
HealthCmd=true
HealthInterval=1h
LogDriver=k8s-file
StopSignal=SIGINT
StopTimeout=3
PidsLimit=100
AddHost=db.local:10.1.2.3
PodmanArgs=--env PA=yes
`,
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	u := &unitRunner{t: t, e: e, name: "keys.service", text: dryrunUnits(t, r.Stdout)["keys.service"], rtDir: t.TempDir(), extraEnv: []string{"HOSTVAR=from-host"}}
	u.exec("ExecStart")
	got := e.Pea("inspect", "--format", "{{.Config.Hostname}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{.Config.StopSignal}}|{{.Config.StopTimeout}}|{{.Config.Labels.team}}|{{.Config.Labels.note}}|{{.Config.Annotations.ann}}|{{.HostConfig.ReadonlyRootfs}}|{{.HostConfig.Init}}|{{.HostConfig.PidsLimit}}|{{.Config.Healthcheck.Test}}", "qkeys")
	if got != "qhost|1000:50|/tmp|2|3|ops|a b|1|true|true|100|[CMD-SHELL true]" {
		t.Fatalf("inspect: %q", got)
	}
	out := e.Pea("exec", "qkeys", "sh", "-c", `echo $HOSTVAR $PA; cat /run/secrets/qtoken; echo; cat /proc/sys/net/ipv4/ip_forward; `+
		`grep -c db.local /etc/hosts; grep -E '^(NoNewPrivs|CapBnd)' /proc/1/status | tr -s '\t' ' '; `+
		`touch /x 2>/dev/null || echo read-only; touch /scratch/x /m/x && echo writable; cat /proc/1/comm; head -c 4 /etc/localtime`)
	// pea's --init is /run/pea-init (catatonit bound in), the container's PID 1.
	if !strings.HasPrefix(out, "from-host yes\ns3cret\n1\n1\n") || !strings.Contains(out, "\nNoNewPrivs: 1\n") ||
		!strings.HasSuffix(out, "read-only\nwritable\npea-init\nTZif") {
		t.Fatalf("in the container:\n%s", out)
	}
	// CapBnd: CAP_CHOWN (bit 0) and CAP_MKNOD (bit 27) dropped, CAP_NET_ADMIN (bit 12) added.
	var capBnd uint64
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "CapBnd: "); ok {
			capBnd, _ = strconv.ParseUint(v, 16, 64)
		}
	}
	if capBnd&1 != 0 || capBnd&(1<<27) != 0 || capBnd&(1<<12) == 0 {
		t.Fatalf("capabilities %x:\n%s", capBnd, out)
	}
	u.exec("ExecStop")
}

// Notify=true leaves READY=1 to the container (--sdnotify=container): pea passes the socket
// in. A Type=oneshot service runs the container to its end, attached.
func TestQuadletNotifyAndOneshot(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := quadletFiles(t, map[string]string{
		"ntf.container":  "[Container]\nImage=localhost/bb\nExec=sleep 1000\nNotify=true\nNetwork=none\nStopTimeout=1\n",
		"once.container": "[Container]\nImage=localhost/bb\nExec=echo ran once\nNetwork=none\n[Service]\nType=oneshot\n",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	if s := unitValues(units["ntf.service"], "ExecStart")[0]; !strings.Contains(s, " --sdnotify=container -d ") {
		t.Fatalf("Notify=true: %s", s)
	}
	once := units["once.service"]
	if s := unitValues(once, "ExecStart")[0]; strings.Contains(s, " -d ") || strings.Contains(s, "--sdnotify") ||
		len(unitValues(once, "Type")) != 1 || len(unitValues(once, "NotifyAccess")) != 0 {
		t.Fatalf("oneshot unit:\n%s", once)
	}
	rtDir := t.TempDir()
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ntf := &unitRunner{t: t, e: e, name: "ntf.service", text: units["ntf.service"], rtDir: rtDir, extraEnv: []string{"NOTIFY_SOCKET=" + sock}}
	ntf.exec("ExecStart")
	if got := e.Pea("exec", "systemd-ntf", "sh", "-c", `tr '\0' '\n' </proc/1/environ | grep NOTIFY_SOCKET; test -S /run/notify/notify.sock && echo socket`); got != "NOTIFY_SOCKET=/run/notify/notify.sock\nsocket" {
		t.Fatalf("the container's NOTIFY_SOCKET: %q", got)
	}
	ntf.exec("ExecStop")
	o := &unitRunner{t: t, e: e, name: "once.service", text: once, rtDir: rtDir}
	if out := o.exec("ExecStart"); strings.TrimSpace(out) != "ran once" {
		t.Fatalf("oneshot ExecStart printed %q", out)
	}
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
}

// A .kube's service plays the YAML (kube play --replace, on the .network's network, with the
// unit's ConfigMap file) and tears it down (kube down).
func TestQuadletKube(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := quadletFiles(t, map[string]string{
		"kq.yaml": `apiVersion: v1
kind: Pod
metadata: {name: kq}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: srv
    image: localhost/bb:latest
    command: [sh, -c, "echo $GREETING > /tmp/g; sleep 1000"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: kcm, key: greeting}}
`,
		"cm/kcm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kcm}\ndata: {greeting: hello-from-quadlet}\n",
		"kq.kube":     "[Kube]\nYaml=kq.yaml\nConfigMap=cm/kcm.yaml\nNetwork=kn.network\n",
		"kn.network":  "[Network]\n",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	kube := units["kq.service"]
	yaml := filepath.Join(src, "kq.yaml")
	if got := unitValues(kube, "ExecStart"); len(got) != 1 || got[0] != peaBin+" kube play --replace --network systemd-kn --configmap "+filepath.Join(src, "cm/kcm.yaml")+" "+yaml {
		t.Fatalf("ExecStart=%q", got)
	}
	if got := unitValues(kube, "ExecStop"); len(got) != 1 || got[0] != peaBin+" kube down "+yaml {
		t.Fatalf("ExecStop=%q", got)
	}
	if unitValues(kube, "Requires")[0] != "kn-network.service" || unitValues(kube, "Type")[0] != "oneshot" || unitValues(kube, "RemainAfterExit")[0] != "yes" {
		t.Fatalf("unit:\n%s", kube)
	}
	rtDir := t.TempDir()
	(&unitRunner{t: t, e: e, name: "kn-network.service", text: units["kn-network.service"], rtDir: rtDir}).exec("ExecStart")
	k := &unitRunner{t: t, e: e, name: "kq.service", text: kube, rtDir: rtDir}
	for round := 0; round < 2; round++ { // started again, it replaces the pod
		k.exec("ExecStart")
		if got := e.Pea("pod", "inspect", "--format", "{{.State}}", "kq"); got != "Running" {
			t.Fatalf("pod after ExecStart: %q", got)
		}
	}
	eventually(t, 10*time.Second, func() error {
		if got := e.Try("exec", "kq-srv", "cat", "/tmp/g"); strings.TrimSpace(got.Stdout) != "hello-from-quadlet" {
			return fmt.Errorf("the ConfigMap's value: %s", got)
		}
		return nil
	})
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "kq")
	if got := e.Pea("inspect", "--format", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", infra); got != "systemd-kn" {
		t.Fatalf("networks: %q", got)
	}
	k.exec("ExecStop")
	if r := e.Try("pod", "exists", "kq"); r.Code != 1 {
		t.Fatalf("pod after ExecStop: %s", r)
	}
}

// -user reads the user's directories ($XDG_CONFIG_HOME/pea/systemd); errors go to /dev/kmsg
// (as podman's generator logs at boot) unless -no-kmsg-log; -dryrun logs to stderr.
func TestQuadletUserDirsAndKmsg(t *testing.T) {
	cfg := t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "pea", "systemd"), 0o755)
	os.WriteFile(filepath.Join(cfg, "pea", "systemd", "mine.container"), []byte("[Container]\nImage=localhost/bb\n"), 0o644)
	cmd := exec.Command(peaBin, "quadlet", "-user", "-dryrun")
	cmd.Env = quadletEnv("XDG_CONFIG_HOME=" + cfg)
	r := runCmd(cmd)
	if r.Code != 0 || !strings.Contains(r.Stdout, "---mine.service---\n") {
		t.Fatalf("-user: %s", r)
	}
	if _, err := os.Stat("/etc/pea/systemd/mine.container"); os.IsNotExist(err) {
		cmd = exec.Command(peaBin, "quadlet", "-dryrun") // the system's directories: not the user's
		cmd.Env = quadletEnv("XDG_CONFIG_HOME=" + cfg)
		if r := runCmd(cmd); strings.Contains(r.Stdout, "mine.service") {
			t.Fatalf("the system generator read the user's files: %s", r)
		}
	}

	if _, err := exec.LookPath("dmesg"); err != nil {
		t.Skip("no dmesg")
	}
	marker := fmt.Sprintf("KmsgMarker%d", rand.Int63())
	src := quadletFiles(t, map[string]string{"k.container": "[Container]\nImage=x\n" + marker + "=1\n"})
	out := t.TempDir()
	r = runQuadlet(src, out)
	if r.Code != 1 || strings.Contains(r.Stderr, marker) {
		t.Fatalf("with kmsg: %s", r)
	}
	dmesg, err := exec.Command("dmesg").Output()
	if err != nil {
		t.Skipf("dmesg: %v", err)
	}
	if !strings.Contains(string(dmesg), "unsupported key '"+marker+"'") || !strings.Contains(string(dmesg), "pea-quadlet[") {
		lines := strings.Split(strings.TrimSpace(string(dmesg)), "\n")
		t.Fatalf("the error is not in the kernel log: %q", lines[max(0, len(lines)-3):])
	}
	if r := runQuadlet(src, "-no-kmsg-log", out); r.Code != 1 || !strings.Contains(r.Stderr, "pea-quadlet[") || !strings.Contains(r.Stderr, marker) {
		t.Fatalf("-no-kmsg-log: %s", r)
	}
}

// scripts/install-generators.sh (setup.sh's) installs the system and user generators, which
// run pea quadlet (-user for the user's); run again, it leaves the same files.
func TestQuadletInstallGenerators(t *testing.T) {
	dest := t.TempDir()
	for i := 0; i < 2; i++ {
		cmd := exec.Command("../scripts/install-generators.sh", peaBin)
		cmd.Env = append(os.Environ(), "DESTDIR="+dest)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("install-generators.sh: %v %s", err, out)
		}
	}
	src := quadletFiles(t, map[string]string{"g.container": "[Container]\nImage=localhost/bb\n"})
	for _, gen := range []string{"system-generators/pea-system-generator", "user-generators/pea-user-generator"} {
		path := filepath.Join(dest, "usr/lib/systemd", gen)
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o755 {
			t.Fatalf("%s: %v", path, err)
		}
		out := t.TempDir()
		cmd := exec.Command(path, "-no-kmsg-log", out, out, out)
		cmd.Env = quadletEnv("PEA_QUADLET_UNIT_DIRS=" + src)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", gen, err, b)
		}
		if b, _ := os.ReadFile(filepath.Join(out, "g.service")); !strings.Contains(string(b), "ExecStart="+peaBin+" run ") {
			t.Fatalf("%s wrote:\n%s", gen, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dest, "usr/lib/systemd/user-generators/pea-user-generator")); !strings.Contains(string(b), " quadlet -user \"$@\"") {
		t.Fatalf("user generator:\n%s", b)
	}
	left, _ := filepath.Glob(filepath.Join(dest, "usr/lib/systemd/*/*.*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

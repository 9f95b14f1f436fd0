package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// unitRunner runs a generated unit's Exec lines as systemd would run them for the unit named
// name: words split as systemd splits them, the specifiers %t (runtime directory), %n, %N
// expanded, the [Service] Environment= set, in its WorkingDirectory=, and the store the
// test's (PEA_ROOT, PEA_RUNROOT).
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
	if key == "ExecStart" { // systemd runs ExecStartPre= first
		lines = append(unitValues(r.text, "ExecStartPre"), lines...)
	}
	if len(lines) == 0 {
		r.t.Fatalf("%s has no %s=:\n%s", r.name, key, r.text)
	}
	var out strings.Builder
	for _, l := range lines {
		mayFail := strings.HasPrefix(l, "-")
		argv := r.words(strings.TrimPrefix(l, "-"))
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = r.env()
		if wd := unitValues(r.text, "WorkingDirectory"); len(wd) > 0 {
			cmd.Dir = r.words(wd[len(wd)-1])[0]
		}
		res := runCmd(cmd)
		if res.Code != 0 && !mayFail {
			r.t.Fatalf("%s %s=%s: %s", r.name, key, l, res)
		}
		out.WriteString(res.Stdout)
	}
	return out.String()
}

// value is the last key= of the unit, its specifiers expanded (PIDFile=...).
func (r *unitRunner) value(key string) string {
	r.t.Helper()
	v := unitValues(r.text, key)
	if len(v) == 0 {
		r.t.Fatalf("%s has no %s=:\n%s", r.name, key, r.text)
	}
	return r.words(v[len(v)-1])[0]
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
StopTimeout=1
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
HealthStartupCmd=test -d /tmp
HealthStartupInterval=2h
HealthStartupRetries=4
HealthStartupSuccess=2
HealthStartupTimeout=5s
HealthMaxLogCount=7
HealthMaxLogSize=100
HealthLogDestination=events_logger
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
	if got := e.Pea("inspect", "--format", "{{json .Config.StartupHealthCheck}}", "qkeys"); got != `{"Test":["CMD-SHELL","test -d /tmp"],"Interval":7200000000000,"Timeout":5000000000,"Retries":4,"Successes":2}` {
		t.Fatalf("HealthStartup* keys: %s", got)
	}
	if got := e.Pea("inspect", "--format", "{{.Config.HealthMaxLogCount}} {{.Config.HealthMaxLogSize}} {{.Config.HealthLogDestination}}", "qkeys"); got != "7 100 events_logger" {
		t.Fatalf("HealthMaxLog*/HealthLogDestination keys: %s", got)
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

// A .kube's service plays the YAML (kube play --replace --service-container=true, on the
// .network's network, with the unit's ConfigMap file), a notify service told conmon's PID of the
// service container as its main process, and tears it down (kube down) after it stopped.
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
	if got := unitValues(kube, "ExecStart"); len(got) != 1 || got[0] != peaBin+" kube play --replace --service-container=true --network systemd-kn --configmap "+filepath.Join(src, "cm/kcm.yaml")+" "+yaml {
		t.Fatalf("ExecStart=%q", got)
	}
	if got := unitValues(kube, "ExecStopPost"); len(got) != 1 || got[0] != peaBin+" kube down "+yaml || len(unitValues(kube, "ExecStop")) != 0 {
		t.Fatalf("ExecStopPost=%q", got)
	}
	if unitValues(kube, "Requires")[0] != "kn-network.service" || unitValues(kube, "Type")[0] != "notify" || unitValues(kube, "NotifyAccess")[0] != "all" ||
		len(unitValues(kube, "RemainAfterExit")) != 0 {
		t.Fatalf("unit:\n%s", kube)
	}
	rtDir := t.TempDir()
	(&unitRunner{t: t, e: e, name: "kn-network.service", text: units["kn-network.service"], rtDir: rtDir}).exec("ExecStart")
	sock, conn := listenNotify(t)
	k := &unitRunner{t: t, e: e, name: "kq.service", text: kube, rtDir: rtDir, extraEnv: []string{"NOTIFY_SOCKET=" + sock}}
	svc := serviceNameOf(t, yaml)
	var firstSvc string
	for round := 0; round < 2; round++ { // started again, it replaces the pod and the service container
		k.exec("ExecStart")
		if got := e.Pea("pod", "inspect", "--format", "{{.State}}", "kq"); got != "Running" {
			t.Fatalf("pod after ExecStart: %q", got)
		}
		got := e.Pea("inspect", "--format", "{{.ID}} {{.IsService}} {{.State.Status}} {{.State.ConmonPid}}", svc)
		f := strings.Fields(got)
		if len(f) != 4 || f[1] != "true" || f[2] != "running" || f[0] == firstSvc {
			t.Fatalf("service container after ExecStart (round %d): %q", round, got)
		}
		firstSvc = f[0]
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 512)
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no sd_notify message: %v", err)
		}
		if msg := string(buf[:n]); msg != "MAINPID="+f[3]+"\nREADY=1" {
			t.Fatalf("sd_notify message %q, want the service container's conmon %s", msg, f[3])
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
	k.exec("ExecStopPost")
	if r := e.Try("pod", "exists", "kq"); r.Code != 1 {
		t.Fatalf("pod after ExecStopPost: %s", r)
	}
	if r := e.Try("container", "exists", svc); r.Code != 1 {
		t.Fatalf("service container after ExecStopPost: %s", r)
	}
}

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A .pod's service and its two .container members, run as systemd runs them (the pod's
// ExecStartPre= and ExecStart=, then the members', which start after it): the pod runs on the
// .network's network with the .volume's volume, systemd's main PID (PIDFile=) is the infra
// container's conmon, both members are in the pod and share its network namespace, hostname,
// hosts and volume, and the published port answers on 127.0.0.1. Stopped as systemd stops
// them (the members first), the pod stops by itself once the last member is gone (its exit
// policy, which ends the main PID), and the pod's ExecStop=/ExecStopPost= leave nothing: no
// pod, no container, no pod ID file. A second start works, and stopping the pod's service
// alone takes its members with it.
func TestQuadletPod(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	src := quadletFiles(t, map[string]string{
		"qp.pod": fmt.Sprintf(`[Pod]
PublishPort=127.0.0.1:%d:8080
Network=qpn.network
Volume=qpv.volume:/shared
Label=app=qp
HostName=qphost
AddHost=db.local:10.1.2.3
`, port),
		"qpn.network": "[Network]\nNetworkName=qpod-net\n",
		"qpv.volume":  "[Volume]\n",
		"qweb.container": `[Container]
Image=localhost/bb
Pod=qp.pod
Exec=sh -c "trap 'exit 0' TERM; mkdir -p /www && echo served-by-pod > /www/index.html && httpd -f -p 8080 -h /www & wait"
`,
		"qside.container": `[Container]
Image=localhost/bb
Pod=qp.pod
Exec=sh -c "trap 'exit 0' TERM; echo side > /shared/side; sleep 1000 & wait"
`,
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	pod := units["qp-pod.service"]
	for key, want := range map[string]string{"Type": "forking", "PIDFile": "%t/%N.pid", "Wants": "qside.service qweb.service",
		"Before": "qside.service qweb.service", "Requires": "qpn-network.service qpv-volume.service",
		"ExecStart": peaBin + " pod start --pod-id-file=%t/%N.pod-id",
		"ExecStop":  peaBin + " pod stop --pod-id-file=%t/%N.pod-id --ignore --time=10"} {
		if got := strings.Join(unitValues(pod, key), " "); got != want {
			t.Errorf("pod unit %s=%q, want %q", key, got, want)
		}
	}
	if pre := unitValues(pod, "ExecStartPre"); len(pre) != 1 || !strings.HasPrefix(pre[0], peaBin+" pod create --infra-conmon-pidfile=%t/%N.pid --pod-id-file=%t/%N.pod-id --exit-policy=stop --replace ") ||
		!strings.HasSuffix(pre[0], " --infra-name systemd-qp-infra --name systemd-qp") {
		t.Errorf("pod ExecStartPre=%q", pre)
	}
	for _, m := range []string{"qweb.service", "qside.service"} {
		if got := strings.Join(unitValues(units[m], "BindsTo"), " ") + "|" + strings.Join(unitValues(units[m], "After"), " "); got != "qp-pod.service|qp-pod.service" {
			t.Errorf("%s BindsTo|After=%q", m, got)
		}
		if start := unitValues(units[m], "ExecStart"); len(start) != 1 || !strings.Contains(start[0], " --pod-id-file=%t/qp-pod.pod-id ") {
			t.Errorf("%s ExecStart=%q", m, start)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	rtDir := t.TempDir()
	run := func(name string) *unitRunner {
		return &unitRunner{t: t, e: e, name: name, text: units[name], rtDir: rtDir}
	}
	podUnit, web, side := run("qp-pod.service"), run("qweb.service"), run("qside.service")
	idFile := filepath.Join(rtDir, "qp-pod.pod-id")
	start := func() (conmon int) {
		t.Helper()
		run("qpn-network.service").exec("ExecStart")
		run("qpv-volume.service").exec("ExecStart")
		podUnit.exec("ExecStart") // ExecStartPre= (pod create), then ExecStart= (pod start)
		b, err := os.ReadFile(podUnit.value("PIDFile"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || !conmonRuns(pid) {
			t.Fatalf("PIDFile= holds %q (%v), not a conmon's PID", b, err)
		}
		web.exec("ExecStart")
		side.exec("ExecStart")
		return pid
	}
	conmon := start()
	podID, err := os.ReadFile(idFile)
	if err != nil {
		t.Fatalf("pod ID file: %v", err)
	}
	if got := e.Pea("pod", "inspect", "--format", "{{.ID}} {{.Name}} {{.State}} {{.NumContainers}} {{index .Labels \"app\"}}", "systemd-qp"); got != string(podID)+" systemd-qp Running 3 qp" {
		t.Fatalf("the pod: %q (ID file %s)", got, podID)
	}
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "systemd-qp")
	if got := e.Pea("inspect", "--format", "{{.State.ConmonPid}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", infra); got != strconv.Itoa(conmon)+" qpod-net" {
		t.Fatalf("the infra container's conmon and network: %q, PIDFile %d", got, conmon)
	}
	infraNet, err := os.Readlink("/proc/" + e.Pea("inspect", "--format", "{{.State.Pid}}", infra) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"systemd-qweb", "systemd-qside"} {
		if got := e.Pea("inspect", "--format", "{{.Pod}} {{.State.Status}}", m); got != string(podID)+" running" {
			t.Fatalf("%s: %q, want in pod %s", m, got, podID)
		}
		got := e.Pea("exec", m, "sh", "-c", "readlink /proc/self/ns/net; hostname; grep -c db.local /etc/hosts")
		if got != infraNet+"\nqphost\n1" {
			t.Fatalf("%s's network namespace, hostname, hosts: %q, want the infra's %s", m, got, infraNet)
		}
	}
	eventually(t, 10*time.Second, func() error {
		if got := e.Try("exec", "systemd-qweb", "cat", "/shared/side"); strings.TrimSpace(got.Stdout) != "side" {
			return fmt.Errorf("the pod's volume, from the other member: %s", got)
		}
		if got := e.Try("exec", "systemd-qside", "wget", "-qO-", "http://127.0.0.1:8080/"); strings.TrimSpace(got.Stdout) != "served-by-pod" {
			return fmt.Errorf("the web member on the side member's localhost: %s", got)
		}
		if body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port)); err != nil || body != "served-by-pod" {
			return fmt.Errorf("the published port: %q %v", body, err)
		}
		return nil
	})

	// systemd stops the members first (they start after the pod), then the pod.
	for _, m := range []*unitRunner{web, side} {
		m.exec("ExecStop")
		m.exec("ExecStopPost")
	}
	eventually(t, 15*time.Second, func() error { // the exit policy: the last member gone, the pod stops
		if conmonRuns(conmon) {
			return fmt.Errorf("the infra's conmon %d (the main PID) still runs: pod %s", conmon, e.Pea("pod", "inspect", "--format", "{{.State}}", "systemd-qp"))
		}
		return nil
	})
	podUnit.exec("ExecStop")
	podUnit.exec("ExecStopPost")
	nothingLeft := func() {
		t.Helper()
		if r := e.Try("pod", "exists", "systemd-qp"); r.Code != 1 {
			t.Fatalf("pod after the stop: %s", r)
		}
		if out := e.Pea("ps", "-aq"); out != "" {
			t.Fatalf("containers after the stop: %q", out)
		}
		if _, err := os.Stat(idFile); !os.IsNotExist(err) {
			t.Fatalf("the pod ID file is left: %v", err)
		}
		if _, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/", port)); err == nil {
			t.Fatalf("the published port still answers")
		}
	}
	nothingLeft()

	// Started again; the pod's service stopped alone stops and removes its members too.
	conmon = start()
	if got := e.Pea("pod", "inspect", "--format", "{{.State}} {{.NumContainers}}", "systemd-qp"); got != "Running 3" {
		t.Fatalf("the pod started again: %q", got)
	}
	podUnit.exec("ExecStop")
	podUnit.exec("ExecStopPost")
	for _, m := range []*unitRunner{web, side} { // BindsTo=: systemd stops them as well
		m.exec("ExecStopPost")
	}
	eventually(t, 5*time.Second, func() error { // systemd's main PID ends with the pod
		if conmonRuns(conmon) {
			return fmt.Errorf("the infra's conmon %d runs after the pod's ExecStop", conmon)
		}
		return nil
	})
	nothingLeft()
}

// conmonRuns tells whether the process pid is (still) a conmon.
func conmonRuns(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return err == nil && strings.TrimSpace(string(comm)) == "conmon"
}

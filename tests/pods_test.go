package tests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// nsOf returns the namespace inode link of a container's process.
func nsOf(t *testing.T, e *Env, ctr, kind string) string {
	t.Helper()
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", ctr)
	link, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

func TestPodSharingMatrix(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, kind := range []string{"cgroup", "ipc", "net", "pid", "uts"} {
		shared := "p-" + kind
		e.Pea("pod", "create", "--name", shared, "--share", kind)
		e.Pea("run", "-d", "--pod", shared, "--name", shared+"-m", "localhost/bb", "sleep", "300")
		infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", shared)
		if a, b := nsOf(t, e, shared+"-m", kind), nsOf(t, e, infra, kind); a != b {
			t.Errorf("--share %s: member %s, infra %s", kind, a, b)
		}
		if got := e.Pea("pod", "inspect", "--format", "{{.SharedNamespaces}}", shared); got != "["+kind+"]" {
			t.Errorf("SharedNamespaces of --share %s: %s", kind, got)
		}
		// A pod that shares everything else gives the member its own namespace of this kind.
		var others []string
		for _, k := range []string{"cgroup", "ipc", "net", "pid", "uts"} {
			if k != kind {
				others = append(others, k)
			}
		}
		notShared := "q-" + kind
		e.Pea("pod", "create", "--name", notShared, "--share", strings.Join(others, ","))
		args := []string{"run", "-d", "--pod", notShared, "--name", notShared + "-m"}
		if kind == "cgroup" {
			args = append(args, "--cgroupns", "private") // cgroupns is host by default on v1
		}
		e.Pea(append(args, "localhost/bb", "sleep", "300")...)
		infra = e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", notShared)
		if a, b := nsOf(t, e, notShared+"-m", kind), nsOf(t, e, infra, kind); a == b {
			t.Errorf("pod without %s shares it anyway: %s", kind, a)
		}
	}
}

func TestPodCgroupNSIsNotPodCgroup(t *testing.T) {
	// podman's bug 6149: --share net alone must not join the cgroup namespace, while members still
	// live under the pod cgroup.
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "p", "--share", "net")
	e.Pea("run", "-d", "--pod", "p", "--name", "m", "--cgroupns", "private", "localhost/bb", "sleep", "300")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")
	if nsOf(t, e, "m", "cgroup") == nsOf(t, e, infra, "cgroup") {
		t.Fatal("member joined the infra's cgroup namespace with --share net")
	}
	cg := e.Pea("pod", "inspect", "--format", "{{.CgroupPath}}", "p")
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", "m")
	data, _ := os.ReadFile("/proc/" + pid + "/cgroup")
	if cg == "" || !strings.Contains(string(data), cg+"/") {
		t.Fatalf("member not under the pod cgroup %q: %s", cg, data)
	}
	if mode := e.Pea("inspect", "--format", "{{.HostConfig.CgroupMode}}", "m"); mode != "private" {
		t.Fatalf("cgroupns mode in inspect: %s", mode)
	}
	// --share cgroup does make members share it.
	e.Pea("pod", "create", "--name", "c", "--share", "cgroup,net")
	e.Pea("run", "-d", "--pod", "c", "--name", "cm", "localhost/bb", "sleep", "300")
	infra = e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "c")
	if nsOf(t, e, "cm", "cgroup") != nsOf(t, e, infra, "cgroup") {
		t.Fatal("--share cgroup did not share the cgroup namespace")
	}
	if mode := e.Pea("inspect", "--format", "{{.HostConfig.CgroupMode}}", "cm"); mode != "container:"+infra {
		t.Fatalf("cgroupns mode of a sharing member: %s", mode)
	}
}

func TestPodHostnamePidAndLocalhost(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "web", "--hostname", "podhost", "--share", "+pid")
	if out := e.Pea("run", "--rm", "--pod", "web", "localhost/bb", "hostname"); out != "podhost" {
		t.Fatalf("hostname through uts: %q", out)
	}
	e.Pea("run", "-d", "--pod", "web", "--name", "srv", "localhost/bb",
		"sh", "-c", "mkdir -p /www && echo pod-page > /www/index.html && exec httpd -f -p 8080 -h /www")
	if out := e.Pea("run", "--rm", "--pod", "web", "localhost/bb", "ps"); !strings.Contains(out, "httpd") {
		t.Fatalf("pid shared: ps does not show httpd: %q", out)
	}
	eventually(t, 5*time.Second, func() error {
		r := e.Try("run", "--rm", "--pod", "web", "localhost/bb", "wget", "-qO-", "http://127.0.0.1:8080/")
		if strings.TrimSpace(r.Stdout) != "pod-page" {
			return fmt.Errorf("wget over the pod's localhost: %s", r)
		}
		return nil
	})
	if out := e.Pea("pod", "top", "web"); !strings.Contains(out, "httpd") || !strings.Contains(out, "catatonit") {
		t.Fatalf("pod top: %q", out)
	}
	// podman's pod stats heads any template's rows, and names the PIDs field PIDS.
	rows := strings.Split(e.Pea("pod", "stats", "--no-stream", "--format", "{{.Name}} {{.PIDS}}", "web"), "\n")
	if len(rows) != 3 || rows[0] != "NAME PIDS" {
		t.Fatalf("pod stats rows (infra and srv): %q", rows)
	}
	if out := e.Pea("pod", "logs", "web"); out != "" {
		t.Logf("pod logs: %q", out)
	}
}

func TestPodMemoryLimitHoldsTogether(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "lim", "--memory", "64m", "--shm-size", "100m")
	cg := e.Pea("pod", "inspect", "--format", "{{.CgroupPath}}", "lim")
	b, err := os.ReadFile("/sys/fs/cgroup/memory" + cg + "/memory.limit_in_bytes")
	if err != nil {
		b, err = os.ReadFile("/sys/fs/cgroup" + cg + "/memory.max")
	}
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(64<<20) {
		t.Fatalf("pod memory limit: %q %v", b, err)
	}
	// Two members each hold 36 MB in files of the pod's tmpfs-backed /dev/shm (shared, sized
	// by the pod): together over the pod's 64 MB. Each member's pages count against its own
	// cgroup, and both cgroups are below the pod's.
	hog := "head -c 36m /dev/zero > /dev/shm/fill-$0 && echo filled && sleep 300"
	e.Pea("run", "-d", "--pod", "lim", "--name", "h1", "localhost/bb", "sh", "-c", hog, "h1")
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("logs", "h1"); out != "filled" {
			return fmt.Errorf("h1 not filled: %q", out)
		}
		return nil
	})
	e.Try("run", "-d", "--pod", "lim", "--name", "h2", "localhost/bb", "sh", "-c", hog, "h2")
	eventually(t, 15*time.Second, func() error {
		h1 := e.Pea("inspect", "--format", "{{.State.Status}}", "h1")
		h2 := e.Pea("inspect", "--format", "{{.State.Status}}", "h2")
		if h1 == "running" && h2 == "running" && e.Pea("logs", "h2") == "filled" {
			return fmt.Errorf("both members hold 36 MB under a 64 MB pod limit")
		}
		for name, st := range map[string]string{"h1": h1, "h2": h2} {
			if st == "running" {
				continue
			}
			// Killed by the OOM killer (SIGKILL), not ended for another reason.
			if code := e.Pea("inspect", "--format", "{{.State.ExitCode}}", name); code != "137" {
				t.Fatalf("%s ended with exit code %s, want 137 (OOM kill)", name, code)
			}
			return nil
		}
		return fmt.Errorf("waiting for the OOM killer (h1 %s, h2 %s)", h1, h2)
	})
}

func TestPodOfTwentyAndRemoval(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "big")
	for i := 0; i < 20; i++ {
		e.Pea("create", "--pod", "big", "--name", fmt.Sprintf("b%d", i), "localhost/bb", "sleep", "300")
	}
	e.Pea("pod", "start", "big")
	if out := e.Pea("pod", "ps", "--format", "{{.Status}} {{.NumberOfContainers}}"); out != "Running 21" {
		t.Fatalf("pod of 20: %q", out)
	}
	e.Pea("pod", "stop", "-t", "1", "big")
	if out := e.Pea("pod", "ps", "--format", "{{.Status}}"); out != "Exited" {
		t.Fatalf("after stop: %q", out)
	}
	e.Pea("pod", "start", "big")
	cg := e.Pea("pod", "inspect", "--format", "{{.CgroupPath}}", "big")
	e.Pea("pod", "rm", "-f", "-t", "0", "big")
	if out := e.Pea("ps", "-aq"); out != "" {
		t.Fatalf("containers left: %q", out)
	}
	if _, err := os.Stat("/sys/fs/cgroup/memory" + cg); err == nil {
		t.Fatalf("pod cgroup left: %s", cg)
	}
	assertNothingLeft(t, e)
}

func TestPodExitPolicyStop(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "once", "--exit-policy", "stop")
	e.Pea("run", "-d", "--pod", "once", "localhost/bb", "sh", "-c", "sleep 0.5")
	eventually(t, 15*time.Second, func() error {
		if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Exited" {
			return fmt.Errorf("pod status %s", st)
		}
		return nil
	})
}

// The stop policy follows the last application member's end however it comes, as podman's: a
// stop, a removal (rm -f), the exit of a --rm member (removed at once); a member left running
// keeps the pod up, and with the continue policy (the default) the pod stays up alone.
func TestPodExitPolicyStopOnStopAndRemoval(t *testing.T) {
	e := newEnv(t).withBusybox()
	status := func(pod string) string { return e.Pea("pod", "inspect", "--format", "{{.State}}", pod) }
	for _, tc := range []struct {
		name string
		end  func(pod string)
	}{
		{"stop", func(pod string) { e.Pea("stop", "-t", "0", pod+"-m") }},
		{"rm", func(pod string) { e.Pea("rm", "-f", "-t", "0", pod+"-m") }},
		{"rm-exit", func(pod string) {
			e.Pea("rm", "-f", "-t", "0", pod+"-m")
			e.Pea("run", "-d", "--rm", "--pod", pod, "--name", pod+"-short", "localhost/bb", "sleep", "0.3")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := "xp-" + tc.name
			e.Pea("pod", "create", "--name", pod, "--exit-policy", "stop", "--network", "none")
			e.Pea("run", "-d", "--pod", pod, "--name", pod+"-m", "localhost/bb", "sleep", "1000")
			e.Pea("run", "-d", "--rm", "--pod", pod, "--name", pod+"-keep", "localhost/bb", "sleep", "1000")
			tc.end(pod)
			if st := status(pod); st != "Running" && st != "Degraded" { // Degraded: the stopped member
				t.Fatalf("pod %s with a member left running: %s", pod, st)
			}
			e.Pea("rm", "-f", "-t", "0", pod+"-keep") // the last one
			eventually(t, 15*time.Second, func() error {
				if st := status(pod); st != "Exited" {
					return fmt.Errorf("pod %s after its last member: %s", pod, st)
				}
				return nil
			})
			e.Pea("pod", "rm", "-f", pod)
		})
	}
	e.Pea("pod", "create", "--name", "xp-continue", "--network", "none")
	e.Pea("run", "-d", "--rm", "--pod", "xp-continue", "--name", "xp-continue-m", "localhost/bb", "sleep", "1000")
	e.Pea("rm", "-f", "-t", "0", "xp-continue-m")
	if st := status("xp-continue"); st != "Running" {
		t.Fatalf("a continue pod after its last member: %s", st)
	}
}

func TestPodBadInput(t *testing.T) {
	e := newEnv(t).withBusybox()
	r := e.Fails(125, "pod", "create", "--name", "nope", "--share", "bogus")
	if !strings.Contains(r.Stderr, "cgroup, ipc, net, pid, uts") {
		t.Fatalf("unknown --share kind should list the valid ones: %s", r)
	}
	e.Fails(125, "pod", "create", "--name", "nope", "--share", "pid", "--pid", "host")
	e.Fails(125, "pod", "create", "--name", "nope", "--share", "cgroup", "--share-parent=false")
	e.Fails(125, "run", "--pod", "nosuchpod", "localhost/bb", "true")
	e.Fails(1, "pod", "exists", "nope")
	e.Pea("pod", "create", "--name", "dup")
	e.Fails(125, "pod", "create", "--name", "dup")
	old := e.Pea("pod", "inspect", "--format", "{{.ID}}", "dup")
	e.Pea("pod", "create", "--name", "dup", "--replace")
	if now := e.Pea("pod", "inspect", "--format", "{{.ID}}", "dup"); now == old {
		t.Fatal("--replace kept the old pod")
	}
	e.Pea("run", "-d", "--pod", "dup", "--name", "d1", "localhost/bb", "sleep", "300")
	e.Fails(2, "pod", "rm", "dup")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "dup")
	e.Fails(125, "rm", "-f", infra)
	e.Fails(125, "run", "--pod", "dup", "-p", "8080:80", "localhost/bb", "true")
	if out := e.Pea("pod", "ps", "-q"); strings.Count(out, "\n") != 0 {
		t.Fatalf("bad input created pods: %q", out)
	}
	if out := e.Pea("ps", "-a", "--format", "{{.Names}}"); out != e.Pea("pod", "inspect", "--format", "{{.ID}}", "dup")[:12]+"-infra\nd1" {
		t.Fatalf("bad input created containers: %q", out)
	}
}

func TestPodConcurrentMembersAndStopStart(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "busy")
	e.Pea("pod", "start", "busy")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []string
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := e.Try("run", "-d", "--pod", "busy", "--name", fmt.Sprintf("w%d", i), "localhost/bb", "sleep", "300")
			if r.Code != 0 && !strings.Contains(r.Stderr, "lock") {
				mu.Lock()
				unexpected = append(unexpected, r.String())
				mu.Unlock()
			}
		}(i)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 2; i++ {
			e.Try("pod", "stop", "-t", "0", "busy")
			e.Try("pod", "start", "busy")
		}
	}()
	wg.Wait()
	for _, u := range unexpected {
		t.Error(u)
	}
	// Consistent end state: every member the database knows is either running or exited, and a
	// final start brings them all up.
	e.Pea("pod", "start", "busy")
	out := e.Pea("ps", "-a", "--filter", "pod=busy", "--format", "{{.Status}}")
	if len(strings.Split(out, "\n")) != 9 {
		t.Fatalf("want 9 members (infra and 8), got %q", out)
	}
	for _, st := range strings.Split(out, "\n") {
		if !strings.HasPrefix(st, "Up ") {
			t.Fatalf("member not running after pod start: %q", out)
		}
	}
	if integrity := sqliteIntegrity(t, e); integrity != "ok" {
		t.Fatalf("database integrity: %s", integrity)
	}
}

func TestPodPsAndLogs(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "alpha", "--label", "tier=front")
	e.Pea("pod", "create", "--name", "beta")
	// The two members take turns through files in a shared volume, so the order of the lines
	// does not depend on how fast the machine is (regression: fixed sleeps failed under load).
	e.Pea("run", "-d", "--pod", "alpha", "--name", "a1", "-v", "turns:/s", "localhost/bb", "sh", "-c",
		"echo one; sleep 0.1; touch /s/one; until [ -e /s/two ]; do sleep 0.05; done; sleep 0.1; echo three; sleep 300")
	e.Pea("run", "-d", "--pod", "alpha", "--name", "a2", "-v", "turns:/s", "localhost/bb", "sh", "-c",
		"until [ -e /s/one ]; do sleep 0.05; done; echo two; sleep 0.1; touch /s/two; sleep 300")
	eventually(t, 10*time.Second, func() error {
		if out := e.Pea("pod", "logs", "--names", "alpha"); out != "a1 one\na2 two\na1 three" {
			return fmt.Errorf("pod logs merged in time order: %q", out)
		}
		return nil
	})
	if out := e.Pea("pod", "logs", "-c", "a2", "alpha"); out != "two" {
		t.Fatalf("pod logs -c: %q", out)
	}
	// podman's prefixes: short IDs for several containers, names with --names, none for one
	// container (even with --names); --color wraps each container's lines in a colour of its own.
	id1, id2 := e.Pea("inspect", "--format", "{{.ID}}", "a1")[:12], e.Pea("inspect", "--format", "{{.ID}}", "a2")[:12]
	if out := e.Pea("pod", "logs", "alpha"); out != id1+" one\n"+id2+" two\n"+id1+" three" {
		t.Fatalf("pod logs: %q", out)
	}
	if out := e.Pea("pod", "logs", "-n", "-c", "a2", "alpha"); out != "two" {
		t.Fatalf("pod logs -n -c: %q", out)
	}
	if out := e.Pea("logs", "--names", "a1", "a2"); out != "a1 one\na2 two\na1 three" {
		t.Fatalf("logs of two containers, merged in time order: %q", out)
	}
	if out := e.Pea("logs", "-n", "a2"); out != "two" {
		t.Fatalf("logs -n of one container: %q", out)
	}
	if out := e.Pea("logs", "--color", "a1", "a2"); out != "\x1b[37m"+id1+" one\x1b[0m\n\x1b[31m"+id2+" two\x1b[0m\n\x1b[37m"+id1+" three\x1b[0m" {
		t.Fatalf("logs --color: %q", out)
	}
	// Following two containers shows the lines of both as they come (regression: the first
	// container's log was followed to its end before the second was read).
	follow := exec.Command(peaBin, e.args("logs", "-f", "--names", "a1", "a2")...)
	var followed syncBuffer
	follow.Stdout = &followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { follow.Process.Kill(); follow.Wait() }()
	eventually(t, 10*time.Second, func() error {
		if out := followed.String(); !strings.Contains(out, "a2 two\n") || !strings.Contains(out, "a1 three\n") {
			return fmt.Errorf("logs -f of two running containers: %q", out)
		}
		return nil
	})
	if out := e.Pea("pod", "ps", "--format", "{{.Name}}", "--sort", "name"); out != "alpha\nbeta" {
		t.Fatalf("sort: %q", out)
	}
	for filter, want := range map[string]string{
		"label=tier=front": "alpha", "ctr-names=a2": "alpha", "ctr-number=1": "beta",
		"status=running": "alpha", "status=created": "beta", "ctr-status=running": "alpha", "name=^be": "beta",
	} {
		if out := e.Pea("pod", "ps", "--filter", filter, "--format", "{{.Name}}"); out != want {
			t.Errorf("--filter %s: %q, want %q", filter, out, want)
		}
	}
	out := e.Pea("pod", "ps", "--ctr-names", "--ctr-status", "--filter", "name=alpha")
	if !strings.Contains(out, "a1") || !strings.Contains(out, "running") {
		t.Fatalf("--ctr-names --ctr-status: %q", out)
	}
	if out := e.Pea("pod", "ps", "--noheading", "-q", "--no-trunc"); len(strings.Fields(out)) != 2 || len(strings.Fields(out)[0]) != 64 {
		t.Fatalf("-q --no-trunc: %q", out)
	}
	if out := e.Pea("pod", "ps", "--format", "json"); !strings.Contains(out, `"InfraId"`) || !strings.Contains(out, `"Containers"`) {
		t.Fatalf("json: %q", out)
	}
	e.Fails(125, "pod", "ps", "--filter", "status=bogus")
	e.Pea("pod", "rm", "-i", "nosuch")
	e.Pea("pod", "stop", "-t", "0", "alpha")
	// As podman's: the pod that ran and stopped goes, the one only created (beta) stays.
	if out := e.Pea("pod", "prune", "-f"); strings.Count(out, "\n") != 0 || e.Pea("pod", "ps", "--format", "{{.Name}}") != "beta" {
		t.Fatalf("prune removes the stopped pod: %q", out)
	}
}

func TestNewPodFromRunAndHostnames(t *testing.T) {
	// Regression: --pod new:NAME made a pod without an infra container or shared namespaces, and
	// a container with a private UTS namespace kept the host's hostname.
	e := newEnv(t).withBusybox()
	if out := e.Pea("run", "--rm", "--pod", "new:fresh", "localhost/bb", "hostname"); out != "fresh" {
		t.Fatalf("hostname in a new pod: %q", out)
	}
	if out := e.Pea("pod", "inspect", "--format", "{{.SharedNamespaces}} {{.CreateInfra}} {{.NumContainers}}", "fresh"); out != "[ipc net uts] true 1" {
		t.Fatalf("new:NAME pod: %q", out)
	}
	host, _ := os.Hostname()
	id := e.Pea("create", "localhost/bb", "hostname")
	if out := e.Pea("start", "-a", id); out != id[:12] || out == host {
		t.Fatalf("default hostname: %q", out)
	}
}

func TestPodInitContainers(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "ic", "--exit-policy", "stop")
	e.Pea("volume", "create", "icv")
	e.Pea("create", "--pod", "ic", "--init-ctr", "once", "--name", "first", "-v", "icv:/v", "localhost/bb", "sh", "-c", "echo once >> /v/log")
	e.Pea("create", "--pod", "ic", "--init-ctr", "always", "--name", "second", "-v", "icv:/v", "localhost/bb", "sh", "-c", "echo always >> /v/log")
	e.Pea("create", "--pod", "ic", "--name", "app", "-v", "icv:/v", "localhost/bb", "sh", "-c", "cat /v/log; sleep 300")
	e.Pea("pod", "start", "ic")
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("logs", "app"); out != "once\nalways" {
			return fmt.Errorf("app saw %q", out)
		}
		return nil
	})
	// The once container is gone; the always one stays and runs again on the next start. The
	// exit policy did not stop the pod when the init containers exited.
	if out := e.Pea("ps", "-a", "--filter", "pod=ic", "--format", "{{.Names}}"); strings.Contains(out, "first") || !strings.Contains(out, "second") {
		t.Fatalf("members after the first start: %q", out)
	}
	if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Degraded" && st != "Running" {
		t.Fatalf("pod status with its app running: %s", st)
	}
	e.Pea("pod", "stop", "-t", "0", "ic")
	e.Pea("pod", "start", "ic")
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("logs", "--tail", "3", "app"); !strings.HasSuffix(out, "once\nalways\nalways") {
			return fmt.Errorf("second start: %q", out)
		}
		return nil
	})
	// A failing init container stops the pod start and names itself.
	e.Pea("pod", "create", "--name", "bad")
	e.Pea("create", "--pod", "bad", "--init-ctr", "always", "--name", "fails", "localhost/bb", "sh", "-c", "exit 3")
	e.Pea("create", "--pod", "bad", "--name", "never", "localhost/bb", "sleep", "300")
	r := e.Fails(125, "pod", "start", "bad")
	if !strings.Contains(r.Stderr, "fails exited with code 3") {
		t.Fatalf("failing init container: %s", r)
	}
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "never"); st != "created" {
		t.Fatalf("the app container started after a failed init container: %s", st)
	}
	e.Fails(125, "run", "--pod", "bad", "--init-ctr", "once", "localhost/bb", "true")
	e.Fails(125, "create", "--init-ctr", "once", "localhost/bb", "true")
}

// Members of a pod share its IPC namespace, and so must they share /dev/shm, where POSIX shared
// memory lives (shm_open): podman binds the infra container's /dev/shm into every member. pea
// gave each member a tmpfs of its own until 2026-11-30, so a segment one member made was not
// there for the others.
func TestPodMembersShareDevShm(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "p", "--shm-size", "2m")
	e.Pea("run", "-d", "--pod", "p", "--name", "a", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "b", "localhost/bb", "sleep", "300")
	e.Pea("exec", "a", "sh", "-c", "echo from-a > /dev/shm/seg")
	if out := e.Pea("exec", "b", "cat", "/dev/shm/seg"); out != "from-a" {
		t.Fatalf("member b reads /dev/shm/seg of member a: %q", out)
	}
	if out := e.Pea("run", "--rm", "--pod", "p", "localhost/bb", "cat", "/dev/shm/seg"); out != "from-a" {
		t.Fatalf("a third member reads /dev/shm/seg: %q", out)
	}
	// Outside the pod, a container that joins member a's namespace (the infra's) gets its
	// /dev/shm too.
	if out := e.Pea("run", "--rm", "--network", "none", "--ipc", "container:a", "localhost/bb", "cat", "/dev/shm/seg"); out != "from-a" {
		t.Fatalf("--ipc container:a (a pod member) reads /dev/shm/seg: %q", out)
	}
	if out := e.Pea("exec", "b", "df", "-k", "/dev/shm"); !strings.Contains(out, " 2048 ") {
		t.Fatalf("the pod's --shm-size 2m is not the size of the members' /dev/shm: %q", out)
	}
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")
	if mode := e.Pea("inspect", "--format", "{{.HostConfig.IpcMode}}", infra); mode != "shareable" {
		t.Fatalf("IpcMode of the infra container: %q", mode)
	}
	if n := shmMounts(t, e); n != 1 {
		t.Fatalf("%d /dev/shm tmpfs mounts on the host for a pod of two members, want 1 (the infra's)", n)
	}
	e.Pea("pod", "stop", "-t", "0", "p")
	if n := shmMounts(t, e); n != 0 {
		t.Fatalf("%d /dev/shm mounts left on the host after pod stop", n)
	}
	// A restarted pod starts with an empty /dev/shm, shared again.
	e.Pea("pod", "start", "p")
	e.Pea("exec", "b", "sh", "-c", "echo from-b > /dev/shm/again")
	if out := e.Pea("exec", "a", "ls", "/dev/shm"); out != "again" {
		t.Fatalf("/dev/shm of member a after the restart: %q", out)
	}
}

// shmMounts counts the /dev/shm tmpfs mounts pea has on the host below e's store.
func shmMounts(t *testing.T, e *Env) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 2 && strings.HasPrefix(f[1], e.Root+"/") && strings.HasSuffix(f[1], "/shm") && f[2] == "tmpfs" {
			n++
		}
	}
	return n
}

// ps --ns shows each running container's namespaces: a pod's members have the infra
// container's for what the pod shares, their own for the rest.
func TestPsNamespaces(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "p", "--share", "net,ipc")
	e.Pea("run", "-d", "--pod", "p", "--name", "a", "localhost/bb", "sleep", "300")
	e.Pea("create", "--name", "idle", "localhost/bb", "true")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p")
	ns := map[string][]string{}
	for _, line := range strings.Split(e.Pea("ps", "-a", "--ns", "--no-trunc", "--format", "{{.ID}} {{.Pid}} {{.Namespaces.NET}} {{.Namespaces.IPC}} {{.Namespaces.UTS}} {{.Namespaces.PIDNS}}"), "\n") {
		f := strings.Fields(line)
		ns[f[0]] = f[1:]
	}
	a := e.Pea("inspect", "--format", "{{.ID}}", "a")
	idle := e.Pea("inspect", "--format", "{{.ID}}", "idle")
	if len(ns[a]) != 5 || len(ns[infra]) != 5 || len(ns[idle]) != 1 || ns[idle][0] != "0" {
		t.Fatalf("ps --ns: %v", ns)
	}
	link, err := os.Readlink("/proc/" + ns[a][0] + "/ns/net")
	if err != nil || link != "net:["+ns[a][1]+"]" {
		t.Fatalf("a's net namespace %q, ps says %s", link, ns[a][1])
	}
	if ns[a][1] != ns[infra][1] || ns[a][2] != ns[infra][2] {
		t.Fatalf("a does not show the infra's net and ipc namespaces: %v, infra %v", ns[a], ns[infra])
	}
	if ns[a][3] == ns[infra][3] || ns[a][4] == ns[infra][4] {
		t.Fatalf("a shows the infra's uts or pid namespace, not shared: %v, infra %v", ns[a], ns[infra])
	}
	header := strings.Split(e.Pea("ps", "--ns"), "\n")[0]
	if strings.Join(strings.Fields(header), " ") != "CONTAINER ID NAMES PID CGROUPNS IPC MNT NET PIDNS USERNS UTS" {
		t.Fatalf("ps --ns header: %q", header)
	}
	e.Fails(125, "ps", "-q", "--ns")
}

// pod create --network, repeated, joins the pod to each network (as --network a,b), as
// podman's; it was the last one alone.
func TestPodCreateNetworks(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "podnet-a")
	e.Pea("network", "create", "podnet-b")
	e.Pea("pod", "create", "--name", "two-nets", "--network", "podnet-a", "--net", "podnet-b")
	if got := e.Pea("pod", "inspect", "--format", "{{.InfraConfig.Networks}}", "two-nets"); got != "[podnet-a podnet-b]" {
		t.Fatalf("the pod's networks: %s", got)
	}
	e.Pea("pod", "rm", "-f", "two-nets")
}

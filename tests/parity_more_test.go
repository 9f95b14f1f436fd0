package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestParityLogsTopStats: logs --until takes a duration into the future (podman's); pod logs
// marks every line with its container even with one; pod stats has podman's fields (PIDS),
// heads any template, binary MemUsageBytes, and a row of "--" for a member that does not run;
// top's args end in a space and an unknown descriptor goes to the container's ps; pod top of a
// pod that does not run prints nothing.
func TestParityLogsTopStats(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "lts")
	e.Pea("run", "-d", "--pod", "lts", "--name", "lts-run", "localhost/bb", "sh", "-c", "echo hello; exec sleep 300")
	e.Pea("create", "--pod", "lts", "--name", "lts-idle", "localhost/bb", "true")
	id := e.Pea("inspect", "--format", "{{.ID}}", "lts-run")
	eventually(t, 5e9, func() error {
		if out := e.Pea("logs", "lts-run"); out != "hello" {
			return fmt.Errorf("logs: %q", out)
		}
		return nil
	})
	if out := e.Pea("logs", "--until", "10m", "lts-run"); out != "hello" {
		t.Fatalf("logs --until 10m (until ten minutes from now): %q", out)
	}
	if out := e.Pea("logs", "--until", "-10m", "lts-run"); out != "" {
		t.Fatalf("logs --until -10m: %q", out)
	}
	if out := e.Pea("pod", "logs", "lts"); out != id[:12]+" hello" {
		t.Fatalf("pod logs: %q", out)
	}
	if out := e.Pea("pod", "logs", "--names", "lts"); out != "lts-run hello" {
		t.Fatalf("pod logs --names: %q", out)
	}
	if out := e.Pea("pod", "logs", "-c", "lts-run", "lts"); out != "hello" {
		t.Fatalf("pod logs -c: %q", out)
	}

	out := e.Pea("pod", "stats", "--no-stream", "--format", "{{.Name}} {{.PIDS}}", "lts")
	if lines := strings.Split(out, "\n"); len(lines) != 4 || lines[0] != "NAME PIDS" || !strings.Contains(out, "lts-run 1") || !strings.Contains(out, "lts-idle --") {
		t.Fatalf("pod stats with a template: %q", out)
	}
	// A pod with no container at all: no row, and no header either (podman's).
	e.Pea("pod", "create", "--name", "empty", "--infra=false")
	if r := e.Try("pod", "stats", "--no-stream", "--format", "{{.Name}}", "empty"); r.Code != 0 || r.Stdout != "" {
		t.Errorf("pod stats with a template of a pod without containers: %s", r)
	}
	if head := strings.Split(e.Pea("pod", "stats", "--no-stream", "lts"), "\n")[0]; !regexp.MustCompile(`^POD +CID +NAME +CPU % +MEM USAGE/ LIMIT +MEM % +NET IO +BLOCK IO +PIDS$`).MatchString(head) {
		t.Fatalf("pod stats heads: %q", head)
	}
	var rows []map[string]string
	if err := json.Unmarshal([]byte(e.Pea("pod", "stats", "--no-stream", "--format", "json", "lts")), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		switch r["Name"] {
		case "lts-run":
			if !regexp.MustCompile(`^\d+(\.\d+)?(B|KiB|MiB|GiB) / \d+(\.\d+)?(B|KiB|MiB|GiB|TiB)$`).MatchString(r["MemUsageBytes"]) || r["PIDS"] != "1" {
				t.Errorf("pod stats json of a running member: %v", r)
			}
		case "lts-idle":
			if r["CPU"] != "--" || r["MemUsageBytes"] != "-- / --" || r["PIDS"] != "--" {
				t.Errorf("pod stats json of a member that does not run: %v", r)
			}
		}
	}

	lines := strings.Split(strings.TrimSuffix(e.Try("top", "lts-run", "pid", "args").Stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "sleep 300 ") {
		t.Fatalf("top args (a space after every argument): %q", lines)
	}
	if out := e.Pea("top", "lts-run", "nosuch"); !strings.Contains(out, "PID") || !strings.Contains(out, "sleep 300") {
		t.Fatalf("top with a descriptor it does not know (the container's ps): %q", out)
	}
	e.Pea("pod", "create", "--name", "lts-off")
	if r := e.Try("pod", "top", "lts-off"); r.Code != 0 || r.Stdout != "" || r.Stderr != "" {
		t.Fatalf("pod top of a pod that does not run: %s", r)
	}
}

// TestParityContainerEnvPruneLabelsSize: /run/.containerenv is there (empty; what the
// container runs as when --privileged) and not a change of the container's; container prune
// leaves pods' members; an infra container has its pod's labels; inspect --size.
func TestParityContainerEnvPruneLabelsSize(t *testing.T) {
	e := newEnv(t).withBusybox()
	if r := e.Try("run", "--rm", "localhost/bb", "sh", "-c", "test -f /run/.containerenv && wc -c < /run/.containerenv"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "0" {
		t.Fatalf("/run/.containerenv: %s", r)
	}
	if out := e.Pea("run", "--rm", "--privileged", "--name", "privk", "localhost/bb", "cat", "/run/.containerenv"); !strings.Contains(out, `name="privk"`) || !strings.Contains(out, `image="localhost/bb:latest"`) || !strings.Contains(out, "rootless=0") {
		t.Fatalf("/run/.containerenv of a privileged container: %q", out)
	}
	e.Pea("run", "--name", "dk", "--init", "localhost/bb", "sh", "-c", "echo x > /new")
	if out := e.Pea("diff", "dk"); out != "C /etc\nA /new" {
		t.Fatalf("diff: the runtime's /run and its mount points are no change: %q", out)
	}

	e.Pea("pod", "create", "--name", "prp", "--label", "team=a")
	e.Pea("create", "--pod", "prp", "--name", "prp-m", "localhost/bb", "true")
	e.Pea("run", "--pod", "prp", "--name", "prp-x", "localhost/bb", "true")
	e.Pea("create", "--name", "lone", "localhost/bb", "true")
	pruned := e.Pea("container", "prune", "-f")
	if strings.Count(pruned, "\n") != 1 { // dk and lone
		t.Fatalf("container prune: %q", pruned)
	}
	if out := e.Pea("ps", "-a", "--filter", "pod=prp", "--sort", "names", "--format", "{{.Names}}"); !strings.Contains(out, "prp-m\nprp-x") {
		t.Fatalf("container prune left pods' members: %q", out)
	}
	if out := e.Pea("ps", "-a", "--filter", "label=team=a", "--format", "{{.IsInfra}}"); out != "true" {
		t.Fatalf("the infra container has its pod's labels: %q", out)
	}

	var v []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("inspect", "--size", "prp-x")), &v); err != nil || len(v) != 1 {
		t.Fatal(err)
	}
	if rw, ok := v[0]["SizeRw"].(float64); !ok || rw < 0 || v[0]["SizeRootFs"].(float64) < 1000 {
		t.Fatalf("inspect --size: %v %v", v[0]["SizeRw"], v[0]["SizeRootFs"])
	}
	var plain []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("inspect", "prp-x")), &plain); err != nil {
		t.Fatal(err)
	}
	if _, ok := plain[0]["SizeRw"]; ok {
		t.Fatal("SizeRw without --size")
	}
}

// TestParityReplaceAndStopAll: create/run --replace print the replaced container's name (its
// removal's output) before the new ID; stop --all stops pods' infra containers too, after their
// members.
func TestParityReplaceAndStopAll(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "rep", "localhost/bb", "true")
	out := strings.Split(e.Pea("create", "--name", "rep", "--replace", "localhost/bb", "true"), "\n")
	if len(out) != 2 || out[0] != "rep" || len(out[1]) != 64 {
		t.Fatalf("create --replace: %q", out)
	}
	out = strings.Split(e.Pea("run", "-d", "--name", "rep", "--replace", "localhost/bb", "sleep", "300"), "\n")
	if len(out) != 2 || out[0] != "rep" || len(out[1]) != 64 {
		t.Fatalf("run -d --replace: %q", out)
	}
	e.Pea("pod", "create", "--name", "sap")
	e.Pea("run", "-d", "--pod", "sap", "--name", "sap-m", "localhost/bb", "sleep", "300")
	infra := e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "sap")
	stopped := e.Pea("stop", "-a", "-t", "0")
	if lines := strings.Split(stopped, "\n"); len(lines) != 3 || lines[2] != infra {
		t.Fatalf("stop --all (the infra container last): %q, infra %s", stopped, infra)
	}
	if st := e.Pea("pod", "ps", "--format", "{{.Status}}"); st != "Exited" {
		t.Fatalf("pod after stop --all: %q", st)
	}
}

// TestParityCreateChecks: what podman refuses at the creation, pea does too: a MAC address that
// is not one, a --device or pod --volume whose host path is missing, a tmpfs option tmpfs does
// not take.
func TestParityCreateChecks(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.refused("address bogus: invalid MAC address", "create", "--mac-address", "bogus", "localhost/bb", "true")
	e.refused("address bogus: invalid MAC address", "pod", "create", "--mac-address", "bogus")
	e.refused("stat /dev/pea-nonexistent: no such file or directory", "create", "--device", "/dev/pea-nonexistent", "localhost/bb", "true")
	e.refused("stat /dev/pea-nonexistent: no such file or directory", "pod", "create", "--device", "/dev/pea-nonexistent")
	e.refused(`invalid bind mount source "/pea-nonexistent"`, "pod", "create", "--volume", "/pea-nonexistent:/x")
	e.refused(`unknown mount option "bogus"`, "create", "--tmpfs", "/t:bogus", "localhost/bb", "true")
	e.Pea("create", "--name", "fine", "--tmpfs", "/t:size=1m,mode=1777,noexec,nosuid", "--device", "/dev/null:/dev/xnull:rw", "localhost/bb", "true")
	// A label file's line without = sets no label (podman's); -l KEY alone sets an empty one.
	lf := filepath.Join(e.Dir, "labels")
	os.WriteFile(lf, []byte("l1=v1\nl2\n"), 0o644)
	e.Pea("create", "--name", "labk", "--label-file", lf, "-l", "l3", "localhost/bb", "true")
	if out := e.Pea("inspect", "--format", "{{json .Config.Labels}}", "labk"); out != `{"l1":"v1","l3":""}` {
		t.Fatalf("--label-file: %s", out)
	}
}

// TestParityPodEdges: a pod with no container cannot be started (podman's words); pod ps
// --filter until= is applied; a missing --pod-id-file is a "pod ID file".
func TestParityPodEdges(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "empty", "--infra=false")
	if r := e.Fails(125, "pod", "start", "empty"); !strings.Contains(r.Stderr, "have no dependencies, cannot start pod") {
		t.Fatalf("pod start of an empty pod: %s", r)
	}
	e.Pea("pod", "stop", "empty") // nothing to stop: fine, as podman's
	if out := e.Pea("pod", "ps", "--filter", "until=1h", "-q"); out != "" {
		t.Fatalf("pod ps --filter until=1h (made more than an hour ago): %q", out)
	}
	if out := e.Pea("pod", "ps", "--filter", "until=-1h", "--format", "{{.Name}}"); out != "empty" {
		t.Fatalf("pod ps --filter until=-1h: %q", out)
	}
	if r := e.Fails(125, "pod", "start", "--pod-id-file", "/pea-nonexistent"); !strings.Contains(r.Stderr, "reading pod ID file") {
		t.Fatalf("missing pod ID file: %s", r)
	}
}

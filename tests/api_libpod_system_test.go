package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// podman stats through the libpod API: one report, and a stream of them.
func TestLibpodStats(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("run", "-d", "--name", "busy", "localhost/bb", "sh", "-c", "while :; do :; done")
	a.Pea("run", "-d", "--name", "idle", "--memory", "64m", "localhost/bb", "sleep", "100")
	a.Pea("create", "--name", "notrunning", "localhost/bb")

	if out := a.mustPodman("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}} {{.PIDs}}", "idle"); !strings.HasPrefix(out, "idle ") ||
		!strings.HasSuffix(out, " / 67.11MB 1") {
		t.Fatalf("stats idle: %q", out)
	}
	// No names: every running container.
	if out := a.mustPodman("stats", "--no-stream", "--format", "{{.Name}}"); !strings.Contains(out, "busy") || !strings.Contains(out, "idle") ||
		strings.Contains(out, "notrunning") {
		t.Fatalf("stats of the running containers: %q", out)
	}
	if r := a.podmanRemote("stats", "--no-stream", "nope"); r.Code != 125 || !strings.Contains(r.Stderr, "no such container") {
		t.Fatalf("stats nope: %s", r)
	}
	// podman's report: Error null, the figures as numbers.
	var rep struct {
		Error any
		Stats []struct {
			ContainerID, Name       string
			MemLimit, PIDs, CPUNano uint64
			CPU, AvgCPU             float64
			UpTime                  time.Duration
		}
	}
	a.RequestJSON("GET", "/v4.3.1/libpod/containers/stats?stream=false&containers=idle", nil, 200, &rep)
	if rep.Error != nil || len(rep.Stats) != 1 || rep.Stats[0].Name != "idle" || rep.Stats[0].MemLimit != 64<<20 || len(rep.Stats[0].ContainerID) != 64 ||
		rep.Stats[0].PIDs != 1 || rep.Stats[0].UpTime != time.Duration(rep.Stats[0].CPUNano) {
		t.Fatalf("stats report: %+v", rep)
	}

	// Streaming: a report every interval, CPU measured over it; the client goes on until killed.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := a.podmanCommand(ctx, "stats", "--interval", "1", "--no-reset", "--format", "{{.Name}} {{.CPUPerc}}", "busy")
	out, _ := cmd.Output()
	if ctx.Err() == nil {
		t.Fatalf("stats (streaming) ended by itself: %q", out)
	}
	var lines []string
	busiest := 0.0
	for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
		name, pct, _ := strings.Cut(sc.Text(), " ")
		f, err := strconv.ParseFloat(strings.TrimSuffix(pct, "%"), 64)
		if name != "busy" || err != nil {
			t.Fatalf("stats (streaming) line %q", sc.Text())
		}
		lines = append(lines, sc.Text())
		busiest = max(busiest, f)
	}
	if len(lines) < 3 || busiest < 10 {
		t.Fatalf("stats (streaming), a report a second of a busy container: %q", lines)
	}
}

// podman system df and system prune through the libpod API.
func TestLibpodSystemDfPrune(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("volume", "create", "dfv")
	a.Pea("run", "--name", "wrote", "-v", "dfv:/data", "localhost/bb", "sh", "-c", "head -c 300000 /dev/zero > /big; echo hi > /data/f")
	a.Pea("run", "-d", "--name", "up", "localhost/bb", "sleep", "100")
	a.Pea("pod", "create", "--name", "dfpod") // an infra container, made without an image
	a.Pea("network", "create", "dfnet")
	wrote := a.Pea("inspect", "wrote", "--format", "{{.ID}}")
	pod := a.Pea("pod", "inspect", "dfpod", "--format", "{{.ID}}")
	img := strings.TrimPrefix(a.Pea("images", "--no-trunc", "-q"), "sha256:")

	// The client's summary of pea's report: three containers (the infra one too), one running;
	// the volume linked to one.
	out := a.mustPodman("system", "df", "--format", "{{.Type}} {{.Total}} {{.Active}} {{.Size}}")
	if lines := strings.Split(out, "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "Images 1 1 ") ||
		lines[1] != "Containers 3 1 300kB" || lines[2] != "Local Volumes 1 1 3B" {
		t.Fatalf("system df:\n%s", out)
	}
	out = a.mustPodman("system", "df", "-v")
	for _, want := range []string{"localhost/bb", img[:12], wrote[:12] + "  " + img[:12], "300kB", "exited", "wrote", "-infra", "<none>", "dfv"} {
		if !strings.Contains(out, want) {
			t.Fatalf("system df -v lacks %q:\n%s", want, out)
		}
	}

	// prune: the pod that ran and stopped (podman leaves a created one), the stopped
	// container, the unused network; the image in use and the volume (without --volumes) stay.
	a.Pea("pod", "start", "dfpod")
	a.Pea("pod", "stop", "-t", "0", "dfpod")
	out = a.mustPodman("system", "prune", "-f")
	for _, want := range []string{"Deleted Pods\n" + pod, "Deleted Containers\n" + wrote, "Deleted Networks\ndfnet", "Total reclaimed space: 300"} {
		if !strings.Contains(out, want) {
			t.Fatalf("system prune lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Deleted Images") || strings.Contains(out, "Deleted Volumes") {
		t.Fatalf("system prune removed too much:\n%s", out)
	}
	if out := a.Pea("ps", "-a", "--format", "{{.Names}}"); out != "up" {
		t.Fatalf("containers after system prune: %q", out)
	}
	if out := a.mustPodman("system", "prune", "-f", "--volumes"); !strings.Contains(out, "Deleted Volumes\ndfv") {
		t.Fatalf("system prune --volumes:\n%s", out)
	}
	a.Pea("rm", "-f", "up")
	if out := a.mustPodman("system", "prune", "-f", "--all"); !strings.Contains(out, "Deleted Images\n"+img) {
		t.Fatalf("system prune --all:\n%s", out)
	}
	if out := a.Pea("images", "-q"); out != "" {
		t.Fatalf("images after system prune --all: %q", out)
	}
	// The report's shape: podman's field names, lists never null.
	var rep map[string]json.RawMessage
	a.RequestJSON("POST", "/v4.3.1/libpod/system/prune", nil, 200, &rep)
	for _, k := range []string{"PodPruneReport", "ContainerPruneReports", "ImagePruneReports", "NetworkPruneReports", "VolumePruneReports", "ReclaimedSpace"} {
		if v, ok := rep[k]; !ok || string(v) == "null" {
			t.Fatalf("system prune report: %s missing in %v", k, rep)
		}
	}
}

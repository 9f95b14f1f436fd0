package tests

// Differences from podman 4.3.1's JSON outputs (inspect, ps, events, version) and generate
// systemd found field by field on the same scenario in both, each held here.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// inspectOne decodes `pea container inspect NAME`'s one object.
func inspectOne(t *testing.T, e *Env, name string) map[string]any {
	t.Helper()
	var v []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("container", "inspect", name)), &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect %s: %v", name, err)
	}
	return v[0]
}

// A pod's member (and any container in another's network namespace) shows the network of the
// container it joins: addresses, networks and published ports; its own PortBindings stay its
// own (none). ps shows the pod's ports for it. Its Config.Hostname is the pod's.
func TestParityInspectPodMemberNetwork(t *testing.T) {
	e := newEnv(t).withBusybox()
	port := freeHostPort(t)
	e.Pea("pod", "create", "--name", "inpod", "-p", fmt.Sprintf("%d:80", port))
	e.Pea("run", "-d", "--pod", "inpod", "--name", "inpod-m", "localhost/bb", "sleep", "300")
	infra := inspectOne(t, e, e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "inpod"))
	m := inspectOne(t, e, "inpod-m")
	ip, _ := dig(infra, "NetworkSettings.IPAddress").(string)
	if ip == "" || dig(m, "NetworkSettings.IPAddress") != ip || dig(m, "NetworkSettings.Gateway") != dig(infra, "NetworkSettings.Gateway") {
		t.Errorf("member's address: %v, infra's %q", dig(m, "NetworkSettings.IPAddress"), ip)
	}
	if nets, _ := dig(m, "NetworkSettings.Networks").(map[string]any); len(nets) != 1 {
		t.Errorf("member's networks: %v", dig(m, "NetworkSettings.Networks"))
	}
	key := "80/tcp"
	ports, _ := dig(m, "NetworkSettings.Ports").(map[string]any)
	if hp, _ := ports[key].([]any); len(hp) != 1 || dig(hp[0], "HostPort") != fmt.Sprint(port) {
		t.Errorf("member's NetworkSettings.Ports: %v", ports)
	}
	if pb, _ := dig(m, "HostConfig.PortBindings").(map[string]any); len(pb) != 0 {
		t.Errorf("member's own PortBindings: %v", pb)
	}
	if got := dig(m, "Config.Hostname"); got != "inpod" {
		t.Errorf("member's Config.Hostname: %v", got)
	}
	want := fmt.Sprintf("0.0.0.0:%d->80/tcp", port)
	if got := e.Pea("ps", "--filter", "name=inpod-m", "--format", "{{.Ports}}"); got != want {
		t.Errorf("ps's Ports of the member: %q", got)
	}
	var ps []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("ps", "--filter", "name=inpod-m", "--format", "json")), &ps); err != nil || len(ps) != 1 {
		t.Fatal(err)
	}
	if p, _ := ps[0]["Ports"].([]any); len(p) != 1 || dig(p[0], "host_port") != float64(port) {
		t.Errorf("ps --format json's Ports of the member: %v", ps[0]["Ports"])
	}

	e.Pea("run", "-d", "--name", "inown", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--name", "injoin", "--network", "container:inown", "localhost/bb", "sleep", "300")
	own, join := inspectOne(t, e, "inown"), inspectOne(t, e, "injoin")
	if dig(join, "NetworkSettings.IPAddress") != dig(own, "NetworkSettings.IPAddress") || dig(join, "NetworkSettings.SandboxKey") != dig(own, "NetworkSettings.SandboxKey") {
		t.Errorf("--network container: %v, its owner's %v", dig(join, "NetworkSettings"), dig(own, "NetworkSettings"))
	}
}

// A --user other than root holds only its --cap-add capabilities, in its effective, permitted,
// inheritable and ambient sets (so that they survive its exec), as podman gives them; inspect's
// EffectiveCaps says so. exec as root holds the whole bounding set.
func TestParityInspectCapsOfUser(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "capuser", "--user", "1000:1000", "--cap-add", "NET_ADMIN", "--cap-add", "SYS_TIME", "localhost/bb", "sleep", "300")
	status := e.Pea("exec", "capuser", "grep", "^Cap", "/proc/self/status")
	for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapAmb"} {
		if !strings.Contains(status, set+":\t0000000002001000") { // CAP_NET_ADMIN (12), CAP_SYS_TIME (25)
			t.Errorf("%s of --user 1000 with --cap-add: %s", set, status)
		}
	}
	v := inspectOne(t, e, "capuser")
	if got := fmt.Sprint(v["EffectiveCaps"]); got != "[CAP_NET_ADMIN CAP_SYS_TIME]" {
		t.Errorf("EffectiveCaps: %s", got)
	}
	if b, _ := v["BoundingCaps"].([]any); len(b) < 10 {
		t.Errorf("BoundingCaps: %v", b)
	}
	if got := e.Pea("exec", "-u", "root", "capuser", "grep", "^CapEff", "/proc/self/status"); strings.HasSuffix(got, "0000000002001000") || strings.HasSuffix(got, "0000000000000000") {
		t.Errorf("exec -u root: %s", got)
	}
	e.Pea("run", "-d", "--name", "capnone", "--user", "1000", "localhost/bb", "sleep", "300")
	if got := e.Pea("exec", "capnone", "grep", "^CapEff", "/proc/self/status"); got != "CapEff:\t0000000000000000" {
		t.Errorf("--user 1000 without --cap-add: %s", got)
	}
	if got := fmt.Sprint(inspectOne(t, e, "capnone")["EffectiveCaps"]); got != "[]" {
		t.Errorf("EffectiveCaps without --cap-add: %s", got)
	}
	e.Pea("run", "-d", "--name", "caproot", "--cap-add", "NET_ADMIN", "localhost/bb", "sleep", "300")
	r := inspectOne(t, e, "caproot")
	if fmt.Sprint(r["EffectiveCaps"]) != fmt.Sprint(r["BoundingCaps"]) {
		t.Errorf("root's EffectiveCaps %v, BoundingCaps %v", r["EffectiveCaps"], r["BoundingCaps"])
	}
}

// Fields of container inspect as podman 4.3 has them: Config.Secrets (file secrets),
// MemorySwappiness 0 without a memory limit and -1 with one, a read-only container's tmpfs in
// HostConfig.Tmpfs, Annotations an object, Config.Hostname the short ID under --uts host,
// NetworkMode bridge on any network (the networks are NetworkSettings'); ps's Mounts in
// podman's order, a read-only root's tmpfs among them.
func TestParityInspectConfigFields(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.PeaIn("s3cret", "secret", "create", "insec", "-")
	e.Pea("create", "--name", "insf", "--secret", "insec", "--secret", "insec,type=env,target=SEC", "--memory", "64m", "localhost/bb", "true")
	v := inspectOne(t, e, "insf")
	secs, _ := dig(v, "Config.Secrets").([]any)
	if len(secs) != 1 || dig(secs[0], "Name") != "insec" || dig(secs[0], "Mode") != float64(0o444) || dig(secs[0], "UID") != float64(0) {
		t.Errorf("Config.Secrets: %v", dig(v, "Config.Secrets"))
	}
	if got := dig(v, "HostConfig.MemorySwappiness"); got != float64(-1) {
		t.Errorf("MemorySwappiness with --memory: %v", got)
	}
	e.Pea("create", "--name", "inplain", "--read-only", "--uts", "host", "localhost/bb", "true")
	p := inspectOne(t, e, "inplain")
	if got := dig(p, "HostConfig.MemorySwappiness"); got != float64(0) {
		t.Errorf("MemorySwappiness without a memory limit: %v", got)
	}
	if _, ok := dig(p, "Config").(map[string]any)["Secrets"]; ok {
		t.Error("Config.Secrets without secrets")
	}
	if a, ok := dig(p, "Config.Annotations").(map[string]any); !ok || a == nil {
		t.Errorf("Config.Annotations: %v", dig(p, "Config.Annotations"))
	}
	tmpfs, _ := dig(p, "HostConfig.Tmpfs").(map[string]any)
	for _, d := range []string{"/tmp", "/var/tmp", "/run"} {
		if tmpfs[d] != "rw,rprivate,nosuid,nodev,tmpcopyup" {
			t.Errorf("--read-only's tmpfs: %v", tmpfs)
		}
	}
	if id := dig(p, "Id").(string); dig(p, "Config.Hostname") != id[:12] {
		t.Errorf("Config.Hostname under --uts host: %v", dig(p, "Config.Hostname"))
	}
	e.Pea("create", "--name", "inmounts", "-v", "inv:/data", "--tmpfs", "/scratch", "localhost/bb", "true")
	if got := e.Pea("ps", "-a", "--filter", "name=^in(plain|mounts)$", "--sort", "names", "--format", "{{.Mounts}}"); got != "[/scratch /data]\n[/tmp /var/tmp /run]" {
		t.Errorf("ps's Mounts (mounts, a read-only root's tmpfs, then volumes): %q", got)
	}
	e.Pea("network", "create", "innet")
	e.Pea("create", "--name", "innetc", "--network", "innet", "localhost/bb", "true")
	if got := e.Pea("inspect", "--format", "{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}", "innetc"); got != "bridge innet" {
		t.Errorf("NetworkMode on a network of the user's: %q", got)
	}
}

// events --format json: a health check's result is the event's health_status, not one of its
// attributes; version --format json has podman's fields; generate systemd --new leaves the
// container's --restart to systemd: Restart= and StartLimitBurst= from it, not in the run.
func TestParityEventsVersionSystemd(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "hsev", "--health-cmd", "true", "--restart", "on-failure:4", "localhost/bb", "sleep", "300")
	e.Pea("healthcheck", "run", "hsev")
	out := e.Pea("events", "--stream=false", "--filter", "event=health_status", "--format", "json")
	var ev map[string]any
	if err := json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev["health_status"] != "healthy" || dig(ev, "Attributes.health_status") != nil {
		t.Errorf("health_status event: %s", out)
	}
	if got := e.Pea("events", "--stream=false", "--filter", "event=health_status", "--format", "{{.HealthStatus}}"); !strings.HasPrefix(got, "healthy") {
		t.Errorf("{{.HealthStatus}}: %q", got)
	}
	var ver map[string]map[string]any
	if err := json.Unmarshal([]byte(e.Pea("version", "--format", "json")), &ver); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"APIVersion", "Version", "GoVersion", "GitCommit", "BuiltTime", "Built", "OsArch", "Os"} {
		if _, ok := ver["Client"][k]; !ok {
			t.Errorf("version's Client has no %s: %v", k, ver["Client"])
		}
	}
	unit := e.Pea("generate", "systemd", "--new", "--name", "hsev")
	if !strings.Contains(unit, "\nRestart=on-failure\nStartLimitBurst=4\n") || strings.Contains(unit, "--restart") {
		t.Errorf("generate systemd --new of a --restart on-failure:4 container:\n%s", unit)
	}
	if unit := e.Pea("generate", "systemd", "--new", "--restart-policy", "always", "hsev"); !strings.Contains(unit, "\nRestart=always\nTimeoutStopSec") {
		t.Errorf("--restart-policy given:\n%s", unit)
	}
}

// volume inspect and ls show the user and group of the container whose first use gave a volume
// its owner (podman's UID and GID), none for root's.
func TestParityVolumeChownedOwner(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("volume", "create", "vbob")
	e.Pea("volume", "create", "vroot")
	e.Pea("run", "--rm", "--user", "1000:1000", "-v", "vbob:/data", "localhost/bb", "true")
	e.Pea("run", "--rm", "-v", "vroot:/data", "localhost/bb", "true")
	if got := e.Pea("volume", "inspect", "--format", "{{.UID}}:{{.GID}}", "vbob"); got != "1000:1000" {
		t.Errorf("UID:GID of a volume a --user 1000:1000 container used first: %q", got)
	}
	var vols []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("volume", "ls", "--format", "json")), &vols); err != nil || len(vols) != 2 {
		t.Fatal(err)
	}
	for _, v := range vols {
		_, has := v["UID"]
		if v["Name"] == "vbob" && v["UID"] != float64(1000) || v["Name"] == "vroot" && has {
			t.Errorf("volume ls --format json: %v", v)
		}
	}
}

package tests

// Differences from podman 4.3.1's network, volume, secret, system and kube verbs found side by
// side, each held here.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// network: rm's exit codes (1 missing, 2 in use and the removal stops there, -f skips missing
// ones), name= a regular expression, {{.Labels}} as key=value pairs, ipam_options, the vlan
// option, podman's words for an unknown option.
func TestParityNetworks(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("network", "create", "--label", "b=2", "--label", "a=1", "pn1")
	e.Pea("network", "create", "pn12")
	if got := e.Pea("network", "ls", "--filter", "name=^pn1$", "--format", "{{.Name}} {{.Labels}}"); got != "pn1 a=1,b=2" {
		t.Errorf("name=^pn1$: %q", got)
	}
	var nets []map[string]any
	if err := json.Unmarshal([]byte(e.Pea("network", "inspect", "pn1")), &nets); err != nil || len(nets) != 1 {
		t.Fatal(err)
	}
	if ipam, _ := nets[0]["ipam_options"].(map[string]any); ipam["driver"] != "host-local" {
		t.Errorf("ipam_options: %v", nets[0]["ipam_options"])
	}
	e.Pea("network", "create", "-o", "vlan=5", "-o", "mtu=1400", "pvlan")
	if got := e.Pea("network", "inspect", "--format", "{{.Options.vlan}}", "pvlan"); got != "5" {
		t.Errorf("vlan option: %q", got)
	}
	e.Pea("run", "--rm", "--network", "pvlan", "localhost/bb", "true") // attaches whether or not the kernel filters VLANs
	if r := e.Fails(125, "network", "create", "-o", "bogus=1", "pbad"); !strings.Contains(r.Stderr, "unsupported bridge network option bogus") {
		t.Errorf("unknown option: %s", r)
	}
	e.Pea("run", "-d", "--name", "user", "--network", "pn1", "localhost/bb", "sleep", "300")
	r := e.Fails(1, "network", "rm", "nosuch")
	if strings.Count(r.Stderr, "Error:") != 1 {
		t.Errorf("network rm nosuch: %s", r)
	}
	e.Pea("network", "rm", "-f", "nosuch")
	r = e.Fails(2, "network", "rm", "pn1", "pn12")
	if !strings.Contains(r.Stderr, "pn1") || r.Stdout != "" {
		t.Errorf("network rm of a network in use: %s", r)
	}
	if got := e.Pea("network", "ls", "-q", "--filter", "name=pn12"); got != "pn12" {
		t.Errorf("the removal went on after the network in use: %q", got)
	}
	r = e.Fails(1, "network", "rm", "pn12", "nosuch", "pvlan")
	if r.Stdout != "pn12\npvlan\n" {
		t.Errorf("network rm with a missing one: %s", r)
	}
}

// volume: ls in name order and silent when empty, name= a regular expression, rm's exit codes
// (1 missing, 2 in use, -f skips missing), the users of a volume in use listed plainly, an
// unknown driver refused.
func TestParityVolumes(t *testing.T) {
	e := newEnv(t).withBusybox()
	if r := e.Try("volume", "ls"); r.Code != 0 || r.Stdout != "" {
		t.Errorf("volume ls of none: %s", r)
	}
	if got := e.Pea("volume", "ls", "--format", "json"); got != "[]" {
		t.Errorf("volume ls --format json of none: %q", got)
	}
	for _, v := range []string{"zeta", "alpha", "mid1"} {
		e.Pea("volume", "create", v)
	}
	if got := e.Pea("volume", "ls", "-q"); got != "alpha\nmid1\nzeta" {
		t.Errorf("volume ls order: %q", got)
	}
	if got := e.Pea("volume", "ls", "-q", "--filter", "name=^[a-m].*[0-9]$"); got != "mid1" {
		t.Errorf("name= regexp: %q", got)
	}
	e.Fails(125, "volume", "ls", "--filter", "name=[")
	r := e.Fails(125, "volume", "create", "--driver", "bogus", "v4")
	if !strings.Contains(r.Stderr, "no volume plugin with name bogus available") {
		t.Errorf("--driver bogus: %s", r)
	}
	id := e.Pea("run", "-d", "--name", "user", "--network", "none", "-v", "mid1:/d", "localhost/bb", "sleep", "300")
	r = e.Fails(2, "volume", "rm", "nosuch", "alpha", "mid1")
	if r.Stdout != "alpha\n" || !strings.Contains(r.Stderr, "nosuch") ||
		!strings.Contains(r.Stderr, "volume mid1 is being used by the following container(s): "+id+": ") {
		t.Errorf("volume rm: %s", r)
	}
	e.Fails(1, "volume", "rm", "nosuch")
	e.Pea("volume", "rm", "-f", "nosuch")
}

// secret create: the file driver keeps options it does not know, as podman's.
// (TestSecretDrivers holds it.)

// system df -v: an image row per name, the size shared with the images made on it, times
// without "ago"; --format is ignored with -v.
func TestParitySystemDf(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("tag", "localhost/bb", "second")
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo one > /one\n"})
	e.Pea("build", "-q", "-t", "child", "--network", "none", ctx)
	out := e.Pea("system", "df", "-v", "--format", "json")
	var bb, child []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && (f[0] == "localhost/bb" || f[0] == "localhost/second"):
			bb = append(bb, line)
		case len(f) > 0 && f[0] == "localhost/child":
			child = f
		}
	}
	if len(bb) != 2 || len(child) < 8 {
		t.Fatalf("system df -v:\n%s", out)
	}
	// The base has a child: all of it is shared. The child shares its parent's size. The last
	// four columns are size, shared size, unique size and containers.
	if f := strings.Fields(bb[0]); f[len(f)-3] != f[len(f)-4] || f[len(f)-2] != "0B" {
		t.Errorf("the base's row: %q", bb[0])
	}
	if n := len(child); child[n-2] == "0B" || child[n-3] == "0B" || strings.Contains(out, " ago") {
		t.Errorf("the child's row: %q\n%s", child, out)
	}
}

// info: podman's field names in templates ({{.Host.Security.Rootless}},
// {{.Store.ContainerStore.Number}}...), its YAML (keys sorted), slirp4netns' executable, uptime.
func TestParityInfo(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "c1x", "localhost/bb", "true")
	got := e.Pea("info", "--format", "{{.Host.Security.Rootless}} {{.Store.ContainerStore.Number}} {{.Store.ContainerStore.Stopped}} {{.Store.ImageStore.Number}} {{.Host.CgroupsVersion}} {{.Host.Security.SECCOMPEnabled}}")
	if f := strings.Fields(got); len(f) != 6 || f[0] != "false" || f[1] != "1" || f[2] != "1" || f[3] != "1" || f[5] != "true" {
		t.Errorf("info --format: %q", got)
	}
	yaml := e.Pea("info")
	var top []string
	for _, line := range strings.Split(yaml, "\n") {
		if line != "" && line[0] != ' ' && line[0] != '-' {
			top = append(top, strings.TrimSuffix(strings.Fields(line)[0], ":"))
		}
	}
	if strings.Join(top, " ") != "host plugins registries store version" {
		t.Errorf("info's top-level keys %v", top)
	}
	for _, want := range []string{"\n  security:\n    apparmorEnabled: false\n    capabilities: CAP_", "\n  uptime: ", "h ", "\n    number: 1\n"} {
		if !strings.Contains(yaml, want) {
			t.Errorf("info has no %q:\n%s", want, yaml)
		}
	}
	if _, err := os.Stat("/usr/bin/slirp4netns"); err == nil && !strings.Contains(yaml, "\n  slirp4netns:\n    executable: /usr/bin/slirp4netns\n") {
		t.Errorf("info's slirp4netns:\n%s", yaml)
	}
}

// kube down of a YAML whose pod is not there fails, as podman's.
func TestParityKubeDownMissing(t *testing.T) {
	e := newEnv(t).withBusybox()
	y := e.kubeFile("gone.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: gone}\nspec:\n  containers: [{name: c, image: localhost/bb:latest, command: [sleep, \"300\"]}]\n")
	r := e.Fails(125, "kube", "down", y)
	if !strings.Contains(r.Stderr, "no pod with name or ID gone found: no such pod") {
		t.Errorf("kube down of nothing: %s", r)
	}
	e.Fails(125, "kube", "play", "--down", y)
}

// Listing and pruning verbs refuse an argument with podman's words, not as an unknown command.
func TestParityTakesNoArguments(t *testing.T) {
	e := newEnv(t)
	for _, verb := range [][]string{{"volume", "ls"}, {"volume", "prune"}, {"network", "ls"}, {"network", "prune"},
		{"image", "prune"}, {"system", "df"}, {"info"}, {"events"}, {"secret", "ls"}, {"system", "prune"}, {"load"}} {
		r := e.Fails(125, append(verb, "extra")...)
		if want := "Error: `pea " + strings.Join(verb, " ") + "` takes no arguments\n"; r.Stderr != want {
			t.Errorf("%v extra: %q, want %q", verb, r.Stderr, want)
		}
	}
}

// system prune lists what went in podman's order and ends with the space reclaimed; a prune
// whose question finds its standard input at its end fails with EOF, as podman's.
func TestParitySystemPrune(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("create", "--name", "stopped", "--label", "k=v", "localhost/bb", "true")
	e.Pea("volume", "create", "--label", "k=v", "spare")
	e.Pea("network", "create", "--label", "k=v", "spare-net")
	e.Pea("import", "-q", "--change", "LABEL k=v", busyboxTar(t))
	out := e.Pea("system", "prune", "-f", "--volumes", "--filter", "label=k=v")
	var heads []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Deleted ") || strings.HasPrefix(l, "Total ") {
			heads = append(heads, strings.Join(strings.Fields(l)[:2], " "))
		}
	}
	if strings.Join(heads, ", ") != "Deleted Containers, Deleted Volumes, Deleted Networks, Deleted Images, Total reclaimed" {
		t.Errorf("system prune:\n%s", out)
	}
	e.Pea("volume", "create", "v-eof") // volume prune asks only when something would go
	for _, verb := range [][]string{{"volume", "prune"}, {"image", "prune"}, {"network", "prune"}, {"system", "prune"}} {
		if r := e.PeaIn("", verb...); r.Code != 125 || !strings.HasSuffix(r.Stderr, "Error: EOF\n") {
			t.Errorf("%v with nothing on stdin: %s", verb, r)
		}
		if r := e.PeaIn("\n", verb...); r.Code != 0 {
			t.Errorf("%v answered with an empty line: %s", verb, r)
		}
	}
}

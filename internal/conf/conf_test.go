package conf

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pea/internal/errdefs"
)

func write(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The files and their order: the distribution's, the administrator's, its drop-ins in lexical
// order (only *.conf), then a user's file and drop-ins, the user's only when rootless.
func TestFilesOrder(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvFile, "")
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	distro := write(t, filepath.Join(dir, "usr/containers.conf"), "")
	admin := write(t, filepath.Join(dir, "etc/containers.conf"), "")
	d2 := write(t, filepath.Join(dir, "etc/containers.conf.d/20-b.conf"), "")
	d1 := write(t, filepath.Join(dir, "etc/containers.conf.d/10-a.conf"), "")
	write(t, filepath.Join(dir, "etc/containers.conf.d/30-c.conf.disabled"), "")
	user := write(t, filepath.Join(dir, "xdg/containers/containers.conf"), "")
	ud := write(t, filepath.Join(dir, "xdg/containers/containers.conf.d/01.conf"), "")

	// The plain files are candidates (Load skips those not there); drop-ins are listed.
	got, err := files(distro, admin, false)
	if want := []string{distro, admin, d1, d2}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("root: %v, %v; want %v", got, err, want)
	}
	got, err = files(distro, admin, true)
	if want := []string{distro, admin, d1, d2, user, ud}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("rootless: %v, %v; want %v", got, err, want)
	}
	missing := filepath.Join(dir, "none")
	got, _ = files(missing, admin, false)
	c, err := Load(got)
	if err != nil || !reflect.DeepEqual(c.Files, []string{admin, d1, d2}) {
		t.Errorf("files read: %v, %v", c.Files, err)
	}
	// $CONTAINERS_CONF alone; a missing one is an error.
	only := write(t, filepath.Join(dir, "only.conf"), "")
	t.Setenv(EnvFile, only)
	if got, err := files(distro, admin, true); err != nil || !reflect.DeepEqual(got, []string{only}) {
		t.Errorf("CONTAINERS_CONF: %v, %v", got, err)
	}
	t.Setenv(EnvFile, filepath.Join(dir, "missing.conf"))
	if _, err := files(distro, admin, false); err == nil || !strings.Contains(err.Error(), "missing.conf") || !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Errorf("missing CONTAINERS_CONF: %v", err)
	}
}

// A later file overrides an earlier one key by key: arrays are replaced whole, tables merged
// by name, keys a later file does not name keep their earlier value.
func TestMergeOrder(t *testing.T) {
	dir := t.TempDir()
	a := write(t, filepath.Join(dir, "a.conf"), `
[containers]
env = ["A=1", "B=2"]
pids_limit = 100
tz = "UTC"
init = true

[engine]
runtime = "crun"
stop_timeout = 30
[engine.runtimes]
crun = ["/a/crun"]
runc = ["/a/runc"]
[engine.service_destinations.prod]
uri = "ssh://a/run/podman.sock"
identity = "/a/key"

[network]
default_subnet_pools = [{"base" = "10.1.0.0/16", "size" = 24}]
`)
	b := write(t, filepath.Join(dir, "b.conf"), `
[containers]
env = ["C=3"]
init = false
unknown_key = "ignored"

[engine.runtimes]
crun = ["/b/crun", "/b2/crun"]

[engine.service_destinations]
  [engine.service_destinations.dev]
  uri = "unix:///b.sock"

[machine]
cpus = 4
`)
	c, err := Load([]string{a, filepath.Join(dir, "missing.conf"), b})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Files, []string{a, b}) {
		t.Errorf("files read: %v", c.Files)
	}
	ct, e := c.Containers, c.Engine
	if !reflect.DeepEqual(ct.Env, []string{"C=3"}) || ct.PidsLimit != 100 || ct.TZ != "UTC" || ct.Init {
		t.Errorf("containers: %+v", ct)
	}
	if e.Runtime != "crun" || e.StopTimeout != 30 {
		t.Errorf("engine: %+v", e)
	}
	wantRT := map[string][]string{"crun": {"/b/crun", "/b2/crun"}, "runc": {"/a/runc"}}
	if !reflect.DeepEqual(e.Runtimes, wantRT) {
		t.Errorf("runtimes %v, want %v", e.Runtimes, wantRT)
	}
	wantDest := map[string]Destination{"prod": {URI: "ssh://a/run/podman.sock", Identity: "/a/key"}, "dev": {URI: "unix:///b.sock"}}
	if !reflect.DeepEqual(e.ServiceDestinations, wantDest) {
		t.Errorf("destinations %v, want %v", e.ServiceDestinations, wantDest)
	}
	if want := []SubnetPool{{"10.1.0.0/16", 24}}; !reflect.DeepEqual(c.Network.DefaultSubnetPools, want) {
		t.Errorf("pools %v", c.Network.DefaultSubnetPools)
	}
	for key, want := range map[string]bool{"containers.pids_limit": true, "containers.init": true, "engine.runtimes": true, "containers.shm_size": false} {
		if c.IsSet(key) != want {
			t.Errorf("IsSet(%s) = %v", key, !want)
		}
	}
	// The built-in defaults of what no file set.
	if !ct.HTTPProxy || ct.LogSizeMax != -1 || c.Containers.DefaultCapabilities != nil {
		t.Errorf("defaults lost: %+v", ct)
	}
	exists := func(p string) bool { return p == "/b2/crun" }
	if p := e.RuntimePath("crun", exists); p != "/b2/crun" {
		t.Errorf("RuntimePath(crun) = %q", p)
	}
	if p := e.RuntimePath("runsc", exists); p != "" {
		t.Errorf("RuntimePath(runsc) = %q", p)
	}
}

// The distribution's reference file (every key commented out but the capabilities and the
// sysctl) parses to pea's own defaults.
func TestReferenceFile(t *testing.T) {
	const ref = "/usr/share/containers/containers.conf"
	if _, err := os.Stat(ref); err != nil {
		t.Skip("no reference file")
	}
	c, err := Load([]string{ref})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Containers.Capabilities(); len(got) != 11 || got[0] != "CAP_CHOWN" {
		t.Errorf("capabilities %v", got)
	}
	if !reflect.DeepEqual(c.Containers.DefaultSysctls, []string{"net.ipv4.ping_group_range=0 0"}) {
		t.Errorf("sysctls %v", c.Containers.DefaultSysctls)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"[containers]\nenv = [\"A=1\"\n", `line 2: unterminated array`},
		{"[containers]\npids_limit = \"x\"", `line 2: "containers.pids_limit" must be an integer, not a string`},
		{"[containers]\nenv = \"A=1\"", `line 2: "containers.env" must be an array of strings, not a string`},
		{"[containers]\ninit = 1", `line 2: "containers.init" must be a boolean (true or false), not an integer`},
		{"[engine]\nnum_locks = \"many\"", `line 2: "engine.num_locks" must be an integer, not a string`},
		{"[engine]\nstop_timeout = -1", `line 2: "engine.stop_timeout" must not be negative`},
		{"[engine.runtimes]\ncrun = \"/usr/bin/crun\"", `line 2: "engine.runtimes.crun" must be an array of strings`},
		{"[engine.service_destinations.x]\nuri = 5", `line 2: "engine.service_destinations.x.uri" must be a string`},
		{"[network]\ndefault_subnet_pools = [\"10.0.0.0/8\"]", `line 2: "network.default_subnet_pools" must be an array of tables`},
		{"containers = 5", `line 1: "containers" must be a table, not an integer`},
	}
	dir := t.TempDir()
	for i, tc := range cases {
		path := write(t, filepath.Join(dir, strings.Repeat("x", i+1)+".conf"), tc.src)
		_, err := Load([]string{path})
		if err == nil || !strings.Contains(err.Error(), path+": "+tc.want) || !errdefs.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}

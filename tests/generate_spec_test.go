package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// `pea generate spec` prints podman 4.3's SpecGenerator (PodSpecGenerator) of a container (pod);
// POSTed to the libpod create endpoints of `pea system service`, it makes the same container
// (pod) again.

// inspectOf is pea inspect's JSON of one object.
func (a *APIEnv) inspectOf(args ...string) map[string]any {
	a.t.Helper()
	out := a.Pea(args...)
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		a.t.Fatalf("%v: %s", err, out)
	}
	if l, ok := v.([]any); ok {
		v = l[0]
	}
	return v.(map[string]any)
}

// dig is the value at a dotted path of a decoded JSON object.
func dig(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestGenerateSpecContainer(t *testing.T) {
	a := newAPIEnv(t)
	bind := filepath.Join(a.Dir, "bind")
	os.MkdirAll(bind, 0o755)
	os.WriteFile(filepath.Join(bind, "f"), []byte("bound"), 0o644)
	a.Pea("create", "--name", "spec-web", "-e", "ZED=1", "-e", "FOO=bar", "-p", "127.0.0.1:18471:80", "-p", "18472:90/udp",
		"-v", bind+":/data:ro", "-v", "specvol:/vol", "-v", "/anon", "-l", "app=web", "-l", "tier=1", "-w", "/data",
		"-u", "1000:1000", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "100", "--restart", "on-failure:3",
		"--hostname", "sh1", "--cap-add", "NET_ADMIN", "--ulimit", "nofile=100:200",
		"--health-cmd", "true", "--health-interval", "5m", "--health-startup-cmd", "test -d /tmp", "--health-startup-interval", "4m",
		"--health-startup-success", "2", "--health-startup-retries", "3", "localhost/bb", "sh", "-c", "sleep 300")

	// As podman prints it: indented by one space, the name made unique, and podman's fields.
	out := a.Pea("generate", "spec", "spec-web")
	if !strings.HasPrefix(out, "{\n \"name\": \"spec-web-clone\",\n \"command\": [\n  \"sh\",") {
		t.Fatalf("generate spec:\n%s", out)
	}
	var spec map[string]any
	if err := json.Unmarshal([]byte(out), &spec); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"work_dir": "/data", "user": "1000:1000", "restart_policy": "on-failure", "restart_tries": 3.0,
		"hostname": "sh1", "image": "localhost/bb:latest", "init_container_type": "", "use_image_hosts": false,
		"resource_limits.memory.limit": 67108864.0, "resource_limits.cpu.quota": 50000.0, "resource_limits.cpu.period": 100000.0,
		"resource_limits.pids.limit": 100.0, "env.FOO": "bar", "labels.tier": "1", "netns.nsmode": "bridge"} {
		if got := dig(spec, k); got != want {
			t.Errorf("spec %s: %v, want %v", k, got, want)
		}
	}

	// -c: the same on one line; -f: written to the file (without a final newline), whose path
	// is printed; --name=false: the original's name.
	compact := a.Pea("generate", "spec", "-c", "spec-web")
	var want bytes.Buffer
	json.Compact(&want, []byte(out))
	if compact != want.String() || strings.Contains(compact, "\n") {
		t.Errorf("--compact:\n%s\nwant\n%s", compact, want.String())
	}
	file := filepath.Join(a.Dir, "spec.json")
	if got := a.Pea("generate", "spec", "--filename", file, "spec-web"); got != file {
		t.Errorf("--filename printed %q, want %q", got, file)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != out {
		t.Errorf("--filename wrote %q (%v), want the spec without a newline", data, err)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("--filename: mode %v (%v)", st.Mode(), err)
	}
	if got := dig(jsonOf(t, a.Pea("generate", "spec", "-c", "--name=false", "spec-web")), "name"); got != "spec-web" {
		t.Errorf("--name=false: name %v", got)
	}

	// POSTed to the libpod create endpoint, the spec makes the container again.
	a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", out, http.StatusCreated, nil)
	orig, made := a.inspectOf("inspect", "spec-web"), a.inspectOf("inspect", "spec-web-clone")
	for _, k := range []string{"Config.Cmd", "Config.WorkingDir", "Config.User", "Config.Labels", "Config.Hostname", "ImageName", "Image",
		"HostConfig.PortBindings", "HostConfig.Memory", "HostConfig.MemorySwap", "HostConfig.NanoCpus", "HostConfig.CpuPeriod",
		"HostConfig.CpuQuota", "HostConfig.PidsLimit", "HostConfig.RestartPolicy", "HostConfig.Binds", "HostConfig.NetworkMode",
		"HostConfig.CapAdd", "HostConfig.Ulimits", "HostConfig.IpcMode", "HostConfig.PidMode", "HostConfig.UTSMode", "HostConfig.CgroupMode",
		"Config.Healthcheck", "Config.StartupHealthCheck"} {
		o, m := dig(orig, k), dig(made, k)
		if k == "HostConfig.Binds" { // an anonymous volume is a new one, of another name
			anon := regexp.MustCompile(`[0-9a-f]{64}`)
			o, m = anon.ReplaceAllString(fmt.Sprint(o), "ANON"), anon.ReplaceAllString(fmt.Sprint(m), "ANON")
		}
		if !reflect.DeepEqual(o, m) {
			t.Errorf("%s: original %v, made from the spec %v", k, o, m)
		}
	}
	if got := dig(made, "HostConfig.RestartPolicy"); !reflect.DeepEqual(got, map[string]any{"Name": "on-failure", "MaximumRetryCount": 3.0}) {
		t.Errorf("restart policy %v, want podman's on-failure with 3 retries", got)
	}
	if got := dig(made, "Config.StartupHealthCheck.Successes"); got != 2.0 {
		t.Errorf("the startup check made from the spec: %v", dig(made, "Config.StartupHealthCheck"))
	}
	if got := dig(made, "HostConfig.NanoCpus"); got != 500000000.0 {
		t.Errorf("NanoCpus %v: --cpus 0.5 as a quota of podman's default period is 0.5 CPUs", got)
	}
	sortedEnv := func(v map[string]any) []string {
		var env []string
		for _, e := range dig(v, "Config.Env").([]any) {
			env = append(env, e.(string))
		}
		sort.Strings(env)
		return env
	}
	if o, m := sortedEnv(orig), sortedEnv(made); !reflect.DeepEqual(o, m) {
		t.Errorf("environment: original %v, made from the spec %v", o, m)
	}
	// Its mounts: the same bind and named volume, and an anonymous volume of its own.
	mounts := func(v map[string]any) (out []string, anon string) {
		for _, m := range dig(v, "Mounts").([]any) {
			mm := m.(map[string]any)
			name, _ := mm["Name"].(string)
			if mm["Destination"] == "/anon" {
				anon, name = name, "ANON"
			}
			out = append(out, strings.Join([]string{mm["Type"].(string), name, mm["Destination"].(string), mm["Mode"].(string)}, " "))
		}
		sort.Strings(out)
		return out, anon
	}
	om, oanon := mounts(orig)
	mm, manon := mounts(made)
	if !reflect.DeepEqual(om, mm) || oanon == manon || manon == "" {
		t.Errorf("mounts: original %v (%s), made from the spec %v (%s)", om, oanon, mm, manon)
	}

	// And it runs as the original would.
	a.Pea("start", "spec-web-clone")
	if got := a.Pea("exec", "spec-web-clone", "sh", "-c", "echo $FOO $ZED; pwd; id -u; cat /data/f; echo; hostname; ulimit -n"); got != "bar 1\n/data\n1000\nbound\nsh1\n100" {
		t.Errorf("in the container made from the spec: %q", got)
	}

	// A name with -clone gets the next free number; pea passes by a taken NAME-clone, where
	// podman would write it again.
	for _, c := range [][2]string{{"spec-web", "spec-web-clone1"}, {"spec-web-clone", "spec-web-clone1"}} {
		if got := dig(jsonOf(t, a.Pea("generate", "spec", "-c", c[0])), "name"); got != c[1] {
			t.Errorf("generate spec %s: name %v, want %s", c[0], got, c[1])
		}
	}

	// podman's errors: nothing of that name; no such verb over the API.
	if r := a.Fails(125, "generate", "spec", "nosuch"); r.Stderr != "Error: could not find a pod or container with the id nosuch\n" {
		t.Errorf("missing: %q", r.Stderr)
	}
	a.Fails(125, "generate", "spec")
	if r := a.podmanRemote("generate", "spec", "spec-web"); r.Code != 125 || !strings.Contains(r.Stderr, "GenerateSpec is not supported on the remote API") {
		t.Errorf("podman --remote generate spec: %s", r)
	}
}

func jsonOf(t *testing.T, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

func TestGenerateSpecPod(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("pod", "create", "--name", "spec-pod", "--hostname", "ph", "-l", "a=b", "-p", "127.0.0.1:18473:80", "--memory", "100m",
		"--cpus", "1.5", "-v", "specpv:/pv", "--shm-size", "10m", "--share", "net,ipc,uts,pid", "--infra-name", "spec-inf",
		"--exit-policy", "stop", "--sysctl", "net.ipv4.ip_forward=1")
	a.Pea("create", "--pod", "spec-pod", "--name", "spec-m", "-e", "X=1", "localhost/bb", "sleep", "300")

	out := a.Pea("generate", "spec", "spec-pod")
	if !strings.HasPrefix(out, "{\n \"name\": \"spec-pod-clone\",\n \"hostname\": \"ph\",\n \"exit_policy\": \"stop\",") {
		t.Fatalf("generate spec of a pod:\n%s", out)
	}
	spec := jsonOf(t, out)
	if got := dig(spec, "infra_name"); got != "spec-inf-clone" {
		t.Errorf("infra_name %v: the original's is taken", got)
	}
	a.RequestJSON("POST", "/v4.3.1/libpod/pods/create", out, http.StatusCreated, nil)
	orig, made := a.inspectOf("pod", "inspect", "spec-pod"), a.inspectOf("pod", "inspect", "spec-pod-clone")
	for _, k := range []string{"Hostname", "Labels", "SharedNamespaces", "ExitPolicy", "CreateCgroup", "CgroupParent", "cpu_period",
		"cpu_quota", "memory_limit", "memory_swap", "mounts", "shm_size", "InfraConfig.PortBindings", "InfraConfig.Networks",
		"InfraConfig.DNSServer", "InfraConfig.pid_ns", "InfraConfig.uts_ns"} {
		if o, m := dig(orig, k), dig(made, k); !reflect.DeepEqual(o, m) {
			t.Errorf("pod %s: original %v, made from the spec %v", k, o, m)
		}
	}
	if got := a.Pea("inspect", "-f", "{{.Name}}", dig(made, "InfraContainerID").(string)); got != "spec-inf-clone" {
		t.Errorf("infra container %q", got)
	}

	// The member's spec names its pod; put in the new pod, it joins that one.
	member := jsonOf(t, a.Pea("generate", "spec", "spec-m"))
	if member["pod"] != dig(orig, "Id") || member["name"] != "spec-m-clone" {
		t.Errorf("member's spec: pod %v, name %v", member["pod"], member["name"])
	}
	member["pod"] = "spec-pod-clone"
	a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", member, http.StatusCreated, nil)
	a.Pea("pod", "start", "spec-pod-clone")
	if got := a.Pea("exec", "spec-m-clone", "sh", "-c", "echo $X; hostname; cat /proc/sys/net/ipv4/ip_forward; df -k /dev/shm | tail -1; test -d /pv && echo pv"); !strings.HasPrefix(got, "1\nph\n1\nshm ") || !strings.HasSuffix(got, "\npv") || !strings.Contains(got, " 10240 ") {
		t.Errorf("in the member made from the spec: %q", got)
	}
	if got := a.Pea("inspect", "-f", "{{.Pod}} {{.HostConfig.NetworkMode}} {{.HostConfig.PidMode}}", "spec-m-clone"); got != dig(made, "Id").(string)+" container:"+dig(made, "InfraContainerID").(string)+" container:"+dig(made, "InfraContainerID").(string) {
		t.Errorf("member made from the spec: %q", got)
	}
}

// podman --remote pod create's PodSpecGenerator is read whole: its limits, volumes, devices,
// sysctls, security options, PID namespace and infra conmon PID file make the same pod as pea pod
// create's flags.
func TestLibpodPodCreateFields(t *testing.T) {
	a := newAPIEnv(t)
	flags := func(name string) []string {
		return []string{"pod", "create", "--name", name, "--memory", "100m", "--cpus", "1.5", "--cpuset-cpus", "0", "--volume", a.Dir + ":/hd:ro",
			"--volume", "rpv:/rpv", "--shm-size", "10m", "--pid", "host", "--sysctl", "net.ipv4.ip_forward=1", "--device", "/dev/null",
			"--security-opt", "no-new-privileges", "--infra-conmon-pidfile", filepath.Join(a.Dir, name+".pid"), "--share", "ipc,net"}
	}
	a.Pea(flags("pp")...)
	a.mustPodman(flags("rp")...)
	pea, remote := a.inspectOf("pod", "inspect", "pp"), a.inspectOf("pod", "inspect", "rp")
	for _, k := range []string{"cpu_period", "cpu_quota", "cpuset_cpus", "memory_limit", "memory_swap", "mounts", "shm_size", "devices",
		"security_opt", "SharedNamespaces", "InfraConfig.pid_ns"} {
		if p, r := dig(pea, k), dig(remote, k); !reflect.DeepEqual(p, r) || p == nil {
			t.Errorf("pod %s: pea pod create %v, podman --remote pod create %v", k, p, r)
		}
	}
	a.Pea("pod", "start", "rp")
	if _, err := os.Stat(filepath.Join(a.Dir, "rp.pid")); err != nil {
		t.Errorf("--infra-conmon-pidfile: %v", err)
	}
}

// What a container left out of its image's settings is said in its spec: VOLUMEs it made no
// volume for (--image-volume ignore) and a HEALTHCHECK it dropped (--no-healthcheck); the
// image's VOLUMEs it has are made again as new anonymous volumes.
func TestGenerateSpecImageDefaults(t *testing.T) {
	a := newAPIEnv(t)
	ctx := filepath.Join(a.Dir, "ctx")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nVOLUME /iv\nHEALTHCHECK CMD true\n"), 0o644)
	a.Pea("build", "-q", "-t", "localhost/withvol", "--network", "none", ctx)
	a.Pea("create", "--name", "spec-iv", "localhost/withvol", "sleep", "300")
	a.Pea("create", "--name", "spec-ig", "--image-volume", "ignore", "--no-healthcheck", "localhost/withvol", "sleep", "300")
	iv := jsonOf(t, a.Pea("generate", "spec", "spec-iv"))
	ig := jsonOf(t, a.Pea("generate", "spec", "spec-ig"))
	if iv["image_volume_mode"] != "anonymous" || iv["volumes"] != nil || dig(iv, "healthconfig.Test") == nil {
		t.Errorf("spec-iv: image_volume_mode %v, volumes %v, healthconfig %v", iv["image_volume_mode"], iv["volumes"], iv["healthconfig"])
	}
	if ig["image_volume_mode"] != "ignore" || !reflect.DeepEqual(dig(ig, "healthconfig.Test"), []any{"NONE"}) {
		t.Errorf("spec-ig: image_volume_mode %v, healthconfig %v", ig["image_volume_mode"], ig["healthconfig"])
	}
	for _, s := range []map[string]any{iv, ig} {
		a.RequestJSON("POST", "/v4.3.1/libpod/containers/create", s, http.StatusCreated, nil)
	}
	const f = "{{range .Mounts}}{{.Type}} {{.Destination}} {{.Name}};{{end}}|{{.Config.Healthcheck}}"
	orig, made := a.Pea("inspect", "-f", f, "spec-iv"), a.Pea("inspect", "-f", f, "spec-iv-clone")
	if !strings.HasPrefix(made, "volume /iv ") || made == orig || !strings.Contains(made, "true") {
		t.Errorf("made from spec-iv's spec: %q (the original %q)", made, orig)
	}
	orig, made = a.Pea("inspect", "-f", f, "spec-ig"), a.Pea("inspect", "-f", f, "spec-ig-clone")
	if made != orig || strings.Contains(made, "/iv") {
		t.Errorf("made from spec-ig's spec: %q, the original %q", made, orig)
	}
}

package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// withUserNS readies e for containers in user namespaces: the runtime reaches their root
// filesystems as container root, a host ID of no privilege, so the directory holding the store
// (os.MkdirTemp makes it 0700) must let others search it.
func (e *Env) withUserNS() *Env {
	e.t.Helper()
	if err := os.Chmod(e.Dir, 0o711); err != nil {
		e.t.Fatal(err)
	}
	return e
}

// hostIDs returns the real UID and GID of process pid as the host sees them.
func hostIDs(t *testing.T, pid string) (uid, gid string) {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 1 && f[0] == "Uid:":
			uid = f[1]
		case len(f) > 1 && f[0] == "Gid:":
			gid = f[1]
		}
	}
	return uid, gid
}

// fileIDs returns the owner of path on the host, as "UID:GID".
func fileIDs(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d:%d", st.Uid, st.Gid)
}

// idmapMounts counts the mounts below e's store other than overlays and /dev/shm tmpfs: the
// ID-mapped layer views pea makes for a start must be gone once the overlay is mounted.
func idmapMounts(t *testing.T, e *Env) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], e.Root+"/") && strings.Contains(f[4], "/idmap") {
			out = append(out, f[4])
		}
	}
	return out
}

// layerFile finds path in the store's unpacked image layers.
func layerFile(t *testing.T, e *Env, path string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(e.Root, "images", "layers", "*", "diff", path))
	if len(m) != 1 {
		t.Fatalf("%s in the image layers: %v", path, m)
	}
	return m[0]
}

func TestContainerUserNamespace(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	busybox := layerFile(t, e, "bin/busybox")
	id := e.Pea("run", "-d", "--network", "none", "--name", "u", "--uidmap", "0:100000:65536", "--gidmap", "0:200000:65536",
		"localhost/bb", "sleep", "300")

	if out := strings.Fields(e.Pea("exec", "u", "cat", "/proc/self/uid_map", "/proc/self/gid_map")); strings.Join(out, " ") != "0 100000 65536 0 200000 65536" {
		t.Fatalf("maps inside: %q", out)
	}
	pid := e.Pea("inspect", "--format", "{{.State.Pid}}", "u")
	if uid, gid := hostIDs(t, pid); uid != "100000" || gid != "200000" {
		t.Fatalf("the container's process runs as %s:%s on the host, want 100000:200000", uid, gid)
	}
	// The image's files belong to container root, without a copy or a chown of the layer.
	if out := e.Pea("exec", "u", "stat", "-c", "%u:%g", "/bin/busybox", "/"); out != "0:0\n0:0" {
		t.Fatalf("owners of the image's files inside: %q", out)
	}
	if got := fileIDs(t, busybox); got != "0:0" {
		t.Fatalf("the layer's busybox on the host belongs to %s: the layer was changed", got)
	}
	// What container root writes belongs to it: new files, copied-up files, /etc/hosts, /dev/shm.
	e.Pea("exec", "u", "sh", "-c", "touch /made && echo more >> /etc/passwd && echo 10.9.9.9 x >> /etc/hosts && touch /dev/shm/seg")
	upper := filepath.Join(e.Root, "containers", id, "upper")
	for _, f := range []string{"made", "etc/passwd", "."} {
		if got := fileIDs(t, filepath.Join(upper, f)); got != "100000:200000" {
			t.Fatalf("upper/%s belongs to %s on the host, want 100000:200000", f, got)
		}
	}
	if out := e.Pea("exec", "u", "stat", "-c", "%u:%g", "/dev/shm", "/etc/hosts", "/etc/hostname"); out != "0:0\n0:0\n0:0" {
		t.Fatalf("owners of /dev/shm and the /etc files inside: %q", out)
	}
	// The container's directory stays root's (0711): container root, a host ID any host
	// process may have, cannot put a link where pea mounts or removes.
	if got := fileIDs(t, filepath.Join(e.Root, "containers", id)); got != "0:0" {
		t.Fatalf("the container's directory belongs to %s", got)
	}
	if st, err := os.Stat(filepath.Join(e.Root, "containers", id)); err != nil || st.Mode().Perm() != 0o711 {
		t.Fatalf("the container's directory: %v %v", st.Mode(), err)
	}
	// No ID-mapped view of a layer outlives the start.
	if m := idmapMounts(t, e); len(m) != 0 {
		t.Fatalf("ID-mapped views left mounted: %v", m)
	}

	var v []struct {
		HostConfig struct {
			UsernsMode string
			IDMappings *struct{ UidMap, GidMap []string }
		}
	}
	if err := json.Unmarshal([]byte(e.Pea("inspect", "u")), &v); err != nil || len(v) != 1 {
		t.Fatalf("inspect: %v", err)
	}
	h := v[0].HostConfig
	if h.UsernsMode != "private" || h.IDMappings == nil || strings.Join(h.IDMappings.UidMap, ",") != "0:100000:65536" || strings.Join(h.IDMappings.GidMap, ",") != "0:200000:65536" {
		t.Fatalf("inspect: UsernsMode %q, IDMappings %+v", h.UsernsMode, h.IDMappings)
	}

	// cp into it, running and stopped: the copies belong to container root.
	src := filepath.Join(e.Dir, "copied")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.Pea("cp", src, "u:/copied1")
	e.Pea("stop", "-t", "0", "u")
	e.Pea("cp", src, "u:/copied2")
	e.Pea("start", "u")
	if out := e.Pea("exec", "u", "stat", "-c", "%u:%g", "/copied1", "/copied2", "/made"); out != "0:0\n0:0\n0:0" {
		t.Fatalf("owners of copied files after a restart: %q", out)
	}

	// Another container joins its namespace and can write its own root filesystem.
	own := e.Pea("exec", "u", "readlink", "/proc/self/ns/user")
	if out := e.Pea("run", "--rm", "--network", "none", "--userns", "container:u", "localhost/bb", "sh", "-c", "readlink /proc/self/ns/user && touch /mine && stat -c %u /mine"); out != own+"\n0" {
		t.Fatalf("--userns container:u: %q, want %q and 0", out, own)
	}
	// top shows the container's users, not the host IDs they map to.
	if out := e.Pea("top", "u", "user", "huser"); !strings.Contains(out, "root") || !strings.Contains(out, "100000") {
		t.Fatalf("top user huser: %q", out)
	}
	// A new named volume is the container user's to write (podman's rule), with or without a
	// user namespace; files copied in are the container user's too.
	if out := e.Pea("run", "--rm", "--network", "none", "--uidmap", "0:100000:65536", "-v", "fresh:/data", "localhost/bb", "sh", "-c", "touch /data/f && stat -c %u /data/f"); out != "0" {
		t.Fatalf("a new named volume: %q", out)
	}
	for _, c := range []struct{ name, hostIDs string }{{"mapped", "101000:101000"}, {"unmapped", "1000:1000"}} {
		args := []string{"run", "-d", "--network", "none", "--name", c.name, "-u", "1000:1000", "-v", c.name + "-vol:/data"}
		if c.name == "mapped" {
			args = append(args, "--uidmap", "0:100000:65536")
		}
		e.Pea(append(args, "localhost/bb", "sleep", "300")...)
		e.Pea("cp", src, c.name+":/tmp/copied")
		if out := e.Pea("exec", c.name, "sh", "-c", "touch /data/f && stat -c %u:%g /data /tmp/copied"); out != "1000:1000\n1000:1000" {
			t.Fatalf("%s: the volume and the copy of a container running as 1000:1000: %q", c.name, out)
		}
		if got := fileIDs(t, filepath.Join(e.Root, "volumes", c.name+"-vol", "_data", "f")); got != c.hostIDs {
			t.Fatalf("%s: the volume's file belongs to %s on the host, want %s", c.name, got, c.hostIDs)
		}
	}
	// U gives a bind mount's source to the container's user: its host IDs through the mappings.
	usrc := filepath.Join(e.Dir, "usrc")
	if err := os.MkdirAll(filepath.Join(usrc, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "--uidmap", "0:100000:65536", "-u", "1000:1000", "-v", usrc+":/u:U",
		"localhost/bb", "sh", "-c", "touch /u/d/f && stat -c %u:%g /u/d /u/d/f"); out != "1000:1000\n1000:1000" {
		t.Fatalf("-v SRC:DST:U in a user namespace: %q", out)
	}
	if got := fileIDs(t, filepath.Join(usrc, "d", "f")); got != "101000:101000" {
		t.Fatalf("U: the file belongs to %s on the host, want 101000:101000", got)
	}
	e.Pea("run", "--rm", "--network", "none", "-u", "1234:55", "--mount", "type=bind,src="+usrc+",dst=/u,U", "localhost/bb", "true")
	if got := fileIDs(t, filepath.Join(usrc, "d", "f")); got != "1234:55" {
		t.Fatalf("--mount ...,U without a user namespace: the file belongs to %s, want 1234:55", got)
	}
	// The host's PID and IPC namespaces cannot have their proc and mqueue mounted from a user
	// namespace: the host's /proc is bound instead, /dev/mqueue left out.
	if out := e.Pea("run", "--rm", "--network", "none", "--uidmap", "0:100000:65536", "--pid", "host", "--ipc", "host", "localhost/bb", "sh", "-c", "test -d /proc/1 && echo ok"); out != "ok" {
		t.Fatalf("--pid host --ipc host: %q", out)
	}
	// inspect of a joiner shows the mappings it runs under.
	e.Pea("create", "--network", "none", "--name", "joiner", "--userns", "container:u", "localhost/bb", "true")
	if out := e.Pea("inspect", "--format", "{{.HostConfig.UsernsMode}} {{json .HostConfig.IDMappings}}", "joiner"); out != "container:"+id+` {"UidMap":["0:100000:65536"],"GidMap":["0:200000:65536"]}` {
		t.Fatalf("inspect of a joiner: %s", out)
	}
	e.Pea("rm", "joiner")
	// One --uidmap alone serves for the GIDs too.
	if out := e.Pea("run", "--rm", "--network", "none", "--uidmap", "0:300000:1000", "localhost/bb", "cat", "/proc/self/gid_map"); strings.Join(strings.Fields(out), " ") != "0 300000 1000" {
		t.Fatalf("gid_map with --uidmap alone: %q", out)
	}

	// Removed, the container takes nothing of the image's with it.
	e.Pea("rm", "-f", "-t", "0", "u")
	if got := fileIDs(t, busybox); got != "0:0" {
		t.Fatalf("the layer's busybox after the removal: %s", got)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/bb", "stat", "-c", "%u:%g", "/bin/busybox"); out != "0:0" {
		t.Fatalf("the image after the removal: %q", out)
	}
	if m := idmapMounts(t, e); len(m) != 0 {
		t.Fatalf("ID-mapped views left mounted: %v", m)
	}
}

func TestUserNamespaceBadInput(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	e.Pea("run", "-d", "--network", "none", "--name", "plain", "localhost/bb", "sleep", "300")
	e.Pea("pod", "create", "--name", "p", "--uidmap", "0:100000:65536")
	before := e.Pea("ps", "-aq")
	for _, args := range [][]string{
		{"--uidmap", "0:100000"},
		{"--uidmap", "0:100000:x"},
		{"--uidmap", "0:100000:0"},
		{"--uidmap", "0:4294967290:10"},
		{"--uidmap", "0:100000:10", "--uidmap", "5:200000:10"},  // container sides overlap
		{"--gidmap", "0:100000:10", "--gidmap", "10:100005:10"}, // host sides overlap
		{"--userns", "host", "--uidmap", "0:100000:10"},
		{"--userns", "keep-id"},
		{"--userns", "bogus"},
		{"--userns", "ns:/nonexistent"},
		{"--userns", "container:plain"}, // it has no user namespace of its own
		{"--pod", "p", "--uidmap", "0:200000:10"},
		{"--pod", "p", "--userns", "ns:/proc/self/ns/user"},
		{"--pod", "p", "--userns", "host"}, // as podman: --userns and --pod never go together
	} {
		full := append(append([]string{"run", "--rm"}, args...), "localhost/bb", "true")
		r := e.Fails(125, full...)
		if strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 || !strings.HasPrefix(r.Stderr, "Error: ") {
			t.Fatalf("%v: want one error line, got %q", args, r.Stderr)
		}
	}
	// A user the mappings leave out cannot run: podman's 126, and the --rm container is gone
	// (without --rm it stays, created, as podman's).
	r := e.Fails(126, "run", "--rm", "--network", "none", "--uidmap", "0:100000:10", "-u", "5000", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, "do not map") {
		t.Fatalf("unmapped user: %s", r)
	}
	// The failed start took back its mounts, its probe and its holder process.
	if m := idmapMounts(t, e); len(m) != 0 {
		t.Fatalf("a failed start left ID-mapped views: %v", m)
	}
	if probes, _ := filepath.Glob(filepath.Join(e.Root, "containers", "*", ".idprobe*")); len(probes) != 0 {
		t.Fatalf("a failed start left probes: %v", probes)
	}
	if out, _ := exec.Command("pgrep", "-f", "__pea-hold-userns").Output(); len(out) != 0 {
		t.Fatalf("holder processes left: %s", out)
	}
	e.Fails(125, "pod", "create", "--infra=false", "--uidmap", "0:100000:10")
	e.Fails(125, "pod", "create", "--userns", "container:plain")
	if after := e.Pea("ps", "-aq"); after != before {
		t.Fatalf("refused runs left containers: %q, before %q", after, before)
	}
	if out := e.Pea("pod", "ps", "-q"); len(strings.Fields(out)) != 1 {
		t.Fatalf("refused pod creations left pods: %q", out)
	}
}

func TestPodUserNamespace(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	e.Pea("pod", "create", "--name", "p", "--uidmap", "0:300000:65536")
	a := e.Pea("run", "-d", "--pod", "p", "--name", "a", "localhost/bb", "sleep", "300")
	e.Pea("run", "-d", "--pod", "p", "--name", "b", "localhost/bb", "sleep", "300")

	infraPid := e.Pea("inspect", "--format", "{{.State.Pid}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p"))
	infraNS, err := os.Readlink("/proc/" + infraPid + "/ns/user")
	if err != nil {
		t.Fatal(err)
	}
	hostNS, _ := os.Readlink("/proc/self/ns/user")
	if infraNS == hostNS {
		t.Fatalf("the infra container runs in the host's user namespace %s", hostNS)
	}
	if uid, _ := hostIDs(t, infraPid); uid != "300000" {
		t.Fatalf("the infra process runs as host UID %s, want 300000", uid)
	}
	for _, m := range []string{"a", "b"} {
		if out := e.Pea("exec", m, "readlink", "/proc/self/ns/user"); out != infraNS {
			t.Fatalf("member %s is in user namespace %s, the infra container in %s", m, out, infraNS)
		}
		if out := e.Pea("exec", m, "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(out), " ") != "0 300000 65536" {
			t.Fatalf("uid_map of member %s: %q", m, out)
		}
	}
	// Members write their own root filesystems as container root, and share /dev/shm.
	e.Pea("exec", "a", "sh", "-c", "touch /made && echo hi > /dev/shm/seg")
	if got := fileIDs(t, filepath.Join(e.Root, "containers", a, "upper", "made")); got != "300000:300000" {
		t.Fatalf("a's new file belongs to %s on the host", got)
	}
	if out := e.Pea("exec", "b", "cat", "/dev/shm/seg"); out != "hi" {
		t.Fatalf("b reads a's /dev/shm file: %q", out)
	}

	var v struct {
		SharedNamespaces []string
		InfraConfig      struct {
			UserNS string `json:"userns"`
		}
	}
	if err := json.Unmarshal([]byte(e.Pea("pod", "inspect", "p")), &v); err != nil {
		t.Fatal(err)
	}
	if strings.Join(v.SharedNamespaces, ",") != "ipc,net,user,uts" || v.InfraConfig.UserNS != "private" {
		t.Fatalf("pod inspect: SharedNamespaces %v, InfraConfig.userns %q", v.SharedNamespaces, v.InfraConfig.UserNS)
	}

	// cp into a stopped member, whose pod is stopped too: the pod's mappings still apply.
	e.Pea("pod", "stop", "-t", "0", "p")
	src := filepath.Join(e.Dir, "src")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.Pea("cp", src, "b:/copied")
	// Started again, the pod gets a new namespace with the same mappings.
	e.Pea("pod", "start", "p")
	if out := e.Pea("exec", "b", "sh", "-c", "cat /proc/self/uid_map; stat -c %u /bin/busybox /copied"); strings.Join(strings.Fields(out), " ") != "0 300000 65536 0 0" {
		t.Fatalf("member b after the restart: %q", out)
	}
	if m := idmapMounts(t, e); len(m) != 0 {
		t.Fatalf("ID-mapped views left mounted: %v", m)
	}

	// A pod can also join an existing user namespace by its file.
	infraPid = e.Pea("inspect", "--format", "{{.State.Pid}}", e.Pea("pod", "inspect", "--format", "{{.InfraContainerID}}", "p"))
	if infraNS, err = os.Readlink("/proc/" + infraPid + "/ns/user"); err != nil {
		t.Fatal(err)
	}
	e.Pea("pod", "create", "--name", "q", "--userns", "ns:/proc/"+infraPid+"/ns/user")
	if out := e.Pea("run", "--rm", "--pod", "q", "localhost/bb", "sh", "-c", "readlink /proc/self/ns/user && touch /x && stat -c %u /x"); out != infraNS+"\n0" {
		t.Fatalf("member of a pod joining %s: %q", infraNS, out)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "q", "p")
	if m := idmapMounts(t, e); len(m) != 0 {
		t.Fatalf("ID-mapped views left mounted: %v", m)
	}
}

// withSubIDs runs pea with /etc/subuid and /etc/subgid as given, in a mount namespace of its
// own where an overlay on /etc holds them: the host's files are neither read nor changed.
func (e *Env) withSubIDs(subuid, subgid string, args ...string) Result {
	e.t.Helper()
	// Directories of its own: calls at the same time cannot share an overlay's work dir.
	dir, err := os.MkdirTemp(e.Dir, "etc-")
	if err != nil {
		e.t.Fatal(err)
	}
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	for name, body := range map[string]string{"subuid": subuid, "subgid": subgid} {
		if err := os.WriteFile(filepath.Join(upper, name), []byte(body), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	script := `mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc && shift 2 && exec "$@"`
	full := append([]string{"-m", "--propagation", "private", "sh", "-c", script, "sh", upper, work, peaBin}, e.args(args...)...)
	return runCmd(exec.Command("unshare", full...))
}

func TestUserNamespaceAuto(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	const subuid, subgid = "someone:100000:65536\ncontainers:500000:3000\n", "containers:600000:3500\n"
	create := func(want int, args ...string) Result {
		t.Helper()
		r := e.withSubIDs(subuid, subgid, append([]string{"create", "--network", "none"}, append(args, "localhost/bb", "sleep", "300")...)...)
		if r.Code != want {
			t.Fatalf("create %v: want exit %d, got %s", args, want, r)
		}
		return r
	}
	maps := func(name string) string {
		t.Helper()
		return e.Pea("inspect", "--format", "{{.HostConfig.UsernsMode}} {{json .HostConfig.IDMappings}}", name)
	}
	for _, n := range []string{"a1", "a2", "a3"} {
		create(0, "--name", n, "--userns", "auto:size=1000")
	}
	for n, want := range map[string]string{
		"a1": `auto:size=1000 {"UidMap":["0:500000:1000"],"GidMap":["0:600000:1000"]}`,
		"a2": `auto:size=1000 {"UidMap":["0:501000:1000"],"GidMap":["0:601000:1000"]}`,
		"a3": `auto:size=1000 {"UidMap":["0:502000:1000"],"GidMap":["0:602000:1000"]}`,
	} {
		if got := maps(n); got != want {
			t.Fatalf("%s: %s, want %s", n, got, want)
		}
	}
	e.Pea("start", "a2")
	if out := e.Pea("exec", "a2", "sh", "-c", "cat /proc/self/uid_map; touch /f && stat -c %u /f"); strings.Join(strings.Fields(out), " ") != "0 501000 1000 0" {
		t.Fatalf("a2 inside: %q", out)
	}
	// The IDs are all taken: no container shares them.
	r := create(125, "--userns", "auto:size=1000")
	if !strings.Contains(r.Stderr, "no 1000 IDs") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
		t.Fatalf("exhausted: %s", r)
	}
	// Creations at the same time never pick the same IDs (the userns-auto lock).
	done := make(chan Result, 4)
	for i := range 4 {
		go func() {
			done <- e.withSubIDs(subuid+"containers:900000:1000\n", "containers:600000:100000\n", "create", "--network", "none", "--name", fmt.Sprintf("par%d", i), "--userns", "auto:size=100", "localhost/bb", "true")
		}()
	}
	starts := map[string]bool{}
	for range 4 {
		if r := <-done; r.Code != 0 {
			t.Fatalf("a parallel create: %s", r)
		}
	}
	for i := range 4 {
		m := maps(fmt.Sprintf("par%d", i))
		if starts[m] {
			t.Fatalf("two parallel creations picked %s", m)
		}
		starts[m] = true
		e.Pea("rm", fmt.Sprintf("par%d", i))
	}
	// A removed container's IDs are free again, and a pod's infra container takes them.
	e.Pea("rm", "-f", "-t", "0", "a2")
	if r := e.withSubIDs(subuid, subgid, "pod", "create", "--name", "p", "--userns", "auto:size=1000"); r.Code != 0 {
		t.Fatalf("pod create --userns auto: %s", r)
	}
	e.Pea("run", "-d", "--pod", "p", "--name", "m", "localhost/bb", "sleep", "300")
	if out := e.Pea("exec", "m", "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(out), " ") != "0 501000 1000" {
		t.Fatalf("member of a pod with --userns auto: %q", out)
	}
	if out := e.Pea("pod", "inspect", "--format", "{{.SharedNamespaces}}", "p"); !strings.Contains(out, "user") {
		t.Fatalf("SharedNamespaces: %q", out)
	}

	// Without IDs for "containers", and with bad options: one line, nothing created.
	before := e.Pea("ps", "-aq")
	if r := e.withSubIDs("someone:100000:65536\n", "", "create", "--userns", "auto", "localhost/bb", "true"); r.Code != 125 || !strings.Contains(r.Stderr, `"containers" no IDs`) {
		t.Fatalf("no subordinate IDs: %s", r)
	}
	for _, bad := range []string{"auto:size=0", "auto:size=x", "auto:uidmapping=0:1:1"} {
		create(125, "--userns", bad)
	}
	if after := e.Pea("ps", "-aq"); after != before {
		t.Fatalf("refused creations left containers: %q, before %q", after, before)
	}
}

// kube play of hostUsers: false gives the pod a user namespace with host IDs pea picks, and
// kube generate writes it back.
func TestKubeHostUsersFalse(t *testing.T) {
	e := newEnv(t).withBusybox().withUserNS()
	yaml := filepath.Join(e.Dir, "pod.yaml")
	body := "apiVersion: v1\nkind: Pod\nmetadata: {name: hu}\nspec:\n  hostUsers: false\n  containers:\n  - name: a\n    image: localhost/bb:latest\n    command: [sleep, \"300\"]\n"
	if err := os.WriteFile(yaml, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// The creation reads /etc/subuid (given to it alone); the start is an ordinary one.
	if r := e.withSubIDs("containers:700000:100000\n", "containers:800000:100000\n", "kube", "play", "--start=false", yaml); r.Code != 0 {
		t.Fatalf("kube play: %s", r)
	}
	e.Pea("pod", "start", "hu")
	if out := e.Pea("exec", "hu-a", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; touch /f && stat -c %u /f"); strings.Join(strings.Fields(out), " ") != "0 700000 65536 0 800000 65536 0" {
		t.Fatalf("a member of a hostUsers: false pod: %q", out)
	}
	if out := e.Pea("kube", "generate", "hu"); !strings.Contains(out, "hostUsers: false") {
		t.Fatalf("kube generate:\n%s", out)
	}
	e.Pea("pod", "rm", "-f", "-t", "0", "hu")
}

package tests

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RemoteEnv is a store served by `pea system service`, and a client pea that reaches it with
// --url (it names no store of its own), with its own connection file.
type RemoteEnv struct {
	*Env
	Sock string
	cfg  string // XDG_CONFIG_HOME of the client
}

func newRemoteEnv(t *testing.T) *RemoteEnv {
	t.Helper()
	e := newEnv(t).withBusybox()
	r := &RemoteEnv{Env: e, Sock: filepath.Join(e.Dir, "api.sock"), cfg: filepath.Join(e.Dir, "client-config")}
	startService(t, e, "system", "service", "--time", "0", "unix://"+r.Sock)
	eventually(t, 10*time.Second, func() error {
		c, err := net.Dial("unix", r.Sock)
		if err == nil {
			c.Close()
		}
		return err
	})
	return r
}

// client runs the client pea with args as given (no store flags), stdin and extra environment.
func (r *RemoteEnv) client(stdin string, env []string, args ...string) Result {
	cmd := exec.Command(peaBin, args...)
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+r.cfg, "CONTAINER_HOST=", "CONTAINER_CONNECTION=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	return runCmd(cmd)
}

// Remote runs `pea --url unix://SOCK args...`.
func (r *RemoteEnv) Remote(args ...string) Result {
	return r.client("", nil, append([]string{"--url", "unix://" + r.Sock}, args...)...)
}

func (r *RemoteEnv) MustRemote(args ...string) string {
	r.t.Helper()
	res := r.Remote(args...)
	if res.Code != 0 {
		r.t.Fatalf("pea --remote %s: %s", strings.Join(args, " "), res)
	}
	return strings.TrimSpace(res.Stdout)
}

// The command line runs on the service's store, with its output, errors and exit codes.
func TestRemoteCommandLine(t *testing.T) {
	r := newRemoteEnv(t)
	if out := r.MustRemote("run", "--rm", "--name", "rem-echo", "localhost/bb", "echo", "hello", "remote"); out != "hello remote" {
		t.Fatalf("run: %q", out)
	}
	if res := r.Remote("run", "--rm", "localhost/bb", "sh", "-c", "echo out; echo err >&2; exit 3"); res.Code != 3 || res.Stdout != "out\n" || res.Stderr != "err\n" {
		t.Fatalf("exit code and streams: %s", res)
	}
	r.MustRemote("run", "-d", "--name", "rem-web", "localhost/bb", "sleep", "1000")
	// The container is the service's: the store's own pea sees it.
	if out := r.Pea("ps", "--format", "{{.Names}}"); out != "rem-web" {
		t.Fatalf("service's store: %q", out)
	}
	if res := r.Remote("exec", "rem-web", "nosuchcommand"); res.Code != 127 {
		t.Fatalf("exec of a missing command: %s", res)
	}
	if res := r.Remote("inspect", "nosuchthing"); res.Code != 125 || !strings.Contains(res.Stderr, "no such object") {
		t.Fatalf("inspect: %s", res)
	}
	// A flag error is the service's pea's, as locally.
	if res := r.Remote("ps", "--nosuchflag"); res.Code != 125 || !strings.Contains(res.Stderr, "unknown flag: --nosuchflag") {
		t.Fatalf("unknown flag: %s", res)
	}
	// The client cannot name another store, nor run what only works on one machine.
	if res := r.Remote("ps", "--root", filepath.Join(r.Dir, "other")); res.Code != 125 || !strings.Contains(res.Stderr, "--root is not available with --remote") {
		t.Fatalf("--root: %s", res)
	}
	if res := r.Remote("unshare", "true"); res.Code != 125 || !strings.Contains(res.Stderr, "not available with --remote") {
		t.Fatalf("unshare: %s", res)
	}
	// Standard input goes to a command that reads it (-i), and is left alone otherwise: a
	// script's loop reading its own input keeps it.
	if res := r.client("data from client", nil, "--url", "unix://"+r.Sock, "run", "--rm", "-i", "localhost/bb", "cat"); res.Code != 0 || res.Stdout != "data from client" {
		t.Fatalf("run -i: %s", res)
	}
	sh := exec.Command("sh", "-c", `"$0" --url "unix://$1" ps -q >/dev/null; cat`, peaBin, r.Sock)
	sh.Stdin = strings.NewReader("kept")
	if out, err := sh.Output(); err != nil || string(out) != "kept" {
		t.Fatalf("ps swallowed the caller's stdin: %q %v", out, err)
	}
	// `-e NAME` takes the client's value; --env-file is the client's file.
	envFile := filepath.Join(r.Dir, "client.env")
	os.WriteFile(envFile, []byte("FROMFILE=file-value\n"), 0o644)
	res := r.client("", []string{"REMOTE_TEST_VAR=client-value"}, "--url", "unix://"+r.Sock,
		"run", "--rm", "--env-file", envFile, "-e", "REMOTE_TEST_VAR", "localhost/bb", "sh", "-c", "echo $FROMFILE $REMOTE_TEST_VAR")
	if res.Code != 0 || res.Stdout != "file-value client-value\n" {
		t.Fatalf("env: %s", res)
	}
	// version: the client's and the service's.
	if out := r.MustRemote("version"); !strings.Contains(out, "Client:") || !strings.Contains(out, "Server:") {
		t.Fatalf("version: %q", out)
	}
	// Nothing of the calls stays in the service's run root.
	if ents, _ := os.ReadDir(filepath.Join(r.RunRoot, "remote")); len(ents) != 0 {
		t.Fatalf("left in the service's run root: %v", ents)
	}
}

// The files a command line names are the client's: sent for build, load, kube play, cp...;
// received for save -o, export -o, --cidfile, cp to the client.
func TestRemoteFiles(t *testing.T) {
	r := newRemoteEnv(t)
	ctx := filepath.Join(r.Dir, "client-ctx")
	os.MkdirAll(ctx, 0o755)
	os.WriteFile(filepath.Join(ctx, "Containerfile"), []byte("FROM localhost/bb\nCOPY note.txt /note.txt\n"), 0o644)
	os.WriteFile(filepath.Join(ctx, "note.txt"), []byte("from the client\n"), 0o644)
	// build of the current directory (no context argument) and of a named one.
	build := exec.Command(peaBin, "--url", "unix://"+r.Sock, "build", "-q", "-t", "rem-built")
	build.Dir = ctx
	build.Env = append(os.Environ(), "XDG_CONFIG_HOME="+r.cfg)
	if res := runCmd(build); res.Code != 0 {
		t.Fatalf("build .: %s", res)
	}
	if out := r.MustRemote("run", "--rm", "rem-built", "cat", "/note.txt"); out != "from the client" {
		t.Fatalf("built image: %q", out)
	}
	r.MustRemote("build", "-q", "-t", "rem-built2", "-f", filepath.Join(ctx, "Containerfile"), ctx)
	r.MustRemote("build", "-q", "-t", "rem-built3", "-f", filepath.Join(ctx, "Containerfile")) // no context: -f's directory
	if out := r.MustRemote("run", "--rm", "rem-built3", "cat", "/note.txt"); out != "from the client" {
		t.Fatalf("built with -f alone: %q", out)
	}
	id := r.MustRemote("images", "-q", "--no-trunc", "rem-built")

	// save -o writes the client's file; load -i and load from stdin read it.
	archive := filepath.Join(r.Dir, "client-save.tar")
	r.MustRemote("save", "-o", archive, "rem-built")
	if fi, err := os.Stat(archive); err != nil || fi.Size() < 1024 {
		t.Fatalf("save -o: %v", err)
	}
	r.MustRemote("rmi", "rem-built", "rem-built2")
	if out := r.MustRemote("load", "-i", archive); !strings.Contains(out, "rem-built") {
		t.Fatalf("load -i: %q", out)
	}
	if out := r.MustRemote("images", "-q", "--no-trunc", "rem-built"); out != id {
		t.Fatalf("loaded image %q, saved %q", out, id)
	}
	data, _ := os.ReadFile(archive)
	if res := r.client(string(data), nil, "--url", "unix://"+r.Sock, "load"); res.Code != 0 {
		t.Fatalf("load from stdin: %s", res)
	}

	// cp: a client directory into the container; a file to a new client path; a file into an
	// existing client directory; a directory to a new client path.
	r.MustRemote("run", "-d", "--name", "rem-cp", "localhost/bb", "sleep", "1000")
	r.MustRemote("cp", ctx, "rem-cp:/tmp/")
	if out := r.MustRemote("exec", "rem-cp", "cat", "/tmp/client-ctx/note.txt"); out != "from the client" {
		t.Fatalf("cp to the container: %q", out)
	}
	got := filepath.Join(r.Dir, "got.txt")
	r.MustRemote("cp", "rem-cp:/tmp/client-ctx/note.txt", got)
	if b, _ := os.ReadFile(got); string(b) != "from the client\n" {
		t.Fatalf("cp to a client file: %q", b)
	}
	into := filepath.Join(r.Dir, "into")
	os.Mkdir(into, 0o755)
	r.MustRemote("cp", "rem-cp:/etc/hostname", into)
	if _, err := os.Stat(filepath.Join(into, "hostname")); err != nil {
		t.Fatalf("cp into a client directory: %v", err)
	}
	tree := filepath.Join(r.Dir, "tree")
	r.MustRemote("cp", "rem-cp:/tmp/client-ctx", tree)
	if b, _ := os.ReadFile(filepath.Join(tree, "note.txt")); string(b) != "from the client\n" {
		t.Fatalf("cp of a directory: %q", b)
	}

	// export -o; create --cidfile and rm --cidfile; pod create --pod-id-file.
	exp := filepath.Join(r.Dir, "export.tar")
	r.MustRemote("export", "-o", exp, "rem-cp")
	if out, err := exec.Command("tar", "tf", exp).Output(); err != nil || !bytes.Contains(out, []byte("bin/")) {
		t.Fatalf("export -o: %v", err)
	}
	cidfile := filepath.Join(r.Dir, "cid")
	cid := r.MustRemote("create", "--cidfile", cidfile, "localhost/bb", "true")
	if b, _ := os.ReadFile(cidfile); string(b) != cid {
		t.Fatalf("--cidfile %q, created %q", b, cid)
	}
	if res := r.Remote("create", "--cidfile", cidfile, "localhost/bb", "true"); res.Code != 125 || !strings.Contains(res.Stderr, "container id file exists") {
		t.Fatalf("an existing client --cidfile: %s", res)
	}
	r.MustRemote("rm", "--cidfile", cidfile)
	podFile := filepath.Join(r.Dir, "podid")
	podID := r.MustRemote("pod", "create", "--name", "rem-pod", "--pod-id-file", podFile)
	if b, _ := os.ReadFile(podFile); string(b) != podID {
		t.Fatalf("--pod-id-file %q, created %q", b, podID)
	}
	r.MustRemote("pod", "rm", "--pod-id-file", podFile)

	// kube play of a client file, and kube down.
	yaml := filepath.Join(r.Dir, "pod.yaml")
	os.WriteFile(yaml, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: rem-kube\nspec:\n  containers:\n  - name: main\n    image: localhost/bb\n    command: [sleep, \"1000\"]\n"), 0o644)
	r.MustRemote("kube", "play", yaml)
	if out := r.Pea("pod", "ps", "--format", "{{.Name}} {{.Status}}"); out != "rem-kube Running" {
		t.Fatalf("kube play: %q", out)
	}
	r.MustRemote("kube", "down", yaml)
	// generate systemd --files writes the units in the client's directory.
	units := filepath.Join(r.Dir, "units")
	os.Mkdir(units, 0o755)
	gen := exec.Command(peaBin, "--url", "unix://"+r.Sock, "generate", "systemd", "--files", "--name", "rem-cp")
	gen.Dir = units
	if res := runCmd(gen); res.Code != 0 || !strings.Contains(res.Stdout, filepath.Join(units, "container-rem-cp.service")) {
		t.Fatalf("generate systemd --files: %s", res)
	}
	if b, err := os.ReadFile(filepath.Join(units, "container-rem-cp.service")); err != nil || !bytes.Contains(b, []byte("ExecStart=")) {
		t.Fatalf("unit file: %v", err)
	}
	// A missing client file is the client's error; nothing reached the service.
	if res := r.Remote("load", "-i", filepath.Join(r.Dir, "missing.tar")); res.Code != 125 || !strings.Contains(res.Stderr, "missing.tar") {
		t.Fatalf("missing input: %s", res)
	}
}

// A terminal: run -it gets a pseudo-terminal of the client's size on the service; a signal
// to the client reaches the command; the client's connections.
func TestRemoteTerminalSignalsConnections(t *testing.T) {
	r := newRemoteEnv(t)
	script := "stty cols 91 rows 33; XDG_CONFIG_HOME=" + r.cfg + " " + peaBin + " --url unix://" + r.Sock +
		" run -it --rm localhost/bb sh -c 'tty; stty size; exit 4'; echo rc=$?"
	out, err := exec.Command("script", "-qec", script, "/dev/null").Output()
	if err != nil || !strings.Contains(string(out), "/dev/pts/0") || !strings.Contains(string(out), "33 91") || !strings.Contains(string(out), "rc=4") {
		t.Fatalf("run -it: %q %v", out, err)
	}

	// SIGINT to the client ends the service's `logs -f`.
	r.MustRemote("run", "-d", "--name", "rem-logs", "localhost/bb", "sh", "-c", "echo line; sleep 1000")
	cmd := exec.Command(peaBin, "--url", "unix://"+r.Sock, "logs", "-f", "rem-logs")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+r.cfg)
	var logs syncBuffer
	cmd.Stdout = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(logs.String(), "line") {
			return os.ErrNotExist
		}
		return nil
	})
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the client did not end after SIGINT")
	}
	eventually(t, 10*time.Second, func() error {
		if out, _ := exec.Command("pgrep", "-f", r.Root+".* logs -f").Output(); len(out) > 0 {
			return os.ErrExist
		}
		return nil
	})

	// Connections: the first added is the default; -c NAME; rename; default; rm.
	if res := r.client("", nil, "system", "connection", "add", "svc", "unix://"+r.Sock); res.Code != 0 {
		t.Fatal(res)
	}
	if res := r.client("", nil, "system", "connection", "add", "--identity", "/k", "bad", "unix:///x.sock"); res.Code != 125 || !strings.Contains(res.Stderr, "--identity option not supported for unix scheme") {
		t.Fatalf("identity on unix: %s", res)
	}
	if res := r.client("", nil, "system", "connection", "add", "other", "tcp://127.0.0.1:1"); res.Code != 0 {
		t.Fatal(res)
	}
	ls := strings.Split(strings.TrimSpace(r.client("", nil, "system", "connection", "ls").Stdout), "\n")
	if len(ls) != 3 || strings.Join(strings.Fields(ls[0]), " ") != "Name URI Identity Default" ||
		strings.Join(strings.Fields(ls[1]), " ") != "other tcp://127.0.0.1:1 false" || strings.Join(strings.Fields(ls[2]), " ") != "svc unix://"+r.Sock+" true" {
		t.Fatalf("connection ls: %q", ls)
	}
	if q := r.client("", nil, "system", "connection", "ls", "-q"); q.Code != 0 || q.Stdout != "other\nsvc\n" {
		t.Fatalf("connection ls -q: %s", q)
	}
	if res := r.client("", nil, "-r", "ps", "-a", "--format", "{{.Names}}"); res.Code != 0 || !strings.Contains(res.Stdout, "rem-logs") {
		t.Fatalf("-r with the default connection: %s", res)
	}
	if res := r.client("", nil, "-c", "other", "ps"); res.Code != 125 || !strings.Contains(res.Stderr, "Cannot connect to the pea service") {
		t.Fatalf("-c other: %s", res)
	}
	if res := r.client("", nil, "-c", "nope", "ps"); res.Code != 125 || !strings.Contains(res.Stderr, `"nope" service destination not found`) {
		t.Fatalf("-c nope: %s", res)
	}
	r.client("", nil, "system", "connection", "rename", "svc", "main")
	if res := r.client("", []string{"CONTAINER_CONNECTION=main"}, "ps", "-q"); res.Code != 0 {
		t.Fatalf("CONTAINER_CONNECTION: %s", res)
	}
	if res := r.client("", nil, "system", "connection", "default", "nope"); res.Code != 125 {
		t.Fatalf("default nope: %s", res)
	}
	r.client("", nil, "system", "connection", "rm", "main")
	if out := r.client("", nil, "system", "connection", "ls", "--format", "{{.Name}}={{.Default}}").Stdout; out != "other=false\n" {
		t.Fatalf("after rm: %q", out)
	}

	// ssh: `pea system dial-stdio` at the far end of the ssh client. A stand-in for ssh runs
	// the remote command here, so everything but ssh itself is the real path.
	bin := filepath.Join(r.Dir, "bin")
	os.Mkdir(bin, 0o755)
	os.Symlink(peaBin, filepath.Join(bin, "pea"))
	fake := filepath.Join(r.Dir, "fake-ssh")
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" > \"$0.args\"\nwhile [ \"$1\" != -- ]; do shift; done\nshift 2\nPATH="+bin+":$PATH exec \"$@\"\n"), 0o755)
	res := r.client("", []string{"PEA_SSH=" + fake}, "--url", "ssh://core@example.test:2222"+r.Sock, "--identity", "/keys/id", "ps", "-a", "--format", "{{.Names}}")
	if res.Code != 0 || !strings.Contains(res.Stdout, "rem-logs") {
		t.Fatalf("ssh: %s", res)
	}
	if b, _ := os.ReadFile(fake + ".args"); string(b) != "-o BatchMode=yes -i /keys/id -p 2222 -- core@example.test pea system dial-stdio unix://"+r.Sock+"\n" {
		t.Fatalf("ssh arguments: %q", b)
	}
}

// image scp to and from another machine's service: a connection's name, or USER@HOST (ssh).
func TestRemoteImageScp(t *testing.T) {
	r := newRemoteEnv(t)
	local := newEnv(t)
	cfg := []string{"XDG_CONFIG_HOME=" + r.cfg}
	if res := r.client("", nil, "system", "connection", "add", "far", "unix://"+r.Sock); res.Code != 0 {
		t.Fatal(res)
	}
	// From the service's store to the local one.
	r.Pea("tag", "localhost/bb:latest", "localhost/only-far:1")
	if res := local.runEnv(nil, cfg, "image", "scp", "far::localhost/only-far:1", "localhost::"); res.Code != 0 || !strings.Contains(res.Stdout, "localhost/only-far:1") {
		t.Fatalf("scp from the service: %s", res)
	}
	id := local.Pea("images", "-q", "--no-trunc", "localhost/only-far:1")
	if far := r.Pea("images", "-q", "--no-trunc", "localhost/only-far:1"); id != far {
		t.Fatalf("copied %q, service has %q", id, far)
	}
	// From the local store to the service's.
	local.Pea("tag", "localhost/only-far:1", "localhost/from-here:2")
	if res := local.runEnv(nil, cfg, "image", "scp", "localhost/from-here:2", "far::"); res.Code != 0 {
		t.Fatalf("scp to the service: %s", res)
	}
	if out := r.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(out, "localhost/from-here:2") {
		t.Fatalf("service's images: %q", out)
	}
	if res := local.runEnv(nil, cfg, "image", "scp", "localhost/from-here:2", "nosuchconn::"); res.Code != 125 || !strings.Contains(res.Stderr, "neither localhost nor a connection") {
		t.Fatalf("unknown connection: %s", res)
	}
}

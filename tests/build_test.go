package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeContext makes a build context: files by relative path.
func writeContext(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// pea build: ARG (with --build-arg), ENV, WORKDIR, COPY (a file, a directory's contents,
// --chown), RUN in a real container (its output shown, its changes a layer), LABEL, EXPOSE,
// CMD; the image runs as built, and nothing intermediate is left.
func TestBuild(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"top.txt":   "top\n",
		"sub/a.txt": "in-sub\n",
		"Containerfile": `# a comment
ARG BASE=localhost/bb
FROM $BASE
ARG GREETING=hi
ENV APP=/app \
    MODE=test
WORKDIR /app
COPY top.txt ./
COPY sub /app/data/
COPY --chown=1000:50 sub/a.txt /owned.txt
RUN echo "run-output $GREETING"; echo "$GREETING from $(pwd)" > run.txt
LABEL org.example.built=yes
EXPOSE 8080
CMD ["cat", "/app/run.txt"]
`,
	})
	r := e.run(nil, "build", "-t", "localhost/built:1", "--build-arg", "GREETING=howdy", "--network", "none", ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	id := lines[len(lines)-1]
	if !strings.Contains(r.Stdout, "STEP 1/11: FROM $BASE\n") || !strings.Contains(r.Stdout, "\nrun-output howdy\n") ||
		!strings.Contains(r.Stdout, "COMMIT localhost/built:1\n") || len(id) != 64 {
		t.Fatalf("build output: %q", r.Stdout)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "localhost/built:1"); out != "howdy from /app" {
		t.Fatalf("the image's CMD: %q", out)
	}
	out := e.Pea("run", "--rm", "--network", "none", "localhost/built:1", "sh", "-c",
		"cat /app/top.txt /app/data/a.txt; stat -c '%u:%g %a' /owned.txt; echo $APP $MODE $GREETING; pwd")
	if out != "top\nin-sub\n1000:50 644\n/app test\n/app" {
		t.Fatalf("the built image's files and env: %q", out)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.ID}} {{.Config.Labels}} {{.Config.ExposedPorts}} {{.Config.WorkingDir}}", "localhost/built:1"); got != id+" map[org.example.built:yes] map[8080/tcp:{}] /app" {
		t.Fatalf("image config: %q", got)
	}
	// The base image and the built one; the intermediate images (the cache) only with -a; RUN's
	// containers are gone.
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); got != "localhost/built:1\nlocalhost/bb:latest" {
		t.Fatalf("images after the build: %q", got)
	}
	if got := e.Pea("images", "-a", "-q"); len(strings.Fields(got)) != 6 {
		t.Fatalf("images -a after the build (4 intermediate): %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the build: %q", got)
	}
	// podman's top-level history: the build's steps, newest first.
	if got := e.Pea("history", "--no-trunc", "--format", "{{.CreatedBy}}", "localhost/built:1"); !strings.HasPrefix(got, "/bin/sh -c #(nop) config\n/bin/sh -c echo \"run-output") ||
		!strings.Contains(got, "/bin/sh -c #(nop) COPY top.txt ./") {
		t.Fatalf("history: %q", got)
	}
	// The same build again: every step from the cache, RUN not run, the same image.
	r = e.run(nil, "build", "-t", "localhost/again:1", "--build-arg", "GREETING=howdy", "--network", "none", ctx)
	if r.Code != 0 || strings.Count(r.Stdout, "--> Using cache ") != 5 || strings.Contains(r.Stdout, "\nrun-output") || !strings.HasSuffix(r.Stdout, id+"\n") {
		t.Fatalf("a second build of the same: %v", r)
	}
	// Another file in the context: its COPY and every step after run again.
	os.WriteFile(filepath.Join(ctx, "sub", "a.txt"), []byte("changed\n"), 0o644)
	r = e.run(nil, "build", "-q", "--build-arg", "GREETING=howdy", "--network", "none", ctx)
	changed := strings.TrimSpace(r.Stdout)
	if r.Code != 0 || changed == id || len(changed) != 64 {
		t.Fatalf("a build after a change: %v", r)
	}
	if out := e.Pea("run", "--rm", "--network", "none", changed, "cat", "/app/data/a.txt"); out != "changed" {
		t.Fatalf("the changed file: %q", out)
	}
	// Another build arg: the RUN runs again; --no-cache runs everything.
	if r = e.run(nil, "build", "--build-arg", "GREETING=bye", "--network", "none", ctx); !strings.Contains(r.Stdout, "run-output bye") {
		t.Fatalf("a build with another arg: %v", r)
	}
	if r = e.run(nil, "build", "--no-cache", "-q", "--build-arg", "GREETING=howdy", "--network", "none", ctx); r.Code != 0 || len(strings.TrimSpace(r.Stdout)) != 64 || strings.TrimSpace(r.Stdout) == id {
		t.Fatalf("build --no-cache -q: %v", r)
	}
	if r = e.run(nil, "build", "--layers=false", "--build-arg", "GREETING=howdy", "--network", "none", ctx); r.Code != 0 || strings.Contains(r.Stdout, "Using cache") {
		t.Fatalf("build --layers=false: %v", r)
	}
	// image prune takes the cache away, not the images with names.
	e.Pea("image", "prune", "-f")
	if got := e.Pea("images", "-a", "--format", "{{.Repository}}:{{.Tag}}"); got != "localhost/built:1\nlocalhost/again:1\nlocalhost/bb:latest" && got != "localhost/again:1\nlocalhost/built:1\nlocalhost/bb:latest" {
		t.Fatalf("images after prune: %q", got)
	}
}

// FROM scratch with COPY makes an image of the context alone: a static busybox runs in it.
func TestBuildFromScratch(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := filepath.Join(e.Dir, "ctx")
	os.MkdirAll(ctx, 0o755)
	b, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ctx, "busybox"), b, 0o755)
	os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\nCOPY busybox /bin/busybox\nCMD [\"/bin/busybox\", \"echo\", \"from-scratch\"]\n"), 0o644)
	e.Pea("build", "-q", "-t", "scratchy", ctx)
	if out := e.Pea("run", "--rm", "--network", "none", "scratchy"); out != "from-scratch" {
		t.Fatalf("run of a scratch image: %q", out)
	}
	if out := e.Pea("image", "inspect", "--format", "{{len .RootFS.Layers}}", "scratchy"); out != "1" {
		t.Fatalf("layers: %q", out)
	}
}

// A RUN that fails fails the build with its exit code and the step named; bad Containerfiles
// fail with 125 and one clear line; none leaves an image or a container behind.
func TestBuildFailures(t *testing.T) {
	e := newEnv(t).withBusybox()
	dir := filepath.Join(e.Dir, "ctx")
	cases := []struct {
		file string
		code int
		msg  string
	}{
		{"FROM localhost/bb\nRUN echo partial > /x; exit 3\n", 3, `building at STEP "RUN echo partial > /x; exit 3": the command exited with 3`},
		{"RUN true\n", 125, "no FROM instruction"},
		{"FROM localhost/bb\nFROBNICATE x\n", 125, "unknown instruction FROBNICATE"},
		{"FROM localhost/bb\nCOPY nosuch /x\n", 125, "COPY nosuch: no such file in the build context"},
		{"FROM localhost/bb\nADD http://127.0.0.1:1/x /x\n", 125, "adds local files only"},
		{"FROM localhost/bb AS a\nFROM localhost/bb\nCOPY --from=nosuchstage /x /y\n", 125, "neither an earlier stage nor an image"},
		{"FROM localhost/bb AS a\nFROM localhost/bb\nCOPY --from=a /nosuch /y\n", 125, "COPY --from=a /nosuch"},
		{"FROM localhost/nosuch\n", 125, "nosuch"},
		{"FROM scratch\nRUN true\n", 125, "there is no shell"},
	}
	for _, c := range cases {
		writeContext(t, dir, map[string]string{"Containerfile": c.file})
		r := e.Fails(c.code, "build", "-t", "never", "--network", "none", "--pull=never", dir)
		if !strings.Contains(r.Stderr, c.msg) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("%q: stderr %q, want one line with %q", c.file, r.Stderr, c.msg)
		}
	}
	if got := e.Pea("images", "-a", "--format", "{{.Repository}}"); got != "localhost/bb" {
		t.Fatalf("images after failed builds: %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after failed builds: %q", got)
	}
	e.Fails(125, "build", filepath.Join(e.Dir, "nosuchdir"))
}

// Multi-stage: a builder stage makes files with RUN; the final stage, FROM scratch, copies them
// and busybox out of it by name (and a stage may start FROM an earlier one); only the last
// stage's image is kept.
func TestBuildMultiStage(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `ARG WHO=world
FROM localhost/bb AS builder
ARG WHO
RUN mkdir -p /out/etc && echo "hello $WHO" > /out/greeting && echo 'root:x:0:0::/:/bin/sh' > /out/etc/passwd
FROM builder AS second
RUN echo second > /out/second
FROM scratch
COPY --from=builder /bin/busybox /bin/busybox
COPY --from=builder /out /
COPY --from=1 /out/second /second
CMD ["/bin/busybox", "cat", "/greeting", "/second"]
`})
	e.Pea("build", "-q", "-t", "multi", "--network", "none", "--build-arg", "WHO=stages", ctx)
	if out := e.Pea("run", "--rm", "--network", "none", "multi"); out != "hello stages\nsecond" {
		t.Fatalf("run of the multi-stage image: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "multi", "/bin/busybox", "sh", "-c", "/bin/busybox ls /etc; /bin/busybox test -e /out || echo no-out"); !strings.Contains(out, "passwd") || !strings.Contains(out, "no-out") {
		t.Fatalf("the copied tree: %q", out)
	}
	// The last stage's image, and (as podman lists it) the image of the stage no other was
	// built on (second); the builder stage's is an intermediate one.
	if got := e.Pea("images", "--format", "{{.Repository}}"); got != "localhost/multi\n<none>\nlocalhost/bb" {
		t.Fatalf("images after the build: %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the build: %q", got)
	}
}

// COPY leaves out what the context's .dockerignore names (with ! bringing some back).
func TestBuildIgnoreFile(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		".dockerignore": "*.log\n!keep.log\nsecret\ndata/skip*\n",
		"a.log":         "x", "keep.log": "k", "app.txt": "app",
		"secret/key": "private",
		"data/skip1": "s", "data/take": "t",
		"Containerfile": "FROM localhost/bb\nCOPY . /ctx/\nCMD [\"find\", \"/ctx\", \"-type\", \"f\"]\n",
	})
	e.Pea("build", "-q", "-t", "ign", ctx)
	got := strings.Fields(e.Pea("run", "--rm", "--network", "none", "ign"))
	want := "/ctx/.dockerignore /ctx/Containerfile /ctx/app.txt /ctx/data/take /ctx/keep.log"
	slices.Sort(got)
	if strings.Join(got, " ") != want {
		t.Fatalf("files copied: %v, want %s", got, want)
	}
	// A source the ignore file leaves out is not found.
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM localhost/bb\nCOPY secret/key /key\n"})
	r := e.Fails(125, "build", ctx)
	if !strings.Contains(r.Stderr, "ignore file leaves it out") {
		t.Fatalf("COPY of an ignored file: %v", r)
	}
}

// A failed build keeps the steps that worked as the cache: the next build takes them from it.
func TestBuildCacheAfterFailure(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"f.txt":         "content\n",
		"Containerfile": "FROM localhost/bb\nCOPY f.txt /f.txt\nRUN false\n",
	})
	e.Fails(1, "build", "--network", "none", ctx)
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM localhost/bb\nCOPY f.txt /f.txt\nRUN true\n"})
	r := e.run(nil, "build", "--network", "none", ctx)
	if r.Code != 0 || !strings.Contains(r.Stdout, "STEP 2/3: COPY f.txt /f.txt\n--> Using cache ") {
		t.Fatalf("the build after the failed one: %v", r)
	}
}

// buildID is the image ID a build printed last.
func buildID(t *testing.T, out string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	id := lines[len(lines)-1]
	if len(id) != 64 {
		t.Fatalf("no image ID at the end of the build's output: %q", out)
	}
	return id
}

// --target stops at a stage (a later stage's RUN never runs); --label, --env, --iidfile,
// --timestamp, --logfile, --from, --ignorefile, --format, --rm and --force-rm.
func TestBuildFlags(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"keep.txt": "k", "skip.txt": "s",
		"ignore-these": "skip.txt\n",
		"Containerfile": `FROM localhost/nosuch AS base
RUN echo "base-ran env=$E1"; echo "$E1" > /e1
FROM base AS middle
COPY *.txt /files/
RUN echo middle-ran > /middle
FROM base AS last
RUN echo last-ran > /last
`,
	})
	iid := filepath.Join(e.Dir, "iid")
	r := e.run(nil, "build", "--target", "middle", "--from", "localhost/bb", "--label", "a=1", "--label", "b=two words",
		"--env", "E1=from-env", "--iidfile", iid, "--timestamp", "86400", "--ignorefile", filepath.Join(ctx, "ignore-these"),
		"--format", "docker", "--rm", "--force-rm", "-t", "tgt", "--network", "none", ctx)
	if r.Code != 0 {
		t.Fatalf("build --target: %v", r)
	}
	if !strings.Contains(r.Stdout, "base-ran env=from-env") || !strings.Contains(r.Stdout, "STEP 5/5: RUN echo middle-ran") ||
		strings.Contains(r.Stdout, "last-ran") || strings.Contains(r.Stdout, "STEP 6") {
		t.Fatalf("build --target output: %q", r.Stdout)
	}
	b, _ := os.ReadFile(iid)
	id := strings.TrimPrefix(string(b), "sha256:")
	if len(id) != 64 || !strings.HasPrefix(string(b), "sha256:") || strings.Contains(r.Stdout, id) {
		t.Fatalf("--iidfile: %q, stdout %q", b, r.Stdout)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "tgt", "sh", "-c", "ls /files; cat /middle /e1; echo $E1; test -e /last || echo no-last"); got != "keep.txt\nmiddle-ran\nfrom-env\nfrom-env\nno-last" {
		t.Fatalf("the target stage's image: %q", got)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.ID}} {{.Config.Labels}} {{.Created}}", "tgt"); got != id+" map[a:1 b:two words] 1970-01-02 00:00:00 +0000 UTC" {
		t.Fatalf("the image's labels and time: %q", got)
	}
	if got := e.Pea("history", "--format", "{{.CreatedAt}}", "tgt"); !strings.HasPrefix(got, "1970-01-02T00:00:00") {
		t.Fatalf("history times with --timestamp: %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the build: %q", got)
	}
	// --logfile: the steps, RUN's output and the ID go to the file.
	logf := filepath.Join(e.Dir, "build.log")
	r = e.run(nil, "build", "--target", "base", "--from", "localhost/bb", "--logfile", logf, "--network", "none", ctx)
	lb, _ := os.ReadFile(logf)
	if r.Code != 0 || r.Stdout != "" || !strings.Contains(string(lb), "STEP 1/2: FROM localhost/nosuch AS base") || len(buildID(t, string(lb))) != 64 {
		t.Fatalf("build --logfile: %v, log %q", r, lb)
	}
	// Without --target, the last stage.
	r = e.run(nil, "build", "--from", "localhost/bb", "--network", "none", ctx)
	if r.Code != 0 || !strings.Contains(r.Stdout, "last-ran") {
		t.Fatalf("build without --target: %v", r)
	}
}

// The RUN containers' settings: --volume, --add-host, --dns*, --cap-drop, --security-opt,
// --ulimit, --memory, --shm-size and --secret (through RUN --mount=type=secret); none of what
// they mount ends in the image.
func TestBuildRunSettings(t *testing.T) {
	e := newEnv(t).withBusybox()
	host := writeContext(t, filepath.Join(e.Dir, "host"), map[string]string{"f": "from-the-host\n"})
	secret := filepath.Join(e.Dir, "token")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb
RUN cat /hostdir/f; grep myhost /etc/hosts; cat /etc/resolv.conf; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; ulimit -n; \
    cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes; df -k /dev/shm | tail -1
RUN --mount=type=secret,id=tok cp /run/secrets/tok /seen-secret
`})
	r := e.run(nil, "build", "-t", "settings", "--network", "none", "-v", host+":/hostdir:ro", "--add-host", "myhost:10.1.2.3",
		"--dns", "10.9.9.9", "--dns-search", "example.org", "--dns-option", "ndots:3", "--cap-drop", "all",
		"--security-opt", "no-new-privileges", "--ulimit", "nofile=123:123", "-m", "64m", "--shm-size", "2m",
		"--secret", "id=tok,src="+secret, ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	for _, want := range []string{"\nfrom-the-host\n", "10.1.2.3\tmyhost\n", "search example.org\n", "nameserver 10.9.9.9\n",
		"options ndots:3\n", "CapEff:\t0000000000000000\n", "NoNewPrivs:\t1\n", "\n123\n", "\n67108864\n", " 2048 "} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("RUN's output lacks %q: %q", want, r.Stdout)
		}
	}
	// The secret was there for RUN; neither it nor the mount points are in the image.
	if got := e.Pea("run", "--rm", "--network", "none", "settings", "sh", "-c", "cat /seen-secret; test -e /hostdir || echo no-hostdir; test -e /run/secrets || echo no-secrets"); got != "s3cret\nno-hostdir\nno-secrets" {
		t.Fatalf("the image after RUN's mounts: %q", got)
	}
	e.Fails(125, "build", "--secret", "id=x,src="+filepath.Join(e.Dir, "nosuch"), ctx)
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the builds: %q", got)
	}
}

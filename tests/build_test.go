package tests

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
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
	// podman's lines: the FROM expanded, each step's image, the tags after the commit.
	if !strings.Contains(r.Stdout, "STEP 1/11: FROM localhost/bb\n") || !strings.Contains(r.Stdout, "\nrun-output howdy\n--> ") ||
		!strings.Contains(r.Stdout, "STEP 10/11: EXPOSE 8080\n--> ") ||
		!strings.Contains(r.Stdout, "\nCOMMIT localhost/built:1\n--> "+id[:11]+"\nSuccessfully tagged localhost/built:1\n") || len(id) != 64 {
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
	if got := e.Pea("images", "-a", "-q"); len(strings.Fields(got)) != 11 {
		t.Fatalf("images -a after the build (an image per step, as podman's): %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the build: %q", got)
	}
	// podman's history: an entry per step, newest first, RUN's with the stage's ARGs.
	if got := e.Pea("history", "--no-trunc", "--format", "{{.CreatedBy}}", "localhost/built:1"); !strings.HasPrefix(got, "/bin/sh -c #(nop) CMD [\"cat\", \"/app/run.txt\"]\n/bin/sh -c #(nop) EXPOSE 8080\n/bin/sh -c #(nop) LABEL org.example.built=yes\n|1 GREETING=howdy /bin/sh -c echo \"run-output") ||
		!strings.Contains(got, "/bin/sh -c #(nop) COPY top.txt ./") || !strings.Contains(got, "/bin/sh -c #(nop) ARG GREETING\n") {
		t.Fatalf("history: %q", got)
	}
	// The same build again: every step from the cache, RUN not run, the same image.
	r = e.run(nil, "build", "-t", "localhost/again:1", "--build-arg", "GREETING=howdy", "--network", "none", ctx)
	if r.Code != 0 || strings.Count(r.Stdout, "--> Using cache ") != 10 || strings.Contains(r.Stdout, "\nrun-output") || !strings.HasSuffix(r.Stdout, id+"\n") {
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
	// image prune removes the images without a name that nothing was made on (the builds above
	// without -t, with their own steps), not the steps of an image with a name: its cache, as
	// Docker's and podman's prune keep it.
	e.Pea("image", "prune", "-f")
	if got := e.Pea("images", "--format", "{{.Repository}}:{{.Tag}}"); got != "localhost/built:1\nlocalhost/again:1\nlocalhost/bb:latest" && got != "localhost/again:1\nlocalhost/built:1\nlocalhost/bb:latest" {
		t.Fatalf("images after prune: %q", got)
	}
	if got := uniqueFields(e.Pea("images", "-a", "-q", "--no-trunc")); len(got) != 11 {
		t.Fatalf("images -a after prune (bb and the built image's 10 steps, one image each as podman's, the last the image itself): %q", got)
	}
	// rmi of its last name removes the image and the steps it was made on (Docker's and
	// podman's rmi), which would be left as <none> images.
	e.Pea("rmi", "localhost/again:1")
	if out := e.Pea("rmi", "localhost/built:1"); strings.Count(out, "Deleted: ") != 10 { // the image and its 9 steps
		t.Fatalf("rmi of the built image: %q", out)
	}
	if got := uniqueFields(e.Pea("images", "-a", "-q", "--no-trunc")); len(got) != 1 {
		t.Fatalf("images -a after rmi (bb alone): %q", got)
	}
}

// uniqueFields is the distinct words of out.
func uniqueFields(out string) []string {
	var u []string
	for _, f := range strings.Fields(out) {
		if !slices.Contains(u, f) {
			u = append(u, f)
		}
	}
	return u
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
		{"FROM localhost/bb\nADD http://127.0.0.1:1/x /x\n", 125, "connection refused"},
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
	if !strings.Contains(r.Stdout, "base-ran env=from-env") || !strings.Contains(r.Stdout, "[2/2] STEP 3/5: RUN echo middle-ran") || !strings.Contains(r.Stdout, "[2/2] STEP 5/5: LABEL \"b\"=\"two words\"") ||
		strings.Contains(r.Stdout, "last-ran") || !strings.Contains(r.Stdout, "\n[2/2] COMMIT tgt\n--> ") ||
		!strings.Contains(r.Stdout, "\nSuccessfully tagged localhost/tgt:latest\n") {
		t.Fatalf("build --target output: %q", r.Stdout)
	}
	b, _ := os.ReadFile(iid)
	id := strings.TrimPrefix(string(b), "sha256:")
	if len(id) != 64 || !strings.HasPrefix(string(b), "sha256:") || !strings.HasSuffix(r.Stdout, "\n"+id+"\n") {
		t.Fatalf("--iidfile: %q, stdout %q", b, r.Stdout)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "tgt", "sh", "-c", "ls /files; cat /middle /e1; echo $E1; test -e /last || echo no-last"); got != "keep.txt\nmiddle-ran\nfrom-env\nfrom-env\nno-last" {
		t.Fatalf("the target stage's image: %q", got)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.ID}} {{.Config.Labels}} {{.Created}}", "tgt"); got != id+" map[a:1 b:two words] 1970-01-02 00:00:00 +0000 UTC" {
		t.Fatalf("the image's labels and time: %q", got)
	}
	if got := e.Pea("history", "--format", "{{.CreatedAt}}", "tgt"); !strings.HasPrefix(got, "1970-01-02 00:00:00 +0000 UTC") {
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
// --ulimit, --memory, --shm-size, --cap-add and --secret (through RUN --mount=type=secret); none of what
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
		"--dns", "10.9.9.9", "--dns-search", "example.org", "--dns-option", "ndots:3", "--cap-drop", "all", "--cap-add", "NET_RAW",
		"--security-opt", "no-new-privileges", "--ulimit", "nofile=123:123", "-m", "64m", "--shm-size", "2m",
		"--secret", "id=tok,src="+secret, ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	for _, want := range []string{"\nfrom-the-host\n", "10.1.2.3\tmyhost\n", "search example.org\n", "nameserver 10.9.9.9\n",
		"options ndots:3\n", "CapEff:\t0000000000002000\n", "NoNewPrivs:\t1\n", "\n123\n", "\n67108864\n", " 2048 "} {
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

// writeTar writes a tar of files (name → content; a name ending in / is a directory) at p,
// compressed by compress (nil: plain).
func writeTar(t *testing.T, p string, files map[string]string, compress func(io.Writer) io.WriteCloser) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		h := &tar.Header{Name: name, Mode: 0o640, Size: int64(len(files[name])), Typeflag: tar.TypeReg, Uid: 1234, Gid: 99}
		if strings.HasSuffix(name, "/") {
			h.Typeflag, h.Mode, h.Size = tar.TypeDir, 0o755, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(files[name]))
	}
	tw.Close()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if compress == nil {
		f.Write(buf.Bytes())
		return
	}
	w := compress(f)
	w.Write(buf.Bytes())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// SHELL changes what shell-form RUN, CMD and ENTRYPOINT run; HEALTHCHECK lands in the image,
// and pea run and healthcheck run use it; here-documents in RUN and COPY; ADD unpacks local
// tars (plain, gzip, bzip2, xz) into the destination, COPY does not.
func TestBuildInstructions(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb
ARG WHO=docs
SHELL ["/bin/sh", "-c", "echo via-custom-shell; eval \"$1\"", "shell-name"]
RUN echo "shell-form: $0"
RUN ["echo", "exec-form"]
ENV GREETING=hi
RUN <<EOF
echo "heredoc-run $GREETING"
echo made-by-heredoc > /heredoc-file
EOF
RUN cat <<-END > /fed
	fed-by-heredoc
	END
COPY <<EOF /etc/note
note for $WHO
EOF
COPY <<'EOF' /etc/raw
raw $WHO
EOF
ADD plain.tar /plain/
ADD gz.tgz /gz
ADD bz.tar.bz2 /bz
ADD xz.bin /xz
COPY --link plain.tar /copied/
HEALTHCHECK --interval=1h --timeout=7s --retries=4 CMD test -e /heredoc-file
CMD echo cmd-ran
`})
	files := map[string]string{"dir/": "", "dir/a.txt": "in-archive\n", "top.txt": "top\n"}
	writeTar(t, filepath.Join(ctx, "plain.tar"), files, nil)
	writeTar(t, filepath.Join(ctx, "gz.tgz"), files, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) })
	for _, c := range []struct{ prog, name string }{{"bzip2", "bz.tar.bz2"}, {"xz", "xz.bin"}} {
		writeTar(t, filepath.Join(ctx, c.name+".tmp"), files, nil)
		if out, err := exec.Command(c.prog, "-c", filepath.Join(ctx, c.name+".tmp")).Output(); err != nil {
			t.Fatalf("%s: %v", c.prog, err)
		} else {
			os.WriteFile(filepath.Join(ctx, c.name), out, 0o644)
			os.Remove(filepath.Join(ctx, c.name+".tmp"))
		}
	}
	r := e.run(nil, "build", "-t", "instr", "--network", "none", ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	for _, want := range []string{"via-custom-shell\nshell-form: shell-name\n", "\nexec-form\n", "heredoc-run hi\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("build output lacks %q: %q", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "via-custom-shell\nexec-form") {
		t.Errorf("the exec form ran through the shell: %q", r.Stdout)
	}
	out := e.Pea("run", "--rm", "--network", "none", "--entrypoint", "", "instr", "sh", "-c",
		"cat /heredoc-file /fed /etc/note /etc/raw; for d in plain gz bz xz; do cat /$d/dir/a.txt /$d/top.txt; stat -c %u:%g:%a /$d/top.txt; done; ls /copied")
	want := "made-by-heredoc\nfed-by-heredoc\nnote for docs\nraw $WHO\n" + strings.Repeat("in-archive\ntop\n1234:99:640\n", 4) + "plain.tar"
	if out != want {
		t.Fatalf("the image's files:\n%s\nwant:\n%s", out, want)
	}
	// CMD's shell form ran by the SHELL.
	if out := e.Pea("run", "--rm", "--network", "none", "instr"); out != "via-custom-shell\ncmd-ran" {
		t.Fatalf("the shell-form CMD: %q", out)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.HealthCheck.Test}} {{.HealthCheck.Interval}} {{.HealthCheck.Timeout}} {{.HealthCheck.Retries}} {{.Config.Cmd}}", "instr"); got != `[CMD-SHELL test -e /heredoc-file] 1h0m0s 7s 4 [/bin/sh -c echo via-custom-shell; eval "$1" shell-name echo cmd-ran]` {
		t.Fatalf("image inspect: %q", got)
	}
	e.Pea("run", "-d", "--name", "hc", "--network", "none", "instr", "sleep", "300")
	defer e.Try("rm", "-f", "-t", "0", "hc")
	if got := e.Pea("inspect", "--format", "{{.Config.Healthcheck.Test}}", "hc"); got != "[CMD-SHELL test -e /heredoc-file]" {
		t.Fatalf("the container's healthcheck: %q", got)
	}
	e.Pea("healthcheck", "run", "hc")
	if got := e.Pea("inspect", "--format", "{{.State.Health.Status}}", "hc"); got != "healthy" {
		t.Fatalf("health after a check: %q", got)
	}
	e.Pea("exec", "hc", "rm", "/heredoc-file")
	e.Fails(1, "healthcheck", "run", "hc")
	// ENTRYPOINT's shell form through the inherited SHELL; it drops the base image's CMD, not
	// one the same stage set before it.
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM instr\nENTRYPOINT echo ep\n"})
	e.Pea("build", "-q", "-t", "ep1", ctx)
	if got := e.Pea("image", "inspect", "--format", "{{.Config.Entrypoint}} {{len .Config.Cmd}}", "ep1"); got != `[/bin/sh -c echo via-custom-shell; eval "$1" shell-name echo ep] 0` {
		t.Fatalf("ENTRYPOINT after a base image's CMD: %q", got)
	}
	// The platform's ARGs, declared (an undeclared one is not in RUN's environment); FROM
	// --platform of this machine's.
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM --platform=$BUILDPLATFORM localhost/bb\nARG TARGETARCH\nARG TARGETOS\nRUN echo \"arch=$TARGETARCH os=$TARGETOS undeclared=$BUILDARCH.\"\n"})
	if r := e.run(nil, "build", "--network", "none", ctx); r.Code != 0 || !strings.Contains(r.Stdout, "\narch="+runtime.GOARCH+" os=linux undeclared=.\n") {
		t.Fatalf("the platform's ARGs: %v", r)
	}
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM --platform=linux/s390x localhost/bb\n"})
	if r := e.Fails(125, "build", ctx); !strings.Contains(r.Stderr, "FROM --platform=linux/s390x: pea builds for linux/"+runtime.GOARCH+" only") {
		t.Fatalf("FROM of another platform: %v", r)
	}
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM localhost/bb\nCMD [\"a\"]\nENTRYPOINT [\"echo\"]\n"})
	e.Pea("build", "-q", "-t", "ep2", ctx)
	if out := e.Pea("run", "--rm", "--network", "none", "ep2"); out != "a" {
		t.Fatalf("ENTRYPOINT after the stage's CMD: %q", out)
	}
	// HEALTHCHECK NONE in a later image turns it off.
	writeContext(t, ctx, map[string]string{"Containerfile": "FROM instr\nHEALTHCHECK NONE\n"})
	e.Pea("build", "-q", "-t", "nohc", ctx)
	if got := e.Pea("image", "inspect", "--format", "{{.HealthCheck.Test}}", "nohc"); got != "[NONE]" {
		t.Fatalf("HEALTHCHECK NONE: %q", got)
	}
	e.Pea("create", "--name", "nohc-ctr", "nohc")
	if got := e.Pea("inspect", "--format", "{{.Config.Healthcheck}}", "nohc-ctr"); got != "<nil>" {
		t.Fatalf("a container of a HEALTHCHECK NONE image: %q", got)
	}
}

// ONBUILD is stored in the image; a build FROM it runs the triggers first, and its own image
// does not carry them on.
func TestBuildOnBuild(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"Containerfile": "FROM localhost/bb\nONBUILD COPY app.txt /app/\nONBUILD RUN echo trigger-ran > /trig\n",
		"app.txt":       "parent-context\n",
	})
	r := e.run(nil, "build", "-t", "parent", "--network", "none", ctx)
	if r.Code != 0 || strings.Contains(r.Stdout, "\ntrigger-ran") {
		t.Fatalf("build of the parent: %v", r)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "parent", "sh", "-c", "test -e /trig || test -e /app || echo none"); got != "none" {
		t.Fatalf("the triggers ran in the parent: %q", got)
	}
	child := writeContext(t, filepath.Join(e.Dir, "child"), map[string]string{
		"Containerfile": "FROM parent\nRUN cat /trig /app/app.txt\n",
		"app.txt":       "child-context\n",
	})
	r = e.run(nil, "build", "-t", "child", "--network", "none", child)
	if r.Code != 0 || !strings.Contains(r.Stdout, "trigger-ran\nchild-context\n") {
		t.Fatalf("build of the child: %v", r)
	}
	// The grandchild runs no trigger: the child's image has none.
	writeContext(t, child, map[string]string{"Containerfile": "FROM child\nRUN echo grandchild\n"})
	if r = e.run(nil, "build", "--network", "none", child); r.Code != 0 || strings.Contains(r.Stdout, "ONBUILD") {
		t.Fatalf("build of the grandchild: %v", r)
	}
}

// RUN --mount: a cache directory kept across builds but not in the image; binds of the context
// (read-only) and of an earlier stage; a tmpfs; a secret.
func TestBuildRunMounts(t *testing.T) {
	e := newEnv(t).withBusybox()
	secret := filepath.Join(e.Dir, "pw")
	os.WriteFile(secret, []byte("hunter2"), 0o600)
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"src/input.txt": "bound-input\n",
		"Containerfile": `FROM localhost/bb AS tools
RUN mkdir -p /opt/tool && echo tool-file > /opt/tool/t
FROM localhost/bb
ARG N=1
RUN --mount=type=cache,target=/var/cache/app echo "run $N" >> /var/cache/app/log && echo "cache-lines $(wc -l < /var/cache/app/log)"
RUN --mount=type=bind,source=src,target=/in cat /in/input.txt > /from-bind; touch /in/x 2>/dev/null || echo read-only-bind
RUN --mount=type=bind,from=tools,source=/opt/tool,target=/t cat /t/t > /from-stage
RUN --mount=type=tmpfs,target=/scratch echo x > /scratch/y && grep -q ' /scratch tmpfs' /proc/mounts && echo tmpfs-mounted
RUN --mount=type=secret,id=pw,required cat /run/secrets/pw > /got-secret
RUN --network=host ls /sys/class/net | grep -qv '^lo$' && echo host-network
RUN ls /sys/class/net | grep -qv '^lo$' || echo no-network
`,
	})
	r := e.run(nil, "build", "-t", "mnt", "--network", "none", "--secret", "id=pw,src="+secret, ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	for _, want := range []string{"cache-lines 1\n", "read-only-bind\n", "tmpfs-mounted\n", "\nhost-network\n", "\nno-network\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("build output lacks %q: %q", want, r.Stdout)
		}
	}
	out := e.Pea("run", "--rm", "--network", "none", "mnt", "sh", "-c",
		"cat /from-bind /from-stage /got-secret; echo; for p in /var/cache/app /in /t /scratch /run/secrets; do test -e $p && echo $p is-there; done; true")
	if out != "bound-input\ntool-file\nhunter2" {
		t.Fatalf("the image after RUN --mount: %q", out)
	}
	// The next build (the cached RUN runs again for another ARG) finds the cache's content.
	r = e.run(nil, "build", "--build-arg", "N=2", "--network", "none", "--secret", "id=pw,src="+secret, ctx)
	if r.Code != 0 || !strings.Contains(r.Stdout, "cache-lines 2\n") {
		t.Fatalf("the second build: %v", r)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the builds: %q", got)
	}
}

// --squash-all makes one layer of the whole file system, and the image still runs.
func TestBuildSquashAll(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo one > /one\nRUN echo two > /two && rm /one\nCMD [\"cat\", \"/two\"]\n"})
	e.Pea("build", "-q", "--squash-all", "-t", "flat", "--network", "none", ctx)
	if got := e.Pea("image", "inspect", "--format", "{{len .RootFS.Layers}} {{len .History}}", "flat"); got != "1 1" {
		t.Fatalf("layers and history of a squashed image: %q", got)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "flat"); out != "two" {
		t.Fatalf("run of the squashed image: %q", out)
	}
	if out := e.Pea("run", "--rm", "--network", "none", "flat", "sh", "-c", "test -e /one || echo gone"); out != "gone" {
		t.Fatalf("a file removed before the squash: %q", out)
	}
}

// Bad input to the new flags and instructions: one line, 125, nothing left behind.
func TestBuildBadInput(t *testing.T) {
	e := newEnv(t).withBusybox()
	dir := filepath.Join(e.Dir, "ctx")
	cases := []struct {
		file string
		args []string
		msg  string
	}{
		{"FROM localhost/bb AS a\nRUN true\n", []string{"--target", "nosuch"}, `target stage "nosuch" not found`},
		{"FROM localhost/bb\n", []string{"--label", "=v"}, `invalid --label "=v"`},
		{"FROM localhost/bb\n", []string{"--format", "v1"}, `invalid --format "v1"`},
		{"FROM localhost/bb\n", []string{"--squash", "--squash-all"}, "--squash and --squash-all cannot be combined"},
		{"FROM localhost/bb\n", []string{"--secret", "nope"}, `--secret "nope": want id=ID,src=PATH`},
		{"FROM localhost/bb\n", []string{"--ulimit", "bogus=1"}, "bogus"},
		{"FROM localhost/bb\nHEALTHCHECK --interval=soon CMD true\n", nil, "--interval needs a duration"},
		{"FROM localhost/bb\nHEALTHCHECK echo hi\n", nil, "use HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE"},
		{"FROM localhost/bb\nHEALTHCHECK CMD\n", nil, "CMD needs a command"},
		{"FROM localhost/bb\nSHELL /bin/bash -c\n", nil, "SHELL /bin/bash -c: needs a JSON array"},
		{"FROM localhost/bb\nRUN --mount=type=nfs,target=/x true\n", nil, "type is bind, cache, tmpfs or secret"},
		{"FROM localhost/bb\nRUN --mount=type=secret,id=none,required true\n", nil, `no secret "none" was given to the build`},
		{"FROM localhost/bb\nRUN --mount=type=bind,source=src,target=/x,rw true\n", nil, "read-write bind of the context is not supported"},
		{"FROM localhost/bb\nRUN <<EOF\necho never ended\n", nil, "has no terminating EOF line"},
		{"FROM localhost/bb\nRUN --mount=type=bind,source=out,target=/x true\n", nil, "out: leads out of the build context"},
		{"FROM localhost/bb\nONBUILD FROM x\n", nil, "FROM is not allowed as a trigger"},
		{"FROM localhost/bb\n", []string{"--output", "type=registry,dest=x"}, `invalid --output "type=registry,dest=x"`},
		{"FROM localhost/bb\n", []string{"--output", "type=tar"}, "dest=PATH is needed"},
		{"FROM localhost/bb\n", []string{"--output", "-"}, "--output to stdout (dest=-) is not supported"},
		{"FROM localhost/bb\n", []string{"--output", "type=local,dest=/etc/passwd"}, "not a directory"},
		{"FROM localhost/bb\n", []string{"--output", "type=tar,dest=/nosuch-dir/fs.tar"}, "no directory /nosuch-dir to write it in"},
		{"FROM localhost/bb\n", []string{"--manifest", "localhost/bb"}, "image is not a manifest list"},
		{"FROM localhost/bb\n", []string{"--isolation", "rootless"}, "--isolation rootless"},
		{"FROM localhost/bb\n", []string{"--unsetenv", "A=B"}, `invalid --unsetenv "A=B"`},
		{"FROM localhost/bb\n", []string{"--build-context", "nodir"}, `invalid --build-context "nodir"`},
		{"FROM localhost/bb\n", []string{"--build-context", "x=/nosuch-dir"}, "--build-context x=/nosuch-dir: not a directory"},
		{"FROM localhost/bb\n", []string{"--retry-delay", "soon"}, `invalid --retry-delay "soon"`},
		{"FROM localhost/bb\n", []string{"--cgroupns", "shared"}, `invalid --cgroupns "shared"`},
		{"FROM localhost/bb\n", []string{"--userns", "bogus"}, `invalid --userns "bogus"`},
		{"FROM localhost/bb\n", []string{"--pid", "bogus"}, "bogus"},
	}
	for _, c := range cases {
		writeContext(t, dir, map[string]string{"Containerfile": c.file, "src/f": "x"})
		os.Symlink("/etc", filepath.Join(dir, "out"))
		r := e.Fails(125, append(append([]string{"build", "-t", "never", "--network", "none"}, c.args...), dir)...)
		if !strings.Contains(r.Stderr, c.msg) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("%q %v: stderr %q, want one line with %q", c.file, c.args, r.Stderr, c.msg)
		}
	}
	if got := e.Pea("images", "--format", "{{.Repository}}"); got != "localhost/bb" {
		t.Fatalf("images after failed builds: %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after failed builds: %q", got)
	}
}

// --squash merges the layers the last stage added into one, on top of its FROM image's layers:
// what later steps removed (files of the base, files of earlier steps, a directory made again)
// stays removed, hard links keep their content.
func TestBuildSquash(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN mkdir /d /d2 && echo keep > /d/keep && echo old > /d/old && echo f > /d2/f\nRUN echo other > /other\n"})
	e.Pea("build", "-q", "-t", "sqbase", "--network", "none", ctx)
	writeContext(t, ctx, map[string]string{"Containerfile": `FROM sqbase
RUN echo a > /new1 && rm /d/old /etc/group && rm -r /d2
RUN rm /new1 && echo b > /new2 && rm -rf /d && mkdir /d && echo fresh > /d/only
RUN ln /new2 /hard && mkdir -p /x/y && echo deep > /x/y/z && mkdir /d2 && echo n > /d2/n
LABEL squashed=yes
`})
	e.Pea("build", "-q", "--squash", "-t", "sq", "--network", "none", ctx)
	base := e.Pea("image", "inspect", "--format", "{{len .RootFS.Layers}} {{len .History}}", "sqbase")
	if got := e.Pea("image", "inspect", "--format", "{{len .RootFS.Layers}} {{len .History}} {{.Config.Labels}}", "sq"); base != "3 3" || got != "4 4 map[squashed:yes]" {
		t.Fatalf("layers and history: base %q, squashed %q", base, got)
	}
	out := e.Pea("run", "--rm", "--network", "none", "sq", "sh", "-c",
		"ls /d /d2; cat /new2 /hard /x/y/z /other; for f in /new1 /d/old /d/keep /etc/group; do test -e $f && echo $f-is-there; done; true")
	if out != "/d:\nonly\n\n/d2:\nn\nb\nb\ndeep\nother" {
		t.Fatalf("the squashed image's files: %q", out)
	}
}

// --timestamp makes builds reproducible: the images' and history's times and the layers' file
// times are the one given, so two builds without the cache make the same image.
func TestBuildTimestampReproducible(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"f.txt":         "content\n",
		"Containerfile": "FROM localhost/bb\nCOPY f.txt /app/\nRUN echo made > /app/made && mkdir -p /var/x\nLABEL k=v\n",
	})
	var ids []string
	for range 2 {
		ids = append(ids, e.Pea("build", "-q", "--no-cache", "--timestamp", "1000", "--network", "none", ctx))
		os.Chtimes(filepath.Join(ctx, "f.txt"), time.Now(), time.Now()) // the context's own times do not count
	}
	if ids[0] != ids[1] || len(ids[0]) != 64 {
		t.Fatalf("two builds with --timestamp: %q", ids)
	}
	if got := e.Pea("run", "--rm", "--network", "none", ids[0], "stat", "-c", "%Y", "/app/f.txt", "/app/made", "/var/x"); got != "1000\n1000\n1000" {
		t.Fatalf("file times in the image: %q", got)
	}
	if id := e.Pea("build", "-q", "--no-cache", "--network", "none", ctx); id == ids[0] {
		t.Fatalf("a build without --timestamp made the same image")
	}
}

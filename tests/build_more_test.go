package tests

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// --manifest adds each image built to the list (made by the first build, found by the
// second); --output writes the image's file system out as a directory (-o DIR and
// type=local) or a tar (type=tar), and the image is stored as well, as podman's.
func TestBuildManifestAndOutput(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb
ARG V=one
RUN echo "v=$V" > /v
`})
	dir := filepath.Join(e.Dir, "out")
	id1 := buildID(t, e.Pea("build", "--network", "none", "--manifest", "localhost/mylist", "-o", dir, "-t", "first", ctx))
	if b, err := os.ReadFile(filepath.Join(dir, "v")); err != nil || string(b) != "v=one\n" {
		t.Fatalf("-o DIR: /v is %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bin", "busybox")); err != nil {
		t.Fatalf("-o DIR: the base image's files are not there: %v", err)
	}
	tarFile := filepath.Join(e.Dir, "fs.tar")
	id2 := buildID(t, e.Pea("build", "--network", "none", "--build-arg", "V=two", "--manifest", "localhost/mylist",
		"--output", "type=tar,dest="+tarFile, ctx))
	if got := tarFileContent(t, tarFile, "v"); got != "v=two\n" {
		t.Fatalf("type=tar: /v is %q", got)
	}
	list := e.Pea("manifest", "inspect", "localhost/mylist")
	for _, id := range []string{id1, id2} {
		digest := e.Pea("image", "inspect", "--format", "{{.Digest}}", id)
		if !strings.Contains(list, `"digest": "`+digest+`"`) {
			t.Errorf("the list lacks image %.12s (%s): %s", id, digest, list)
		}
	}
	if strings.Count(list, `"digest"`) != 2 || !strings.Contains(list, `"architecture": "`+runtime.GOARCH+`"`) {
		t.Fatalf("the list after two builds: %s", list)
	}
	// type=local into a directory, and the image it comes from kept in the store.
	dir2 := filepath.Join(e.Dir, "out2")
	id3 := buildID(t, e.Pea("build", "--network", "none", "--build-arg", "V=three", "-o", "type=local,dest="+dir2, ctx))
	if b, _ := os.ReadFile(filepath.Join(dir2, "v")); string(b) != "v=three\n" {
		t.Fatalf("type=local: /v is %q", b)
	}
	if got := e.Pea("run", "--rm", "--network", "none", id3, "cat", "/v"); got != "v=three" {
		t.Fatalf("the image of the -o build: %q", got)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the builds: %q", got)
	}
}

// tarFileContent is the content of name in the tar file p ("" if it has none).
func tarFileContent(t *testing.T, p, name string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return ""
		}
		if strings.TrimPrefix(strings.TrimPrefix(h.Name, "./"), "/") == name {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}

// --platform, --os, --arch and --variant: this machine's platform builds; any other is refused
// (RUN would need emulation), with one error line and nothing left.
func TestBuildPlatform(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo arch=$(uname -m)\n"})
	host := "linux/" + runtime.GOARCH
	e.Pea("build", "-q", "--network", "none", "--platform", host, ctx)
	e.Pea("build", "-q", "--network", "none", "--os", "linux", "--arch", runtime.GOARCH, ctx)
	other := "s390x"
	if runtime.GOARCH == other {
		other = "amd64"
	}
	for _, args := range [][]string{{"--platform", "linux/" + other}, {"--arch", other}, {"--os", "windows"},
		{"--platform", host + "/v9"}, {"--platform", host + ",linux/" + other}, {"--platform", host, "--variant", "v7"}} {
		r := e.Fails(125, append(append([]string{"build", "-t", "never", "--network", "none"}, args...), ctx)...)
		if !strings.Contains(r.Stderr, "this machine's") || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("%v: stderr %q", args, r.Stderr)
		}
	}
	if got := e.Pea("images", "-a", "--format", "{{.Repository}}"); strings.Contains(got, "never") {
		t.Fatalf("images after refused builds: %q", got)
	}
}

// RUN's container settings: --pid, --ipc, --uts, --cgroupns host share the host's namespaces;
// --userns-uid-map/--userns-gid-map give RUN a user namespace (its files are still root's in the
// image); --device, --cgroup-parent; --stdin feeds RUN; --http-proxy gives RUN the host's proxy
// variables (not kept in the image; none with =false); --unsetenv drops a variable from the image.
func TestBuildRunNamespaces(t *testing.T) {
	e := newEnv(t).withBusybox()
	os.Chmod(e.Dir, 0o711) // RUN's user namespace must reach the store below it
	parent := "pea-build-test-" + filepath.Base(e.Dir)
	t.Cleanup(func() { removeCgroupDirs(parent) })
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb
ENV KEEP=1 DROP=2
RUN for n in pid ipc uts cgroup; do echo "$n=$(readlink /proc/self/ns/$n)"; done; \
    echo "uidmap=$(cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"; \
    ls -l /dev/myzero | cut -c1; grep -c "/` + parent + `/" /proc/self/cgroup | sed 's/^/incg=/'; \
    echo "proxy=$http_proxy"; cat > /from-stdin; touch /made
`})
	r := e.runEnv([]byte("fed-in\n"), []string{"http_proxy=http://proxy.invalid:3128"}, "build", "-t", "ns", "--network", "none",
		"--pid", "host", "--ipc", "host", "--uts", "host", "--cgroupns", "host",
		"--userns-uid-map", "0:200000:65536", "--userns-gid-map", "0:200000:65536",
		"--device", "/dev/zero:/dev/myzero", "--cgroup-parent", parent, "--stdin", "--unsetenv", "DROP", ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	for _, n := range []string{"pid", "ipc", "uts", "cgroup"} {
		host, _ := os.Readlink("/proc/self/ns/" + n)
		if !strings.Contains(r.Stdout, "\n"+n+"="+host+"\n") {
			t.Errorf("RUN's %s namespace is not the host's %s: %q", n, host, r.Stdout)
		}
	}
	for _, want := range []string{"\nuidmap=0 200000 65536\n", "\nc\n", "\nincg=", "\nproxy=http://proxy.invalid:3128\n"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("RUN's output lacks %q: %q", want, r.Stdout)
		}
	}
	if strings.Contains(r.Stdout, "incg=0") {
		t.Errorf("RUN was not under --cgroup-parent: %q", r.Stdout)
	}
	got := e.Pea("run", "--rm", "--network", "none", "ns", "sh", "-c", "cat /from-stdin; stat -c %u:%g /made; env | grep -E '^(KEEP|DROP|http_proxy)=' | sort")
	if got != "fed-in\n0:0\nKEEP=1" {
		t.Fatalf("the image: %q", got)
	}
	// --http-proxy=false: RUN sees no proxy.
	ctx2 := writeContext(t, filepath.Join(e.Dir, "ctx2"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo \"proxy=[$http_proxy]\"\n"})
	r = e.runEnv(nil, []string{"http_proxy=http://proxy.invalid:3128"}, "build", "--no-cache", "--network", "none", "--http-proxy=false", ctx2)
	if r.Code != 0 || !strings.Contains(r.Stdout, "\nproxy=[]\n") {
		t.Fatalf("build --http-proxy=false: %v", r)
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the builds: %q", got)
	}
}

// removeCgroupDirs removes the cgroup directories named name (and the empty ones below) in
// every hierarchy.
func removeCgroupDirs(name string) {
	dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + name)
	dirs = append(dirs, "/sys/fs/cgroup/"+name)
	for _, d := range dirs {
		var sub []string
		filepath.WalkDir(d, func(p string, de os.DirEntry, err error) error {
			if err == nil && de.IsDir() {
				sub = append(sub, p)
			}
			return nil
		})
		for i := len(sub) - 1; i >= 0; i-- {
			os.Remove(sub[i])
		}
	}
}

// Stages the image built does not need are not built (--skip-unused-stages, the default), yet
// keep their numbers; =false builds them. --build-context names a directory for COPY --from
// and RUN --mount=from=; --omit-history leaves the image without history; podman's flags
// without effect here are accepted.
func TestBuildStagesAndContexts(t *testing.T) {
	e := newEnv(t).withBusybox()
	named := writeContext(t, filepath.Join(e.Dir, "named"), map[string]string{"sub/n.txt": "named-file\n"})
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": `FROM localhost/bb AS unused
RUN echo UNUSED-RAN
FROM localhost/bb AS dep
RUN echo DEP-RAN; echo dep > /dep
FROM localhost/bb AS viamount
RUN echo MOUNT-RAN; echo mounted > /m
FROM localhost/bb
COPY --from=1 /dep /dep
COPY --from=extra sub/n.txt /n.txt
RUN --mount=type=bind,from=viamount,source=/m,target=/mnt/m --mount=type=bind,from=extra,target=/ctx \
    cat /mnt/m /ctx/sub/n.txt > /both
`})
	r := e.run(nil, "build", "-t", "staged", "--network", "none", "--build-context", "extra="+named, "--omit-history",
		"--jobs", "2", "--retry", "1", "--retry-delay", "1s", "--isolation", "chroot", "--compress", "-D",
		"--cert-dir", e.Dir, "--disable-content-trust", "--identity-label=false", "--logsplit", ctx)
	if r.Code != 0 {
		t.Fatalf("build: %v", r)
	}
	if strings.Contains(r.Stdout, "UNUSED-RAN") || !strings.Contains(r.Stdout, "DEP-RAN") || !strings.Contains(r.Stdout, "MOUNT-RAN") ||
		!strings.Contains(r.Stdout, "[2/4] STEP 1/2: FROM localhost/bb AS dep") {
		t.Fatalf("the stages built: %q", r.Stdout)
	}
	if got := e.Pea("run", "--rm", "--network", "none", "staged", "cat", "/dep", "/n.txt", "/both"); got != "dep\nnamed-file\nmounted\nnamed-file" {
		t.Fatalf("the image: %q", got)
	}
	if got := e.Pea("image", "inspect", "--format", "{{len .History}}", "staged"); got != "0" {
		t.Fatalf("--omit-history: %s history entries", got)
	}
	r = e.run(nil, "build", "--network", "none", "--skip-unused-stages=false", "--build-context", "extra="+named, ctx)
	if r.Code != 0 || !strings.Contains(r.Stdout, "UNUSED-RAN") || !strings.Contains(r.Stdout, "[1/4] STEP 1/2: FROM localhost/bb AS unused") {
		t.Fatalf("build --skip-unused-stages=false: %v", r)
	}
	// A named context is read-only for RUN, and no path of it may lead out of it.
	os.Symlink("/etc", filepath.Join(named, "out"))
	for file, msg := range map[string]string{
		"FROM localhost/bb\nRUN --mount=type=bind,from=extra,target=/x,rw true\n": "read-write bind of the build context extra",
		"FROM localhost/bb\nCOPY --from=extra out/passwd /p\n":                    "leads out of the build context extra",
		"FROM localhost/bb\nCOPY --from=extra nosuch /p\n":                        "no such path in the build context extra",
	} {
		writeContext(t, ctx, map[string]string{"Containerfile": file})
		r := e.Fails(125, "build", "-t", "never", "--network", "none", "--build-context", "extra="+named, ctx)
		if !strings.Contains(r.Stderr, msg) || strings.Count(strings.TrimSpace(r.Stderr), "\n") != 0 {
			t.Errorf("%q: stderr %q, want one line with %q", file, r.Stderr, msg)
		}
	}
	if got := e.Pea("ps", "-a", "-q"); got != "" {
		t.Fatalf("containers after the builds: %q", got)
	}
}

// --group-add gives RUN's process supplementary groups (by number; a name must be in the
// image's /etc/group), as podman 5's build does; the image keeps no trace of them.
func TestBuildGroupAdd(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{"Containerfile": "FROM localhost/bb\nRUN id -G > /groups\n"})
	e.Pea("build", "-q", "--network", "none", "--group-add", "50", "--group-add", "1234", "-t", "grp", ctx)
	if got := e.Pea("run", "--rm", "--network", "none", "grp", "sh", "-c", "cat /groups; id -G"); got != "0 50 1234\n0" {
		t.Fatalf("RUN's groups, then the container's: %q", got)
	}
	if r := e.Try("build", "--no-cache", "--network", "none", "--group-add", "nosuchgroup", ctx); r.Code == 0 || !strings.Contains(r.Stderr, "nosuchgroup") {
		t.Fatalf("an unknown group: %s", r)
	}
}

// -f without a CONTEXT builds in the Containerfile's directory, as podman's (not in the
// current one): a .build Quadlet with File= alone relies on it.
func TestBuildFileWithoutContext(t *testing.T) {
	e := newEnv(t).withBusybox()
	ctx := writeContext(t, filepath.Join(e.Dir, "ctx"), map[string]string{
		"sub/Build.file": "FROM localhost/bb\nCOPY data /data\n",
		"sub/data":       "from the file's directory\n",
	})
	e.Pea("build", "-q", "--network", "none", "-t", "nocontext", "-f", filepath.Join(ctx, "sub", "Build.file"))
	if got := e.Pea("run", "--rm", "--network", "none", "nocontext", "cat", "/data"); got != "from the file's directory" {
		t.Fatalf("/data: %q", got)
	}
}

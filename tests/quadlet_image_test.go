package tests

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pea/internal/image/registrytest"
)

// .image services pull from a registry on loopback (TLSVerify=false; AllTags=true every tag),
// and a .container naming NAME.image depends on that service and runs the image by its
// Image=, or by its ImageTag= when it has one (here the pulled image's digest).
func TestQuadletImage(t *testing.T) {
	e := newEnv(t).withBusybox()
	srv := httptest.NewServer(registrytest.New())
	defer srv.Close()
	reg := strings.TrimPrefix(srv.URL, "http://")
	var digest string // of the last image pushed
	push := func(ref, v string) string {
		ctx := writeContext(t, filepath.Join(e.Dir, "ctx-"+v), map[string]string{"Containerfile": "FROM localhost/bb\nRUN echo " + v + " > /v\n"})
		id := buildID(t, e.Pea("build", "--network", "none", "-t", ref, ctx))
		digestFile := filepath.Join(e.Dir, "digest")
		e.Pea("push", "-q", "--tls-verify=false", "--digestfile", digestFile, ref)
		b, err := os.ReadFile(digestFile)
		if err != nil {
			t.Fatal(err)
		}
		digest = strings.TrimSpace(string(b))
		e.Pea("rmi", ref)
		return id
	}
	one := push(reg+"/acc/qimg:1", "one")
	two := push(reg+"/acc/qimg:2", "two")
	twoDigest := digest
	allA, allB := push(reg+"/acc/qall:a", "a"), push(reg+"/acc/qall:b", "b")

	src := quadletFiles(t, map[string]string{
		"qimg.image":     "[Image]\nImage=" + reg + "/acc/qimg:1\nTLSVerify=false\n",
		"qnamed.image":   "[Image]\nImage=" + reg + "/acc/qimg:2\nImageTag=" + reg + "/acc/qimg@" + twoDigest + "\nTLSVerify=false\n",
		"qall.image":     "[Image]\nImage=" + reg + "/acc/qall\nAllTags=true\nTLSVerify=false\n",
		"qrun.container": "[Container]\nImage=qimg.image\nNetwork=none\nExec=cat /v\n[Service]\nType=oneshot\n",
		"qtag.container": "[Container]\nImage=qnamed.image\nNetwork=none\nExec=cat /v\n[Service]\nType=oneshot\n",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	for name, want := range map[string]string{
		"qimg-image.service":   peaBin + " image pull --tls-verify=false " + reg + "/acc/qimg:1",
		"qnamed-image.service": peaBin + " image pull --tls-verify=false " + reg + "/acc/qimg:2",
		"qall-image.service":   peaBin + " image pull --all-tags --tls-verify=false " + reg + "/acc/qall",
	} {
		if got := unitValues(units[name], "ExecStart"); len(got) != 1 || got[0] != want || unitValues(units[name], "Type")[0] != "oneshot" ||
			unitValues(units[name], "RemainAfterExit")[0] != "yes" {
			t.Errorf("%s:\n%s", name, units[name])
		}
	}
	for name, want := range map[string]string{"qrun.service": "qimg-image.service " + reg + "/acc/qimg:1",
		"qtag.service": "qnamed-image.service " + reg + "/acc/qimg@" + twoDigest} {
		u := units[name]
		got := strings.Join(unitValues(u, "Requires"), " ") + "|" + strings.Join(unitValues(u, "After"), " ")
		start := unitValues(u, "ExecStart")
		dep, image, _ := strings.Cut(want, " ")
		if got != dep+"|"+dep || len(start) != 1 || !strings.HasSuffix(start[0], " "+image+" cat /v") {
			t.Errorf("%s: Requires|After=%q, ExecStart=%q, want %s", name, got, start, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	rtDir := t.TempDir()
	run := func(name string) string {
		return (&unitRunner{t: t, e: e, name: name, text: units[name], rtDir: rtDir}).exec("ExecStart")
	}
	for i := 0; i < 2; i++ { // started again, it pulls again: the same image
		if out := strings.TrimSpace(run("qimg-image.service")); out != one {
			t.Fatalf("qimg-image.service printed %q, want %s", out, one)
		}
	}
	if out := strings.TrimSpace(run("qnamed-image.service")); out != two {
		t.Fatalf("qnamed-image.service printed %q, want %s", out, two)
	}
	if out := strings.TrimSpace(run("qall-image.service")); out != allA+"\n"+allB {
		t.Fatalf("qall-image.service printed %q, want %s and %s", out, allA, allB)
	}
	e.Pea("image", "exists", reg+"/acc/qall:a")
	e.Pea("image", "exists", reg+"/acc/qall:b")
	if out := strings.TrimSpace(run("qrun.service")); out != "one" {
		t.Fatalf("qrun.service ran %q", out)
	}
	if out := strings.TrimSpace(run("qtag.service")); out != "two" {
		t.Fatalf("qtag.service (by ImageTag=) ran %q", out)
	}
}

// A .build service builds from a context directory with the [Build] keys (build args,
// labels, environment, supplementary groups for RUN, the .volume's volume mounted for RUN, no
// network), started again it is a quick cached rebuild of the same image, and a .container
// naming NAME.build runs its first ImageTag= after it; File= alone builds in the
// Containerfile's directory.
func TestQuadletBuild(t *testing.T) {
	e := newEnv(t).withBusybox()
	src := quadletFiles(t, map[string]string{
		"Containerfile": `FROM localhost/bb
ARG GREETING=unset
RUN echo "$GREETING" > /greeting && id -G > /groups && test -d /cache && echo by-build > /cache/out
COPY msg /msg
`,
		"msg": "copied from the context\n",
		"qb.build": `[Build]
ImageTag=localhost/qbuilt:1
ImageTag=localhost/qbuilt:latest
SetWorkingDirectory=unit
File=Containerfile
BuildArg=GREETING=hi
Label=built=quadlet
Environment=MODE=prod
GroupAdd=50
Network=none
Pull=never
Volume=qbv.volume:/cache
`,
		"qbv.volume":     "[Volume]\n",
		"sub/Dockerfile": "FROM localhost/bb\nCOPY data /data\n",
		"sub/data":       "beside the file\n",
		"qf.build":       "[Build]\nImageTag=localhost/qfile\nFile=sub/Dockerfile\nNetwork=none\n",
		"qapp.container": "[Container]\nImage=qb.build\nNetwork=none\nExec=sh -c \"cat /greeting /msg /groups; echo $$MODE\"\n[Service]\nType=oneshot\n",
		"qf.container":   "[Container]\nImage=qf.build\nNetwork=none\nExec=cat /data\n[Service]\nType=oneshot\n",
	})
	r := runQuadlet(src, "-dryrun")
	if r.Code != 0 {
		t.Fatalf("quadlet: %s", r)
	}
	units := dryrunUnits(t, r.Stdout)
	b := units["qb-build.service"]
	want := peaBin + " build --tag localhost/qbuilt:1 --tag localhost/qbuilt:latest --build-arg GREETING=hi --env MODE=prod --group-add 50 " +
		"--label built=quadlet --network none --pull=never --volume systemd-qbv:/cache --file " + filepath.Join(src, "Containerfile") + " " + src
	if got := unitValues(b, "ExecStart"); len(got) != 1 || got[0] != want {
		t.Fatalf("qb-build.service ExecStart=%q\nwant %q", got, want)
	}
	if unitValues(b, "WorkingDirectory")[0] != src || unitValues(b, "Requires")[0] != "qbv-volume.service" || unitValues(b, "Type")[0] != "oneshot" {
		t.Fatalf("qb-build.service:\n%s", b)
	}
	if got := unitValues(units["qf-build.service"], "ExecStart"); len(got) != 1 || !strings.HasSuffix(got[0], " --file "+filepath.Join(src, "sub/Dockerfile")) {
		t.Fatalf("qf-build.service ExecStart=%q", got)
	}
	app := units["qapp.service"]
	if got := strings.Join(unitValues(app, "Requires"), " "); got != "qb-build.service" || !strings.Contains(unitValues(app, "ExecStart")[0], " localhost/qbuilt:1 sh -c ") {
		t.Fatalf("qapp.service:\n%s", app)
	}

	rtDir := t.TempDir()
	run := func(name string) string {
		return (&unitRunner{t: t, e: e, name: name, text: units[name], rtDir: rtDir}).exec("ExecStart")
	}
	run("qbv-volume.service")
	id := buildID(t, run("qb-build.service"))
	if again := run("qb-build.service"); buildID(t, again) != id || !strings.Contains(again, "Using cache") {
		t.Fatalf("a second start built %s, not the cached %s:\n%s", buildID(t, again), id, again)
	}
	if got := e.Pea("image", "inspect", "--format", "{{.ID}} {{.Labels.built}} {{.RepoTags}}", "localhost/qbuilt:latest"); got != id+" quadlet [localhost/qbuilt:1 localhost/qbuilt:latest]" {
		t.Fatalf("the image built: %q", got)
	}
	mp := e.Pea("volume", "inspect", "--format", "{{.Mountpoint}}", "systemd-qbv")
	if out, err := os.ReadFile(filepath.Join(mp, "out")); err != nil || string(out) != "by-build\n" {
		t.Fatalf("the volume after RUN wrote to it: %q %v", out, err)
	}
	if out := strings.TrimSpace(run("qapp.service")); out != "hi\ncopied from the context\n0 50\nprod" {
		t.Fatalf("qapp.service ran %q", out)
	}
	run("qf-build.service")
	if out := strings.TrimSpace(run("qf.service")); out != "beside the file" {
		t.Fatalf("qf.service ran %q", out)
	}
}

package tests

import (
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pea/internal/image/registrytest"
)

// docker pull --all-tags asks POST /images/create?fromImage=REPO without a tag: every tag of the
// repository is pulled, each under its tag, then one status for the repository. The service
// took it for REPO:latest, which the registry does not have.
func TestAPIDockerPullAllTags(t *testing.T) {
	a := newAPIEnv(t)
	srv := httptest.NewServer(registrytest.New())
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	repo := host + "/acc/bb"
	ctx := writeContext(t, filepath.Join(a.Dir, "ctx"), map[string]string{"Dockerfile": "FROM localhost/bb\nRUN echo two > /two\n"})
	a.MustDocker("build", "-q", "--network", "none", "-t", repo+":2", ctx)
	a.MustDocker("tag", "localhost/bb", repo+":1")
	a.MustDocker("push", "--all-tags", repo)
	ids := map[string]string{}
	for _, tag := range []string{"1", "2"} {
		ids[tag] = a.MustDocker("image", "inspect", "-f", "{{.Id}}", repo+":"+tag)
		a.MustDocker("rmi", repo+":"+tag)
	}
	out := a.MustDocker("pull", "--all-tags", repo)
	for _, want := range []string{"1: Pulling from acc/bb", "2: Pulling from acc/bb", "Status: Downloaded newer image for " + repo} {
		if !strings.Contains(out, want) {
			t.Fatalf("docker pull -a: %q lacks %q", out, want)
		}
	}
	if strings.Count(out, "Digest: sha256:") != 2 {
		t.Fatalf("docker pull -a: %q, want a digest for each tag", out)
	}
	for tag, id := range ids {
		if got := a.MustDocker("image", "inspect", "-f", "{{.Id}}", repo+":"+tag); got != id {
			t.Fatalf("%s:%s after pull -a: %s, pushed %s", repo, tag, got, id)
		}
	}
	if out := a.MustDocker("pull", "-a", repo); !strings.Contains(out, "Status: Image is up to date for "+repo) {
		t.Fatalf("second docker pull -a: %q", out)
	}
	if r := a.Docker("pull", "-a", host+"/acc/nosuch"); r.Code == 0 {
		t.Fatalf("docker pull -a of an unknown repository: %s", r)
	}
}

// Docker's events of an exec (exec_create: CMD, exec_start: CMD, exec_die with exitCode, all
// with the exec's ID) and of an attach (docker run's, before the start); pea's own events show
// podman's exec and exec_died (its ContainerExitCode), without the Docker attributes. None was
// logged.
func TestAPIDockerExecAttachEvents(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "-d", "--name", "k1", "--network", "none", "--label", "tier=x", "localhost/bb", "sleep", "1000")
	since := time.Now()
	if r := a.Docker("exec", "k1", "sh", "-c", "exit 3"); r.Code != 3 {
		t.Fatalf("docker exec: %s", r)
	}
	a.MustDocker("exec", "k1", "true")
	a.MustDocker("run", "--rm", "--name", "k2", "--network", "none", "localhost/bb", "true")
	until := time.Now()
	msgs := dockerEvents(t, a, since, until, "--filter", "container=k1")
	want := "container:exec_create: sh -c exit 3 container:exec_start: sh -c exit 3 container:exec_die " +
		"container:exec_create: true  container:exec_start: true  container:exec_die"
	if got := actions(msgs); got != want {
		t.Fatalf("k1's events: %q, want %q", got, want)
	}
	execID := msgs[0].Actor.Attributes["execID"]
	for i, m := range msgs[:3] {
		at := m.Actor.Attributes
		if len(execID) != 64 || at["execID"] != execID || at["name"] != "k1" || at["tier"] != "x" || at["execCommand"] != "" {
			t.Fatalf("event %d: %+v", i, m)
		}
	}
	if code := msgs[2].Actor.Attributes["exitCode"]; code != "3" {
		t.Fatalf("exec_die's exitCode %q", code)
	}
	if msgs[3].Actor.Attributes["execID"] == execID {
		t.Fatalf("two execs with one ID")
	}
	for filter, want := range map[string]string{
		"event=exec_start":  "container:exec_start: sh -c exit 3 container:exec_start: true ",
		"event=exec_create": "container:exec_create: sh -c exit 3 container:exec_create: true ",
		"event=exec_die":    "container:exec_die container:exec_die",
	} {
		if got := actions(dockerEvents(t, a, since, until, "--filter", "container=k1", "--filter", filter)); got != want {
			t.Errorf("--filter %s: %q, want %q", filter, got, want)
		}
	}
	if got := actions(dockerEvents(t, a, since, until, "--filter", "container=k2")); got != "container:create container:attach container:start container:die container:destroy" {
		t.Fatalf("docker run's events: %q", got)
	}
	// pea's events are podman's: exec and exec_died (no exec_create), the code as ContainerExitCode.
	out := a.Pea("events", "--since", unixArg(since), "--until", unixArg(until), "--filter", "container=k1", "--format", "json")
	var got []string
	for _, line := range strings.Split(out, "\n") {
		var v struct {
			Status            string
			ContainerExitCode int
			Attributes        map[string]string
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("pea events: %v: %q", err, line)
		}
		if _, ok := v.Attributes["execID"]; ok || v.Attributes["tier"] != "x" {
			t.Fatalf("pea events' attributes: %v", v.Attributes)
		}
		got = append(got, v.Status+":"+string(rune('0'+v.ContainerExitCode)))
	}
	if strings.Join(got, " ") != "exec_create:0 exec:0 exec_died:3 exec_create:0 exec:0 exec_died:0" {
		t.Fatalf("pea events: %v", got)
	}
	// pea exec logs its own session.
	since = time.Now()
	a.Pea("exec", "k1", "true")
	if got := a.Pea("events", "--since", unixArg(since), "--until", unixArg(time.Now()), "--format", "{{.Status}}"); got != "exec\nexec_died" {
		t.Fatalf("pea exec's events: %q", got)
	}
}

package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// dockerEventMsg is what `docker events --format '{{json .}}'` prints.
type dockerEventMsg struct {
	Status string `json:"status"`
	ID     string `json:"id"`
	From   string `json:"from"`
	Type   string
	Action string
	Actor  struct {
		ID         string
		Attributes map[string]string
	}
	Scope    string `json:"scope"`
	Time     int64  `json:"time"`
	TimeNano int64  `json:"timeNano"`
}

// unixArg is a time as docker's --since and --until take it.
func unixArg(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

// dockerEvents runs docker events over [since, until] with more arguments and decodes it.
func dockerEvents(t *testing.T, a *APIEnv, since, until time.Time, args ...string) []dockerEventMsg {
	t.Helper()
	out := a.MustDocker(append([]string{"events", "--since", unixArg(since), "--until", unixArg(until), "--format", "{{json .}}"}, args...)...)
	var msgs []dockerEventMsg
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		var m dockerEventMsg
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("docker events: %v: %q", err, line)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func actions(msgs []dockerEventMsg) string {
	var s []string
	for _, m := range msgs {
		s = append(s, m.Type+":"+m.Action)
	}
	return strings.Join(s, " ")
}

// docker events over a docker run --rm: Docker's names (die, destroy; the client's attach
// before the start) and message fields, and its filters.
func TestAPIEventsRun(t *testing.T) {
	a := newAPIEnv(t)
	since := time.Now()
	if r := a.Docker("run", "--rm", "--name", "alpha", "--label", "tier=web", "--network", "none", "localhost/bb", "sh", "-c", "exit 2"); r.Code != 2 {
		t.Fatalf("docker run: %s", r)
	}
	a.MustDocker("run", "--rm", "--name", "beta", "--network", "none", "localhost/bb", "true")
	a.MustDocker("volume", "create", "vol1")
	until := time.Now()

	all := dockerEvents(t, a, since, until, "--filter", "container=alpha")
	if got := actions(all); got != "container:create container:attach container:start container:die container:destroy" {
		t.Fatalf("alpha's events: %q", got)
	}
	id := all[0].Actor.ID
	if len(id) != 64 {
		t.Fatalf("actor ID %q", id)
	}
	for _, m := range all {
		at := m.Actor.Attributes
		if m.Actor.ID != id || at["name"] != "alpha" || at["image"] != "localhost/bb:latest" || at["tier"] != "web" ||
			m.Status != m.Action || m.ID != id || m.From != "localhost/bb:latest" || m.Scope != "local" ||
			m.Time != m.TimeNano/1e9 || m.TimeNano < since.UnixNano() || m.TimeNano > until.UnixNano() {
			t.Fatalf("message %+v", m)
		}
	}
	if die := all[3]; die.Actor.Attributes["exitCode"] != "2" {
		t.Fatalf("die: %+v", die)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"event", []string{"--filter", "event=die"}, "container:die container:die"},
		{"event and container", []string{"--filter", "event=destroy", "--filter", "container=beta"}, "container:destroy"},
		{"label", []string{"--filter", "label=tier=web", "--filter", "event=start"}, "container:start"},
		{"type", []string{"--filter", "type=volume"}, "volume:create"},
		{"volume", []string{"--filter", "volume=vol1"}, "volume:create"},
		{"image", []string{"--filter", "image=localhost/bb", "--filter", "event=create"}, "container:create container:create"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := actions(dockerEvents(t, a, since, until, c.args...)); got != c.want {
				t.Fatalf("%v: %q, want %q", c.args, got, c.want)
			}
		})
	}
	if r := a.Docker("events", "--since", unixArg(since), "--until", unixArg(until), "--filter", "colour=red"); r.Code == 0 || !strings.Contains(r.Stderr, "colour") {
		t.Fatalf("unknown filter: %s", r)
	}
	// pea's own events are the same log.
	if got := a.Pea("events", "--stream=false", "--filter", "container=beta", "--format", "{{.Status}}"); got != "create\nattach\ninit\nstart\ndied\ncleanup\nremove" {
		t.Fatalf("pea events of the API's run: %q", got)
	}
}

// docker events without --since streams what happens from when it connects, until it is
// stopped.
func TestAPIEventsStream(t *testing.T) {
	a := newAPIEnv(t)
	a.MustDocker("run", "--rm", "--name", "early", "--network", "none", "localhost/bb", "true") // before: not shown
	cmd := exec.Command(a.docker, "events", "--filter", "type=container", "--filter", "type=volume",
		"--format", `{{.Type}} {{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}`)
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+a.Sock, "DOCKER_CONFIG="+a.config)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	defer func() {
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	}()
	has := func(prefix string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	// Connected once a volume made now shows up.
	n := 0
	eventually(t, 15*time.Second, func() error {
		n++
		name := fmt.Sprintf("ping%d", n)
		a.MustDocker("volume", "create", name)
		time.Sleep(200 * time.Millisecond)
		if !has("volume create " + name) {
			return fmt.Errorf("docker events shows no volume created: %q", lines)
		}
		return nil
	})
	a.MustDocker("run", "--rm", "--name", "gamma", "--network", "none", "localhost/bb", "true")
	eventually(t, 15*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		var got []string
		for _, l := range lines {
			if f := strings.Fields(l); f[0] == "container" {
				got = append(got, f[1]+" "+f[len(f)-1])
			}
		}
		if s := strings.Join(got, ", "); s != "create gamma, attach gamma, start gamma, die gamma, destroy gamma" {
			return fmt.Errorf("streamed: %q", s)
		}
		return nil
	})
}

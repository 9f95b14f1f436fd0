package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// podmanEvent is one line of `pea events --format json`: podman's field names.
type podmanEvent struct {
	ContainerExitCode *int
	ID                string
	Image             string
	Name              string
	Network           string `json:"network"`
	Status            string
	Time              time.Time
	Type              string
	PodID             string
	Attributes        map[string]string
}

// eventsJSON runs `pea events --stream=false --format json` with more arguments and decodes it.
func eventsJSON(t *testing.T, e *Env, args ...string) []podmanEvent {
	t.Helper()
	out := e.Pea(append([]string{"events", "--stream=false", "--format", "json"}, args...)...)
	var evs []podmanEvent
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		var ev podmanEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events: %v: %q", err, line)
		}
		evs = append(evs, ev)
	}
	return evs
}

// statuses lists the events' statuses, in order.
func statuses(evs []podmanEvent) string {
	var s []string
	for _, ev := range evs {
		s = append(s, ev.Status)
	}
	return strings.Join(s, " ")
}

// A container's life is logged in order with its ID, name, image and labels, the exit code on
// died; the human line is podman's.
func TestEventsContainerLife(t *testing.T) {
	e := newEnv(t).withBusybox()
	before := time.Now()
	e.Fails(3, "run", "--name", "ev1", "--label", "app=web", "--network", "none", "localhost/bb", "sh", "-c", "exit 3")
	id := e.Pea("inspect", "-f", "{{.ID}}", "ev1")
	e.Pea("rm", "ev1")
	e.Pea("run", "--rm", "--name", "ev2", "--network", "none", "localhost/bb", "true")

	evs := eventsJSON(t, e, "--filter", "container=ev1")
	if got := statuses(evs); got != "create init start attach died cleanup remove" {
		t.Fatalf("ev1's events: %q", got)
	}
	for _, ev := range evs {
		if ev.Type != "container" || ev.ID != id || ev.Name != "ev1" || ev.Image != "localhost/bb:latest" || ev.Attributes["app"] != "web" {
			t.Fatalf("event %+v", ev)
		}
		if ev.Time.Before(before.Add(-time.Second)) || ev.Time.After(time.Now()) {
			t.Fatalf("event time %v, the run started at %v", ev.Time, before)
		}
	}
	// The exit code is ContainerExitCode, not an attribute, as podman shows it.
	if c := evs[4].ContainerExitCode; c == nil || *c != 3 || evs[4].Attributes["exitCode"] != "" {
		t.Fatalf("died: %+v", evs[4])
	}
	if got := e.Pea("events", "--stream=false", "--filter", "container=ev1", "--format", "{{.Status}}:{{.ContainerExitCode}}"); got != "create:0\ninit:0\nstart:0\nattach:0\ndied:3\ncleanup:0\nremove:0" {
		t.Fatalf("{{.ContainerExitCode}}: %q", got)
	}
	if got := statuses(eventsJSON(t, e, "--filter", "container=ev2")); got != "create init start attach died cleanup remove" {
		t.Fatalf("run --rm's events: %q", got)
	}
	// By ID prefix too.
	if got := statuses(eventsJSON(t, e, "--filter", "container="+id[:10])); got != "create init start attach died cleanup remove" {
		t.Fatalf("by ID prefix: %q", got)
	}

	human := e.Pea("events", "--stream=false", "--filter", "container=ev1", "--filter", "event=died")
	want := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ container died ` + id +
		` \(image=localhost/bb:latest, name=ev1, app=web\)$`) // podman's line has no exit code
	if !want.MatchString(human) {
		t.Fatalf("human line %q", human)
	}
	if short := e.Pea("events", "--stream=false", "--no-trunc=false", "--filter", "container=ev1", "--filter", "event=start"); !strings.Contains(short, " container start "+id[:12]+" (") {
		t.Fatalf("--no-trunc=false: %q", short)
	}
	tmpl := e.Pea("events", "--stream=false", "--filter", "container=ev1", "--format", "{{.Type}}/{{.Status}}/{{.Name}}")
	if tmpl != "container/create/ev1\ncontainer/init/ev1\ncontainer/start/ev1\ncontainer/attach/ev1\ncontainer/died/ev1\ncontainer/cleanup/ev1\ncontainer/remove/ev1" {
		t.Fatalf("template: %q", tmpl)
	}
	// start -a and attach log an attach too (after the start, as podman's); run -d does not.
	e.Pea("create", "--name", "ev3", "--network", "none", "localhost/bb", "true")
	e.Pea("start", "-a", "ev3")
	e.Pea("run", "-di", "--name", "ev4", "--network", "none", "localhost/bb", "sh", "-c", "read x; echo got $x")
	if r := e.PeaIn("hello\n", "attach", "ev4"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "got hello" {
		t.Fatalf("attach: %+v", r)
	}
	if got := statuses(eventsJSON(t, e, "--filter", "container=ev3")); got != "create init start attach died cleanup" {
		t.Fatalf("start -a's events: %q", got)
	}
	// A detached container's exit is recorded by its cleanup process, which may still be at
	// work when attach returns.
	eventually(t, 10*time.Second, func() error {
		if got := statuses(eventsJSON(t, e, "--filter", "container=ev4")); got != "create init start attach died cleanup" {
			return fmt.Errorf("run -d and attach's events: %q", got)
		}
		return nil
	})
	// The log is the runroot's, for root alone.
	if fi, err := os.Stat(filepath.Join(e.RunRoot, "events", "events.log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("events.log: %v %v", fi, err)
	}
}

// pause, unpause, a restart (a stop and a start), kill with its signal, rename.
func TestEventsContainerOps(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "lc", "--network", "none", "localhost/bb", "sleep", "1000")
	e.Pea("pause", "lc")
	e.Pea("unpause", "lc")
	e.Pea("restart", "-t", "0", "lc")
	e.Pea("rename", "lc", "lc2")
	e.Pea("kill", "lc2")
	e.Pea("wait", "lc2")
	e.Pea("rm", "lc2")
	evs := eventsJSON(t, e, "--filter", "type=container")
	if got := statuses(evs); got != "create init start pause unpause died cleanup stop init start restart rename kill died cleanup remove" {
		t.Fatalf("events: %q", got)
	}
	if kill := evs[12]; kill.Attributes["signal"] != "9" || kill.Name != "lc2" {
		t.Fatalf("kill: %+v", kill)
	}
	if rename := evs[11]; rename.Name != "lc2" || rename.Attributes["oldName"] != "lc" {
		t.Fatalf("rename: %+v", rename)
	}
	if c := evs[13].ContainerExitCode; c == nil || *c != 137 {
		t.Fatalf("died after kill: %+v", evs[13])
	}
}

// A pod's events, and its members' events name it.
func TestEventsPod(t *testing.T) {
	e := newEnv(t).withBusybox()
	podID := e.Pea("pod", "create", "--name", "evp", "--network", "none")
	e.Pea("create", "--pod", "evp", "--name", "m1", "localhost/bb", "sleep", "1000")
	e.Pea("pod", "start", "evp")
	e.Pea("pod", "kill", "--signal", "KILL", "evp")
	e.Pea("pod", "stop", "-t", "0", "evp")
	e.Pea("pod", "rm", "evp")
	evs := eventsJSON(t, e, "--filter", "pod=evp")
	if got := statuses(evs); got != "create start kill stop remove" {
		t.Fatalf("pod events: %q", got)
	}
	for _, ev := range evs {
		if ev.Type != "pod" || ev.ID != podID || ev.Name != "evp" {
			t.Fatalf("pod event %+v", ev)
		}
	}
	members := eventsJSON(t, e, "--filter", "container=m1")
	if got := statuses(members); !strings.HasPrefix(got, "create init start kill died cleanup") || !strings.HasSuffix(got, " remove") {
		t.Fatalf("member's events: %q", got)
	}
	for _, ev := range members {
		if ev.PodID != podID {
			t.Fatalf("member event without its pod: %+v", ev)
		}
	}
	// pod= also selects the members' events, by the pod's ID.
	if got := statuses(eventsJSON(t, e, "--filter", "pod="+podID[:12], "--filter", "type=container", "--filter", "container=m1")); got != statuses(members) {
		t.Fatalf("pod=ID on members: %q", got)
	}
}

// Image tag, untag and removal.
func TestEventsImages(t *testing.T) {
	e := newEnv(t).withBusybox()
	id := e.Pea("images", "-q", "--no-trunc", "localhost/bb")
	id = strings.TrimPrefix(id, "sha256:")
	e.Pea("tag", "localhost/bb", "foo")
	e.Pea("untag", "localhost/bb", "foo")
	e.Pea("tag", "localhost/bb", "bar")
	e.Pea("rmi", "bar")
	e.Pea("rmi", "localhost/bb")
	evs := eventsJSON(t, e, "--filter", "type=image")
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Status+" "+ev.Name)
		if ev.ID != id {
			t.Fatalf("image event with ID %q, want %q: %+v", ev.ID, id, ev)
		}
	}
	// A tag event names the image as the tag command was given it, an untag event in full, as podman's.
	want := "import localhost/bb:latest, tag foo, untag localhost/foo:latest, tag bar, " +
		"untag localhost/bar:latest, untag localhost/bb:latest, remove localhost/bb:latest"
	if strings.Join(got, ", ") != want {
		t.Fatalf("image events:\n%s\nwant\n%s", strings.Join(got, ", "), want)
	}
	if got := statuses(eventsJSON(t, e, "--filter", "image=foo")); got != "tag untag" {
		t.Fatalf("image=foo: %q", got)
	}
}

// Filters: values of one key ORed, keys ANDed; labels by key or key=value; volumes and
// networks.
func TestEventsFilters(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "--rm", "--name", "ka", "--label", "tier=web", "--network", "none", "localhost/bb", "true")
	e.Pea("run", "--rm", "--name", "kb", "--label", "tier=db", "--network", "none", "localhost/bb", "true")
	e.Pea("volume", "create", "v1")
	e.Pea("volume", "rm", "v1")
	e.Pea("network", "create", "n1")
	e.Pea("network", "rm", "n1")
	names := func(args ...string) string {
		var s []string
		for _, ev := range eventsJSON(t, e, args...) {
			s = append(s, ev.Status+":"+ev.Name)
		}
		return strings.Join(s, " ")
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"container", []string{"--filter", "container=kb"}, "create:kb init:kb start:kb attach:kb died:kb cleanup:kb remove:kb"},
		{"event", []string{"--filter", "event=start"}, "start:ka start:kb"},
		{"one key ORed", []string{"--filter", "event=start", "--filter", "event=remove", "--filter", "type=container"}, "start:ka remove:ka start:kb remove:kb"},
		{"keys ANDed", []string{"--filter", "event=start", "--filter", "container=kb"}, "start:kb"},
		{"status", []string{"--filter", "status=died", "--filter", "container=ka"}, "died:ka"},
		{"label key=value", []string{"--filter", "label=tier=db", "--filter", "event=create"}, "create:kb"},
		{"label key", []string{"--filter", "label=tier", "--filter", "event=create"}, "create:ka create:kb"},
		{"type", []string{"--filter", "type=volume"}, "create:v1 remove:v1"},
		{"volume", []string{"--filter", "volume=v1"}, "create:v1 remove:v1"},
		{"network", []string{"--filter", "network=n1"}, "create:n1 remove:n1"},
		{"image", []string{"--filter", "image=localhost/bb", "--filter", "event=create"}, "create:ka create:kb"},
		{"none", []string{"--filter", "container=nothere"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := names(c.args...); got != c.want {
				t.Fatalf("%v: %q, want %q", c.args, got, c.want)
			}
		})
	}
	if r := e.Try("events", "--stream=false", "--filter", "colour=red"); r.Code != 125 || !strings.Contains(r.Stderr, "colour") {
		t.Fatalf("unknown filter: %s", r)
	}
}

// --since and --until, as RFC 3339 times, Unix times and durations; --until ends the command
// even though --stream is on.
func TestEventsSinceUntil(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("volume", "create", "early")
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	e.Pea("volume", "create", "late")
	vols := func(args ...string) string {
		var s []string
		for _, ev := range eventsJSON(t, e, append([]string{"--filter", "type=volume"}, args...)...) {
			s = append(s, ev.Name)
		}
		return strings.Join(s, " ")
	}
	if got := vols("--since", mid.Format(time.RFC3339Nano)); got != "late" {
		t.Fatalf("--since RFC 3339: %q", got)
	}
	if got := vols("--until", mid.Format(time.RFC3339Nano)); got != "early" {
		t.Fatalf("--until RFC 3339: %q", got)
	}
	if got := vols("--until", fmt.Sprintf("%d.%09d", mid.Unix(), mid.Nanosecond())); got != "early" {
		t.Fatalf("--until Unix time: %q", got)
	}
	if got := vols("--since", "1h"); got != "early late" {
		t.Fatalf("--since 1h: %q", got)
	}
	if got := vols("--since", "0s"); got != "" {
		t.Fatalf("--since 0s (now): %q", got)
	}
	// --until in the past ends at the end of the log, with the default --stream.
	cmd := exec.Command(peaBin, e.args("events", "--until", mid.Format(time.RFC3339Nano), "--filter", "type=volume")...)
	done := make(chan Result, 1)
	go func() { done <- runCmd(cmd) }()
	select {
	case r := <-done:
		if r.Code != 0 || !strings.Contains(r.Stdout, "volume create early") || strings.Contains(r.Stdout, "late") {
			t.Fatalf("events --until: %s", r)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("events --until kept following")
	}
	if r := e.Try("events", "--since", "yesterday-ish"); r.Code != 125 {
		t.Fatalf("bad --since: %s", r)
	}
}

// follower is `pea events` running in the background, its lines collected.
type follower struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func startFollower(t *testing.T, e *Env, env []string, args ...string) *follower {
	t.Helper()
	f := &follower{cmd: exec.Command(peaBin, e.args(append([]string{"events"}, args...)...)...), done: make(chan struct{})}
	f.cmd.Env = append(os.Environ(), env...)
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.stop)
	go func() {
		defer close(f.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f.mu.Lock()
			f.lines = append(f.lines, sc.Text())
			f.mu.Unlock()
		}
	}()
	return f
}

func (f *follower) stop() {
	f.cmd.Process.Kill()
	<-f.done
	f.cmd.Wait()
}

// waitLines waits until the follower has printed n lines.
func (f *follower) waitLines(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		f.mu.Lock()
		lines := append([]string(nil), f.lines...)
		f.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("the follower printed %d lines of %d:\n%s", len(lines), n, strings.Join(lines, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// `pea events` follows: a run after it started shows up, filtered, while it runs.
func TestEventsFollow(t *testing.T) {
	e := newEnv(t).withBusybox()
	f := startFollower(t, e, nil, "--filter", "container=fol", "--format", "{{.Status}} {{.Name}}")
	time.Sleep(300 * time.Millisecond) // it reads the log and waits for more
	e.Pea("run", "--rm", "--name", "other", "--network", "none", "localhost/bb", "true")
	e.Pea("run", "--rm", "--name", "fol", "--network", "none", "localhost/bb", "true")
	lines := f.waitLines(t, 7)
	if got := strings.Join(lines, ", "); got != "create fol, init fol, start fol, attach fol, died fol, cleanup fol, remove fol" {
		t.Fatalf("followed: %q", got)
	}
	if err := f.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the follower ended: %v", err)
	}
}

// Past the size bound the log is rotated: a follower loses nothing across the rotations, the
// files stay bounded, and a reader that does not follow sees the newest events.
func TestEventsRotation(t *testing.T) {
	e := newEnv(t)
	// ~50 events a file: three rotations within one of the follower's looks (which it does not
	// survive, see engine.ReadEvents) would take a stall of the whole test; ~25 a file made it
	// a stall of ~250 ms, which a loaded CI machine once had.
	const max = 8192
	env := []string{fmt.Sprintf("PEA_EVENTS_LOG_MAX=%d", max)}
	e.Pea("volume", "create", "v0") // the log exists before the follower starts
	f := startFollower(t, e, nil, "--filter", "type=volume", "--format", "{{.Status}} {{.Name}}")
	f.waitLines(t, 1) // it has opened the log
	const n = 60
	var want []string
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("vol%02d", i)
		if r := e.runEnv(nil, env, "volume", "create", "--label", "pad=0123456789012345678901234567890123456789", name); r.Code != 0 {
			t.Fatal(r)
		}
		want = append(want, "create "+name)
	}
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("vol%02d", i)
		if r := e.runEnv(nil, env, "volume", "rm", name); r.Code != 0 {
			t.Fatal(r)
		}
		want = append(want, "remove "+name)
	}
	lines := f.waitLines(t, 2*n+1)
	if got, w := strings.Join(lines, "\n"), "create v0\n"+strings.Join(want, "\n"); got != w {
		t.Fatalf("the follower printed:\n%s\nwant:\n%s", got, w)
	}
	dir := filepath.Join(e.RunRoot, "events")
	for _, name := range []string{"events.log", "events.log.1"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > max+512 {
			t.Fatalf("%s: %d bytes, bound %d", name, fi.Size(), max)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("events directory holds %d files", len(ents))
	}
	kept := eventsJSON(t, e, "--filter", "type=volume")
	if len(kept) == 0 || len(kept) >= 2*n || kept[len(kept)-1].Name != fmt.Sprintf("vol%02d", n) || kept[0].Name == "v0" {
		t.Fatalf("after rotation a reader sees %d events, %q ... %q", len(kept), kept[0].Name, kept[len(kept)-1].Name)
	}
}

// pod=NAME selects the events of the pod's members too (they carry only the pod's ID).
func TestEventsPodFilterByName(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("pod", "create", "--name", "evq", "--network", "none")
	e.Pea("run", "-d", "--pod", "evq", "--name", "q1", "localhost/bb", "sleep", "1000")
	evs := eventsJSON(t, e, "--filter", "pod=evq", "--filter", "type=container", "--filter", "container=q1")
	if got := statuses(evs); got != "create init start" {
		t.Fatalf("pod=NAME on members: %q", got)
	}
}

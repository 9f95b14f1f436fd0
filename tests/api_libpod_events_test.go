package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// podman events through the libpod API: the log's events as podman's messages, which the
// 4.3 client reads back into its own events (and crashes on one it cannot read).
func TestLibpodEvents(t *testing.T) {
	a := newAPIEnv(t)
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
	a.Pea("run", "-d", "--name", "ev1", "-l", "tier=web", "localhost/bb", "sleep", "100")
	a.Pea("update", "--memory", "64m", "ev1") // no status the 4.3 client knows: not sent
	a.Pea("kill", "ev1")
	a.Pea("wait", "ev1")
	a.Pea("rm", "ev1")
	a.Pea("volume", "create", "evv")
	tarball := filepath.Join(a.Dir, "bb.tar")
	a.Pea("save", "-o", tarball, "localhost/bb")
	a.Pea("load", "-i", tarball) // podman's status: loadfromarchive

	// --stream=false reads the log and ends; --since takes podman's times.
	out := a.mustPodman("events", "--stream=false", "--since", since, "--filter", "container=ev1", "--format", "{{.Status}}")
	if out != "create\ninit\nstart\nkill\ndied\ncleanup\nremove" {
		t.Fatalf("events of ev1:\n%s", out)
	}
	// The JSON the client makes of them: podman's fields, the exit code, the labels.
	lines := strings.Split(a.mustPodman("events", "--stream=false", "--since", since, "--filter", "event=died", "--format", "json"), "\n")
	var died struct {
		ID, Name, Status, Type, Image string
		ContainerExitCode             int
		Attributes                    map[string]string
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &died) != nil || died.Name != "ev1" || died.Type != "container" ||
		died.ContainerExitCode != 137 || died.Image != "localhost/bb:latest" || died.Attributes["tier"] != "web" || len(died.ID) != 64 {
		t.Fatalf("died as json: %q", lines)
	}
	// The default line, an image's event by podman's name of it, filters of two keys.
	id := strings.TrimPrefix(a.Pea("images", "--no-trunc", "-q", "localhost/bb"), "sha256:")
	out = a.mustPodman("events", "--stream=false", "--since", since, "--filter", "type=image", "--filter", "event=loadfromarchive")
	if !strings.HasSuffix(out, " image loadfromarchive "+id+" localhost/bb:latest") || strings.Count(out, "\n") != 0 {
		t.Fatalf("image load event: %q", out)
	}
	if out := a.mustPodman("events", "--stream=false", "--since", since, "--filter", "volume=evv", "--format", "{{.Type}} {{.Status}} {{.Name}}"); out != "volume create evv" {
		t.Fatalf("volume event: %q", out)
	}
	if out := a.mustPodman("events", "--stream=false", "--since", since, "--filter", "label=tier=web", "--filter", "event=start", "--format", "{{.Name}}"); out != "ev1" {
		t.Fatalf("label and event filters: %q", out)
	}
	// A stream with --until (a duration after now) shows the log since --since (a duration
	// before now), then ends when until passes.
	start := time.Now()
	out = a.mustPodman("events", "--since", "5m", "--until", "2s", "--filter", "type=volume", "--format", "{{.Name}}")
	if el := time.Since(start); out != "evv" || el < 2*time.Second || el > 30*time.Second {
		t.Fatalf("events --since 5m --until 2s: %q after %v", out, el)
	}
	if out := a.mustPodman("events", "--stream=false", "--until", since, "--filter", "type=volume"); out != "" {
		t.Fatalf("events until before anything happened: %q", out)
	}
	// A bad request is answered in podman's error shape (which the 4.3 client, reading any
	// answer as events, cannot show: it crashes on it, against podman's own service too).
	code, body := a.Request("GET", "/v4.3.1/libpod/events?stream=false&filters=%7B%22colour%22%3A%5B%22red%22%5D%7D", nil)
	var e struct {
		Cause    string `json:"cause"`
		Response int    `json:"response"`
	}
	if json.Unmarshal(body, &e) != nil || code != 400 || e.Response != 400 || !strings.Contains(e.Cause, "colour") {
		t.Fatalf("events with an unknown filter: %d %s", code, body)
	}

	// Streaming: only new events, each as it happens.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := a.podmanCommand(ctx, "events", "--filter", "type=volume", "--format", "{{.Status}} {{.Name}}")
	var followed syncBuffer
	cmd.Stdout, cmd.Stderr = &followed, &followed
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cancel()
	n := 0
	eventually(t, 20*time.Second, func() error {
		n++
		a.Pea("volume", "create", fmt.Sprintf("new%d", n)) // until the client, connected, sees one
		if !strings.Contains(followed.String(), "create new") {
			return fmt.Errorf("followed: %q", followed.String())
		}
		return nil
	})
	a.Pea("volume", "rm", "new1")
	eventually(t, 10*time.Second, func() error {
		if !strings.Contains(followed.String(), "remove new1") {
			return fmt.Errorf("followed: %q", followed.String())
		}
		return nil
	})
	if strings.Contains(followed.String(), "evv") {
		t.Fatalf("a stream without --since showed an old event: %q", followed.String())
	}
}

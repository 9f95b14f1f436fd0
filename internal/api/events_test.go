package api

import (
	"testing"
	"time"

	"pea/internal/engine"
)

// Docker's since and until keep their nanoseconds (a float64 would lose the last digits).
func TestParseEventTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"1700000000":            time.Unix(1700000000, 0),
		"1700000000.5":          time.Unix(1700000000, 500000000),
		"1700000000.123456789":  time.Unix(1700000000, 123456789),
		"1700000000.1234567891": time.Unix(1700000000, 123456789),
	} {
		if got, err := parseEventTime(in); err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1.x", "2023-01-01"} {
		if _, err := parseEventTime(bad); err == nil {
			t.Errorf("%q read as a time", bad)
		}
	}
}

// pea's statuses become Docker's actions where they differ; the actor is what Docker names.
func TestToDockerEvent(t *testing.T) {
	for _, c := range []struct {
		ev            engine.Event
		action, actor string
	}{
		{engine.Event{Type: "container", Status: "died", ID: "c1", Name: "web", Attributes: map[string]string{"exitCode": "3"}}, "die", "c1"},
		{engine.Event{Type: "container", Status: "remove", ID: "c1", Name: "web"}, "destroy", "c1"},
		{engine.Event{Type: "image", Status: "remove", ID: "abc", Name: "localhost/bb:latest"}, "delete", "sha256:abc"},
		{engine.Event{Type: "image", Status: "pull", ID: "abc", Name: "docker.io/library/bb:latest"}, "pull", "docker.io/library/bb:latest"},
		{engine.Event{Type: "volume", Status: "remove", Name: "v1"}, "destroy", "v1"},
		{engine.Event{Type: "network", Status: "connect", ID: "c1", Name: "web", Network: "n1", Attributes: map[string]string{"networkID": "n1id"}}, "connect", "n1id"},
	} {
		m := toDockerEvent(&c.ev)
		if m.Action != c.action || m.Actor.ID != c.actor {
			t.Errorf("%s %s: %s %s, want %s %s", c.ev.Type, c.ev.Status, m.Action, m.Actor.ID, c.action, c.actor)
		}
	}
	m := toDockerEvent(&engine.Event{Time: 1500000000123, Type: "container", Status: "died", ID: "c1", Name: "web", Image: "localhost/bb:latest",
		Attributes: map[string]string{"exitCode": "3"}})
	if a := m.Actor.Attributes; a["exitCode"] != "3" || a["name"] != "web" || a["image"] != "localhost/bb:latest" ||
		m.Status != "die" || m.ID != "c1" || m.From != "localhost/bb:latest" || m.Time != 1500 || m.TimeNano != 1500000000123 || m.Scope != "local" {
		t.Errorf("die message %+v", m)
	}
}

package api

import (
	"testing"
	"time"

	"pea/internal/engine"
)

// A rename map replaces the longest leading part of an entry's name it has.
func TestRenamedEntry(t *testing.T) {
	rename := map[string]string{"bin": "newbin", "etc/passwd": "pw", "a/b": "x/y"}
	for _, tc := range []struct{ name, in, want string }{
		{"the entry itself", "bin", "newbin"},
		{"a directory entry keeps its slash", "bin/", "newbin/"},
		{"below a renamed directory", "bin/sh", "newbin/sh"},
		{"a leading ./", "./bin/sh", "newbin/sh"},
		{"the longest prefix", "a/b/c", "x/y/c"},
		{"a file below", "etc/passwd", "pw"},
		{"only whole components", "binary", "binary"},
		{"not in the map", "usr/bin/env", "usr/bin/env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := renamedEntry(tc.in, rename); got != tc.want {
				t.Errorf("renamedEntry(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// podman's since and until: times, dates, Unix seconds and durations (before now for since,
// after now for until).
func TestParseLibpodTime(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		in    string
		since bool
		want  time.Time
	}{
		{"2024-05-01T10:00:00Z", true, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"2024-05-01T10:00:00.5+02:00", false, time.Date(2024, 5, 1, 8, 0, 0, 5e8, time.UTC)},
		{"2024-05-01T10:00:00", true, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)},
		{"2024-05-01", true, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"1700000000.25", true, time.Unix(1700000000, 25e7)},
		{"5m", true, now.Add(-5 * time.Minute)},
		{"5m", false, now.Add(5 * time.Minute)},
	} {
		got, err := parseLibpodTime(tc.in, tc.since)
		if d := got.Sub(tc.want); err != nil || d < -time.Second || d > time.Second {
			t.Errorf("parseLibpodTime(%q, %v) = %v %v, want %v", tc.in, tc.since, got, err, tc.want)
		}
	}
	if _, err := parseLibpodTime("yesterday", true); err == nil {
		t.Error("yesterday read as a time")
	}
}

// Events reach podman's client with its names and the attributes it reads back; those of a
// status it does not know are not sent.
func TestToLibpodEvent(t *testing.T) {
	e := &engine.Event{Time: 1700000000123456789, Type: engine.EventContainer, Status: "died", ID: "abc", Name: "n", Image: "bb",
		PodID: "p", Attributes: map[string]string{"exitCode": "3", "tier": "web"}}
	m, ok := toLibpodEvent(e)
	attrs := m.Actor.Attributes
	if !ok || m.Action != "died" || m.Status != "died" || m.From != "bb" || m.Actor.ID != "abc" || m.TimeNano != e.Time || m.Time != 1700000000 ||
		attrs["containerExitCode"] != "3" || attrs["podId"] != "p" || attrs["name"] != "n" || attrs["tier"] != "web" || attrs["exitCode"] != "" {
		t.Errorf("died: %+v", m)
	}
	m, ok = toLibpodEvent(&engine.Event{Type: engine.EventImage, Status: "load", ID: "i"})
	if !ok || m.Action != "loadfromarchive" || m.Actor.Attributes["containerExitCode"] != "0" {
		t.Errorf("image load: %+v", m)
	}
	if _, ok := toLibpodEvent(&engine.Event{Type: engine.EventContainer, Status: "update"}); ok {
		t.Error("an update event (unknown to podman 4.3's client) is sent")
	}
}

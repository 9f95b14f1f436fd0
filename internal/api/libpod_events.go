package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"pea/internal/engine"
)

// libpodEvent is one message of GET /libpod/events: podman 4.3's entities.Event, Docker's
// message whose Action is podman's own status and whose Actor's attributes carry what the
// client turns back into podman's event: image, name, containerExitCode (always a number: the
// 4.3 client drops, and then dereferences, an event without one) and podId.
type libpodEvent struct {
	dockerEvent
	HealthStatus string `json:"HealthStatus,omitempty"`
}

// libpodEventFilterKeys are the filters podman's events accept (status is event's other name).
var libpodEventFilterKeys = []string{"container", "event", "image", "label", "network", "pod", "status", "type", "volume"}

// getLibpodEvents is GET /libpod/events?since=&until=&stream=&filters=: the event log
// (engine/events.go) as podman's messages, one JSON object a line, each flushed as it comes.
// since and until take podman's times (RFC 3339, dates, Unix seconds, or a duration: before now
// for since, after now for until). Streaming (the default) without since or until sends only
// new events; otherwise the log from its start. A stream ends when until passes or the client
// goes away; stream=false ends at the end of the log.
func (s *Server) getLibpodEvents(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	stream := boolParam(r, "stream", true)
	o := engine.EventReadOptions{Follow: stream}
	var err error
	if v := q.Get("since"); v != "" {
		if o.Since, err = parseLibpodTime(v, true); err != nil {
			return badRequest("unable to convert since time of %s: %v", v, err)
		}
	}
	if v := q.Get("until"); v != "" {
		if o.Until, err = parseLibpodTime(v, false); err != nil {
			return badRequest("unable to convert until time of %s: %v", v, err)
		}
	}
	o.FromEnd = stream && o.Since.IsZero() && o.Until.IsZero()
	f, err := filters(r)
	if err != nil {
		return err
	}
	for k := range f {
		if !slices.Contains(libpodEventFilterKeys, k) {
			return badRequest("%s is an invalid filter", k)
		}
	}
	// A pod named in pod= matches its members' events too, which carry the pod's ID only.
	for _, v := range f["pod"] {
		if p, err := rt.LookupPod(v); err == nil && p.Config.ID != v {
			f["pod"] = append(f["pod"], p.Config.ID)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := httpFlusher(w)
	if flush != nil {
		flush() // the client waits for the answer's header
	}
	enc := json.NewEncoder(w)
	rt.ReadEvents(r.Context(), o, func(e *engine.Event) error {
		if ok, _ := matchFilters(f, func(k, v string) (bool, error) { return libpodEventMatches(e, k, v), nil }); !ok {
			return nil
		}
		m, ok := toLibpodEvent(e)
		if !ok {
			return nil
		}
		if err := enc.Encode(&m); err != nil {
			return err // the client is gone
		}
		if flush != nil {
			flush()
		}
		return nil
	})
	return nil
}

// libpodEventMatches answers one events filter as podman's: event= (or status=) matches
// podman's name of the status too.
func libpodEventMatches(e *engine.Event, key, v string) bool {
	if st, _ := libpodStatus(e.Status); (key == "event" || key == "status") && st == v {
		return true
	}
	return e.Matches(key, v)
}

// libpodStatus is podman's name of an event's status, and whether podman 4.3's client knows
// it (it crashes on an event whose status it cannot read, so such events are not sent).
func libpodStatus(status string) (string, bool) {
	switch status {
	case "load":
		return "loadfromarchive", true
	case "attach", "checkpoint", "cleanup", "commit", "connect", "create", "died", "disconnect", "exec", "exec_died",
		"export", "health_status", "import", "init", "kill", "mount", "pause", "prune", "pull", "push", "remove",
		"rename", "restart", "restore", "save", "start", "stop", "sync", "tag", "unmount", "unpause", "untag":
		return status, true
	}
	return status, false
}

// toLibpodEvent turns a pea event into podman's message; false for one the client cannot read.
func toLibpodEvent(e *engine.Event) (libpodEvent, bool) {
	status, ok := libpodStatus(e.Status)
	if !ok {
		return libpodEvent{}, false
	}
	attrs := make(map[string]string, len(e.Attributes)+4)
	m := libpodEvent{}
	code := "0"
	for k, v := range e.Attributes {
		switch k {
		case "exitCode": // pea's name of a died event's exit code
			code = v
		case "health_status":
			m.HealthStatus = v
		case engine.ExecIDAttr, engine.ExecCommandAttr: // Docker's; podman's events show neither
		default:
			attrs[k] = v
		}
	}
	attrs["image"], attrs["name"], attrs["containerExitCode"], attrs["podId"] = e.Image, e.Name, code, e.PodID
	if e.Network != "" {
		attrs["network"] = e.Network
	}
	m.dockerEvent = dockerEvent{Status: status, ID: e.ID, From: e.Image, Type: e.Type, Action: status,
		Actor: dockerActor{ID: e.ID, Attributes: attrs}, Scope: "local", Time: e.Time / 1e9, TimeNano: e.Time}
	return m, true
}

// parseLibpodTime reads podman's since and until: an RFC 3339 time or a date (UTC without a
// zone), Unix seconds with an optional fraction, or a duration, which is before now for since
// and after now for until.
func parseLibpodTime(v string, since bool) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return parseEventTime(v)
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("unable to interpret time value")
	}
	if since {
		return time.Now().Add(-d), nil
	}
	return time.Now().Add(d), nil
}

package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
)

// dockerEvent is Docker's event message (events.Message), with the deprecated status, id and
// from that Docker still fills for containers and images.
type dockerEvent struct {
	Status   string      `json:"status,omitempty"`
	ID       string      `json:"id,omitempty"`
	From     string      `json:"from,omitempty"`
	Type     string      `json:"Type"`
	Action   string      `json:"Action"`
	Actor    dockerActor `json:"Actor"`
	Scope    string      `json:"scope"`
	Time     int64       `json:"time"`
	TimeNano int64       `json:"timeNano"`
}

type dockerActor struct {
	ID         string            `json:"ID"`
	Attributes map[string]string `json:"Attributes"`
}

// eventFilterKeys are the filters Docker's /events accepts; those of objects pea has not
// (plugins, swarm's) match nothing but their own names.
var eventFilterKeys = []string{"config", "container", "daemon", "event", "image", "label", "network", "node", "plugin", "scope", "secret", "service", "type", "volume"}

// getEvents is GET /events?since=&until=&filters=: the event log (engine/events.go) as Docker's
// messages, one JSON object a line, each flushed as it comes. Without since or until only new
// events are sent; with since the log from then on first. It ends when until passes, or
// without until when the client goes away.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	o := engine.EventReadOptions{Follow: true}
	for name, dst := range map[string]*time.Time{"since": &o.Since, "until": &o.Until} {
		if v := q.Get(name); v != "" {
			t, err := parseEventTime(v)
			if err != nil {
				return badRequest("invalid %s %q: a Unix time in seconds, with an optional fraction", name, v)
			}
			*dst = t
		}
	}
	o.FromEnd = o.Since.IsZero() && o.Until.IsZero()
	f, err := filters(r)
	if err != nil {
		return err
	}
	for k := range f {
		if !slices.Contains(eventFilterKeys, k) {
			return badRequest("invalid filter '%s'", k)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush := httpFlusher(w)
	if flush != nil {
		flush() // the client waits for the answer's header
	}
	enc := json.NewEncoder(w)
	health := map[string]string{} // a container's last health status sent
	rt.ReadEvents(r.Context(), o, func(e *engine.Event) error {
		if e.Type == engine.EventContainer && (e.Status == "init" || e.Status == "cleanup") {
			return nil // podman's steps of a start and an exit: Docker has no such actions
		}
		m := toDockerEvent(e)
		if ok, _ := matchFilters(f, func(k, v string) (bool, error) { return dockerEventMatches(e, &m, k, v), nil }); !ok {
			return nil
		}
		if e.Status == "health_status" && e.Type == engine.EventContainer {
			// pea logs every check, as podman; Docker tells a change of status only.
			if health[e.ID] == m.Action {
				return nil
			}
			health[e.ID] = m.Action
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

// parseEventTime reads Docker's since and until: seconds since the epoch with an optional
// fraction (the client sends nanoseconds: 1700000000.123456789), read without a float's loss.
func parseEventTime(v string) (time.Time, error) {
	secs, frac, _ := strings.Cut(v, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	var nsec int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		if nsec, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return time.Time{}, err
		}
	}
	return time.Unix(sec, nsec), nil
}

// dockerAction is Docker's name of a pea (podman) event's status: where they differ, Docker's;
// a health check's carries the status it found ("health_status: healthy").
func dockerAction(e *engine.Event) string {
	switch {
	case e.Status == "died" && e.Type == engine.EventContainer:
		return "die"
	case e.Status == "remove" && e.Type == engine.EventImage:
		return "delete"
	case e.Status == "remove" && (e.Type == engine.EventContainer || e.Type == engine.EventVolume || e.Type == engine.EventNetwork):
		return "destroy"
	case e.Status == "health_status" && e.Type == engine.EventContainer && e.Attributes["health_status"] != "":
		return "health_status: " + e.Attributes["health_status"]
	case e.Status == "exec" && e.Type == engine.EventContainer:
		return "exec_start: " + e.Attributes[engine.ExecCommandAttr]
	case e.Status == "exec_create" && e.Type == engine.EventContainer:
		return "exec_create: " + e.Attributes[engine.ExecCommandAttr]
	case e.Status == "exec_died" && e.Type == engine.EventContainer:
		return "exec_die"
	}
	return e.Status
}

// toDockerEvent turns a pea event into Docker's message.
func toDockerEvent(e *engine.Event) dockerEvent {
	action := dockerAction(e)
	m := dockerEvent{Type: e.Type, Action: action, Scope: "local", Time: e.Time / 1e9, TimeNano: e.Time}
	attrs := map[string]string{}
	switch e.Type {
	case engine.EventContainer, engine.EventPod:
		maps.Copy(attrs, e.Attributes)
		delete(attrs, engine.ExecCommandAttr) // in the action
		m.Actor.ID = e.ID
		attrs["name"] = e.Name
		if e.Image != "" {
			attrs["image"] = e.Image
		}
		if old, ok := attrs["oldName"]; ok {
			attrs["oldName"] = "/" + old // Docker's names of containers start with a slash
		}
		if e.Type == engine.EventContainer {
			m.Status, m.ID, m.From = action, e.ID, e.Image
		}
	case engine.EventImage:
		// Docker names a pulled or pushed image by its reference, the others by their ID.
		m.Actor.ID = imageRef(e.ID)
		if e.Status == "pull" || e.Status == "push" {
			m.Actor.ID = e.Name
		}
		attrs["name"] = e.Name
		m.Status, m.ID = action, m.Actor.ID
	case engine.EventVolume:
		m.Actor.ID = e.Name
		attrs["driver"] = "local"
	case engine.EventNetwork:
		attrs["name"], attrs["type"] = e.Network, "bridge"
		m.Actor.ID = e.ID
		if e.Status == "connect" || e.Status == "disconnect" {
			attrs["container"] = e.ID
			m.Actor.ID = e.Attributes["networkID"]
			if m.Actor.ID == "" {
				m.Actor.ID = e.Network
			}
		}
	}
	m.Actor.Attributes = attrs
	return m
}

// dockerEventMatches answers one filter key=value as Docker's events filter does: container,
// network, volume (and the others of objects) match the actor's ID or its name by prefix,
// image the actor or its image by exact name (with or without the tag), event the action (pea's
// own status too: health_status is every "health_status: STATUS"), label an attribute.
func dockerEventMatches(e *engine.Event, m *dockerEvent, key, v string) bool {
	switch key {
	case "event":
		if v == "exec_create" || v == "exec_start" || v == "health_status" {
			// Docker's daemon matches these by prefix: the action carries the command or status.
			return strings.HasPrefix(m.Action, v)
		}
		return m.Action == v || e.Status == v
	case "type":
		return m.Type == v
	case "scope":
		return v == "local"
	case "label":
		return model.LabelsMatch(m.Actor.Attributes, v)
	case "image":
		name := m.Actor.Attributes["image"]
		if m.Type == engine.EventImage {
			name = m.Actor.Attributes["name"]
		}
		id := strings.TrimPrefix(m.Actor.ID, "sha256:")
		return m.Actor.ID == v || id == strings.TrimPrefix(v, "sha256:") || engine.EventImageMatches(name, v) ||
			engine.EventImageMatches(m.Actor.ID, v)
	default: // container, network, volume, ...
		return v != "" && (strings.HasPrefix(m.Actor.ID, v) || strings.HasPrefix(m.Actor.Attributes["name"], v))
	}
}

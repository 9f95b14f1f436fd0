package engine

import (
	"strings"

	"pea/internal/model"
)

// Matches answers one events filter KEY=VALUE for e, as podman's events filters do (pea
// events --filter and the libpod API's events). A pod given by name in pod= must be added by
// its ID too: a member's event carries the pod's ID alone.
func (e *Event) Matches(key, v string) bool {
	idOrName := func() bool { return v != "" && strings.HasPrefix(e.ID, v) || e.Name == v }
	switch key {
	case "container":
		// A network connect or disconnect is its container's too.
		return (e.Type == EventContainer || e.IsConnect()) && idOrName()
	case "event", "status":
		return e.Status == v || v == "die" && e.Status == "died"
	case "image":
		switch e.Type {
		case EventContainer:
			return EventImageMatches(e.Image, v)
		case EventImage:
			return v != "" && strings.HasPrefix(e.ID, v) || EventImageMatches(e.Name, v)
		}
		return false
	case "label":
		return model.LabelsMatch(e.Attributes, v)
	case "network":
		return e.Type == EventNetwork && (e.Network == v || !e.IsConnect() && idOrName())
	case "pod":
		switch e.Type {
		case EventPod:
			return idOrName()
		case EventContainer:
			return v != "" && strings.HasPrefix(e.PodID, v)
		}
		return false
	case "type":
		return e.Type == v
	case "volume":
		return e.Type == EventVolume && e.Name == v
	}
	return false
}

// IsConnect tells a network's connect or disconnect event, whose ID and name are the
// container's, from its create or remove.
func (e *Event) IsConnect() bool {
	return e.Type == EventNetwork && (e.Status == "connect" || e.Status == "disconnect")
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

type eventsOptions struct {
	filters      []string
	since, until string
	stream       bool
	format       string
	noTrunc      bool
}

func init() { register(newEventsCommand, "events") }

// newEventsCommand is `events`: the event log (see engine/events.go), then, with --stream,
// what happens from now on.
func newEventsCommand(a *app) *cobra.Command {
	var o eventsOptions
	cmd := &cobra.Command{
		Use:   "events [options]",
		Short: "Show pea events",
		Long: "Show what pea did to containers, pods, images, volumes and networks, oldest first, then follow.\n" +
			"Filters: container=, event= (or status=), image=, label=KEY[=VALUE], network=, pod=, type=, volume=;\n" +
			"values of one key are ORed, different keys ANDed.",
		Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEvents(a, &o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.filters, "filter", "f", nil, "show only the events that match KEY=VALUE")
	f.StringVar(&o.since, "since", "", "show events since a time (RFC 3339, a Unix time, or a duration like 10m before now)")
	f.StringVar(&o.until, "until", "", "show events until a time (RFC 3339, a Unix time, or a duration like 10m before now)")
	f.BoolVar(&o.stream, "stream", true, "keep showing new events (without it, or with --until, end at the end of the log)")
	f.StringVar(&o.format, "format", "", "json for one JSON object per event, or a Go template")
	f.BoolVar(&o.noTrunc, "no-trunc", true, "do not truncate IDs")
	return cmd
}

var eventFilterKeys = []string{"container", "event", "image", "label", "network", "pod", "status", "type", "volume"}

func runEvents(a *app, o *eventsOptions) error {
	filters := make([]string, len(o.filters))
	for i, f := range o.filters {
		filters[i] = f
		if v, ok := strings.CutPrefix(f, "status="); ok { // podman's other name of event=
			filters[i] = "event=" + v
		}
	}
	byKey, err := parseFilters(filters, filterSpec{what: "event", keys: eventFilterKeys})
	if err != nil {
		return err
	}
	ro := engine.EventReadOptions{Follow: o.stream}
	if o.since != "" {
		if ro.Since, err = parseTimeArg(o.since); err != nil {
			return err
		}
	}
	if o.until != "" {
		if ro.Until, err = parseUntilArg(o.until); err != nil {
			return err
		}
	}
	var tmpl *template.Template
	if o.format != "" && o.format != "json" {
		if tmpl, err = template.New("format").Funcs(templateFuncs).Parse(normalizeTemplate(o.format)); err != nil {
			return invalid("invalid --format template: %v", err)
		}
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	// A pod named in pod= matches its members' events too, which carry the pod's ID only.
	for _, v := range byKey["pod"] {
		if p, err := rt.LookupPod(v); err == nil && p.Config.ID != v {
			byKey["pod"] = append(byKey["pod"], p.Config.ID)
		}
	}
	var line strings.Builder
	return rt.ReadEvents(context.Background(), ro, func(e *engine.Event) error {
		if !matchFilters(byKey, func(k, v string) bool { return e.Matches(k, v) }) {
			return nil
		}
		line.Reset()
		switch {
		case tmpl != nil:
			if err := tmpl.Execute(&line, newEventView(e)); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
		case o.format == "json":
			b, err := json.Marshal(newEventView(e))
			if err != nil {
				return err
			}
			line.Write(b)
			line.WriteByte('\n')
		default:
			line.WriteString(humanEvent(e, o.noTrunc))
			line.WriteByte('\n')
		}
		_, err := a.stdout.Write([]byte(line.String())) // one write per event: a follower sees it at once
		return err
	})
}

// eventView is an event as podman's --format shows it (its JSON field names).
type eventView struct {
	ContainerExitCode int    `json:",omitempty"` // 0 unless died, as podman's (an int there)
	ID                string `json:",omitempty"`
	Image             string `json:",omitempty"`
	Name              string `json:",omitempty"`
	Network           string `json:"network,omitempty"`
	Status            string
	Time              time.Time
	Type              string
	// HealthStatus is a health_status event's result (healthy, unhealthy, starting).
	HealthStatus string `json:"health_status,omitempty"`
	PodID        string `json:",omitempty"`
	Attributes   map[string]string
}

func newEventView(e *engine.Event) *eventView {
	v := &eventView{ID: e.ID, Image: e.Image, Name: e.Name, Network: e.Network, Status: e.Status,
		Time: e.TimeOf(), Type: e.Type, PodID: e.PodID, Attributes: shownAttributes(e), HealthStatus: healthStatusOf(e)}
	if v.Attributes == nil && e.Type == engine.EventContainer { // podman: {} for a container's, null for the others
		v.Attributes = map[string]string{}
	}
	if code, err := strconv.Atoi(e.Attributes["exitCode"]); err == nil && (e.Status == "died" || e.Status == "exec_died") {
		v.ContainerExitCode = code
	}
	return v
}

// healthStatusOf is a container's health_status event's result: its HealthStatus in podman's
// events, not an attribute (the Docker API's status shows it).
func healthStatusOf(e *engine.Event) string {
	if e.Type == engine.EventContainer && e.Status == "health_status" {
		return e.Attributes["health_status"]
	}
	return ""
}

// shownAttributes are an event's attributes as podman's events show them: a died or exec_died
// event's exit code is its ContainerExitCode and a health_status event's result its
// HealthStatus, not attributes (the Docker API shows them as ones), and an exec session's ID and
// command are not shown.
func shownAttributes(e *engine.Event) map[string]string {
	_, hasCode := e.Attributes["exitCode"]
	if e.Type != engine.EventContainer || !hasCode && !engine.IsExecEvent(e.Status) && healthStatusOf(e) == "" {
		return e.Attributes
	}
	out := maps.Clone(e.Attributes)
	delete(out, "exitCode")
	if healthStatusOf(e) != "" {
		delete(out, "health_status")
	}
	if engine.IsExecEvent(e.Status) { // the session's ID and command are the API's (Docker's events)
		delete(out, engine.ExecIDAttr)
		delete(out, engine.ExecCommandAttr)
	}
	return out
}

// humanEvent is podman's line for an event: time, type, status, ID, then what the type adds.
func humanEvent(e *engine.Event, noTrunc bool) string {
	id := e.ID
	if e.Type != engine.EventVolume {
		id = truncID(id, noTrunc)
	}
	head := e.TimeOf().String() + " " + e.Type + " " + e.Status + " "
	switch e.Type {
	case engine.EventContainer, engine.EventPod:
		var b strings.Builder
		b.WriteString(head + id + " (image=" + e.Image + ", name=" + e.Name)
		if e.PodID != "" {
			b.WriteString(", pod_id=" + e.PodID)
		}
		if hs := healthStatusOf(e); hs != "" {
			b.WriteString(", health_status=" + hs)
		}
		attrs := shownAttributes(e)
		for _, k := range slices.Sorted(maps.Keys(attrs)) {
			b.WriteString(", " + k + "=" + attrs[k])
		}
		b.WriteString(")")
		return b.String()
	case engine.EventImage:
		return head + id + " " + e.Name
	case engine.EventNetwork:
		if e.IsConnect() { // the container's ID
			return head + id + " (container=" + id + ", name=" + e.Network + ")"
		}
		return head + id + " (name=" + e.Network + ")"
	default:
		return head + e.Name
	}
}

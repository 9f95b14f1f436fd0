package api

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/model"
	"pea/internal/network"
)

// containerFilter is GET /containers/json's filters, with what they name looked up once:
// names are regular expressions (docker ps --filter name=^web), ancestor images and the
// containers of before and since are resolved in the store, networks by name or ID (bridge:
// pea's default network), as Docker's daemon does. Each key must match one of its values, every
// label value must match (matchFilters).
type containerFilter struct {
	f       map[string][]string
	names   map[string]*regexp.Regexp
	images  map[string]string    // an ancestor value -> its image's ID ("" when unknown)
	created map[string]time.Time // a before or since value -> that container's creation
	nets    map[string]string    // a network value -> the network's name
	ports   map[string][]model.PortMapping
}

// dockerPsFilterKeys are the keys Docker's container list accepts.
func dockerPsFilterKeys() []string {
	return []string{"ancestor", "before", "exited", "expose", "health", "id", "isolation", "is-task", "label", "label!",
		"name", "network", "publish", "since", "status", "volume"}
}

// newContainerFilter compiles f, refusing the keys and values Docker refuses, with its
// messages.
func newContainerFilter(rt *engine.Runtime, f map[string][]string) (*containerFilter, error) {
	cf := &containerFilter{f: f, names: map[string]*regexp.Regexp{}, images: map[string]string{},
		created: map[string]time.Time{}, nets: map[string]string{}, ports: map[string][]model.PortMapping{}}
	for key, vals := range f {
		if !slices.Contains(dockerPsFilterKeys(), key) {
			return nil, badRequest("invalid filter '%s'", key)
		}
		for _, v := range vals {
			switch key {
			case "name":
				re, err := regexp.Compile(v)
				if err != nil {
					return nil, badRequest("invalid filter 'name=%s': %v", v, err)
				}
				cf.names[v] = re
			case "ancestor":
				if img, err := rt.ImageLookup(v); err == nil {
					cf.images[v] = img.ID
				}
			case "before", "since":
				c, err := lookup(rt, v)
				if err != nil {
					return nil, err
				}
				cf.created[v] = c.Config.Created
			case "network":
				if v == model.NSModeHost || v == model.NSModeNone {
					cf.nets[v] = v // Docker's host and none networks: the namespace modes
				} else if n, err := findNetwork(rt, v); err == nil {
					cf.nets[v] = n.Name
				}
			case "publish", "expose":
				pms, err := portFilter(key, v)
				if err != nil {
					return nil, err
				}
				cf.ports[v] = pms
			case "status":
				if !slices.Contains([]string{"created", "restarting", "running", "removing", "paused", "exited", "dead"}, v) {
					return nil, badRequest("invalid filter 'status=%s'", v)
				}
			case "health":
				if !slices.Contains([]string{model.HealthStarting, model.HealthHealthy, model.HealthUnhealthy, "none"}, v) {
					return nil, badRequest("invalid filter 'health=%s'", v)
				}
			case "is-task":
				if _, err := strconv.ParseBool(v); err != nil {
					return nil, badRequest("invalid filter 'is-task=%s'", v)
				}
			}
		}
	}
	return cf, nil
}

// portFilter reads publish's and expose's PORT[/PROTO] or START-END[/PROTO] (tcp by default).
func portFilter(key, v string) ([]model.PortMapping, error) {
	if strings.Contains(v, ":") {
		return nil, badRequest("filter for '%s' should not contain ':': %s", key, v)
	}
	port, proto, _ := strings.Cut(v, "/")
	if proto == "" {
		proto = "tcp"
	}
	lo, hi, isRange := strings.Cut(port, "-")
	if !isRange {
		hi = lo
	}
	start, err1 := strconv.ParseUint(lo, 10, 16)
	end, err2 := strconv.ParseUint(hi, 10, 16)
	if err1 != nil || err2 != nil || end < start {
		return nil, badRequest("invalid filter '%s=%s': not a port or a range of ports", key, v)
	}
	return []model.PortMapping{{ContainerPort: uint16(start), Range: uint16(end-start) + 1, Protocol: proto}}, nil
}

// match tells whether c passes every key.
func (cf *containerFilter) match(rt *engine.Runtime, c *model.Container) bool {
	ok, _ := matchFilters(cf.f, func(k, v string) (bool, error) { return cf.matchOne(rt, c, k, v), nil })
	return ok
}

// matchOne tells whether c matches one key=value.
func (cf *containerFilter) matchOne(rt *engine.Runtime, c *model.Container, key, v string) bool {
	cfg := c.Config
	switch key {
	case "name":
		re := cf.names[v]
		return re != nil && (re.MatchString(cfg.Name) || re.MatchString("/"+cfg.Name)) // Docker's names begin with /
	case "ancestor":
		if id := cf.images[v]; id != "" && cfg.Image == id {
			return true
		}
		// The image may be gone, or the value a name the store no longer resolves to it.
		return cfg.ImageName == v || strings.HasPrefix(cfg.Image, strings.TrimPrefix(v, "sha256:")) ||
			strings.TrimPrefix(cfg.ImageName, "docker.io/library/") == v || strings.TrimSuffix(cfg.ImageName, ":latest") == v
	case "before", "since":
		t, ok := cf.created[v]
		if !ok {
			return false
		}
		if key == "before" {
			return cfg.Created.Before(t)
		}
		return cfg.Created.After(t)
	case "network":
		name, ok := cf.nets[v]
		if !ok {
			return false
		}
		if mode := cfg.NS(model.NSNet).Mode; name == model.NSModeHost || name == model.NSModeNone {
			return mode == name
		}
		if _, ok := c.State.Networks[name]; ok {
			return true
		}
		nets := cfg.Network.Networks
		if len(nets) == 0 && cfg.NS(model.NSNet).Mode == model.NSModeBridge {
			nets = []string{network.DefaultName}
		}
		return slices.Contains(nets, name)
	case "publish", "expose":
		for _, want := range cf.ports[v] {
			ports := dockerPorts(rt, c)
			if key == "expose" {
				ports = append(slices.Clone(ports), cfg.Network.Expose...)
			}
			for _, p := range ports {
				if key == "publish" && p.HostPort == 0 || p.Protocol != want.Protocol {
					continue
				}
				// The ranges [p, p+n) and [want, want+m) overlap.
				if p.ContainerPort < want.ContainerPort+want.Range && want.ContainerPort < p.ContainerPort+max(p.Range, 1) {
					return true
				}
			}
		}
		return false
	case "is-task":
		b, _ := strconv.ParseBool(v)
		return !b // no container is a swarm task
	case "isolation":
		return v == "default" || v == ""
	}
	return matchFilter(c, key, v)
}

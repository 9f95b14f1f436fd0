package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// volumeRoutes registers the /volumes endpoints.
func (s *Server) volumeRoutes() {
	s.route("GET", "/volumes", s.getVolumes)
	s.route("GET", "/volumes/{$}", s.getVolumes)
	s.route("GET", "/volumes/{name}", s.getVolume)
	s.route("POST", "/volumes/create", s.postVolumeCreate)
	s.route("DELETE", "/volumes/{name}", s.deleteVolume)
	s.route("POST", "/volumes/prune", s.postVolumesPrune)
}

// apiVolume is Docker's view of a volume.
type apiVolume struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  string            `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`
	Options    map[string]string `json:"Options"`
}

func toAPIVolume(v *model.Volume) apiVolume {
	out := apiVolume{Name: v.Name, Driver: orDefault(v.Driver, "local"), Mountpoint: v.Mountpoint,
		Labels: v.Labels, Scope: "local", Options: v.Options}
	if !v.Created.IsZero() {
		out.CreatedAt = v.Created.UTC().Format(time.RFC3339)
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Options == nil {
		out.Options = map[string]string{}
	}
	return out
}

// noSuchVolume is Docker's 404 for a volume.
func noSuchVolume(name string) error {
	return &apiError{http.StatusNotFound, "get " + name + ": no such volume"}
}

// volumeUsers maps each volume's name to the IDs of the containers that mount it.
func volumeUsers(rt *engine.Runtime) (map[string][]string, error) {
	cs, err := rt.ListContainers()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, c := range cs {
		seen := map[string]bool{}
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" && !seen[m.Source] {
				seen[m.Source] = true
				out[m.Source] = append(out[m.Source], c.Config.ID)
			}
		}
	}
	return out, nil
}

// matchVolume applies docker volume ls's (and prune's) filters: each key must match one of its
// values.
func matchVolume(v *model.Volume, f map[string][]string, used bool) (bool, error) {
	return matchFilters(f, func(key, val string) (ok bool, err error) {
		switch key {
		case "name":
			ok = strings.Contains(v.Name, val)
		case "driver":
			ok = orDefault(v.Driver, "local") == val
		case "dangling":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return false, badRequest("invalid filter 'dangling=%s'", val)
			}
			ok = b != used
		case "label":
			ok = model.LabelsMatch(v.Labels, val)
		case "label!":
			ok = !model.LabelsMatch(v.Labels, val)
		case "all", "until":
			ok = true // prune's: every unused volume goes (API 1.41); until is checked there
		default:
			return false, badRequest("invalid filter '%s'", key)
		}
		return ok, nil
	})
}

// listVolumes is the volumes the request's filters= match (Docker's and libpod's lists).
func listVolumes(r *http.Request, rt *engine.Runtime) ([]*model.Volume, error) {
	f, err := filters(r)
	if err != nil {
		return nil, err
	}
	vs, err := rt.ListVolumes()
	if err != nil {
		return nil, err
	}
	users, err := volumeUsers(rt)
	if err != nil {
		return nil, err
	}
	var out []*model.Volume
	for _, v := range vs {
		ok, err := matchVolume(v, f, len(users[v.Name]) > 0)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// getVolumes is GET /volumes?filters=.
func (s *Server) getVolumes(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	vs, err := listVolumes(r, rt)
	if err != nil {
		return err
	}
	out := []apiVolume{}
	for _, v := range vs {
		out = append(out, toAPIVolume(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"Volumes": out, "Warnings": []string{}})
	return nil
}

// getVolume is GET /volumes/{name}.
func (s *Server) getVolume(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	v, err := rt.LookupVolume(r.PathValue("name"))
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return noSuchVolume(r.PathValue("name"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toAPIVolume(v))
	return nil
}

// postVolumeCreate is POST /volumes/create {Name, Driver, DriverOpts, Labels}: 201 and the
// volume; a name that exists answers with that volume, as Docker does.
func (s *Server) postVolumeCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var req struct {
		Name       string            `json:"Name"`
		Driver     string            `json:"Driver"`
		DriverOpts map[string]string `json:"DriverOpts"`
		Labels     map[string]string `json:"Labels"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Driver != "" && req.Driver != "local" {
		return badRequest("volume driver %q is not supported: pea's volumes are local", req.Driver)
	}
	if req.Name != "" {
		if v, err := rt.LookupVolume(req.Name); err == nil {
			writeJSON(w, http.StatusCreated, toAPIVolume(v))
			return nil
		}
	}
	v, err := rt.CreateVolume(req.Name, req.Labels, req.DriverOpts)
	if errdefs.Is(err, errdefs.ErrExists) {
		v, err = rt.LookupVolume(req.Name) // made meanwhile
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toAPIVolume(v))
	return nil
}

// deleteVolume is DELETE /volumes/{name}?force=: 204; 409 while a container uses it (force
// too, as Docker: it only forgives a missing volume).
func (s *Server) deleteVolume(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("name")
	force := boolParam(r, "force", false)
	if _, err := rt.LookupVolume(name); err != nil {
		if errdefs.Is(err, errdefs.ErrNotFound) {
			if force {
				w.WriteHeader(http.StatusNoContent)
				return nil
			}
			return noSuchVolume(name)
		}
		return err
	}
	users, err := rt.VolumeUsers(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		return &apiError{http.StatusConflict, fmt.Sprintf("remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))}
	}
	if err := rt.RemoveVolume(name, false); err != nil {
		if errdefs.Is(err, errdefs.ErrNotFound) && force {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postVolumesPrune is POST /volumes/prune?filters=: every volume no container uses (label,
// label! and until narrow it) → {VolumesDeleted, SpaceReclaimed}.
func (s *Server) postVolumesPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	until, err := untilCutoff(f)
	if err != nil {
		return err
	}
	vs, err := rt.ListVolumes()
	if err != nil {
		return err
	}
	users, err := volumeUsers(rt)
	if err != nil {
		return err
	}
	deleted := []string{}
	var reclaimed uint64
	for _, v := range vs {
		if len(users[v.Name]) > 0 {
			continue
		}
		ok, err := matchVolume(v, f, false)
		if err != nil {
			return err
		}
		if !ok || !until.IsZero() && !v.Created.Before(until) {
			continue
		}
		size := uint64(engine.PathSize(v.Mountpoint))
		// Refused when a container took it meanwhile: it stays.
		if err := rt.RemoveVolume(v.Name, false); err == nil {
			deleted = append(deleted, v.Name)
			reclaimed += size
		} else if !errdefs.Is(err, errdefs.ErrInUse) && !errdefs.Is(err, errdefs.ErrNotFound) {
			return err
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"VolumesDeleted": deleted, "SpaceReclaimed": reclaimed})
	return nil
}

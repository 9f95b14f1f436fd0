package api

// The libpod secret endpoints (podman --remote secret create/ls/inspect/rm/exists), on the
// engine's secrets (engine/secrets.go) and the CLI's inspect view (internal/view).

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"pea/internal/engine"
	"pea/internal/view"
)

// secretMaxBody bounds a created secret's data read from the request (the engine refuses
// more than 512 KiB).
const secretMaxBody = 1 << 20

func (s *Server) libpodSecretRoutes() {
	s.lroute("POST", "/secrets/create", s.postLibpodSecretCreate)
	s.lroute("GET", "/secrets/json", s.getLibpodSecrets)
	s.lroute("GET", "/secrets/{name}/json", s.getLibpodSecret)
	s.lroute("GET", "/secrets/{name}/exists", s.getLibpodSecretExists)
	s.lroute("DELETE", "/secrets/{name}", s.deleteLibpodSecret)
}

// jsonMapParam reads a query parameter holding a JSON object of strings (podman's client
// sends maps so); absent is nil.
func jsonMapParam(r *http.Request, name string) (map[string]string, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(v), &m); err != nil {
		return nil, badRequest("%s: not a JSON object of strings: %v", name, err)
	}
	return m, nil
}

// postLibpodSecretCreate is POST /libpod/secrets/create?name=&driver=&driveropts=&labels=, the
// data as the body: 200 {"ID"}.
func (s *Server) postLibpodSecretCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	opts, err := jsonMapParam(r, "driveropts")
	if err != nil {
		return err
	}
	labels, err := jsonMapParam(r, "labels")
	if err != nil {
		return err
	}
	driver := q.Get("driver")
	if driver == "" {
		driver = "file"
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, secretMaxBody))
	if err != nil {
		return err
	}
	sec, err := rt.CreateSecretWith(q.Get("name"), data, labels, driver, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"ID": sec.ID})
	return nil
}

// getLibpodSecrets is GET /libpod/secrets/json?filters={"name":[..],"id":[..]}.
func (s *Server) getLibpodSecrets(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	all, err := rt.ListSecrets()
	if err != nil {
		return err
	}
	out := []*view.Secret{}
	for _, sec := range all {
		if !anyMatch(f["name"], func(v string) bool { return strings.Contains(sec.Name, v) }) ||
			!anyMatch(f["id"], func(v string) bool { return strings.HasPrefix(sec.ID, v) }) {
			continue
		}
		out = append(out, view.NewSecret(rt, sec))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// anyMatch is true when vs is empty or one of them matches.
func anyMatch(vs []string, match func(string) bool) bool {
	if len(vs) == 0 {
		return true
	}
	for _, v := range vs {
		if match(v) {
			return true
		}
	}
	return false
}

// getLibpodSecret is GET /libpod/secrets/{name}/json.
func (s *Server) getLibpodSecret(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	sec, err := rt.LookupSecret(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view.NewSecret(rt, sec))
	return nil
}

// getLibpodSecretExists is GET /libpod/secrets/{name}/exists: 204, or 404.
func (s *Server) getLibpodSecretExists(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if _, err := rt.LookupSecret(r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteLibpodSecret is DELETE /libpod/secrets/{name}: 204.
func (s *Server) deleteLibpodSecret(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if _, err := rt.RemoveSecret(r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

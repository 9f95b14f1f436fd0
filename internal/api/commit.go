package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"pea/internal/engine"
)

// postCommit is POST /commit?container=&repo=&tag=&comment=&author=&changes=: an image of the
// container's changes (docker commit). The body, a container config Docker merges into the
// image's, is not read: --change carries what it can set.
func (s *Server) postCommit(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	c, err := lookup(rt, q.Get("container"))
	if err != nil {
		return err
	}
	ref := q.Get("repo")
	if tag := q.Get("tag"); ref != "" && tag != "" {
		ref += ":" + tag
	}
	o := engine.CommitOptions{Ref: ref, Author: q.Get("author"), Message: q.Get("comment")}
	for _, ch := range q["changes"] {
		// The docker client sends each --change as its own value; older clients joined them
		// with newlines.
		for _, line := range strings.Split(ch, "\n") {
			if line = strings.TrimSpace(line); line != "" {
				o.Changes = append(o.Changes, line)
			}
		}
	}
	img, err := rt.CommitContainer(r.Context(), c.Config.ID, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]string{"Id": imageRef(img.ID)})
	return nil
}

// getContainerChanges is GET /containers/{id}/changes: Docker's Kind is 0 modified, 1 added,
// 2 deleted.
func (s *Server) getContainerChanges(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	changes, err := rt.ContainerChanges(c.Config.ID)
	if err != nil {
		return err
	}
	kinds := map[string]int{"C": 0, "A": 1, "D": 2}
	out := []map[string]any{}
	for _, ch := range changes {
		k, ok := kinds[ch.Kind]
		if !ok {
			return fmt.Errorf("unknown change kind %q of %s", ch.Kind, ch.Path)
		}
		out = append(out, map[string]any{"Path": ch.Path, "Kind": k})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getContainerExport is GET /containers/{id}/export: the root filesystem as a tar.
func (s *Server) getContainerExport(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-tar")
	cw := &countingWriter{w: w}
	if err := rt.ExportContainer(r.Context(), c.Config.ID, cw); err != nil {
		if cw.n == 0 {
			return err
		}
		// The answer has begun: only breaking the connection tells the client.
		panic(http.ErrAbortHandler)
	}
	return nil
}

// pruneFilter is Docker's label, label! and until filters of a prune; keys in skip are the
// caller's own.
func pruneFilter(f map[string][]string, skip ...string) (engine.PruneFilter, error) {
	var pf engine.PruneFilter
	for key, vals := range f {
		if slices.Contains(skip, key) {
			continue
		}
		for _, v := range vals {
			if err := pf.Add(key, v); err != nil {
				return pf, badRequest("%v", err)
			}
		}
	}
	return pf, nil
}

// postContainersPrune is POST /containers/prune: every stopped container goes.
func (s *Server) postContainersPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	pf, err := pruneFilter(f)
	if err != nil {
		return err
	}
	ids, err := rt.PruneContainers(r.Context(), pf)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ContainersDeleted": ids, "SpaceReclaimed": 0})
	return nil
}

package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// The archive endpoints are docker cp's: HEAD stats a path in a container, GET reads it as a
// tar, PUT writes a tar's contents into a directory. The container's side of every copy is done
// by pea's copier, chroot'ed in the container's root (engine.CopyPath, engine.StatPath): no
// link of the container's leads out. The service's side is a private temporary directory.

const pathStatHeader = "X-Docker-Container-Path-Stat"

// archivePath reads ?path=, which is required.
func archivePath(r *http.Request) (string, error) {
	p := r.URL.Query().Get("path")
	if p == "" {
		return "", badRequest("path is required: the path in the container")
	}
	return p, nil
}

// statHeader sets Docker's path stat header for path in the container.
func statHeader(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, id, p string) error {
	st, err := rt.StatPath(r.Context(), id, p)
	if err != nil {
		if strings.Contains(err.Error(), "no such file or directory") || errdefs.Is(err, errdefs.ErrNotFound) {
			return &apiError{http.StatusNotFound, fmt.Sprintf("Could not find the file %s in container %s", p, id)}
		}
		return err
	}
	js, err := json.Marshal(st)
	if err != nil {
		return err
	}
	w.Header().Set(pathStatHeader, base64.StdEncoding.EncodeToString(js))
	return nil
}

// headContainerArchive is HEAD /containers/{id}/archive?path=.
func (s *Server) headContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := statHeader(w, r, rt, c.Config.ID, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getContainerArchive is GET /containers/{id}/archive?path=: path (a file, or a directory and
// what it holds) as a tar whose top entry is its base name.
func (s *Server) getContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if err := statHeader(w, r, rt, c.Config.ID, p); err != nil {
		return err
	}
	// A link the path names is sent as the link, as Docker's daemon does (docker cp -L asks
	// for the link's target by its own path); a trailing slash goes through it.
	noFollow := !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/.")
	started := false
	err = rt.CopyOutArchive(r.Context(), c.Config.ID+":"+p, engine.CopyOptions{NoFollow: noFollow}, func() (io.Writer, error) {
		started = true
		w.Header().Set("Content-Type", "application/x-tar")
		w.WriteHeader(http.StatusOK)
		return w, nil
	})
	if err != nil && started {
		// The answer has begun: only breaking the connection tells the client.
		panic(http.ErrAbortHandler)
	}
	if err != nil && errdefs.Is(err, errdefs.ErrInvalid) {
		return badRequest("%v", err)
	}
	return err
}

// putContainerArchive is PUT /containers/{id}/archive?path=: the tar in the body is unpacked
// into path, which must be a directory in the container.
func (s *Server) putContainerArchive(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	p, err := archivePath(r)
	if err != nil {
		return err
	}
	if _, err := rt.StatPath(r.Context(), c.Config.ID, p); err != nil {
		return &apiError{http.StatusNotFound, fmt.Sprintf("Could not find the file %s in container %s", p, c.Config.ID)}
	}
	if err := rt.CopyInArchive(r.Context(), r.Body, c.Config.ID+":"+p); err != nil {
		if errdefs.Is(err, errdefs.ErrInvalid) {
			return badRequest("%v", err)
		}
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

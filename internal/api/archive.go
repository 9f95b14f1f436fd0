package api

import (
	"archive/tar"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
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
	tmp, err := os.MkdirTemp("", "pea-api-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	base := path.Base(path.Clean("/" + p))
	if base == "/" || strings.HasSuffix(p, "/.") {
		base = "."
	}
	dst := filepath.Join(tmp, "x")
	// A link the path names is sent as the link, as Docker's daemon does (docker cp -L asks
	// for the link's target by its own path); a trailing slash goes through it.
	noFollow := !strings.HasSuffix(p, "/") && !strings.HasSuffix(p, "/.")
	if err := rt.CopyPathWith(r.Context(), c.Config.ID+":"+p, dst, engine.CopyOptions{NoFollow: noFollow}); err != nil {
		return err
	}
	if _, err := os.Lstat(dst); err != nil {
		// The copier copies no devices, FIFOs or sockets out of a container.
		return badRequest("%s in container %s is not a file, directory or link: it cannot be copied out", p, c.Config.ID)
	}
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	tw := tar.NewWriter(w)
	if err := engine.TarTree(tw, dst, base); err != nil {
		// The answer has begun: only breaking the connection tells the client.
		panic(http.ErrAbortHandler)
	}
	return tw.Close()
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
	st, err := rt.StatPath(r.Context(), c.Config.ID, p)
	if err != nil {
		return &apiError{http.StatusNotFound, fmt.Sprintf("Could not find the file %s in container %s", p, c.Config.ID)}
	}
	if fs.FileMode(st.Mode)&fs.ModeSymlink != 0 && st.LinkTarget != "" {
		if st, err = rt.StatPath(r.Context(), c.Config.ID, st.LinkTarget); err != nil {
			return err
		}
	}
	if !fs.FileMode(st.Mode).IsDir() {
		return badRequest("extraction point is not a directory: %s", p)
	}
	tmp, err := os.MkdirTemp("", "pea-api-cp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := engine.Untar(r.Body, tmp); err != nil {
		return badRequest("reading the archive: %v", err)
	}
	if err := rt.CopyPath(r.Context(), tmp+"/.", c.Config.ID+":"+strings.TrimSuffix(p, "/")+"/"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

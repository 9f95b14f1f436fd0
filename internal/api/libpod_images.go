package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/view"
)

// libpodImageRoutes registers the libpod image endpoints (image names hold slashes: one
// pattern per method, the action split off the end as for Docker's).
func (s *Server) libpodImageRoutes() {
	s.lroute("GET", "/images/json", s.getLibpodImages)
	s.lroute("POST", "/images/pull", s.postLibpodImagesPull)
	s.lroute("POST", "/images/prune", s.postLibpodImagesPrune)
	s.lroute("DELETE", "/images/remove", s.deleteLibpodImages)
	s.lroute("GET", "/images/export", s.getLibpodImagesExport)
	s.lroute("GET", "/images/{rest...}", s.getLibpodImage)
	s.lroute("POST", "/images/{rest...}", s.postLibpodImage)
	s.lroute("DELETE", "/images/{rest...}", s.deleteLibpodImage)
}

// libpodImage is podman's ImageSummary: Docker's with IDs without "sha256:" and podman's
// own fields.
type libpodImage struct {
	imageSummary
	Names    []string `json:"Names"`
	Digest   string   `json:"Digest"`
	Dangling bool     `json:"Dangling"`
	ReadOnly bool     `json:"ReadOnly"`
	History  []string `json:"History"`
}

// getLibpodImages is GET /libpod/images/json?all=&filters=.
func (s *Server) getLibpodImages(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	imgs, err := listImages(r, rt)
	if err != nil {
		return err
	}
	out := []libpodImage{}
	for _, l := range imgs {
		sum := toImageSummary(l.img, l.names, l.users)
		sum.ID = strings.TrimPrefix(sum.ID, "sha256:")
		out = append(out, libpodImage{imageSummary: sum, Names: nonNilStrings(l.img.Names), Digest: l.img.Digest,
			Dangling: l.img.Dangling(), History: nonNilStrings(l.img.NamesHistory)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodImage is GET /libpod/images/{name}/json and /exists.
func (s *Server) getLibpodImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name, action := imageAction(r.PathValue("rest"), "json", "exists", "history", "tree")
	switch action {
	case "tree":
		return s.imageTree(w, r, rt, name)
	case "json":
		img, err := rt.ImageLookup(name)
		if err == nil && img.IsList() {
			img, err = rt.ManifestMember(img) // as podman: a list's image for this machine
		}
		if err != nil {
			return err
		}
		dirs, err := rt.ImageLayerDirs(img)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, view.ImageInspect(img, dirs)) // pea image inspect's view
		return nil
	case "history":
		return s.getImageHistory(w, r, rt, name)
	case "exists":
		if _, err := rt.ImageLookup(name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return notFoundPath(r)
}

// postLibpodImage is POST /libpod/images/{name}/tag?repo=&tag=, /untag and /push.
func (s *Server) postLibpodImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name, action := imageAction(r.PathValue("rest"), "tag", "untag", "push")
	switch action {
	case "push":
		return s.postLibpodImagePush(w, r, rt, name) // libpod_transfer.go
	case "tag":
		return s.postImageTag(w, r, rt, name)
	case "untag":
		ref := r.URL.Query().Get("repo")
		if t := r.URL.Query().Get("tag"); ref != "" && t != "" {
			ref += ":" + t
		}
		var refs []string
		if ref != "" {
			refs = []string{ref}
		}
		if err := rt.ImageUntag(name, refs...); err != nil {
			return err
		}
		w.WriteHeader(http.StatusCreated)
		return nil
	}
	return notFoundPath(r)
}

// getLibpodImagesExport is GET /libpod/images/export?references=&format=: podman save's
// docker-archive (the only format pea writes here).
func (s *Server) getLibpodImagesExport(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if f := r.URL.Query().Get("format"); f != "" && f != "docker-archive" {
		return &apiError{http.StatusNotImplemented, fmt.Sprintf("format %q: pea's API saves docker-archive only", f)}
	}
	names := r.URL.Query()["references"]
	if len(names) == 0 {
		return badRequest("no image references given")
	}
	return saveImages(w, rt, names)
}

// libpodImageRemoveReport is podman's answer to an image removal.
type libpodImageRemoveReport struct {
	Deleted  []string `json:"Deleted"`
	Untagged []string `json:"Untagged"`
	Errors   []string `json:"Errors"`
	ExitCode int      `json:"ExitCode"`
}

// removeImages removes each image podman's way (engine.ImageRemove), into one report.
func removeImages(rt *engine.Runtime, names []string, force bool) libpodImageRemoveReport {
	rep := libpodImageRemoveReport{Deleted: []string{}, Untagged: []string{}, Errors: []string{}}
	for _, n := range names {
		untagged, deleted, err := rt.ImageRemove(n, force)
		if err != nil {
			rep.Errors = append(rep.Errors, err.Error())
			if rep.ExitCode == 0 {
				rep.ExitCode = 125
				if errdefs.Is(err, errdefs.ErrNotFound) {
					rep.ExitCode = 1
				} else if errdefs.Is(err, errdefs.ErrInUse) {
					rep.ExitCode = 2
				}
			}
			continue
		}
		rep.Untagged = append(rep.Untagged, untagged...)
		rep.Deleted = append(rep.Deleted, deleted...)
	}
	return rep
}

// deleteLibpodImage is DELETE /libpod/images/{name}?force=.
func (s *Server) deleteLibpodImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	untagged, deleted, err := rt.ImageRemove(r.PathValue("rest"), boolParam(r, "force", false))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, libpodImageRemoveReport{Deleted: nonNilStrings(deleted), Untagged: nonNilStrings(untagged), Errors: []string{}})
	return nil
}

// deleteLibpodImages is DELETE /libpod/images/remove?images=&force=&all=: the errors are in
// the report (podman rmi prints them and exits with its code).
func (s *Server) deleteLibpodImages(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	names := r.URL.Query()["images"]
	if boolParam(r, "all", false) {
		imgs, err := rt.ImageList()
		if err != nil {
			return err
		}
		names = nil
		for _, img := range imgs {
			names = append(names, img.ID)
		}
	}
	writeJSON(w, http.StatusOK, removeImages(rt, names, boolParam(r, "force", false)))
	return nil
}

// postLibpodImagesPrune is POST /libpod/images/prune?all=&filters=.
func (s *Server) postLibpodImagesPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	pf, err := pruneFilter(f, "dangling")
	if err != nil {
		return err
	}
	ids, err := rt.ImagePrune(boolParam(r, "all", false), pf)
	if err != nil && len(ids) == 0 {
		return err
	}
	writeJSON(w, http.StatusOK, toPruneReports(ids))
	return nil
}

// libpodPullLines sends the pull's progress lines as podman's {"stream": line} messages.
type libpodPullLines struct {
	mu  sync.Mutex
	js  *jsonStream
	buf []byte
}

func (p *libpodPullLines) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		l := string(p.buf[:i+1])
		p.buf = p.buf[i+1:]
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		p.js.sendAny(map[string]string{"stream": strings.ReplaceAll(l, "\x1b[K", "")})
	}
	return len(b), nil
}

// postLibpodImagesPull is POST /libpod/images/pull?reference=&tlsVerify=&quiet=: podman's
// stream of {"stream"} lines, then {"images": [ID], "id": ID}, or {"error"}.
func (s *Server) postLibpodImagesPull(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	given := strings.TrimPrefix(q.Get("reference"), "docker://")
	if given == "" {
		return badRequest("reference is required: the image to pull")
	}
	ref, err := image.ParseReference(given)
	if err != nil {
		return err
	}
	// A short name resolves as on podman's command line (aliases, search registries), not as
	// Docker's; the TLS rules look at the normalized name.
	pullName := ref.Normalize().String()
	if ref.Domain == "" {
		pullName = ref.String()
	}
	ref = ref.Normalize()
	o, err := registryOptions(r, ref)
	if err != nil {
		return err
	}
	if v := q.Get("tlsVerify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("invalid tlsVerify %q", v)
		}
		o.TLSVerify = &b
	}
	o.OS, o.Arch = q.Get("OS"), q.Get("Arch")
	if v := q.Get("Variant"); v != "" && o.Arch != "" {
		o.Arch += "/" + v
	}
	switch policy := q.Get("policy"); policy {
	case "missing", "never", "newer":
		// newer is missing here: pea does not compare the registry's image with the local one
		if img, err := rt.ImageLookup(given); err == nil {
			writeJSON(w, http.StatusOK, map[string]any{"images": []string{img.ID}, "id": img.ID})
			return nil
		} else if policy == "never" {
			return err
		}
	case "", "always":
	default:
		return badRequest("invalid pull policy %q (always, missing, never, newer)", policy)
	}
	js := newJSONStream(w)
	if !boolParam(r, "quiet", false) {
		o.Progress = &libpodPullLines{js: js}
	}
	img, err := rt.ImagePull(r.Context(), pullName, o)
	if err != nil {
		return js.failLibpod(err)
	}
	js.sendAny(map[string]any{"images": []string{img.ID}, "id": img.ID})
	return nil
}

// sendAny sends one message of any shape (podman's stream messages are not Docker's).
func (j *jsonStream) sendAny(v any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.start()
	b, _ := json.Marshal(v)
	j.w.Write(append(b, '\n'))
	if j.flush != nil {
		j.flush()
	}
}

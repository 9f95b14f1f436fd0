package api

import (
	"net/http"
	"strconv"
	"strings"

	"pea/internal/engine"
	"pea/internal/image"
)

// libpodTransferRoutes registers the libpod endpoints that move images in and out of the
// store: load and import (push is an action of /images/{name}, see postLibpodImage).
func (s *Server) libpodTransferRoutes() {
	s.lroute("POST", "/images/load", s.postLibpodImagesLoad)
	s.lroute("POST", "/images/import", s.postLibpodImagesImport)
}

// postLibpodImagesLoad is POST /libpod/images/load: the body is a docker-archive or an
// oci-archive (podman load -i FILE sends the file); the answer is podman's ImageLoadReport,
// the names of the images loaded ("sha256:ID" for one without a name).
func (s *Server) postLibpodImagesLoad(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	imgs, err := rt.ImageLoad(r.Body, image.LoadOptions{})
	if err != nil {
		return err
	}
	names := []string{}
	for _, img := range imgs {
		if len(img.Names) == 0 {
			names = append(names, imageRef(img.ID))
		}
		names = append(names, img.Names...)
	}
	writeJSON(w, http.StatusOK, map[string][]string{"Names": names})
	return nil
}

// postLibpodImagesImport is POST /libpod/images/import?reference=&changes=&message=&url=
// &os=&architecture=&variant=: a root filesystem tarball (the body, or what url gives) made
// a one-layer image; the answer is podman's ImageImportReport, {"Id": ID}.
func (s *Server) postLibpodImagesImport(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	body, err := importSource(r, q.Get("url"))
	if err != nil {
		return err
	}
	defer body.Close()
	img, err := rt.ImageImport(body, q.Get("reference"), image.ImportOptions{Changes: trimmedValues(q["changes"]),
		Message: q.Get("message"), OS: q.Get("os"), Arch: q.Get("architecture"), Variant: q.Get("variant")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Id": img.ID})
	return nil
}

// postLibpodImagePush is POST /libpod/images/{name}/push?destination=&tlsVerify=&quiet=: the
// image to a registry (destination, default its own name). The answer streams the copy's
// progress lines as podman's {"stream": line} messages (the client prints them on stderr), or
// ends in {"error": text}. format, compress and removeSignatures change nothing: pea pushes
// its stored manifest and layers as they are, as pea push does.
func (s *Server) postLibpodImagePush(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	q := libpodQuery(r)
	if _, err := rt.ImageLookup(name); err != nil {
		return err
	}
	dest := strings.TrimPrefix(q.Get("destination"), "docker://")
	to := dest
	if to == "" {
		to = name
	}
	ref, err := image.ParseReference(to)
	if err != nil {
		return badRequest("destination %q: %v (pea's API pushes to registries only)", to, err)
	}
	o, err := registryOptions(r, ref.Normalize())
	if err != nil {
		return err
	}
	if v := q.Get("tlsverify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("invalid tlsVerify %q", v)
		}
		o.TLSVerify = &b
	}
	quiet, err := queryBool(q, "quiet", false)
	if err != nil {
		return err
	}
	js := newJSONStream(w)
	if !quiet {
		o.Progress = &libpodPullLines{js: js}
	}
	if _, err := rt.ImagePush(r.Context(), name, dest, o); err != nil {
		return js.failLibpod(err)
	}
	js.mu.Lock()
	js.start() // nothing was sent when quiet: an empty stream
	js.mu.Unlock()
	return nil
}

// failLibpod reports err in podman's stream shape, {"error": text}, once the stream has
// started (its status is out); before, as the handler's error.
func (j *jsonStream) failLibpod(err error) error {
	j.mu.Lock()
	started := j.started
	j.mu.Unlock()
	if !started {
		return err
	}
	j.sendAny(map[string]string{"error": err.Error()})
	return nil
}

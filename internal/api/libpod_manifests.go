package api

import (
	"net/http"
	"net/url"
	"strconv"

	"pea/internal/engine"
	"pea/internal/image"
)

// libpodManifestRoutes registers podman's manifest list endpoints (podman manifest --remote).
// A list's name holds slashes: the client escapes it (localhost%2Flist), so it is one path
// segment. The work is the engine's, as for pea manifest.
func (s *Server) libpodManifestRoutes() {
	s.lroute("POST", "/manifests/{name}", s.postLibpodManifestCreate)
	s.lroute("PUT", "/manifests/{name}", s.putLibpodManifest)
	s.lroute("GET", "/manifests/{name}/json", s.getLibpodManifest)
	s.lroute("GET", "/manifests/{name}/exists", s.getLibpodManifestExists)
	s.lroute("POST", "/manifests/{name}/registry/{dest}", s.postLibpodManifestPush)
	s.lroute("DELETE", "/manifests/{name}", s.deleteLibpodManifest)
}

// libpodRegistry are the pull or push options of a libpod request: its credentials, and TLS as
// tlsVerify says (else registries.conf decides, but for a registry on loopback, plain HTTP as
// the other endpoints allow).
func libpodRegistry(r *http.Request, q url.Values, domain string) (image.PullOptions, error) {
	o, err := registryOptions(r, image.Reference{Domain: domain})
	if err != nil {
		return o, err
	}
	if v := q.Get("tlsverify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, badRequest("invalid tlsVerify %q", v)
		}
		o.TLSVerify = &b
	}
	return o, nil
}

// domainOf is the registry of a reference ("" when it does not parse: no loopback rule then).
func domainOf(ref string) string {
	if r, err := image.ParseReference(ref); err == nil {
		return r.Normalize().Domain
	}
	return ""
}

// postLibpodManifestCreate is POST /libpod/manifests/{name}?images=&all=&amend=: the list made
// (or with amend found) with those images; {"Id": list ID}.
func (s *Server) postLibpodManifestCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	var o engine.ManifestAddOptions
	all, err := queryBool(q, "all", false)
	if err != nil {
		return err
	}
	amend, err := queryBool(q, "amend", false)
	if err != nil {
		return err
	}
	o.All = all
	images := q["images"]
	if len(images) > 0 {
		if o.Registry, err = libpodRegistry(r, q, domainOf(images[0])); err != nil {
			return err
		}
	}
	list, err := rt.ManifestCreate(r.Context(), r.PathValue("name"), images, amend, o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Id": list.ID})
	return nil
}

// libpodManifestModify is podman's ManifestModifyOptions, the body of PUT /manifests/{name}.
type libpodManifestModify struct {
	Operation   string            `json:"Operation"`
	All         bool              `json:"All"`
	Annotations map[string]string `json:"Annotations"`
	Arch        string            `json:"Arch"`
	Features    []string          `json:"Features"`
	Images      []string          `json:"Images"`
	OS          string            `json:"OS"`
	OSFeatures  []string          `json:"os_features"`
	OSVersion   string            `json:"os_version"`
	Variant     string            `json:"Variant"`
}

// putLibpodManifest is PUT /libpod/manifests/{name}: podman manifest add (operation update),
// remove (remove: the images are digests) and annotate. The answer is podman's
// ManifestModifyReport, {"Id": list ID, "images": [...]}.
func (s *Server) putLibpodManifest(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var m libpodManifestModify
	if err := decodeBody(r, &m); err != nil {
		return err
	}
	name := r.PathValue("name")
	entry := image.ListEntryOptions{Arch: m.Arch, OS: m.OS, Variant: m.Variant, OSVersion: m.OSVersion,
		Features: m.Features, OSFeatures: m.OSFeatures, Annotations: m.Annotations}
	var list *image.Image
	var err error
	switch m.Operation {
	case "update":
		o := engine.ManifestAddOptions{All: m.All, Entry: entry}
		if len(m.Images) > 0 {
			if o.Registry, err = libpodRegistry(r, libpodQuery(r), domainOf(m.Images[0])); err != nil {
				return err
			}
		}
		list, err = rt.ManifestAdd(r.Context(), name, m.Images, o)
	case "remove", "annotate":
		if len(m.Images) == 0 {
			return badRequest("%s: no image given", m.Operation)
		}
		for _, img := range m.Images {
			if m.Operation == "remove" {
				list, err = rt.ManifestRemove(name, img)
			} else {
				list, err = rt.ManifestAnnotate(name, img, entry)
			}
			if err != nil {
				break
			}
		}
	default:
		return badRequest("invalid operation %q (update, remove, annotate)", m.Operation)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"Id": list.ID, "images": nonNilStrings(m.Images)})
	return nil
}

// getLibpodManifest is GET /libpod/manifests/{name}/json: the list's document (pea manifest
// inspect's; a name that is no local list is looked up in its registry).
func (s *Server) getLibpodManifest(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("name")
	o, err := libpodRegistry(r, libpodQuery(r), domainOf(name))
	if err != nil {
		return err
	}
	doc, err := rt.ManifestInspect(r.Context(), name, o)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
	return nil
}

// getLibpodManifestExists is GET /libpod/manifests/{name}/exists: 204, or 404.
func (s *Server) getLibpodManifestExists(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("name")
	ok, err := rt.ManifestExists(name)
	if err != nil {
		return err
	}
	if !ok {
		return &apiError{http.StatusNotFound, name + ": no such manifest list"}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postLibpodManifestPush is POST /libpod/manifests/{name}/registry/{dest}?all=&format=
// &tlsVerify=&rm=: the list (with all its images too) to dest; {"Id": the list's digest},
// which the 4.3 client prints and later clients read as their stream's end.
func (s *Server) postLibpodManifestPush(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	dest := r.PathValue("dest")
	var o image.ListPushOptions
	var err error
	if o.PushOptions, err = libpodRegistry(r, q, domainOf(dest)); err != nil {
		return err
	}
	if o.All, err = queryBool(q, "all", false); err != nil {
		return err
	}
	rm, err := queryBool(q, "rm", false)
	if err != nil {
		return err
	}
	switch f := q.Get("format"); f {
	case "", "oci", "v2s2":
		o.Format = f
	default:
		return badRequest("invalid format %q (oci, v2s2)", f)
	}
	digest, err := rt.ManifestPush(r.Context(), r.PathValue("name"), dest, o, rm)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"Id": digest})
	return nil
}

// deleteLibpodManifest is DELETE /libpod/manifests/{name} (later clients' manifest rm; the
// 4.3 client removes a list as an image): podman's image removal report.
func (s *Server) deleteLibpodManifest(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	names, id, err := rt.ManifestRm(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, libpodImageRemoveReport{Deleted: []string{id}, Untagged: nonNilStrings(names), Errors: []string{}})
	return nil
}

package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// The /images endpoints. Image names hold slashes ("localhost/bb:latest") that the docker client
// sends unescaped, so /images/{name}/json cannot be a ServeMux pattern: the fixed paths have
// their own patterns (more specific, so they win) and the rest is one pattern per method whose
// handler splits the action (json, history, get, tag, push) off the end.

// imageRoutes registers the /images endpoints.
func (s *Server) imageRoutes() {
	s.route("GET", "/images/json", s.getImagesList)
	s.route("GET", "/images/search", s.getImagesSearch)
	s.route("GET", "/images/get", s.getImagesSave)
	s.route("POST", "/images/create", s.postImagesCreate)
	s.route("POST", "/build", s.postBuild)
	s.route("POST", "/build/prune", s.postBuildPrune)
	s.route("POST", "/images/load", s.postImagesLoad)
	s.route("POST", "/images/prune", s.postImagesPrune)
	s.route("GET", "/images/{rest...}", s.getImage)
	s.route("POST", "/images/{rest...}", s.postImage)
	s.route("DELETE", "/images/{rest...}", s.deleteImage)
}

// imageAction splits "NAME/ACTION" for one of actions; a path with none of them is the name alone.
func imageAction(rest string, actions ...string) (name, action string) {
	for _, a := range actions {
		if n, ok := strings.CutSuffix(rest, "/"+a); ok && n != "" {
			return n, a
		}
	}
	return rest, ""
}

func notFoundPath(r *http.Request) error {
	return &apiError{http.StatusNotFound, "page not found: " + r.Method + " " + r.URL.Path}
}

// getImage is GET /images/{name}/json, /images/{name}/history and /images/{name}/get.
func (s *Server) getImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name, action := imageAction(r.PathValue("rest"), "json", "history", "get")
	switch action {
	case "json":
		return s.getImageInspect(w, r, rt, name)
	case "history":
		return s.getImageHistory(w, r, rt, name)
	case "get":
		return saveImages(w, rt, []string{name})
	}
	return notFoundPath(r)
}

// postImage is POST /images/{name}/tag and /images/{name}/push.
func (s *Server) postImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name, action := imageAction(r.PathValue("rest"), "tag", "push")
	switch action {
	case "tag":
		return s.postImageTag(w, r, rt, name)
	case "push":
		return s.postImagePush(w, r, rt, name)
	}
	return notFoundPath(r)
}

// lookupImage finds an image, with Docker's message when there is none.
func lookupImage(rt *engine.Runtime, name string) (*image.Image, error) {
	img, err := rt.ImageLookup(name)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil, &apiError{http.StatusNotFound, "No such image: " + name}
	}
	return img, err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// imageSummary is one image of GET /images/json.
type imageSummary struct {
	ID          string            `json:"Id"`
	ParentID    string            `json:"ParentId"`
	RepoTags    []string          `json:"RepoTags"`
	RepoDigests []string          `json:"RepoDigests"`
	Created     int64             `json:"Created"`
	Size        int64             `json:"Size"`
	VirtualSize int64             `json:"VirtualSize"`
	SharedSize  int64             `json:"SharedSize"`
	Labels      map[string]string `json:"Labels"`
	Containers  int               `json:"Containers"`
}

// toImageSummary is an image as GET /images/json lists it, under names, used by n containers.
func toImageSummary(img *image.Image, names []string, n int) imageSummary {
	labels := img.Config.Config.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	digests := img.RepoDigests()
	if len(names) < len(img.Names) {
		// A reference filter matched some of the names: the client makes a row of each
		// repository a digest names, so the others' digests would list them as <none>.
		digests = slices.DeleteFunc(digests, func(d string) bool {
			repo, _, _ := strings.Cut(d, "@")
			return !slices.ContainsFunc(names, func(n string) bool { r, _ := image.SplitName(n); return r == repo })
		})
	}
	return imageSummary{
		ID: imageRef(img.ID), RepoTags: nonNilStrings(names), RepoDigests: nonNilStrings(digests),
		Created: img.Created.Unix(), Size: img.Size, VirtualSize: img.Size, SharedSize: -1,
		Labels: labels, Containers: n,
	}
}

// imageListFilter is GET /images/json's filters: every key must match; several reference
// values match when any does, several labels when all do.
type imageListFilter struct {
	refs          []string
	dangling      *bool
	labels        []string
	before, since *time.Time
}

func parseImageListFilter(rt *engine.Runtime, f map[string][]string) (*imageListFilter, error) {
	out := &imageListFilter{}
	for key, vals := range f {
		switch key {
		case "reference":
			out.refs = append(out.refs, vals...)
		case "label":
			out.labels = append(out.labels, vals...)
		case "dangling":
			for _, v := range vals {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return nil, badRequest("invalid filter 'dangling=%s'", v)
				}
				out.dangling = &b
			}
		case "before", "since":
			for _, v := range vals {
				img, err := lookupImage(rt, v)
				if err != nil {
					return nil, err
				}
				t := img.Created
				if key == "before" {
					out.before = &t
				} else {
					out.since = &t
				}
			}
		default:
			return nil, badRequest("invalid filter '%s'", key)
		}
	}
	return out, nil
}

// match reports whether img passes the filter, and the names of it to list (with a reference
// filter, only those matching it).
func (f *imageListFilter) match(img *image.Image) (bool, []string) {
	if f.dangling != nil && img.Dangling() != *f.dangling {
		return false, nil
	}
	if f.before != nil && !img.Created.Before(*f.before) || f.since != nil && !img.Created.After(*f.since) {
		return false, nil
	}
	for _, l := range f.labels {
		if !model.LabelsMatch(img.Config.Config.Labels, l) {
			return false, nil
		}
	}
	if len(f.refs) == 0 {
		return true, img.Names
	}
	var names []string
	for _, n := range img.Names {
		for _, p := range f.refs {
			if imageRefMatches(p, n) {
				names = append(names, n)
				break
			}
		}
	}
	return len(names) > 0, names
}

// imageRefMatches applies a reference filter (a glob, with or without a tag) to a stored name,
// in its full and familiar forms: "docker.io/library/x" is also "library/x" and "x",
// "localhost/x" is also "x".
func imageRefMatches(pattern, name string) bool {
	repo, tag := image.SplitName(name)
	pRepo, pTag := pattern, ""
	if i := strings.LastIndex(pattern, ":"); i >= 0 && !strings.Contains(pattern[i:], "/") {
		pRepo, pTag = pattern[:i], pattern[i+1:]
	}
	if pTag != "" {
		if ok, _ := path.Match(pTag, tag); !ok {
			return false
		}
	}
	forms := []string{repo}
	for _, pre := range []string{"docker.io/library/", "docker.io/", "localhost/"} {
		if s, ok := strings.CutPrefix(repo, pre); ok {
			forms = append(forms, s)
		}
	}
	for _, f := range forms {
		if ok, _ := path.Match(pRepo, f); ok {
			return true
		}
	}
	return false
}

// listedImage is an image an image list shows: the names that matched, how many containers
// use it.
type listedImage struct {
	img   *image.Image
	names []string
	users int
}

// listImages is the images the request's filters= match, a build's intermediate images only
// with all=1 (Docker's and libpod's lists).
func listImages(r *http.Request, rt *engine.Runtime) ([]listedImage, error) {
	raw, err := filters(r)
	if err != nil {
		return nil, err
	}
	f, err := parseImageListFilter(rt, raw)
	if err != nil {
		return nil, err
	}
	imgs, err := rt.ImageList()
	if err != nil {
		return nil, err
	}
	users, err := rt.ImageContainers()
	if err != nil {
		return nil, err
	}
	var hidden map[string]bool
	if a := r.URL.Query().Get("all"); a != "1" && a != "true" {
		hidden = image.Intermediates(imgs)
	}
	var out []listedImage
	for _, img := range imgs {
		ok, names := f.match(img)
		if ok && !hidden[img.ID] {
			out = append(out, listedImage{img, names, len(users[img.ID])})
		}
	}
	return out, nil
}

// getImagesList is GET /images/json?all=&filters=.
func (s *Server) getImagesList(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	imgs, err := listImages(r, rt)
	if err != nil {
		return err
	}
	out := []imageSummary{}
	for _, l := range imgs {
		out = append(out, toImageSummary(l.img, l.names, l.users))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// imageConfig is Docker's container.Config as an image's inspect shows it.
type imageConfig struct {
	Hostname     string              `json:"Hostname"`
	Domainname   string              `json:"Domainname"`
	User         string              `json:"User"`
	AttachStdin  bool                `json:"AttachStdin"`
	AttachStdout bool                `json:"AttachStdout"`
	AttachStderr bool                `json:"AttachStderr"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Tty          bool                `json:"Tty"`
	OpenStdin    bool                `json:"OpenStdin"`
	StdinOnce    bool                `json:"StdinOnce"`
	Env          []string            `json:"Env"`
	Cmd          []string            `json:"Cmd"`
	Healthcheck  *image.HealthConfig `json:"Healthcheck,omitempty"`
	ArgsEscaped  bool                `json:"ArgsEscaped,omitempty"`
	Image        string              `json:"Image"`
	Volumes      map[string]struct{} `json:"Volumes"`
	WorkingDir   string              `json:"WorkingDir"`
	Entrypoint   []string            `json:"Entrypoint"`
	OnBuild      []string            `json:"OnBuild"`
	Labels       map[string]string   `json:"Labels"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	Shell        []string            `json:"Shell,omitempty"`
}

type imageGraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type imageRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// imageInspect is Docker's image inspect.
type imageInspect struct {
	ID              string           `json:"Id"`
	RepoTags        []string         `json:"RepoTags"`
	RepoDigests     []string         `json:"RepoDigests"`
	Parent          string           `json:"Parent"`
	Comment         string           `json:"Comment"`
	Created         string           `json:"Created"`
	Container       string           `json:"Container"`
	ContainerConfig imageConfig      `json:"ContainerConfig"`
	DockerVersion   string           `json:"DockerVersion"`
	Author          string           `json:"Author"`
	Config          imageConfig      `json:"Config"`
	Architecture    string           `json:"Architecture"`
	Variant         string           `json:"Variant,omitempty"`
	Os              string           `json:"Os"`
	OsVersion       string           `json:"OsVersion,omitempty"`
	Size            int64            `json:"Size"`
	VirtualSize     int64            `json:"VirtualSize"`
	GraphDriver     imageGraphDriver `json:"GraphDriver"`
	RootFS          imageRootFS      `json:"RootFS"`
	Metadata        struct {
		LastTagTime string `json:"LastTagTime"`
	} `json:"Metadata"`
}

// getImageInspect is GET /images/{name}/json.
func (s *Server) getImageInspect(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	img, err := lookupImage(rt, name)
	if err != nil {
		return err
	}
	dirs, err := rt.ImageLayerDirs(img)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toImageInspect(img, dirs))
	return nil
}

func toImageInspect(img *image.Image, dirs []string) *imageInspect {
	c := img.Config.Config
	v := &imageInspect{
		ID: imageRef(img.ID), RepoTags: nonNilStrings(img.Names), RepoDigests: nonNilStrings(img.RepoDigests()),
		Created: dockerTime(img.Created), Container: img.Config.Container, DockerVersion: img.Config.DockerVersion,
		Author: img.Config.Author, Architecture: img.Config.Architecture, Variant: img.Config.Variant,
		Os: img.Config.OS, OsVersion: img.Config.OSVersion, Size: img.Size, VirtualSize: img.Size,
		Config: imageConfig{
			Hostname: c.Hostname, Domainname: c.Domainname, User: c.User,
			AttachStdin: c.AttachStdin, AttachStdout: c.AttachStdout, AttachStderr: c.AttachStderr,
			ExposedPorts: c.ExposedPorts, Tty: c.Tty, OpenStdin: c.OpenStdin, StdinOnce: c.StdinOnce,
			Env: c.Env, Cmd: c.Cmd, Healthcheck: c.Healthcheck, ArgsEscaped: c.ArgsEscaped, Image: c.Image,
			Volumes: c.Volumes, WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, OnBuild: c.OnBuild,
			Labels: c.Labels, StopSignal: c.StopSignal, Shell: c.Shell,
		},
		GraphDriver: imageGraphDriver{Name: "overlay", Data: engine.OverlayData(dirs)},
		RootFS:      imageRootFS{Type: "layers", Layers: nonNilStrings(img.Layers)},
	}
	v.Metadata.LastTagTime = dockerTime(img.Tagged)
	v.Comment = img.Comment()
	return v
}

// imageHistoryItem is one step of GET /images/{name}/history.
type imageHistoryItem struct {
	ID        string   `json:"Id"`
	Created   int64    `json:"Created"`
	CreatedBy string   `json:"CreatedBy"`
	Tags      []string `json:"Tags"`
	Size      int64    `json:"Size"`
	Comment   string   `json:"Comment"`
}

// getImageHistory is GET /images/{name}/history: the config's history, newest first; the newest
// step is the image itself, the older ones "<missing>" (they are no images of their own).
func (s *Server) getImageHistory(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	img, err := lookupImage(rt, name)
	if err != nil {
		return err
	}
	var out []imageHistoryItem
	layer := 0
	for _, h := range img.Config.History {
		it := imageHistoryItem{ID: "<missing>", Created: h.Created.Unix(), CreatedBy: h.CreatedBy, Comment: h.Comment}
		if h.Created.IsZero() {
			it.Created = 0
		}
		if !h.EmptyLayer && layer < len(img.LayerSizes) {
			it.Size = img.LayerSizes[layer]
			layer++
		}
		out = append([]imageHistoryItem{it}, out...)
	}
	if len(out) == 0 {
		out = []imageHistoryItem{{Created: img.Created.Unix(), Size: img.Size}}
	}
	out[0].ID = imageRef(img.ID)
	out[0].Tags = nonNilStrings(img.Names)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// postImageTag is POST /images/{name}/tag?repo=&tag=: 201. A name without a registry goes
// under localhost/, as pea tag does.
func (s *Server) postImageTag(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	q := r.URL.Query()
	repo, tag := q.Get("repo"), q.Get("tag")
	if repo == "" {
		return badRequest("repository name must have at least one component")
	}
	if _, err := lookupImage(rt, name); err != nil {
		return err
	}
	ref := repo
	if tag != "" {
		ref += ":" + tag
	}
	if err := rt.ImageTag(name, ref); err != nil {
		return err
	}
	w.WriteHeader(http.StatusCreated)
	return nil
}

// imageNameOf returns which of img's names ref refers to, if it is a name rather than an ID.
func imageNameOf(img *image.Image, ref string) (string, bool) {
	if strings.HasPrefix(ref, "sha256:") || ref == img.ID {
		return "", false
	}
	r, err := image.ParseReference(strings.TrimPrefix(ref, "docker://"))
	if err != nil || r.Digest != "" {
		return "", false
	}
	if r.Domain != "" {
		n := r.Normalize().String()
		for _, have := range img.Names {
			if have == n {
				return n, true
			}
		}
		return "", false
	}
	tag := r.Tag
	if tag == "" {
		tag = "latest"
	}
	if n := "localhost/" + r.Path + ":" + tag; slices.Contains(img.Names, n) {
		return n, true
	}
	for _, n := range img.Names {
		repo, t := image.SplitName(n)
		if t == tag && (repo == r.Path || strings.HasSuffix(repo, "/"+r.Path)) {
			return n, true
		}
	}
	return "", false
}

// familiarName is a stored name as Docker's daemon prints it: Docker Hub's without
// "docker.io/" and its "library/" ("docker.io/library/bb:1" is "bb:1").
func familiarName(n string) string {
	if s, ok := strings.CutPrefix(n, "docker.io/"); ok {
		if s2, ok := strings.CutPrefix(s, "library/"); ok && !strings.Contains(s2, "/") {
			return s2
		}
		return s
	}
	return n
}

// imageDeleteItem is one line of DELETE /images/{name}'s answer.
type imageDeleteItem struct {
	Untagged string `json:"Untagged,omitempty"`
	Deleted  string `json:"Deleted,omitempty"`
}

// deleteImage is DELETE /images/{name}?force=&noprune=, as Docker does it: a name of an image
// with several names is only untagged; an image used by a container is refused without force
// and with force only untagged (the containers keep it); an image with several names given by
// ID needs force.
func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("rest")
	force := boolParam(r, "force", false)
	img, err := lookupImage(rt, name)
	if err != nil {
		return err
	}
	tagName, byName := imageNameOf(img, name)
	users, err := rt.ImageContainers()
	if err != nil {
		return err
	}
	ids := users[img.ID]
	switch {
	case byName && len(img.Names) > 1:
		// only this name goes, below
	case len(ids) > 0 && !force:
		if byName {
			return &apiError{http.StatusConflict, fmt.Sprintf("conflict: unable to remove repository reference %q (must force) - container %.12s is using its referenced image %.12s", name, ids[0], img.ID)}
		}
		return &apiError{http.StatusConflict, fmt.Sprintf("conflict: unable to delete %.12s (must be forced) - image is being used by stopped container %.12s", img.ID, ids[0])}
	case len(ids) > 0:
		// Forced: the names go, the image stays for its containers.
		names := []string{tagName}
		if !byName {
			for _, id := range ids {
				if c, err := rt.LookupContainer(id); err == nil && c.State.Active() {
					return &apiError{http.StatusConflict, fmt.Sprintf("conflict: unable to delete %.12s (cannot be forced) - image is being used by running container %.12s", img.ID, id)}
				}
			}
			names = img.Names
		}
		out := []imageDeleteItem{}
		for _, n := range names {
			if err := rt.ImageUntag(img.ID, n); err != nil {
				return err
			}
			out = append(out, imageDeleteItem{Untagged: familiarName(n)})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	case !byName && len(img.Names) > 1 && !force:
		return &apiError{http.StatusConflict, fmt.Sprintf("conflict: unable to delete %.12s (must be forced) - image is referenced in multiple repositories", img.ID)}
	}
	untagged, deleted, err := rt.ImageRemoveWith(name, engine.ImageRemoveOptions{Force: force, Parents: !boolParam(r, "noprune", false)})
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return &apiError{http.StatusNotFound, "No such image: " + name}
	}
	if err != nil {
		return err
	}
	out := []imageDeleteItem{}
	for _, n := range untagged {
		out = append(out, imageDeleteItem{Untagged: familiarName(n)})
	}
	for _, id := range deleted {
		out = append(out, imageDeleteItem{Deleted: imageRef(id)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// postImagesPrune is POST /images/prune?filters=: dangling images, or with dangling=false
// every image no container uses.
func (s *Server) postImagesPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	all := false
	pf, err := pruneFilter(f, "dangling")
	if err != nil {
		return err
	}
	for key, vals := range f {
		if key != "dangling" {
			continue
		}
		for _, v := range vals {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return badRequest("invalid filter 'dangling=%s'", v)
			}
			all = !b
		}
	}
	imgs, err := rt.ImageList()
	if err != nil {
		return err
	}
	byID := map[string]*image.Image{}
	for _, img := range imgs {
		byID[img.ID] = img
	}
	removed, err := rt.ImagePrune(all, pf)
	if err != nil && len(removed) == 0 {
		return err
	}
	resp := struct {
		ImagesDeleted  []imageDeleteItem `json:"ImagesDeleted"`
		SpaceReclaimed int64             `json:"SpaceReclaimed"`
	}{ImagesDeleted: []imageDeleteItem{}}
	for _, id := range removed {
		if img := byID[id]; img != nil {
			for _, n := range img.Names {
				resp.ImagesDeleted = append(resp.ImagesDeleted, imageDeleteItem{Untagged: familiarName(n)})
			}
			resp.SpaceReclaimed += img.Size
		}
		resp.ImagesDeleted = append(resp.ImagesDeleted, imageDeleteItem{Deleted: imageRef(id)})
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// getImagesSearch is GET /images/search?term=REGISTRY/TEXT: a registry's catalog search (see
// searchImages), in Docker's shape.
func (s *Server) getImagesSearch(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	res, err := searchImages(r, rt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, dockerSearch(res))
	return nil
}

// getImagesSave is GET /images/get?names=a&names=b: a docker-archive of the images.
func (s *Server) getImagesSave(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	var names []string
	for _, n := range r.URL.Query()["names"] {
		// old clients send one comma-separated value
		for _, part := range strings.Split(n, ",") {
			if part = strings.TrimSpace(part); part != "" {
				names = append(names, part)
			}
		}
	}
	if len(names) == 0 {
		return badRequest("no image names given")
	}
	return saveImages(w, rt, names)
}

// saveImages answers with a docker-archive of names. An error once the archive has started
// cuts the connection, so that the client sees a broken archive, not a short one.
func saveImages(w http.ResponseWriter, rt *engine.Runtime, names []string) error {
	for _, n := range names {
		if _, err := lookupImage(rt, n); err != nil {
			return err
		}
	}
	w.Header().Set("Content-Type", "application/x-tar")
	cw := &countingWriter{w: w}
	if err := rt.ImageSave(cw, names, image.FormatDockerArchive, ""); err != nil {
		if cw.n == 0 {
			w.Header().Del("Content-Type")
			return err
		}
		panic(http.ErrAbortHandler)
	}
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// postImagesLoad is POST /images/load?quiet=: the body is a docker-archive (or oci-archive);
// the answer is Docker's JSON stream of "Loaded image: NAME" lines.
func (s *Server) postImagesLoad(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	imgs, err := rt.ImageLoad(r.Body, image.LoadOptions{})
	if err != nil {
		return err
	}
	js := newJSONStream(w)
	for _, img := range imgs {
		if len(img.Names) == 0 {
			js.send(jsonMessage{Stream: "Loaded image ID: " + imageRef(img.ID) + "\n"})
		}
		for _, n := range img.Names {
			js.send(jsonMessage{Stream: "Loaded image: " + familiarName(n) + "\n"})
		}
	}
	js.start()
	return nil
}

// jsonMessage is one message of Docker's JSON progress streams (pull, push, load, import).
type jsonMessage struct {
	Stream         string          `json:"stream,omitempty"`
	Status         string          `json:"status,omitempty"`
	ProgressDetail *progressDetail `json:"progressDetail,omitempty"`
	ID             string          `json:"id,omitempty"`
	Error          string          `json:"error,omitempty"`
	ErrorDetail    *errorDetail    `json:"errorDetail,omitempty"`
	Aux            any             `json:"aux,omitempty"`
}

type progressDetail struct {
	Current int64 `json:"current,omitempty"`
	Total   int64 `json:"total,omitempty"`
}

type errorDetail struct {
	Code    int    `json:"code,omitempty"`
	Message string `json:"message"`
}

// jsonStream writes a JSON message stream, one object a line, flushed as it goes. Its 200 and
// headers go out with the first message, so that an error before it can still be answered with
// its own status.
type jsonStream struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	flush   func()
	started bool
}

func newJSONStream(w http.ResponseWriter) *jsonStream {
	return &jsonStream{w: w, flush: httpFlusher(w)}
}

// start sends the headers, if not yet sent.
func (j *jsonStream) start() {
	if j.started {
		return
	}
	j.started = true
	j.w.Header().Set("Content-Type", "application/json")
	j.w.WriteHeader(http.StatusOK)
	if j.flush != nil {
		j.flush()
	}
}

func (j *jsonStream) send(m jsonMessage) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.start()
	b, _ := json.Marshal(m)
	j.w.Write(append(b, '\r', '\n'))
	if j.flush != nil {
		j.flush()
	}
}

func (j *jsonStream) status(status, id string) {
	m := jsonMessage{Status: status, ID: id}
	if id != "" {
		m.ProgressDetail = &progressDetail{}
	}
	j.send(m)
}

// fail reports err: in the stream once it has started (the status is out), else as the
// handler's error.
func (j *jsonStream) fail(err error) error {
	j.mu.Lock()
	started := j.started
	j.mu.Unlock()
	if !started {
		return err
	}
	j.send(jsonMessage{Error: err.Error(), ErrorDetail: &errorDetail{Message: err.Error()}})
	return nil
}

// progressLines turns the image store's progress lines ("Copying blob sha256:... [skipped:
// already exists]", "Getting image source signatures", ...) into Docker's per-layer messages.
type progressLines struct {
	mu  sync.Mutex
	buf []byte
	js  *jsonStream
	// begin is called at the first sign that the transfer has begun (the source was found).
	begin func()
	// the statuses of a layer: starting, found present, and done.
	starting []string
	exists   string
	done     []string
	pending  string // the layer being copied
}

func (p *progressLines) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		l := string(p.buf[:i])
		p.buf = p.buf[i+1:]
		if j := strings.LastIndexByte(l, '\r'); j >= 0 {
			l = l[j+1:]
		}
		p.line(strings.TrimSpace(strings.ReplaceAll(l, "\x1b[K", "")))
	}
	return len(b), nil
}

func (p *progressLines) line(l string) {
	if l == "Getting image source signatures" {
		if p.begin != nil {
			p.begin()
			p.begin = nil
		}
		return
	}
	rest, ok := strings.CutPrefix(l, "Copying ")
	if !ok {
		p.finish()
		return
	}
	f := strings.Fields(rest)
	if len(f) < 2 {
		return
	}
	p.finish()
	if f[0] != "blob" {
		return // the config is no layer to Docker
	}
	id := strings.TrimPrefix(f[1], "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	if strings.Contains(rest, "already exists") {
		p.js.status(p.exists, id)
		return
	}
	for _, st := range p.starting {
		p.js.status(st, id)
	}
	p.pending = id
}

// finish ends the layer being copied: the next line means it is done.
func (p *progressLines) finish() {
	if p.pending == "" {
		return
	}
	for _, st := range p.done {
		p.js.status(st, p.pending)
	}
	p.pending = ""
}

// end ends the layer being copied after a successful transfer.
func (p *progressLines) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.finish()
}

// registryCreds reads the X-Registry-Auth header (base64url JSON of Docker's AuthConfig) as
// pea's "user:password"; none gives "" (the service's own auth files apply).
func registryCreds(r *http.Request) (string, error) {
	h := strings.TrimSpace(r.Header.Get("X-Registry-Auth"))
	if h == "" {
		return "", nil
	}
	var raw []byte
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.StdEncoding, base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(h); err == nil {
			raw = b
			break
		}
	}
	if raw == nil {
		return "", badRequest("invalid X-Registry-Auth header: not base64")
	}
	var auth struct {
		Username string `json:"username"`
		Password string `json:"password"`
		Auth     string `json:"auth"`
	}
	if err := json.Unmarshal(raw, &auth); err != nil {
		return "", badRequest("invalid X-Registry-Auth header: %v", err)
	}
	if auth.Username == "" && auth.Auth != "" {
		if b, err := base64.StdEncoding.DecodeString(auth.Auth); err == nil {
			auth.Username, auth.Password, _ = strings.Cut(string(b), ":")
		}
	}
	if auth.Username == "" {
		return "", nil
	}
	return auth.Username + ":" + auth.Password, nil
}

// registryOptions are the pull or push options for the registry of ref (a full reference):
// the request's credentials, and, as Docker does, plain HTTP allowed for a registry on a
// loopback address (127.0.0.0/8, ::1, localhost). Elsewhere registries.conf decides.
func registryOptions(r *http.Request, ref image.Reference) (image.PullOptions, error) {
	var o image.PullOptions
	creds, err := registryCreds(r)
	if err != nil {
		return o, err
	}
	o.Creds = creds
	o.TLSVerify = image.LoopbackPlainHTTP(ref.Domain)
	return o, nil
}

// postImagesCreate is POST /images/create: a pull (fromImage=&tag=&platform=) or an import
// (fromSrc=-|URL&repo=&tag=&message=&changes=).
func (s *Server) postImagesCreate(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	switch {
	case q.Get("fromImage") != "":
		return s.pullImage(w, r, rt)
	case q.Get("fromSrc") != "":
		return s.importImage(w, r, rt)
	}
	return badRequest("give fromImage (to pull) or fromSrc (to import)")
}

// pullImage pulls fromImage:tag with Docker's progress stream. Failures before the image is
// found (no such image, no registry) are answered with their status; later ones in the stream.
// A repository without a tag (fromImage=REPO, no tag=: docker pull --all-tags) is every tag of
// the repository.
func (s *Server) pullImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	given := q.Get("fromImage")
	if tag := q.Get("tag"); tag != "" {
		if strings.Contains(tag, ":") {
			given += "@" + tag // a digest
		} else {
			given += ":" + tag
		}
	}
	ref, err := image.ParseReference(strings.TrimPrefix(given, "docker://"))
	if err != nil {
		return err
	}
	if ref.Tag == "" && ref.Digest == "" {
		return s.pullAllTags(w, r, rt, ref.Normalize(), strings.TrimPrefix(given, "docker://"))
	}
	ref = ref.Normalize()
	full := ref.String()
	o, err := pullOptions(r, ref)
	if err != nil {
		return err
	}
	prev, _ := rt.ImageLookup(full)
	js := newJSONStream(w)
	tagOrDigest := ref.Tag
	if ref.Digest != "" {
		tagOrDigest = ref.Digest
	}
	img, err := pullOne(r, rt, js, ref, tagOrDigest, o)
	if err != nil {
		return js.fail(err)
	}
	if prev != nil && prev.ID == img.ID {
		js.status("Status: Image is up to date for "+given, "")
	} else {
		js.status("Status: Downloaded newer image for "+given, "")
	}
	return nil
}

// pullAllTags pulls every tag of the repository repo (docker pull --all-tags), as Docker's
// daemon does: each tag's progress under its tag, its digest, then one status for the
// repository, "Downloaded newer image" when any tag's image changed.
func (s *Server) pullAllTags(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, repo image.Reference, given string) error {
	o, err := pullOptions(r, repo)
	if err != nil {
		return err
	}
	found, err := rt.Search(r.Context(), repo.Repository(), image.SearchOptions{PullOptions: o, ListTags: true})
	if err != nil {
		return err
	}
	if len(found) == 0 {
		return &apiError{http.StatusNotFound, "no tags found for " + given}
	}
	js := newJSONStream(w)
	changed := false
	for _, f := range found {
		ref := repo
		ref.Tag = f.Tag
		prev, _ := rt.ImageLookup(ref.String())
		img, err := pullOne(r, rt, js, ref, f.Tag, o)
		if err != nil {
			return js.fail(err)
		}
		changed = changed || prev == nil || prev.ID != img.ID
	}
	if changed {
		js.status("Status: Downloaded newer image for "+given, "")
	} else {
		js.status("Status: Image is up to date for "+given, "")
	}
	return nil
}

// pullOptions are a pull's registry options with the request's platform.
func pullOptions(r *http.Request, ref image.Reference) (image.PullOptions, error) {
	o, err := registryOptions(r, ref)
	if err != nil {
		return o, err
	}
	if p := r.URL.Query().Get("platform"); p != "" {
		parts := strings.SplitN(p, "/", 3)
		o.OS = parts[0]
		if len(parts) > 1 {
			o.Arch = strings.Join(parts[1:], "/")
		}
	}
	return o, nil
}

// pullOne pulls one image (ref, normalized) with its progress under id (its tag or digest),
// and its digest.
func pullOne(r *http.Request, rt *engine.Runtime, js *jsonStream, ref image.Reference, id string, o image.PullOptions) (*image.Image, error) {
	pl := &progressLines{js: js, starting: []string{"Pulling fs layer"}, exists: "Already exists",
		done:  []string{"Download complete", "Pull complete"},
		begin: func() { js.status("Pulling from "+ref.Path, id) }}
	o.Progress = pl
	img, err := rt.ImagePull(r.Context(), ref.String(), o)
	if err != nil {
		return nil, err
	}
	pl.end()
	js.status("Digest: "+img.Digest, "")
	return img, nil
}

// importImage is POST /images/create?fromSrc=: a root filesystem tarball (the body, or a URL)
// becomes a one-layer image, answered with {"status": "sha256:ID"}.
func (s *Server) importImage(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	src := q.Get("fromSrc")
	if src == "-" {
		src = ""
	}
	body, err := importSource(r, src)
	if err != nil {
		return err
	}
	defer body.Close()
	ref := q.Get("repo")
	if tag := q.Get("tag"); ref != "" && tag != "" {
		ref += ":" + tag
	}
	img, err := rt.ImageImport(body, ref, image.ImportOptions{Changes: trimmedValues(q["changes"]), Message: q.Get("message")})
	if err != nil {
		return err
	}
	js := newJSONStream(w)
	js.status(imageRef(img.ID), "")
	return nil
}

// trimmedValues are the values of a repeated parameter, trimmed, without empty ones.
func trimmedValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// importSource is what an import reads: the request's body, or what src (an http(s) URL)
// gives when it is not "".
func importSource(r *http.Request, src string) (io.ReadCloser, error) {
	switch {
	case src == "":
		return r.Body, nil
	case strings.HasPrefix(src, "http://"), strings.HasPrefix(src, "https://"):
		return image.FetchURL(r.Context(), src)
	}
	return nil, badRequest("the source of an import must be the request body or an http(s) URL, not %q", src)
}

// postImagePush is POST /images/{name}/push?tag=: the image name:tag (without a tag, every tag
// of the repository) to its registry, with Docker's progress stream.
func (s *Server) postImagePush(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, name string) error {
	repoRef, err := image.ParseReference(strings.TrimPrefix(name, "docker://"))
	if err != nil {
		return err
	}
	tag := r.URL.Query().Get("tag")
	if repoRef.Tag != "" || repoRef.Digest != "" {
		tag = "" // an old client's name:tag
	}
	var refs []string
	switch {
	case tag != "":
		refs = []string{name + ":" + tag}
	case repoRef.Tag != "" || repoRef.Digest != "":
		refs = []string{name}
	default:
		imgs, err := rt.ImageList()
		if err != nil {
			return err
		}
		want := repoRef.Normalize().Repository()
		for _, img := range imgs {
			for _, n := range img.Names {
				if repo, t := image.SplitName(n); repo == want && t != "" {
					refs = append(refs, n)
				}
			}
		}
		if len(refs) == 0 {
			return &apiError{http.StatusNotFound, "An image does not exist locally with the tag: " + name}
		}
	}
	imgs := make([]*image.Image, len(refs))
	for i, ref := range refs {
		img, err := rt.ImageLookup(ref)
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return &apiError{http.StatusNotFound, "An image does not exist locally with the tag: " + ref}
		}
		if err != nil {
			return err
		}
		imgs[i] = img
	}
	full := repoRef.Normalize()
	o, err := registryOptions(r, full)
	if err != nil {
		return err
	}
	js := newJSONStream(w)
	js.status("The push refers to repository ["+full.Repository()+"]", "")
	for i, ref := range refs {
		pl := &progressLines{js: js, starting: []string{"Preparing", "Pushing"}, exists: "Layer already exists", done: []string{"Pushed"}}
		o.Progress = pl
		if _, err := rt.ImagePush(r.Context(), ref, "", o); err != nil {
			return js.fail(err)
		}
		pl.end()
		img := imgs[i]
		pr, _ := image.ParseReference(ref)
		t := pr.Normalize().Tag
		aux := map[string]any{"Tag": t, "Digest": img.Digest}
		msg := fmt.Sprintf("%s: digest: %s", t, img.Digest)
		if size, ok := manifestSize(rt, img); ok {
			aux["Size"] = size
			msg += fmt.Sprintf(" size: %d", size)
		}
		js.status(msg, "")
		js.send(jsonMessage{ProgressDetail: &progressDetail{}, Aux: aux})
	}
	return nil
}

// manifestSize is the size of an image's stored manifest (which a push sends as it is).
func manifestSize(rt *engine.Runtime, img *image.Image) (int64, bool) {
	hex, ok := strings.CutPrefix(img.Digest, "sha256:")
	if !ok {
		return 0, false
	}
	fi, err := os.Stat(filepath.Join(rt.Options().Root, "images", "blobs", "sha256", hex))
	if err != nil {
		return 0, false
	}
	return fi.Size(), true
}

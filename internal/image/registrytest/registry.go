// Package registrytest is an in-memory registry for tests: the part of the OCI distribution API
// that pulls and pushes use (manifests by tag and digest, blobs, monolithic and chunked uploads),
// with the API's JSON error bodies.
package registrytest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry is an http.Handler serving the registry API from memory.
type Registry struct {
	mu        sync.Mutex
	blobs     map[string][]byte              // digest -> content (shared by all repositories)
	manifests map[string]map[string]manifest // repository -> tag or digest -> manifest
	uploads   map[string][]byte
	nextID    int
}

type manifest struct {
	mediaType string
	body      []byte
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{blobs: map[string][]byte{}, manifests: map[string]map[string]manifest{}, uploads: map[string][]byte{}}
}

// Digest is the sha256 digest of b, "sha256:<hex>".
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// PutBlob stores a blob directly; it returns its digest.
func (r *Registry) PutBlob(b []byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	d := Digest(b)
	r.blobs[d] = append([]byte(nil), b...)
	return d
}

// PutManifest stores a manifest under repo, by its digest and, if given, a tag; it returns its
// digest.
func (r *Registry) PutManifest(repo, tag, mediaType string, body []byte) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.putManifest(repo, tag, mediaType, body)
}

func (r *Registry) putManifest(repo, tag, mediaType string, body []byte) string {
	d := Digest(body)
	m := manifest{mediaType: mediaType, body: append([]byte(nil), body...)}
	if r.manifests[repo] == nil {
		r.manifests[repo] = map[string]manifest{}
	}
	r.manifests[repo][d] = m
	if tag != "" && tag != d {
		r.manifests[repo][tag] = m
	}
	return d
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Detail  any    `json:"detail,omitempty"`
}

func fail(w http.ResponseWriter, status int, code, msg string, detail any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string][]apiError{"errors": {{Code: code, Message: msg, Detail: detail}}})
}

func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	p := req.URL.Path
	if p == "/v2/" || p == "/v2" {
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		w.Write([]byte("{}"))
		return
	}
	if !strings.HasPrefix(p, "/v2/") {
		http.NotFound(w, req)
		return
	}
	p = p[len("/v2/"):]
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case p == "_catalog":
		r.catalog(w, req)
	case strings.HasSuffix(p, "/tags/list"):
		r.tags(w, strings.TrimSuffix(p, "/tags/list"))
	case strings.Contains(p, "/blobs/uploads"):
		i := strings.LastIndex(p, "/blobs/uploads")
		r.upload(w, req, p[:i], strings.TrimPrefix(p[i+len("/blobs/uploads"):], "/"))
	case strings.Contains(p, "/blobs/"):
		i := strings.LastIndex(p, "/blobs/")
		r.blob(w, req, p[i+len("/blobs/"):])
	case strings.Contains(p, "/manifests/"):
		i := strings.LastIndex(p, "/manifests/")
		r.manifest(w, req, p[:i], p[i+len("/manifests/"):])
	default:
		fail(w, http.StatusNotFound, "UNSUPPORTED", "not an API endpoint this registry serves", nil)
	}
}

func (r *Registry) blob(w http.ResponseWriter, req *http.Request, digest string) {
	b, ok := r.blobs[digest]
	switch {
	case req.Method != http.MethodGet && req.Method != http.MethodHead:
		fail(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed", nil)
	case !ok:
		if req.Method == http.MethodHead {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		fail(w, http.StatusNotFound, "BLOB_UNKNOWN", "blob unknown to registry", digest)
	default:
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Docker-Content-Digest", digest)
		if req.Method == http.MethodGet {
			w.Write(b)
		}
	}
}

func (r *Registry) upload(w http.ResponseWriter, req *http.Request, repo, id string) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID", err.Error(), nil)
		return
	}
	switch {
	case req.Method == http.MethodPost && id == "":
		if d := req.URL.Query().Get("digest"); d != "" {
			r.finishUpload(w, repo, d, body)
			return
		}
		r.nextID++
		id = strconv.Itoa(r.nextID)
		r.uploads[id] = body
		// A relative location, as the API allows.
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id+"?_state=s"+id)
		w.Header().Set("Range", "0-0")
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPatch && id != "":
		data, ok := r.uploads[id]
		if !ok {
			fail(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", nil)
			return
		}
		r.uploads[id] = append(data, body...)
		w.Header().Set("Location", "/v2/"+repo+"/blobs/uploads/"+id)
		w.Header().Set("Range", fmt.Sprintf("0-%d", len(r.uploads[id])-1))
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPut && id != "":
		data, ok := r.uploads[id]
		if !ok {
			fail(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", nil)
			return
		}
		delete(r.uploads, id)
		r.finishUpload(w, repo, req.URL.Query().Get("digest"), append(data, body...))
	default:
		fail(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed", nil)
	}
}

func (r *Registry) finishUpload(w http.ResponseWriter, repo, digest string, data []byte) {
	if got := Digest(data); got != digest {
		fail(w, http.StatusBadRequest, "DIGEST_INVALID", "provided digest did not match uploaded content", map[string]string{"expected": digest, "got": got})
		return
	}
	r.blobs[digest] = data
	w.Header().Set("Location", "/v2/"+repo+"/blobs/"+digest)
	w.Header().Set("Docker-Content-Digest", digest)
	w.WriteHeader(http.StatusCreated)
}

func (r *Registry) manifest(w http.ResponseWriter, req *http.Request, repo, ref string) {
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		ms, ok := r.manifests[repo]
		if !ok {
			fail(w, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": repo})
			return
		}
		m, ok := ms[ref]
		if !ok {
			fail(w, http.StatusNotFound, "MANIFEST_UNKNOWN", "manifest unknown", map[string]string{"tag": ref})
			return
		}
		w.Header().Set("Content-Type", m.mediaType)
		w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
		w.Header().Set("Docker-Content-Digest", Digest(m.body))
		if req.Method == http.MethodGet {
			w.Write(m.body)
		}
	case http.MethodPut:
		body, err := io.ReadAll(req.Body)
		if err != nil {
			fail(w, http.StatusBadRequest, "MANIFEST_INVALID", err.Error(), nil)
			return
		}
		if strings.HasPrefix(ref, "sha256:") && Digest(body) != ref {
			fail(w, http.StatusBadRequest, "DIGEST_INVALID", "manifest digest did not match", nil)
			return
		}
		// Everything a manifest references must be here already, as real registries require.
		var doc struct {
			Config    *struct{ Digest string }  `json:"config"`
			Layers    []struct{ Digest string } `json:"layers"`
			Manifests []struct{ Digest string } `json:"manifests"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			fail(w, http.StatusBadRequest, "MANIFEST_INVALID", "manifest invalid", err.Error())
			return
		}
		refs := doc.Layers
		if doc.Config != nil {
			refs = append(refs, *doc.Config)
		}
		for _, l := range refs {
			if _, ok := r.blobs[l.Digest]; !ok {
				fail(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", l.Digest)
				return
			}
		}
		for _, m := range doc.Manifests {
			if _, ok := r.manifests[repo][m.Digest]; !ok {
				fail(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN", "manifest unknown to registry", m.Digest)
				return
			}
		}
		d := r.putManifest(repo, ref, req.Header.Get("Content-Type"), body)
		w.Header().Set("Location", "/v2/"+repo+"/manifests/"+d)
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	default:
		fail(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "method not allowed", nil)
	}
}

// catalog lists the repositories, n at a time (?n=, ?last=), with a Link header to the next page.
func (r *Registry) catalog(w http.ResponseWriter, req *http.Request) {
	repos := []string{}
	for repo := range r.manifests {
		repos = append(repos, repo)
	}
	sort.Strings(repos)
	q := req.URL.Query()
	if last := q.Get("last"); last != "" {
		i := sort.SearchStrings(repos, last)
		if i < len(repos) && repos[i] == last {
			i++
		}
		repos = repos[i:]
	}
	if n, err := strconv.Atoi(q.Get("n")); err == nil && n > 0 && n < len(repos) {
		repos = repos[:n]
		w.Header().Set("Link", fmt.Sprintf(`</v2/_catalog?last=%s&n=%d>; rel="next"`, repos[n-1], n))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string][]string{"repositories": repos})
}

// tags lists a repository's tags.
func (r *Registry) tags(w http.ResponseWriter, repo string) {
	ms, ok := r.manifests[repo]
	if !ok {
		fail(w, http.StatusNotFound, "NAME_UNKNOWN", "repository name not known to registry", map[string]string{"name": repo})
		return
	}
	tags := []string{}
	for t := range ms {
		if !strings.HasPrefix(t, "sha256:") {
			tags = append(tags, t)
		}
	}
	sort.Strings(tags)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"name": repo, "tags": tags})
}

// Package api is pea's Docker-compatible REST API: the endpoints the docker client (and
// docker-py, compose, ...) call, served on a unix or TCP socket by `pea system service`. It runs
// in its own executable (cmd/pea-service), because pea itself links no HTTP (see
// internal/image/helper.go); each request opens the engine as a pea command would, so requests
// run side by side as pea commands do, under the engine's own locks, and pea commands run beside
// the service.
//
// Paths are Docker's, with or without the /vX.Y version prefix; errors are Docker's
// {"message": "..."} with its status codes (404 no such object, 409 conflict, 400 bad
// parameter, 500 the rest).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/service"
)

// APIVersion is the Docker API version served (podman 4.3 serves the same); MinAPIVersion the
// oldest a client may ask for.
const (
	APIVersion    = "1.41"
	MinAPIVersion = "1.24"
)

// Server serves the API for one pea store.
type Server struct {
	opts    engine.Options
	version string // pea's version, for /version
	mux     *http.ServeMux
	// cors is the origin browsers may call the API from (--cors), "" none.
	cors string

	// attaches are the streams of clients attached to a created container, waiting for its
	// start (docker run attaches, then starts, on two connections): the start connects them
	// before the process runs, so no output is lost.
	attachMu sync.Mutex
	attaches map[string][]*pendingAttach

	// execs are the exec sessions created and not yet removed, by ID.
	execMu sync.Mutex
	execs  map[string]*execSession

	// watchers are closed at the next change of their container this process makes (see
	// changed), so that waits answer at once rather than at their next poll.
	watchMu  sync.Mutex
	watchers map[string]chan struct{}

	// emptied are the containers the API disconnected from their last network (networks.go).
	emptiedMu sync.Mutex
	emptied   map[string]bool

	// removed are the exit codes of the auto-removed containers this process removed, for
	// the libpod wait that comes after (libpod.go's rememberRemoved).
	removedMu sync.Mutex
	removed   map[string]removedExit

	// active counts requests in progress, for the idle timeout.
	active   atomic.Int64
	lastDone atomic.Int64 // unix nanoseconds
}

// New makes a server for the store opts names.
func New(opts engine.Options, version string) *Server {
	s := &Server{opts: opts, version: version, mux: http.NewServeMux(),
		attaches: map[string][]*pendingAttach{}, execs: map[string]*execSession{}, watchers: map[string]chan struct{}{}, emptied: map[string]bool{}, removed: map[string]removedExit{}}
	s.routes()
	return s
}

// AllowOrigin lets browser pages of origin (or "*") call the API: the answers carry
// Access-Control-Allow-Origin, and a preflight OPTIONS request is answered (system service
// --cors).
func (s *Server) AllowOrigin(origin string) { s.cors = origin }

// watch returns a channel closed at the next change of container id that this process makes.
func (s *Server) watch(id string) <-chan struct{} {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	ch, ok := s.watchers[id]
	if !ok {
		ch = make(chan struct{})
		s.watchers[id] = ch
	}
	return ch
}

// changed wakes the watchers of container id: it started, exited or was removed.
func (s *Server) changed(id string) {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if ch, ok := s.watchers[id]; ok {
		close(ch)
		delete(s.watchers, id)
	}
}

// route registers h for method and path (Go's ServeMux patterns, without the version prefix).
func (s *Server) route(method, path string, h func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error) {
	s.mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
		rt, err := engine.New(s.opts)
		if err != nil {
			writeError(w, err)
			return
		}
		defer rt.Close()
		if err := h(w, r, rt); err != nil {
			writeError(w, err)
		}
	})
}

var versionPrefix = regexp.MustCompile(`^/v(\d+\.\d+)(/|$)`)

// ServeHTTP strips the version prefix and dispatches.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer func() {
		s.lastDone.Store(time.Now().UnixNano())
		s.active.Add(-1)
	}()
	if s.cors != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", s.cors)
		h.Set("Access-Control-Allow-Headers", "*")
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, DELETE, OPTIONS")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	if p, ok := libpodPath(r.URL.Path); ok { // podman's own API (libpod.go)
		// The escaped path too, when there is one: a name the client escaped
		// (/manifests/localhost%2Flist/json) is one path segment to the patterns.
		raw, _ := libpodPath(r.URL.RawPath)
		r.URL.Path, r.URL.RawPath = p, raw
		s.serveLibpod(w, r)
		return
	}
	if m := versionPrefix.FindStringSubmatch(r.URL.Path); m != nil {
		if versionLess(APIVersion, m[1]) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("client version %s is too new. Maximum supported API version is %s", m[1], APIVersion)})
			return
		}
		if versionLess(m[1], MinAPIVersion) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version", m[1], MinAPIVersion)})
			return
		}
		r.URL.Path = "/" + strings.TrimPrefix(r.URL.Path[len(m[0]):], "/")
	}
	w.Header().Set("Api-Version", APIVersion)
	w.Header().Set("Server", "pea/"+s.version)
	w.Header().Set("Docker-Experimental", "false")
	w.Header().Set("Ostype", "linux")
	s.mux.ServeHTTP(w, r)
}

// versionLess compares two "X.Y" versions.
func versionLess(a, b string) bool {
	pa, pb := strings.SplitN(a, ".", 2), strings.SplitN(b, ".", 2)
	for i := 0; i < 2; i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

// Activated is the listening socket systemd passed (socket activation: LISTEN_FDS and
// LISTEN_PID this process, the first socket at fd 3), or nil.
func Activated() (net.Listener, error) {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) || os.Getenv("LISTEN_FDS") == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return nil, fmt.Errorf("socket activation: LISTEN_FDS=%q: %w", os.Getenv("LISTEN_FDS"), errdefs.ErrInvalid)
	}
	// The first socket is served (as podman does); others are left alone.
	os.Unsetenv("LISTEN_PID")
	os.Unsetenv("LISTEN_FDS")
	os.Unsetenv("LISTEN_FDNAMES")
	f := os.NewFile(3, "activated socket")
	defer f.Close() // FileListener dups it
	return net.FileListener(f)
}

// Listen opens the socket a URI names: unix:///path (the default scheme) or tcp://host:port.
// A unix socket's stale file is replaced.
func Listen(uri string) (net.Listener, error) {
	switch {
	case strings.HasPrefix(uri, "tcp://"):
		return net.Listen("tcp", strings.TrimPrefix(uri, "tcp://"))
	case strings.HasPrefix(uri, "unix://"), !strings.Contains(uri, "://"):
		path := strings.TrimPrefix(uri, "unix://")
		if path == "" {
			return nil, fmt.Errorf("invalid URI %q: no socket path: %w", uri, errdefs.ErrInvalid)
		}
		return service.ListenUnix(path)
	default:
		return nil, fmt.Errorf("invalid URI %q: use unix:///PATH or tcp://HOST:PORT: %w", uri, errdefs.ErrInvalid)
	}
}

// Serve answers requests on ln until ctx ends or, with idle > 0, until no request has been in
// progress for idle.
func (s *Server) Serve(ctx context.Context, ln net.Listener, idle time.Duration) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	s.lastDone.Store(time.Now().UnixNano())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	var tick <-chan time.Time
	if idle > 0 {
		t := time.NewTicker(idle / 4)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			hs.Close()
			<-done
			// Closing the connections ends the requests' contexts, but their handlers may still
			// be running their cleanups (a build's context directory, a copy's scratch one),
			// which the process's exit cut short: they are waited for a while.
			for deadline := time.Now().Add(10 * time.Second); s.active.Load() > 0 && time.Now().Before(deadline); {
				cpupin.Sleep(10 * time.Millisecond)
			}
			return nil
		case <-tick:
			if s.active.Load() == 0 && time.Since(time.Unix(0, s.lastDone.Load())) >= idle {
				shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				hs.Shutdown(shut)
				cancel()
				<-done
				return nil
			}
		}
	}
}

// writeJSON writes v with the status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// apiError is an error with the HTTP status it is answered with.
type apiError struct {
	code int
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// writeError answers err with Docker's status for its class and its message.
func writeError(w http.ResponseWriter, err error) {
	writeJSON(w, errorStatus(err), map[string]string{"message": err.Error()})
}

// errorStatus is Docker's status for err's class.
func errorStatus(err error) int {
	code := http.StatusInternalServerError
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		code = ae.code
	case errdefs.Is(err, errdefs.ErrNotFound), errdefs.Is(err, errdefs.ErrCtrRemoved):
		code = http.StatusNotFound
	case errdefs.Is(err, errdefs.ErrExists), errdefs.Is(err, errdefs.ErrInUse), errdefs.Is(err, errdefs.ErrCtrStateInvalid):
		code = http.StatusConflict
	case errdefs.Is(err, errdefs.ErrInvalid), errdefs.Is(err, errdefs.ErrAmbiguous):
		code = http.StatusBadRequest
	}
	return code
}

// boolParam reads a query flag as Docker does: 1, true, True... are true, absent is def.
func boolParam(r *http.Request, name string, def bool) bool {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	return err == nil && b || v == "yes"
}

// maxJSONBody bounds the JSON bodies the service reads (a container's config is a few KiB).
const maxJSONBody = 16 << 20

// decodeBody reads a JSON request body into v (an empty body leaves v as it is).
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return badRequest("invalid JSON body: %v", err)
	}
	return nil
}

// filters reads Docker's filters parameter: {"key": ["value", ...]} or the older
// {"key": {"value": true}}.
func filters(r *http.Request) (map[string][]string, error) {
	raw := r.URL.Query().Get("filters")
	out := map[string][]string{}
	if raw == "" {
		return out, nil
	}
	var lists map[string][]string
	if err := json.Unmarshal([]byte(raw), &lists); err == nil {
		return lists, nil
	}
	var sets map[string]map[string]bool
	if err := json.Unmarshal([]byte(raw), &sets); err != nil {
		return nil, badRequest("invalid filters %q: %v", raw, err)
	}
	for k, vs := range sets {
		for v, on := range vs {
			if on {
				out[k] = append(out[k], v)
			}
		}
	}
	return out, nil
}

// matchFilters tells whether an object passes Docker's filters, with match answering one
// key=value: every key must be matched by one of its values, except label and label!, whose
// values must all match (Docker ANDs labels: compose selects by project and service both).
func matchFilters(f map[string][]string, match func(key, val string) (bool, error)) (bool, error) {
	for key, vals := range f {
		all := key == "label" || key == "label!"
		ok := all
		for _, v := range vals {
			m, err := match(key, v)
			if err != nil {
				return false, err
			}
			if all && !m {
				return false, nil
			}
			ok = ok || m
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

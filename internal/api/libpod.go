package api

// The libpod endpoints: podman's own REST API (/vX.Y.Z/libpod/... and /libpod/...), which
// `podman --remote`, podman-desktop and cockpit drive. Paths, parameters and answers follow
// podman 4.3's; the work is the Docker endpoints' and the engine's. Errors are podman's
// {"cause", "message", "response"}; a libpod endpoint pea lacks answers 501 in that shape.

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// LibpodAPIVersion is the libpod API version served (podman 4.3.1's); the buildah version is
// the one that podman release's build endpoint speaks.
const (
	LibpodAPIVersion    = "4.3.1"
	LibpodMinAPIVersion = "4.0.0"
	libpodBuildahLevel  = "1.28.2"
)

// libpodPath is path without a libpod version prefix (/v4.3.1/libpod/x → /libpod/x), and
// whether it is a libpod path at all.
func libpodPath(path string) (string, bool) {
	if path == "/libpod" || strings.HasPrefix(path, "/libpod/") {
		return path, true
	}
	if !strings.HasPrefix(path, "/v") {
		return "", false
	}
	rest := path[2:]
	i := strings.IndexByte(rest, '/')
	if i <= 0 || strings.Trim(rest[:i], "0123456789.") != "" {
		return "", false
	}
	rest = rest[i:]
	if rest == "/libpod" || strings.HasPrefix(rest, "/libpod/") {
		return rest, true
	}
	return "", false
}

// serveLibpod answers a libpod request (its path already without the version).
func (s *Server) serveLibpod(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Libpod-Api-Version", LibpodAPIVersion)
	w.Header().Set("Libpod-Buildah-Version", libpodBuildahLevel)
	s.mux.ServeHTTP(w, r)
}

// lroute registers a libpod endpoint: path is under /libpod, errors are podman's.
func (s *Server) lroute(method, path string, h func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error) {
	s.mux.HandleFunc(method+" /libpod"+path, func(w http.ResponseWriter, r *http.Request) {
		rt, err := engine.New(s.opts)
		if err != nil {
			writeLibpodError(w, err)
			return
		}
		defer rt.Close()
		if err := h(w, r, rt); err != nil {
			writeLibpodError(w, err)
		}
	})
}

// writeLibpodError answers err as podman does: the status of its class, the innermost error's
// text as the cause.
func writeLibpodError(w http.ResponseWriter, err error) {
	code := errorStatus(err)
	writeJSON(w, code, map[string]any{"cause": libpodCause(err), "message": err.Error(), "response": code})
}

// libpodCause is the root of err's chain: podman's wording of the class ("no such
// container") where pea has one, else the innermost text.
func libpodCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		if isErrClass(next) && !strings.Contains(err.Error(), ": ") {
			return err.Error() // a class error of podman's wording over its class
		}
		err = next
	}
}

func isErrClass(err error) bool {
	for _, c := range []error{errdefs.ErrNotFound, errdefs.ErrExists, errdefs.ErrInvalid, errdefs.ErrWrongState, errdefs.ErrInUse, errdefs.ErrAmbiguous} {
		if err == c {
			return true
		}
	}
	return false
}

// libpodNotImplemented answers the libpod paths pea does not serve.
func libpodNotImplemented(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotImplemented, map[string]any{"cause": "not implemented",
		"message": fmt.Sprintf("%s %s: this libpod endpoint is not implemented by pea", r.Method, r.URL.Path), "response": http.StatusNotImplemented})
}

// libpodRoutes registers the libpod endpoints.
func (s *Server) libpodRoutes() {
	s.mux.HandleFunc("/libpod/", libpodNotImplemented)
	s.lroute("GET", "/_ping", s.getPing)
	s.lroute("HEAD", "/_ping", s.getPing)
	s.lroute("GET", "/version", s.getLibpodVersion)
	s.lroute("GET", "/info", s.getLibpodInfo)
	s.libpodContainerRoutes() // libpod_containers.go
	s.libpodImageRoutes()     // libpod_images.go
	s.libpodPodRoutes()       // libpod_pods.go
	s.libpodVolumeRoutes()    // libpod_volumes.go
	s.libpodSystemRoutes()    // libpod_system.go
	s.libpodBuildRoutes()     // libpod_build.go
	s.libpodTransferRoutes()  // libpod_transfer.go
	s.libpodKubeRoutes()      // libpod_kube.go
	s.libpodManifestRoutes()  // libpod_manifests.go
	s.libpodSecretRoutes()    // libpod_secrets.go
	s.libpodMoreRoutes()      // libpod_more.go
}

// getLibpodVersion is GET /libpod/version: Docker's version answer with podman's component,
// whose details carry the libpod API version the podman client reads.
func (s *Server) getLibpodVersion(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	kernel := ""
	if info, err := rt.Info(); err == nil {
		kernel = info.Host.Kernel
	}
	built := time.Unix(0, 0).UTC().Format(time.RFC3339)
	component := map[string]any{"Name": "Podman Engine", "Version": s.version, "Details": map[string]string{
		"APIVersion": LibpodAPIVersion, "MinAPIVersion": LibpodMinAPIVersion, "Arch": runtime.GOARCH, "BuildTime": built,
		"Experimental": "false", "GitCommit": "", "GoVersion": runtime.Version(), "KernelVersion": kernel, "Os": runtime.GOOS,
	}}
	writeJSON(w, http.StatusOK, map[string]any{
		"Platform": map[string]string{"Name": "linux/" + runtime.GOARCH + "/pea"}, "Components": []any{component},
		"Version": s.version, "ApiVersion": APIVersion, "MinAPIVersion": MinAPIVersion, "GitCommit": "",
		"GoVersion": runtime.Version(), "Os": runtime.GOOS, "Arch": runtime.GOARCH, "KernelVersion": kernel, "BuildTime": built,
	})
	return nil
}

// getLibpodInfo is GET /libpod/info: the engine's info, which has podman's shape.
func (s *Server) getLibpodInfo(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	info, err := rt.Info()
	if err != nil {
		return err
	}
	info.Version = engine.VersionInfo{APIVersion: LibpodAPIVersion, Version: s.version, GoVersion: runtime.Version(),
		BuiltTime: time.Unix(0, 0).Format(time.ANSIC), OsArch: runtime.GOOS + "/" + runtime.GOARCH, Os: runtime.GOOS}
	writeJSON(w, http.StatusOK, info)
	return nil
}

package api

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

// libpodContainerRoutes registers the libpod container endpoints. Those whose request and
// answer are Docker's (start, kill, pause, top, logs...) are the Docker handlers.
func (s *Server) libpodContainerRoutes() {
	s.lroute("GET", "/containers/json", s.getLibpodContainers)
	s.lroute("POST", "/containers/create", s.postLibpodContainerCreate)
	s.lroute("GET", "/containers/{id}/json", s.getLibpodContainer)
	s.lroute("GET", "/containers/{id}/exists", s.getLibpodContainerExists)
	s.lroute("POST", "/containers/{id}/start", s.postContainerStart)
	s.lroute("POST", "/containers/{id}/stop", libpodTimeout(s.postContainerStop))
	s.lroute("POST", "/containers/{id}/restart", libpodTimeout(s.postContainerRestart))
	s.lroute("POST", "/containers/{id}/kill", s.postContainerKill)
	s.lroute("POST", "/containers/{id}/pause", s.postContainerPause(true))
	s.lroute("POST", "/containers/{id}/unpause", s.postContainerPause(false))
	s.lroute("POST", "/containers/{id}/rename", s.postContainerRename)
	s.lroute("GET", "/containers/{id}/top", s.getLibpodContainerTop)
	s.lroute("GET", "/containers/{id}/healthcheck", s.getLibpodHealthcheck)
	s.lroute("GET", "/containers/{id}/logs", libpodLogParams(s.getContainerLogs))
	s.lroute("POST", "/containers/{id}/wait", s.postLibpodContainerWait)
	s.lroute("DELETE", "/containers/{id}", s.deleteLibpodContainer)
	s.lroute("POST", "/containers/prune", libpodPrune(func(r *http.Request, rt *engine.Runtime, f engine.PruneFilter) ([]string, error) {
		return rt.PruneContainers(r.Context(), f)
	}, pruneReports))
	s.lroute("GET", "/containers/{rest...}", s.getLibpodContainerSlashed)
	// exec and attach: podman's requests and streams are Docker's
	s.lroute("POST", "/containers/{id}/exec", s.postContainerExec)
	s.lroute("POST", "/exec/{id}/start", s.postExecStart)
	s.lroute("POST", "/exec/{id}/resize", s.postExecResize)
	s.lroute("GET", "/exec/{id}/json", s.getExecInspect)
	s.lroute("POST", "/containers/{id}/attach", s.postContainerAttach)
	s.lroute("POST", "/containers/{id}/resize", s.postContainerResize)
	// diff, export, commit and cp out of a container: Docker's requests and answers too; cp
	// into one (libpod_archive.go) is podman's own
	s.lroute("GET", "/containers/{id}/changes", s.getContainerChanges)
	s.lroute("GET", "/containers/{id}/export", s.getContainerExport)
	s.lroute("POST", "/commit", s.postCommit)
	s.lroute("HEAD", "/containers/{id}/archive", s.headLibpodArchive)
	s.lroute("GET", "/containers/{id}/archive", s.getContainerArchive)
	s.lroute("PUT", "/containers/{id}/archive", s.putLibpodArchive)
	s.lroute("GET", "/containers/stats", s.getLibpodContainersStats) // libpod_stats.go
}

// getLibpodContainerSlashed answers GET /libpod/containers/A/B/json and /exists: no container
// has a slash in its name (podman inspect asks for a container before it asks for an image).
func (s *Server) getLibpodContainerSlashed(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name, action := imageAction(r.PathValue("rest"), "json", "exists")
	if action == "" {
		libpodNotImplemented(w, r)
		return nil
	}
	return fmt.Errorf("no container with name or ID %q found: %w", name, errdefs.ErrNoSuchContainer)
}

// libpodTimeout passes libpod's timeout parameter to a Docker handler as its t.
func libpodTimeout(h func(http.ResponseWriter, *http.Request, *engine.Runtime) error) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		q := r.URL.Query()
		if v := q.Get("timeout"); v != "" && q.Get("t") == "" {
			q.Set("t", v)
			r.URL.RawQuery = q.Encode()
		}
		return h(w, r, rt)
	}
}

// libpodLogParams passes podman's logs parameters to the Docker handler: tail -1 is all, and
// since/until may be RFC 3339 times (the zero time: none).
func libpodLogParams(h func(http.ResponseWriter, *http.Request, *engine.Runtime) error) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		q := r.URL.Query()
		if n, err := strconv.Atoi(q.Get("tail")); err == nil && n < 0 {
			q.Del("tail")
		}
		for _, k := range []string{"since", "until"} {
			if t, err := time.Parse(time.RFC3339Nano, q.Get(k)); err == nil {
				if t.IsZero() || t.Unix() <= 0 {
					q.Del(k)
				} else {
					q.Set(k, fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()))
				}
			}
		}
		r.URL.RawQuery = q.Encode()
		return h(w, r, rt)
	}
}

// libpodContainer is podman's ListContainer, one element of GET /libpod/containers/json.
type libpodContainer struct {
	AutoRemove bool              `json:"AutoRemove"`
	Command    []string          `json:"Command"`
	Created    time.Time         `json:"Created"`
	CreatedAt  string            `json:"CreatedAt"`
	Exited     bool              `json:"Exited"`
	ExitedAt   int64             `json:"ExitedAt"`
	ExitCode   int32             `json:"ExitCode"`
	ID         string            `json:"Id"`
	Image      string            `json:"Image"`
	ImageID    string            `json:"ImageID"`
	IsInfra    bool              `json:"IsInfra"`
	Labels     map[string]string `json:"Labels"`
	Mounts     []string          `json:"Mounts"`
	Names      []string          `json:"Names"`
	Namespaces map[string]string `json:"Namespaces"`
	Networks   []string          `json:"Networks"`
	Pid        int               `json:"Pid"`
	Pod        string            `json:"Pod"`
	PodName    string            `json:"PodName"`
	Ports      []view.SpecPort   `json:"Ports"`
	StartedAt  int64             `json:"StartedAt"`
	State      string            `json:"State"`
	Status     string            `json:"Status"`
}

func toLibpodPorts(ps []model.PortMapping) []view.SpecPort {
	out := []view.SpecPort{}
	for _, p := range ps {
		out = append(out, view.SpecPort{HostIP: p.HostIP, ContainerPort: p.ContainerPort, HostPort: p.HostPort, Range: max(p.Range, 1), Protocol: p.Protocol})
	}
	return out
}

// unixSeconds is a time as podman lists it: seconds, or the zero time's for none.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return time.Time{}.Unix()
	}
	return t.Unix()
}

// getLibpodContainers is GET /libpod/containers/json?all=&limit=&filters=&pod=&namespace=:
// every container, pods' infra containers too, as podman lists them.
func (s *Server) getLibpodContainers(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	cs, err := rt.ListContainersListed()
	if err != nil {
		return err
	}
	pods := map[string]string{}
	if ps, err := rt.ListPodsBrief(); err == nil {
		for _, p := range ps {
			pods[p.Pod.Config.ID] = p.Pod.Config.Name
		}
	}
	all := boolParam(r, "all", false)
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	sort.Slice(cs, func(i, j int) bool { return cs[i].Config.Created.After(cs[j].Config.Created) })
	out := []libpodContainer{}
	for _, c := range cs {
		if !all && limit <= 0 && c.State.Status != model.StatusRunning && c.State.Status != model.StatusPaused && len(f["status"]) == 0 {
			continue
		}
		ok, _ := matchFilters(f, func(k, v string) (bool, error) {
			switch k {
			case "pod":
				return c.Config.Pod != "" && (pods[c.Config.Pod] == v || len(v) >= 3 && len(c.Config.Pod) >= len(v) && c.Config.Pod[:len(v)] == v), nil
			case "status":
				return c.State.Status == v || dockerStatus(c.State) == v, nil
			case "name":
				return matchFilter(c, k, v) || c.Config.Name == v, nil
			}
			return matchFilter(c, k, v), nil
		})
		if !ok {
			continue
		}
		out = append(out, toLibpodContainer(c, pods, boolParam(r, "namespace", false)))
		if limit > 0 && len(out) == limit {
			break
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func toLibpodContainer(c *model.Container, pods map[string]string, namespaces bool) libpodContainer {
	cfg, st := c.Config, c.State
	l := libpodContainer{
		AutoRemove: cfg.AutoRemove, Command: cfg.Command(), Created: cfg.Created, Exited: st.Status == model.StatusExited,
		ExitedAt: unixSeconds(st.FinishedAt), ExitCode: st.ExitCode, ID: cfg.ID, Image: cfg.ImageName, ImageID: cfg.Image,
		IsInfra: cfg.IsInfra, Labels: cfg.Labels, Mounts: []string{}, Names: []string{cfg.Name}, Namespaces: map[string]string{},
		Networks: nonNilStrings(cfg.Network.Networks), Pid: st.Pid, Pod: cfg.Pod, PodName: pods[cfg.Pod],
		Ports: toLibpodPorts(cfg.Network.Ports), StartedAt: unixSeconds(st.StartedAt), State: st.Status,
	}
	if l.Command == nil {
		l.Command = []string{}
	}
	for _, m := range cfg.Mounts {
		l.Mounts = append(l.Mounts, m.Destination)
	}
	if namespaces && st.Active() && st.Pid > 0 {
		// podman's keys for the namespaces' inode numbers
		for kind, id := range engine.NamespaceIDs(st.Pid) {
			switch kind {
			case model.NSMount:
				l.Namespaces["Mnt"] = id
			case model.NSCgroup:
				l.Namespaces["Cgroup"] = id
			case model.NSIpc:
				l.Namespaces["Ipc"] = id
			case model.NSNet:
				l.Namespaces["Net"] = id
			case model.NSPid:
				l.Namespaces["Pidns"] = id
			case model.NSUts:
				l.Namespaces["Uts"] = id
			case model.NSUser:
				l.Namespaces["User"] = id
			}
		}
	}
	return l
}

// getLibpodContainer is GET /libpod/containers/{id}/json: podman's inspect, the view
// `pea inspect` prints.
func (s *Server) getLibpodContainer(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := rt.LookupContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view.ContainerInspect(rt, c))
	return nil
}

// getLibpodContainerExists is GET /libpod/containers/{id}/exists: 204, or 404.
func (s *Server) getLibpodContainerExists(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if _, err := rt.LookupContainer(r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postLibpodContainerWait is POST /libpod/containers/{id}/wait?condition=...: the exit code,
// a bare number, once the container meets one of the conditions (default: stopped).
func (s *Server) postLibpodContainerWait(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := rt.LookupContainer(r.PathValue("id"))
	if err != nil {
		// podman run --rm waits after its attach ends: the service may have removed it already
		if rc, ok := s.removedExitCode(r.PathValue("id")); ok && errdefs.Is(err, errdefs.ErrNotFound) {
			writeJSON(w, http.StatusOK, rc)
			return nil
		}
		return err
	}
	code, err := rt.WaitContainer(r.Context(), c.Config.ID, r.URL.Query()["condition"])
	if errdefs.Is(err, errdefs.ErrNotFound) || errdefs.Is(err, errdefs.ErrCtrRemoved) {
		if rc, ok := s.removedExitCode(c.Config.ID); ok {
			code, err = rc, nil
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, code)
	return nil
}

// libpodRmReport is podman's answer for one removed container.
type libpodRmReport struct {
	ID       string  `json:"Id"`
	RawInput string  `json:"RawInput"`
	Err      *string `json:"Err,omitempty"`
}

// deleteLibpodContainer is DELETE /libpod/containers/{id}?force=&v=&ignore=&timeout=.
func (s *Server) deleteLibpodContainer(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("id")
	c, err := rt.LookupContainer(name)
	if err != nil {
		if boolParam(r, "ignore", false) && errdefs.Is(err, errdefs.ErrNotFound) {
			writeJSON(w, http.StatusOK, []libpodRmReport{})
			return nil
		}
		return err
	}
	o := engine.RemoveOptions{Force: boolParam(r, "force", false), Volumes: boolParam(r, "v", false)}
	if v := r.URL.Query().Get("timeout"); v != "" {
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return badRequest("invalid timeout %q", v)
		}
		t := uint(n)
		o.Timeout = &t
	}
	defer s.releaseAttaches(c.Config.ID)
	defer s.changed(c.Config.ID)
	defer s.takeEmptied(c.Config.ID)
	if err := rt.RemoveContainer(r.Context(), c.Config.ID, o); err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
		return err
	}
	writeJSON(w, http.StatusOK, []libpodRmReport{{ID: c.Config.ID, RawInput: name}})
	return nil
}

// libpodPruneReport is podman's answer for one pruned object.
type libpodPruneReport struct {
	ID   string  `json:"Id"`
	Err  *string `json:"Err,omitempty"`
	Size uint64  `json:"Size"`
}

func toPruneReports(ids []string) []libpodPruneReport {
	out := []libpodPruneReport{}
	for _, id := range ids {
		out = append(out, libpodPruneReport{ID: id})
	}
	return out
}

// libpodPrune is a libpod prune endpoint (POST /libpod/{containers,volumes,networks}/prune?
// filters=): prune with the request's label=, label!= and until= filters, answer report of what
// went.
func libpodPrune(prune func(*http.Request, *engine.Runtime, engine.PruneFilter) ([]string, error), report func([]string) any) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		f, err := filters(r)
		if err != nil {
			return err
		}
		pf, err := pruneFilter(f)
		if err != nil {
			return err
		}
		gone, err := prune(r, rt, pf)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, report(gone))
		return nil
	}
}

// pruneReports is libpod's answer to a container or volume prune: [{"Id"}].
func pruneReports(ids []string) any { return toPruneReports(ids) }

// removedExit is the exit code of an auto-removed container.
type removedExit struct {
	name string
	code int32
	when time.Time
}

// rememberRemoved keeps the exit code of c, which is about to be auto-removed, for a few
// minutes.
func (s *Server) rememberRemoved(c *model.Container) {
	s.removedMu.Lock()
	defer s.removedMu.Unlock()
	now := time.Now()
	for id, e := range s.removed {
		if now.Sub(e.when) > 5*time.Minute {
			delete(s.removed, id)
		}
	}
	s.removed[c.Config.ID] = removedExit{name: c.Config.Name, code: c.State.ExitCode, when: now}
}

// removedExitCode is the remembered exit code of the auto-removed container nameOrID (its
// name, ID or ID prefix).
func (s *Server) removedExitCode(nameOrID string) (int32, bool) {
	s.removedMu.Lock()
	defer s.removedMu.Unlock()
	for id, e := range s.removed {
		if e.name == nameOrID || id == nameOrID || len(nameOrID) >= 3 && strings.HasPrefix(id, nameOrID) {
			return e.code, true
		}
	}
	return 0, false
}

// getLibpodHealthcheck is GET /libpod/containers/{id}/healthcheck (podman healthcheck run):
// the check run once, answered with the container's health after it ({Status, FailingStreak,
// Log}); the client prints a status other than healthy and exits 1.
func (s *Server) getLibpodHealthcheck(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if _, err := rt.HealthcheckRun(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	c, err := rt.LookupContainer(r.PathValue("id"))
	if err != nil {
		return err
	}
	h := view.NewHealth(c)
	if h == nil {
		return fmt.Errorf("container %s has no defined healthcheck: %w", c.Config.Name, errdefs.ErrInvalid)
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

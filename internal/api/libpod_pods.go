package api

import (
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

// libpodPodRoutes registers the libpod pod endpoints (Docker has no pods).
func (s *Server) libpodPodRoutes() {
	s.lroute("GET", "/pods/json", s.getLibpodPods)
	s.lroute("POST", "/pods/create", s.postLibpodPodCreate)
	s.lroute("POST", "/pods/prune", s.postLibpodPodsPrune)
	s.lroute("GET", "/pods/stats", s.getLibpodPodStats)
	s.lroute("GET", "/pods/{name}/json", s.getLibpodPod)
	s.lroute("GET", "/pods/{name}/exists", s.getLibpodPodExists)
	s.lroute("GET", "/pods/{name}/top", s.getLibpodPodTop)
	s.lroute("POST", "/pods/{name}/start", s.postLibpodPodAction("start"))
	s.lroute("POST", "/pods/{name}/stop", s.postLibpodPodAction("stop"))
	s.lroute("POST", "/pods/{name}/restart", s.postLibpodPodAction("restart"))
	s.lroute("POST", "/pods/{name}/kill", s.postLibpodPodAction("kill"))
	s.lroute("POST", "/pods/{name}/pause", s.postLibpodPodAction("pause"))
	s.lroute("POST", "/pods/{name}/unpause", s.postLibpodPodAction("unpause"))
	s.lroute("DELETE", "/pods/{name}", s.deleteLibpodPod)
}

// getLibpodPods is GET /libpod/pods/json?filters= (name, id, label, status).
func (s *Server) getLibpodPods(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	ps, err := rt.ListPods()
	if err != nil {
		return err
	}
	out := []view.PodListEntry{}
	for _, p := range ps {
		cfg := p.Pod.Config
		ok, err := matchFilters(f, func(k, v string) (bool, error) {
			switch k {
			case "name":
				return strings.Contains(cfg.Name, v), nil
			case "id":
				return strings.HasPrefix(cfg.ID, v), nil
			case "label":
				return model.LabelsMatch(cfg.Labels, v), nil
			case "status":
				return strings.EqualFold(p.Status, v), nil
			}
			return false, badRequest("invalid pod filter %q", k)
		})
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		e := view.PodList(p)
		out = append(out, e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodPod is GET /libpod/pods/{name}/json: the view `pea pod inspect` prints.
func (s *Server) getLibpodPod(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	p, err := rt.InspectPod(r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view.PodInspect(rt, p))
	return nil
}

// getLibpodPodExists is GET /libpod/pods/{name}/exists: 204, or 404.
func (s *Server) getLibpodPodExists(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	if _, err := rt.LookupPod(r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// libpodPodReport is podman's answer to a pod action: the pod's ID and no errors (a failure
// is the request's error).
type libpodPodReport struct {
	Errs []string `json:"Errs"`
	ID   string   `json:"Id"`
}

// postLibpodPodAction is POST /libpod/pods/{name}/start, stop?t=, restart, kill?signal=,
// pause and unpause.
func (s *Server) postLibpodPodAction(action string) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		name := r.PathValue("name")
		pod, err := rt.LookupPod(name)
		if err != nil {
			return err
		}
		t, err := timeoutParam(r)
		if err != nil {
			return err
		}
		id := pod.Config.ID
		switch action {
		case "start":
			_, err = rt.StartPod(r.Context(), id)
		case "stop":
			_, err = rt.StopPod(r.Context(), id, t)
		case "restart":
			_, err = rt.RestartPod(r.Context(), id, t)
		case "kill":
			sig := syscall.SIGKILL
			if v := r.URL.Query().Get("signal"); v != "" {
				if sig, err = engine.ParseSignal(v); err != nil {
					return badRequest("%v", err)
				}
			}
			_, err = rt.KillPod(r.Context(), id, sig)
		case "pause", "unpause":
			_, err = rt.PausePod(r.Context(), id, action == "pause")
		}
		if err != nil {
			return err
		}
		if members, err := rt.PodMembers(id); err == nil {
			for _, m := range members {
				s.changed(m.Config.ID)
			}
		}
		writeJSON(w, http.StatusOK, libpodPodReport{Errs: []string{}, ID: id})
		return nil
	}
}

// deleteLibpodPod is DELETE /libpod/pods/{name}?force=&timeout=.
func (s *Server) deleteLibpodPod(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	pod, err := rt.LookupPod(r.PathValue("name"))
	if err != nil {
		return err
	}
	o := engine.PodRemoveOptions{Force: boolParam(r, "force", false)}
	if r.URL.Query().Get("timeout") != "" {
		r2 := *r
		q := r.URL.Query()
		q.Set("t", q.Get("timeout"))
		u := *r.URL
		u.RawQuery = q.Encode()
		r2.URL = &u
		if o.Timeout, err = timeoutParam(&r2); err != nil {
			return err
		}
	}
	members, _ := rt.PodMembers(pod.Config.ID)
	if err := rt.RemovePod(r.Context(), pod.Config.ID, o); err != nil {
		return err
	}
	removed := map[string]any{}
	for _, m := range members {
		s.changed(m.Config.ID)
		removed[m.Config.ID] = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"Id": pod.Config.ID, "RemovedCtrs": removed})
	return nil
}

// postLibpodPodsPrune is POST /libpod/pods/prune: the pods with nothing running go.
func (s *Server) postLibpodPodsPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	ids, err := rt.PrunePods(r.Context())
	if err != nil {
		return err
	}
	out := []libpodPodReport{}
	for _, id := range ids {
		out = append(out, libpodPodReport{ID: id})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodPodTop is GET /libpod/pods/{name}/top?ps_args=: the processes of the running
// members.
func (s *Server) getLibpodPodTop(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	pod, err := rt.LookupPod(r.PathValue("name"))
	if err != nil {
		return err
	}
	members, err := rt.PodMembers(pod.Config.ID)
	if err != nil {
		return err
	}
	var running []*model.Container
	for _, m := range members {
		if m.State.Status == model.StatusRunning || m.State.Status == model.StatusPaused {
			running = append(running, m)
		}
	}
	if len(running) == 0 {
		return fmt.Errorf("pod %s is not running: %w", pod.Config.Name, errdefs.ErrPodStateInvalid)
	}
	var desc []string
	if a := r.URL.Query().Get("ps_args"); a != "" {
		desc = strings.Fields(strings.ReplaceAll(a, ",", " "))
	}
	rows, err := rt.Top(running, desc)
	if err != nil {
		return err
	}
	out := map[string]any{"Titles": []string{}, "Processes": [][]string{}}
	if len(rows) > 0 {
		out["Titles"], out["Processes"] = rows[0], rows[1:]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodPodStats is GET /libpod/pods/stats?namesOrIDs=&all=: podman's PodStatsReport, one
// per running member, its figures as text.
func (s *Server) getLibpodPodStats(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	ps, err := rt.ListPods()
	if err != nil {
		return err
	}
	want := r.URL.Query()["namesOrIDs"]
	var cs []*model.Container
	found := map[string]bool{}
	for _, p := range ps {
		ok := len(want) == 0
		for _, n := range want {
			if p.Pod.Config.Name == n || strings.HasPrefix(p.Pod.Config.ID, n) {
				ok, found[n] = true, true
			}
		}
		if ok {
			cs = append(cs, p.Members...)
		}
	}
	for _, n := range want {
		if !found[n] {
			return fmt.Errorf("unable to get list of pods: no pod with name or ID %s found: %w", n, errdefs.ErrNoSuchPod)
		}
	}
	stats, err := rt.Stats(cs, 100*time.Millisecond)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, p := range ps {
		names[p.Pod.Config.ID] = p.Pod.Config.Name
	}
	out := []map[string]string{}
	for _, st := range stats {
		c := st.Container
		out = append(out, map[string]string{
			"Pod": shortID(c.Config.Pod), "CID": shortID(c.Config.ID), "Name": c.Config.Name,
			"CPU": fmt.Sprintf("%.2f%%", st.CPUPerc), "MemUsage": humanBytes(st.MemUsage) + " / " + humanBytes(st.MemLimit),
			"MemUsageBytes": fmt.Sprint(st.MemUsage) + "B / " + fmt.Sprint(st.MemLimit) + "B", "Mem": fmt.Sprintf("%.2f%%", st.MemPerc),
			"NetIO": humanBytes(st.NetIn) + " / " + humanBytes(st.NetOut), "BlockIO": humanBytes(st.BlockIn) + " / " + humanBytes(st.BlockOut),
			"PIDS": fmt.Sprint(st.Pids),
		})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// humanBytes is a size in podman's stats units (kB, MB, GB: powers of 1000).
func humanBytes(n uint64) string {
	f, units := float64(n), []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	return fmt.Sprintf("%.4g%s", f, units[i])
}

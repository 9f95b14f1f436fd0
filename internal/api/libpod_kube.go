package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/kube"
	"pea/internal/model"
)

// libpodKubeRoutes registers podman's kube endpoints: play and its teardown, and the
// generation of Kubernetes YAML and systemd units. The work is pea's kube package's (Play,
// Down, Collect and Generate), as for pea kube; systemd units are pea generate systemd's.
func (s *Server) libpodKubeRoutes() {
	s.lroute("POST", "/play/kube", s.postLibpodPlayKube)
	s.lroute("DELETE", "/play/kube", s.deleteLibpodPlayKube)
	s.lroute("GET", "/generate/kube", s.getLibpodGenerateKube)
	s.lroute("GET", "/generate/{name}/systemd", s.getLibpodGenerateSystemd)
}

// maxKubeBody bounds the YAML a play or a teardown reads.
const maxKubeBody = 16 << 20

// kubeManifest reads the request's body, Kubernetes YAML (the client appends its --configmap
// files to it, as further documents).
func kubeManifest(r *http.Request) (*kube.Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, maxKubeBody+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKubeBody {
		return nil, badRequest("the YAML is over %d bytes", maxKubeBody)
	}
	m := kube.NewManifest()
	if err := m.Add("the request's YAML", data); err != nil {
		return nil, err
	}
	return m, nil
}

// libpodPlayKubePod is podman's PlayKubePod.
type libpodPlayKubePod struct {
	ID              string   `json:"ID"`
	Containers      []string `json:"Containers"`
	InitContainers  []string `json:"InitContainers"`
	Logs            []string `json:"Logs"`
	ContainerErrors []string `json:"ContainerErrors"`
}

// libpodPodStopReport is podman's PodStopReport, in a play's teardown report beside the
// removal reports (libpodRmReport); their errors are always empty: a failure fails the request.
type libpodPodStopReport struct {
	Errs []string `json:"Errs"`
	ID   string   `json:"Id"`
}

// libpodKubeReport is podman's PlayKubeReport: what a play made, or (its teardown part) what
// a kube down removed.
type libpodKubeReport struct {
	Pods               []libpodPlayKubePod   `json:"Pods"`
	Volumes            []map[string]string   `json:"Volumes"`
	StopReport         []libpodPodStopReport `json:"StopReport"`
	RmReport           []libpodRmReport      `json:"RmReport"`
	VolumeRmReport     []libpodRmReport      `json:"VolumeRmReport"`
	Secrets            []map[string]any      `json:"Secrets"`
	ServiceContainerID string                `json:"ServiceContainerID"`
}

func newLibpodKubeReport() *libpodKubeReport {
	return &libpodKubeReport{Pods: []libpodPlayKubePod{}, Volumes: []map[string]string{}, StopReport: []libpodPodStopReport{},
		RmReport: []libpodRmReport{}, VolumeRmReport: []libpodRmReport{}, Secrets: []map[string]any{}}
}

// postLibpodPlayKube is POST /libpod/play/kube?network=&start=&staticIPs=&staticMACs=
// &annotations=&logDriver=&logOptions=&noHosts=&userns=&tlsVerify=&quiet=: podman kube play
// --remote, the YAML in the body (--replace is the client's: it tears down first). The answer
// is podman's PlayKubeReport; the manifest's warnings are the first pod's Logs, which the
// client prints.
func (s *Server) postLibpodPlayKube(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	m, err := kubeManifest(r)
	if err != nil {
		return err
	}
	o := kube.PlayOptions{Start: true}
	if o.Start, err = queryBool(q, "start", true); err != nil {
		return err
	}
	if o.Replace, err = queryBool(q, "replace", false); err != nil {
		return err
	}
	if o.NoHosts, err = queryBool(q, "nohosts", false); err != nil {
		return err
	}
	o.Networks = q["network"] // podman's client sends one value per --network
	o.IPs, o.MACs = q["staticips"], q["staticmacs"]
	for _, ip := range o.IPs {
		if addr := net.ParseIP(ip); addr == nil || addr.To4() == nil {
			return badRequest("staticIPs %q: not an IPv4 address", ip)
		}
	}
	for _, mac := range o.MACs {
		if _, err := net.ParseMAC(mac); err != nil {
			return badRequest("staticMACs %q: %v", mac, err)
		}
	}
	if err := jsonParam(q, "annotations", &o.Annotations); err != nil {
		return err
	}
	if ns := q.Get("userns"); ns != "" {
		userns, err := engine.ParseUserNS(ns, false)
		if err != nil {
			return err
		}
		if userns.Mode == model.NSModeContainer {
			return badRequest("invalid userns %q for kube play (auto, host, ns:PATH)", ns)
		}
		o.UserNS = &userns
	}
	o.Log.LogDriver = q.Get("logdriver")
	for _, lo := range q["logoptions"] {
		k, v, _ := strings.Cut(lo, "=")
		if known, err := engine.ApplyLogOpt(&o.Log, k, v); err != nil {
			return err
		} else if !known {
			return badRequest("logOptions %s: pea supports max-size=SIZE and tag=TAG here", lo)
		}
	}
	if o.Registry.Creds, err = registryCreds(r); err != nil {
		return err
	}
	if v := q.Get("tlsverify"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("invalid tlsVerify %q", v)
		}
		o.Registry.TLSVerify = &b
	}
	rep, err := kube.Play(r.Context(), rt, m, o)
	if err != nil {
		return err
	}
	out := newLibpodKubeReport()
	for _, v := range rep.Volumes {
		out.Volumes = append(out.Volumes, map[string]string{"Name": v})
	}
	for i, p := range rep.Pods {
		pod := libpodPlayKubePod{ID: p.ID, Containers: nonNilStrings(p.Containers), InitContainers: []string{}, Logs: []string{}, ContainerErrors: []string{}}
		if i == 0 {
			pod.Logs = append(pod.Logs, rep.Warnings...)
		}
		out.Pods = append(out.Pods, pod)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// deleteLibpodPlayKube is DELETE /libpod/play/kube?force=: podman kube down --remote (and
// the first half of kube play --replace), the YAML in the body. The answer is podman's
// teardown report: the pods stopped and removed, with force the claims' volumes removed.
func (s *Server) deleteLibpodPlayKube(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	m, err := kubeManifest(r)
	if err != nil {
		return err
	}
	force, err := queryBool(q, "force", false)
	if err != nil {
		return err
	}
	rep, err := kube.Down(r.Context(), rt, m, force)
	if err != nil {
		return err
	}
	out := newLibpodKubeReport()
	for _, id := range rep.Pods {
		out.StopReport = append(out.StopReport, libpodPodStopReport{Errs: []string{}, ID: id})
		out.RmReport = append(out.RmReport, libpodRmReport{ID: id})
	}
	for _, v := range rep.Volumes {
		out.VolumeRmReport = append(out.VolumeRmReport, libpodRmReport{ID: v})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getLibpodGenerateKube is GET /libpod/generate/kube?names=&service=&type=&replicas=: the YAML
// pea kube generate writes for those pods, containers and volumes.
func (s *Server) getLibpodGenerateKube(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := libpodQuery(r)
	names := q["names"]
	if len(names) == 0 {
		return badRequest("names: no pod, container or volume given")
	}
	o := kube.GenerateOptions{Type: q.Get("type"), Replicas: 1}
	if o.Type == "" {
		o.Type = "pod"
	}
	var err error
	if o.Service, err = queryBool(q, "service", false); err != nil {
		return err
	}
	if v := q.Get("replicas"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return badRequest("invalid replicas %q: at least 1", v)
		}
		if n != 1 && o.Type != "deployment" {
			return badRequest("replicas needs type deployment")
		}
		o.Replicas = int32(n)
	}
	srcs, claims, err := kube.Collect(rt, names)
	if err != nil {
		return err
	}
	objs, _, err := kube.Generate(srcs, claims, o)
	if err != nil {
		return err
	}
	out, err := kube.Marshal(objs, s.version)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/vnd.yaml")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
	return nil
}

// getLibpodGenerateSystemd is GET /libpod/generate/{name}/systemd: the units pea generate
// systemd writes for a container or a pod, as podman's map of unit names (without .service) to
// their text. pea itself writes them (`pea generate systemd --format json`), so that the units
// name pea's executable and the store, and --new reads the create command with pea run's
// flags, as the CLI does.
func (s *Server) getLibpodGenerateSystemd(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	name := r.PathValue("name")
	if _, err := rt.LookupContainer(name); err != nil {
		if _, perr := rt.LookupPod(name); perr != nil {
			return fmt.Errorf("%s does not refer to a container or pod: %w", name, errdefs.ErrNoSuchContainer)
		}
	}
	args, err := systemdArgs(libpodQuery(r))
	if err != nil {
		return err
	}
	cmd := rt.PeaCommand(append(append([]string{"generate", "systemd", "--format", "json"}, args...), "--", name)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cpupin.Start(cmd); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		msg := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(stderr.String()), "Error: "))
		if msg == "" {
			msg = err.Error()
		}
		return &apiError{http.StatusInternalServerError, "generating systemd units: " + msg}
	}
	var units map[string]string
	if err := json.Unmarshal(stdout.Bytes(), &units); err != nil {
		return fmt.Errorf("generating systemd units: pea's answer: %w", err)
	}
	writeJSON(w, http.StatusOK, units)
	return nil
}

// systemdArgs are pea generate systemd's flags for podman's parameters.
func systemdArgs(q url.Values) ([]string, error) {
	var args []string
	for _, b := range []struct{ key, flag string }{{"usename", "--name"}, {"new", "--new"}, {"noheader", "--no-header"},
		{"templateunitfile", "--template"}} {
		v, err := queryBool(q, b.key, false)
		if err != nil {
			return nil, err
		}
		if v {
			args = append(args, b.flag)
		}
	}
	for _, v := range []struct{ key, flag string }{{"restartpolicy", "--restart-policy"}, {"restartsec", "--restart-sec"},
		{"stoptimeout", "--time"}, {"starttimeout", "--start-timeout"}, {"containerprefix", "--container-prefix"},
		{"podprefix", "--pod-prefix"}, {"separator", "--separator"}} {
		if vs, ok := q[v.key]; ok && len(vs) > 0 {
			args = append(args, v.flag+"="+vs[0])
		}
	}
	for _, l := range []struct{ key, flag string }{{"wants", "--wants"}, {"after", "--after"}, {"requires", "--requires"},
		{"additionalenvvariables", "--env"}} {
		for _, v := range q[l.key] {
			args = append(args, l.flag+"="+v)
		}
	}
	return args, nil
}

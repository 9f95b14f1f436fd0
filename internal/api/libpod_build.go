package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	"pea/internal/model"
	"pea/internal/oci"
)

// libpodBuildRoutes registers podman's build endpoint.
func (s *Server) libpodBuildRoutes() {
	s.lroute("POST", "/build", s.postLibpodBuild)
}

// libpodQuery is the request's query with its keys in lower case: podman's server decodes
// parameters without regard to case, and the 4.3 client sends most of them lower-cased
// ("usename", "restartpolicy"), some not ("tlsVerify").
func libpodQuery(r *http.Request) url.Values {
	q := url.Values{}
	for k, vs := range r.URL.Query() {
		lk := strings.ToLower(k)
		q[lk] = append(q[lk], vs...)
	}
	return q
}

// queryBool is a boolean parameter ("1", "true", ...); def when absent or empty.
func queryBool(q url.Values, key string, def bool) (bool, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return def, badRequest("invalid %s %q: want true or false", key, v)
	}
	return b, nil
}

// jsonParam decodes a parameter podman sends as JSON (a list, a map) into v; absent leaves v.
func jsonParam(q url.Values, key string, v any) error {
	s := q.Get(key)
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return badRequest("invalid %s %q: %v", key, s, err)
	}
	return nil
}

// postLibpodBuild is POST /libpod/build: podman build --remote. The body is the context as a
// tar (gzip-compressed); a Containerfile outside the context comes in it under its absolute
// path. The answer is a stream of {"stream": text} messages (the steps and what RUN prints)
// whose last is the image's ID, or that ends in {"error": text}: the client takes the last
// stream line that starts with 12 hex digits as the ID, and the exit code from an error that
// ends in "exit status N". The build itself is pea's (engine.Build), as POST /build's.
func (s *Server) postLibpodBuild(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	anchor, err := os.MkdirTemp("", "pea-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(anchor)
	dir := filepath.Join(anchor, "context")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	if err := unpackBuildContext(r.Body, dir); err != nil {
		return err
	}
	q := libpodQuery(r)
	o, err := libpodBuildOptions(q, anchor, dir)
	if err != nil {
		return err
	}
	quiet, err := queryBool(q, "q", false)
	if err != nil {
		return err
	}
	js := newJSONStream(w)
	out := &streamWriter{js: js}
	// Quiet, only the ID is sent; what RUN wrote to its stderr is kept for a failure, as
	// podman's server does.
	var held heldOutput
	o.Stdout, o.Stderr = out, out
	if quiet {
		o.Stdout, o.Stderr = io.Discard, &held
	}
	img, err := rt.Build(r.Context(), o)
	if err != nil {
		if quiet && held.buf.Len() > 0 {
			js.send(jsonMessage{Stream: held.buf.String()})
		}
		msg := err.Error()
		if ee, ok := errors.AsType[*errdefs.ExitError](err); ok && !strings.HasSuffix(msg, fmt.Sprintf("exit status %d", ee.Code)) {
			msg += fmt.Sprintf(": exit status %d", ee.Code)
		}
		js.send(jsonMessage{Error: msg, ErrorDetail: &errorDetail{Message: msg}})
		return nil
	}
	js.send(jsonMessage{Stream: img.ID + "\n"})
	return nil
}

// heldOutput keeps what is written to it.
type heldOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (h *heldOutput) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.buf.Write(p)
}

// libpodBuildOptions are the build's options from podman's parameters (what pea does not
// do, such as isolation, jobs or identity labels, is left out). dir is the unpacked context,
// anchor the private directory above it, where files the client shipped in the context only
// for the server (a Containerfile from elsewhere, secrets) are moved.
func libpodBuildOptions(q url.Values, anchor, dir string) (engine.BuildOptions, error) {
	o := engine.BuildOptions{Context: dir, Args: map[string]string{}, Target: q.Get("target"),
		From: q.Get("from"), Manifest: q.Get("manifest"), Env: q["setenv"], UnsetEnv: q["unsetenv"]}
	for _, t := range q["t"] {
		if t != "" {
			o.Tags = append(o.Tags, t)
		}
	}
	var files []string
	if df := q.Get("dockerfile"); df != "" {
		if err := json.Unmarshal([]byte(df), &files); err != nil {
			files = []string{df} // a plain name, as Docker's parameter
		}
	}
	switch {
	case len(files) > 1:
		return o, badRequest("%d Containerfiles given: pea builds from one", len(files))
	case len(files) == 1:
		f, err := shippedFile(anchor, dir, files[0], "Containerfile", false)
		if err != nil {
			return o, err
		}
		o.File = f
	}
	if err := jsonParam(q, "buildargs", &o.Args); err != nil {
		return o, err
	}
	if err := libpodBuildLabels(q, &o); err != nil {
		return o, err
	}
	nocache, err := queryBool(q, "nocache", false)
	if err != nil {
		return o, err
	}
	layers, err := queryBool(q, "layers", false) // the client sends it when set, as it is by default
	if err != nil {
		return o, err
	}
	o.NoCache = nocache || !layers // podman's --layers=false: no cache, no intermediate images kept
	for _, b := range []struct {
		key string
		v   *bool
	}{{"squash", &o.Squash}, {"omithistory", &o.OmitHistory}} {
		if *b.v, err = queryBool(q, b.key, false); err != nil {
			return o, err
		}
	}
	switch p := q.Get("pullpolicy"); p {
	case "", "missing", "ifmissing", "ifnewer", "newer":
		// newer is missing here, as for pull: pea does not compare with the registry's image
		if pull, _ := queryBool(q, "pull", false); pull {
			o.Pull = "always"
		}
	case "always", "never":
		o.Pull = p
	default:
		return o, badRequest("invalid pullpolicy %q (missing, always, never, newer)", p)
	}
	if tv := q.Get("tlsverify"); tv != "" {
		v, err := strconv.ParseBool(tv)
		if err != nil {
			return o, badRequest("invalid tlsVerify %q", tv)
		}
		o.Registry.TLSVerify = &v
	}
	if p := q.Get("platform"); p != "" && p != "/" { // the client sends "/" for none
		o.Platform = p
	}
	if ts := q.Get("timestamp"); ts != "" {
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil {
			return o, badRequest("invalid timestamp %q", ts)
		}
		t := time.Unix(sec, 0).UTC()
		o.Timestamp = &t
	}
	if err := libpodBuildSecrets(q, anchor, dir, &o); err != nil {
		return o, err
	}
	run, network, err := libpodBuildRun(q)
	if err != nil {
		return o, err
	}
	o.RunTemplate, o.Network = run, network
	return o, nil
}

// libpodBuildLabels reads labels: podman's client sends a list of KEY=VALUE, Docker's a map.
func libpodBuildLabels(q url.Values, o *engine.BuildOptions) error {
	l := q.Get("labels")
	if l == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(l), &o.Labels); err == nil {
		return nil
	}
	var list []string
	if err := jsonParam(q, "labels", &list); err != nil {
		return err
	}
	o.Labels = map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return badRequest("invalid label %q: want KEY=VALUE", kv)
		}
		o.Labels[k] = v
		if !slices.Contains(o.LabelOrder, k) {
			o.LabelOrder = append(o.LabelOrder, k)
		}
	}
	return nil
}

// libpodBuildSecrets reads secrets, ["id=ID,src=FILE"...]: the client ships each FILE in the
// context under a name of its own, which is moved out of the context before the build reads it.
func libpodBuildSecrets(q url.Values, anchor, dir string, o *engine.BuildOptions) error {
	var specs []string
	if err := jsonParam(q, "secrets", &specs); err != nil {
		return err
	}
	for _, spec := range specs {
		var id, src string
		for _, kv := range strings.Split(spec, ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "id":
				id = v
			case "src":
				src = v
			}
		}
		if id == "" || src == "" {
			return badRequest("invalid secret %q: want id=ID,src=FILE", spec)
		}
		f, err := shippedFile(anchor, dir, src, "secret-"+strconv.Itoa(len(o.Secrets)), true)
		if err != nil {
			return err
		}
		if o.Secrets == nil {
			o.Secrets = map[string]string{}
		}
		o.Secrets[id] = f
		// The client also sends the file under the absolute path it had there (in its
		// context directory): that copy goes too. Its name is the client's own random one.
		if err := removeCopies(dir, path.Base(filepath.ToSlash(src))); err != nil {
			return err
		}
	}
	return nil
}

// removeCopies removes the regular files named base below dir, and the directories above them
// that are left empty.
func removeCopies(dir, base string) error {
	var found []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && d.Name() == base {
			found = append(found, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range found {
		if err := os.Remove(p); err != nil {
			return err
		}
		pruneEmptyDirs(dir, filepath.Dir(p))
	}
	return nil
}

// pruneEmptyDirs removes d and the directories above it up to dir (not dir), while they are
// empty.
func pruneEmptyDirs(dir, d string) {
	for ; d != dir && strings.HasPrefix(d, dir+string(filepath.Separator)); d = filepath.Dir(d) {
		if os.Remove(d) != nil {
			return
		}
	}
}

// shippedFile finds a file the client shipped in the context (name relative to it, or the
// absolute path the client put it in the tar under) and, when it came from outside the context
// or always, moves it to anchor/as, so that COPY never sees it. Otherwise a relative name stays
// where it is: it is the context's own file.
func shippedFile(anchor, dir, name, as string, always bool) (string, error) {
	clean := path.Clean("/" + filepath.ToSlash(name))
	inCtx := filepath.Join(dir, filepath.FromSlash(clean))
	if !always && !path.IsAbs(filepath.ToSlash(name)) {
		return inCtx, nil
	}
	fi, err := os.Lstat(inCtx)
	if err != nil || !fi.Mode().IsRegular() {
		return "", badRequest("%s: not in the build context the client sent", name)
	}
	moved := filepath.Join(anchor, as)
	if err := os.Rename(inCtx, moved); err != nil {
		return "", err
	}
	pruneEmptyDirs(dir, filepath.Dir(inCtx)) // the directories the tar made above it
	return moved, nil
}

// libpodBuildRun is what RUN's containers get from podman's parameters (nil when nothing is
// asked beyond the defaults), and their network: none for networkmode 1 (buildah's
// NetworkDisabled), host for a network namespace option of the host's.
func libpodBuildRun(q url.Values) (*model.ContainerConfig, string, error) {
	network := ""
	if q.Get("networkmode") == "1" || q.Get("networkmode") == "NetworkDisabled" {
		network = "none"
	}
	var ns []struct {
		Name string
		Host bool
		Path string
	}
	if err := jsonParam(q, "nsoptions", &ns); err != nil {
		return nil, "", err
	}
	for _, n := range ns {
		if n.Name == "network" || n.Name == "net" {
			switch {
			case n.Host:
				network = "host"
			case n.Path != "":
				return nil, "", badRequest("network namespace %s: pea's builds run RUN in the default network, none or the host's", n.Path)
			}
		}
	}
	cfg := &model.ContainerConfig{}
	set := false
	for _, l := range []struct {
		key string
		to  *[]string
	}{{"extrahosts", &cfg.Network.AddHosts}, {"dnsservers", &cfg.Network.DNSServers}, {"dnsoptions", &cfg.Network.DNSOptions},
		{"dnssearch", &cfg.Network.DNSSearch}, {"addcaps", &cfg.CapAdd}, {"dropcaps", &cfg.CapDrop}} {
		if err := jsonParam(q, l.key, l.to); err != nil {
			return nil, "", err
		}
		set = set || len(*l.to) > 0
	}
	if err := validHosts(cfg.Network.AddHosts); err != nil {
		return nil, "", err
	}
	var ulimits []string
	if err := jsonParam(q, "ulimits", &ulimits); err != nil {
		return nil, "", err
	}
	for _, u := range ulimits {
		rl, err := oci.ParseUlimit(u)
		if err != nil {
			return nil, "", badRequest("ulimits: %v", err)
		}
		cfg.Ulimits = append(cfg.Ulimits, model.Ulimit{Name: strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_")), Soft: rl.Soft, Hard: rl.Hard})
		set = true
	}
	limits, err := buildLimits(q, &cfg.Resources)
	if err != nil {
		return nil, "", err
	}
	if !set && !limits {
		return nil, network, nil
	}
	return cfg, network, nil
}

// buildLimits reads a build's limits of RUN (both APIs name them alike) into res, and tells
// whether any was asked for.
func buildLimits(q url.Values, res *model.Resources) (set bool, err error) {
	for _, n := range []struct {
		key string
		to  *int64
	}{{"memory", &res.Memory}, {"memswap", &res.MemorySwap}, {"cpuquota", &res.CPUQuota}, {"shmsize", &res.ShmSize}} {
		if v := q.Get(n.key); v != "" {
			i, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return false, badRequest("invalid %s %q", n.key, v)
			}
			*n.to = i
			set = set || n.key != "shmsize" || i != 64<<20 // podman's client always sends the default shm size
		}
	}
	for _, n := range []struct {
		key string
		to  *uint64
	}{{"cpushares", &res.CPUShares}, {"cpuperiod", &res.CPUPeriod}} {
		if v := q.Get(n.key); v != "" {
			i, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return false, badRequest("invalid %s %q", n.key, v)
			}
			*n.to = i
			set = true
		}
	}
	res.CpusetCpus, res.CpusetMems = q.Get("cpusetcpus"), q.Get("cpusetmems")
	return set || res.CpusetCpus != "" || res.CpusetMems != "", nil
}

// validHosts checks extra hosts entries, HOST:IP.
func validHosts(hosts []string) error {
	for _, h := range hosts {
		if name, ip, ok := strings.Cut(h, ":"); !ok || name == "" || ip == "" {
			return badRequest("extrahosts %q: want HOST:IP", h)
		}
	}
	return nil
}

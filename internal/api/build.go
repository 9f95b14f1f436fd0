package api

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
)

// postBuild is POST /build: the legacy (non-BuildKit) builder's endpoint, which `docker build`
// uses against an engine without BuildKit. The body is the context as a tar (gzip-compressed
// with --compress); the answer streams the steps and RUN's output as {"stream": ...} messages,
// then the image's ID ({"aux": {"ID": ...}}) and Docker's "Successfully built/tagged" lines.
// The build itself is pea's (engine.Build).
func (s *Server) postBuild(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	q := r.URL.Query()
	dir, err := os.MkdirTemp("", "pea-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := unpackBuildContext(r.Body, dir); err != nil {
		return err
	}
	o := engine.BuildOptions{Context: dir, Tags: q["t"], Args: map[string]string{}, Network: q.Get("networkmode")}
	if o.Network == "default" {
		o.Network = ""
	}
	if df := q.Get("dockerfile"); df != "" {
		clean := path.Clean("/" + df)
		o.File = filepath.Join(dir, filepath.FromSlash(clean))
	}
	if ba := q.Get("buildargs"); ba != "" {
		var args map[string]*string
		if err := json.Unmarshal([]byte(ba), &args); err != nil {
			return badRequest("buildargs: %v", err)
		}
		for k, v := range args {
			if v != nil {
				o.Args[k] = *v
			} else if env, ok := os.LookupEnv(k); ok {
				o.Args[k] = env
			}
		}
	}
	o.Target = q.Get("target")
	if l := q.Get("labels"); l != "" {
		if err := json.Unmarshal([]byte(l), &o.Labels); err != nil {
			return badRequest("labels: %v", err)
		}
	}
	if err := dockerBuildRun(q, &o); err != nil {
		return err
	}
	switch o.Network {
	case "", "bridge", "none", "host":
	default:
		return badRequest("networkmode %q: bridge, none, host or default", o.Network)
	}
	o.NoCache = q.Get("nocache") == "1" || q.Get("nocache") == "true"
	if q.Get("pull") == "1" || q.Get("pull") == "true" {
		o.Pull = "always"
	}
	js := newJSONStream(w)
	out := &streamWriter{js: js}
	if q.Get("q") == "1" || q.Get("q") == "true" {
		o.Stdout = io.Discard
	} else {
		o.Stdout = out
	}
	o.Stderr = out
	img, err := rt.Build(r.Context(), o)
	if err != nil {
		msg := jsonMessage{Error: err.Error(), ErrorDetail: &errorDetail{Message: err.Error()}}
		if ee, ok := errors.AsType[*errdefs.ExitError](err); ok {
			msg.ErrorDetail.Code = ee.Code
		}
		js.send(msg)
		return nil
	}
	js.send(jsonMessage{Aux: map[string]string{"ID": "sha256:" + img.ID}})
	if o.Stdout == io.Discard {
		js.send(jsonMessage{Stream: "sha256:" + img.ID + "\n"}) // what docker build -q prints
	} else {
		js.send(jsonMessage{Stream: fmt.Sprintf("Successfully built %s\n", img.ID[:12])})
		for _, t := range o.Tags {
			js.send(jsonMessage{Stream: fmt.Sprintf("Successfully tagged %s\n", t)})
		}
	}
	return nil
}

// dockerBuildRun reads what docker build's flags ask of RUN's containers (--add-host,
// --memory, --memory-swap, --cpu-*, --cpuset-*, --shm-size, --ulimit) into o's RUN template,
// and --platform: they were taken and dropped.
func dockerBuildRun(q url.Values, o *engine.BuildOptions) error {
	run := &model.ContainerConfig{}
	set := false
	for _, h := range q["extrahosts"] {
		one := strings.Split(h, ",")
		if err := validHosts(one); err != nil {
			return err
		}
		run.Network.AddHosts = append(run.Network.AddHosts, one...)
		set = true
	}
	limits, err := buildLimits(q, &run.Resources)
	if err != nil {
		return err
	}
	if v := q.Get("ulimits"); v != "" && v != "null" {
		var ulimits []struct {
			Name       string
			Soft, Hard int64
		}
		if err := json.Unmarshal([]byte(v), &ulimits); err != nil {
			return badRequest("invalid ulimits %q: %v", v, err)
		}
		for _, u := range ulimits {
			rl, err := oci.ParseUlimit(fmt.Sprintf("%s=%d:%d", u.Name, u.Soft, u.Hard))
			if err != nil {
				return badRequest("ulimits: %v", err)
			}
			run.Ulimits = append(run.Ulimits, model.Ulimit{Name: strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_")), Soft: rl.Soft, Hard: rl.Hard})
			set = true
		}
	}
	if p := q.Get("cgroupparent"); p != "" {
		run.CgroupParent, set = p, true
	}
	if iso := q.Get("isolation"); iso != "" && iso != "default" {
		return badRequest("isolation %q: pea has the default isolation only", iso)
	}
	if set || limits {
		o.RunTemplate = run
	}
	o.Platform = q.Get("platform")
	return nil
}

// postBuildPrune is POST /build/prune (docker builder prune, and the last step of docker
// system prune): it prunes BuildKit's cache, which pea has not (its builder's cache is its
// intermediate images, which image prune removes), so nothing is deleted. A 404 here failed
// docker system prune after it had pruned everything else.
func (s *Server) postBuildPrune(w http.ResponseWriter, r *http.Request, _ *engine.Runtime) error {
	if _, err := filters(r); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"CachesDeleted": []string{}, "SpaceReclaimed": 0})
	return nil
}

// unpackBuildContext unpacks a build request's body, the context as a tar (gzip-compressed or
// not), into dir. Entries that climb out of dir are refused (engine.Untar).
func unpackBuildContext(body io.Reader, dir string) error {
	br := bufio.NewReader(body)
	var rd io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return badRequest("the build context: %v", err)
		}
		defer zr.Close()
		rd = zr
	}
	if err := engine.Untar(rd, dir); err != nil {
		return badRequest("the build context: %v", err)
	}
	return nil
}

// streamWriter sends what is written to it as {"stream": ...} messages.
type streamWriter struct{ js *jsonStream }

func (sw *streamWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		sw.js.send(jsonMessage{Stream: string(p)})
	}
	return len(p), nil
}

package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"pea/internal/engine"
)

// getContainerLogs is GET /containers/{id}/logs?stdout=&stderr=&follow=&timestamps=&tail=&since=&until=:
// the log as a multiplexed stream (raw for a container with a terminal).
func (s *Server) getContainerLogs(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	// Refused before the answer's header goes out: the client had an empty log, and success.
	if err := engine.LogsReadable(c); err != nil {
		if c.Config.LogDriver == engine.LogDriverNone && !strings.HasPrefix(r.URL.Path, "/libpod/") {
			return &apiError{http.StatusNotImplemented, "configured logging driver does not support reading"} // Docker's words
		}
		return err
	}
	q := r.URL.Query()
	wantOut, wantErr := boolParam(r, "stdout", false), boolParam(r, "stderr", false)
	if !wantOut && !wantErr {
		return badRequest("Bad parameters: you must choose at least one stream")
	}
	o := engine.LogOptions{Follow: boolParam(r, "follow", false), Tail: -1}
	if t := q.Get("tail"); t != "" && t != "all" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return badRequest("invalid tail %q", t)
		}
		o.Tail = n
	}
	for name, dst := range map[string]*time.Time{"since": &o.Since, "until": &o.Until} {
		if v := q.Get(name); v != "" && v != "0" {
			t, err := parseUnixTime(v)
			if err != nil {
				return badRequest("invalid %s %q: %v", name, v, err)
			}
			*dst = t
		}
	}
	multiplexed := !c.Config.Terminal || strings.HasPrefix(r.URL.Path, "/libpod/") // podman frames a terminal's log too
	w.Header().Set("Content-Type", streamType(multiplexed))
	w.WriteHeader(http.StatusOK)
	flush := httpFlusher(w)
	if flush != nil {
		flush()
	}
	stdout, stderr := outputs(w, flush, multiplexed)
	timestamps := boolParam(r, "timestamps", false)
	lines := make(chan engine.LogLine, 64)
	errc := make(chan error, 1)
	go func() {
		errc <- rt.ReadLogs(r.Context(), c, o, lines)
		close(lines)
	}()
	for l := range lines {
		out := stdout
		if l.Stream == "stderr" {
			if !wantErr {
				continue
			}
			out = stderr
		} else if !wantOut {
			continue
		}
		text := l.Text
		if !l.Partial {
			text += "\n"
		}
		if timestamps {
			text = l.Time.UTC().Format(time.RFC3339Nano) + " " + text
		}
		out.Write([]byte(text))
	}
	<-errc
	return nil
}

// parseUnixTime reads Docker's since/until: seconds since the epoch, with an optional fraction.
func parseUnixTime(v string) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, err
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

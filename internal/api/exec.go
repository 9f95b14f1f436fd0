package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"pea/internal/detach"
	"pea/internal/engine"
	"pea/internal/model"
)

// How long exec sessions are remembered: an ended one for execKeepEnded after its end (the
// client reads its exit code right after the stream ends), one never started for
// execKeepUnstarted after its creation. They are swept at each creation.
const (
	execKeepEnded     = 5 * time.Minute
	execKeepUnstarted = time.Hour
)

// execSession is an exec instance: created by POST /containers/{id}/exec, run by
// POST /exec/{id}/start, inspected by GET /exec/{id}/json. Its mutable fields are guarded by
// Server.execMu.
type execSession struct {
	ID          string
	ContainerID string
	Cmd         []string
	Env         []string
	User        string
	WorkingDir  string
	Tty         bool
	Privileged  bool
	AttachStdin bool
	AttachOut   bool // stdout
	AttachErr   bool // stderr
	DetachKeys  string
	detachKeys  []byte // DetachKeys parsed (the default sequence when none was given)
	created     time.Time

	started  bool
	running  bool
	exitCode *int
	ended    time.Time
	// size is the terminal size (rows, cols) last asked for; resize applies it to the running
	// process's terminal, when it has one.
	size   *[2]uint16
	resize func(rows, cols uint16)
}

// execRoutes registers the exec endpoints.
func (s *Server) execRoutes() {
	s.route("POST", "/containers/{id}/exec", s.postContainerExec)
	s.route("POST", "/exec/{id}/start", s.postExecStart)
	s.route("POST", "/exec/{id}/resize", s.postExecResize)
	s.route("GET", "/exec/{id}/json", s.getExecInspect)
}

// execCreateRequest is the body of POST /containers/{id}/exec.
type execCreateRequest struct {
	AttachStdin  bool     `json:"AttachStdin"`
	AttachStdout bool     `json:"AttachStdout"`
	AttachStderr bool     `json:"AttachStderr"`
	DetachKeys   string   `json:"DetachKeys"`
	Tty          bool     `json:"Tty"`
	ConsoleSize  *[2]uint `json:"ConsoleSize"` // [height, width], API 1.42
	Env          []string `json:"Env"`
	Cmd          []string `json:"Cmd"`
	Privileged   bool     `json:"Privileged"`
	User         string   `json:"User"`
	WorkingDir   string   `json:"WorkingDir"`
}

func newExecID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// postContainerExec is POST /containers/{id}/exec: 201 {"Id": ...}; 409 unless the container
// runs.
func (s *Server) postContainerExec(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req execCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return badRequest("No exec command specified")
	}
	keys, err := apiDetachKeys(req.DetachKeys)
	if err != nil {
		return err
	}
	switch c.State.Status {
	case model.StatusRunning:
	case model.StatusPaused:
		return &apiError{http.StatusConflict, fmt.Sprintf("Container %s is paused, unpause the container before exec", c.Config.ID)}
	default:
		return &apiError{http.StatusConflict, fmt.Sprintf("container %s is not running", c.Config.ID)}
	}
	id, err := newExecID()
	if err != nil {
		return err
	}
	sess := &execSession{
		ID: id, ContainerID: c.Config.ID, Cmd: req.Cmd, Env: req.Env, User: req.User, WorkingDir: req.WorkingDir,
		Tty: req.Tty, Privileged: req.Privileged, AttachStdin: req.AttachStdin, AttachOut: req.AttachStdout,
		AttachErr: req.AttachStderr, DetachKeys: req.DetachKeys, detachKeys: keys, created: time.Now(),
	}
	if cs := req.ConsoleSize; cs != nil && cs[0] > 0 && cs[1] > 0 && cs[0] <= 0xffff && cs[1] <= 0xffff {
		sess.size = &[2]uint16{uint16(cs[0]), uint16(cs[1])}
	}
	s.execMu.Lock()
	s.sweepExecs(time.Now())
	s.execs[id] = sess
	s.execMu.Unlock()
	rt.LogExecCreate(c, id, req.Cmd)
	writeJSON(w, http.StatusCreated, map[string]string{"Id": id})
	return nil
}

// sweepExecs forgets the sessions that ended, or were never started, long enough ago.
// execMu is held.
func (s *Server) sweepExecs(now time.Time) {
	for id, e := range s.execs {
		switch {
		case e.started && !e.running && now.Sub(e.ended) > execKeepEnded:
			delete(s.execs, id)
		case !e.started && now.Sub(e.created) > execKeepUnstarted:
			delete(s.execs, id)
		}
	}
}

// execByID finds a session, with Docker's 404.
func (s *Server) execByID(id string) (*execSession, error) {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	e, ok := s.execs[id]
	if !ok {
		return nil, &apiError{http.StatusNotFound, "No such exec instance: " + id}
	}
	return e, nil
}

// postExecStart is POST /exec/{id}/start {Detach, Tty}: the connection becomes the process's
// standard streams (multiplexed unless it has a terminal) until it ends; its exit code is
// recorded before the stream closes, since the client asks for it (GET /exec/{id}/json) once
// it reads the end. Detached, the process runs in the background and the answer is 200.
func (s *Server) postExecStart(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	sess, err := s.execByID(r.PathValue("id"))
	if err != nil {
		return err
	}
	var req struct {
		Detach bool  `json:"Detach"`
		Tty    *bool `json:"Tty"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	c, err := lookup(rt, sess.ContainerID)
	if err != nil {
		return err
	}
	if c.State.Status != model.StatusRunning {
		return &apiError{http.StatusConflict, fmt.Sprintf("container %s is not running", c.Config.ID)}
	}
	s.execMu.Lock()
	if sess.started {
		s.execMu.Unlock()
		if sess.running {
			return &apiError{http.StatusConflict, fmt.Sprintf("Exec command %s is already running", sess.ID)}
		}
		return &apiError{http.StatusConflict, fmt.Sprintf("Exec command %s has already run", sess.ID)}
	}
	sess.started, sess.running = true, true
	s.execMu.Unlock()

	if req.Detach {
		// The process outlives the request: a runtime of its own, closed when it ends.
		drt, err := engine.New(s.opts)
		if err != nil {
			s.execEnded(sess, -1)
			return err
		}
		go func() {
			defer drt.Close()
			code, _ := s.runExec(drt, sess, nil, nil, nil)
			s.execEnded(sess, code)
		}()
		w.WriteHeader(http.StatusOK)
		return nil
	}

	tty := sess.Tty
	if req.Tty != nil {
		tty = *req.Tty
	}
	multiplexed := !tty
	h, err := hijack(w, r, multiplexed)
	if err != nil {
		s.execEnded(sess, -1)
		return err
	}
	defer h.conn.Close()
	stdout, stderr := h.outputs(multiplexed)
	var in io.Reader
	if sess.AttachStdin {
		in = h.stdin()
	}
	// A client that types the detach keys on a terminal leaves; the process goes on, its
	// output drained, and the session records its end.
	var gone atomic.Bool
	if sess.Tty && in != nil {
		in = &detachingInput{detach.NewReader(in, sess.detachKeys), func() {
			gone.Store(true)
			h.conn.Close()
		}}
		stdout, stderr = &outputUntilGone{stdout, &gone}, &outputUntilGone{stderr, &gone}
	}
	if !sess.AttachOut {
		stdout = nil
	}
	if !sess.AttachErr {
		stderr = nil
	}
	code, err := s.runExec(rt, sess, in, stdout, stderr)
	if err != nil && stderr != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
	} else if err != nil && stdout != nil {
		fmt.Fprintf(stdout, "Error: %v\n", err)
	}
	s.execEnded(sess, code)
	h.closeWrite()
	return nil
}

// execEnded records the end of a session's process.
func (s *Server) execEnded(sess *execSession, code int) {
	s.execMu.Lock()
	defer s.execMu.Unlock()
	sess.running = false
	sess.exitCode = &code
	sess.ended = time.Now()
	sess.resize = nil
}

// runExec runs a session's process with the streams given (nil: none) and returns its exit
// code; a process that could not be run has 126 and the error.
func (s *Server) runExec(rt *engine.Runtime, sess *execSession, stdin io.Reader, stdout, stderr io.Writer) (int, error) {
	o := engine.ExecOptions{Cmd: sess.Cmd, Env: sess.Env, User: sess.User, WorkDir: sess.WorkingDir,
		Tty: sess.Tty, Privileged: sess.Privileged, Stdout: stdout, Stderr: stderr, SessionID: sess.ID}
	if o.Stderr == nil {
		o.Stderr = discard{}
	}
	if sess.Tty {
		return s.runExecTerminal(rt, sess, o, stdin)
	}
	o.Stdin = stdin // a pipe fed from it (engine.Exec)
	code, err := rt.Exec(context.Background(), sess.ContainerID, o)
	if err != nil {
		return 126, err
	}
	return code, nil
}

// runExecTerminal runs a session's process on a terminal, relayed to and from the client's
// stream (raw); the session's size is the terminal's from the start, and a resize sets it.
func (s *Server) runExecTerminal(rt *engine.Runtime, sess *execSession, o engine.ExecOptions, stdin io.Reader) (int, error) {
	return rt.ExecOnTerminal(context.Background(), sess.ContainerID, o, stdin, func(setSize func(rows, cols uint16)) {
		s.execMu.Lock()
		defer s.execMu.Unlock()
		sess.resize = setSize
		if sess.size != nil {
			setSize(sess.size[0], sess.size[1])
		}
	})
}

// postExecResize is POST /exec/{id}/resize?h=&w=: the size of a terminal session's terminal,
// applied now when it runs, else when it starts.
func (s *Server) postExecResize(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	sess, err := s.execByID(r.PathValue("id"))
	if err != nil {
		return err
	}
	hgt, err1 := strconv.ParseUint(r.URL.Query().Get("h"), 10, 16)
	wid, err2 := strconv.ParseUint(r.URL.Query().Get("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return badRequest("invalid terminal size h=%q w=%q", r.URL.Query().Get("h"), r.URL.Query().Get("w"))
	}
	s.execMu.Lock()
	sess.size = &[2]uint16{uint16(hgt), uint16(wid)}
	resize := sess.resize
	s.execMu.Unlock()
	if resize != nil {
		resize(uint16(hgt), uint16(wid))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getExecInspect is GET /exec/{id}/json.
func (s *Server) getExecInspect(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	sess, err := s.execByID(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.execMu.Lock()
	running, exitCode := sess.running, sess.exitCode
	s.execMu.Unlock()
	var code any
	if exitCode != nil {
		code = *exitCode
	}
	entry, args := "", []string{}
	if len(sess.Cmd) > 0 {
		entry, args = sess.Cmd[0], sess.Cmd[1:]
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"ID": sess.ID, "Running": running, "ExitCode": code,
		"ProcessConfig": map[string]any{"tty": sess.Tty, "entrypoint": entry, "arguments": args,
			"privileged": sess.Privileged, "user": sess.User},
		"OpenStdin": sess.AttachStdin, "OpenStderr": sess.AttachErr, "OpenStdout": sess.AttachOut,
		"CanRemove": false, "ContainerID": sess.ContainerID, "DetachKeys": sess.DetachKeys, "Pid": 0,
	})
	return nil
}

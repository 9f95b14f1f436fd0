package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// pendingAttach is a client attached to a container that has not started yet.
type pendingAttach struct {
	ready   chan struct{}   // closed once streams is set (nil streams: the attach failed)
	streams *engine.Streams // valid once ready is closed
	done    chan struct{}   // closed when the container's streams ended
}

// takeReady waits for a pending attach's connection to be taken over and returns its streams
// (nil when that failed or took too long).
func (pa *pendingAttach) takeReady() *engine.Streams {
	select {
	case <-pa.ready:
		return pa.streams
	case <-cpupin.After(5 * time.Second):
		return nil
	}
}

// lookup finds a container, with Docker's message when there is none.
func lookup(rt *engine.Runtime, nameOrID string) (*model.Container, error) {
	c, err := rt.LookupContainer(nameOrID)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil, &apiError{http.StatusNotFound, "No such container: " + nameOrID}
	}
	return c, err
}

// timeoutParam reads ?t= (seconds; absent: the container's own stop timeout).
func timeoutParam(r *http.Request) (*uint, error) {
	v := r.URL.Query().Get("t")
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, badRequest("invalid timeout %q", v)
	}
	if n < 0 {
		n = 0
	}
	u := uint(n)
	return &u, nil
}

// postContainerStart is POST /containers/{id}/start: 204, or 304 when it runs already. A
// client attached beforehand (docker run) gets the container's streams from the first byte.
func (s *Server) postContainerStart(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.State.Active() {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	s.attachMu.Lock()
	pending := s.attaches[c.Config.ID]
	delete(s.attaches, c.Config.ID)
	s.attachMu.Unlock()
	if len(pending) == 0 {
		if _, err := rt.StartCreated(r.Context(), c, nil); err != nil {
			return s.failedStart(rt, c, err)
		}
		s.changed(c.Config.ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// The attached start outlives this request: it has a runtime of its own, closed when the
	// container's streams end.
	pa := pending[0]
	for _, extra := range pending[1:] {
		close(extra.done) // one stream per start; later attaches end at once
	}
	streams := pa.takeReady()
	if streams == nil {
		close(pa.done)
		if _, err := rt.StartCreated(r.Context(), c, nil); err != nil {
			return s.failedStart(rt, c, err)
		}
		s.changed(c.Config.ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	art, err := engine.New(s.opts)
	if err != nil {
		close(pa.done)
		return err
	}
	started, err := art.StartCreated(context.Background(), c, streams)
	if err != nil {
		art.Close()
		close(pa.done)
		return s.failedStart(rt, c, err)
	}
	s.changed(c.Config.ID)
	go func() {
		defer art.Close()
		defer close(pa.done)
		if _, err := art.AttachWait(context.Background(), started, streams); errors.Is(err, context.Canceled) {
			// The client went away; the container goes on, and its exit is still this
			// process's to record (the start told conmon's exit command so).
			art.WaitContainer(context.Background(), started.Config.ID, []string{"exited"})
		}
		if started.Config.AutoRemove {
			if c, err := art.LookupContainer(started.Config.ID); err == nil {
				s.rememberRemoved(c)
			}
			art.RemoveContainer(context.Background(), started.Config.ID, engine.RemoveOptions{Force: true, Ignore: true, Volumes: true})
		} else {
			art.SyncContainer(started.Config.ID)
		}
		s.changed(started.Config.ID)
	}()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// failedStart answers a start that failed: an auto-removed container that did not start is
// removed, as Docker's daemon removes it (docker run --rm waits for that removal).
func (s *Server) failedStart(rt *engine.Runtime, c *model.Container, err error) error {
	if c.Config.AutoRemove {
		if cur, lerr := rt.LookupContainer(c.Config.ID); lerr == nil && !cur.State.Active() {
			rt.RemoveContainer(context.Background(), c.Config.ID, engine.RemoveOptions{Force: true, Ignore: true, Volumes: true})
			s.changed(c.Config.ID)
		}
	}
	return startError(err)
}

// startError is a failed start as Docker answers it: a command that is not found or cannot be
// invoked is a bad request, and its message carries the words by which the docker client
// picks its exit code (127: "executable file not found", 126: "permission denied").
func startError(err error) error {
	var ee *errdefs.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	switch ee.Code {
	case 127:
		return &apiError{http.StatusBadRequest, err.Error() + " (executable file not found)"}
	case 126:
		return &apiError{http.StatusBadRequest, err.Error() + " (permission denied)"}
	}
	return err
}

// postContainerAttach is POST /containers/{id}/attach?stream=1&stdin=&stdout=&stderr=&detachKeys=:
// the connection becomes the container's streams, multiplexed unless it has a terminal.
// Attached to a container that has not started, the client waits for its start (docker run).
// The attachment ends when the container's output ends, when the client goes away (a failed
// write to it, or its connection failing), or when it types the detach keys on a terminal
// (ctrl-p,ctrl-q unless detachKeys says otherwise); the container goes on.
func (s *Server) postContainerAttach(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	if boolParam(r, "logs", false) && !boolParam(r, "stream", false) {
		return badRequest("attach with logs and without stream is not supported; use GET /containers/{id}/logs")
	}
	if c.State.Status == model.StatusPaused {
		return &apiError{http.StatusConflict, fmt.Sprintf("container %s is paused, unpause the container before attach", c.Config.Name)}
	}
	keys, err := apiDetachKeys(r.URL.Query().Get("detachKeys"))
	if err != nil {
		return err
	}
	id := c.Config.ID
	rt.LogAttach(c) // as Docker's daemon, before the streams
	// A start that comes while the connection is being taken over waits for it (takeReady):
	// registered first, the attach cannot be missed.
	var pa *pendingAttach
	if !c.State.Active() {
		pa = &pendingAttach{ready: make(chan struct{}), done: make(chan struct{})}
		s.attachMu.Lock()
		s.attaches[id] = append(s.attaches[id], pa)
		s.attachMu.Unlock()
	}
	readied := false
	defer func() {
		if pa != nil && !readied {
			close(pa.ready) // its streams stay nil: a start that waits for them goes on without
		}
	}()
	multiplexed := !c.Config.Terminal
	h, err := hijack(w, r, multiplexed)
	if err != nil {
		if pa != nil {
			s.dropAttach(id, pa)
		}
		return err
	}
	defer h.conn.Close()
	// gone is closed when the client is seen to have gone.
	gone := make(chan struct{})
	var goneOnce sync.Once
	leave := func() { goneOnce.Do(func() { close(gone) }) }
	streams := &engine.Streams{Done: gone, KeepStdinOpen: c.Config.KeepStdinOpen}
	stdout, stderr := h.outputs(multiplexed)
	stdout, stderr = &leaveOnError{stdout, leave}, &leaveOnError{stderr, leave}
	if !boolParam(r, "stdout", false) {
		stdout = discard{}
	}
	if !boolParam(r, "stderr", false) {
		stderr = discard{}
	}
	streams.Stdout, streams.Stderr = stdout, stderr
	// The client's input ending is no departure (the docker client closes its writing side
	// when it has no input): its connection is watched for a hang-up instead.
	ended := make(chan struct{})
	defer close(ended)
	go watchHangup(h.conn, ended, leave)
	if boolParam(r, "stdin", false) && c.Config.Stdin {
		streams.Stdin = &readUntilGone{h.stdin(), leave}
		if c.Config.Terminal {
			// The sequence ends the attachment as the client's departure does.
			streams.DetachKeys = keys
		}
	}
	if pa == nil {
		rt.Attach(context.Background(), id, streams)
		h.closeWrite()
		return nil
	}
	pa.streams = streams
	close(pa.ready)
	readied = true
	// Until the container's streams end; meanwhile, a container removed or started by someone
	// else, or a client gone, releases the connection.
	for {
		select {
		case <-pa.done:
			h.closeWrite()
			return nil
		case <-gone:
			s.dropAttach(id, pa)
		case <-cpupin.After(time.Second):
			cur, err := rt.LookupContainer(id)
			if err == nil && !cur.State.Active() {
				continue
			}
			if !s.dropAttach(id, pa) {
				continue // the start took the streams: they end with the container (pa.done)
			}
		}
		select {
		case <-pa.done: // a start took it meanwhile: its streams end with the container
			h.closeWrite()
		default:
		}
		return nil
	}
}

// leaveOnError is an output to the client that reports the client gone when a write fails.
type leaveOnError struct {
	w     io.Writer
	leave func()
}

func (l *leaveOnError) Write(p []byte) (int, error) {
	n, err := l.w.Write(p)
	if err != nil {
		l.leave()
	}
	return n, err
}

// readUntilGone is the client's input; a failing read (not its end) reports the client gone.
type readUntilGone struct {
	r     io.Reader
	leave func()
}

func (g *readUntilGone) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		g.leave()
	}
	return n, err
}

// watchHangup calls leave once the client has closed its connection altogether, which a
// unix socket tells apart from the end of its input (both directions shut: POLLHUP), without
// reading what it sends; it looks once a second until stop is closed. (Over TCP a hang-up
// shows only as a failed write.)
func watchHangup(conn net.Conn, stop <-chan struct{}, leave func()) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	for {
		select {
		case <-stop:
			return
		case <-cpupin.After(time.Second):
		}
		hup := false
		raw.Control(func(fd uintptr) {
			fds := []unix.PollFd{{Fd: int32(fd)}}
			if n, err := unix.Poll(fds, 0); err == nil && n > 0 && fds[0].Revents&(unix.POLLHUP|unix.POLLERR) != 0 {
				hup = true
			}
		})
		if hup {
			leave()
			return
		}
	}
}

// releaseAttaches ends the clients waiting for a container's start (it was removed).
func (s *Server) releaseAttaches(id string) {
	s.attachMu.Lock()
	pending := s.attaches[id]
	delete(s.attaches, id)
	s.attachMu.Unlock()
	for _, pa := range pending {
		close(pa.done)
	}
}

// dropAttach forgets a pending attach whose client went away; false when it was no longer
// pending (a start took its streams).
func (s *Server) dropAttach(id string, pa *pendingAttach) bool {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	list := s.attaches[id]
	found := false
	for i, p := range list {
		if p == pa {
			s.attaches[id] = append(list[:i:i], list[i+1:]...)
			found = true
			break
		}
	}
	if len(s.attaches[id]) == 0 {
		delete(s.attaches, id)
	}
	return found
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// postContainerWait is POST /containers/{id}/wait?condition=not-running|next-exit|removed. The
// answer's header goes out at once (the docker client waits for it before it starts the
// container); the body comes when the condition is met.
func (s *Server) postContainerWait(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	cond := r.URL.Query().Get("condition")
	switch cond {
	case "", "not-running", "next-exit", "removed":
	default:
		return badRequest("invalid condition %q (not-running, next-exit, removed)", cond)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if f := httpFlusher(w); f != nil {
		f()
	}
	code, werr := s.waitFor(r.Context(), rt, c, cond)
	resp := map[string]any{"StatusCode": code, "Error": nil}
	if werr != nil {
		resp["Error"] = map[string]string{"Message": werr.Error()}
	}
	return jsonEncode(w, resp)
}

// waitFor waits for a container to meet a wait condition and returns its exit code. Changes
// this process makes wake it at once (watch); those of other processes (pea commands,
// conmon's exit command) are seen at the next poll.
func (s *Server) waitFor(ctx context.Context, rt *engine.Runtime, c *model.Container, cond string) (int64, error) {
	id := c.Config.ID
	// The watch entry goes with the wait (a container another process removes would keep it
	// forever); another waiter it wakes merely polls once more.
	defer s.changed(id)
	// poll re-reads the container until done says so, and returns its last state (nil once
	// it is removed).
	poll := func(done func(*model.Container) bool) (*model.Container, error) {
		for {
			ch := s.watch(id)
			cur, err := rt.LookupContainer(id)
			if errdefs.Is(err, errdefs.ErrNotFound) || errdefs.Is(err, errdefs.ErrCtrRemoved) {
				cur, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
			if done(cur) {
				return cur, nil
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-ch:
			case <-cpupin.After(50 * time.Millisecond):
			}
		}
	}
	code := int64(c.State.ExitCode)
	if (cond == "" || cond == "not-running") && !c.State.Active() {
		return code, nil // created or exited: not running already, as Docker answers
	}
	if cond == "next-exit" || cond == "removed" && !c.State.Active() {
		// Until it has started (or is gone): the next exit is that run's.
		since := c.State.StartedAt
		cur, err := poll(func(cur *model.Container) bool {
			return cur == nil || cur.State.Active() || cur.State.StartedAt.After(since)
		})
		if err != nil {
			return -1, err
		}
		if cur == nil {
			return code, nil
		}
		c = cur
	}
	if c.State.Active() || c.State.Status == model.StatusCreated {
		n, err := rt.WaitContainer(ctx, id, []string{"exited"})
		switch {
		case err == nil:
			code = int64(n)
		case errdefs.Is(err, errdefs.ErrNotFound), errdefs.Is(err, errdefs.ErrCtrRemoved):
			if cond != "removed" {
				return -1, err
			}
		default:
			return -1, err
		}
	} else {
		code = int64(c.State.ExitCode)
	}
	if cond != "removed" {
		return code, nil
	}
	if _, err := poll(func(cur *model.Container) bool { return cur == nil }); err != nil {
		return -1, err
	}
	return code, nil
}

// postContainerStop is POST /containers/{id}/stop?t=: 204, or 304 when it was not running.
func (s *Server) postContainerStop(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if !c.State.Active() {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if _, err := rt.StopContainer(r.Context(), c.Config.ID, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainerRestart is POST /containers/{id}/restart?t=.
func (s *Server) postContainerRestart(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	t, err := timeoutParam(r)
	if err != nil {
		return err
	}
	if _, err := rt.RestartContainer(r.Context(), c.Config.ID, t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainerKill is POST /containers/{id}/kill?signal=: 409 when it is not running.
func (s *Server) postContainerKill(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	sig := syscall.SIGKILL
	if v := r.URL.Query().Get("signal"); v != "" {
		if sig, err = engine.ParseSignal(v); err != nil {
			return badRequest("%v", err)
		}
	}
	if c.State.Status != model.StatusRunning && c.State.Status != model.StatusPaused {
		return &apiError{http.StatusConflict, fmt.Sprintf("Cannot kill container: %s: Container %s is not running", r.PathValue("id"), c.Config.ID)}
	}
	if _, err := rt.KillContainer(r.Context(), c.Config.ID, sig); err != nil {
		return err
	}
	if sig == syscall.SIGKILL {
		// Docker answers a SIGKILL once the container has exited: docker kill then inspect
		// saw it running, exit code 0, about one time in two.
		ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
		rt.WaitContainer(ctx, c.Config.ID, []string{"exited"})
		cancel()
		s.changed(c.Config.ID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainerPause is POST /containers/{id}/pause and /unpause.
func (s *Server) postContainerPause(pause bool) func(http.ResponseWriter, *http.Request, *engine.Runtime) error {
	return func(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
		c, err := lookup(rt, r.PathValue("id"))
		if err != nil {
			return err
		}
		if pause {
			_, err = rt.PauseContainer(r.Context(), c.Config.ID)
		} else {
			_, err = rt.UnpauseContainer(r.Context(), c.Config.ID)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// deleteContainer is DELETE /containers/{id}?force=&v=: 409 for a running container without
// force, as Docker.
func (s *Server) deleteContainer(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	force := boolParam(r, "force", false)
	if c.State.Active() && !force {
		return &apiError{http.StatusConflict, fmt.Sprintf("You cannot remove a %s container %s. Stop the container before attempting removal or force remove", c.State.Status, c.Config.ID)}
	}
	zero := uint(0)
	defer s.releaseAttaches(c.Config.ID)
	defer s.changed(c.Config.ID)
	defer s.takeEmptied(c.Config.ID)
	err = rt.RemoveContainer(r.Context(), c.Config.ID, engine.RemoveOptions{Force: force, Timeout: &zero, Volumes: boolParam(r, "v", false)})
	if err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainerRename is POST /containers/{id}/rename?name=.
func (s *Server) postContainerRename(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(r.URL.Query().Get("name"), "/")
	if name == "" {
		return badRequest("name is required: the container's new name")
	}
	if name == c.Config.Name {
		return badRequest("Renaming a container with the same name as its current name")
	}
	if err := rt.RenameContainer(r.Context(), c.Config.ID, name); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postContainerResize is POST /containers/{id}/resize?h=&w=: the terminal size of an attached
// client's container.
func (s *Server) postContainerResize(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	hgt, err1 := strconv.ParseUint(r.URL.Query().Get("h"), 10, 16)
	wid, err2 := strconv.ParseUint(r.URL.Query().Get("w"), 10, 16)
	if err1 != nil || err2 != nil {
		return badRequest("invalid terminal size h=%q w=%q", r.URL.Query().Get("h"), r.URL.Query().Get("w"))
	}
	if !c.Config.Terminal {
		return &apiError{http.StatusConflict, fmt.Sprintf("container %s has no terminal to resize", c.Config.Name)}
	}
	if err := rt.ResizeTerminal(c, uint16(hgt), uint16(wid)); err != nil && !errors.Is(err, errdefs.ErrCtrStateInvalid) {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// getContainerTop is GET /containers/{id}/top?ps_args=: Docker's daemon runs the host's ps
// with ps_args (-ef without them) and keeps the container's processes; podman's descriptors
// are read as pea top reads them.
func (s *Server) getContainerTop(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	return containerTop(w, r, rt, []string{"-ef"})
}

// getLibpodContainerTop is GET /libpod/containers/{id}/top?ps_args=: podman's descriptors (its
// default without ps_args), else the host ps's options.
func (s *Server) getLibpodContainerTop(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	return containerTop(w, r, rt, nil)
}

// containerTop answers a top: ps_args, else byDefault (nil: podman's default descriptors).
func containerTop(w http.ResponseWriter, r *http.Request, rt *engine.Runtime, byDefault []string) error {
	c, err := lookup(rt, r.PathValue("id"))
	if err != nil {
		return err
	}
	if c.State.Status != model.StatusRunning && c.State.Status != model.StatusPaused {
		return &apiError{http.StatusConflict, fmt.Sprintf("Container %s is not running", c.Config.ID)}
	}
	a := r.URL.Query().Get("ps_args")
	if a == "" && byDefault != nil {
		rows, err := rt.TopPS(r.Context(), c, byDefault)
		return writeTop(w, rows, err)
	}
	desc := strings.Fields(a)
	rows, err := rt.Top([]*model.Container{c}, desc)
	if errdefs.Is(err, errdefs.ErrInvalid) && len(desc) > 0 {
		// Not podman's descriptors: ps's own options (docker top CTR aux, -o pid,comm), which
		// Docker's daemon gives the host's ps.
		rows, err = rt.TopPS(r.Context(), c, desc)
	}
	return writeTop(w, rows, err)
}

// writeTop answers a top's rows (the first is the header).
func writeTop(w http.ResponseWriter, rows [][]string, err error) error {
	if err != nil {
		return err
	}
	out := map[string]any{"Titles": []string{}, "Processes": [][]string{}}
	if len(rows) > 0 {
		out["Titles"] = rows[0]
		out["Processes"] = rows[1:]
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

package api

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"pea/internal/detach"
)

// Stream numbers of Docker's multiplexed stream format (application/vnd.docker.multiplexed-stream):
// each frame is the stream's byte, three zero bytes, the payload's length (big endian, 32 bits),
// then the payload. A container with a terminal has one raw stream instead.
const (
	streamStdin  = 0
	streamStdout = 1
	streamStderr = 2
)

// muxWriter writes frames of one stream; the mutex is shared by the streams of one connection.
type muxWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream byte
	flush  func()
}

func (m *muxWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [8]byte
	hdr[0] = m.stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, err := m.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	n, err := m.w.Write(p)
	if m.flush != nil {
		m.flush()
	}
	return n, err
}

// rawWriter writes one raw stream, serialised with the connection's other writers.
type rawWriter struct {
	mu    *sync.Mutex
	w     io.Writer
	flush func()
}

func (r *rawWriter) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.w.Write(p)
	if r.flush != nil {
		r.flush()
	}
	return n, err
}

// outputs are the stdout and stderr writers of a stream to a client: framed when the stream is
// multiplexed (no terminal), raw otherwise (both write the one stream).
func outputs(w io.Writer, flush func(), multiplexed bool) (stdout, stderr io.Writer) {
	mu := &sync.Mutex{}
	if multiplexed {
		return &muxWriter{mu: mu, w: w, stream: streamStdout, flush: flush}, &muxWriter{mu: mu, w: w, stream: streamStderr, flush: flush}
	}
	raw := &rawWriter{mu: mu, w: w, flush: flush}
	return raw, raw
}

// streamType is the content type of a stream of a container's output.
func streamType(multiplexed bool) string {
	if multiplexed {
		return "application/vnd.docker.multiplexed-stream"
	}
	return "application/vnd.docker.raw-stream"
}

// hijacked is a connection taken over from the HTTP server for a raw stream (attach, exec
// start): the client's further bytes are the process's stdin.
type hijacked struct {
	conn net.Conn
	buf  *bufio.ReadWriter
}

// hijack takes the connection over and answers the request: 101 when the client asked to
// upgrade (Connection: Upgrade, as the docker client does), else 200, with the stream's
// content type.
func hijack(w http.ResponseWriter, r *http.Request, multiplexed bool) (*hijacked, error) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, badRequest("this connection cannot carry a stream")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return nil, err
	}
	ctype := streamType(multiplexed)
	if r.Header.Get("Upgrade") != "" {
		buf.WriteString("HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ctype + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	} else {
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: " + ctype + "\r\n\r\n")
	}
	if err := buf.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	return &hijacked{conn: conn, buf: buf}, nil
}

// stdin is what the client sends after the request: the process's input.
func (h *hijacked) stdin() io.Reader { return h.buf.Reader }

// outputs are the connection's writers (see outputs).
func (h *hijacked) outputs(multiplexed bool) (io.Writer, io.Writer) {
	return outputs(h.conn, nil, multiplexed)
}

// closeWrite ends the output: the client reads EOF.
func (h *hijacked) closeWrite() {
	if cw, ok := h.conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	h.conn.Close()
}

// httpFlusher flushes an http.ResponseWriter after each write, for streamed answers (logs -f,
// pull progress, stats).
func httpFlusher(w http.ResponseWriter) func() {
	if f, ok := w.(http.Flusher); ok {
		return f.Flush
	}
	return nil
}

// apiDetachKeys parses a request's detach keys (see package detach); none given is the
// default sequence, as Docker's.
func apiDetachKeys(s string) ([]byte, error) {
	if s == "" {
		s = detach.DefaultKeys
	}
	keys, err := detach.Parse(s)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return keys, nil
}

// detachingInput is a client's input watched for the detach keys: typed, the client's
// connection is closed (leave) and the input ends.
type detachingInput struct {
	r     io.Reader // a detach.Reader
	leave func()
}

func (d *detachingInput) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if errors.Is(err, detach.ErrDetached) {
		d.leave()
		err = io.EOF
	}
	return n, err
}

// outputUntilGone is output to a client that, once the client has gone (detached, or a write
// failed), drops what is written: the process's terminal is still drained.
type outputUntilGone struct {
	w    io.Writer
	gone *atomic.Bool
}

func (o *outputUntilGone) Write(p []byte) (int, error) {
	if o.gone.Load() {
		return len(p), nil
	}
	if _, err := o.w.Write(p); err != nil {
		o.gone.Store(true)
	}
	return len(p), nil
}

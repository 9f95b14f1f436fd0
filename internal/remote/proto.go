// Package remote is pea's remote mode: `pea --remote VERB …` (or --url, --connection,
// CONTAINER_HOST) runs VERB on the machine of a `pea system service`, not here. The client
// sends the command line, and the files the command line names on the client (a build
// context, `load -i`'s archive, an --env-file…), over an upgraded connection of the service's
// socket; the service runs its own pea on its store with those arguments and sends back the
// output, the files the command wrote for the client (`save -o`, `cp CTR:SRC DEST`…) and the
// exit code. So every verb works remotely with the same flags, output and exit codes as
// locally, with no second implementation of each verb in a client.
//
// The package links no net/http: pea is built without it (a command's start-up would pay for
// it), so the client speaks the one HTTP/1.1 upgrade request itself; the service's side is
// handed the connection after net/http has hijacked it (internal/api).
package remote

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync"
)

// Path is the service's endpoint for a remote command line; the connection is upgraded to
// Protocol and then carries frames.
const (
	Path     = "/pea/v1/cli"
	Protocol = "pea-cli"
)

// Request is what the client sends, as the JSON body of the upgrade request.
type Request struct {
	Args []string `json:"args"`
	// TTY: the client's standard input and output are a terminal; the command runs on a
	// pseudo-terminal of the service, of Rows×Cols, with TERM=Term.
	TTY  bool   `json:"tty,omitempty"`
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Term string `json:"term,omitempty"`
	// Inputs are the client's files the arguments name: each is replaced in Args by
	// InputMarker(i) and sent, as a tar, before the command starts.
	Inputs []Input `json:"inputs,omitempty"`
	// Outputs are the paths the arguments name for the command to write, OutputMarker(i) in
	// Args; what is there when the command ends comes back as a tar. An output that is true is
	// an existing directory (the command writes into it: `cp CTR:SRC DIR`).
	Outputs []bool `json:"outputs,omitempty"`
	// WorkOutput, when not 0, is 1 + the output that is the command's working directory: what
	// it writes there (`generate systemd --files`) goes to the client's.
	WorkOutput int `json:"workOutput,omitempty"`
	// ClientDir is the client's working directory, which the command names where it prints
	// the paths of what it wrote in WorkOutput (EnvClientDir).
	ClientDir string `json:"clientDir,omitempty"`
}

// Input is one client file or directory: Base is its name (what the command sees as the
// path's last element).
type Input struct {
	Base string `json:"base"`
}

// InputMarker and OutputMarker stand for the service's paths of input and output i in Args.
func InputMarker(i int) string  { return fmt.Sprintf("\x01pea-in-%d\x01", i) }
func OutputMarker(i int) string { return fmt.Sprintf("\x01pea-out-%d\x01", i) }

// Frame types. Client to service: stdin data and its end, the terminal's size, a signal, and
// the inputs' tar data (first two payload bytes: the input's index). Service to client:
// stdout and stderr data, the outputs' tar data (index first, as inputs), the exit code.
const (
	FrameStdin    = 'i'
	FrameStdinEOF = 'I'
	FrameResize   = 'w' // rows, cols: uint16 each
	FrameSignal   = 's' // one byte
	FrameInput    = 'f'
	FrameInputEnd = 'F'
	FrameStdout   = 'o'
	FrameStderr   = 'e'
	FrameOutput   = 'g'
	FrameOutEnd   = 'G' // index, then one byte: 1 when the command wrote the output
	FrameExit     = 'x' // int32
)

// maxFrame bounds a frame's payload, so a broken peer cannot make the other allocate much.
const maxFrame = 1 << 20

// Writer writes frames; it is safe for concurrent use.
type Writer struct {
	mu sync.Mutex
	w  io.Writer
}

func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Frame writes one frame of type t with payload parts (concatenated).
func (fw *Writer) Frame(t byte, parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	hdr := [5]byte{t}
	binary.BigEndian.PutUint32(hdr[1:], uint32(n))
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if _, err := fw.w.Write(hdr[:]); err != nil {
		return err
	}
	for _, p := range parts {
		if _, err := fw.w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// Stream returns a writer that sends what is written to it as frames of type t, each
// prefixed with prefix, in pieces of at most maxFrame.
func (fw *Writer) Stream(t byte, prefix []byte) io.Writer {
	return &frameStream{fw: fw, t: t, prefix: prefix}
}

type frameStream struct {
	fw     *Writer
	t      byte
	prefix []byte
}

func (s *frameStream) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), maxFrame-len(s.prefix))
		if err := s.fw.Frame(s.t, s.prefix, p[:k]); err != nil {
			return n - len(p), err
		}
		p = p[k:]
	}
	return n, nil
}

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("remote: frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return hdr[0], p, nil
}

func index(i int) []byte { return binary.BigEndian.AppendUint16(nil, uint16(i)) }

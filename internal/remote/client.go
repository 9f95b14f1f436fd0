package remote

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"pea/internal/cpupin"
	"pea/internal/engine"
)

// Conn is a connection to a service.
type Conn struct {
	io.ReadWriteCloser
	rd *bufio.Reader
}

// Dial connects to the service at uri: unix:///PATH, tcp://HOST:PORT, or
// ssh://[USER@]HOST[:PORT]/PATH, which runs `pea system dial-stdio unix:///PATH` on HOST through
// the ssh client (with identity as its key, when given), as docker's client does.
func Dial(uri, identity string) (*Conn, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	var c io.ReadWriteCloser
	if u.Scheme == "ssh" {
		c, err = dialSSH(u, identity)
	} else {
		c, err = DialRaw(uri)
	}
	if err != nil {
		return nil, err
	}
	return &Conn{ReadWriteCloser: c, rd: bufio.NewReader(c)}, nil
}

// DialRaw connects to a unix:// or tcp:// service.
func DialRaw(uri string) (net.Conn, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "unix":
		return net.Dial("unix", unixPath(u))
	case "tcp":
		return net.Dial("tcp", u.Host)
	}
	return nil, fmt.Errorf("%q: the scheme must be unix, tcp or ssh", uri)
}

func unixPath(u *url.URL) string {
	if u.Path != "" {
		return u.Path
	}
	return u.Opaque
}

// sshCmd is a connection through an ssh client's standard input and output.
type sshCmd struct {
	io.Reader
	io.WriteCloser
	cmd *exec.Cmd
}

func (s *sshCmd) Close() error {
	s.WriteCloser.Close()
	s.cmd.Process.Kill()
	s.cmd.Wait()
	return nil
}

func dialSSH(u *url.URL, identity string) (io.ReadWriteCloser, error) {
	argv := []string{"-o", "BatchMode=yes"}
	if identity != "" {
		argv = append(argv, "-i", identity)
	}
	if p := u.Port(); p != "" {
		argv = append(argv, "-p", p)
	}
	dest := u.Hostname()
	if u.User != nil && u.User.Username() != "" {
		dest = u.User.Username() + "@" + dest
	}
	path := u.Path
	if path == "" {
		path = filepath.Join(engine.DefaultRunRoot, "pea.sock")
	}
	argv = append(argv, "--", dest, "pea", "system", "dial-stdio", "unix://"+path)
	cmd := cpupin.Command(sshClient(), argv...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C is the command's, sent as a frame
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cpupin.Start(cmd); err != nil {
		return nil, err
	}
	return &sshCmd{Reader: out, WriteCloser: in, cmd: cmd}, nil
}

// sshClient is the ssh client to run: $PEA_SSH, else ssh from PATH.
func sshClient() string {
	if s := os.Getenv("PEA_SSH"); s != "" {
		return s
	}
	return "ssh"
}

// Output is where an output of the command goes on the client: Path, or, with Into, inside
// the directory Path (what `cp CTR:SRC DIR` does with an existing DIR).
type Output struct {
	Path string
	Into bool
}

// Call is one remote command.
type Call struct {
	Req     Request
	Inputs  []string // the client paths of Req.Inputs
	Outputs []Output // Req.Outputs of them
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Resize  <-chan [2]uint16
	Signals <-chan os.Signal
}

// ConnectError: the service could not be reached.
type ConnectError struct{ Err error }

func (e *ConnectError) Error() string { return e.Err.Error() }
func (e *ConnectError) Unwrap() error { return e.Err }

// ErrNotPea: the service answered the upgrade with 404: it is not pea's.
var ErrNotPea = errors.New("the service does not run pea's remote command line (is it podman's or docker's API?)")

// Run sends the call and relays its input and output until the command ends; it returns the
// command's exit code.
func (c *Conn) Run(call *Call) (int, error) {
	call.Req.Outputs = make([]bool, len(call.Outputs))
	for i, o := range call.Outputs {
		call.Req.Outputs[i] = o.Into
	}
	body, err := json.Marshal(call.Req)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: pea\r\nConnection: Upgrade\r\nUpgrade: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		Path, Protocol, len(body), body)
	if err := c.upgraded(); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
			return 0, &ConnectError{err}
		}
		return 0, err
	}
	fw := NewWriter(c)
	go func() {
		for i, p := range call.Inputs {
			if err := WriteTar(fw.Stream(FrameInput, index(i)), p, call.Req.Inputs[i].Base); err != nil {
				fmt.Fprintf(call.Stderr, "Error: sending %s: %v\n", p, err)
				c.Close()
				return
			}
			fw.Frame(FrameInputEnd, index(i))
		}
		if call.Stdin != nil {
			io.Copy(fw.Stream(FrameStdin, nil), call.Stdin)
		}
		fw.Frame(FrameStdinEOF)
	}()
	go func() {
		for {
			select {
			case sz, ok := <-call.Resize:
				if !ok {
					call.Resize = nil
					continue
				}
				p := binary.BigEndian.AppendUint16(nil, sz[0])
				fw.Frame(FrameResize, binary.BigEndian.AppendUint16(p, sz[1]))
			case sig, ok := <-call.Signals:
				if !ok {
					return
				}
				if s, ok := sig.(syscall.Signal); ok {
					fw.Frame(FrameSignal, []byte{byte(s)})
				}
			}
		}
	}()
	var outs outputs
	defer outs.abort()
	for {
		t, p, err := ReadFrame(c.rd)
		if err != nil {
			return 0, fmt.Errorf("the connection to the service ended: %w", err)
		}
		switch t {
		case FrameStdout:
			call.Stdout.Write(p)
		case FrameStderr:
			call.Stderr.Write(p)
		case FrameOutput, FrameOutEnd:
			if len(p) < 2 || int(binary.BigEndian.Uint16(p)) >= len(call.Outputs) {
				return 0, errors.New("remote: unexpected output frame")
			}
			i := int(binary.BigEndian.Uint16(p))
			if err := outs.frame(t, p[2:], call.Outputs[i]); err != nil {
				return 0, err
			}
		case FrameExit:
			if len(p) != 4 {
				return 0, errors.New("remote: bad exit frame")
			}
			return int(int32(binary.BigEndian.Uint32(p))), nil
		}
	}
}

// upgraded reads the answer to the upgrade request.
func (c *Conn) upgraded() error {
	status, err := c.rd.ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the service's answer: %w", err)
	}
	length := -1
	for {
		line, err := c.rd.ReadString('\n')
		if err != nil {
			return fmt.Errorf("reading the service's answer: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	f := strings.Fields(status)
	if len(f) >= 2 && f[1] == "101" {
		return nil
	}
	if len(f) >= 2 && f[1] == "404" {
		return ErrNotPea
	}
	var msg struct {
		Message string `json:"message"`
	}
	if length > 0 && length < 1<<20 {
		b := make([]byte, length)
		if _, err := io.ReadFull(c.rd, b); err == nil && json.Unmarshal(b, &msg) == nil && msg.Message != "" {
			return errors.New(msg.Message)
		}
	}
	return fmt.Errorf("the service answered %q", strings.TrimSpace(status))
}

// outputs unpacks the outputs' tars as they arrive, each into a directory beside its
// destination, and moves the result into place at its end.
type outputs struct {
	pw   *io.PipeWriter
	done chan error
	tmp  string
}

func (o *outputs) frame(t byte, p []byte, dst Output) error {
	if o.pw == nil && t == FrameOutput {
		tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dst.Path)), ".pea-remote-")
		if err != nil {
			return err
		}
		pr, pw := io.Pipe()
		o.pw, o.tmp, o.done = pw, tmp, make(chan error, 1)
		go func() {
			err := engine.Untar(pr, tmp)
			io.Copy(io.Discard, pr)
			o.done <- err
		}()
	}
	if t == FrameOutput {
		o.pw.Write(p)
		return nil
	}
	if o.pw == nil { // the command wrote nothing there
		return nil
	}
	o.pw.Close()
	err := <-o.done
	if err == nil {
		err = place(filepath.Join(o.tmp, "out"), dst)
	}
	os.RemoveAll(o.tmp)
	o.pw, o.tmp = nil, ""
	return err
}

func (o *outputs) abort() {
	if o.pw != nil {
		o.pw.CloseWithError(errors.New("aborted"))
		<-o.done
		os.RemoveAll(o.tmp)
	}
}

// place moves what the command wrote (src) to dst.
func place(src string, dst Output) error {
	if !dst.Into {
		if fi, err := os.Lstat(dst.Path); err == nil && fi.IsDir() {
			if err := os.RemoveAll(dst.Path); err != nil {
				return err
			}
		}
		return os.Rename(src, dst.Path)
	}
	ents, err := os.ReadDir(src)
	if err != nil { // a file copied into the directory
		return os.Rename(src, filepath.Join(dst.Path, filepath.Base(src)))
	}
	for _, e := range ents {
		to := filepath.Join(dst.Path, e.Name())
		if fi, err := os.Lstat(to); err == nil && fi.IsDir() {
			os.RemoveAll(to)
		}
		if err := os.Rename(filepath.Join(src, e.Name()), to); err != nil {
			return err
		}
	}
	return nil
}

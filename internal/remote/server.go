package remote

import (
	"archive/tar"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/engine"
)

// EnvServed marks a pea the service runs for a remote client: its value is the service's
// global store flags, which the command line may not change (see cli's remote.go).
const EnvServed = "_PEA_REMOTE_SERVED"

// EnvClientDir is the remote client's working directory, for a command that prints the paths
// of the files it wrote in its own (Request.WorkOutput).
const EnvClientDir = "_PEA_REMOTE_CLIENT_DIR"

// Service is what the service knows to run a remote command: its pea executable, the global
// flags naming its store, and a directory for the command's files.
type Service struct {
	Pea       string
	StoreArgs []string
	TempDir   string
}

// Serve runs req on conn (upgraded; rd holds what was read of it) and closes conn.
func (s Service) Serve(conn io.ReadWriteCloser, rd *bufio.Reader, req Request) {
	defer conn.Close()
	fw := NewWriter(conn)
	code, err := s.serve(conn, rd, fw, req)
	if err != nil {
		fmt.Fprintf(fw.Stream(FrameStderr, nil), "Error: %v\n", err)
		code = 125
	}
	fw.Frame(FrameExit, binary.BigEndian.AppendUint32(nil, uint32(int32(code))))
}

func (s Service) serve(conn io.ReadWriteCloser, rd *bufio.Reader, fw *Writer, req Request) (int, error) {
	if len(req.Args) == 0 {
		return 0, errors.New("remote: no command")
	}
	if err := os.MkdirAll(s.TempDir, 0o700); err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp(s.TempDir, "cli-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	// The client's files, one tar each, before anything else.
	args := append([]string(nil), req.Args...)
	for i, in := range req.Inputs {
		base := filepath.Base("/" + in.Base)
		if base == "/" || base == "." || base == ".." {
			return 0, fmt.Errorf("remote: bad input name %q", in.Base)
		}
		d := filepath.Join(dir, fmt.Sprintf("in-%d", i))
		if err := os.Mkdir(d, 0o700); err != nil {
			return 0, err
		}
		if err := receiveTar(rd, i, d); err != nil {
			return 0, fmt.Errorf("receiving %s: %w", in.Base, err)
		}
		replace(args, InputMarker(i), filepath.Join(d, base))
	}
	for i, isDir := range req.Outputs {
		out := filepath.Join(dir, fmt.Sprintf("out-%d", i))
		if isDir {
			if err := os.Mkdir(out, 0o755); err != nil {
				return 0, err
			}
		}
		replace(args, OutputMarker(i), out)
	}
	for _, a := range args {
		if strings.Contains(a, "\x01pea-") {
			return 0, errors.New("remote: an argument names a file that was not sent")
		}
	}

	cmd := cpupin.Command(s.Pea, append(append([]string(nil), s.StoreArgs...), args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), EnvServed+"="+strings.Join(s.StoreArgs, "\x1f"))
	if w := req.WorkOutput; w > 0 && w <= len(req.Outputs) && req.Outputs[w-1] {
		cmd.Dir = filepath.Join(dir, fmt.Sprintf("out-%d", w-1))
		if req.ClientDir != "" {
			cmd.Env = append(cmd.Env, EnvClientDir+"="+req.ClientDir)
		}
	}
	var ptm *os.File
	var copied chan struct{}
	stdin := io.WriteCloser(nopCloser{})
	if req.TTY {
		pts, m, err := openPty(req.Rows, req.Cols)
		if err != nil {
			return 0, err
		}
		ptm = m
		defer ptm.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if req.Term != "" {
			cmd.Env = append(cmd.Env, "TERM="+req.Term)
		}
		if err := cpupin.Start(cmd); err != nil {
			pts.Close()
			return 0, err
		}
		pts.Close()
		stdin = ptm
		copied = make(chan struct{})
		go func() {
			io.Copy(fw.Stream(FrameStdout, nil), ptm) // ends with EIO once every holder of the pts closed it
			close(copied)
		}()
	} else {
		w, err := cmd.StdinPipe()
		if err != nil {
			return 0, err
		}
		stdin = w
		cmd.Stdout = fw.Stream(FrameStdout, nil)
		cmd.Stderr = fw.Stream(FrameStderr, nil)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cpupin.Start(cmd); err != nil {
			return 0, err
		}
	}

	// The client's input, resizes and signals, until it goes: then the command is stopped as
	// a terminal hang-up would stop it.
	go func() {
		for {
			t, p, err := ReadFrame(rd)
			if err != nil {
				stdin.Close()
				cmd.Process.Signal(syscall.SIGHUP)
				cmd.Process.Signal(syscall.SIGTERM)
				return
			}
			switch t {
			case FrameStdin:
				stdin.Write(p)
			case FrameStdinEOF:
				if ptm == nil {
					stdin.Close()
				}
			case FrameResize:
				if ptm != nil && len(p) == 4 {
					setSize(ptm, binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]))
				}
			case FrameSignal:
				if len(p) == 1 {
					cmd.Process.Signal(syscall.Signal(p[0]))
				}
			}
		}
	}()
	err = cmd.Wait()
	if copied != nil {
		select { // a background process may hold the terminal: do not wait for it long
		case <-copied:
		case <-cpupin.After(time.Second):
		}
	}
	code := 0
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
	} else if err != nil {
		return 0, err
	}
	for i := range req.Outputs {
		if err := sendOutput(fw, i, filepath.Join(dir, fmt.Sprintf("out-%d", i))); err != nil {
			return 0, err
		}
	}
	return code, nil
}

type nopCloser struct{}

func (nopCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopCloser) Close() error                { return nil }

func replace(args []string, marker, with string) {
	for j, a := range args {
		args[j] = strings.ReplaceAll(a, marker, with)
	}
}

// receiveTar unpacks input i's tar, sent as FrameInput frames up to its FrameInputEnd, into d.
func receiveTar(rd *bufio.Reader, i int, d string) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := engine.Untar(pr, d)
		io.Copy(io.Discard, pr)
		done <- err
	}()
	for {
		t, p, err := ReadFrame(rd)
		if err != nil {
			pw.CloseWithError(err)
			<-done
			return err
		}
		if len(p) < 2 || int(binary.BigEndian.Uint16(p)) != i || (t != FrameInput && t != FrameInputEnd) {
			pw.CloseWithError(errors.New("remote: unexpected frame"))
			<-done
			return errors.New("remote: unexpected frame")
		}
		if t == FrameInputEnd {
			pw.Close()
			return <-done
		}
		if _, err := pw.Write(p[2:]); err != nil {
			return <-done
		}
	}
}

// sendOutput sends what the command left at path (a file or a directory), as a tar whose
// entries are under "out", then FrameOutEnd.
func sendOutput(fw *Writer, i int, path string) error {
	_, err := os.Lstat(path)
	if err != nil {
		return fw.Frame(FrameOutEnd, index(i), []byte{0})
	}
	if err := WriteTar(fw.Stream(FrameOutput, index(i)), path, "out"); err != nil {
		return err
	}
	return fw.Frame(FrameOutEnd, index(i), []byte{1})
}

// WriteTar writes path (a file, link or directory tree) as a tar whose top entry is named
// name.
func WriteTar(w io.Writer, path, name string) error {
	tw := tar.NewWriter(w)
	if err := engine.TarTree(tw, path, name); err != nil {
		return err
	}
	return tw.Close()
}

// openPty opens a pseudo-terminal of rows×cols: its terminal side and its master.
func openPty(rows, cols uint16) (*os.File, *os.File, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if rows > 0 && cols > 0 {
		setSize(m, rows, cols)
	}
	return s, m, nil
}

func setSize(f *os.File, rows, cols uint16) {
	unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}

package engine

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"pea/internal/detach"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
)

// Streams connect a container's stdio to the caller.
type Streams struct {
	Stdin  io.Reader // nil: no input
	Stdout io.Writer
	Stderr io.Writer
	// Resize, when set, delivers terminal sizes (rows, cols) to forward to the container.
	Resize <-chan [2]uint16
	// Size, when set, is the terminal size (rows, cols) to give the container before it starts.
	Size *[2]uint16
	// KeepStdinOpen: the end of Stdin does not close the container's stdin (a container with
	// model's KeepStdinOpen: another client may attach and type later).
	KeepStdinOpen bool
	// Done, when set, ends the attachment when closed (the client went away): the output stops
	// and AttachWait returns without waiting for the exit.
	Done <-chan struct{}
	// DetachKeys, when set, is the sequence (see package detach) that, read from Stdin, ends
	// the attachment as Done does: AttachWait returns detach.ErrDetached, the container goes on.
	DetachKeys []byte
	conn       *attachConn
	detached   atomic.Bool
	// exitFD is a pidfd of the container's process, taken before it started (see
	// waitPidExitCode); valid when hasExitFD.
	exitFD    int
	hasExitFD bool
}

// closeExitFD releases the pidfd, if any.
func (s *Streams) closeExitFD() {
	if s.hasExitFD {
		unix.Close(s.exitFD)
		s.hasExitFD = false
	}
}

// attachConn is a connection to conmon's attach socket: a SOCK_SEQPACKET socket on which every
// packet from conmon starts with one byte naming the stream (2 stdout, 3 stderr) and everything
// written to it is the container's stdin.
type attachConn struct {
	fd     int
	bundle string
	once   sync.Once
}

// dialAttach connects to the attach socket. The socket's path can exceed the 108 bytes a
// sockaddr holds, so it is reached through /proc/self/fd of its directory.
func dialAttach(bundle string) (*attachConn, error) {
	dirfd, err := unix.Open(bundle, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dirfd)
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	addr := &unix.SockaddrUnix{Name: filepath.Join("/proc/self/fd", strconv.Itoa(dirfd), filepath.Base(oci.AttachSocket(bundle)))}
	if err := unix.Connect(fd, addr); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach to container: %w", err)
	}
	return &attachConn{fd: fd, bundle: bundle}, nil
}

func (a *attachConn) Close() {
	a.once.Do(func() { unix.Close(a.fd) })
}

// pump copies the container's output to the writers until conmon closes the socket, while
// feeding stdin. It returns when the output ends.
func (a *attachConn) pump(s *Streams) error {
	if s.Stdin != nil {
		in := detach.NewReader(s.Stdin, s.DetachKeys)
		go func() {
			buf := make([]byte, 8192)
			for {
				n, err := in.Read(buf)
				if n > 0 {
					if _, werr := unix.Write(a.fd, buf[:n]); werr != nil {
						return
					}
				}
				if errors.Is(err, detach.ErrDetached) {
					// The container's input stays open (a terminal's is conmon's); the read
					// below returns.
					s.detached.Store(true)
					unix.Shutdown(a.fd, unix.SHUT_RDWR)
					return
				}
				if err != nil {
					// End of input: tell conmon, which closes the container's stdin.
					if !s.KeepStdinOpen {
						unix.Shutdown(a.fd, unix.SHUT_WR)
					}
					return
				}
			}
		}()
	}
	if s.Done != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			select {
			case <-s.Done:
				unix.Shutdown(a.fd, unix.SHUT_RDWR) // the read below returns
			case <-stop:
			}
		}()
	}
	if s.Resize != nil {
		go func() {
			for sz := range s.Resize {
				a.resize(sz[0], sz[1])
			}
		}()
	}
	buf := make([]byte, 8193)
	for {
		n, err := unix.Read(a.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			if errors.Is(err, unix.ECONNRESET) {
				return nil
			}
			return err
		}
		if n == 0 {
			return nil
		}
		if n < 2 {
			continue
		}
		var w io.Writer
		switch buf[0] {
		case 2:
			w = s.Stdout
		case 3:
			w = s.Stderr
		}
		if w != nil {
			w.Write(buf[1:n])
		}
	}
}

// setPtySize gives the terminal of a created container, whose process pid waits to start with
// the pseudo-terminal's slave as its standard input, the size rows x cols, before it starts.
// The resize through conmon (attachConn.resize) comes later: conmon applies it when its main
// loop reads the control fifo, and a process that asked for its size first (`stty size` right
// at the start, under load) got 0x0. A failure leaves the size to conmon's resize.
func setPtySize(pid int, rows, cols uint16) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/fd/0", unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return // not a terminal
	}
	unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
}

// resize tells conmon the terminal's new size through its control fifo.
func (a *attachConn) resize(rows, cols uint16) {
	f, err := os.OpenFile(oci.CtlFifo(a.bundle), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "1 %d %d\n", rows, cols)
	f.Close()
}

// ResizeTerminal gives a running container's terminal a new size (rows, cols), through
// conmon's control fifo, as an attached client's resizes are.
func (r *Runtime) ResizeTerminal(c *model.Container, rows, cols uint16) error {
	if !c.Config.Terminal {
		return fmt.Errorf("container %s has no terminal: %w", c.Config.Name, errdefs.ErrInvalid)
	}
	if !c.State.Active() {
		return fmt.Errorf("container %s is not running: %w", c.Config.Name, errdefs.ErrCtrStateInvalid)
	}
	(&attachConn{bundle: r.ctrRunDir(c.Config.ID)}).resize(rows, cols)
	return nil
}

// ReopenLog makes a running container's conmon close its log file and open it again at its
// path (conmon's control fifo, message 2), after the file was moved away: log rotation.
func (r *Runtime) ReopenLog(c *model.Container) error {
	if !c.State.Active() {
		return fmt.Errorf("container %s is not running: %w", c.Config.Name, errdefs.ErrCtrStateInvalid)
	}
	f, err := os.OpenFile(oci.CtlFifo(r.ctrRunDir(c.Config.ID)), os.O_WRONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("container %s: conmon's control fifo: %w", c.Config.Name, err)
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "2 0 0\n")
	return err
}

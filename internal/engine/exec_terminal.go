package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/detach"
)

// consoleSocketDir makes the directory of an exec's console socket in the run root, which
// goes with the store (and at a reboot) should this process be killed before it removes it
// (in /tmp, such directories were left behind by every killed API service with a terminal
// exec open); in /tmp only when the run root's path is too long for a socket's (108 bytes).
func (r *Runtime) consoleSocketDir() (string, error) {
	parent := filepath.Join(r.opts.RunRoot, "exec")
	if len(parent)+len("/term-1234567890/console.sock") < 108 {
		if err := os.MkdirAll(parent, 0o700); err == nil {
			return os.MkdirTemp(parent, "term-")
		}
	}
	return os.MkdirTemp("", "pea-exec-")
}

// ExecOnTerminal runs o.Cmd in a running container on a terminal whose master this process
// holds, for a client whose terminal is relayed (exec -it, the API, the CRI's streaming): the
// runtime hands the master over a console socket; stdin (nil: none) is copied to it and what
// the process writes to o.Stdout. Once the master is there, onTerminal (when set) is called
// with a function that sets the terminal's size (rows, cols). It returns the exit code; a
// process that could not be run has 126 and the error. With o.DetachKeys typed, it returns
// detach.ErrDetached without waiting for the process (see holdTerminal).
func (r *Runtime) ExecOnTerminal(ctx context.Context, nameOrID string, o ExecOptions, stdin io.Reader, onTerminal func(setSize func(rows, cols uint16))) (int, error) {
	dir, err := r.consoleSocketDir()
	if err != nil {
		return 126, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return 126, err
	}
	defer ln.Close()
	o.Tty = true
	o.ConsoleSocket = sock
	out := o.Stdout
	if out == nil {
		out = io.Discard
	}
	o.Stdout = io.Discard // the runtime's own output; the process's comes through the terminal
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}

	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	exited := make(chan struct{})
	go func() {
		code, err := r.Exec(ctx, nameOrID, o)
		close(exited)
		done <- result{code, err}
	}()
	// The runtime sends the master before the process runs; once it has ended with none
	// (it failed), a moment more for a master still queued on the socket.
	go func() {
		<-exited
		ln.SetDeadline(time.Now().Add(500 * time.Millisecond))
	}()
	master, merr := receiveConsole(ln)
	copied := make(chan struct{})
	detached := make(chan struct{})
	if merr == nil {
		defer master.Close()
		if onTerminal != nil {
			onTerminal(func(rows, cols uint16) { setWinsize(master, rows, cols) })
		}
		if stdin != nil {
			go func() {
				if _, err := io.Copy(master, detach.NewReader(stdin, o.DetachKeys)); errors.Is(err, detach.ErrDetached) {
					close(detached)
				}
			}()
		}
		go func() {
			defer close(copied)
			io.Copy(out, master) // until the terminal's last holder closes it (EIO)
		}()
	} else {
		close(copied)
	}
	var res result
	select {
	case res = <-done:
	case <-detached:
		// Nothing more is shown; the process keeps its terminal.
		master.SetReadDeadline(time.Now())
		<-copied
		if err := holdTerminal(master); err != nil {
			return 126, err
		}
		return 0, detach.ErrDetached
	}
	// What the process wrote before it ended is still to be read; a background process that
	// keeps the terminal open does not hold the stream for long.
	select {
	case <-copied:
	case <-cpupin.After(2 * time.Second):
		if master != nil {
			master.SetReadDeadline(time.Now())
		}
		<-copied
	}
	if res.err != nil {
		return 126, res.err
	}
	if merr != nil && res.code == 0 {
		return 126, fmt.Errorf("no terminal from the runtime: %w", merr)
	}
	return res.code, nil
}

// receiveConsole accepts the runtime's connection on a console socket and returns the
// terminal master it sends, non-blocking (so reads can be interrupted).
func receiveConsole(ln *net.UnixListener) (*os.File, error) {
	conn, err := ln.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		if got, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, got...)
		}
	}
	if len(fds) == 0 {
		return nil, errors.New("the console socket carried no terminal")
	}
	for _, fd := range fds[1:] {
		unix.Close(fd)
	}
	unix.CloseOnExec(fds[0])
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		return nil, err
	}
	return os.NewFile(uintptr(fds[0]), "pty-master"), nil
}

// setWinsize sets a terminal's size (rows, cols) through its master.
func setWinsize(master *os.File, rows, cols uint16) {
	if sc, err := master.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols})
		})
	}
}

// TerminalHolderArg is the first argument of the process that holds a detached exec's terminal
// (cli.Main hands it to RunTerminalHolder).
const TerminalHolderArg = "__pea-hold-terminal"

// holdTerminal hands a detached exec's terminal master to a process of its own session, which
// reads and drops what the process writes until the terminal's last other holder closes it:
// the process neither loses its terminal (a hang-up) when this one exits, nor blocks on a full
// one. It is what conmon is to a container's terminal.
func holdTerminal(master *os.File) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := cpupin.CommandPinned(self, TerminalHolderArg)
	// It lives as long as the exec: small pages for its heap.
	smallHeap(cmd)
	cmd.ExtraFiles = []*os.File{master} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cpupin.StartPinned(cmd); err != nil {
		return fmt.Errorf("keep the detached terminal: %w", err)
	}
	return cmd.Process.Release()
}

// RunTerminalHolder is the process holdTerminal starts: fd 3 is the master.
func RunTerminalHolder() int {
	const master = 3
	unix.SetNonblock(master, false)
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Read(master, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return 0
		}
	}
}

package cri

// Exec, Attach and PortForward: the CRI answers each with a URL of a streaming server, which the
// client (kubelet's proxy, crictl) connects to with SPDY or WebSocket. The protocol side is
// Kubernetes' own package (k8s.io/cri-streaming); pea provides the three operations on real
// containers: an exec through the OCI runtime (on a terminal whose master this process holds,
// for -t), an attach to conmon's streams, and a TCP connection made inside the sandbox's
// network namespace.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
	"k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// startStreaming starts the streaming server on a loopback port of its own; it serves until
// ctx ends.
func (s *Server) startStreaming(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("streaming server: %w", err)
	}
	cfg := streaming.DefaultConfig
	cfg.Addr = ln.Addr().String()
	cfg.BaseURL = &url.URL{Scheme: "http", Host: cfg.Addr}
	srv, err := streaming.NewServer(cfg, streamRuntime{s})
	if err != nil {
		ln.Close()
		return err
	}
	s.streams = srv
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	return nil
}

// Exec answers with the URL of an exec session (crictl exec -i -t).
func (s *Server) Exec(ctx context.Context, req *runtimeapi.ExecRequest) (*runtimeapi.ExecResponse, error) {
	if err := s.checkRunning(req.ContainerId); err != nil {
		return nil, err
	}
	return s.streams.GetExec(req)
}

// Attach answers with the URL of an attach session.
func (s *Server) Attach(ctx context.Context, req *runtimeapi.AttachRequest) (*runtimeapi.AttachResponse, error) {
	if err := s.checkRunning(req.ContainerId); err != nil {
		return nil, err
	}
	return s.streams.GetAttach(req)
}

// PortForward answers with the URL of a port-forwarding session into a sandbox.
func (s *Server) PortForward(ctx context.Context, req *runtimeapi.PortForwardRequest) (*runtimeapi.PortForwardResponse, error) {
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := readySandbox(rt, req.PodSandboxId)
		if err != nil {
			return err
		}
		req.PodSandboxId = pi.Pod.Config.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.streams.GetPortForward(req)
}

// checkRunning fails unless the container is a running CRI container.
func (s *Server) checkRunning(id string) error {
	return s.withContainer(id, false, func(rt *engine.Runtime, c *model.Container) error {
		if c.State.Status != model.StatusRunning {
			return fmt.Errorf("container %s is %s, not running: %w", c.Config.ID, c.State.Status, errdefs.ErrWrongState)
		}
		return nil
	})
}

// streamRuntime does what the streaming server's sessions ask.
type streamRuntime struct{ s *Server }

// resizes turns the streaming server's terminal sizes into a setter's calls until ch closes.
func resizes(ch <-chan remotecommand.TerminalSize, set func(rows, cols uint16)) {
	for sz := range ch {
		set(sz.Height, sz.Width)
	}
}

// Exec runs cmd in the container with the session's streams; a non-zero exit is an error the
// server reports as the exit code.
func (r streamRuntime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	var code int
	err := r.s.withRuntime(func(rt *engine.Runtime) error {
		c, err := lookupContainer(rt, id)
		if err != nil {
			return err
		}
		o := engine.ExecOptions{Cmd: cmd, Stdout: writerOrDiscard(out), Stderr: writerOrDiscard(errOut)}
		if tty {
			code, err = rt.ExecOnTerminal(ctx, c.Config.ID, o, in, func(set func(rows, cols uint16)) {
				if resize != nil {
					go resizes(resize, set)
				}
			})
			return err
		}
		o.Stdin = in // a pipe fed from it (engine.Exec)
		code, err = rt.Exec(ctx, c.Config.ID, o)
		return err
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command %v exited with %d", cmd, code), Code: code}
	}
	return nil
}

func writerOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Attach connects the session's streams to the container's (through conmon) until it exits or
// the client leaves.
func (r streamRuntime) Attach(ctx context.Context, id string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	return r.s.withRuntime(func(rt *engine.Runtime) error {
		c, err := lookupContainer(rt, id)
		if err != nil {
			return err
		}
		st := &engine.Streams{Stdin: in, Stdout: writerOrDiscard(out), Stderr: writerOrDiscard(errOut), Done: ctx.Done()}
		if tty && resize != nil {
			ch := make(chan [2]uint16, 1)
			st.Resize = ch
			go func() {
				defer close(ch)
				for sz := range resize {
					select {
					case ch <- [2]uint16{sz.Height, sz.Width}:
					case <-ctx.Done():
						return
					}
				}
			}()
		}
		_, err = rt.Attach(ctx, c.Config.ID, st)
		return err
	})
}

// PortForward copies between stream and a TCP connection to port on the sandbox's loopback,
// made inside its network namespace.
func (r streamRuntime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	if port <= 0 || port > 65535 {
		return fmt.Errorf("port %d: ports are 1-65535: %w", port, errdefs.ErrInvalid)
	}
	var netns string
	err := r.s.withRuntime(func(rt *engine.Runtime) error {
		pi, err := lookupSandbox(rt, podID)
		if err != nil {
			return err
		}
		for _, c := range pi.Members {
			if c.Config.IsInfra {
				netns = c.State.NetNS
				if netns == "" && c.State.Pid > 0 {
					netns = "/proc/" + strconv.Itoa(c.State.Pid) + "/ns/net"
				}
			}
		}
		if netns == "" {
			return fmt.Errorf("sandbox %s has no network namespace: %w", pi.Pod.Config.Name, errdefs.ErrWrongState)
		}
		return nil
	})
	if err != nil {
		return err
	}
	conn, err := dialInNetNS(ctx, netns, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))))
	if err != nil {
		return fmt.Errorf("port %d of the sandbox: %w", port, err)
	}
	defer conn.Close()
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(stream, conn)
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return nil
}

// dialInNetNS connects to addr from inside the network namespace at nsPath: the socket is made
// on a thread moved into the namespace, and belongs to it for good.
func dialInNetNS(ctx context.Context, nsPath, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is not unlocked: if its namespace could not be put back, it must end
		// with this goroutine rather than run others in the sandbox's namespace.
		own, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer own.Close()
		target, err := os.Open(nsPath)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{nil, fmt.Errorf("entering %s: %w", nsPath, err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{conn, err}
	}()
	res := <-ch
	return res.conn, res.err
}

package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// onPty is a command running on a pseudo-terminal of its own (its session's controlling
// terminal, as a shell would give it), typed into and read by the test.
type onPty struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	exited chan struct{}
	code   int
}

// startOnPty starts name args, with env added to the test's environment, on a new terminal;
// it is killed when the test ends, if still running.
func startOnPty(t *testing.T, env []string, name string, args ...string) *onPty {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	p := &onPty{t: t, master: master, exited: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			p.cmd.Process.Kill()
			<-p.exited
		}
		master.Close()
	})
	return p
}

// output is what the terminal showed so far.
func (p *onPty) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// typeKeys types s, as one read for the program.
func (p *onPty) typeKeys(s string) {
	p.t.Helper()
	if _, err := p.master.Write([]byte(s)); err != nil {
		p.t.Fatalf("typing %q: %v", s, err)
	}
}

// waitFor waits until the terminal showed want.
func (p *onPty) waitFor(want string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.output(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal never showed %q; it showed %q", want, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRaw waits until the program put the terminal in raw mode (it relays keys as typed).
func (p *onPty) waitRaw() {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// On a pty's master, TCGETS reads the terminal's (the slave's) settings.
		tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		if err == nil && tio.Lflag&unix.ICANON == 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal never went raw (%v); it showed %q", err, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exit waits (at most d) for the program to exit and returns its exit code.
func (p *onPty) exit(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(d):
		p.t.Fatalf("still running after %v; the terminal showed %q", d, p.output())
		return -1
	}
}

// odCommand is a container command that shows each byte it reads, in hex on a line of its
// own, on a raw terminal (every key reaches it as typed: no line editing, signals or flow
// control); "ready" once it reads.
const odCommand = "stty raw -echo; echo ready; exec od -An -tx1 -w1 -v"

// sawBytes reports whether out shows the bytes of s, in order, one od line each.
func sawBytes(out, s string) bool {
	var lines []string
	for _, b := range []byte(s) {
		lines = append(lines, fmt.Sprintf(" %02x", b))
	}
	return strings.Contains(strings.ReplaceAll(out, "\r", ""), strings.Join(lines, "\n")+"\n")
}

// waitBytes waits until the terminal showed the container read s.
func (p *onPty) waitBytes(s string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !sawBytes(p.output(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the container never showed it read %q; the terminal showed %q", s, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// peaOnPty runs pea on e's store on a terminal of its own.
func (e *Env) peaOnPty(args ...string) *onPty {
	e.t.Helper()
	return startOnPty(e.t, nil, peaBin, e.args(args...)...)
}

// running reports whether the container runs.
func (e *Env) running(name string) bool {
	e.t.Helper()
	return e.Pea("inspect", "--format", "{{.State.Running}}", name) == "true"
}

// detachAndCheck types the keys that detach (in pieces, each its own read), and requires pea to
// exit 0 at once with the container still running.
func (e *Env) detachAndCheck(p *onPty, name string, pieces ...string) {
	e.t.Helper()
	for i, k := range pieces {
		if i > 0 {
			time.Sleep(100 * time.Millisecond)
		}
		p.typeKeys(k)
	}
	if code := p.exit(5 * time.Second); code != 0 {
		e.t.Fatalf("detaching: exit %d; the terminal showed %q", code, p.output())
	}
	if !e.running(name) {
		e.t.Fatalf("%s stopped when the client detached", name)
	}
}

// TestDetachRunAttachStart: ctrl-p,ctrl-q typed on run -it, attach and start -ai leaves the
// container running and pea exiting 0 at once; what was typed before reached the container, a
// sequence begun and not finished is passed on, and a later attach still types into it.
func TestDetachRunAttachStart(t *testing.T) {
	e := newEnv(t).withBusybox()
	p := e.peaOnPty("run", "-it", "--name", "c", "localhost/bb", "sh", "-c", odCommand)
	p.waitFor("ready")
	p.typeKeys("ab")
	p.waitBytes("ab")
	p.typeKeys("\x10") // ctrl-p, held back until the next key tells
	time.Sleep(100 * time.Millisecond)
	if sawBytes(p.output(), "\x10") {
		t.Fatalf("ctrl-p alone was passed on at once: %q", p.output())
	}
	p.typeKeys("x")
	p.waitBytes("ab\x10x")
	// A repeated ctrl-p: the first goes through, the second begins the sequence.
	e.detachAndCheck(p, "c", "\x10\x10\x11")
	if out := p.output(); !strings.HasSuffix(out, " 78\n") && !strings.HasSuffix(out, " 10\n") {
		t.Fatalf("run -it printed something on detaching: %q", out)
	}
	// What the container read, in its log: the first ctrl-p, and nothing of the sequence.
	eventually(t, 5*time.Second, func() error {
		if out := e.Pea("logs", "c"); !sawBytes(out+"\n", "ab\x10x\x10") || sawBytes(out+"\n", "\x11") {
			return fmt.Errorf("run -it: the container read %q", out)
		}
		return nil
	})

	// attach, the sequence split across reads; podman's attach ends the line when it leaves.
	a := e.peaOnPty("attach", "c")
	a.waitRaw()
	a.typeKeys("cd")
	a.waitBytes("cd")
	e.detachAndCheck(a, "c", "\x10", "\x11")
	if out := a.output(); !strings.HasSuffix(out, " 64\n\r\n") {
		t.Fatalf("attach: %q", out)
	}

	// start -ai of a created container.
	e.Pea("create", "-it", "--name", "s", "localhost/bb", "sh", "-c", odCommand)
	s := e.peaOnPty("start", "-ai", "s")
	s.waitFor("ready")
	s.typeKeys("ef\x10y")
	s.waitBytes("ef\x10y")
	e.detachAndCheck(s, "s", "\x10\x11")

	// Both containers still read their terminal.
	a = e.peaOnPty("attach", "s")
	a.waitRaw()
	a.typeKeys("gh")
	a.waitBytes("gh")
	e.detachAndCheck(a, "s", "\x10\x11")

	// A detached --rm container is removed when it exits, by its cleanup.
	r := e.peaOnPty("run", "-it", "--rm", "--name", "r", "localhost/bb", "sh", "-c", "stty raw -echo; echo ready; read x; exit 0")
	r.waitFor("ready")
	e.detachAndCheck(r, "r", "\x10\x11")
	a = e.peaOnPty("attach", "r")
	a.waitRaw()
	a.typeKeys("\n")
	if code := a.exit(10 * time.Second); code != 0 {
		t.Fatalf("attach to the --rm container: exit %d, %q", code, a.output())
	}
	eventually(t, 10*time.Second, func() error {
		if r := e.Try("inspect", "r"); r.Code == 0 {
			return fmt.Errorf("the detached --rm container is still there after its exit")
		}
		return nil
	})
}

// TestDetachExec: exec -it detaches as podman 5.4 does (4.3 waited 5 s for an exit file that
// never came and exited 255): pea exits 0 at once, the process goes on with its terminal.
func TestDetachExec(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--name", "c", "localhost/bb", "sleep", "300")
	p := e.peaOnPty("exec", "-it", "c", "sh", "-c", odCommand)
	p.waitFor("ready")
	p.typeKeys("ab")
	p.waitBytes("ab")
	p.typeKeys("\x10")
	time.Sleep(100 * time.Millisecond)
	p.typeKeys("z")
	p.waitBytes("ab\x10z")
	e.detachAndCheck(p, "c", "\x10", "\x11")
	// The process outlives pea, and keeps its terminal: a hang-up would have ended it.
	time.Sleep(500 * time.Millisecond)
	if ps := e.Pea("exec", "c", "ps", "-o", "pid,args"); !strings.Contains(ps, "od -An") {
		t.Fatalf("the exec'd process ended with the detach:\n%s", ps)
	}
	// Its output is drained: a process that writes much once detached is not blocked by a
	// full terminal.
	p = e.peaOnPty("exec", "-it", "c", "sh", "-c",
		"echo ready; while [ ! -e /tmp/go ]; do sleep 0.1; done; seq 1 200000; touch /tmp/wrote; sleep 300")
	p.waitFor("ready")
	p.waitRaw()
	e.detachAndCheck(p, "c", "\x10\x11")
	e.Pea("exec", "c", "touch", "/tmp/go")
	eventually(t, 15*time.Second, func() error {
		if r := e.Try("exec", "c", "test", "-e", "/tmp/wrote"); r.Code != 0 {
			return fmt.Errorf("the detached process has not written its output")
		}
		return nil
	})
}

// TestDetachKeysCustomAndDisabled: --detach-keys ctrl-a,x replaces the default (which then
// passes through); "" disables detaching altogether.
func TestDetachKeysCustomAndDisabled(t *testing.T) {
	e := newEnv(t).withBusybox()
	p := e.peaOnPty("run", "-it", "--detach-keys", "ctrl-a,x", "--name", "c", "localhost/bb", "sh", "-c", odCommand)
	p.waitFor("ready")
	p.typeKeys("\x10\x11")
	p.waitBytes("\x10\x11")
	p.typeKeys("\x01")
	time.Sleep(100 * time.Millisecond)
	p.typeKeys("y")
	p.waitBytes("\x10\x11\x01y")
	e.detachAndCheck(p, "c", "\x01", "x")

	// Disabled: the keys reach the container, which ends after four bytes; pea with it.
	p = e.peaOnPty("run", "-it", "--detach-keys", "", "--name", "d", "localhost/bb", "sh", "-c",
		"stty raw -echo; echo ready; head -c 4 | od -An -tx1 -w1 -v")
	p.waitFor("ready")
	p.typeKeys("\x10\x11")
	time.Sleep(100 * time.Millisecond)
	p.typeKeys("\x10\x11")
	if code := p.exit(10 * time.Second); code != 0 {
		t.Fatalf("run --detach-keys '': exit %d, %q", code, p.output())
	}
	if !sawBytes(p.output(), "\x10\x11\x10\x11") || e.running("d") {
		t.Fatalf("run --detach-keys '': %q", p.output())
	}

	// attach and start take it too.
	e.Pea("create", "-it", "--name", "s", "localhost/bb", "sh", "-c", odCommand)
	s := e.peaOnPty("start", "-ai", "--detach-keys", "ctrl-]", "s")
	s.waitFor("ready")
	e.detachAndCheck(s, "s", "\x1d")
	a := e.peaOnPty("attach", "--detach-keys", "q", "s")
	a.waitRaw()
	a.typeKeys("\x10\x11")
	a.waitBytes("\x10\x11")
	e.detachAndCheck(a, "s", "q")
}

// TestDetachKeysInvalid: a sequence that is not one is one line of error and exit 125, with
// nothing made or started.
func TestDetachKeysInvalid(t *testing.T) {
	e := newEnv(t).withBusybox()
	for _, keys := range []string{"ab", "ctrl-", "ctrl-1", "ctrl-P", "ctrl-p,", ","} {
		r := e.Fails(125, "run", "-it", "--detach-keys", keys, "--name", "bad", "localhost/bb", "true")
		if lines := strings.Split(strings.TrimSpace(r.Stderr), "\n"); len(lines) != 1 || !strings.Contains(r.Stderr, "detach keys") {
			t.Fatalf("run --detach-keys %q: %q", keys, r.Stderr)
		}
	}
	e.Fails(125, "run", "-d", "--detach-keys", "ctrl-1", "--name", "bad", "localhost/bb", "true")
	if out := e.Pea("ps", "-a", "-q"); out != "" {
		t.Fatalf("a run with bad detach keys left containers: %q", out)
	}
	e.Pea("run", "-d", "-t", "--name", "c", "localhost/bb", "sleep", "300")
	e.Fails(125, "attach", "--detach-keys", "ab", "c")
	e.Fails(255, "exec", "-it", "--detach-keys", "ab", "c", "true") // podman's exec: 255
	e.Pea("create", "-it", "--name", "s", "localhost/bb", "true")
	e.Fails(125, "start", "-ai", "--detach-keys", "ab", "s")
	if st := e.Pea("inspect", "--format", "{{.State.Status}}", "s"); st != "created" {
		t.Fatalf("start -ai with bad detach keys started the container: %s", st)
	}
}

// TestRunAttachStreams: run -a names the streams a foreground run shows; stdin goes with -i
// alone, and a run that attaches nothing runs in the background.
func TestRunAttachStreams(t *testing.T) {
	e := newEnv(t).withBusybox()
	script := "echo out; echo err >&2; cat; echo done"
	for _, tc := range []struct {
		args           []string
		stdout, stderr string
	}{
		{[]string{"-a", "stdout"}, "out\ndone\n", ""},
		{[]string{"-a", "stderr"}, "", "err\n"},
		{[]string{"-a", "STDOUT", "-a", "stderr"}, "out\ndone\n", "err\n"},
		{[]string{"-a", "stdout,stderr"}, "out\ndone\n", "err\n"},
		{[]string{"-a", "stdin", "-a", "stdout"}, "out\ndone\n", ""}, // no -i: no input
		{[]string{"-i", "-a", "stdout"}, "out\nIN\ndone\n", ""},
		{[]string{"-i"}, "out\nIN\ndone\n", "err\n"},
	} {
		args := append(append([]string{"run", "--rm"}, tc.args...), "localhost/bb", "sh", "-c", script)
		r := e.PeaIn("IN\n", args...)
		if r.Code != 0 || r.Stdout != tc.stdout || r.Stderr != tc.stderr {
			t.Errorf("pea %s: %s", strings.Join(tc.args, " "), r)
		}
	}
	// Only stdin named, without -i: nothing attached, the container runs in the background.
	r := e.PeaIn("IN\n", "run", "-a", "stdin", "--name", "bg", "localhost/bb", "sh", "-c", "sleep 1; echo ran")
	if r.Code != 0 || len(strings.TrimSpace(r.Stdout)) != 64 {
		t.Fatalf("run -a stdin: %s", r)
	}
	e.Pea("wait", "bg")
	if out := e.Pea("logs", "bg"); out != "ran" {
		t.Fatalf("run -a stdin: logs %q", out)
	}
	r = e.Fails(125, "run", "-a", "foo", "--name", "bad", "localhost/bb", "true")
	if !strings.Contains(r.Stderr, `invalid stream "foo"`) {
		t.Fatalf("run -a foo: %s", r)
	}
	if r := e.Try("inspect", "bad"); r.Code == 0 {
		t.Fatalf("run -a foo left a container")
	}
}

// hijackRaw sends a request whose answer becomes a raw stream (attach, exec start) and
// returns the connection and a reader past the answer's head; the head's status line is
// returned too.
func hijackRaw(t *testing.T, sock, method, path, body string) (net.Conn, *bufio.Reader, string) {
	t.Helper()
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: pea\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", method, path, len(body), body)
	br := bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	return conn, br, status
}

// readUntil reads the stream until it showed the container read s (see sawBytes).
func readUntil(t *testing.T, conn net.Conn, br *bufio.Reader, s string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	for !sawBytes(string(got), s) {
		b := make([]byte, 256)
		n, err := br.Read(b)
		got = append(got, b[:n]...)
		if err != nil {
			t.Fatalf("the stream never showed %q: %q %v", s, got, err)
		}
	}
}

// streamEnds requires the service to end the stream (the client detached) within a few seconds.
func streamEnds(t *testing.T, conn net.Conn, br *bufio.Reader) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("the stream did not end on the detach keys: %v", err)
	}
}

// TestAPIDetachKeys: the API's attach (?detachKeys=) and exec (DetachKeys) end a terminal
// client's stream when it types the keys (ctrl-p,ctrl-q by default), the container or process
// going on; bad keys are a 400. The docker client detaches from docker run -it.
func TestAPIDetachKeys(t *testing.T) {
	a := newAPIEnv(t)
	a.Pea("run", "-d", "-it", "--name", "c", "localhost/bb", "sh", "-c", odCommand)
	conn, br, status := hijackRaw(t, a.Sock, "POST", "/v1.41/containers/c/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x", "")
	if !strings.Contains(status, "101") {
		t.Fatalf("attach: %q", status)
	}
	conn.Write([]byte("ab\x01y\x10\x11"))
	readUntil(t, conn, br, "ab\x01y\x10\x11")
	conn.Write([]byte("\x01"))
	time.Sleep(100 * time.Millisecond)
	conn.Write([]byte("x"))
	streamEnds(t, conn, br)
	if !a.running("c") {
		t.Fatal("the container stopped when the attached client detached")
	}
	// The default sequence; then the container still reads a later client's input.
	conn, br, _ = hijackRaw(t, a.Sock, "POST", "/v1.41/containers/c/attach?stream=1&stdin=1&stdout=1", "")
	conn.Write([]byte("cd\x10\x11"))
	streamEnds(t, conn, br)
	conn, br, _ = hijackRaw(t, a.Sock, "POST", "/v1.41/containers/c/attach?stream=1&stdin=1&stdout=1", "")
	conn.Write([]byte("ef"))
	readUntil(t, conn, br, "ef")
	conn.Close()
	if code, body := a.Request("POST", "/v1.41/containers/c/attach?stream=1&stdin=1&detachKeys=ctrl-1", nil); code != 400 || !strings.Contains(string(body), "detach keys") {
		t.Fatalf("attach with bad keys: %d %s", code, body)
	}

	// exec: the process goes on, and its session says it runs.
	if code, body := a.Request("POST", "/v1.41/containers/c/exec", map[string]any{"Cmd": []string{"true"}, "DetachKeys": "ab"}); code != 400 {
		t.Fatalf("exec with bad keys: %d %s", code, body)
	}
	var created struct{ Id string }
	a.RequestJSON("POST", "/v1.41/containers/c/exec", map[string]any{"Cmd": []string{"sh", "-c", odCommand},
		"Tty": true, "AttachStdin": true, "AttachStdout": true, "DetachKeys": "ctrl-a,x"}, 201, &created)
	conn, br, status = hijackRaw(t, a.Sock, "POST", "/v1.41/exec/"+created.Id+"/start", `{"Tty":true}`)
	if !strings.Contains(status, "101") {
		t.Fatalf("exec start: %q", status)
	}
	conn.Write([]byte("gh\x01"))
	time.Sleep(100 * time.Millisecond)
	conn.Write([]byte("z"))
	readUntil(t, conn, br, "gh\x01z")
	conn.Write([]byte("\x01x"))
	streamEnds(t, conn, br)
	var inspect struct{ Running bool }
	a.RequestJSON("GET", "/v1.41/exec/"+created.Id+"/json", nil, 200, &inspect)
	if !inspect.Running {
		t.Fatal("the exec'd process ended when its client detached")
	}

	// The docker client: run -it, typed into after more than a second (an attach taken by its
	// start used to lose its stream then), detached with ctrl-p,ctrl-q.
	p := startOnPty(t, []string{"DOCKER_HOST=unix://" + a.Sock, "DOCKER_CONFIG=" + a.config},
		a.docker, "run", "-it", "--name", "d", "--network", "none", "localhost/bb", "sh", "-c", odCommand)
	p.waitFor("ready")
	time.Sleep(1500 * time.Millisecond)
	p.typeKeys("ij")
	p.waitBytes("ij")
	a.detachAndCheck(p, "d", "\x10", "\x11")
}

// exec -it of a command that is not there exits 127, and of a file that cannot run 126, as
// without a terminal (regression: the runtime's message went to the terminal, and pea passed
// on the runtime's own 255); a command that exits 255 itself keeps its code.
func TestExecTerminalCommandNotFound(t *testing.T) {
	e := newEnv(t).withBusybox()
	e.Pea("run", "-d", "--network", "none", "--name", "c", "localhost/bb", "sleep", "300")
	for _, c := range []struct {
		cmd  []string
		want int
	}{{[]string{"nosuch"}, 127}, {[]string{"/etc/passwd"}, 126}, {[]string{"sh", "-c", "exit 255"}, 255}, {[]string{"true"}, 0}} {
		p := e.peaOnPty(append([]string{"exec", "-it", "c"}, c.cmd...)...)
		if code := p.exit(10 * time.Second); code != c.want {
			t.Errorf("exec -it %v: exit %d, want %d; the terminal showed %q", c.cmd, code, c.want, p.output())
		}
	}
}

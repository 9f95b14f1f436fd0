// Package oci drives the OCI runtime (crun by default) under conmon, and holds pea's security
// defaults (capabilities, seccomp, masked paths, mounts, rlimits) for the specs it writes.
//
// Per container, under the bundle directory (in the runroot):
//
//	config.json      the OCI spec
//	pidfile          the container's PID, written by the runtime
//	conmon.pid       conmon's PID
//	attach           conmon's attach socket (stdio), ctl and winsz fifos (terminal resize)
//
// and under the exit directory: <id>, holding the exit code once the container exited.
// The runtime's own state lives under its --root, also in the runroot.
package oci

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/trace"
)

// Runtime runs containers with an OCI runtime under conmon.
type Runtime struct {
	Path       string // the OCI runtime binary (crun)
	ConmonPath string
	StateDir   string // the runtime's --root
	ExitDir    string
	LogLevel   string
	// GlobalArgs go before the runtime's command, after its --root (pea --runtime-flag).
	GlobalArgs []string
}

// RuntimeFlags turns --runtime-flag values (podman's: without the leading "--") into the
// runtime's arguments.
func RuntimeFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if !strings.HasPrefix(f, "-") {
			f = "--" + f
		}
		out = append(out, f)
	}
	return out
}

// FindBinary locates name in PATH or the usual libexec places.
func FindBinary(name string, extra ...string) (string, error) {
	if strings.Contains(name, "/") {
		if _, err := os.Stat(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, errdefs.ErrNotFound)
		}
		return name, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range append(extra, "/usr/libexec/podman", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/libexec/podman") {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found in $PATH; install it (apt-get install %s): %w", name, name, errdefs.ErrNotFound)
}

// CreateOptions describe one container for conmon.
type CreateOptions struct {
	ID          string
	Name        string
	Bundle      string
	LogPath     string
	Terminal    bool
	Stdin       bool
	KeepStdin   bool     // the end of an attached client's input leaves the container's stdin open
	ExitCommand []string // the command conmon runs after the container exits
	NoSyncLog   bool     // conmon does not fsync the log when the container exits
	// LogDriver is conmon's log driver: "" (k8s-file), none, journald, or passthrough, which
	// gives the container conmon's own stdio: that of the process calling Launch.
	LogDriver string
	// Timeout has conmon kill the container after that many seconds (0: never).
	Timeout uint
	// RuntimeArgs are further global options of the runtime for this container.
	RuntimeArgs []string
	// LogSizeMax starts the log file anew past that size (0: no limit); LogTag tags
	// journald's entries.
	LogSizeMax int64
	LogTag     string
	// PreserveFDs passes the caller's fds 3 to 3+N-1 on to the container's process.
	PreserveFDs int
}

// AttachSocket is the path of a container's attach socket.
func AttachSocket(bundle string) string { return filepath.Join(bundle, "attach") }

// CtlFifo is the path of conmon's control fifo (terminal resize).
func CtlFifo(bundle string) string { return filepath.Join(bundle, "ctl") }

// Create starts conmon, which creates the container with the runtime and then monitors it. It
// returns once the container exists (created, not started) with its PID and conmon's PID. A
// failure of the runtime (for instance an executable that is not found) is returned with the
// runtime's message, as an *errdefs.ExitError carrying 126 or 127 where podman would.
func (r *Runtime) Create(o CreateOptions) (pid, conmonPid int, err error) {
	l, err := r.Launch(o)
	if err != nil {
		return 0, 0, err
	}
	return l.Create()
}

// Launched is a conmon started by Launch, waiting for the word to create its container.
type Launched struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	syncR  *os.File // conmon's answers: the container's PID, or the runtime's error
	startW *os.File // a write lets conmon go on (its start pipe)
	bundle string
	done   bool
}

// Launch starts conmon for a container whose bundle may not be complete yet: conmon's start-up
// (a program linked against glib and libsystemd, ~2 ms before it runs the runtime) goes on while
// the caller mounts the root filesystem and writes the spec, and conmon then waits on its start
// pipe, before it forks anything. Create lets it go on; Abort ends it.
func (r *Runtime) Launch(o CreateOptions) (*Launched, error) {
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	startR, startW, err := os.Pipe()
	if err != nil {
		syncR.Close()
		syncW.Close()
		return nil, err
	}
	args := []string{
		"--api-version", "1",
		"-c", o.ID, "-u", o.ID, "-n", o.Name,
		"-r", r.Executable(),
		"-b", o.Bundle,
		"-p", filepath.Join(o.Bundle, "pidfile"),
		"--conmon-pidfile", filepath.Join(o.Bundle, "conmon.pid"),
		"--exit-dir", r.ExitDir,
		"--socket-dir-path", filepath.Join(r.StateDir, "..", "socket"),
		"--full-attach",
		"-l", logDriver(o.LogDriver) + ":" + o.LogPath,
		"--log-level", conmonLevel(r.LogLevel),
		"--runtime-arg", "--root=" + r.StateDir,
	}
	for _, a := range r.GlobalArgs {
		args = append(args, "--runtime-arg", a)
	}
	if o.Terminal {
		args = append(args, "-t")
	}
	// A terminal's input is the master, written whatever the flag; with it, conmon stops passing
	// input on once one attached client's ends (or detaches): no later attach could type.
	if o.Stdin && !o.Terminal {
		args = append(args, "-i")
		if o.KeepStdin {
			args = append(args, "--leave-stdin-open")
		}
	}
	if o.LogSizeMax > 0 {
		args = append(args, "--log-size-max", strconv.FormatInt(o.LogSizeMax, 10))
	}
	if o.LogTag != "" {
		args = append(args, "--log-tag", o.LogTag)
	}
	for _, a := range o.RuntimeArgs {
		args = append(args, "--runtime-arg", a)
	}
	if o.Timeout > 0 {
		args = append(args, "--timeout", strconv.FormatUint(uint64(o.Timeout), 10))
	}
	if o.NoSyncLog {
		args = append(args, "--no-sync-log")
	}
	if len(o.ExitCommand) > 0 {
		args = append(args, "--exit-command", o.ExitCommand[0])
		for _, a := range o.ExitCommand[1:] {
			args = append(args, "--exit-command-arg", a)
		}
	}
	if o.PreserveFDs > 0 {
		args = append(args, "--runtime-opt", "--preserve-fds="+strconv.Itoa(o.PreserveFDs))
	}
	slog.Debug("starting conmon", "path", r.ConmonPath, "args", strings.Join(args, " "))
	cmd := cpupin.Command(r.ConmonPath, args...)
	cmd.Dir = o.Bundle
	// Not NOTIFY_SOCKET: conmon and the runtime would take systemd's socket as theirs; the
	// engine gives it to the container itself when asked (--sdnotify container).
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=") })
	// The caller's fds 3.. that the container keeps (--preserve-fds) come first, at the same
	// numbers; conmon's pipes follow them.
	for fd := 3; fd < 3+o.PreserveFDs; fd++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), "preserved"))
	}
	cmd.Env = append(append(env, "_OCI_SYNCPIPE="+strconv.Itoa(3+o.PreserveFDs), "_OCI_STARTPIPE="+strconv.Itoa(4+o.PreserveFDs)), r.ExecEnv()...)
	cmd.ExtraFiles = append(cmd.ExtraFiles, syncW, startR)
	l := &Launched{cmd: cmd, stderr: &bytes.Buffer{}, syncR: syncR, startW: startW, bundle: o.Bundle}
	cmd.Stderr = l.stderr
	if o.LogDriver == "passthrough" {
		// The container's stdio is conmon's: the caller's own, passed as files (no pipe that
		// would keep Wait until the container ends).
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	trace.Mark("conmon: forking")
	err = cpupin.Start(cmd)
	syncW.Close()
	startR.Close()
	if err != nil {
		syncR.Close()
		startW.Close()
		return nil, fmt.Errorf("start conmon: %w", err)
	}
	return l, nil
}

// Create lets the launched conmon create the container (the bundle must be complete) and
// returns like Runtime.Create.
func (l *Launched) Create() (pid, conmonPid int, err error) {
	if l.done {
		return 0, 0, errors.New("conmon: already told to create its container")
	}
	l.done = true
	defer l.syncR.Close()
	_, werr := l.startW.Write([]byte{0})
	l.startW.Close()
	// conmon forks and its first process exits; the monitor lives on, re-parented.
	waitErr := l.cmd.Wait()
	trace.Mark("conmon: first process exited")
	if werr != nil && waitErr == nil {
		waitErr = werr
	}

	var msg struct {
		Data    int    `json:"data"`
		Message string `json:"message"`
	}
	dec := json.NewDecoder(l.syncR)
	if derr := dec.Decode(&msg); derr != nil {
		if waitErr != nil {
			return 0, 0, fmt.Errorf("conmon failed: %v: %s", waitErr, strings.TrimSpace(l.stderr.String()))
		}
		return 0, 0, fmt.Errorf("conmon: no answer on the sync pipe: %v", derr)
	}
	if msg.Data <= 0 {
		return 0, 0, runtimeError(msg.Message)
	}
	trace.Mark("conmon: the runtime created the container")
	return msg.Data, ConmonPID(l.bundle), nil
}

// ConmonPID is the PID of the conmon last launched for the bundle (0: none recorded). It may
// have ended since, and the PID been reused.
func ConmonPID(bundle string) int {
	b, err := fsx.ReadFile(filepath.Join(bundle, "conmon.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// Abort ends a launched conmon that was not told to create its container: it is still pea's
// child, blocked on its start pipe before it forked anything, so nothing of it is left. It does
// nothing after Create.
func (l *Launched) Abort() {
	if l.done {
		return
	}
	l.done = true
	l.cmd.Process.Kill()
	l.startW.Close()
	l.cmd.Wait()
	l.syncR.Close()
}

// runtimeError turns the runtime's message into podman's exit codes: 127 for a command that is
// not found, 126 for one that cannot be invoked (permission denied, or not permitted). The
// docker client takes its exit code from the same words.
func runtimeError(msg string) error {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		msg = "the OCI runtime failed to create the container"
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "executable file") && strings.Contains(low, "not found"),
		strings.Contains(low, "no such file or directory") && (strings.Contains(low, "exec") || strings.Contains(low, "stat")):
		return &errdefs.ExitError{Code: 127, Err: errors.New(msg + ": OCI runtime attempted to invoke a command that was not found")}
	case strings.Contains(low, "permission denied"),
		strings.Contains(low, "operation not permitted") && strings.Contains(low, "executable"): // a directory
		return &errdefs.ExitError{Code: 126, Err: errors.New(msg + ": OCI permission denied")}
	}
	return errors.New(msg)
}

func conmonLevel(l string) string {
	switch l {
	case "debug", "info", "warn", "error", "fatal", "trace":
		if l == "warn" {
			return "warning"
		}
		return l
	}
	return "error"
}

// isCrun reports whether the runtime is crun, whose state files, exec fifo, seccomp annotation
// and self-copying pea knows (see Start, Delete, SeccompKey, Executable).
func (r *Runtime) isCrun() bool { return filepath.Base(r.Path) == "crun" }

// ErrorLogArgs are the runtime's global options that make it write its own errors, as JSON
// lines, to the file at path besides its standard error (crun's and runc's --log and
// --log-format), or none for a runtime not known to have them. The file tells the runtime's
// failures from what the process it runs writes on the same standard error.
func (r *Runtime) ErrorLogArgs(path string) []string {
	switch filepath.Base(r.Path) {
	case "crun", "runc":
		return []string{"--log=" + path, "--log-format=json"}
	}
	return nil
}

// ErrorLogMessages are the error messages of a runtime's JSON log (ErrorLogArgs).
func ErrorLogMessages(data []byte) []string {
	var out []string
	for _, line := range bytes.Split(data, []byte("\n")) {
		var e struct {
			Msg   string `json:"msg"`
			Level string `json:"level"`
		}
		if json.Unmarshal(line, &e) == nil && e.Msg != "" && (e.Level == "error" || e.Level == "fatal") {
			out = append(out, e.Msg)
		}
	}
	return out
}

// RuntimeErrorCode is podman's exit code for an OCI runtime failure with message msg: 126 for
// a command that cannot be invoked (permission denied, operation not permitted), 127 for one
// that is not there (an executable, a directory: no such file or directory), 0 for neither.
func RuntimeErrorCode(msg string) int {
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "permission denied"), strings.Contains(low, "operation not permitted"):
		return 126
	case strings.Contains(low, "executable file") && strings.Contains(low, "not found"),
		strings.Contains(low, "no such file or directory"):
		return 127
	}
	return 0
}

// Command is the runtime run with args (after its --root): from Executable, with ExecEnv.
func (r *Runtime) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append(append([]string{"--root=" + r.StateDir}, r.GlobalArgs...), args...)
	slog.Debug("running the OCI runtime", "path", r.Path, "args", strings.Join(full, " "))
	cmd := cpupin.CommandContext(ctx, r.Executable(), full...)
	if env := r.ExecEnv(); len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	return cmd
}

func (r *Runtime) run(args ...string) error {
	out, err := r.Command(context.Background(), args...).CombinedOutput()
	if err != nil {
		m := strings.TrimSpace(string(out))
		if m == "" {
			m = err.Error()
		}
		return fmt.Errorf("%s %s: %s", filepath.Base(r.Path), args[0], m)
	}
	return nil
}

// Start starts a created container.
//
// With crun, pea does what `crun start` does itself: the created container's init process waits
// for a byte on the exec.fifo in crun's state directory, and crun start opens the fifo, removes
// it and writes the byte. That spares a process (crun, its dynamic libraries and its re-exec from
// a sealed copy of itself: 4-5 ms here, a tenth of a `run --rm`). A spec with poststart hooks
// (OCI hook files) goes to crun start, which runs them; pea's specs have no notify socket, the
// other thing crun start handles. Anything unexpected (not
// crun, no fifo, no reader because the init died) goes to `crun start` and its errors.
func (r *Runtime) Start(id string) error {
	if !r.hasHook(id, "poststart") && r.releaseExecFifo(id) {
		return nil
	}
	return r.run("start", id)
}

// hasHook reports whether the container's spec (crun's copy) has hooks of stage, which crun
// start and delete run and pea's shortcuts around them do not.
func (r *Runtime) hasHook(id, stage string) bool {
	if !r.isCrun() || strings.ContainsAny(id, "/") {
		return true
	}
	cfg, err := fsx.ReadFile(filepath.Join(r.StateDir, id, "config.json"))
	return err != nil || bytes.Contains(cfg, []byte(`"`+stage+`"`))
}

// releaseExecFifo lets crun's created container run, and reports whether it did.
func (r *Runtime) releaseExecFifo(id string) bool {
	if !r.isCrun() {
		return false
	}
	path := filepath.Join(r.StateDir, id, "exec.fifo")
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		return false
	}
	// Non-blocking: with no reader (the init is gone) the open fails at once with ENXIO.
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	if err := unix.Unlink(path); err != nil {
		return false
	}
	n, err := unix.Write(fd, []byte{0})
	return err == nil && n == 1
}

// Kill sends sig to the container's init process, or with all to every process in it.
func (r *Runtime) Kill(id string, sig syscall.Signal, all bool) error {
	if all {
		return r.run("kill", "--all", id, strconv.Itoa(int(sig)))
	}
	return r.run("kill", id, strconv.Itoa(int(sig)))
}

// Delete removes the runtime's state of a stopped container (and its cgroup).
//
// With crun, pea does what `crun delete` does for a container whose processes have all ended
// (see deleteEnded), sparing a process that costs ~5 ms (its dynamic libraries, then its
// re-exec from a sealed copy of itself) at the end of every container's life.
func (r *Runtime) Delete(id string, force bool) error {
	if r.deleteEnded(id) {
		trace.Mark("runtime: state and cgroup removed without crun")
		return nil
	}
	if force {
		return r.run("delete", "--force", id)
	}
	return r.run("delete", id)
}

// crunStatus is the part of crun's state file (status in the container's state directory) that
// deleteEnded needs.
type crunStatus struct {
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"process-start-time"`
	Cgroup    string `json:"cgroup-path"`
	Systemd   bool   `json:"systemd-cgroup"`
	Scope     string `json:"scope"`
}

// deleteEnded removes a crun container's state directory and cgroup itself when its init
// process has ended, and reports whether it did. That is all `crun delete` does for such a
// container when it has no poststop hooks (no OCI hook file gave it any) and a cgroupfs cgroup (pea
// uses no other manager). A living init (or one whose PID now names another process with the
// same start time, which crun would take for it), a systemd cgroup, hooks, a cgroup that still
// has processes or any unexpected state leave the work to `crun delete` and its errors.
func (r *Runtime) deleteEnded(id string) bool {
	if !r.isCrun() || id == "" || strings.ContainsAny(id, "/.") {
		return false
	}
	dir := filepath.Join(r.StateDir, id)
	raw, err := fsx.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return false
	}
	var st crunStatus
	if json.Unmarshal(raw, &st) != nil || st.Pid <= 0 || st.Systemd || st.Scope != "" || st.Cgroup == "" {
		return false
	}
	if processStarted(st.Pid, st.StartTime) {
		return false
	}
	if r.hasHook(id, "poststop") {
		return false
	}
	if err := cgroups.Remove(st.Cgroup); err != nil {
		return false
	}
	return os.RemoveAll(dir) == nil
}

// processStarted reports whether process pid exists, has not ended (a zombie, not reaped yet,
// has: crun too takes it as stopped) and started at startTime (clock ticks after boot, field 22
// of /proc/<pid>/stat, as crun records it).
func processStarted(pid int, startTime uint64) bool {
	f, ok := fsx.ProcStat(pid)
	if !ok {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		return err == nil // there, but unreadable: take it as alive, crun decides
	}
	if f[0] == "Z" || f[0] == "X" {
		return false
	}
	t, err := strconv.ParseUint(f[22-3], 10, 64)
	return err != nil || t == startTime
}

// Pause freezes the container.
func (r *Runtime) Pause(id string) error { return r.run("pause", id) }

// Resume thaws the container.
func (r *Runtime) Resume(id string) error { return r.run("resume", id) }

// Exists reports whether the runtime knows the container.
func (r *Runtime) Exists(id string) bool {
	_, err := os.Stat(filepath.Join(r.StateDir, id))
	return err == nil
}

// The exit-file wait checks every exitPollFine for its first exitPollFineFor.
const (
	exitPollFine    = 100 * time.Microsecond
	exitPollFineFor = 5 * time.Millisecond
)

// ReadExitCode returns the exit code conmon recorded, and whether it has.
func ReadExitCode(exitDir, id string) (int, bool) {
	b, err := fsx.ReadFile(filepath.Join(exitDir, id))
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, false
	}
	return n, true
}

// WaitExitCode returns the exit code conmon recorded in exitDir under the first of names that
// has one, waiting up to timeout for it. conmon writes the file about a millisecond after the
// container's process ends (it wakes on SIGCHLD, reaps, drains the output), so the wait polls
// every 0.1 ms for the first 5 ms, then less and less often (up to every 2 ms). A doubling
// from the start put the checks at 0.1, 0.3, 0.7 and 1.5 ms: a file written at 0.8 ms was seen
// 0.7 ms late, on the path of every `run` and `stop`.
// inotify was tried and dropped: closing an inotify descriptor waits for an SRCU grace period of
// the kernel, 10-13 ms on this VM, which the command then paid (at close, or at its exit).
func WaitExitCode(exitDir string, names []string, timeout time.Duration) (int, bool) {
	start := time.Now()
	deadline := start.Add(timeout)
	for delay := exitPollFine; ; {
		if time.Since(start) > exitPollFineFor {
			delay = min(2*delay, 2*time.Millisecond)
		}
		for _, n := range names {
			if code, ok := ReadExitCode(exitDir, n); ok {
				return code, true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			return 0, false
		}
		cpupin.Sleep(min(delay, left))
	}
}

// Update gives a running container new cgroup limits: `update --resources FILE` with res as
// the OCI spec's linux.resources JSON.
func (r *Runtime) Update(id string, res []byte) error {
	f, err := os.CreateTemp("", "pea-resources-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(res)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return r.run("update", "--resources", f.Name(), id)
}

// logDriver is the driver part of conmon's -l argument.
func logDriver(d string) string {
	if d == "" {
		return "k8s-file"
	}
	return d
}

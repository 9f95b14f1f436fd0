package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/oci"
	"pea/internal/rootless"
)

// ExecOptions describe a process to run in a running container.
type ExecOptions struct {
	Cmd        []string
	Env        []string
	User       string
	WorkDir    string
	Tty        bool
	Detach     bool
	Privileged bool
	Stdin      io.Reader
	Stdout     io.Writer
	Stderr     io.Writer
	// ConsoleSocket, with Tty, is a unix socket the runtime sends the terminal's master to (as
	// SCM_RIGHTS), for a caller that relays the terminal itself (the API service); without it,
	// a terminal exec uses this process's own standard streams, which must be a terminal.
	ConsoleSocket string
	// DetachKeys, for ExecOnTerminal, is the sequence (see package detach) that, read from the
	// input, detaches: ExecOnTerminal returns detach.ErrDetached at once and the process goes
	// on, its terminal held and drained by a process of its own (this one may exit).
	DetachKeys []byte
	// WaitDelay bounds the wait for the command's output after the runtime ended (or was
	// killed when ctx was done): a process the command left behind may hold the pipes. Zero
	// waits for them.
	WaitDelay time.Duration
	// PreserveFDs passes this process's fds 3 to 3+N-1 on to the process (exec --preserve-fds).
	PreserveFDs int
	// SessionID, when set, names the exec session in the event log: the process's start is
	// logged as podman's exec event and its end as exec_died with the exit code (see
	// exec_events.go). Internal execs (health checks, top's ps) leave it empty.
	SessionID string
}

// Exec runs a process in a running container through the OCI runtime and returns its exit
// code (126 when it cannot be invoked, 127 when it is not found, as podman).
func (r *Runtime) Exec(ctx context.Context, nameOrID string, o ExecOptions) (int, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return 0, err
	}
	return r.execIn(ctx, c, o)
}

// execIn is Exec for a container already read.
func (r *Runtime) execIn(ctx context.Context, c *model.Container, o ExecOptions) (code int, err error) {
	started := false
	defer func() {
		if started && err == nil && !o.Detach {
			r.execDiedEvent(c.Config, o.SessionID, code)
		}
	}()
	warmAttach() // crun exec moves the process into the container's cgroup
	if c.State.Status != model.StatusRunning {
		return 0, fmt.Errorf("can only create exec sessions on running containers: container %s is %s: %w", c.Config.Name, c.State.Status, errdefs.ErrCtrStateInvalid)
	}
	if len(o.Cmd) == 0 {
		return 0, fmt.Errorf("exec needs a command: %w", errdefs.ErrInvalid)
	}
	rt, err := r.ociRuntime()
	if err != nil {
		return 0, err
	}
	if rootless.Active() && c.Config.UserNS().Mode != model.NSModeHost {
		awaitCommand(c.State.Pid, c.Config.ID)
	}
	user := o.User
	if user == "" {
		user = c.Config.User
	}
	root := c.State.MountPoint
	if root == "" {
		root = fmt.Sprintf("/proc/%d/root", c.State.Pid)
	}
	uid, gid, groups, home, err := lookupUser(root, user)
	if err != nil {
		return 0, err
	}
	if o.User == "" {
		// As the container's process: its --group-add groups too, and without the image's
		// groups when it has none of them.
		if c.Config.GroupsStrict {
			groups = nil
		}
		for _, g := range c.Config.GroupAdd {
			if id, err := lookupGroup(root, g); err == nil && !slices.Contains(groups, id) {
				groups = append(groups, id)
			}
		}
	}
	// The runtime's own options; the process is described in a file (below).
	opts := []string{"exec"}
	if o.PreserveFDs > 0 {
		opts = append(opts, "--preserve-fds", strconv.Itoa(o.PreserveFDs))
	}
	if o.Detach {
		opts = append(opts, "--detach")
	}
	if o.Tty && o.ConsoleSocket != "" {
		opts = append(opts, "--console-socket", o.ConsoleSocket)
	}
	env := mergeEnv(c.Config.Env, o.Env)
	if !hasEnv(env, "PATH") {
		env = append(env, defaultPath)
	}
	if !hasEnv(env, "HOME") {
		env = append(env, "HOME="+home)
	}
	if !hasEnv(env, "TERM") { // xterm, terminal or not, as podman's
		env = append(env, "TERM=xterm")
	}
	if !hasEnv(env, "container") {
		env = append(env, "container="+ContainerEnvName)
	}
	wd := o.WorkDir
	if wd == "" {
		wd = c.Config.WorkingDir
	}
	// The process goes to the runtime as a file, always: the container's own process is its
	// base (capabilities, no-new-privileges, rlimits, OOM score), which crun exec's options
	// alone would leave at the runtime's defaults.
	pf, err := r.execProcessFile(c, o, env, wd, uid, gid, groups)
	if err != nil {
		return 0, err
	}
	defer os.Remove(pf)
	// A caller that may give up on the process (a timeout, a client gone) has it killed, not
	// the runtime: killing `crun exec` would leave the process it started running in the
	// container, or dead but not reaped until its new parent there reaps it. The runtime writes
	// the process's pid to a file for that; it reaps the process and returns, or is killed once
	// WaitDelay has passed. Before the file is there, the process has not started: the runtime
	// itself is killed.
	var pidFile string
	if ctx.Done() != nil && !o.Detach {
		pidFile = filepath.Join(r.ctrRunDir(c.Config.ID), "exec-"+newID()[:16]+".pid")
		opts = append(opts, "--pid-file", pidFile)
		defer os.Remove(pidFile)
	}
	args := append(opts, "--process", pf, c.Config.ID)
	// The runtime's own errors also go to a log of their own: its standard error is the
	// process's, whose words must not decide the exit code.
	var errLog string
	if f, err := os.CreateTemp(r.ctrRunDir(c.Config.ID), "exec-*.log"); err == nil {
		errLog = f.Name()
		f.Close()
		defer os.Remove(errLog)
		args = append(rt.ErrorLogArgs(errLog), args...)
	}
	cmd := rt.Command(ctx, args...)
	cmd.WaitDelay = o.WaitDelay
	if pidFile != "" {
		cmd.Cancel = func() error {
			if killExecProcess(pidFile) {
				return nil
			}
			return cmd.Process.Kill()
		}
	}
	for fd := 3; fd < 3+o.PreserveFDs; fd++ {
		cmd.ExtraFiles = append(cmd.ExtraFiles, os.NewFile(uintptr(fd), "preserved"))
	}
	if o.Tty && o.ConsoleSocket != "" {
		// The runtime passes the signals it gets on to the process: out of this process's
		// session, it gets no hang-up when this one (a detached exec -it) exits.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	cmd.Stdin, cmd.Stdout = o.Stdin, o.Stdout
	var errBuf strings.Builder
	cmd.Stderr = io.MultiWriter(o.Stderr, &errBuf)
	if o.Stderr == nil {
		cmd.Stderr = &errBuf
	}
	if o.Tty && o.ConsoleSocket == "" {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	} else if _, isFile := o.Stdin.(*os.File); o.Stdin != nil && !isFile && !o.Detach {
		// Input from a client's connection (the services) goes through a pipe fed here: with
		// the reader itself, exec.Cmd would wait, after the process ended, for the client's
		// next byte or end of input.
		pr, pw, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		go func() {
			io.Copy(pw, o.Stdin)
			pw.Close()
		}()
		defer pw.Close()
		defer pr.Close()
		cmd.Stdin = pr
	}
	var detachedErr *os.File
	if o.Detach {
		// The process outlives the runtime and keeps its standard streams: pipes would make
		// Wait wait for it to end. Its output is dropped, as podman's; the runtime's own
		// errors go to a memory file read back after it returns.
		fd, err := unix.MemfdCreate("pea-exec-stderr", unix.MFD_CLOEXEC)
		if err != nil {
			return 0, err
		}
		detachedErr = os.NewFile(uintptr(fd), "pea-exec-stderr")
		defer detachedErr.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, detachedErr
	}
	// The command inherits the slack of the thread that forks crun (cpupin.Start).
	if err = cpupin.Start(cmd); err == nil {
		started = true
		r.execEvent(c.Config, "exec", o.SessionID, o.Cmd)
		err = cmd.Wait()
	}
	if detachedErr != nil {
		if b, rerr := io.ReadAll(io.NewSectionReader(detachedErr, 0, 1<<20)); rerr == nil {
			errBuf.Write(b)
			if err != nil && o.Stderr != nil {
				o.Stderr.Write(b)
			}
		}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		// The runtime's own failures to invoke the command map to podman's codes (its log;
		// without one, what its standard error said).
		var msgs []string
		if b, rerr := os.ReadFile(errLog); errLog != "" && rerr == nil && len(b) > 0 {
			msgs = oci.ErrorLogMessages(b)
		} else if code == 255 {
			msgs = []string{errBuf.String()}
		}
		for _, m := range msgs { // (crun's "chdir …: No such file or directory" of a missing -w: 127)
			if c := oci.RuntimeErrorCode(m); c != 0 {
				return c, nil
			}
		}
		if code == 255 && o.Tty {
			// On a terminal the runtime's message went to the terminal: whether the command
			// was there to run is looked up in the container's root.
			if c := commandStatus(root, o.Cmd[0], env); c != 0 {
				return c, nil
			}
		}
		if code < 0 {
			code = 137
		}
		return code, nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// ProcessUser is the user a container's process was last started as, as the runtime was given
// it (its spec in the bundle): uid, gid and supplementary groups.
func (r *Runtime) ProcessUser(id string) (uid, gid uint32, groups []uint32, err error) {
	b, err := fsx.ReadFile(filepath.Join(r.ctrRunDir(id), "config.json"))
	if err != nil {
		return 0, 0, nil, err
	}
	var spec struct {
		Process struct {
			User struct {
				UID            uint32   `json:"uid"`
				GID            uint32   `json:"gid"`
				AdditionalGids []uint32 `json:"additionalGids"`
			} `json:"user"`
		} `json:"process"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		return 0, 0, nil, fmt.Errorf("the container's config.json: %w", err)
	}
	u := spec.Process.User
	return u.UID, u.GID, u.AdditionalGids, nil
}

// killExecProcess kills the process of an exec whose pid the runtime wrote to pidFile, and
// reports whether it did (not when the runtime has not written the file yet).
func killExecProcess(pidFile string) bool {
	b, err := fsx.ReadFile(pidFile)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && pid > 0 && unix.Kill(pid, unix.SIGKILL) == nil
}

// execProcessFile writes the process of an exec as crun's --process file: the container's own
// process (capabilities, rlimits, labels, no-new-privileges as the runtime was given them),
// with the exec's command, environment, directory, user and supplementary groups.
func (r *Runtime) execProcessFile(c *model.Container, o ExecOptions, env []string, wd string, uid, gid uint32, groups []uint32) (string, error) {
	bundle := r.ctrRunDir(c.Config.ID)
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return "", err
	}
	var spec struct {
		Process map[string]any `json:"process"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // rlimits up to 2^64-1: as float64 they would not survive
	if err := dec.Decode(&spec); err != nil {
		return "", fmt.Errorf("the container's config.json: %w", err)
	}
	p := spec.Process
	if p == nil {
		p = map[string]any{}
	}
	if wd == "" {
		wd = "/"
	}
	p["args"], p["env"], p["cwd"], p["terminal"] = o.Cmd, env, wd, o.Tty
	user := map[string]any{"uid": uid, "gid": gid, "additionalGids": groups}
	if old, ok := p["user"].(map[string]any); ok && old["umask"] != nil {
		user["umask"] = old["umask"] // the container's --umask
	}
	p["user"] = user
	delete(p, "consoleSize")
	if caps, ok := p["capabilities"].(map[string]any); ok && uid == 0 {
		// root holds the whole bounding set even where the container's user (not root) holds
		// only its --cap-add ones, as podman's exec gives it.
		caps["effective"], caps["permitted"] = caps["bounding"], caps["bounding"]
	}
	if o.Privileged {
		all := oci.AllCapabilities()
		// As crun gives --cap: every set, ambient too, so a user other than root has them.
		p["capabilities"] = map[string]any{"bounding": all, "effective": all, "permitted": all, "inheritable": all, "ambient": all}
	}
	out, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(bundle, "exec-*.json")
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Write(out); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// commandStatus says whether cmd (a path, or a name looked up in env's PATH) can be run in the
// container whose root is root: 0 when it is an executable file, 127 when there is none, 126
// when there is one that cannot be run. Paths resolve inside root (RESOLVE_IN_ROOT): the
// container's links cannot lead the lookup to the host's files.
func commandStatus(root, cmd string, env []string) int {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0 // cannot tell
	}
	defer unix.Close(rfd)
	status := func(p string) int {
		fd, err := unix.Openat2(rfd, p, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
		if err != nil {
			return 127
		}
		defer unix.Close(fd)
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Mode&0o111 == 0 {
			return 126
		}
		return 0
	}
	if strings.Contains(cmd, "/") {
		return status(cmd)
	}
	path := strings.TrimPrefix(defaultPath, "PATH=")
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	found := 127
	for _, dir := range strings.Split(path, ":") {
		switch status(filepath.Join("/", dir, cmd)) {
		case 0:
			return 0
		case 126:
			found = 126
		}
	}
	return found
}

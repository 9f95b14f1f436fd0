package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/image"
	"pea/internal/model"
)

// Health checks without a daemon: `pea healthcheck run` runs a container's check once, through
// the exec path, and records the result in the container's state under its lock (the command
// itself runs without the lock). A container whose check has an interval gets, at each start, a
// timer process of its own (`pea healthcheck timer ID`, in its own session) that sleeps the
// interval and runs the check, for as long as the container runs; the container's cleanup kills
// it (its PID is in the container's run directory). See docs/ARCHITECTURE.md, "Healthchecks".

// healthOutputMax bounds the output of a check kept in its log entry, unless the container
// says otherwise (--health-max-log-size); healthOutputCeiling bounds it when the container asks
// for no limit, so that a chatty check cannot grow the database without end.
const (
	healthOutputMax     = 4 << 10
	healthOutputCeiling = 1 << 20
)

// The destinations of --health-log-destination that are not directories.
const (
	HealthLogLocal  = "local"
	HealthLogEvents = "events_logger"
)

// healthOutputLimit is how much of a check's output its log entry keeps.
func healthOutputLimit(cfg *model.ContainerConfig) int {
	if cfg.HealthMaxLogSize == nil {
		return healthOutputMax
	}
	if n := *cfg.HealthMaxLogSize; n > 0 && n < healthOutputCeiling {
		return int(n)
	}
	return healthOutputCeiling
}

// writeHealthLogFile writes a container's health (status, streak, log) to
// DIR/ID-healthcheck.log, as podman's directory destination: whole or not at all.
func writeHealthLogFile(dir, id string, h *model.HealthState) error {
	log := make([]healthLogJSON, len(h.Log))
	for i, l := range h.Log {
		log[i] = healthLogEntry(l)
	}
	b, err := json.Marshal(struct {
		Status        string          `json:"Status"`
		FailingStreak int             `json:"FailingStreak"`
		Log           []healthLogJSON `json:"Log"`
	}{h.Status, h.FailingStreak, log})
	if err != nil {
		return err
	}
	return fsx.WriteFileAtomic(filepath.Join(dir, id+"-healthcheck.log"), b, 0o600)
}

// healthLogJSON is a check's result as podman writes it outside its database (and inspect shows
// it): times as RFC 3339 text.
type healthLogJSON struct {
	Start    string `json:"Start"`
	End      string `json:"End"`
	ExitCode int    `json:"ExitCode"`
	Output   string `json:"Output"`
}

func healthLogEntry(l model.HealthLog) healthLogJSON {
	return healthLogJSON{l.Start.Format(time.RFC3339Nano), l.End.Format(time.RFC3339Nano), l.ExitCode, l.Output}
}

// ValidateHealthLog checks --health-log-destination and the limits.
func ValidateHealthLog(cfg *model.ContainerConfig) error {
	switch d := cfg.HealthLogDestination; d {
	case "", HealthLogLocal, HealthLogEvents:
	default:
		if !filepath.IsAbs(d) {
			return fmt.Errorf("--health-log-destination %q: local, events_logger or an absolute directory: %w", d, errdefs.ErrInvalid)
		}
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return fmt.Errorf("--health-log-destination %q: not a directory: %w", d, errdefs.ErrInvalid)
		}
	}
	if n := cfg.HealthMaxLogCount; n != nil && *n < 0 {
		return fmt.Errorf("--health-max-log-count %d: must not be negative: %w", *n, errdefs.ErrInvalid)
	}
	if n := cfg.HealthMaxLogSize; n != nil && *n < 0 {
		return fmt.Errorf("--health-max-log-size %d: must not be negative: %w", *n, errdefs.ErrInvalid)
	}
	return nil
}

// healthTimerFile holds the PID of a container's health check timer process.
func (r *Runtime) healthTimerFile(id string) string {
	return filepath.Join(r.ctrRunDir(id), "healthcheck-timer")
}

// HealthTimerArgs are the arguments after pea's global flags of the timer process.
var HealthTimerArgs = []string{"healthcheck", "timer"}

// hasHealthcheck reports whether a container has a check to run.
func hasHealthcheck(cfg *model.ContainerConfig) bool {
	hc := cfg.Healthcheck
	return hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
}

// healthArgv is the process a check's test runs.
func healthArgv(test []string) []string {
	switch {
	case len(test) == 0:
		return nil
	case test[0] == "CMD-SHELL":
		return []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	case test[0] == "CMD":
		return test[1:]
	}
	return test
}

// HealthResult is what a check run once found.
type HealthResult struct {
	// Healthy is the check's own verdict; Status the container's health after it.
	Healthy bool
	Status  string
	// Startup: the check run was the startup check; StartupPassed: it has passed now.
	Startup, StartupPassed bool
}

// HealthcheckRun runs a running container's health check once and records its result.
func (r *Runtime) HealthcheckRun(ctx context.Context, nameOrID string) (HealthResult, error) {
	c, err := r.LookupContainer(nameOrID)
	if err != nil {
		return HealthResult{}, err
	}
	return r.healthcheck(ctx, c)
}

func (r *Runtime) healthcheck(ctx context.Context, c *model.Container) (HealthResult, error) {
	cfg := c.Config
	if !hasHealthcheck(cfg) {
		return HealthResult{}, fmt.Errorf("container %s has no defined healthcheck: %w", cfg.ID, errdefs.ErrInvalid)
	}
	if c.State.Status != model.StatusRunning {
		return HealthResult{}, fmt.Errorf("container %s is not running: %w", cfg.ID, errdefs.ErrCtrStateInvalid)
	}
	hc := cfg.Healthcheck
	test, timeout, probe := hc.Test, hc.Timeout, hc.Probe
	startup := inStartup(c)
	if startup {
		s := cfg.StartupHealthcheck
		test, timeout, probe = s.Test, s.Timeout, s.Probe
	}
	var res model.HealthLog
	var err error
	if probe != nil {
		res = runNetProbe(c.State.Pid, probe, timeout)
	} else if res, err = r.runHealthCommand(ctx, c, healthArgv(test), timeout, healthOutputLimit(cfg)); err != nil {
		return HealthResult{}, err
	}
	l, c, err := r.lockContainer(cfg.ID)
	if err != nil {
		return HealthResult{}, err
	}
	defer l.Unlock()
	r.freshen(c)
	if c.State.Status != model.StatusRunning || !c.State.StartedAt.Before(res.Start) {
		// It stopped, or was started again, while the check ran: the result is of no run.
		return HealthResult{}, fmt.Errorf("container %s is not running: %w", cfg.ID, errdefs.ErrCtrStateInvalid)
	}
	if c.State.Health == nil {
		c.State.Health = &model.HealthState{Status: model.HealthStarting}
	}
	was := c.State.Health.Status
	restart := false
	if startup && !c.State.Health.StartupPassed { // (another check may have passed it meanwhile)
		restart = c.State.Health.RecordStartup(res, cfg.StartupHealthcheck, cfg.HealthLogKeep())
	} else {
		c.State.Health.Record(res, res.Start.Sub(c.State.StartedAt), hc, cfg.HealthLogKeep())
	}
	st, err := r.state()
	if err != nil {
		return HealthResult{}, err
	}
	if err := st.SaveContainerState(cfg.ID, c.State); err != nil {
		return HealthResult{}, err
	}
	attrs := []string{"health_status", c.State.Health.Status}
	switch dest := cfg.HealthLogDestination; dest {
	case "", HealthLogLocal:
	case HealthLogEvents:
		if b, err := json.Marshal(healthLogEntry(res)); err == nil {
			attrs = append(attrs, "health_log", string(b))
		}
	default:
		if err := writeHealthLogFile(dest, cfg.ID, c.State.Health); err != nil {
			slog.Warn("health check log not written", "container", cfg.ID, "dir", dest, "err", err)
		}
	}
	r.containerEvent(cfg, "health_status", attrs...)
	switch {
	case restart:
		// Too many failures of the startup check: the container starts again (and its
		// startup check with it), as podman's.
		r.runDetached("restart", cfg.ID)
	case !startup && was != model.HealthUnhealthy && c.State.Health.Status == model.HealthUnhealthy:
		r.onHealthFailure(cfg)
	}
	return HealthResult{Healthy: res.ExitCode == 0, Status: c.State.Health.Status, Startup: startup, StartupPassed: c.State.Health.StartupPassed}, nil
}

// inStartup reports whether a running container's startup check has yet to pass.
func inStartup(c *model.Container) bool {
	return c.Config.StartupHealthcheck != nil && (c.State.Health == nil || !c.State.Health.StartupPassed)
}

// HealthActions are --health-on-failure's actions.
var HealthActions = []string{"none", "kill", "restart", "stop"}

// onHealthFailure carries out --health-on-failure for a container that just turned unhealthy,
// in a pea process of its own (its own session): the health timer that ran the check is
// killed when the container stops, and a restart must not die with it.
func (r *Runtime) onHealthFailure(cfg *model.ContainerConfig) {
	action := cfg.HealthOnFailure
	if action == "" || action == "none" {
		return
	}
	r.runDetached(action, cfg.ID)
}

// runDetached runs `pea VERB ID` on this store in a process of its own session, which outlives
// the health timer that asks for it (the container's stop kills the timer).
func (r *Runtime) runDetached(verb, id string) {
	cmd := r.selfCommand(verb, id)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cpupin.Start(cmd); err != nil {
		slog.Warn("health check: the container's "+verb+" not carried out", "container", id, "err", err)
		return
	}
	go cmd.Wait()
}

// PeaCommand is a pea command on this store (pea's own executable, see SetExecutable, with the
// store's global flags): for a service that leaves a verb to pea itself.
func (r *Runtime) PeaCommand(args ...string) *exec.Cmd { return r.selfCommand(args...) }

// selfCommand is a pea command on this store.
func (r *Runtime) selfCommand(args ...string) *exec.Cmd {
	global := []string{"--root", r.opts.Root, "--runroot", r.opts.RunRoot}
	if r.opts.Runtime != "" {
		global = append(global, "--runtime", r.opts.Runtime)
	}
	return cpupin.Command(selfExe(), append(global, args...)...)
}

// runHealthCommand runs a check's process in the container, its output captured (bounded) and
// its time limited to timeout (none when 0).
func (r *Runtime) runHealthCommand(ctx context.Context, c *model.Container, argv []string, timeout time.Duration, limit int) (model.HealthLog, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	out := &boundedBuffer{max: limit}
	res := model.HealthLog{Start: time.Now()}
	code, err := r.execIn(ctx, c, ExecOptions{Cmd: argv, Stdout: out, Stderr: out, WaitDelay: time.Second})
	res.End = time.Now()
	if timeout > 0 && ctx.Err() != nil {
		res.ExitCode = -1
		res.Output = fmt.Sprintf("healthcheck command exceeded timeout of %s", timeout)
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.ExitCode, res.Output = code, out.String()
	return res, nil
}

// boundedBuffer keeps the first max bytes written to it (by the stdout and stderr copiers both)
// and drops the rest, so that a chatty check neither blocks nor grows the state.
type boundedBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *boundedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - len(w.b); room > 0 {
		w.b = append(w.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *boundedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

// startHealthTimer starts the timer process of a container that has just started with a check
// that has an interval. Without one it costs nothing. A timer that fails to start is logged:
// the container runs, its check can still be run by hand.
func (r *Runtime) startHealthTimer(c *model.Container) {
	if !timedHealthcheck(c.Config) {
		return
	}
	id := c.Config.ID
	cmd := r.selfCommand(append(append([]string{}, HealthTimerArgs...), id)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	smallHeap(cmd) // it lives as long as the container
	if err := cpupin.Start(cmd); err != nil {
		slog.Warn("healthcheck timer not started", "container", id, "err", err)
		return
	}
	if err := fsx.WriteFile(r.healthTimerFile(id), strconv.AppendInt(nil, int64(cmd.Process.Pid), 10), 0o600); err != nil {
		cmd.Process.Kill()
		slog.Warn("healthcheck timer not recorded", "container", id, "err", err)
	}
	// Reaped when it ends (a long-running caller, the API service, would keep a zombie).
	go cmd.Wait()
}

// stopHealthTimer kills a container's timer process (with what it runs: its session's group)
// and waits for it to be gone. A cleanup, holding the container's lock, calls it.
func (r *Runtime) stopHealthTimer(c *model.Container) {
	if !timedHealthcheck(c.Config) {
		return
	}
	file := r.healthTimerFile(c.Config.ID)
	b, err := fsx.ReadFile(file)
	if err != nil {
		return
	}
	os.Remove(file)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() || !isHealthTimer(pid, c.Config.ID) {
		return
	}
	unix.Kill(-pid, unix.SIGKILL)
	unix.Kill(pid, unix.SIGKILL)
	waitPidExit(pid, 2*time.Second)
}

// timedHealthcheck reports whether a container's checks run by a timer: its regular check or
// its startup check has an interval.
func timedHealthcheck(cfg *model.ContainerConfig) bool {
	if !hasHealthcheck(cfg) {
		return false
	}
	return cfg.Healthcheck.Interval > 0 || cfg.StartupHealthcheck != nil && cfg.StartupHealthcheck.Interval > 0
}

// healthInterval is the time until a running container's next check: the startup check's
// interval until it has passed, then the regular one's (0: none).
func healthInterval(c *model.Container) time.Duration {
	if inStartup(c) {
		return c.Config.StartupHealthcheck.Interval
	}
	return c.Config.Healthcheck.Interval
}

// isHealthTimer reports whether process pid is container id's timer (and not a process that
// took a recycled PID).
func isHealthTimer(pid int, id string) bool {
	b, err := fsx.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	n := len(args)
	return n >= 3 && args[n-1] == id && args[n-2] == HealthTimerArgs[1] && args[n-3] == HealthTimerArgs[0]
}

// RunHealthTimer is the timer process of container id: it sleeps the check's interval and runs
// the check, until the container no longer runs or another timer took its place. Each round
// opens the engine afresh, as a command would.
func RunHealthTimer(ctx context.Context, opts Options, id string) error {
	for first := true; ; first = false {
		r, err := New(opts)
		if err != nil {
			return err
		}
		wait := r.healthTimerRound(ctx, id, first)
		r.Close()
		if wait <= 0 {
			return nil
		}
		cpupin.Sleep(wait)
	}
}

// healthTimerRound runs one round of the timer (the first only reads the interval) and says
// how long to sleep before the next; 0 ends the timer.
func (r *Runtime) healthTimerRound(ctx context.Context, id string, first bool) time.Duration {
	st, err := r.state()
	if err != nil {
		return 0
	}
	c, err := st.Container(id)
	if err != nil {
		return 0
	}
	r.freshen(c)
	if !c.State.Active() || !timedHealthcheck(c.Config) {
		return 0
	}
	if !first {
		// A timer that is no longer the recorded one (the container started again and got
		// another, this one's kill having failed) leaves.
		if b, err := fsx.ReadFile(r.healthTimerFile(id)); err == nil && strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
			return 0
		}
		if c.State.Status == model.StatusRunning {
			res, err := r.healthcheck(ctx, c)
			if err != nil && errdefs.Is(err, errdefs.ErrCtrRemoved) {
				return 0
			}
			if err == nil && res.StartupPassed {
				// Passed (c, read before the check, does not know yet): the regular check from
				// now on.
				return c.Config.Healthcheck.Interval
			}
		}
	}
	return healthInterval(c)
}

// startingHealth is a container's health as it starts: starting, with the log of earlier runs.
func startingHealth(h *model.HealthState) *model.HealthState {
	n := &model.HealthState{Status: model.HealthStarting}
	if h != nil {
		n.Log = h.Log
	}
	return n
}

// Health check defaults, Docker's and podman's.
const (
	DefaultHealthInterval = 30 * time.Second
	DefaultHealthTimeout  = 30 * time.Second
	DefaultHealthRetries  = 3
)

// imageHealthcheck is an image's HEALTHCHECK as a container's, its unset values defaulted; nil
// for none (or NONE).
func imageHealthcheck(ih *image.HealthConfig) *model.HealthConfig {
	if ih == nil || len(ih.Test) == 0 || ih.Test[0] == "NONE" {
		return nil
	}
	hc := &model.HealthConfig{Test: ih.Test, Interval: ih.Interval, Timeout: ih.Timeout, StartPeriod: ih.StartPeriod, Retries: ih.Retries}
	if hc.Interval <= 0 {
		hc.Interval = DefaultHealthInterval
	}
	if hc.Timeout <= 0 {
		hc.Timeout = DefaultHealthTimeout
	}
	if hc.Retries <= 0 {
		hc.Retries = DefaultHealthRetries
	}
	if hc.StartPeriod < 0 {
		hc.StartPeriod = 0
	}
	return hc
}

// ValidateStartupHealthcheck checks a container's startup check (nil: none) against its regular
// one (hc, the image's included): a startup check gates a regular check, so it needs one.
func ValidateStartupHealthcheck(s *model.StartupHealthConfig, hc *model.HealthConfig) error {
	if s == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("startup healthcheck: "+format+": %w", append(args, errdefs.ErrInvalid)...)
	}
	switch {
	case hc == nil || len(hc.Test) == 0 || hc.Test[0] == "NONE":
		return bad("it needs a regular healthcheck (--health-cmd or the image's HEALTHCHECK)")
	case emptyTest(s.Test):
		return bad("the command is empty")
	case s.Interval < 0:
		return bad("interval %s must not be negative", s.Interval)
	case s.Timeout < 0:
		return bad("timeout %s must not be negative", s.Timeout)
	case s.Retries < 0:
		return bad("retries must not be negative, not %d", s.Retries)
	case s.Successes < 0:
		return bad("successes must not be negative, not %d", s.Successes)
	}
	return nil
}

// emptyTest reports whether a check's test runs nothing.
func emptyTest(test []string) bool {
	return len(healthArgv(test)) == 0 || test[0] == "CMD-SHELL" && strings.TrimSpace(strings.Join(test[1:], " ")) == ""
}

// ValidateHealthcheck checks a container's health check (nil: none).
func ValidateHealthcheck(hc *model.HealthConfig) error {
	if hc == nil {
		return nil
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("healthcheck: "+format+": %w", append(args, errdefs.ErrInvalid)...)
	}
	switch {
	case emptyTest(hc.Test):
		return bad("the command is empty")
	case hc.Test[0] == "NONE":
		return bad("NONE takes no interval, timeout or retries: use --no-healthcheck")
	case hc.Interval < 0:
		return bad("interval %s must not be negative", hc.Interval)
	case hc.Timeout < 0:
		return bad("timeout %s must not be negative", hc.Timeout)
	case hc.StartPeriod < 0:
		return bad("start period %s must not be negative", hc.StartPeriod)
	case hc.Retries < 1:
		return bad("retries must be at least 1, not %d", hc.Retries)
	}
	return nil
}

package cli

import (
	"strings"
	"time"

	"github.com/spf13/pflag"

	"pea/internal/engine"
	"pea/internal/model"
)

// healthFlags are create's and run's health check flags. As podman's, the interval, retries,
// timeout and start period apply to the check --health-cmd gives; without it the image's
// HEALTHCHECK is used as it is (unless --no-healthcheck).
type healthFlags struct {
	cmd, interval, timeout, startPeriod string
	onFailure                           string
	retries                             int
	none                                bool
	// The startup check (podman 4.4's --health-startup-*).
	startupCmd, startupInterval, startupTimeout string
	startupRetries, startupSuccess              int
	// Where the results go, how many and how much (podman 5's).
	logDestination        string
	maxLogCount, maxLogSz int64
}

func (f *healthFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.cmd, "health-cmd", "", "health check command: a shell command, or a JSON array (\"none\" disables the image's)")
	fs.StringVar(&f.interval, "health-interval", "30s", "time between health checks (with --health-cmd; \"disable\": only by `pea healthcheck run`)")
	fs.IntVar(&f.retries, "health-retries", engine.DefaultHealthRetries, "consecutive failures that make the container unhealthy (with --health-cmd)")
	fs.StringVar(&f.timeout, "health-timeout", "30s", "time a health check may take before it counts as failed (with --health-cmd)")
	fs.StringVar(&f.startPeriod, "health-start-period", "0s", "time after the start in which failed health checks do not count (with --health-cmd)")
	fs.BoolVar(&f.none, "no-healthcheck", false, "no health check, not even the image's")
	fs.StringVar(&f.onFailure, "health-on-failure", "none", "what to do when the container turns unhealthy: none, kill, restart, stop")
	fs.StringVar(&f.startupCmd, "health-startup-cmd", "", "startup health check command, run in place of the health check from each start until it passes: a shell command, or a JSON array")
	fs.StringVar(&f.startupInterval, "health-startup-interval", "30s", "time between startup health checks (\"disable\": only by `pea healthcheck run`)")
	fs.IntVar(&f.startupRetries, "health-startup-retries", 0, "failed startup health checks that restart the container (0: never)")
	fs.IntVar(&f.startupSuccess, "health-startup-success", 0, "successful startup health checks that pass it (0: one)")
	fs.StringVar(&f.startupTimeout, "health-startup-timeout", "30s", "time a startup health check may take before it counts as failed")
	fs.StringVar(&f.logDestination, "health-log-destination", "local", "where health check results go besides the container's state: local, events_logger (in the health_status events) or a directory (ID-healthcheck.log)")
	fs.Int64Var(&f.maxLogCount, "health-max-log-count", int64(model.HealthLogLength), "health check results kept (0: all)")
	fs.Int64Var(&f.maxLogSz, "health-max-log-size", 4096, "bytes of a health check's output kept (0: up to 1 MiB)")
}

// applyLog sets the results' destination and limits given on the command line.
func (f *healthFlags) applyLog(changed func(string) bool, cfg *model.ContainerConfig) {
	if changed("health-log-destination") && f.logDestination != engine.HealthLogLocal {
		cfg.HealthLogDestination = f.logDestination
	}
	if changed("health-max-log-count") {
		n := f.maxLogCount
		cfg.HealthMaxLogCount = &n
	}
	if changed("health-max-log-size") {
		n := f.maxLogSz
		cfg.HealthMaxLogSize = &n
	}
}

// toStartup is the startup check the flags give: nil without --health-startup-cmd. Whether
// the container has a regular check for it to gate is known once its image is (the engine
// checks it).
func (f *healthFlags) toStartup() (*model.StartupHealthConfig, error) {
	cmd := strings.TrimSpace(f.startupCmd)
	if cmd == "" {
		return nil, nil
	}
	if f.none {
		return nil, invalid("--no-healthcheck and --health-startup-cmd conflict: a startup health check gates a health check")
	}
	s := &model.StartupHealthConfig{Retries: f.startupRetries, Successes: f.startupSuccess}
	var err error
	if f.startupInterval != "disable" {
		if s.Interval, err = healthDuration("--health-startup-interval", f.startupInterval); err != nil {
			return nil, err
		}
	}
	if s.Timeout, err = healthDuration("--health-startup-timeout", f.startupTimeout); err != nil {
		return nil, err
	}
	if s.Retries < 0 {
		return nil, invalid("invalid --health-startup-retries %d: must not be negative", s.Retries)
	}
	if s.Successes < 0 {
		return nil, invalid("invalid --health-startup-success %d: must not be negative", s.Successes)
	}
	if s.Test, err = healthTest("--health-startup-cmd", f.startupCmd); err != nil {
		return nil, err
	}
	return s, nil
}

// healthTest is a check's test from its flag: a shell command (CMD-SHELL), or a JSON array
// (CMD added unless it starts with CMD or CMD-SHELL).
func healthTest(flag, v string) ([]string, error) {
	cmd := strings.TrimSpace(v)
	if !strings.HasPrefix(cmd, "[") {
		return []string{"CMD-SHELL", v}, nil
	}
	var test []string
	if err := jsonUnmarshal(cmd, &test); err != nil || len(test) == 0 {
		return nil, invalid("invalid %s %q: a JSON array must be a non-empty list of strings", flag, v)
	}
	switch test[0] {
	case "CMD", "CMD-SHELL":
	case "NONE":
		return nil, invalid("invalid %s %q: use --no-healthcheck for none", flag, v)
	default:
		test = append([]string{"CMD"}, test...)
	}
	return test, nil
}

// toConfig is the check the flags give: nil when --health-cmd is not given (or is "none").
func (f *healthFlags) toConfig() (*model.HealthConfig, error) {
	hc := &model.HealthConfig{Retries: f.retries}
	var err error
	if f.interval == "disable" {
		hc.Interval = 0
	} else if hc.Interval, err = healthDuration("--health-interval", f.interval); err != nil {
		return nil, err
	}
	if hc.Timeout, err = healthDuration("--health-timeout", f.timeout); err != nil {
		return nil, err
	}
	if hc.StartPeriod, err = healthDuration("--health-start-period", f.startPeriod); err != nil {
		return nil, err
	}
	cmd := strings.TrimSpace(f.cmd)
	if f.none && cmd != "" {
		return nil, invalid("--no-healthcheck and --health-cmd conflict: give one of them")
	}
	if cmd == "" || strings.EqualFold(cmd, "none") {
		return nil, nil
	}
	if hc.Retries < 1 {
		return nil, invalid("invalid --health-retries %d: must be at least 1", f.retries)
	}
	if hc.Test, err = healthTest("--health-cmd", f.cmd); err != nil {
		return nil, err
	}
	if err := engine.ValidateHealthcheck(hc); err != nil {
		return nil, err
	}
	return hc, nil
}

// healthDuration parses a health flag's duration: Go's form (30s, 1m30s, 500ms), not negative.
func healthDuration(flag, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, invalid("invalid %s %q: use a duration such as 30s, 1m or 500ms", flag, v)
	}
	if d < 0 {
		return 0, invalid("invalid %s %q: must not be negative", flag, v)
	}
	return d, nil
}

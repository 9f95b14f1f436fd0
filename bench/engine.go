package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// engine is one container engine under test (pea or podman) with its own throw-away store.
type engine struct {
	name    string
	bin     string
	dir     string   // everything of this engine lives below it
	root    string   // --root
	runroot string   // --runroot
	global  []string // flags given before every verb
	env     []string // extra environment
	seq     atomic.Int64
	timeout time.Duration // per command, so that a hung command cannot hang the benchmark
}

// Each engine keeps its store below base and its volatile state (--runroot, podman's --tmpdir)
// below runBase, a tmpfs when the host has one at /run: where both keep it by default
// (/run/pea, /run/containers/storage, /run/libpod), and crun its state (/run/crun).
func newPea(bin, base, runBase string) *engine {
	e := &engine{name: "pea", bin: bin, dir: filepath.Join(base, "pea"), timeout: 10 * time.Minute}
	e.root, e.runroot = filepath.Join(e.dir, "root"), filepath.Join(runBase, "pea", "runroot")
	e.global = []string{"--root", e.root, "--runroot", e.runroot}
	return e
}

// newPodman keeps podman off every host-wide default it would otherwise use: store, run dir,
// temporary dir, network configs and the systemd cgroup manager and journal.
func newPodman(bin, base, runBase string, conf string) *engine {
	e := &engine{name: "podman", bin: bin, dir: filepath.Join(base, "podman"), timeout: 10 * time.Minute}
	e.root, e.runroot = filepath.Join(e.dir, "root"), filepath.Join(runBase, "podman", "runroot")
	e.global = []string{"--root", e.root, "--runroot", e.runroot,
		"--tmpdir", filepath.Join(runBase, "podman", "tmp"),
		"--network-config-dir", filepath.Join(e.dir, "net"),
		"--storage-driver", "overlay",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file"}
	e.env = []string{"CONTAINERS_CONF=" + conf}
	return e
}

// name returns a fresh object name, unique within this engine's store.
func (e *engine) newName(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, e.seq.Add(1))
}

// run runs one command of the engine and returns its whole-process wall time and its standard
// output. Output goes to files rather than pipes: a detached container's monitor may inherit
// the descriptors, and a pipe would then keep Wait waiting until the container ends.
func (e *engine) run(ctx context.Context, args ...string) (time.Duration, string, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	return runCmd(ctx, e.dir, e.env, e.bin, e.global, args)
}

// out runs an untimed command and returns its trimmed standard output.
func (e *engine) out(ctx context.Context, args ...string) (string, error) {
	_, out, err := e.run(ctx, args...)
	return strings.TrimSpace(out), err
}

// timed runs one command and returns its wall time.
func (e *engine) timed(ctx context.Context, args ...string) (time.Duration, error) {
	return e.timedIn(ctx, nil, args...)
}

// timedIn is timed, the command started in machine state st (nil: as it is; see startIn).
func (e *engine) timedIn(ctx context.Context, st *machineState, args ...string) (time.Duration, error) {
	if err := startIn(ctx, st); err != nil {
		return 0, err
	}
	d, _, err := e.run(ctx, args...)
	return d, err
}

// runCmd runs bin with the global flags and args, its output in temporary files under dir, and
// times it from just before the fork to the moment the process has been reaped.
func runCmd(ctx context.Context, dir string, env []string, bin string, global, args []string) (time.Duration, string, error) {
	stdout, err := os.CreateTemp(dir, ".out-")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(stdout.Name())
	defer stdout.Close()
	stderr, err := os.CreateTemp(dir, ".err-")
	if err != nil {
		return 0, "", err
	}
	defer os.Remove(stderr.Name())
	defer stderr.Close()

	cmd := exec.CommandContext(ctx, bin, append(append([]string{}, global...), args...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)

	o, _ := os.ReadFile(stdout.Name())
	if err != nil {
		msg, _ := os.ReadFile(stderr.Name())
		line := strings.TrimSpace(string(msg))
		if i := strings.LastIndexByte(line, '\n'); i >= 0 {
			line = line[i+1:] // the last line names the error
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		return d, string(o), fmt.Errorf("%s %s: %w: %s", filepath.Base(bin), strings.Join(args, " "), err, line)
	}
	return d, string(o), nil
}

// clean removes every pod, container and network of the engine's store. It runs with its own
// context: it must work after an interrupt cancelled the benchmark's.
func (e *engine) clean() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, err := os.Stat(e.root); err != nil {
		return nil // nothing was ever created
	}
	if e.name == "pea" {
		// One command: pods, containers and every network, the default one too (a bridge and
		// firewall rules of the host's, which network rm refuses), with their claims.
		_, err := e.out(ctx, "system", "reset", "-f")
		return err
	}
	var errs []error
	for _, args := range [][]string{{"pod", "rm", "-af", "-t0"}, {"rm", "-af", "-t0"}} {
		if _, err := e.out(ctx, args...); err != nil {
			errs = append(errs, err)
		}
	}
	nets, err := e.out(ctx, "network", "ls", "--format", "{{.Name}}")
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range strings.Fields(nets) {
		if n == "podman" {
			continue // podman's default network is not stored and cannot be removed
		}
		if _, err := e.out(ctx, "network", "rm", "-f", n); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// reset removes the pods and containers between measurements, keeping images and networks.
func (e *engine) reset(ctx context.Context) error {
	if _, err := e.out(ctx, "pod", "rm", "-af", "-t0"); err != nil {
		return err
	}
	_, err := e.out(ctx, "rm", "-af", "-t0")
	return err
}

package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// `pea compose ARGS...` runs a Compose provider (docker-compose) against pea, as podman 4.7+'s
// `podman compose` does: pea has no daemon, so it serves the Docker API for the provider's
// lifetime on a socket of its own (`pea system service` with the same store flags) and gives
// the provider that socket as DOCKER_HOST. With --remote/--connection/--url the provider talks
// to that service instead. The arguments go to the provider unread.
//
// The provider: $PEA_COMPOSE_PROVIDER, then $PODMAN_COMPOSE_PROVIDER, then containers.conf's
// [engine] compose_providers (the first that exists), then docker-compose on $PATH and in
// Docker's CLI plug-in directories. podman-compose is not looked for: it runs the podman
// command, not a Docker API client.

func init() {
	register(newComposeCommand, "compose")
}

func newComposeCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:                "compose [options] [COMMAND] [ARG...]",
		Short:              "Run a Compose file through docker-compose against pea",
		DisableFlagParsing: true, // every argument, --help included, is the provider's
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Without flag parsing cobra read none of the global flags either: they are the
			// words before the verb.
			globals, args := splitComposeLine(a.args[1:])
			if err := cmd.Root().PersistentFlags().Parse(globals); err != nil {
				return usageError{err}
			}
			if err := a.opts.check(a); err != nil {
				return err
			}
			provider, err := composeProvider(a)
			if err != nil {
				return err
			}
			sock, stop, err := composeService(a)
			if err != nil {
				return err
			}
			defer stop()
			return runComposeProvider(provider, "unix://"+sock, args)
		},
	}
}

// runComposeRemote is `pea --remote compose ...`: the provider against the remote service.
func runComposeRemote(a *app, args []string, t remoteTarget) error {
	if !strings.HasPrefix(t.uri, "unix://") && !strings.HasPrefix(t.uri, "tcp://") {
		return invalid("compose with --remote: the service at %s is not a unix:// or tcp:// socket a Docker client can reach", t.uri)
	}
	provider, err := composeProvider(a)
	if err != nil {
		return err
	}
	_, args = splitComposeLine(args)
	return runComposeProvider(provider, t.uri, args)
}

// splitComposeLine splits a command line (without "pea") into the global flags before the
// compose verb and the provider's arguments after it.
func splitComposeLine(line []string) (globals, args []string) {
	for i, arg := range line {
		if arg == "compose" && firstVerb(line[:i+1]) == "compose" {
			return line[:i], line[i+1:]
		}
	}
	return nil, line
}

// composeProvider finds the Compose provider to run.
func composeProvider(a *app) (string, error) {
	for _, env := range []string{"PEA_COMPOSE_PROVIDER", "PODMAN_COMPOSE_PROVIDER"} {
		if p := os.Getenv(env); p != "" {
			path, err := exec.LookPath(p)
			if err != nil {
				return "", invalid("$%s: %v", env, err)
			}
			return path, nil
		}
	}
	conf, err := a.config()
	if err != nil {
		return "", err
	}
	candidates := conf.Engine.ComposeProviders
	if len(candidates) == 0 {
		candidates = append(candidates, "docker-compose")
		dockerConfig := os.Getenv("DOCKER_CONFIG")
		if home, err := os.UserHomeDir(); err == nil && dockerConfig == "" {
			dockerConfig = filepath.Join(home, ".docker")
		}
		if dockerConfig != "" {
			candidates = append(candidates, filepath.Join(dockerConfig, "cli-plugins", "docker-compose"))
		}
		for _, dir := range []string{"/usr/local/lib", "/usr/local/libexec", "/usr/lib", "/usr/libexec"} {
			candidates = append(candidates, filepath.Join(dir, "docker", "cli-plugins", "docker-compose"))
		}
	}
	for _, c := range candidates {
		if path, err := exec.LookPath(os.ExpandEnv(c)); err == nil {
			return path, nil
		}
	}
	return "", &errdefs.ExitError{Code: exitEngine, Err: fmt.Errorf("no compose provider found (looked for %s); install docker-compose or name one with $PEA_COMPOSE_PROVIDER",
		strings.Join(candidates, ", "))}
}

// composeService starts `pea system service` for this store on a fresh socket and waits until
// it answers; stop ends it and removes the socket's directory.
func composeService(a *app) (sock string, stop func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	sweepComposeDirs()
	// Not under the runroot: a socket's path must stay under 108 bytes.
	dir, err := os.MkdirTemp("", "pea-compose-")
	if err != nil {
		return "", nil, err
	}
	sock = filepath.Join(dir, "docker.sock")
	argv := append(a.storeArgs(true), "system", "service", "--time", "0", "unix://"+sock)
	cmd := cpupin.Command(self, argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// The service must not outlive a pea compose killed outright.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-cpupin.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.RemoveAll(dir)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock, stop, nil
		}
		select {
		case err := <-exited:
			os.RemoveAll(dir)
			msg := strings.TrimSpace(stderr.String())
			if msg == "" && err != nil {
				msg = err.Error()
			}
			return "", nil, fmt.Errorf("compose: the API service did not start: %s", msg)
		case <-cpupin.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, errors.New("compose: the API service did not answer within 30 s")
		}
	}
}

// runComposeProvider runs the provider on args with DOCKER_HOST set to host and returns its exit
// code as pea's. Compose's builds go to the API's classic builder (pea has no BuildKit) unless
// the caller chose otherwise.
func runComposeProvider(provider, host string, args []string) error {
	cmd := cpupin.Command(provider, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DOCKER_HOST=") && !strings.HasPrefix(kv, "DOCKER_CONTEXT=") {
			env = append(env, kv)
		}
	}
	env = append(env, "DOCKER_HOST="+host)
	for _, kv := range []string{"DOCKER_BUILDKIT=0", "COMPOSE_DOCKER_CLI_BUILD=0"} {
		if k, _, _ := strings.Cut(kv, "="); os.Getenv(k) == "" {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// A terminal's Ctrl-C reaches the provider itself (same process group): pea waits for it to
	// finish its own way. Signals sent to pea alone are passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return &errdefs.ExitError{Code: exitCannotInvoke, Err: fmt.Errorf("compose provider %s: %w", provider, err)}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			if s != syscall.SIGINT {
				cmd.Process.Signal(s)
			}
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code := ee.ExitCode()
				if code < 0 {
					code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
				}
				return &errdefs.ExitError{Code: code}
			}
			return err
		}
	}
}

// sweepComposeDirs removes the socket directories of `pea compose` runs that were killed
// outright (their service went with them: Pdeathsig): older than a minute, and nothing answers
// on the socket.
func sweepComposeDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pea-compose-*"))
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if err != nil || !fi.IsDir() || time.Since(fi.ModTime()) < time.Minute {
			continue
		}
		if c, err := net.Dial("unix", filepath.Join(dir, "docker.sock")); err == nil {
			c.Close()
			continue
		}
		os.RemoveAll(dir)
	}
}

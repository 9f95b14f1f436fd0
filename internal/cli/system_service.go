package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"pea/internal/cpupin"
	"pea/internal/engine"
)

// newServiceCommand is `pea system service [--time N] [URI]`: the Docker-compatible REST API
// on a socket. It runs as the API service executable beside pea (<pea>-service, which
// scripts/build.sh builds): pea itself links no HTTP (see internal/api).
func newServiceCommand(a *app) *cobra.Command {
	var seconds uint
	cmd := &cobra.Command{
		Use:   "service [options] [URI]",
		Short: "Serve the Docker-compatible REST API (unix:///PATH or tcp://HOST:PORT; default unix://RUNROOT/pea.sock)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			runRoot := a.opts.RunRoot
			if runRoot == "" {
				runRoot = engine.DefaultRunRoot
			}
			uri := "unix://" + filepath.Join(runRoot, "pea.sock")
			if len(args) == 1 {
				uri = args[0]
			}
			svc := self + "-service"
			if _, err := os.Stat(svc); err != nil {
				// A pea built as one binary (go build ./cmd/pea) serves in process.
				return serveInProcess(a, self, uri, seconds, svc)
			}
			argv := []string{svc, "--pea", self, "--version", Version, "--time", strconv.FormatUint(uint64(seconds), 10)}
			for _, f := range []struct{ name, v string }{{"--root", a.opts.Root}, {"--runroot", a.opts.RunRoot},
				{"--runtime", a.opts.Runtime}, {"--namespace", a.opts.Namespace}, {"--log-level", a.opts.LogLevel}} {
				if f.v != "" {
					argv = append(argv, f.name, f.v)
				}
			}
			argv = append(argv, uri)
			// The service runs long and on every CPU: it must not inherit the start-up's pin
			// and wide timer slack (see cpupin).
			if err := cpupin.Release(); err != nil {
				return err
			}
			return syscall.Exec(svc, argv, os.Environ())
		},
	}
	cmd.Flags().UintVarP(&seconds, "time", "t", 5, "seconds without a request before the service exits (0: never)")
	return cmd
}

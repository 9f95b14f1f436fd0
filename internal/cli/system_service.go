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
	var cors string
	cmd := &cobra.Command{
		Use:   "service [options] [URI]",
		Short: "Serve the Docker-compatible REST API (unix:///PATH or tcp://HOST:PORT; default unix://RUNROOT/pea.sock)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			if a.cfg != nil && a.cfg.IsSet("engine.service_timeout") && !cmd.Flags().Changed("time") {
				seconds = uint(a.cfg.Engine.ServiceTimeout) // containers.conf's
			}
			uri := serviceURI(a, args, "pea.sock")
			svc := self + "-service"
			if _, err := os.Stat(svc); err != nil {
				// A pea built as one binary (go build ./cmd/pea) serves in process.
				return serveInProcess(a, self, uri, seconds, cors, svc)
			}
			return execHelper(a, self, svc, uri, "--time", strconv.FormatUint(uint64(seconds), 10), "--cors", cors,
				"--user-conf="+strconv.FormatBool(isRootless()))
		},
	}
	cmd.Flags().UintVarP(&seconds, "time", "t", 5, "seconds without a request before the service exits (0: never)")
	cmd.Flags().StringVar(&cors, "cors", "", "let browser pages of this origin (or *) call the API (CORS headers)")
	return cmd
}

// newCRICommand is `pea system cri [URI]`: the Kubernetes CRI (RuntimeService and
// ImageService) on a unix socket, for kubelet or crictl. It runs as <pea>-cri, which
// scripts/build.sh builds beside pea: pea itself links no gRPC (see internal/cri).
func newCRICommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "cri [URI]",
		Short: "Serve the Kubernetes Container Runtime Interface (unix:///PATH; default unix://RUNROOT/cri.sock)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			uri := serviceURI(a, args, "cri.sock")
			svc := self + "-cri"
			if _, err := os.Stat(svc); err != nil {
				return invalid("the CRI service %s is missing (scripts/build.sh builds it beside pea)", svc)
			}
			return execHelper(a, self, svc, uri)
		},
	}
}

// execHelper replaces this process with a service executable (svc) of pea self, serving uri
// for the store the global options name; extra are its own options.
func execHelper(a *app, self, svc, uri string, extra ...string) error {
	argv := append([]string{svc, "--pea", self, "--version", Version}, extra...)
	argv = append(append(argv, a.storeArgs(true)...), uri)
	// The service runs long and on every CPU: it must not inherit the start-up's pin and wide
	// timer slack (see cpupin).
	if err := cpupin.Release(); err != nil {
		return err
	}
	return syscall.Exec(svc, argv, os.Environ())
}

// serviceURI is the URI a service command was given, or by default unix://RUNROOT/<socket>.
func serviceURI(a *app, args []string, socket string) string {
	if len(args) == 1 {
		return args[0]
	}
	runRoot := a.opts.RunRoot
	if runRoot == "" {
		runRoot = engine.DefaultRunRoot
	}
	return "unix://" + filepath.Join(runRoot, socket)
}

// Command pea-cri serves the Kubernetes Container Runtime Interface (internal/cri) on a unix
// socket. `pea system cri` runs it; it is an executable of its own because pea links no gRPC.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"pea/internal/cri"
	"pea/internal/engine"
)

func main() {
	var opts engine.Options
	var pea, version string
	fs := flag.NewFlagSet("pea-cri", flag.ContinueOnError)
	fs.StringVar(&opts.Root, "root", "", "persistent storage")
	fs.StringVar(&opts.RunRoot, "runroot", "", "volatile state")
	fs.StringVar(&opts.Runtime, "runtime", "", "OCI runtime")
	fs.StringVar(&opts.Namespace, "namespace", "", "libpod namespace")
	fs.StringVar(&opts.LogLevel, "log-level", "", "log level")
	fs.StringVar(&pea, "pea", "", "the pea executable (conmon's exit command)")
	fs.StringVar(&version, "version", "0.1.0-dev", "pea's version")
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() != 1 || pea == "" {
		fmt.Fprintln(os.Stderr, "pea-cri: pea's CRI service; run it with `pea system cri [URI]`")
		os.Exit(125)
	}
	engine.SetExecutable(pea)
	ln, err := cri.Listen(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = cri.New(opts, version).Serve(ctx, ln)
	os.Remove(ln.Addr().String())
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
}

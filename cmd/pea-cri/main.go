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
	"pea/internal/service"
)

func main() {
	var f service.Flags
	fs := flag.NewFlagSet("pea-cri", flag.ContinueOnError)
	f.Register(fs)
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() != 1 || f.Pea == "" {
		fmt.Fprintln(os.Stderr, "pea-cri: pea's CRI service; run it with `pea system cri [URI]`")
		os.Exit(125)
	}
	engine.SetExecutable(f.Pea)
	ln, err := cri.Listen(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err = cri.New(f.Opts, f.Version).Serve(ctx, ln)
	os.Remove(ln.Addr().String())
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
}

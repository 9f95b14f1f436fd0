// Command pea-service serves pea's Docker-compatible REST API (internal/api). `pea system
// service` runs it; it is an executable of its own because pea links no HTTP.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"pea/internal/api"
	"pea/internal/engine"
	"pea/internal/service"
)

func main() {
	var f service.Flags
	var seconds uint
	fs := flag.NewFlagSet("pea-service", flag.ContinueOnError)
	f.Register(fs)
	fs.UintVar(&seconds, "time", 5, "idle seconds before exiting (0: never)")
	cors := fs.String("cors", "", "the origin browsers may call the API from")
	if err := fs.Parse(os.Args[1:]); err != nil || fs.NArg() != 1 || f.Pea == "" {
		fmt.Fprintln(os.Stderr, "pea-service: pea's API service; run it with `pea system service [--time N] [URI]`")
		os.Exit(125)
	}
	engine.SetExecutable(f.Pea)
	if err := f.LoadConf(); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
	// A socket systemd passed (pea.socket) wins over the URI, as podman's service does.
	ln, err := api.Activated()
	activated := ln != nil
	if err == nil && ln == nil {
		ln, err = api.Listen(fs.Arg(0))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	srv := api.New(f.Opts, f.Version)
	srv.AllowOrigin(*cors)
	err = srv.Serve(ctx, ln, time.Duration(seconds)*time.Second)
	if addr := ln.Addr(); addr.Network() == "unix" && !activated {
		os.Remove(addr.String()) // the socket systemd made stays its own
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(125)
	}
}

//go:build !pea_split

package cli

import (
	"context"
	"os/signal"
	"syscall"
	"time"

	"pea/internal/api"
	"pea/internal/cpupin"
	"pea/internal/engine"
)

// serveInProcess runs the API service in this process, for a pea built as one binary.
func serveInProcess(a *app, self, uri string, seconds uint, cors, _ string) error {
	if err := cpupin.Release(); err != nil {
		return err
	}
	engine.SetExecutable(self)
	ln, err := api.Activated()
	if err == nil && ln == nil {
		ln, err = api.Listen(uri)
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	opts := engine.Options{Root: a.opts.Root, RunRoot: a.opts.RunRoot, Runtime: a.opts.Runtime,
		Namespace: a.opts.Namespace, LogLevel: a.opts.LogLevel}
	srv := api.New(opts, Version)
	srv.AllowOrigin(cors)
	err = srv.Serve(ctx, ln, time.Duration(seconds)*time.Second)
	return err
}

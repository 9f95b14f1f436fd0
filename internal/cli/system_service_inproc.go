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
	opts, err := a.engineOptions()
	if err != nil {
		return err
	}
	srv := api.New(opts, Version)
	srv.AllowOrigin(cors)
	err = srv.Serve(ctx, ln, time.Duration(seconds)*time.Second)
	return err
}

package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

func init() { register(newHealthcheckCommand, "healthcheck") }

// newHealthcheckCommand is `pea healthcheck`: run, and the hidden timer the engine starts.
func newHealthcheckCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "healthcheck", Short: "Run container health checks", RunE: groupRunE}
	run := &cobra.Command{
		Use: "run CONTAINER", Short: "Run a container's health check once (exit code 0: healthy, 1: unhealthy)",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			res, err := rt.HealthcheckRun(context.Background(), args[0])
			if err != nil {
				return err
			}
			if !res.Healthy {
				status := "unhealthy"
				if res.Startup {
					status = res.Status // a failed startup check: starting still
				}
				fmt.Fprintln(a.stdout, status)
				return &errdefs.ExitError{Code: 1}
			}
			return nil
		},
	}
	timer := &cobra.Command{
		Use: "timer ID", Hidden: true, Args: cobra.ExactArgs(1),
		Short: "Run a container's health check at its interval while it runs (started by pea itself)",
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := a.engineOptions()
			if err != nil {
				return err
			}
			return engine.RunHealthTimer(context.Background(), opts, args[0])
		},
	}
	cmd.AddCommand(run, timer)
	return cmd
}

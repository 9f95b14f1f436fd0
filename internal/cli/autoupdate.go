package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

func init() { register(newAutoUpdateCommand, "auto-update") }

// autoUpdateRow is one line of `auto-update`, with podman's fields.
type autoUpdateRow struct {
	Unit, Container, ContainerID, ContainerName, Image, Policy, Updated string
}

// newAutoUpdateCommand is `auto-update`: the systemd units of the running containers labelled
// io.containers.autoupdate whose image has a newer version are restarted (engine/autoupdate.go).
func newAutoUpdateCommand(a *app) *cobra.Command {
	var reg registryFlags
	var dryRun, rollback bool
	var format string
	cmd := &cobra.Command{
		Use:   "auto-update [options]",
		Short: "Update the containers labelled io.containers.autoupdate by restarting their systemd units",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			reports, errs := rt.AutoUpdate(context.Background(), engine.AutoUpdateOptions{DryRun: dryRun, Rollback: rollback,
				Registry: reg.options(cmd.Flags().Changed, nil)})
			rows := make([]any, 0, len(reports))
			for _, r := range reports {
				rows = append(rows, &autoUpdateRow{Unit: r.Unit, Container: shortID(r.ContainerID) + " (" + r.ContainerName + ")",
					ContainerID: shortID(r.ContainerID), ContainerName: r.ContainerName, Image: r.Image, Policy: r.Policy, Updated: r.Updated})
			}
			if len(rows) > 0 || format != "" {
				if err := render(a.stdout, format, false, rows, rows, table{format: "{{.Unit}}\t{{.Container}}\t{{.Image}}\t{{.Policy}}\t{{.Updated}}"}); err != nil {
					return err
				}
			}
			return joinErrors(a, errs)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&dryRun, "dry-run", false, "report what would be updated, change nothing")
	f.BoolVar(&rollback, "rollback", true, "when a unit fails to restart, give the name back to the old image and restart again")
	f.StringVar(&format, "format", "", "format with a Go template or json")
	f.StringVar(&reg.authfile, "authfile", "", "path of the authentication file")
	f.BoolVar(&reg.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates (false allows plain HTTP)")
	return cmd
}

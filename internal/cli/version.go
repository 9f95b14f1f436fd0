package cli

import (
	"fmt"
	"io"

	"pea/internal/engine"

	"github.com/spf13/cobra"
)

// Version is pea's version, set at build time with -ldflags "-X pea/internal/cli.Version=...".
var Version = "0.1.0-dev"

type versionOptions struct{ format string }

func init() { register(newVersionCommand, "version") }

func newVersionCommand(a *app) *cobra.Command {
	var o versionOptions
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show pea's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := struct {
				Client peaVersion
				Server *peaVersion `json:",omitempty"`
			}{Client: peaVersion(versionInfo())}
			v.Server = a.remoteServer // pea --remote version (remote.go)
			if o.format == "json" {
				return printJSONStyle(a.stdout, v, jsonCompact)
			}
			if o.format != "" {
				return renderEach(a.stdout, o.format, []any{v}, jsonCompact)
			}
			if v.Server == nil {
				v.Client.print(a.stdout)
				return nil
			}
			fmt.Fprintln(a.stdout, "Client:       Pea Engine")
			v.Client.print(a.stdout)
			fmt.Fprintln(a.stdout, "\nServer:       Pea Engine")
			v.Server.print(a.stdout)
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", "format the output with a Go template or json")
	return cmd
}

// peaVersion is a version block with podman's fields (GitCommit, BuiltTime, Built and Os too).
type peaVersion engine.VersionInfo

func (v *peaVersion) print(w io.Writer) {
	fmt.Fprintf(w, "Version:      %s\nAPI Version:  %s\nGo Version:   %s\nOS/Arch:      %s\n", v.Version, v.APIVersion, v.GoVersion, v.OsArch)
}

package cli

import (
	"fmt"
	"runtime"

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
				Client struct {
					APIVersion, Version, GoVersion, OsArch string
				}
			}{}
			v.Client.APIVersion = "4.3.1"
			v.Client.Version = Version
			v.Client.GoVersion = runtime.Version()
			v.Client.OsArch = runtime.GOOS + "/" + runtime.GOARCH
			if o.format == "json" {
				return printJSONStyle(a.stdout, v, jsonCompact)
			}
			if o.format != "" {
				return renderEach(a.stdout, o.format, []any{v}, jsonCompact)
			}
			fmt.Fprintf(a.stdout, "Version:      %s\nAPI Version:  %s\nGo Version:   %s\nOS/Arch:      %s\n",
				v.Client.Version, v.Client.APIVersion, v.Client.GoVersion, v.Client.OsArch)
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.format, "format", "f", "", "format the output with a Go template or json")
	return cmd
}

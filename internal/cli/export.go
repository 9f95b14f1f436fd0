package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"pea/internal/fsx"
	"pea/internal/trace"
)

func init() { register(newExportCommand, "export") }

// newExportCommand is `export [-o FILE] CONTAINER`: the container's root filesystem as a tar.
func newExportCommand(a *app) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "export [options] CONTAINER",
		Short: "Export a container's root filesystem as a tar archive",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := a.stdout
			if output == "" {
				if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return invalid("refusing to write a tar archive to a terminal: use --output FILE or redirect")
				}
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if output != "" {
				// Named once whole, as save's (a killed export leaves no partial archive).
				f, publish, abandon, err := fsx.CreateUnnamed(output)
				if err != nil {
					return err
				}
				err = rt.ExportContainer(context.Background(), args[0], f)
				if err == nil {
					trace.Mark("export: written")
					err = publish()
				}
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					abandon()
				}
				return err
			}
			return rt.ExportContainer(context.Background(), args[0], w)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

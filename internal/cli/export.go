package cli

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
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
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				err = rt.ExportContainer(context.Background(), args[0], f)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(output)
				}
				return err
			}
			return rt.ExportContainer(context.Background(), args[0], w)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}

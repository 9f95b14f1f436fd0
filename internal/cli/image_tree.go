package cli

import (
	"io"

	"github.com/spf13/cobra"

	"pea/internal/view"
)

// newImageTreeCommand is `image tree [--whatrequires] IMAGE`: the image's layers, bottom first,
// each with the images it is the top layer of, in podman's layout.
func newImageTreeCommand(a *app) *cobra.Command {
	var whatRequires bool
	cmd := &cobra.Command{
		Use:   "tree [options] IMAGE",
		Short: "Print the layers of an image as a tree",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			img, layers, err := rt.ImageTree(args[0], whatRequires)
			if err != nil {
				return err
			}
			_, err = io.WriteString(a.stdout, view.ImageTree(img, rt.ImageStorageSize(img), layers))
			return err
		},
	}
	cmd.Flags().BoolVar(&whatRequires, "whatrequires", false, "show the layers of the images built on this one")
	return cmd
}

package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

func init() { register(newCommitCommand, "commit") }

// newCommitCommand is `commit CONTAINER [IMAGE]`: an image of the container's image and its
// changes; it prints the new image's ID.
func newCommitCommand(a *app) *cobra.Command {
	var o engine.CommitOptions
	var quiet, pause bool
	var format, iidFile string
	cmd := &cobra.Command{
		Use:   "commit [options] CONTAINER [IMAGE]",
		Short: "Create an image from a container's changes",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "oci" && format != "docker" {
				return invalid("invalid --format %q (oci, docker)", format)
			}
			if len(args) == 2 {
				o.Ref = args[1]
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			img, err := rt.CommitContainer(context.Background(), args[0], o)
			if err != nil {
				return err
			}
			if iidFile != "" {
				if err := os.WriteFile(iidFile, []byte(img.ID), 0o644); err != nil {
					return fmt.Errorf("--iidfile: %w", err)
				}
			}
			fmt.Fprintln(a.stdout, img.ID)
			return nil
		},
	}
	noHelpShorthand(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.Author, "author", "a", "", "the image's author")
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)")
	f.StringVarP(&o.Message, "message", "m", "", "the commit message (the history entry's comment)")
	f.BoolVarP(&quiet, "quiet", "q", false, "print only the image ID (pea prints nothing else anyway)")
	f.BoolVarP(&pause, "pause", "p", false, "accepted for compatibility: the changes are read without pausing")
	f.StringVarP(&format, "format", "f", "oci", "image format: oci or docker (pea stores OCI images either way)")
	f.StringVar(&iidFile, "iidfile", "", "write the image ID to this file")
	f.BoolVar(&o.IncludeVolumes, "include-volumes", false, "make the container's volumes the image's volumes")
	f.BoolVarP(&o.Squash, "squash", "s", false, "make the image one layer: the container's whole root filesystem")
	return cmd
}

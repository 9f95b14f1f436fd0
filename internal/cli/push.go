package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { register(newPushCommand, "push") }

type pushOptions struct {
	registryFlags
	digestFile, format   string
	compress, removeSigs bool
}

// newPushCommand is `push IMAGE [DESTINATION]`.
func newPushCommand(a *app) *cobra.Command {
	var o pushOptions
	cmd := &cobra.Command{
		Use:   "push [options] IMAGE [DESTINATION]",
		Short: "Push an image to a registry",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if err := rt.ImagePush(context.Background(), args[0], dest, o.options(cmd.Flags().Changed, a.stderr)); err != nil {
				return err
			}
			if o.digestFile != "" {
				img, err := rt.ImageLookup(args[0])
				if err != nil {
					return err
				}
				if err := os.WriteFile(o.digestFile, []byte(img.Digest), 0o644); err != nil {
					return fmt.Errorf("--digestfile: %w", err)
				}
			}
			return nil
		},
	}
	o.registryFlags.register(cmd.Flags())
	o.registryFlags.registerCertDir(cmd.Flags())
	cmd.Flags().Bool("disable-content-trust", false, "accepted for Docker compatibility; does nothing (as podman)")
	f := cmd.Flags()
	f.StringVar(&o.digestFile, "digestfile", "", "write the pushed manifest's digest to this file")
	f.StringVarP(&o.format, "format", "f", "", "manifest type (accepted for compatibility: the stored manifest is pushed as is)")
	f.BoolVar(&o.compress, "compress", false, "accepted for compatibility: layers are pushed as stored")
	f.BoolVar(&o.removeSigs, "remove-signatures", false, "accepted for compatibility: pea stores no signatures")
	return cmd
}

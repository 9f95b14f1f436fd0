package cli

import (
	"context"

	"github.com/spf13/cobra"

	"pea/internal/image"
)

// newImageSignCommand is `image sign --sign-by KEY docker://IMAGE...`: a simple signature of each
// image, as a registry holds it, made with gpg and written where registries.d's lookaside (or
// --directory) says.
func newImageSignCommand(a *app) *cobra.Command {
	var o image.SignOptions
	var authfile, certDir string
	cmd := &cobra.Command{
		Use:   "sign [options] IMAGE [IMAGE...]",
		Short: "Sign an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			o.Registry = image.PullOptions{AuthFile: authfile, CertDir: certDir}
			o.Creator = "pea " + Version
			for _, ref := range args {
				if err := rt.ImageSign(context.Background(), ref, o); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "Sign all the manifests of the multi-architecture image")
	f.StringVar(&authfile, "authfile", "", "Path of the authentication file. Use REGISTRY_AUTH_FILE environment variable to override")
	f.StringVar(&certDir, "cert-dir", "", "Pathname of a directory containing TLS certificates and keys")
	f.StringVarP(&o.Directory, "directory", "d", "", "Define an alternate directory to store signatures")
	f.StringVar(&o.SignBy, "sign-by", "", "Name of the signing key")
	return cmd
}

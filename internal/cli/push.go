package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/image"
)

func init() { register(newPushCommand, "push") }

type pushOptions struct {
	registryFlags
	pushFlags
	digestFile, format   string
	compress, removeSigs bool
}

// pushFlags are push's and manifest push's --compression-format, and the signing flags pea
// refuses (it has no keys to sign with).
type pushFlags struct {
	compression, signBy, sigstoreKey, passphraseFile string
}

func (p *pushFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.compression, "compression-format", "", "compress the layers pushed with gzip or zstd (default: as stored)")
	f.StringVar(&p.signBy, "sign-by", "", "refused: pea signs no images")
	f.StringVar(&p.sigstoreKey, "sign-by-sigstore-private-key", "", "refused: pea signs no images")
	f.StringVar(&p.passphraseFile, "sign-passphrase-file", "", "refused: pea signs no images")
}

// check refuses the signing flags and an unknown compression, before anything is sent.
func (p *pushFlags) check() error {
	switch {
	case p.signBy != "":
		return invalid("--sign-by: pea does not sign images (it has no GPG keys)")
	case p.sigstoreKey != "":
		return invalid("--sign-by-sigstore-private-key: pea does not sign images (no sigstore signatures)")
	case p.passphraseFile != "":
		return invalid("--sign-passphrase-file: pea does not sign images, so it needs no passphrase")
	}
	return image.CheckCompression(p.compression)
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
			if err := o.pushFlags.check(); err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			po := o.options(cmd.Flags().Changed, a.stderr)
			po.Compression = o.compression
			digest, err := rt.ImagePush(context.Background(), args[0], dest, po)
			if err != nil {
				return err
			}
			if o.digestFile != "" {
				if err := os.WriteFile(o.digestFile, []byte(digest), 0o644); err != nil {
					return fmt.Errorf("--digestfile: %w", err)
				}
			}
			return nil
		},
	}
	o.registryFlags.register(cmd.Flags())
	o.registryFlags.registerCertDir(cmd.Flags())
	registerSignaturePolicy(cmd.Flags(), &o.signaturePolicy) // accepted: a push's source is the store, which podman's push does not check
	cmd.Flags().Bool("disable-content-trust", false, "accepted for Docker compatibility; does nothing (as podman)")
	f := cmd.Flags()
	f.StringVar(&o.digestFile, "digestfile", "", "write the pushed manifest's digest to this file")
	f.StringVarP(&o.format, "format", "f", "", "manifest type (accepted for compatibility: the stored manifest is pushed as is)")
	f.BoolVar(&o.compress, "compress", false, "accepted for compatibility: layers are pushed as stored")
	f.BoolVar(&o.removeSigs, "remove-signatures", false, "accepted for compatibility: pea stores no signatures")
	o.pushFlags.register(f)
	return cmd
}

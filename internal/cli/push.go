package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/image"
	"pea/internal/image/trust"
)

func init() { register(newPushCommand, "push") }

type pushOptions struct {
	registryFlags
	pushFlags
	digestFile, format   string
	compress, removeSigs bool
}

// pushFlags are push's and manifest push's --compression-format and signing flags: a simple
// signature by gpg (--sign-by), never a sigstore one.
type pushFlags struct {
	compression, signBy, sigstoreKey, passphraseFile string
}

func (p *pushFlags) register(f *pflag.FlagSet) {
	f.StringVar(&p.compression, "compression-format", "", "compress the layers pushed with gzip or zstd (default: as stored)")
	f.StringVar(&p.signBy, "sign-by", "", "Add a signature at the destination using the specified key")
	f.StringVar(&p.sigstoreKey, "sign-by-sigstore-private-key", "", "refused: pea makes no sigstore signatures")
	f.StringVar(&p.passphraseFile, "sign-passphrase-file", "", "Read a passphrase for signing an image from PATH")
}

// check refuses what pea cannot do and an unknown compression, before anything is sent.
func (p *pushFlags) check() error {
	switch {
	case p.sigstoreKey != "":
		return invalid("--sign-by-sigstore-private-key: pea does not make sigstore signatures (--sign-by makes a GPG one)")
	case p.passphraseFile != "" && p.signBy == "":
		return invalid("only one of --sign-by and sign-by-sigstore-private-key can be used with --sign-passphrase-file")
	}
	if p.signBy != "" {
		if err := trust.CheckSigningKey(p.signBy); err != nil {
			return fmt.Errorf("--sign-by: %w", err)
		}
	}
	return image.CheckCompression(p.compression)
}

// sign signs what was pushed as dest, whose manifest has the digest, when --sign-by asks.
func (p *pushFlags) sign(a *app, quiet bool, dest, digest string) error {
	if p.signBy == "" {
		return nil
	}
	if !quiet {
		fmt.Fprintln(a.stderr, "Signing manifest using simple signing")
		fmt.Fprintln(a.stderr, "Storing signatures")
	}
	return image.SignPushed(dest, digest, image.SignOptions{SignBy: p.signBy, PassphraseFile: p.passphraseFile, Creator: "pea " + Version})
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
			if dest == "" {
				dest = args[0]
			}
			if err := o.sign(a, o.quiet, dest, digest); err != nil {
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

package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/image"
)

func init() { register(newImportCommand, "import") }

type importOptions struct {
	changes []string
	message string
	quiet   bool
	// signaturePolicy is --signature-policy
	signaturePolicy string
	// the platform the image's config names
	arch, os, variant string
}

// newImportCommand is `import TARBALL|URL|- [REFERENCE]`: a root filesystem becomes a one-layer
// image; it prints the new image's ID.
func newImportCommand(a *app) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import [options] PATH [REFERENCE]",
		Short: "Import a tarball to create a filesystem image",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			return runImport(a, args[0], ref, &o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.changes, "change", "c", nil, "apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR)")
	f.StringVarP(&o.message, "message", "m", "", "set the commit message of the imported image")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "suppress the progress output")
	f.StringVar(&o.arch, "arch", "", "set the architecture of the imported image")
	f.StringVar(&o.os, "os", "", "set the OS of the imported image")
	f.StringVar(&o.variant, "variant", "", "set the variant of the imported image")
	registerSignaturePolicy(f, &o.signaturePolicy)
	return cmd
}

func runImport(a *app, src, ref string, o *importOptions) error {
	var r io.Reader
	var created time.Time
	switch {
	case src == "-":
		r = a.stdin
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		body, err := image.FetchURL(context.Background(), src)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer body.Close()
		r = body
	default:
		f, err := os.Open(src)
		if err != nil {
			return fmt.Errorf("error opening %q: %w", src, err)
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			created = fi.ModTime()
		}
		r = f
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	img, err := rt.ImageImport(r, ref, image.ImportOptions{Changes: o.changes, Message: o.message,
		Arch: o.arch, OS: o.os, Variant: o.variant, SignaturePolicy: o.signaturePolicy, Source: src, Created: created})
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "sha256:"+img.ID) // as podman prints it
	return nil
}

package cli

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/image"
)

func init() { register(newLoadCommand, "load") }

type loadOptions struct {
	input, signaturePolicy string
	quiet                  bool
}

// newLoadCommand is `load [-i FILE]`: a docker-archive or oci-archive from a file or stdin.
func newLoadCommand(a *app) *cobra.Command {
	var o loadOptions
	cmd := &cobra.Command{
		Use:   "load [options]",
		Short: "Load image(s) from a tar archive",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := takesNoArgs(cmd, args); err != nil {
				return err
			}
			var r io.Reader = a.stdin
			if o.input != "" && o.input != "-" {
				fi, err := os.Stat(o.input)
				if err != nil {
					return err
				}
				if fi.IsDir() { // oci-dir, docker-dir
					rc := image.TarDir(o.input)
					defer rc.Close()
					r = rc
				} else {
					f, err := os.Open(o.input)
					if err != nil {
						return fmt.Errorf("load: %w", err)
					}
					defer f.Close()
					r = f
				}
			} else if f, ok := a.stdin.(*os.File); ok && isTerminal(f) {
				return fmt.Errorf("cannot read from terminal, use command-line redirection or the --input flag: %w", errdefs.ErrInvalid)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			imgs, err := rt.ImageLoad(r, image.LoadOptions{SignaturePolicy: o.signaturePolicy, Source: o.input})
			if err != nil {
				return err
			}
			if !o.quiet {
				var b strings.Builder
				for _, img := range imgs { // the lines podman prints as it copies each image in
					b.WriteString("Getting image source signatures\n")
					for _, l := range img.LayerBlobs {
						fmt.Fprintf(&b, "Copying blob %s\n", l)
					}
					fmt.Fprintf(&b, "Copying config %s\nWriting manifest to image destination\nStoring signatures\n", img.ConfigDigest)
				}
				io.WriteString(a.stderr, b.String())
			}
			for _, img := range imgs {
				if len(img.Names) == 0 {
					fmt.Fprintf(a.stdout, "Loaded image: sha256:%s\n", img.ID)
				}
				for _, n := range img.Names {
					fmt.Fprintf(a.stdout, "Loaded image: %s\n", n)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.input, "input", "i", "", "read from this file instead of stdin")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "suppress the progress output")
	registerSignaturePolicy(cmd.Flags(), &o.signaturePolicy)
	return cmd
}

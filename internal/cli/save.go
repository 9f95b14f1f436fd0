package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
)

func init() { register(newSaveCommand, "save") }

type saveOptions struct {
	output, format         string
	signaturePolicy        string
	quiet, multi, compress bool
}

// newSaveCommand is `save [-o FILE] [--format docker-archive|oci-archive] IMAGE...`.
func newSaveCommand(a *app) *cobra.Command {
	var o saveOptions
	cmd := &cobra.Command{
		Use:   "save [options] IMAGE [IMAGE...]",
		Short: "Save image(s) to an archive",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSave(a, args, &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write to this file (default stdout, if it is not a terminal)")
	f.StringVar(&o.format, "format", "docker-archive", "docker-archive or oci-archive")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "suppress the progress output")
	f.BoolVarP(&o.multi, "multi-image-archive", "m", false, "accepted for compatibility: several images always go in one archive")
	f.BoolVar(&o.compress, "compress", false, "accepted for compatibility (directory formats only)")
	registerSignaturePolicy(f, &o.signaturePolicy)
	f.Bool("uncompressed", false, "accepted for compatibility: it concerns the directory formats (oci-dir, docker-dir), which pea does not write")
	return cmd
}

func runSave(a *app, args []string, o *saveOptions) error {
	if o.format != "docker-archive" && o.format != "oci-archive" {
		return fmt.Errorf("unsupported --format %q: use docker-archive or oci-archive: %w", o.format, errdefs.ErrInvalid)
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	var w io.Writer = a.stdout
	if o.output == "" || o.output == "-" {
		if f, ok := a.stdout.(*os.File); ok && isTerminal(f) {
			return fmt.Errorf("refusing to save to a terminal: use -o or redirect stdout: %w", errdefs.ErrInvalid)
		}
		return rt.ImageSave(w, args, o.format, o.signaturePolicy)
	}
	// Check the images first, so that a typo does not leave an empty file behind.
	for _, ref := range args {
		if _, err := rt.ImageLookup(ref); err != nil {
			return err
		}
	}
	f, err := os.Create(o.output)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	err = rt.ImageSave(f, args, o.format, o.signaturePolicy)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(o.output)
	}
	return err
}

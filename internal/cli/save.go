package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/image"
	"pea/internal/trace"
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return errors.New("need at least 1 argument")
			}
			return runSave(a, args, &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "write to this file or directory (default stdout, if it is not a terminal)")
	f.StringVar(&o.format, "format", image.FormatDockerArchive, "oci-archive, oci-dir (a directory with an OCI layout), docker-archive or docker-dir (a directory)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "suppress the progress output")
	f.BoolVarP(&o.multi, "multi-image-archive", "m", false, "save every image named in one docker-archive (without it, the other names are more tags of the first image)")
	f.BoolVar(&o.compress, "compress", false, "accepted for docker-dir, whose layers pea writes as stored")
	registerSignaturePolicy(f, &o.signaturePolicy)
	f.Bool("uncompressed", false, "accepted for compatibility: pea writes the layers of the directory formats as stored")
	return cmd
}

func runSave(a *app, args []string, o *saveOptions) error {
	switch o.format {
	case image.FormatDockerArchive, image.FormatOCIArchive, image.FormatOCIDir, image.FormatDockerDir:
	default:
		return errors.New("format value must be one of oci-dir oci-archive docker-dir docker-archive")
	}
	if o.compress && o.format != image.FormatDockerDir {
		return errors.New("--compress can only be set when --format is 'docker-dir'")
	}
	so := image.SaveOptions{Format: o.format}
	if len(args) > 1 {
		switch {
		case !o.multi: // as podman: the first image, its other names more tags (docker-archive)
			args, so.ExtraTags = args[:1], args[1:]
		case o.format != image.FormatDockerArchive:
			return fmt.Errorf("unsupported format %q for saving multiple images (only docker-archive)", o.format)
		}
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	var w io.Writer = a.stdout
	if o.output == "" || o.output == "-" {
		if o.format == image.FormatOCIDir || o.format == image.FormatDockerDir {
			return fmt.Errorf("--format %s needs a directory: use -o: %w", o.format, errdefs.ErrInvalid)
		}
		if f, ok := a.stdout.(*os.File); ok && isTerminal(f) {
			return fmt.Errorf("refusing to save to a terminal: use -o or redirect stdout: %w", errdefs.ErrInvalid)
		}
		return rt.ImageSaveWith(w, "", args, so, o.signaturePolicy)
	}
	// Check the images first, so that a typo does not leave an empty file behind.
	var imgs []*image.Image
	for _, ref := range args {
		img, err := rt.ImageLookup(ref)
		if err != nil {
			return err
		}
		imgs = append(imgs, img)
	}
	switch o.format {
	case image.FormatOCIDir, image.FormatDockerDir:
		if err := checkSaveDir(o.output, o.format); err != nil {
			return err
		}
		err = rt.ImageSaveWith(nil, o.output, args, so, o.signaturePolicy)
	default:
		// As podman, a docker-archive never replaces a file with something in it.
		if fi, serr := os.Stat(o.output); serr == nil && fi.Mode().IsRegular() && fi.Size() > 0 && o.format == image.FormatDockerArchive {
			return errors.New("docker-archive doesn't support modifying existing images")
		}
		// Written without a name, named once whole: a save killed half-way leaves no partial
		// archive, which a retry would refuse as an existing one.
		f, publish, abandon, cerr := fsx.CreateUnnamed(o.output)
		if cerr != nil {
			return fmt.Errorf("save: %w", cerr)
		}
		err = rt.ImageSaveWith(f, "", args, so, o.signaturePolicy)
		if err == nil {
			trace.Mark("save: written")
			err = publish()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			abandon()
		}
	}
	if err == nil && !o.quiet {
		saveProgress(a.stderr, imgs)
	}
	return err
}

// checkSaveDir refuses, as podman does, to write docker-dir into a directory that holds
// something other than a docker-dir.
func checkSaveDir(dir, format string) error {
	if format != image.FormatDockerDir {
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "version")); err != nil {
		return fmt.Errorf("initializing destination dir:%s: not a containers image directory, don't want to overwrite important data", dir)
	}
	return nil
}

// saveProgress prints the lines podman's save prints while it copies each image to a file.
func saveProgress(w io.Writer, imgs []*image.Image) {
	var b strings.Builder
	for _, img := range imgs {
		for _, l := range img.LayerBlobs {
			fmt.Fprintf(&b, "Copying blob %s\n", l)
		}
		fmt.Fprintf(&b, "Copying config %s\nWriting manifest to image destination\nStoring signatures\n", img.ConfigDigest)
	}
	io.WriteString(w, b.String())
}

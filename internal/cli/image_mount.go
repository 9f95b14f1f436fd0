package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// newImageMountCommand is `pea image mount`: mount images read-only on the host and print
// where, or with none named, list the mounted ones.
func newImageMountCommand(a *app) *cobra.Command {
	var all bool
	var format string
	cmd := &cobra.Command{
		Use:   "mount [options] [IMAGE...]",
		Short: "Mount an image's root filesystem",
		Long:  "Mount the named images read-only and print where; with none named, list the mounted images and their mount points.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "" && format != "json" {
				return invalid("unknown --format argument: %q", format)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if all {
				imgs, err := rt.ImageList()
				if err != nil {
					return err
				}
				for _, img := range imgs {
					if _, err := rt.ImageMount(img.ID); err != nil {
						return err
					}
				}
			}
			if len(args) == 0 {
				mounted, err := rt.MountedImages()
				if err != nil {
					return err
				}
				return printMountedImages(a, mounted, format)
			}
			var errs []error
			for _, name := range args {
				path, err := rt.ImageMount(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.stdout, path)
			}
			return joinErrors(a, errs)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "mount every image")
	cmd.Flags().StringVar(&format, "format", "", "print the mounted images in this format (json)")
	return cmd
}

// mountedImageJSON is one entry of `image mount --format json`, with podman's keys.
type mountedImageJSON struct {
	ID           string   `json:"id"`
	Names        []string `json:"Names"`
	Repositories []string `json:"Repositories"`
	Mountpoint   string   `json:"mountpoint"`
}

func printMountedImages(a *app, mounted []engine.MountedImage, format string) error {
	if format == "json" {
		list := make([]mountedImageJSON, 0, len(mounted))
		for _, m := range mounted {
			digests := m.Image.Digests
			if len(digests) == 0 && m.Image.Digest != "" {
				digests = []string{m.Image.Digest}
			}
			list = append(list, mountedImageJSON{ID: m.Image.ID, Names: digests, Repositories: m.Image.Names, Mountpoint: m.Path})
		}
		b, err := json.MarshalIndent(list, "", " ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, string(b))
		return err
	}
	var b strings.Builder
	for _, m := range mounted {
		name := m.Image.ID
		if len(m.Image.Names) > 0 {
			name = m.Image.Names[0]
		}
		fmt.Fprintf(&b, "%s\t%s\n", name, m.Path)
	}
	_, err := a.stdout.Write(alignColumns([]byte(b.String())))
	return err
}

// newImageUmountCommand is `pea image umount` (or unmount).
func newImageUmountCommand(a *app) *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:     "unmount [options] IMAGE [IMAGE...]",
		Aliases: []string{"umount"},
		Short:   "Unmount images' root filesystems",
		Long:    "Each mount of an image adds one to its mount count, each unmount takes one away; the image is unmounted when the count reaches zero. --force unmounts at once.",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			targets := args
			if all {
				mounted, err := rt.MountedImages()
				if err != nil {
					return err
				}
				targets = nil
				for _, m := range mounted {
					targets = append(targets, m.Image.ID)
				}
			} else if len(args) == 0 {
				return usageError{fmt.Errorf("at least one image name or ID must be given (or --all)")}
			}
			var errs []error
			for _, t := range targets {
				id, was, err := rt.ImageUnmount(t, force || all)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if was {
					fmt.Fprintln(a.stdout, id)
				}
			}
			return joinErrors(a, errs)
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "unmount every mounted image")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "unmount at once, whatever the mount count")
	return cmd
}

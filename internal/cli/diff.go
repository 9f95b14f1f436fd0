package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

func init() { register(newDiffCommand, "diff") }

// newDiffCommand is `diff CONTAINER`: what the container changed in its image's files, one
// "A|C|D PATH" line each (podman's), or --format json.
func newDiffCommand(a *app) *cobra.Command {
	var format string
	var latest bool
	cmd := &cobra.Command{
		Use:   "diff [options] CONTAINER",
		Short: "List the files a container added, changed or deleted",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, _, err := targetAndRest(rt, latest, args, "container", "diff")
			if err != nil {
				return err
			}
			changes, err := rt.ContainerChanges(target)
			if errdefs.Is(err, errdefs.ErrNoSuchContainer) && !latest {
				// podman's diff takes an image too.
				if imgChanges, ierr := rt.ImageChanges(target, ""); ierr == nil {
					changes, err = imgChanges, nil
				}
			}
			if err != nil {
				return err
			}
			return printChanges(a, format, changes)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "json for an object of added, changed and deleted paths")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

// printChanges prints changes as "A|C|D PATH" lines (podman's), or --format json's object of
// changed, added and deleted paths.
func printChanges(a *app, format string, changes []engine.Change) error {
	switch format {
	case "json":
		var v struct {
			Changed []string `json:"changed,omitempty"`
			Added   []string `json:"added,omitempty"`
			Deleted []string `json:"deleted,omitempty"`
		}
		for _, c := range changes {
			switch c.Kind {
			case "A":
				v.Added = append(v.Added, c.Path)
			case "C":
				v.Changed = append(v.Changed, c.Path)
			default:
				v.Deleted = append(v.Deleted, c.Path)
			}
		}
		return printJSONStyle(a.stdout, v, jsonFive)
	case "":
		var b strings.Builder
		for _, c := range changes {
			fmt.Fprintf(&b, "%s %s\n", c.Kind, c.Path)
		}
		_, err := a.stdout.Write([]byte(b.String()))
		return err
	}
	return invalid("invalid --format %q (json)", format)
}

// newImageDiffCommand is `image diff IMAGE [IMAGE]`: what the image changed over its parent
// layers, or over the second image.
func newImageDiffCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff [options] IMAGE [IMAGE]",
		Short: "List the files an image added, changed or deleted over its parent layers or another image",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			other := ""
			if len(args) == 2 {
				other = args[1]
			}
			changes, err := rt.ImageChanges(args[0], other)
			if err != nil {
				return err
			}
			return printChanges(a, format, changes)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "json for an object of added, changed and deleted paths")
	return cmd
}

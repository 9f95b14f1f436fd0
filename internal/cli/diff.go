package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
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
			if err != nil {
				return err
			}
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
				return printJSON(a.stdout, v)
			case "":
				var b strings.Builder
				for _, c := range changes {
					fmt.Fprintf(&b, "%s %s\n", c.Kind, c.Path)
				}
				_, err := a.stdout.Write([]byte(b.String()))
				return err
			}
			return invalid("invalid --format %q (json)", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "", "json for an object of added, changed and deleted paths")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

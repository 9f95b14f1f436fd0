package cli

import (
	"github.com/spf13/cobra"
)

func init() {
	register(newTagCommand, "tag")
	register(newUntagCommand, "untag")
}

// newTagCommand is `tag IMAGE NAME [NAME...]`: a short name goes under localhost/.
func newTagCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tag IMAGE TARGET_NAME [TARGET_NAME...]",
		Short: "Add an additional name to a local image",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.ImageTag(args[0], args[1:]...)
		},
	}
}

// newUntagCommand is `untag IMAGE [NAME...]`: with no names every name is removed.
func newUntagCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "untag IMAGE [IMAGE...]",
		Short: "Remove a name from a local image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return rt.ImageUntag(args[0], args[1:]...)
		},
	}
}

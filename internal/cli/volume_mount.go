package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// volumeMountCommands are `pea volume mount`, `unmount` and `reload`.
func volumeMountCommands(a *app) []*cobra.Command {
	mount := &cobra.Command{
		Use:   "mount VOLUME [VOLUME...]",
		Short: "Mount volumes and print where (a volume with mount options is held mounted until volume unmount)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				dir, err := rt.MountVolume(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.stdout, dir)
			}
			return joinErrors(a, errs)
		},
	}
	unmount := &cobra.Command{
		Use:     "unmount VOLUME [VOLUME...]",
		Aliases: []string{"umount"},
		Short:   "Undo a volume mount",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return removeEach(a, args, func(name string) (string, error) { return name, rt.UnmountVolume(name) })
		},
	}
	reload := &cobra.Command{
		Use:   "reload",
		Short: "Reload the volumes of volume plugins (pea has none: nothing changes)",
		Args:  takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := a.engine()
			return err
		},
	}
	return []*cobra.Command{mount, unmount, reload}
}

package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func init() { register(newCreateCommand, "create") }

func newCreateCommand(a *app) *cobra.Command {
	var f createFlags
	var attach []string
	cmd := &cobra.Command{
		Use:   "create [options] IMAGE [COMMAND [ARG...]]",
		Short: "Create a container without starting it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			// As podman's: the streams are checked, and are run's to attach; a created
			// container's `start --attach` attaches stdout and stderr (-i stdin) whatever
			// create was given.
			if _, err := parseAttach(attach, false); err != nil {
				return err
			}
			if cmd.Flags().Changed("preserve-fds") {
				return invalid("--preserve-fds is run's: the fds passed on are those of the pea that creates and starts the container")
			}
			f.conf = a.cfg
			cfg, o, err := f.toConfig(args[0], args[1:], cmd.Flags().Changed)
			if err != nil {
				return err
			}
			warn(a, f.warnings)
			cfg.CreateCommand = a.args
			o.Registry = f.registry.options(cmd.Flags().Changed, a.stderr)
			o.Replaced = func(name string) { fmt.Fprintln(a.stdout, name) } // podman's rm prints it
			c, err := rt.CreateContainer(context.Background(), cfg, o)
			if err != nil {
				return err
			}
			if f.cidFile != "" {
				if err := os.WriteFile(f.cidFile, []byte(c.Config.ID), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintln(a.stdout, c.Config.ID)
			return nil
		},
	}
	noHelpShorthand(cmd)
	f.register(cmd.Flags())
	cmd.Flags().StringSliceVarP(&attach, "attach", "a", nil, "STDIN, STDOUT or STDERR (checked; as podman's, a later start --attach attaches stdout and stderr)")
	return withFlagAliases(cmd, podmanFlagAlias)
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// takesNoArgs refuses arguments with podman's words ("`pea volume ls` takes no arguments");
// cobra's own NoArgs calls an argument an unknown command.
func takesNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("`%s` takes no arguments", cmd.CommandPath())
	}
	return nil
}

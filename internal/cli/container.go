package cli

import "github.com/spf13/cobra"

func init() { register(newContainerCommand, "container") }

// newContainerCommand is `pea container VERB`: the container verbs under one parent, as podman
// has them, plus the hidden cleanup that conmon calls.
func newContainerCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "container",
		Short: "Manage containers",
		RunE:  groupRunE,
	}
	for _, f := range []func(*app) *cobra.Command{
		newCreateCommand, newRunCommand, newStartCommand, newStopCommand, newKillCommand,
		newPauseCommand(true), newPauseCommand(false), newRestartCommand, newRmCommand,
		newCleanupCommand, newPsCommand, newInspectCommand(true), newLogsCommand, newExecCommand,
		newWaitCommand, newExistsCommand, newPruneCommand, newRenameCommand, newTopCommand,
		newCpCommand, newAttachCommand, newPortCommand, newCommitCommand, newDiffCommand, newExportCommand,
		newStatsCommand, newUpdateCommand, newInitCommand, newMountCommand, newUmountCommand, newContainerCloneCommand,
		newRunlabelCommand,
	} {
		sub := f(a)
		if sub.Name() == "ps" {
			sub.Use = "list"
			sub.Aliases = []string{"ls", "ps"}
		}
		cmd.AddCommand(sub)
	}
	return cmd
}

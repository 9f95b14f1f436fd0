package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// newPodCloneCommand is `pea pod clone POD [NAME]`: a new pod with the configuration of an
// existing one, a new infra container and a clone of each of its containers.
func newPodCloneCommand(a *app) *cobra.Command {
	var o engine.PodCloneOptions
	var res resourceFlags
	var labels, labelFiles []string
	var infraCommand string
	cmd := &cobra.Command{
		Use:   "clone [options] POD [NAME]",
		Short: "Clone an existing pod",
		Long:  "Create a copy of an existing pod: its configuration, a new infra container and a clone of each of its containers.",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, _, err := res.update(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			o.Resources = u
			if len(args) > 1 {
				if o.Name != "" && o.Name != args[1] {
					return usageError{fmt.Errorf("the clone's name is given twice (--name %s and %s)", o.Name, args[1])}
				}
				o.Name = args[1]
			}
			if o.Labels, err = parseLabels(labels, labelFiles); err != nil {
				return err
			}
			if strings.HasPrefix(infraCommand, "[") { // as pod create takes it
				if err := jsonUnmarshal(infraCommand, &o.InfraCommand); err != nil {
					return invalid("invalid --infra-command %q: %v", infraCommand, err)
				}
			} else {
				o.InfraCommand = strings.Fields(infraCommand)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			p, err := rt.ClonePod(context.Background(), args[0], o)
			if p != nil {
				fmt.Fprintln(a.stdout, p.Config.ID)
			}
			return err
		},
	}
	noHelpShorthand(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.Name, "name", "n", "", "name the new pod")
	f.BoolVar(&o.Destroy, "destroy", false, "destroy the original pod")
	f.BoolVar(&o.Start, "start", false, "start the new pod")
	f.StringVar(&o.InfraName, "infra-name", "", "name of the new infra container")
	f.StringVar(&infraCommand, "infra-command", "", "command of the new infra container")
	f.StringVarP(&o.Hostname, "hostname", "h", "", "the new pod's hostname")
	f.StringArrayVarP(&labels, "label", "l", nil, "add a label to the new pod (KEY=VALUE)")
	f.StringSliceVar(&labelFiles, "label-file", nil, "read labels from a file")
	res.register(cmd)
	return cmd
}

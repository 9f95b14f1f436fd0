package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

// newPodCloneCommand is `pea pod clone POD [NAME]`: a new pod with the configuration of an
// existing one, a new infra container and a clone of each of its containers.
func newPodCloneCommand(a *app) *cobra.Command {
	var o engine.PodCloneOptions
	var res resourceFlags
	var labels, labelFiles, sysctls []string
	var infraCommand, shmSize string
	var ns podCloneNS
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
			if err := cloneName(&o.Name, args); err != nil {
				return err
			}
			if err := ns.apply(&o, cmd.Flags().Changed); err != nil {
				return err
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
			if len(sysctls) > 0 {
				if o.Sysctls, err = parseKV(sysctls, "sysctl"); err != nil {
					return err
				}
			}
			for _, v := range o.Volumes {
				if _, err := engine.ParseVolume(v); err != nil {
					return err
				}
			}
			for _, s := range o.SecurityOpts {
				if err := engine.ApplySecurityOpt(&model.ContainerConfig{}, s); err != nil {
					return err
				}
			}
			if shmSize != "" {
				if o.ShmSize, err = engine.ParseSize(shmSize); err != nil {
					return invalid("invalid --shm-size %q: use a number with an optional unit (b, k, m, g)", shmSize)
				}
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
	f.StringArrayVarP(&o.Volumes, "volume", "v", nil, "add a volume for every member: SRC:DST[:ro]")
	listVar(f, &o.Devices, "device", nil, "add a host device for every member")
	listVar(f, &sysctls, "sysctl", nil, "set a sysctl for every member")
	f.StringArrayVar(&o.SecurityOpts, "security-opt", nil, "add a security option for every member")
	f.StringVar(&shmSize, "shm-size", "", "size of /dev/shm")
	res.register(cmd)
	ns.register(f)
	return cmd
}

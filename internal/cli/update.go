package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/model"
)

func init() { register(newUpdateCommand, "update") }

type updateOptions struct{ publish, unpublish []string }

func (o *updateOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&o.publish, "publish", "p", nil, "publish one more port: [hostIP:][hostPort:]containerPort[/proto]")
	cmd.Flags().StringArrayVar(&o.unpublish, "unpublish", nil, "stop publishing a port: [hostPort:]containerPort[/proto]")
}

func (o *updateOptions) parse() (publish, unpublish []model.PortMapping, err error) {
	for _, p := range o.publish {
		pm, err := parsePublish(p)
		if err != nil {
			return nil, nil, err
		}
		publish = append(publish, pm...)
	}
	for _, p := range o.unpublish {
		pm, err := parsePublish(p)
		if err != nil {
			return nil, nil, err
		}
		unpublish = append(unpublish, pm...)
	}
	if len(publish)+len(unpublish) == 0 {
		return nil, nil, usageError{fmt.Errorf("nothing to update: give --publish or --unpublish")}
	}
	return publish, unpublish, nil
}

// newUpdateCommand is `pea update`: for now, the published ports of a running container.
func newUpdateCommand(a *app) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [options] CONTAINER",
		Short: "Change the published ports of a container, running or not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, unpub, err := o.parse()
			if err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			c, err := rt.UpdateContainerPorts(context.Background(), args[0], pub, unpub)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, c.Config.ID)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

func newPodUpdateCommand(a *app) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [options] POD",
		Short: "Change the published ports of a pod, running or not, without restarting it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, unpub, err := o.parse()
			if err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			p, err := rt.UpdatePodPorts(context.Background(), args[0], pub, unpub)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, p.Config.ID)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
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

// newUpdateCommand is `pea update`: for now, the published ports of a container.
func newUpdateCommand(a *app) *cobra.Command {
	return updateCommand(a, "CONTAINER", "Change the published ports of a container, running or not",
		func(rt *engine.Runtime, name string, pub, unpub []model.PortMapping) (string, error) {
			c, err := rt.UpdateContainerPorts(context.Background(), name, pub, unpub)
			if err != nil {
				return "", err
			}
			return c.Config.ID, nil
		})
}

// newPodUpdateCommand is `pea pod update`: the published ports of a pod.
func newPodUpdateCommand(a *app) *cobra.Command {
	return updateCommand(a, "POD", "Change the published ports of a pod, running or not, without restarting it",
		func(rt *engine.Runtime, name string, pub, unpub []model.PortMapping) (string, error) {
			p, err := rt.UpdatePodPorts(context.Background(), name, pub, unpub)
			if err != nil {
				return "", err
			}
			return p.Config.ID, nil
		})
}

func updateCommand(a *app, what, short string, update func(rt *engine.Runtime, name string, pub, unpub []model.PortMapping) (string, error)) *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:   "update [options] " + what,
		Short: short,
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
			id, err := update(rt, args[0], pub, unpub)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, id)
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

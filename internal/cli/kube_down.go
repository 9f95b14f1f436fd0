package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/kube"
)

type kubeDownOptions struct {
	force, quiet bool
}

func newKubeDownCommand(a *app) *cobra.Command {
	var o kubeDownOptions
	cmd := &cobra.Command{
		Use:   "down [options] FILE|-...",
		Short: "Remove the pods (and with --force the claimed volumes) that kube play made from the YAML",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKubeDown(a, args, o.force, o.quiet)
		},
	}
	cmd.Flags().BoolVar(&o.force, "force", false, "also remove the volumes of the YAML's PersistentVolumeClaims")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

func runKubeDown(a *app, files []string, force, quiet bool) error {
	m, err := readManifests(a, files, nil)
	if err != nil {
		return err
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	// As podman's, a pod of the YAML that is not there fails the command, and nothing goes.
	if name, err := kube.MissingPod(rt, m); err != nil || name != "" {
		if err == nil {
			err = fmt.Errorf("no pod with name or ID %s found: %w", name, errdefs.ErrNoSuchPod)
		}
		return err
	}
	rep, err := kube.Down(context.Background(), rt, m, force)
	if rep != nil && !quiet {
		if len(rep.Pods) > 0 {
			fmt.Fprintln(a.stdout, "Pods stopped:")
			for _, id := range rep.Pods {
				fmt.Fprintln(a.stdout, id)
			}
			fmt.Fprintln(a.stdout, "Pods removed:")
			for _, id := range rep.Pods {
				fmt.Fprintln(a.stdout, id)
			}
		}
		if len(rep.Volumes) > 0 {
			fmt.Fprintln(a.stdout, "Volumes removed:")
			for _, v := range rep.Volumes {
				fmt.Fprintln(a.stdout, v)
			}
		}
	}
	return err
}

package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"pea/internal/kube"
	"pea/internal/model"
)

type kubePlayOptions struct {
	replace, start, down, quiet, force bool
	network                            string
	publish, configMaps                []string
}

func newKubePlayCommand(a *app, use string) *cobra.Command {
	var o kubePlayOptions
	cmd := &cobra.Command{
		Use:   use + " [options] FILE|-...",
		Short: "Create pods and containers from Kubernetes YAML",
		Long: `Create pods, containers and volumes from Kubernetes YAML (Pod, Deployment, DaemonSet, Job,
ConfigMap, Secret, PersistentVolumeClaim). "-" reads the YAML from stdin.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.down {
				return runKubeDown(a, args, o.force, o.quiet)
			}
			return runKubePlay(a, args, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.replace, "replace", false, "remove pods of the same names (and what play made for them) first")
	f.BoolVar(&o.start, "start", true, "start the pods after creating them")
	f.BoolVar(&o.down, "down", false, "tear down what the YAML created (as kube down)")
	f.BoolVar(&o.force, "force", false, "with --down: also remove the volumes of the YAML's PersistentVolumeClaims")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	f.StringVar(&o.network, "network", "", "network of the pods: bridge, host, none or NAME[,NAME]")
	f.StringVar(&o.network, "net", "", "alias of --network")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish a port of every pod, overriding the YAML's mapping of the same container port: [hostIP:][hostPort:]containerPort[/proto]")
	f.StringSliceVar(&o.configMaps, "configmap", nil, "read ConfigMaps from these YAML files (repeatable or comma separated)")
	return cmd
}

func runKubePlay(a *app, files []string, o *kubePlayOptions) error {
	m, err := readManifests(a, files, o.configMaps)
	if err != nil {
		return err
	}
	var ports []model.PortMapping
	for _, p := range o.publish {
		pm, err := parsePublish(p)
		if err != nil {
			return err
		}
		ports = append(ports, pm...)
	}
	switch o.network {
	case "", "bridge", "default", "host", "none":
	default:
		if strings.HasPrefix(o.network, "container:") || strings.HasPrefix(o.network, "ns:") {
			return invalid("--network %s cannot be used with kube play (bridge, host, none or NAME[,NAME])", o.network)
		}
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	opts := kube.PlayOptions{
		PlanOptions: kube.PlanOptions{Network: o.network, Publish: ports, CreateCommand: a.args},
		Replace:     o.replace,
		Start:       o.start,
	}
	// Interrupted (say, while an init container runs), play still removes what it made.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := kube.Play(ctx, rt, m, opts)
	if rep != nil {
		warn(a, rep.Warnings)
	} else {
		warn(a, m.Warnings)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: what play had made is removed again (%w)", err)
		}
		return err
	}
	if !o.quiet {
		printPlayReport(a.stdout, rep)
	}
	return nil
}

// printPlayReport prints what play made as podman does: volumes, then per pod its ID and its
// containers' IDs.
func printPlayReport(w io.Writer, rep *kube.PlayReport) {
	if len(rep.Volumes) > 0 {
		fmt.Fprintln(w, "Volumes:")
		for _, v := range rep.Volumes {
			fmt.Fprintln(w, v)
		}
	}
	for _, p := range rep.Pods {
		fmt.Fprintf(w, "Pod:\n%s\n", p.ID)
		switch len(p.Containers) {
		case 0:
			continue
		case 1:
			fmt.Fprintln(w, "Container:")
		default:
			fmt.Fprintln(w, "Containers:")
		}
		for _, c := range p.Containers {
			fmt.Fprintln(w, c)
		}
		fmt.Fprintln(w)
	}
}

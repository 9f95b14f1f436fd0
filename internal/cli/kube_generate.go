package cli

import (
	"os"

	"github.com/spf13/cobra"

	"pea/internal/kube"
)

type kubeGenerateOptions struct {
	file, kind string
	service    bool
	replicas   int32
}

func newKubeGenerateCommand(a *app, use string) *cobra.Command {
	var o kubeGenerateOptions
	cmd := &cobra.Command{
		Use:   use + " [options] POD|CONTAINER|VOLUME...",
		Short: "Generate Kubernetes YAML from pods, containers or volumes",
		Long: `Generate Kubernetes YAML: a Pod (or with --type a Deployment, DaemonSet or Job) per pod, one
more for all the containers outside pods that are named, and a PersistentVolumeClaim per volume.
What a container inherits from its image (entrypoint, command, variables, working directory,
user) is left out. The infra container is never described.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runKubeGenerate(a, args, &o, cmd.Flags().Changed("replicas"))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.file, "filename", "f", "", "write the YAML to this file instead of stdout")
	f.BoolVarP(&o.service, "service", "s", false, "also generate a NodePort Service for the published ports")
	f.StringVarP(&o.kind, "type", "t", "pod", "kind of object: pod, deployment, daemonset or job")
	f.Int32VarP(&o.replicas, "replicas", "r", 1, "replicas of a deployment")
	return cmd
}

func runKubeGenerate(a *app, names []string, o *kubeGenerateOptions, replicasSet bool) error {
	if replicasSet && o.kind != "deployment" {
		return invalid("--replicas needs --type deployment")
	}
	if o.replicas < 1 {
		return invalid("--replicas must be at least 1")
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	srcs, claims, err := kube.Collect(rt, names)
	if err != nil {
		return err
	}
	objs, warnings, err := kube.Generate(srcs, claims, kube.GenerateOptions{Type: o.kind, Service: o.service, Replicas: o.replicas})
	warn(a, warnings)
	if err != nil {
		return err
	}
	out, err := kube.Marshal(objs, Version)
	if err != nil {
		return err
	}
	if o.file != "" {
		if _, err := os.Stat(o.file); err == nil {
			return invalid("cannot write to %q: the file exists", o.file)
		}
		return os.WriteFile(o.file, out, 0o644)
	}
	_, err = a.stdout.Write(out)
	return err
}

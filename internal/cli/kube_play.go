package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/kube"
	"pea/internal/kube/k8s"
	"pea/internal/model"
)

type kubePlayOptions struct {
	replace, start, down, quiet, force, noHosts, tlsVerify, build  bool
	serviceContainer, wait                                         bool
	userns, creds, authfile, contextDir, logDriver                 string
	signaturePolicy                                                string
	certDir, seccompProfileRoot                                    string
	networks, publish, configMaps, annotations, ips, macs, logOpts []string
	changed                                                        func(string) bool
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
			o.changed = cmd.Flags().Changed
			return runKubePlay(a, args, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.replace, "replace", false, "remove pods of the same names (and what play made for them) first")
	f.BoolVar(&o.start, "start", true, "start the pods after creating them")
	f.BoolVar(&o.down, "down", false, "tear down what the YAML created (as kube down)")
	f.BoolVar(&o.force, "force", false, "with --down: also remove the volumes of the YAML's PersistentVolumeClaims")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	f.StringArrayVar(&o.networks, "network", nil, "network of the pods: bridge[:OPTS], host, none, slirp4netns[:OPTS], pasta[:OPTS], NAME[,NAME] or NAME:OPTS, then (repeated) more networks NAME[:OPTS]; OPTS: ip=, mac=, alias=, interface_name=")
	f.StringArrayVar(&o.networks, "net", nil, "alias of --network")
	listVarP(f, &o.publish, "publish", "p", nil, "publish a port of every pod, overriding the YAML's mapping of the same container port: [hostIP:][hostPort:]containerPort[/proto]")
	f.StringSliceVar(&o.configMaps, "configmap", nil, "read ConfigMaps from these YAML files (repeatable or comma separated)")
	f.StringArrayVar(&o.annotations, "annotation", nil, "add an annotation KEY=VALUE to every pod and container")
	f.StringSliceVar(&o.ips, "ip", nil, "static IP addresses of the pods, one per pod in order (repeatable or comma separated)")
	f.StringSliceVar(&o.macs, "mac-address", nil, "static MAC addresses of the pods, one per pod in order")
	f.BoolVar(&o.noHosts, "no-hosts", false, "do not manage the containers' /etc/hosts")
	f.StringVar(&o.userns, "userns", "", "user namespace of the pods: auto, host, ns:PATH")
	f.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when pulling (false allows plain HTTP)")
	f.StringVar(&o.creds, "creds", "", "credentials USERNAME:PASSWORD for the registry")
	f.StringVar(&o.authfile, "authfile", "", "path of the authentication file")
	registerSignaturePolicy(f, &o.signaturePolicy)
	f.StringVar(&o.certDir, "cert-dir", "", "the registries' certificates: *.crt (authorities), *.cert and *.key (a client certificate)")
	f.StringVar(&o.seccompProfileRoot, "seccomp-profile-root", "", "accepted: pea does not read the YAML's localhost seccomp profiles")
	f.BoolVar(&o.build, "build", false, "build every image that has a directory of its name with a Containerfile in the context directory (default: only missing ones; --build=false: none)")
	f.StringVar(&o.contextDir, "context-dir", "", "where --build looks for the images' directories (default: the YAML file's directory)")
	f.StringVar(&o.logDriver, "log-driver", "", "log driver of every container: k8s-file (default), json-file, none, passthrough, journald")
	f.StringArrayVar(&o.logOpts, "log-opt", nil, "logging option of every container: max-size=SIZE, tag=TAG")
	f.BoolVarP(&o.wait, "wait", "w", false, "stay until the pods exit (or SIGINT/SIGTERM), then remove what the play made, claimed volumes too")
	// Hidden, as podman's: what systemd units (Quadlet's .kube) use.
	f.BoolVar(&o.serviceContainer, "service-container", false, "start a service container before the pods, which exits once their containers have")
	f.MarkHidden("service-container")
	return cmd
}

func runKubePlay(a *app, files []string, o *kubePlayOptions) error {
	if o.serviceContainer && !o.start {
		return invalid("--service-container does not work with --start=stop")
	}
	m, raw, err := readManifestsRaw(a, files, o.configMaps)
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
	annotations, err := parseKV(o.annotations, "annotation")
	if err != nil {
		return err
	}
	for _, ip := range o.ips {
		if addr := net.ParseIP(ip); addr == nil || addr.To4() == nil {
			return invalid("--ip %q: not an IPv4 address", ip)
		}
	}
	for _, mac := range o.macs {
		if _, err := net.ParseMAC(mac); err != nil {
			return invalid("--mac-address %q: %v", mac, err)
		}
	}
	var userns *model.Namespace
	if o.userns != "" {
		ns, err := engine.ParseUserNS(o.userns, false)
		if err != nil {
			return err
		}
		if ns.Mode == model.NSModeContainer {
			return invalid("invalid --userns %q for kube play (auto, host, ns:PATH)", o.userns)
		}
		userns = &ns
	}
	var logs model.ContainerConfig
	logs.LogDriver = o.logDriver
	if err := applyLogOpts(&logs, o.logOpts, false, func(w string) { warn(a, []string{w}) }); err != nil {
		return err
	}
	registry := image.PullOptions{Creds: o.creds, AuthFile: o.authfile, CertDir: o.certDir, SignaturePolicy: o.signaturePolicy}
	if o.changed("tls-verify") {
		v := o.tlsVerify
		registry.TLSVerify = &v
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	opts := kube.PlayOptions{
		PlanOptions: kube.PlanOptions{Networks: o.networks, Publish: ports, CreateCommand: a.args,
			Annotations: annotations, IPs: o.ips, MACs: o.macs, NoHosts: o.noHosts, UserNS: userns, Registry: registry, Log: logs},
		Replace: o.replace,
		Start:   o.start,
		Prepare: func(ctx context.Context) error { return kubeBuild(ctx, a, rt, m, files, o) },
	}
	if o.serviceContainer || o.wait { // --wait follows the pods through a service container
		opts.ServiceContainer = kube.ServiceName(raw)
	}
	if o.wait {
		if !o.start {
			return invalid("--wait does not work with --start=false")
		}
		fmt.Fprintln(a.stdout, "Use ctrl+c to clean up or wait for pods to exit")
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
	if rep.Service != nil {
		// systemd follows the service container's conmon, which lives as long as the pods.
		msg := fmt.Sprintf("MAINPID=%d\nREADY=1", rep.Service.State.ConmonPid)
		if err := engine.SendNotify(os.Getenv("NOTIFY_SOCKET"), msg); err != nil {
			return fmt.Errorf("telling NOTIFY_SOCKET the pods are ready: %w", err)
		}
	}
	if o.wait {
		return kubeWait(ctx, a, rt, m, rep)
	}
	return nil
}

// kubeWait is play's --wait: the command stays until the service container exits (when the
// pods' containers have) or a SIGINT or SIGTERM comes, then removes what the YAML made, the
// volumes of its claims too.
func kubeWait(ctx context.Context, a *app, rt *engine.Runtime, m *kube.Manifest, rep *kube.PlayReport) error {
	if rep.Service != nil {
		_, err := rt.WaitContainer(ctx, rep.Service.Config.ID, nil)
		if err != nil && ctx.Err() == nil && !errdefs.Is(err, errdefs.ErrNotFound) && !errdefs.Is(err, errdefs.ErrCtrRemoved) {
			return err
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(a.stdout)
	}
	fmt.Fprintln(a.stdout, "Cleaning up containers, pods, and volumes...")
	_, err := kube.Down(context.Background(), rt, m, true)
	return err
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

// kubeBuild is play's --build: an image named NAME (localhost/NAME:TAG…) whose directory NAME
// in the context directory holds a Containerfile or Dockerfile is built from it, when it is
// missing from the store or --build is given; --build=false builds nothing.
func kubeBuild(ctx context.Context, a *app, rt *engine.Runtime, m *kube.Manifest, files []string, o *kubePlayOptions) error {
	if o.changed("build") && !o.build {
		return nil
	}
	dir := o.contextDir
	if dir == "" {
		dir = "."
		if len(files) > 0 && files[0] != "-" {
			dir = filepath.Dir(files[0])
		}
	} else if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return invalid("--context-dir %s: not a directory", dir)
	}
	seen := map[string]bool{}
	for _, w := range m.Workloads {
		for _, c := range append(append([]k8s.Container{}, w.Spec.InitContainers...), w.Spec.Containers...) {
			ref := strings.TrimSpace(c.Image)
			if seen[ref] {
				continue
			}
			seen[ref] = true
			name, _ := image.SplitName(ref)
			ctxDir := filepath.Join(dir, path.Base(name))
			if !hasContainerfile(ctxDir) {
				continue
			}
			if exists, _ := rt.ImageExists(ref); exists && !o.build {
				continue
			}
			out := io.Writer(a.stdout)
			if o.quiet {
				out = io.Discard
			}
			if _, err := rt.Build(ctx, engine.BuildOptions{Context: ctxDir, Tags: []string{ref}, Stdout: out, Stderr: a.stderr}); err != nil {
				return fmt.Errorf("building %s from %s: %w", ref, ctxDir, err)
			}
		}
	}
	return nil
}

// hasContainerfile reports whether dir holds a Containerfile or a Dockerfile.
func hasContainerfile(dir string) bool {
	for _, f := range []string{"Containerfile", "Dockerfile"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/engine"
	"pea/internal/image"
)

func init() { register(newPullCommand, "pull") }

// registryFlags are the flags pull and push share, and create and run for the pull they may do.
type registryFlags struct {
	quiet     bool
	tlsVerify bool
	creds     string
	authfile  string
	certDir   string
	// signaturePolicy is --signature-policy, the containers-policy.json a pull must satisfy.
	signaturePolicy string
}

// registerSignaturePolicy adds the hidden --signature-policy of the verbs podman gives it.
func registerSignaturePolicy(f *pflag.FlagSet, path *string) {
	f.StringVar(path, "signature-policy", "", "the signature policy file (default $HOME/.config/containers/policy.json, else /etc/containers/policy.json)")
	f.MarkHidden("signature-policy")
}

// registerCertDir adds --cert-dir, which the registry verbs have (not create or run).
func (r *registryFlags) registerCertDir(f *pflag.FlagSet) {
	f.StringVar(&r.certDir, "cert-dir", "", "the registry's certificates: *.crt (authorities), *.cert and *.key (a client certificate); default /etc/containers/certs.d/HOST[:PORT]")
}

func (r *registryFlags) register(f *pflag.FlagSet) {
	f.BoolVarP(&r.quiet, "quiet", "q", false, "suppress the progress output")
	f.BoolVar(&r.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates (false allows plain HTTP)")
	f.StringVar(&r.creds, "creds", "", "credentials USERNAME:PASSWORD for the registry")
	f.StringVar(&r.authfile, "authfile", "", "path of the authentication file (default ${XDG_RUNTIME_DIR}/containers/auth.json)")
}

// options are the flags as image options; changed tells the flags given on the command line.
func (r *registryFlags) options(changed func(string) bool, progress io.Writer) image.PullOptions {
	o := image.PullOptions{Creds: r.creds, AuthFile: r.authfile, CertDir: r.certDir, SignaturePolicy: r.signaturePolicy}
	if changed("tls-verify") {
		v := r.tlsVerify
		o.TLSVerify = &v
	}
	if !r.quiet {
		o.Progress = progress
	}
	return o
}

type pullOptions struct {
	registryFlags
	arch, os, variant, platform string
	allTags                     bool
}

// newPullCommand is `pull IMAGE...`: it prints each pulled image's ID.
func newPullCommand(a *app) *cobra.Command {
	var o pullOptions
	cmd := &cobra.Command{
		Use:   "pull [options] IMAGE [IMAGE...]",
		Short: "Pull an image from a registry",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			opts := o.options(cmd.Flags().Changed, a.stderr)
			opts.Arch, opts.OS = o.arch, o.os
			if o.platform != "" {
				goos, arch, ok := strings.Cut(o.platform, "/")
				if !ok {
					return usageError{fmt.Errorf("--platform must be OS/ARCH[/VARIANT], such as linux/amd64")}
				}
				opts.OS, opts.Arch = goos, arch
			}
			if o.variant != "" {
				if strings.Contains(opts.Arch, "/") {
					return usageError{fmt.Errorf("--variant: the platform names a variant already")}
				}
				if opts.Arch == "" {
					opts.Arch = runtime.GOARCH
				}
				opts.Arch += "/" + o.variant
			}
			refs := args
			if o.allTags {
				if refs, err = allTagRefs(rt, args, opts); err != nil {
					return err
				}
			}
			for _, ref := range refs {
				img, err := rt.ImagePull(context.Background(), ref, opts)
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, img.ID)
			}
			return nil
		},
	}
	o.registryFlags.register(cmd.Flags())
	o.registryFlags.registerCertDir(cmd.Flags())
	registerSignaturePolicy(cmd.Flags(), &o.signaturePolicy)
	cmd.Flags().Bool("disable-content-trust", false, "accepted for Docker compatibility; does nothing (as podman)")
	cmd.Flags().StringVar(&o.arch, "arch", "", "pull the image for this architecture")
	cmd.Flags().StringVar(&o.os, "os", "", "pull the image for this operating system")
	cmd.Flags().StringVar(&o.variant, "variant", "", "pull the image for this variant of the architecture")
	cmd.Flags().StringVar(&o.platform, "platform", "", "pull the image for this OS/ARCH")
	cmd.Flags().BoolVarP(&o.allTags, "all-tags", "a", false, "pull every tag of the repository (an unqualified name is docker.io's; a tag or digest given is ignored)")
	return withFlagAliases(cmd, podmanFlagAlias)
}

// allTagRefs are the references --all-tags pulls: every tag the registry lists for the
// repository of each argument, in the registry's order. As podman's, a tag or digest in the
// argument is ignored, and a name without a registry is docker.io's (the search registries
// are not tried).
func allTagRefs(rt *engine.Runtime, args []string, opts image.PullOptions) ([]string, error) {
	var refs []string
	for _, arg := range args {
		r, err := image.ParseReference(strings.TrimPrefix(arg, "docker://"))
		if err != nil {
			return nil, err
		}
		r.Tag, r.Digest = "", ""
		repo := r.Normalize().Repository()
		tags, err := rt.Search(context.Background(), repo, image.SearchOptions{PullOptions: opts, ListTags: true})
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			refs = append(refs, repo+":"+t.Tag)
		}
	}
	return refs, nil
}

package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/engine"
)

func init() { register(newBuildCommand, "build") }

// newBuildCommand is `build [options] [CONTEXT]`: an image from a Containerfile (engine.Build).
// It prints the steps, what RUN prints, and the new image's ID last (with -q, the ID alone).
func newBuildCommand(a *app) *cobra.Command {
	var o engine.BuildOptions
	var layers bool
	var args []string
	var reg registryFlags
	var pull string
	var x buildExtras
	// The RUN containers' settings are create's flags, parsed by create's code.
	var run createFlags
	run.register(pflag.NewFlagSet("defaults", pflag.ContinueOnError))
	cmd := &cobra.Command{
		Use:   "build [options] [CONTEXT]",
		Short: "Build an image from a Containerfile (Dockerfile)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			if !layers {
				o.NoCache = true // podman's --layers=false: no cache, no intermediate images kept
			}
			o.Context = "."
			switch {
			case len(pos) == 1:
				o.Context = pos[0]
			case o.File != "":
				o.Context = filepath.Dir(o.File) // podman's: -f without CONTEXT builds in the file's directory
			}
			if strings.Contains(o.Context, "://") {
				return invalid("build context %s: pea builds from a local directory", o.Context)
			}
			o.Args = map[string]string{}
			for _, kv := range args {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					v, ok = os.LookupEnv(k) // --build-arg NAME takes the caller's variable
				}
				if k == "" || !ok {
					return invalid("--build-arg %q: use NAME=VALUE (or NAME, from the environment)", kv)
				}
				o.Args[k] = v
			}
			switch pull {
			case "missing", "always", "never":
				o.Pull = pull
			case "true":
				o.Pull = "always"
			case "false":
				o.Pull = "missing"
			default:
				return invalid("invalid --pull %q (missing, always, never)", pull)
			}
			switch o.Network {
			case "", "bridge", "default", "none", "host":
			default:
				return invalid("invalid --network %q for build (bridge, none, host)", o.Network)
			}
			if o.Network != "" {
				run.networks = []string{o.Network}
			}
			if err := x.apply(&o, &run, a.stdin, cmd.Flags().Changed); err != nil {
				return err
			}
			stdout, stderr := a.stdout, a.stderr
			if x.logfile != "" {
				lf, err := os.OpenFile(x.logfile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
				if err != nil {
					return invalid("--logfile: %v", err)
				}
				defer lf.Close()
				stdout, stderr = lf, lf
			}
			var out io.Writer = stdout
			if reg.quiet {
				out = io.Discard
			}
			o.Stdout, o.Stderr = out, stderr
			o.Registry = reg.options(cmd.Flags().Changed, a.stderr)
			o.Registry.CertDir = x.more.certDir
			rt, err := a.engine()
			if err != nil {
				return err
			}
			img, err := rt.Build(context.Background(), o)
			if err != nil {
				return err
			}
			if x.iidfile != "" { // as podman's: with its algorithm, and on stdout too
				if err := os.WriteFile(x.iidfile, []byte("sha256:"+img.ID), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintln(stdout, img.ID)
			return nil
		},
	}
	noHelpShorthand(cmd)
	f := cmd.Flags()
	f.StringVarP(&o.File, "file", "f", "", "the Containerfile (default CONTEXT/Containerfile, else CONTEXT/Dockerfile)")
	f.StringArrayVarP(&o.Tags, "tag", "t", nil, "name of the image (repeatable)")
	f.StringArrayVar(&args, "build-arg", nil, "an ARG's value, NAME=VALUE (repeatable)")
	f.StringVar(&o.Network, "network", "", "the network of RUN instructions: bridge (default), none, host")
	f.StringVar(&pull, "pull", "missing", "pull the FROM image: missing, always, never")
	f.BoolVar(&o.NoCache, "no-cache", false, "run every step: reuse no image an earlier build made, and keep no intermediate image")
	f.BoolVar(&layers, "layers", true, "keep each step's image as the cache of later builds (false: as --no-cache)")
	f.Lookup("pull").NoOptDefVal = "always"
	reg.register(f)
	registerSignaturePolicy(f, &reg.signaturePolicy)
	f.Lookup("quiet").Usage = "print only the image ID"
	x.register(f, &run)
	return withFlagAliases(cmd, podmanFlagAlias)
}

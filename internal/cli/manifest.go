package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
)

func init() { register(newManifestCommand, "manifest") }

// newManifestCommand is `pea manifest VERB`: manifest lists (image indexes) kept in the image
// store, as podman's.
func newManifestCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "manifest",
		Short: "Manipulate manifest lists and image indexes",
		RunE:  groupRunE,
	}
	addSubcommands(cmd, a, []command{
		{[]string{"create"}, newManifestCreateCommand},
		{[]string{"add"}, newManifestAddCommand},
		{[]string{"annotate"}, newManifestAnnotateCommand},
		{[]string{"inspect"}, newManifestInspectCommand},
		{[]string{"remove"}, newManifestRemoveCommand},
		{[]string{"rm"}, newManifestRmCommand},
		{[]string{"exists"}, newManifestExistsCommand},
		{[]string{"push"}, newManifestPushCommand},
	})
	return cmd
}

// entryFlags are the flags that say what a list's entry tells of its image.
type entryFlags struct {
	arch, os, variant, osVersion string
	features, osFeatures         []string
	annotations                  []string
}

func (e *entryFlags) register(f *pflag.FlagSet, osFeatures bool) {
	f.StringArrayVar(&e.annotations, "annotation", nil, "set an annotation KEY=VALUE for the image")
	f.StringVar(&e.arch, "arch", "", "override the architecture of the image")
	f.StringVar(&e.os, "os", "", "override the OS of the image")
	f.StringVar(&e.variant, "variant", "", "override the variant of the image")
	f.StringVar(&e.osVersion, "os-version", "", "override the OS version of the image")
	f.StringSliceVar(&e.features, "features", nil, "override the features of the image")
	if osFeatures {
		f.StringSliceVar(&e.osFeatures, "os-features", nil, "override the OS features of the image")
	}
}

func (e *entryFlags) options() (image.ListEntryOptions, error) {
	o := image.ListEntryOptions{Arch: e.arch, OS: e.os, Variant: e.variant, OSVersion: e.osVersion,
		Features: e.features, OSFeatures: e.osFeatures}
	for _, kv := range e.annotations {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return o, usageError{fmt.Errorf("--annotation %q: must be KEY=VALUE", kv)}
		}
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[k] = v
	}
	return o, nil
}

// addFlags are create's and add's.
type manifestAddFlags struct {
	registryFlags
	entryFlags
	all bool
}

func (m *manifestAddFlags) options(cmd *cobra.Command) (engine.ManifestAddOptions, error) {
	eo, err := m.entryFlags.options()
	if err != nil {
		return engine.ManifestAddOptions{}, err
	}
	ro := m.registryFlags.options(cmd.Flags().Changed, nil)
	return engine.ManifestAddOptions{All: m.all, Entry: eo, Registry: ro}, nil
}

func newManifestCreateCommand(a *app) *cobra.Command {
	var o manifestAddFlags
	var amend bool
	cmd := &cobra.Command{
		Use:   "create [options] LIST [IMAGE...]",
		Short: "Create manifest list or image index",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ao, err := o.options(cmd)
			if err != nil {
				return err
			}
			list, err := rt.ManifestCreate(context.Background(), args[0], args[1:], amend, ao)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, list.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "add all of the lists' images if the images to add are lists")
	f.BoolVarP(&amend, "amend", "a", false, "modify an existing list if one with the desired name already exists")
	f.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when accessing the registry")
	return cmd
}

func newManifestAddCommand(a *app) *cobra.Command {
	var o manifestAddFlags
	cmd := &cobra.Command{
		Use:   "add [options] LIST IMAGE [IMAGE...]",
		Short: "Add images to a manifest list or image index",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ao, err := o.options(cmd)
			if err != nil {
				return err
			}
			list, err := rt.ManifestAdd(context.Background(), args[0], args[1:], ao)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, list.ID)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", false, "add all of the list's images if the image is a list")
	o.entryFlags.register(f, false)
	f.StringVar(&o.authfile, "authfile", "", "path of the authentication file")
	o.registryFlags.registerCertDir(f)
	f.StringVar(&o.creds, "creds", "", "credentials USERNAME:PASSWORD for the registry")
	f.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when accessing the registry")
	return cmd
}

func newManifestAnnotateCommand(a *app) *cobra.Command {
	var o entryFlags
	cmd := &cobra.Command{
		Use:   "annotate [options] LIST IMAGE",
		Short: "Add or update information about an entry in a manifest list or image index",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			eo, err := o.options()
			if err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			list, err := rt.ManifestAnnotate(args[0], args[1], eo)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, list.ID)
			return nil
		},
	}
	o.register(cmd.Flags(), true)
	return cmd
}

func newManifestInspectCommand(a *app) *cobra.Command {
	var o registryFlags
	cmd := &cobra.Command{
		Use:   "inspect [options] LIST",
		Short: "Display the contents of a manifest list or image index",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			out, err := rt.ManifestInspect(context.Background(), args[0], o.options(cmd.Flags().Changed, nil))
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, string(out))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.authfile, "authfile", "", "path of the authentication file")
	f.StringVar(&o.creds, "creds", "", "credentials USERNAME:PASSWORD for the registry")
	f.BoolVar(&o.tlsVerify, "tls-verify", true, "require HTTPS and verify certificates when accessing the registry")
	return cmd
}

func newManifestRemoveCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "remove LIST DIGEST",
		Short: "Remove an entry from a manifest list or image index",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			list, err := rt.ManifestRemove(args[0], args[1])
			if err != nil {
				return fmt.Errorf("removing from manifest list %s: %w", args[0], err)
			}
			fmt.Fprintln(a.stdout, list.ID)
			return nil
		},
	}
}

// newManifestRmCommand is `manifest rm LIST...`: exit code 1 when a list does not exist, as rmi.
func newManifestRmCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rm LIST [LIST...]",
		Short: "Remove manifest list or image index from local storage",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				names, id, err := rt.ManifestRm(name)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for _, n := range names {
					fmt.Fprintf(a.stdout, "Untagged: %s\n", n)
				}
				fmt.Fprintf(a.stdout, "Deleted: %s\n", id)
			}
			if len(errs) == 0 {
				return nil
			}
			for _, err := range errs[:len(errs)-1] {
				fmt.Fprintf(a.stderr, "Error: %v\n", err)
			}
			last := errs[len(errs)-1]
			if errdefs.Is(last, errdefs.ErrNotFound) {
				return &errdefs.ExitError{Code: 1, Err: last}
			}
			return last
		},
	}
}

func newManifestExistsCommand(a *app) *cobra.Command {
	return existsCommand(a, "MANIFEST", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		return rt.ManifestExists(name)
	})
}

type manifestPushFlags struct {
	registryFlags
	pushFlags
	all, rm, removeSigs bool
	format, digestFile  string
}

// newManifestPushCommand is `manifest push LIST [DESTINATION]`: the list's images first (unless
// --all=false), then the list.
func newManifestPushCommand(a *app) *cobra.Command {
	var o manifestPushFlags
	cmd := &cobra.Command{
		Use:   "push [options] LIST [DESTINATION]",
		Short: "Push a manifest list or image index to a registry",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.format {
			case "", "oci", "v2s2":
			default:
				return usageError{errors.New("--format: the formats are oci and v2s2")}
			}
			if err := o.pushFlags.check(); err != nil {
				return err
			}
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			po := image.ListPushOptions{PushOptions: o.options(cmd.Flags().Changed, a.stderr), All: o.all, Format: o.format}
			po.Compression = o.compression
			digest, err := rt.ManifestPush(context.Background(), args[0], dest, po, o.rm)
			if err != nil {
				return err
			}
			if dest == "" {
				dest = args[0]
			}
			if err := o.sign(a, o.quiet, dest, digest); err != nil {
				return err
			}
			if o.digestFile != "" {
				if err := os.WriteFile(o.digestFile, []byte(digest), 0o644); err != nil {
					return fmt.Errorf("--digestfile: %w", err)
				}
			}
			return nil
		},
	}
	o.registryFlags.register(cmd.Flags())
	f := cmd.Flags()
	f.BoolVar(&o.all, "all", true, "also push the images in the list")
	f.BoolVar(&o.rm, "rm", false, "remove the manifest list if push succeeds")
	f.StringVarP(&o.format, "format", "f", "", "manifest type (oci or v2s2) of the pushed list (default: the list's own)")
	f.StringVar(&o.digestFile, "digestfile", "", "write the pushed list's digest to this file")
	o.registryFlags.registerCertDir(f)
	f.BoolVar(&o.removeSigs, "remove-signatures", false, "accepted for compatibility: pea stores no signatures")
	o.pushFlags.register(f)
	return cmd
}

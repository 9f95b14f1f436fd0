package cli

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

func volumeView(rt *engine.Runtime, v *model.Volume) *view.Volume {
	return view.NewVolume(v, rt.VolumeMountCount(v.Name))
}

func init() { register(newVolumeCommand, "volume") }

func newVolumeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "volume", Short: "Manage volumes", RunE: groupRunE}
	var labels, opts []string
	var driver string
	var ignore bool
	create := &cobra.Command{
		Use: "create [options] [NAME]", Short: "Create a volume", Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			l, err := parseKV(labels, "label")
			if err != nil {
				return err
			}
			o, err := parseKV(opts, "option")
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			if driver != "local" { // pea has no volume plugins
				return errdefs.Errorf(errdefs.ErrNotFound, "volume %s uses volume plugin %s but it could not be retrieved: no volume plugin with name %s available: required plugin missing", name, driver, driver)
			}
			if ignore && name != "" {
				// An existing volume is kept as it is: the options given are not applied to it.
				if _, err := rt.LookupVolume(name); err == nil {
					fmt.Fprintln(a.stdout, name)
					return nil
				}
			}
			v, err := rt.CreateVolume(name, l, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, v.Name)
			return nil
		},
	}
	create.Flags().StringArrayVarP(&labels, "label", "l", nil, "set a label")
	create.Flags().StringArrayVarP(&opts, "opt", "o", nil, "driver option")
	create.Flags().StringVarP(&driver, "driver", "d", "local", "volume driver (local)")
	create.Flags().BoolVar(&ignore, "ignore", false, "do not fail when the volume exists: print its name (its options stay as they are)")

	var format string
	var quiet, noHeading bool
	var lsFilters []string
	ls := &cobra.Command{
		Use: "ls [options]", Aliases: []string{"list"}, Short: "List volumes", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			vs, err := rt.ListVolumes()
			if err != nil {
				return err
			}
			if vs, err = filterVolumes(rt, vs, lsFilters); err != nil {
				return err
			}
			if len(vs) == 0 && format != "json" {
				return nil // podman prints nothing, not even the header
			}
			if quiet {
				for _, v := range vs {
					fmt.Fprintln(a.stdout, v.Name)
				}
				return nil
			}
			var rows []any
			var js []*view.Volume
			for _, v := range vs {
				rows = append(rows, volumeView(rt, v))
				js = append(js, volumeView(rt, v))
			}
			if format == "json" {
				if js == nil {
					js = []*view.Volume{}
				}
				return printJSONStyle(a.stdout, js, jsonTwo)
			}
			return render(a.stdout, format, noHeading, rows, nil, table{format: "{{.Driver}}\t{{.Name}}", headers: map[string]string{"Name": "VOLUME NAME"}})
		},
	}
	ls.Flags().StringVar(&format, "format", "", "format with a Go template or json")
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only")
	ls.Flags().BoolVarP(&noHeading, "noheading", "n", false, "do not print the header")
	listVarP(ls.Flags(), &lsFilters, "filter", "f", nil, "filter: name=, driver=, label=, opt=, scope=, until=, dangling=")

	var iformat string
	var inspectAll bool
	inspect := &cobra.Command{
		Use: "inspect [options] VOLUME [VOLUME...]", Short: "Display the configuration of volumes",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if args, err = allVolumes(rt, args, inspectAll); err != nil {
				return err
			}
			return inspectEach(a, args, iformat, func(n string) (any, error) {
				v, err := rt.LookupVolume(n)
				if err != nil {
					return nil, err
				}
				return volumeView(rt, v), nil
			})
		},
	}
	inspect.Flags().StringVarP(&iformat, "format", "f", "", "format with a Go template or json")
	inspect.Flags().BoolVarP(&inspectAll, "all", "a", false, "inspect every volume")

	var force, rmAll bool
	var rmTime timeoutFlag
	rm := &cobra.Command{
		Use: "rm [options] VOLUME [VOLUME...]", Aliases: []string{"remove"}, Short: "Remove volumes",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			rmTime.set = cmd.Flags().Changed("time")
			if args, err = allVolumes(rt, args, rmAll); err != nil {
				return err
			}
			// podman's exit codes: 1 for a missing volume (none with -f), 2 for one in use
			return removeWithCodes(a, args, force, false, func(n string) error { return rt.RemoveVolumeTimeout(n, force, rmTime.ptr()) })
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "remove the containers using the volume too")
	rm.Flags().BoolVarP(&rmAll, "all", "a", false, "remove every volume")
	rm.Flags().UintVarP(&rmTime.val, "time", "t", 10, "with --force, seconds to wait before killing the containers using it")

	var output string
	export := &cobra.Command{
		Use: "export [options] VOLUME", Short: "Write a volume's contents as a tar (to standard output, or --output)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			w := a.stdout
			if output != "" {
				f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
				if err != nil {
					return invalid("--output: %v", err)
				}
				defer f.Close()
				w = f
			} else if f, ok := a.stdout.(*os.File); ok && isTerminal(f) {
				return invalid("refusing to write a tar to a terminal: use --output or redirect standard output")
			}
			return rt.ExportVolume(args[0], w)
		},
	}
	export.Flags().StringVarP(&output, "output", "o", "", "write to this file")
	importCmd := &cobra.Command{
		Use: "import VOLUME FILE|-", Short: "Unpack a tar into a volume (- : standard input)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			rd := a.stdin
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return invalid("%v", err)
				}
				defer f.Close()
				rd = f
			}
			return rt.ImportVolume(args[0], rd)
		},
	}

	var po pruneOptions
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove every unused volume", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			warning := ""
			if !po.force {
				// podman names the volumes that would go, and asks nothing when there are none.
				rt, err := a.engine()
				if err != nil {
					return err
				}
				f, err := engine.ParsePruneFilters(po.filters)
				if err != nil {
					return err
				}
				vs, err := rt.ListVolumes()
				if err != nil {
					return err
				}
				var unused []string
				for _, v := range vs {
					if users, _ := rt.VolumeUsers(v.Name); len(users) == 0 && f.Matches(v.Labels, v.Created) {
						unused = append(unused, v.Name)
					}
				}
				if len(unused) == 0 {
					fmt.Fprintln(a.stdout, "No dangling volumes found")
					return nil
				}
				warning = "WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n" + strings.Join(unused, "\n")
			}
			return po.run(a, warning, func(rt *engine.Runtime, f engine.PruneFilter) ([]string, error) { return rt.PruneVolumes(f) })
		},
	}
	po.register(prune)
	exists := existsCommand(a, "VOLUME", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		_, err = rt.LookupVolume(name)
		if err != nil {
			return false, nil
		}
		return true, nil
	})
	cmd.AddCommand(create, ls, inspect, rm, prune, exists, export, importCmd)
	cmd.AddCommand(volumeMountCommands(a)...)
	return cmd
}

// allVolumes is the volumes a verb with --all acts on: every volume with all, else the named
// ones (at least one); names beside --all are refused, as podman's.
func allVolumes(rt *engine.Runtime, args []string, all bool) ([]string, error) {
	switch {
	case all && len(args) > 0:
		return nil, usageError{errors.New("when using the --all flag, no volume names may be given")}
	case !all && len(args) == 0:
		return nil, usageError{errors.New("at least one volume name must be given (or --all)")}
	case !all:
		return args, nil
	}
	vs, err := rt.ListVolumes()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(vs))
	for _, v := range vs {
		names = append(names, v.Name)
	}
	return names, nil
}

// filterVolumes applies volume ls's --filter: name= (a regular expression), driver=, label=,
// opt= (an option KEY or KEY=VALUE), scope= (local), until=, dangling= (no container uses it).
// Filters of one key are alternatives; different keys must all match.
func filterVolumes(rt *engine.Runtime, vs []*model.Volume, filters []string) ([]*model.Volume, error) {
	spec := filterSpec{what: "volume", keys: []string{"name", "driver", "label", "opt", "scope", "until", "dangling"}}
	for _, f := range filters { // name= is a regular expression, as podman's
		if v, ok := strings.CutPrefix(f, "name="); ok {
			if _, err := regexp.Compile(v); err != nil {
				return nil, err
			}
		}
	}
	return filterListing(vs, filters, spec, func(v *model.Volume) time.Time { return v.Created }, func(vol *model.Volume, k, v string) bool {
		switch k {
		case "name":
			ok, _ := regexp.MatchString(v, vol.Name)
			return ok
		case "driver":
			return vol.Driver == v
		case "label":
			return model.LabelsMatch(vol.Labels, v)
		case "opt":
			return model.LabelsMatch(vol.Options, v)
		case "scope":
			return v == "local"
		case "dangling":
			want, _ := strconv.ParseBool(v)
			users, _ := rt.VolumeUsers(vol.Name)
			return (len(users) == 0) == want
		}
		return false
	})
}

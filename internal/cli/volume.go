package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/model"
)

// volumeJSON has podman's volume inspect keys.
type volumeJSON struct {
	Name       string            `json:"Name"`
	Driver     string            `json:"Driver"`
	Mountpoint string            `json:"Mountpoint"`
	CreatedAt  time.Time         `json:"CreatedAt"`
	Labels     map[string]string `json:"Labels"`
	Scope      string            `json:"Scope"`
	Options    map[string]string `json:"Options"`
}

func volumeView(v *model.Volume) *volumeJSON {
	j := &volumeJSON{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.Created, Labels: v.Labels, Scope: "local", Options: v.Options}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if j.Options == nil {
		j.Options = map[string]string{}
	}
	return j
}

func init() { register(newVolumeCommand, "volume") }

func newVolumeCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "volume", Short: "Manage volumes", RunE: groupRunE}
	var labels, opts []string
	var driver string
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

	var format string
	var quiet bool
	ls := &cobra.Command{
		Use: "ls [options]", Aliases: []string{"list"}, Short: "List volumes", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			vs, err := rt.ListVolumes()
			if err != nil {
				return err
			}
			if quiet {
				for _, v := range vs {
					fmt.Fprintln(a.stdout, v.Name)
				}
				return nil
			}
			var rows []any
			var js []*volumeJSON
			for _, v := range vs {
				rows = append(rows, volumeView(v))
				js = append(js, volumeView(v))
			}
			if format == "json" {
				if js == nil {
					js = []*volumeJSON{}
				}
				return printJSON(a.stdout, js)
			}
			return render(a.stdout, format, false, rows, nil, table{format: "{{.Driver}}\t{{.Name}}", headers: map[string]string{"Name": "VOLUME NAME"}})
		},
	}
	ls.Flags().StringVar(&format, "format", "", "format with a Go template or json")
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the names only")

	var iformat string
	inspect := &cobra.Command{
		Use: "inspect VOLUME [VOLUME...]", Short: "Display the configuration of volumes", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return inspectEach(a, args, iformat, func(n string) (any, error) {
				v, err := rt.LookupVolume(n)
				if err != nil {
					return nil, err
				}
				return volumeView(v), nil
			})
		},
	}
	inspect.Flags().StringVarP(&iformat, "format", "f", "", "format with a Go template or json")

	var force bool
	rm := &cobra.Command{
		Use: "rm [options] VOLUME [VOLUME...]", Aliases: []string{"remove"}, Short: "Remove volumes", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return removeEach(a, args, func(n string) error { return rt.RemoveVolume(n, force) })
		},
	}
	rm.Flags().BoolVarP(&force, "force", "f", false, "remove the containers using the volume too")

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

	var pforce bool
	prune := &cobra.Command{
		Use: "prune [options]", Short: "Remove every unused volume", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			names, err := rt.PruneVolumes()
			for _, n := range names {
				fmt.Fprintln(a.stdout, n)
			}
			return err
		},
	}
	prune.Flags().BoolVarP(&pforce, "force", "f", false, "do not ask for confirmation")
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
	return cmd
}

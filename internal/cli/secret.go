package cli

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/view"
)

// secretRow is a row of secret ls.
type secretRow struct {
	ID, Name, Driver, CreatedAt, UpdatedAt string
}

func init() { register(newSecretCommand, "secret") }

// newSecretCommand is `pea secret create|ls|inspect|rm`: secrets that containers get with
// run --secret (engine/secrets.go).
func newSecretCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "secret", Short: "Manage secrets", RunE: groupRunE}
	var labels []string
	var driver string
	var driverOpts map[string]string
	var fromEnv bool
	create := &cobra.Command{
		Use: "create [options] NAME FILE|-|ENVVAR", Short: "Create a secret from a file (- : standard input; --env: an environment variable)", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := parseKV(labels, "label")
			if err != nil {
				return err
			}
			var data []byte
			if fromEnv {
				v, ok := os.LookupEnv(args[1])
				if !ok {
					return invalid("environment variable %s is not set", args[1])
				}
				data = []byte(v)
			} else if args[1] == "-" {
				data, err = io.ReadAll(io.LimitReader(a.stdin, 1<<20))
			} else {
				data, err = os.ReadFile(args[1])
			}
			if err != nil {
				return invalid("reading the secret's data: %v", err)
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			s, err := rt.CreateSecretWith(args[0], data, l, driver, driverOpts)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, s.ID)
			return nil
		},
	}
	create.Flags().StringArrayVarP(&labels, "label", "l", nil, "set a label")
	create.Flags().StringVarP(&driver, "driver", "d", "file", "secret driver (file, shell)")
	create.Flags().StringToStringVar(&driverOpts, "driver-opts", nil, "the driver's options: file path=DIR; shell store=, lookup=, delete=, list= commands (SECRET_ID in their environment)")
	create.Flags().BoolVar(&fromEnv, "env", false, "read the secret's data from the environment variable named in place of the file")

	var format string
	var quiet, noHeading bool
	var lsFilters []string
	ls := &cobra.Command{
		Use: "ls [options]", Aliases: []string{"list"}, Short: "List secrets", Args: takesNoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			ss, err := rt.ListSecrets()
			if err != nil {
				return err
			}
			byKey, err := parseFilters(lsFilters, filterSpec{what: "secret", keys: []string{"name", "id"}})
			if err != nil {
				return err
			}
			ss = slices.DeleteFunc(ss, func(s *engine.Secret) bool {
				return !matchFilters(byKey, func(k, v string) bool {
					if k == "name" {
						return strings.Contains(s.Name, v)
					}
					return strings.HasPrefix(s.ID, v)
				})
			})
			if quiet {
				for _, s := range ss {
					fmt.Fprintln(a.stdout, s.ID)
				}
				return nil
			}
			if format == "json" {
				js := []*view.Secret{}
				for _, s := range ss {
					js = append(js, view.NewSecret(rt, s))
				}
				return printJSON(a.stdout, js)
			}
			var rows []any
			for _, s := range ss {
				rows = append(rows, &secretRow{ID: s.ID, Name: s.Name, Driver: s.Driver,
					CreatedAt: ago(s.CreatedAt), UpdatedAt: ago(s.UpdatedAt)})
			}
			return render(a.stdout, format, noHeading, rows, nil, table{format: "{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}",
				headers: map[string]string{"CreatedAt": "CREATED", "UpdatedAt": "UPDATED"}})
		},
	}
	ls.Flags().StringVar(&format, "format", "", "format with a Go template or json")
	ls.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the IDs only")
	ls.Flags().BoolVar(&noHeading, "noheading", false, "no header line")
	listVarP(ls.Flags(), &lsFilters, "filter", "f", nil, "filter: name= (a part of the name), id= (a prefix)")

	var iformat string
	var pretty bool
	inspect := &cobra.Command{
		Use: "inspect SECRET [SECRET...]", Short: "Display the details of secrets (not their data)", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if pretty {
				var errs []error
				for _, n := range args {
					s, err := rt.LookupSecret(n)
					if err != nil {
						errs = append(errs, err)
						continue
					}
					// podman's layout, its column widths too.
					fmt.Fprintf(a.stdout, "ID:              %s\nName:              %s\nDriver:            %s\nCreated at:        %s\nUpdated at:        %s\n",
						s.ID, s.Name, s.Driver, s.CreatedAt, s.UpdatedAt)
				}
				return joinErrors(a, errs)
			}
			return inspectEachStyle(a, args, iformat, jsonFour, func(n string) (any, error) {
				s, err := rt.LookupSecret(n)
				if err != nil {
					return nil, err
				}
				return view.NewSecret(rt, s), nil
			})
		},
	}
	inspect.Flags().StringVarP(&iformat, "format", "f", "", "format with a Go template or json")
	inspect.Flags().BoolVar(&pretty, "pretty", false, "print in a human-friendly format")

	var all bool
	rm := &cobra.Command{
		Use: "rm [options] SECRET [SECRET...]", Aliases: []string{"remove"}, Short: "Remove secrets no container uses",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			if all {
				if len(args) > 0 {
					return invalid("--all and SECRET arguments cannot be used together")
				}
				ss, err := rt.ListSecrets()
				if err != nil {
					return err
				}
				for _, s := range ss {
					args = append(args, s.ID)
				}
			} else if len(args) == 0 {
				return invalid("rm needs a SECRET or --all")
			}
			// Each removed secret's ID is printed, as podman prints it, whatever named it.
			return removeEach(a, args, func(n string) (string, error) {
				s, err := rt.RemoveSecret(n)
				if err != nil {
					return "", err
				}
				return s.ID, nil
			})
		},
	}
	rm.Flags().BoolVarP(&all, "all", "a", false, "remove every secret")
	// podman 4.5's verb: exit 0 when the secret exists, 1 when not (an ambiguous ID prefix is
	// an error, 125).
	exists := existsCommand(a, "SECRET", func(name string) (bool, error) {
		rt, err := a.engine()
		if err != nil {
			return false, err
		}
		_, err = rt.LookupSecret(name)
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	cmd.AddCommand(create, ls, inspect, rm, exists)
	return cmd
}

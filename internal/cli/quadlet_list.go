package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"pea/internal/quadlet"
)

// quadletListOptions are `pea quadlet list`'s flags (podman 5.6).
type quadletListOptions struct {
	format  string
	filters []string
}

// quadletRow is one Quadlet file as `quadlet list` shows it; the field names are podman's
// (its JSON and its --format).
type quadletRow struct {
	Name     string // the file's name
	UnitName string // the service it becomes
	Path     string // where it is
	Status   string // systemd's state of the service, or why the file cannot be read
	App      string // the application (.DIR.app) it was installed with
}

// newQuadletListCommand is `pea quadlet list`: every Quadlet file of the directories pea's
// generator reads, in their order.
func newQuadletListCommand(a *app) *cobra.Command {
	var o quadletListOptions
	cmd := &cobra.Command{
		Use:     "list [options]",
		Aliases: []string{"ls"},
		Short:   "List Quadlets",
		Args:    takesNoArgs,
		RunE:    func(cmd *cobra.Command, args []string) error { return runQuadletList(a, &o) },
	}
	cmd.Flags().StringVar(&o.format, "format", "", "pretty-print output to JSON or using a Go template")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "filter output based on conditions given (name=REGEXP)")
	return cmd
}

func runQuadletList(a *app, o *quadletListOptions) error {
	var names []*regexp.Regexp
	for _, f := range o.filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return fmt.Errorf("invalid filter %q", f)
		}
		if k != "name" {
			return fmt.Errorf("%s is not a valid filter", k)
		}
		re, err := regexp.Compile(v)
		if err != nil {
			return fmt.Errorf("filter %q: %w", f, err)
		}
		names = append(names, re)
	}
	rows, err := quadletRows()
	if err != nil {
		return err
	}
	sel := []*quadletRow{}
	for _, r := range rows {
		match := len(names) == 0
		for _, re := range names {
			match = match || re.MatchString(r.Name)
		}
		if match {
			sel = append(sel, r)
		}
	}
	switch {
	case o.format == "json":
		return printJSONStyle(a.stdout, sel, jsonTwo)
	case strings.HasPrefix(strings.TrimSpace(o.format), "{{range"), strings.HasPrefix(strings.TrimSpace(o.format), "{{ range"):
		// A template over the whole list, as podman's default is.
		tmpl, err := template.New("format").Funcs(templateFuncs).Parse(strings.ReplaceAll(o.format, `\t`, "\t"))
		if err != nil {
			return fmt.Errorf("invalid --format template: %w", err)
		}
		return tmpl.Execute(a.stdout, sel)
	}
	items := make([]any, len(sel))
	for i, r := range sel {
		items[i] = r
	}
	return render(a.stdout, o.format, false, items, nil, table{
		format:  "{{.Name}}\t{{.UnitName}}\t{{.Path}}\t{{.Status}}\t{{.App}}",
		headers: map[string]string{"UnitName": "UNIT NAME", "Path": "PATH ON DISK", "App": "APPLICATION"},
	})
}

// quadletRows reads the Quadlet files of the generator's directories, with their services'
// states and the applications they belong to.
func quadletRows() ([]*quadletRow, error) {
	user := quadletUser()
	dirs, err := quadlet.SourceDirs(user)
	if err != nil {
		return nil, err
	}
	installDir, err := quadlet.InstallDir(user)
	if err != nil {
		return nil, err
	}
	appOf, _, err := quadletApps(installDir)
	if err != nil {
		return nil, err
	}
	var rows []*quadletRow
	var units []string
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(os.Stderr, "WARN[0000] Cannot list Quadlet directory %s: %v\n", dir, err)
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !quadlet.IsUnitFile(e.Name()) {
				continue
			}
			r := &quadletRow{Name: e.Name(), Path: filepath.Join(dir, e.Name())}
			if dir == installDir {
				r.App = appOf[e.Name()]
			}
			if r.UnitName, err = quadlet.ServiceOf(r.Path); err != nil {
				r.Status = fmt.Sprintf("parsing Quadlet file %s: %v", r.Path, err)
			} else {
				units = append(units, r.UnitName)
			}
			rows = append(rows, r)
		}
	}
	states, err := unitStates(units)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if r.Status == "" {
			r.Status = states[r.UnitName].status()
		}
	}
	return rows, nil
}

// quadletApps reads the applications' records (.NAME.app) of the install directory: the
// application of each file, and each application's files.
func quadletApps(dir string) (appOf map[string]string, files map[string][]string, err error) {
	appOf, files = map[string]string{}, map[string][]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return appOf, files, nil
		}
		return nil, nil, fmt.Errorf("unable to build app map: %w", err)
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, ".") || !strings.HasSuffix(n, ".app") {
			continue
		}
		names, err := readRecord(filepath.Join(dir, n))
		if err != nil {
			return nil, nil, fmt.Errorf("unable to build app map: %w", err)
		}
		files[n] = names
		for _, f := range names {
			appOf[f] = n
		}
	}
	return appOf, files, nil
}

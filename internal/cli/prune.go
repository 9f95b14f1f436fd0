package cli

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// confirm prints podman's warning and question before a prune or a reset and reads the answer:
// anything but y or yes (an empty standard input too) is a no.
func confirm(a *app, warning string) bool {
	fmt.Fprintf(a.stdout, "%s\nAre you sure you want to continue? [y/N] ", warning)
	answer, _ := bufio.NewReader(a.stdin).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes"
}

// pruneOptions are the flags every prune has: --force and --filter (label=, label!=, until=).
type pruneOptions struct {
	force   bool
	filters []string
}

func (o *pruneOptions) register(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&o.force, "force", "f", false, "do not ask for confirmation")
	cmd.Flags().StringArrayVar(&o.filters, "filter", nil, "only what matches: label=KEY[=VALUE], label!=KEY[=VALUE], until=TIME")
}

// run asks unless --force (warning "" asks nothing), then prunes and prints what went.
func (o *pruneOptions) run(a *app, warning string, prune func(*engine.Runtime, engine.PruneFilter) ([]string, error)) error {
	f, err := engine.ParsePruneFilters(o.filters)
	if err != nil {
		return err
	}
	if !o.force && warning != "" && !confirm(a, warning) {
		return nil
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	gone, err := prune(rt, f)
	for _, g := range gone {
		fmt.Fprintln(a.stdout, g)
	}
	return err
}

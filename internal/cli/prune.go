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
	yes, _ := confirmOrEOF(a, warning)
	return yes
}

// confirmOrEOF is confirm whose standard input ending before an answer line is an error, as
// podman's prunes have it ("Error: EOF", exit 125).
func confirmOrEOF(a *app, warning string) (bool, error) {
	fmt.Fprintf(a.stdout, "%s\nAre you sure you want to continue? [y/N] ", warning)
	answer, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && answer == "" {
		return false, err
	}
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes", nil
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
	if !o.force && warning != "" {
		if yes, err := confirmOrEOF(a, warning); err != nil || !yes {
			return err
		}
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

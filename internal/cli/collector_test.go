package cli

import (
	"io"
	"testing"

	"github.com/spf13/cobra"

	"pea/internal/collector"
)

// pea's constructor reads the command line itself to choose, before Go starts, whether the
// command runs with the garbage collector; the CLI checks the command cobra parsed against the
// same table. For every command and alias, the two must agree, or the command pays a second
// exec (see internal/collector).
func TestCollectorChoiceAgrees(t *testing.T) {
	a := &app{stdout: io.Discard, stderr: io.Discard, args: []string{"pea"}}
	root := newRootCommand(a)
	addCommands(root, a, nil)
	n := 0
	var walk func(c *cobra.Command, group string)
	walk = func(c *cobra.Command, group string) {
		for _, sub := range c.Commands() {
			if sub.HasSubCommands() {
				walk(sub, sub.Name())
				continue
			}
			for _, name := range append([]string{sub.Name()}, sub.Aliases...) {
				argv := []string{"pea", "--root", "/r", name}
				if group != "" {
					argv = []string{"pea", "--root", "/r", group, name}
				}
				want := collector.Short(group, sub.Name(), false, false, false, 1)
				if got := collector.ShortArgs(append(argv, "x")); got != want {
					t.Errorf("%q: the constructor says short=%v, the CLI short=%v", argv[3:], got, want)
				}
				n++
			}
		}
	}
	walk(root, "")
	if n < 60 {
		t.Fatalf("only %d commands walked", n)
	}
	// The listings and inspections, the commands issue 6 times most, run without it.
	for _, c := range [][2]string{{"", "ps"}, {"pod", "ps"}, {"", "version"}, {"pod", "inspect"}, {"pod", "create"}, {"", "create"}} {
		if !collector.Short(c[0], c[1], false, false, false, 1) {
			t.Errorf("%q runs with the collector", c)
		}
	}
}

package cli

import (
	"strings"

	"github.com/spf13/pflag"
)

// commaList is a repeatable flag whose every value is also split at its commas, as the flags
// podman declares as lists (pflag's StringSlice). Unlike pflag's, which reads a value as one
// CSV record, nothing else is interpreted: a quote stays a quote, and a newline stays in the
// item, for the flag's own check to refuse (pflag's reader silently drops what follows it).
type commaList struct {
	p   *[]string
	set bool
}

func (l *commaList) Set(v string) error {
	if !l.set {
		*l.p = nil // the first value given replaces the default
		l.set = true
	}
	*l.p = append(*l.p, strings.Split(v, ",")...)
	return nil
}

func (l *commaList) Type() string { return "strings" }

func (l *commaList) String() string { return "[" + strings.Join(*l.p, ",") + "]" }

// listVarP defines a commaList flag; short may be "".
func listVarP(f *pflag.FlagSet, p *[]string, name, short string, value []string, usage string) {
	*p = value
	f.VarP(&commaList{p: p}, name, short, usage)
}

// listVar defines a commaList flag without a shorthand.
func listVar(f *pflag.FlagSet, p *[]string, name string, value []string, usage string) {
	listVarP(f, p, name, "", value, usage)
}

package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func isIP(s string) bool { return net.ParseIP(s) != nil }

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// noHelpShorthand frees -h for --hostname, as podman's create and run do.
func noHelpShorthand(cmd *cobra.Command) {
	cmd.Flags().Bool("help", false, "help for "+cmd.Name())
}

// humanDuration renders "2 minutes ago" style times as podman does.
func humanDuration(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 1:
		return "Less than a second"
	case s < 60:
		n := int(s)
		if n == 1 {
			return "1 second"
		}
		return strconv.Itoa(n) + " seconds"
	case d.Minutes() < 60:
		n := int(d.Minutes())
		if n == 1 {
			return "About a minute"
		}
		return strconv.Itoa(n) + " minutes"
	case d.Hours() < 48:
		n := int(d.Hours())
		if n == 1 {
			return "About an hour"
		}
		return strconv.Itoa(n) + " hours"
	case d.Hours() < 24*7*2:
		return strconv.Itoa(int(d.Hours()/24)) + " days"
	case d.Hours() < 24*30*3:
		return fmt.Sprintf("%d weeks", int(d.Hours()/24/7))
	case d.Hours() < 24*365*2:
		return fmt.Sprintf("%d months", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%d years", int(d.Hours()/24/365))
}

func ago(t time.Time) string { return agoFrom(time.Now(), t) }

// agoFrom is ago seen from now: a listing takes the time once, not once per row.
func agoFrom(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return humanDuration(now.Sub(t)) + " ago"
}

// humanSize renders bytes as podman's listings do: SI units, three significant digits.
func humanSize(n int64) string { return siSize(n, 3, " ") }

// siSize renders bytes in SI units with digits significant digits, sep before the unit.
func siSize(n int64, digits int, sep string) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.*g%s%s", digits, f, sep, units[i])
}

func truncID(id string, noTrunc bool) string {
	if noTrunc || len(id) <= 12 {
		return id
	}
	return id[:12]
}

func quoteCommand(args []string) string {
	return strings.Join(args, " ")
}

func readFileTrim(path string) (string, error) {
	b, err := os.ReadFile(path)
	return strings.TrimSpace(string(b)), err
}

// parallel runs f(0..n-1) with at most limit calls at once.
func parallel(n, limit int, f func(i int)) {
	sem := make(chan struct{}, limit)
	done := make(chan struct{})
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; done <- struct{}{} }()
			f(i)
		}(i)
	}
	for i := 0; i < n; i++ {
		<-done
	}
}

// choiceValue is a string flag that takes one of choices, refused as podman refuses its enum
// flags (pflag prefixes `invalid argument "X" for "--flag" flag: `).
type choiceValue struct {
	value   *string
	choices []string
}

func (c *choiceValue) String() string {
	if c.value == nil {
		return ""
	}
	return *c.value
}

func (c *choiceValue) Set(s string) error {
	if !slices.Contains(c.choices, s) {
		return fmt.Errorf("%q is not a valid value.  Choose from: %q", s, strings.Join(c.choices, ", "))
	}
	*c.value = s
	return nil
}

func (c *choiceValue) Type() string { return "string" }

// idFileFree refuses an ID file (--cidfile, pod create's --pod-id-file) that exists already,
// as podman does: another container or pod may be using it.
func idFileFree(path, what string) error {
	if path == "" {
		return nil
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s id file exists. Ensure another %s is not using it or delete %s", what, what, path)
	}
	return nil
}

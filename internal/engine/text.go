package engine

import "strings"

func splitLines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// trimIface splits "  eth0: 1 2 3" into the interface name and the rest.
func trimIface(line string, name *string) string {
	n, rest, ok := strings.Cut(line, ":")
	if !ok {
		return ""
	}
	*name = strings.TrimSpace(n)
	return rest
}

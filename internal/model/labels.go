package model

import "strings"

// LabelsMatch applies one label filter to labels: "KEY" asks for the key, "KEY=VALUE" for that
// value (every listing's --filter label=, and the API's).
func LabelsMatch(labels map[string]string, filter string) bool {
	k, v, hasV := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasV || got == v)
}

package kube

import (
	"regexp"
	"sync"
)

// lazyRegexp compiles a pattern on first use rather than at start-up: every pea command pays
// for package initialisation, and most never match these patterns.
func lazyRegexp(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

//go:build !pea_profile

package cli

import (
	"fmt"
	"os"
)

// startProfile says that this pea cannot write profiles. Linking runtime/pprof turns on Go's
// memory profiler for every command: a 1.4 MB bucket table and a stack walk for each sampled
// allocation. Build with -tags pea_profile for $PEA_CPUPROFILE.
func startProfile(string) func() {
	fmt.Fprintln(os.Stderr, "pea: PEA_CPUPROFILE needs a pea built with -tags pea_profile")
	return func() {}
}

//go:build pea_profile

package cli

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of this command to path ($PEA_CPUPROFILE), for finding what a
// command spends its time on; the returned function stops it.
func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command pea is a daemonless pod and container engine.
//
// The go:debug lines keep GOMAXPROCS at the CPU count and turn off its periodic re-reading of
// the cgroup CPU limit, which long-running verbs (attached run, stats, logs -f) would otherwise
// pay every second. (The runtime still reads the cgroup files once at start, whatever the
// setting: measured, not avoidable from here.)
package main

import (
	"os"

	"pea/internal/cli"
)

func main() {
	recordPin()
	os.Exit(cli.Main(os.Args[1:]))
}

// Command pea is a daemonless pod and container engine.
//
// GOMAXPROCS follows Go's defaults (the CPU count, within a cgroup CPU limit, re-read while the
// process runs). An earlier pea turned both off with go:debug lines, to spare long-running verbs
// the runtime's re-reading of the cgroup limit (one file read a second); measured, the
// non-default settings cost every command ~0.2 ms at start instead (`version` 1.92 -> 1.73 ms,
// an empty `ps -a` 2.48 -> 2.24 ms without them, 100 interleaved runs each). A verb that gives
// the start-up CPU pin back asks Go for its default again (internal/cpupin).
package main

import (
	"os"

	"pea/internal/cli"
)

func main() {
	recordPin()
	noteRootless()
	os.Exit(cli.Main(os.Args[1:]))
}

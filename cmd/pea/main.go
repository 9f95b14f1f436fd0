//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command pea is a daemonless pod and container engine.
//
// The go:debug lines keep GOMAXPROCS at the CPU count: reading the cgroup CPU limit at every
// start (three files under /proc and /sys) costs more than it could give a short command.
package main

import (
	"os"

	"pea/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}

// Command pea is a daemonless pod and container engine.
package main

import (
	"os"

	"pea/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:]))
}

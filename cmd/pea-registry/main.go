//go:build !pea_split

// Command pea-registry is pea's registry helper: pea runs it for every pull, push and `import
// URL`, so that pea itself links no HTTP or TLS (see internal/image/helper.go).
package main

import (
	"os"

	"pea/internal/image"
)

func main() {
	os.Exit(image.ServeHelper())
}

// Command loopregistry serves pea's in-memory test registry (internal/image/registrytest) on a
// loopback address until it is killed, for scripts that pull and push outside `go test`
// (scripts/killfuzz.sh). It refuses any address that is not a loopback one.
//
//	go run ./tools/loopregistry 127.0.0.1:5123
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"

	"pea/internal/image/registrytest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: loopregistry 127.0.0.1:PORT")
		os.Exit(2)
	}
	host, _, err := net.SplitHostPort(os.Args[1])
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintln(os.Stderr, "loopregistry: a loopback address and port, such as 127.0.0.1:5123")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loopregistry:", err)
		os.Exit(1)
	}
	fmt.Println("serving on", ln.Addr())
	fmt.Fprintln(os.Stderr, http.Serve(ln, registrytest.New()))
	os.Exit(1)
}

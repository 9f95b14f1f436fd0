// Package service holds what pea's two long-running services (the REST API, cmd/pea-service,
// and the CRI, cmd/pea-cri) share: their command line, which `pea system service` and `pea
// system cri` write, and their unix sockets.
package service

import (
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// Flags are the options pea passes a service: the store's, pea's path and its version.
type Flags struct {
	Opts    engine.Options
	Pea     string // the pea executable, for conmon's exit command and the engine's helpers
	Version string
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Opts.Root, "root", "", "persistent storage")
	fs.StringVar(&f.Opts.RunRoot, "runroot", "", "volatile state")
	fs.StringVar(&f.Opts.Runtime, "runtime", "", "OCI runtime")
	fs.StringVar(&f.Opts.Namespace, "namespace", "", "libpod namespace")
	fs.StringVar(&f.Opts.LogLevel, "log-level", "", "log level")
	fs.StringVar(&f.Pea, "pea", "", "the pea executable (conmon's exit command)")
	fs.StringVar(&f.Version, "version", "0.1.0-dev", "pea's version")
}

// ListenUnix listens on a unix socket at path, mode 0600 whatever the umask (whoever may
// connect acts as root). A stale socket file (no one answers on it) is replaced; a live one,
// or a file that is not a socket, is refused.
func ListenUnix(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket: %w", path, errdefs.ErrExists)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("a service already listens on %s: %w", path, errdefs.ErrExists)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// Package service holds what pea's two long-running services (the REST API, cmd/pea-service,
// and the CRI, cmd/pea-cri) share: their command line, which `pea system service` and `pea
// system cri` write, and their unix sockets.
package service

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"pea/internal/conf"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/network"
)

// Flags are the options pea passes a service: the store's and the engine's global flags,
// pea's path and its version.
type Flags struct {
	Opts    engine.Options
	Pea     string // the pea executable, for conmon's exit command and the engine's helpers
	Version string
	// UserConf: the service reads the user's containers.conf too (an unprivileged user's).
	UserConf bool
	events   string
	fs       *flag.FlagSet
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	f.fs = fs
	fs.StringVar(&f.Opts.Root, "root", "", "persistent storage")
	fs.StringVar(&f.Opts.RunRoot, "runroot", "", "volatile state")
	fs.StringVar(&f.Opts.Runtime, "runtime", "", "OCI runtime")
	fs.StringVar(&f.Opts.Namespace, "namespace", "", "libpod namespace")
	fs.StringVar(&f.Opts.LogLevel, "log-level", "", "log level")
	fs.Func("hooks-dir", "OCI hooks directory (repeatable)", func(v string) error {
		f.Opts.HooksDirs = append(f.Opts.HooksDirs, v)
		return nil
	})
	fs.Func("runtime-flag", "global flag of the OCI runtime (repeatable)", func(v string) error {
		f.Opts.RuntimeFlags = append(f.Opts.RuntimeFlags, v)
		return nil
	})
	fs.StringVar(&f.Opts.Conmon, "conmon", "", "conmon's path")
	fs.StringVar(&f.events, "events-backend", "", "events backend (none: no events)")
	fs.Func("network-cmd-path", "slirp4netns's path", func(v string) error {
		network.SlirpPath = v
		return nil
	})
	fs.BoolVar(&f.UserConf, "user-conf", false, "read the user's containers.conf too")
	fs.StringVar(&f.Pea, "pea", "", "the pea executable (conmon's exit command)")
	fs.StringVar(&f.Version, "version", "0.1.0-dev", "pea's version")
}

// LoadConf reads containers.conf, as pea does before a verb, into the options (once the flags
// are parsed): what it gives the engine where no flag said otherwise.
func (f *Flags) LoadConf() error {
	f.Opts.NoEvents = f.events == "none"
	files, err := conf.Files(f.UserConf)
	if err != nil {
		return err
	}
	c, err := conf.Load(files)
	if err != nil {
		return err
	}
	for _, kv := range c.Engine.Env {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			os.Setenv(k, v)
		}
	}
	given := map[string]bool{}
	if f.fs != nil {
		f.fs.Visit(func(fl *flag.Flag) { given[fl.Name] = true })
	}
	return f.Opts.ApplyConf(c, func(name string) bool { return given[name] })
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

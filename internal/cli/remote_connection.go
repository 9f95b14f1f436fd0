package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"pea/internal/conf"
	"pea/internal/remote"
)

// The client's connections (`pea system connection`), in $XDG_CONFIG_HOME/pea/connections.json
// (~/.config/pea/...): a name for each service's URI and ssh key, and which is the default.
// podman 4.3.1 keeps them in containers.conf's [engine.service_destinations], with
// active_service the default; pea reads those too (its own file's win on a name, and its own
// default over active_service), but writes a file of its own rather than rewrite a TOML file
// the user edits: `rm` and `rename` refuse a destination only containers.conf defines.

type connection struct {
	URI      string `json:"URI"`
	Identity string `json:"Identity,omitempty"`
	// fromConf: a containers.conf destination (never written to pea's file).
	fromConf bool
}

type connections struct {
	Default     string                `json:"Default,omitempty"`
	Connections map[string]connection `json:"Connections"`
}

func connectionsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "pea", "connections.json"), nil
}

// loadConnections are pea's connections and containers.conf's destinations.
func loadConnections() (*connections, error) {
	cfg, err := loadPeaConnections()
	if err != nil {
		return nil, err
	}
	c, err := readConfig()
	if err != nil {
		return nil, err
	}
	for name, d := range c.Engine.ServiceDestinations {
		if _, ok := cfg.Connections[name]; !ok {
			cfg.Connections[name] = connection{URI: d.URI, Identity: d.Identity, fromConf: true}
		}
	}
	if _, ok := cfg.Connections[cfg.Default]; !ok {
		cfg.Default = ""
		if _, ok := cfg.Connections[c.Engine.ActiveService]; ok {
			cfg.Default = c.Engine.ActiveService
		}
	}
	return cfg, nil
}

// readConfig reads containers.conf for the client's side of remote mode, which runs before
// any verb (and so before app.config).
func readConfig() (*conf.Config, error) {
	files, err := conf.Files(isRootless())
	if err != nil {
		return nil, err
	}
	return conf.Load(files)
}

// loadPeaConnections are the connections of pea's own file.
func loadPeaConnections() (*connections, error) {
	cfg := &connections{Connections: map[string]connection{}}
	p, err := connectionsPath()
	if err != nil {
		return cfg, nil
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	if cfg.Connections == nil {
		cfg.Connections = map[string]connection{}
	}
	return cfg, nil
}

func lookupConnection(name string) (connection, bool, error) {
	cfg, err := loadConnections()
	if err != nil {
		return connection{}, false, err
	}
	c, ok := cfg.Connections[name]
	return c, ok, nil
}

// updateConnections changes the file under a lock, written whole and renamed into place:
// change gets the file's connections, and all of them (containers.conf's too) to look names up.
func updateConnections(change func(file, all *connections) error) error {
	p, err := connectionsPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(p+".lock", os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	cfg, err := loadPeaConnections()
	if err != nil {
		return err
	}
	all, err := loadConnections()
	if err != nil {
		return err
	}
	if err := change(cfg, all); err != nil {
		return err
	}
	if c, ok := all.Connections[cfg.Default]; !ok || !c.fromConf {
		if _, ok := cfg.Connections[cfg.Default]; !ok {
			cfg.Default = "" // a default may be a containers.conf destination
		}
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// notConfOnly refuses to change a destination that only containers.conf defines.
func notConfOnly(known *connections, name string) error {
	if c, ok := known.Connections[name]; ok && c.fromConf {
		return invalid("destination %q is defined in containers.conf ([engine.service_destinations.%s]): edit that file", name, name)
	}
	return nil
}

func newConnectionCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "connection", Short: "Manage the services pea --remote connects to", RunE: groupRunE}
	var identity, socketPath string
	var port int
	var makeDefault bool
	add := &cobra.Command{
		Use: "add [options] NAME DESTINATION", Short: "Record a service: unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT][/PATH]",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := parseURI(args[1])
			if err != nil {
				return err
			}
			if identity != "" && u.Scheme != "ssh" {
				return fmt.Errorf("--identity option not supported for %s scheme", u.Scheme)
			}
			if u.Scheme == "ssh" {
				if cmd.Flags().Changed("port") {
					u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
				}
				if socketPath != "" {
					u.Path = socketPath
				}
				if identity != "" {
					if identity, err = filepath.Abs(identity); err != nil {
						return err
					}
				}
			}
			return updateConnections(func(cfg, _ *connections) error {
				if len(cfg.Connections) == 0 || makeDefault {
					cfg.Default = args[0]
				}
				cfg.Connections[args[0]] = connection{URI: u.String(), Identity: identity}
				return nil
			})
		},
	}
	add.Flags().StringVar(&identity, "identity", "", "path to the ssh key of an ssh destination")
	add.Flags().IntVarP(&port, "port", "p", 22, "ssh port of the destination")
	add.Flags().StringVar(&socketPath, "socket-path", "", "path of the service's socket on an ssh destination")
	add.Flags().BoolVarP(&makeDefault, "default", "d", false, "make it the default connection")

	var format string
	var quiet bool
	list := &cobra.Command{
		Use: "list [options]", Aliases: []string{"ls"}, Short: "List the recorded services", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConnections()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(cfg.Connections))
			for n := range cfg.Connections {
				names = append(names, n)
			}
			slices.Sort(names)
			if quiet {
				for _, n := range names {
					fmt.Fprintln(a.stdout, n)
				}
				return nil
			}
			type row struct {
				Name, URI, Identity string
				IsMachine, Default  bool
			}
			rows := make([]row, 0, len(names))
			items := make([]any, 0, len(names))
			for _, n := range names {
				c := cfg.Connections[n]
				rows = append(rows, row{Name: n, URI: c.URI, Identity: c.Identity, Default: n == cfg.Default})
				items = append(items, &rows[len(rows)-1])
			}
			return render(a.stdout, format, false, items, rows, table{format: "{{.Name}}\t{{.URI}}\t{{.Identity}}\t{{.Default}}\n", json: jsonFour,
				headers: map[string]string{"Name": "Name", "URI": "URI", "Identity": "Identity", "Default": "Default"}})
		},
	}
	list.Flags().StringVar(&format, "format", "", "Go template or json")
	list.Flags().BoolVarP(&quiet, "quiet", "q", false, "print the connections' names only")

	var all bool
	rm := &cobra.Command{
		Use: "remove [options] NAME", Aliases: []string{"rm"}, Short: "Forget a service",
		Args: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 0 {
				return errors.New("--all and a NAME cannot be given together")
			}
			if !all && len(args) != 1 {
				return fmt.Errorf("accepts 1 arg(s), received %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return updateConnections(func(cfg, known *connections) error {
				if all {
					clear(cfg.Connections)
				} else {
					if err := notConfOnly(known, args[0]); err != nil {
						return err
					}
					delete(cfg.Connections, args[0])
				}
				return nil
			})
		},
	}
	rm.Flags().BoolVarP(&all, "all", "a", false, "forget every service")

	def := &cobra.Command{
		Use: "default NAME", Short: "Make a service the default", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return updateConnections(func(cfg, known *connections) error {
				if _, ok := known.Connections[args[0]]; !ok {
					return fmt.Errorf("%q destination is not defined. See \"pea system connection add ...\" to create a connection", args[0])
				}
				cfg.Default = args[0]
				return nil
			})
		},
	}
	rename := &cobra.Command{
		Use: "rename OLD NEW", Aliases: []string{"mv"}, Short: "Rename a service", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return updateConnections(func(cfg, known *connections) error {
				if err := notConfOnly(known, args[0]); err != nil {
					return err
				}
				c, ok := cfg.Connections[args[0]]
				if !ok {
					return fmt.Errorf("%q destination is not defined. See \"pea system connection add ...\" to create a connection", args[0])
				}
				delete(cfg.Connections, args[0])
				cfg.Connections[args[1]] = c
				if cfg.Default == args[0] {
					cfg.Default = args[1]
				}
				return nil
			})
		},
	}
	cmd.AddCommand(add, list, rm, def, rename)
	return cmd
}

// newDialStdioCommand is `pea system dial-stdio [URI]`: the standard input and output become
// a connection to the service's socket (what an ssh connection of pea --remote runs).
func newDialStdioCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use: "dial-stdio [URI]", Short: "Connect standard input and output to the API service's socket", Hidden: true,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			uri := "unix://" + filepath.Join(defaultRunRoot(), "pea.sock")
			if len(args) > 0 {
				uri = args[0]
			}
			c, err := remote.DialRaw(uri)
			if err != nil {
				return err
			}
			defer c.Close()
			go func() {
				io.Copy(c, a.stdin)
				if cw, ok := c.(interface{ CloseWrite() error }); ok {
					cw.CloseWrite()
				}
			}()
			io.Copy(a.stdout, c)
			return nil
		},
	}
}

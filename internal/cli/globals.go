package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/network"
)

// podman's global flags beyond the store's (root.go): OCI hooks, runtime flags, conmon's path,
// --noout, the cgroup manager, the events backend, the storage driver, slirp4netns's path,
// the ssh mode of remote connections, syslog, --version.

func addGlobalFlags(root *cobra.Command, a *app) {
	f := root.PersistentFlags()
	o := &a.opts
	f.StringArrayVar(&o.HooksDirs, "hooks-dir", nil, "directory of OCI hook files (may be repeated; later ones mask earlier files of the same name)")
	f.StringArrayVar(&o.RuntimeFlags, "runtime-flag", nil, "global flag for the OCI runtime, without its leading -- (may be repeated)")
	f.StringVar(&o.Conmon, "conmon", "", "path of the conmon binary")
	f.BoolVar(&o.NoOut, "noout", false, "do not print to stdout")
	f.StringVar(&o.CgroupManager, "cgroup-manager", "cgroupfs", "cgroup manager (cgroupfs; pea does not use systemd's)")
	f.StringVar(&o.EventsBackend, "events-backend", "file", "where events are recorded (file, none)")
	f.StringVar(&o.StorageDriver, "storage-driver", "overlay", "storage driver (pea stores layers with overlay)")
	f.StringVar(&o.NetworkCmdPath, "network-cmd-path", "", "path of slirp4netns")
	f.StringVar(&o.SSH, "ssh", "native", "ssh mode of remote connections (native: the system's ssh client)")
	f.BoolVar(&o.Syslog, "syslog", false, "log to syslog too")
	root.Version = Version
	root.SetVersionTemplate("pea version {{.Version}}\n")
}

// check applies and checks the global flags before a command runs.
func (o *globalOptions) check(a *app) error {
	if o.NoOut {
		a.stdout = io.Discard
	}
	switch o.CgroupManager {
	case "cgroupfs":
	case "systemd":
		fmt.Fprintln(a.stderr, "WARN[0000] pea manages cgroups itself (cgroupfs): --cgroup-manager systemd is not available")
	default:
		return invalid("invalid --cgroup-manager %q (cgroupfs, systemd)", o.CgroupManager)
	}
	switch o.EventsBackend {
	case "file", "none":
	case "journald":
		fmt.Fprintln(a.stderr, "WARN[0000] pea has no journald events backend: events go to the file backend")
		o.EventsBackend = "file"
	default:
		return invalid("invalid --events-backend %q (file, journald, none)", o.EventsBackend)
	}
	if o.StorageDriver != "overlay" && o.StorageDriver != "" {
		return invalid("--storage-driver %q: pea stores images and containers with the overlay driver only", o.StorageDriver)
	}
	if o.SSH != "native" && o.SSH != "golang" {
		return invalid("invalid --ssh %q (native, golang)", o.SSH)
	}
	if o.Conmon != "" { // checked here, as podman checks it before any work (exit 125)
		if _, err := exec.LookPath(o.Conmon); err != nil {
			return fmt.Errorf("--conmon %s: %w", o.Conmon, err)
		}
	}
	if o.NetworkCmdPath != "" {
		network.SlirpPath = o.NetworkCmdPath
	}
	if o.Syslog {
		if w := syslogWriter(); w != nil {
			a.stderr = io.MultiWriter(a.stderr, w)
		}
	}
	return nil
}

// engineArgs are the global flags a pea this one runs must also get.
func (o *globalOptions) engineArgs() []string {
	var argv []string
	for _, d := range o.HooksDirs {
		argv = append(argv, "--hooks-dir", d)
	}
	for _, f := range o.RuntimeFlags {
		argv = append(argv, "--runtime-flag", f)
	}
	if o.Conmon != "" {
		argv = append(argv, "--conmon", o.Conmon)
	}
	if o.EventsBackend == "none" {
		argv = append(argv, "--events-backend", "none")
	}
	if o.NetworkCmdPath != "" {
		argv = append(argv, "--network-cmd-path", o.NetworkCmdPath)
	}
	return argv
}

// syslogWriter sends each line written to it to the local syslog (/dev/log) as pea's, with
// the user facility at warning level; nil when there is no syslog socket.
func syslogWriter() io.Writer {
	c, err := net.Dial("unixgram", "/dev/log")
	if err != nil {
		slog.Debug("no syslog", "err", err)
		return nil
	}
	return &syslogLines{c: c, tag: fmt.Sprintf("pea[%d]: ", os.Getpid())}
}

type syslogLines struct {
	c   net.Conn
	tag string
}

func (s *syslogLines) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(s.c, "<12>%s%s", s.tag, line) // user.warning
		}
	}
	return len(p), nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/detach"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

func init() {
	register(newCpCommand, "cp")
	register(newAttachCommand, "attach")
	register(newPortCommand, "port")
}

func newCpCommand(a *app) *cobra.Command {
	var archive, overwrite bool
	cmd := &cobra.Command{
		Use:   "cp [options] SRC DEST",
		Short: "Copy files between a container and the host (CONTAINER:PATH on one side)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			o := engine.CopyOptions{Overwrite: overwrite, KeepOwners: !archive}
			switch {
			case args[0] == "-" && args[1] == "-":
				return usageError{fmt.Errorf("cp cannot copy from stdin to stdout: one side must be CONTAINER:PATH")}
			case args[1] == "-": // a tar of the path on stdout, as podman's
				return rt.CopyOutArchive(context.Background(), args[0], o, func() (io.Writer, error) { return a.stdout, nil })
			case args[0] == "-": // a tar on stdin unpacked into the container's directory
				return rt.CopyInArchive(context.Background(), a.stdin, args[1])
			}
			return rt.CopyPathWith(context.Background(), args[0], args[1], o)
		},
	}
	cmd.Flags().BoolVarP(&archive, "archive", "a", true, "give what is copied into a container to its user (false: keep the source's owners)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "let a directory replace a file and a file a directory")
	return cmd
}

func newAttachCommand(a *app) *cobra.Command {
	var noStdin, latest, sigProxy bool
	var detachKeys detachKeysFlag
	cmd := &cobra.Command{
		Use:   "attach [options] CONTAINER",
		Short: "Attach to a running container",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := detachKeys.keys(a)
			if err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, rest, err := targetAndRest(rt, latest, args, "container", "attach")
			if err != nil {
				return err
			}
			if len(rest) > 0 {
				return usageError{fmt.Errorf("attach takes one container")}
			}
			c, err := rt.LookupContainer(target)
			if err != nil {
				return err
			}
			if sigProxy {
				stop := proxySignals(rt, c.Config.ID)
				defer stop()
			}
			s := &engine.Streams{Stdout: a.stdout, Stderr: a.stderr}
			if !noStdin {
				s.Stdin = a.stdin
			}
			restore := func() {}
			if c.Config.Terminal {
				s.DetachKeys = keys
				restore = setupTerminal(s)
			}
			defer restore()
			rt.LogAttach(c)
			code, err := rt.Attach(context.Background(), c.Config.ID, s)
			if errors.Is(err, detach.ErrDetached) {
				// The container goes on; podman's attach (not run's, nor start's) ends the line.
				restore()
				fmt.Fprintln(a.stdout)
				return nil
			}
			if err != nil {
				return err
			}
			if code != 0 {
				return &errdefs.ExitError{Code: code}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach stdin")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "attach to the latest container")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "forward the signals pea receives to the container")
	detachKeys.register(cmd.Flags())
	return cmd
}

func newPortCommand(a *app) *cobra.Command {
	var all, latest bool
	cmd := &cobra.Command{
		Use:   "port [options] CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List the published ports of a container",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usageError{errors.New("no arguments are needed with --all")}
			case len(args) > 2 || latest && len(args) > 1:
				return usageError{errors.New("`port` accepts at most 2 arguments")}
			case !all && !latest && len(args) == 0:
				return usageError{errors.New("you must supply a running container name or id")}
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			var cs []*model.Container
			switch {
			case all:
				if cs, err = rt.ListContainers(); err != nil {
					return err
				}
			case latest:
				c, err := rt.LatestContainer()
				if err != nil {
					return err
				}
				cs = []*model.Container{c}
			default:
				c, err := rt.LookupContainer(args[0])
				if err != nil {
					return err
				}
				cs, args = []*model.Container{c}, args[1:]
			}
			// One port asked for: its host address alone, as podman's.
			var want string
			if len(args) > 0 {
				num, proto, _ := strings.Cut(args[0], "/")
				if _, err := strconv.ParseUint(num, 10, 16); err != nil {
					return err
				}
				if proto == "" {
					proto = "tcp"
				}
				want = num + "/" + proto
			}
			found, any := false, false
			for _, c := range cs {
				for _, p := range rt.PortMappings(c) {
					any = true
					for i := uint16(0); i < max(p.Range, 1); i++ {
						key := fmt.Sprintf("%d/%s", p.ContainerPort+i, p.Protocol)
						ip := p.HostIP
						if ip == "" {
							ip = "0.0.0.0"
						}
						switch {
						case want != "" && want != key:
							continue
						case want != "":
							fmt.Fprintf(a.stdout, "%s:%d\n", ip, p.HostPort+i)
						case all:
							fmt.Fprintf(a.stdout, "%s\t%s -> %s:%d\n", shortID(c.Config.ID), key, ip, p.HostPort+i)
						default:
							fmt.Fprintf(a.stdout, "%s -> %s:%d\n", key, ip, p.HostPort+i)
						}
						found = true
					}
				}
			}
			if want != "" && any && !found { // podman: no error for a container without ports
				return fmt.Errorf("failed to find published port %q", args[0])
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "every container")
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "the latest container")
	return cmd
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"pea/internal/detach"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// forEachTarget runs f on every named container (or all / the latest), printing each target
// as podman does and collecting the failures into one error.
func forEachTarget(a *app, args []string, all, latest bool, pick func(*model.Container) bool, f func(rt *engine.Runtime, target string) error) error {
	return forEachSelected(a, args, selection{all: all, latest: latest}, pick, f)
}

// selection is how a verb that acts on containers is told which: names, --all, --latest,
// --filter (podman's ps filters; the full IDs of the matches are printed) and --cidfile.
type selection struct {
	all, latest, ignore bool
	filters, cidFiles   []string
	// infraLast orders the infra containers that --all or --filter picks after the others
	// (stop: a pod's members before the container holding their namespaces).
	infraLast bool
}

// register adds the flags of s that the verb has (--all and --ignore stay the verb's own).
func (s *selection) register(f *pflag.FlagSet, latest, filter, cidfile bool) {
	if latest {
		f.BoolVarP(&s.latest, "latest", "l", false, "act on the latest container")
	}
	if filter {
		short := "f" // rm's -f is --force
		if f.ShorthandLookup("f") != nil {
			short = ""
		}
		listVarP(f, &s.filters, "filter", short, nil, "act on the containers these filters match (as ps --filter)")
	}
	if cidfile {
		f.StringArrayVar(&s.cidFiles, "cidfile", nil, "read the container's ID from this file (repeatable)")
	}
}

// errQuiet is what a selection's action returns for a container it leaves alone without a
// word (start of one that runs): not printed, not a failure.
var errQuiet = errors.New("nothing to do")

// checkSelection refuses the combinations of names, --all, --latest and an ID file (--cidfile,
// --pod-id-file: idFlag) podman refuses, with its words.
func checkSelection(args []string, all, latest, idFiles bool, idFlag string) error {
	switch {
	case idFiles && (all || latest):
		return usageError{fmt.Errorf("--all, --latest, and --%s cannot be used together", idFlag)}
	case all && latest:
		return usageError{errors.New("--all and --latest cannot be used together")}
	case len(args) > 0 && all:
		return usageError{errors.New("no arguments are needed with --all")}
	case len(args) > 0 && latest:
		return usageError{errors.New("--latest and containers cannot be used together")}
	case len(args) > 0 && idFiles:
		return usageError{fmt.Errorf("no arguments are needed with --latest or --%s", idFlag)}
	case len(args) == 0 && !all && !latest && !idFiles:
		return usageError{errors.New("you must provide at least one name or id")}
	}
	return nil
}

// forEachSelected is forEachTarget for a full selection. Named containers are all looked up
// before any is acted on, as podman's verbs do: one that does not exist fails the command
// (with --ignore it is left out), and the others are left as they were.
func forEachSelected(a *app, args []string, sel selection, pick func(*model.Container) bool, f func(rt *engine.Runtime, target string) error) error {
	if len(sel.filters) > 0 && len(args) > 0 {
		return usageError{errors.New("--filter takes no arguments")}
	}
	if len(sel.filters) == 0 {
		if err := checkSelection(args, sel.all, sel.latest, len(sel.cidFiles) > 0, "cidfile"); err != nil {
			return err
		}
	}
	args, none, err := withCidFiles(args, sel.cidFiles, sel.ignore)
	if err != nil || none {
		return err
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	targets := args
	if sel.all || len(sel.filters) > 0 {
		match := func(*model.Container) bool { return true }
		if len(sel.filters) > 0 {
			if match, err = containerFilter(rt, sel.filters); err != nil {
				return err
			}
		}
		cs, err := rt.ListContainers()
		if err != nil {
			return err
		}
		targets = nil
		var infra []string
		for _, c := range cs {
			if (pick == nil || pick(c)) && match(c) {
				if sel.infraLast && c.Config.IsInfra {
					infra = append(infra, c.Config.ID)
					continue
				}
				targets = append(targets, c.Config.ID)
			}
		}
		targets = append(targets, infra...)
	} else if sel.latest {
		c, err := rt.LatestContainer()
		if err != nil {
			return err
		}
		targets = []string{c.Config.ID}
	} else {
		targets = nil
		for _, name := range args {
			if _, err := rt.LookupContainer(name); err != nil {
				if sel.ignore && errdefs.Is(err, errdefs.ErrNotFound) {
					continue
				}
				return err
			}
			targets = append(targets, name)
		}
	}
	var errs []error
	for _, t := range targets {
		if err := f(rt, t); err == errQuiet {
			continue
		} else if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(a.stdout, t)
	}
	return joinErrors(a, errs)
}

// joinErrors prints every error but the last and returns the last, as podman reports several.
func joinErrors(a *app, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintf(a.stderr, "Error: %v\n", e)
	}
	return errs[len(errs)-1]
}

type timeoutFlag struct {
	set bool
	val uint
}

func (t *timeoutFlag) ptr() *uint {
	if !t.set {
		return nil
	}
	return &t.val
}

func init() {
	register(newStartCommand, "start")
	register(newStopCommand, "stop")
	register(newKillCommand, "kill")
	register(newPauseCommand(true), "pause")
	register(newPauseCommand(false), "unpause")
	register(newRestartCommand, "restart")
}

func newStartCommand(a *app) *cobra.Command {
	var attach, interactive, sigProxy bool
	var sel selection
	var detachKeys detachKeysFlag
	cmd := &cobra.Command{
		Use:   "start [options] CONTAINER [CONTAINER...]",
		Short: "Start one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			keys, err := detachKeys.keys(a)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("sig-proxy") && !attach {
				return usageError{errors.New("--sig-proxy only applies when attaching (--attach)")}
			}
			if attach {
				if sel.latest && len(args) == 0 {
					rt, err := a.engine()
					if err != nil {
						return err
					}
					c, err := rt.LatestContainer()
					if err != nil {
						return err
					}
					args = []string{c.Config.ID}
				}
				if len(args) != 1 || sel.all || len(sel.filters) > 0 {
					return usageError{errors.New("you cannot start and attach multiple containers at once")}
				}
				return startAttached(a, args[0], interactive, sigProxy, keys)
			}
			if sel.all && len(args) > 0 {
				return usageError{errors.New("either start all containers or the container(s) provided in the arguments")}
			}
			return forEachSelected(a, args, sel, func(c *model.Container) bool { return !c.State.Active() }, func(rt *engine.Runtime, t string) error {
				if c, err := rt.LookupContainer(t); err == nil && c.State.Status == model.StatusRunning {
					return errQuiet // podman's start names only the containers it started
				}
				_, err := rt.StartContainer(context.Background(), t, nil)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the container's output")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	cmd.Flags().BoolVar(&sel.all, "all", false, "start every container")
	cmd.Flags().BoolVar(&sigProxy, "sig-proxy", true, "with --attach, forward the signals pea receives to the container")
	sel.register(cmd.Flags(), true, true, false)
	detachKeys.register(cmd.Flags())
	return cmd
}

func startAttached(a *app, target string, interactive, sigProxy bool, detachKeys []byte) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	c, err := rt.LookupContainer(target)
	if err != nil {
		return err
	}
	streams := &engine.Streams{Stdout: a.stdout, Stderr: a.stderr}
	if interactive && c.Config.Stdin {
		streams.Stdin = a.stdin
	}
	if c.Config.Terminal {
		streams.DetachKeys = detachKeys
		defer setupTerminal(streams)()
	}
	if sigProxy {
		stop := proxySignals(rt, c.Config.ID)
		defer stop()
	}
	started, err := rt.StartContainer(context.Background(), c.Config.ID, streams)
	if err != nil {
		return err
	}
	rt.LogAttach(started)
	code, err := rt.AttachWait(context.Background(), started, streams)
	if errors.Is(err, detach.ErrDetached) {
		return nil // the container goes on
	}
	if err != nil {
		return err
	}
	if c.Config.AutoRemove { // with its anonymous volumes, as podman's --rm
		rt.RemoveContainer(context.Background(), c.Config.ID, engine.RemoveOptions{Force: true, Ignore: true, Volumes: true})
	} else {
		rt.SyncContainer(c.Config.ID)
	}
	if code != 0 {
		return &errdefs.ExitError{Code: code}
	}
	return nil
}

func newStopCommand(a *app) *cobra.Command {
	var sel selection
	var t timeoutFlag
	var notByUser bool
	cmd := &cobra.Command{
		Use:   "stop [options] CONTAINER [CONTAINER...]",
		Short: "Stop one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			t.set = cmd.Flags().Changed("time")
			sel.infraLast = true // --all stops pods' infra containers too, as podman's, after their members
			return forEachSelected(a, args, sel, nil, func(rt *engine.Runtime, target string) error {
				stop := rt.StopContainer
				if notByUser {
					stop = rt.StopContainerNotByUser
				}
				_, err := stop(context.Background(), target, t.ptr())
				if sel.ignore && errdefs.Is(err, errdefs.ErrNotFound) {
					return errQuiet // removed meanwhile
				}
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&sel.all, "all", "a", false, "stop every running container")
	cmd.Flags().BoolVarP(&sel.ignore, "ignore", "i", false, "ignore containers that do not exist")
	cmd.Flags().UintVarP(&t.val, "time", "t", 10, "seconds to wait before killing the container")
	// For pea-restart.service's stop at shutdown (podman 5.8's hidden flag of the same name).
	cmd.Flags().BoolVar(&notByUser, "not-stopped-by-user", false, "stop without marking the containers as stopped by the user (unless-stopped ones start again at boot)")
	cmd.Flags().MarkHidden("not-stopped-by-user")
	sel.register(cmd.Flags(), true, true, true)
	return withFlagAliases(cmd, timeoutFlagAlias)
}

// withCidFiles adds the IDs of --cidfile files to the named containers. With ignore, a file
// that is not there names nothing; none reports that nothing at all was named that way (the
// command then has nothing to do, as podman's --ignore).
func withCidFiles(args, files []string, ignore bool) (out []string, none bool, err error) {
	out = args
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			if ignore && os.IsNotExist(err) {
				continue
			}
			return nil, false, invalid("--cidfile: %v", err)
		}
		if id := strings.TrimSpace(string(b)); id != "" {
			out = append(out, id)
		}
	}
	return out, len(files) > 0 && len(out) == 0, nil
}

func newKillCommand(a *app) *cobra.Command {
	var sel selection
	var sig string
	cmd := &cobra.Command{
		Use:   "kill [options] CONTAINER [CONTAINER...]",
		Short: "Send a signal to one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := engine.ParseSignal(sig)
			if err != nil {
				return err
			}
			return forEachSelected(a, args, sel, func(c *model.Container) bool { return c.State.Active() }, func(rt *engine.Runtime, t string) error {
				_, err := rt.KillContainer(context.Background(), t, s)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&sel.all, "all", "a", false, "signal every running container")
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal to send")
	sel.register(cmd.Flags(), true, false, true)
	return cmd
}

func newPauseCommand(pause bool) func(a *app) *cobra.Command {
	return func(a *app) *cobra.Command {
		var sel selection
		use, short := "pause", "Pause all the processes in one or more containers"
		if !pause {
			use, short = "unpause", "Unpause the processes in one or more containers"
		}
		cmd := &cobra.Command{
			Use:   use + " [options] CONTAINER [CONTAINER...]",
			Short: short,
			RunE: func(cmd *cobra.Command, args []string) error {
				want := model.StatusRunning
				if !pause {
					want = model.StatusPaused
				}
				return forEachSelected(a, args, sel, func(c *model.Container) bool { return c.State.Status == want }, func(rt *engine.Runtime, t string) error {
					var err error
					if pause {
						_, err = rt.PauseContainer(context.Background(), t)
					} else {
						_, err = rt.UnpauseContainer(context.Background(), t)
					}
					return err
				})
			},
		}
		cmd.Flags().BoolVarP(&sel.all, "all", "a", false, "act on every container")
		sel.register(cmd.Flags(), true, true, true)
		return cmd
	}
}

func newRestartCommand(a *app) *cobra.Command {
	var sel selection
	var running bool
	var t timeoutFlag
	cmd := &cobra.Command{
		Use:   "restart [options] CONTAINER [CONTAINER...]",
		Short: "Restart one or more containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			t.set = cmd.Flags().Changed("time")
			return forEachSelected(a, args, sel, func(c *model.Container) bool { return !running || c.State.Active() }, func(rt *engine.Runtime, target string) error {
				_, err := rt.RestartContainer(context.Background(), target, t.ptr())
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&sel.all, "all", "a", false, "restart every container")
	cmd.Flags().BoolVar(&running, "running", false, "with --all, only running containers")
	cmd.Flags().UintVarP(&t.val, "time", "t", 10, "seconds to wait before killing the container")
	sel.register(cmd.Flags(), true, true, true)
	return cmd
}

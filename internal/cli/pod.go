package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

func newPodCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pod",
		Short: "Manage pods",
		RunE:  groupRunE,
	}
	subs := []command{
		{[]string{"create"}, newPodCreateCommand}, {[]string{"ps", "ls", "list"}, newPodPsCommand},
		{[]string{"inspect"}, newPodInspectCommand}, {[]string{"rm"}, newPodRmCommand},
		{[]string{"prune"}, newPodPruneCommand}, {[]string{"top"}, newPodTopCommand},
		{[]string{"update"}, newPodUpdateCommand}, {[]string{"stats"}, newPodStatsCommand},
		{[]string{"logs"}, newPodLogsCommand}, {[]string{"clone"}, newPodCloneCommand},
		{[]string{"exists"}, func(a *app) *cobra.Command {
			return existsCommand(a, "POD", func(name string) (bool, error) {
				rt, err := a.engine()
				if err != nil {
					return false, err
				}
				return rt.PodExists(name)
			})
		}},
	}
	for _, v := range []podVerb{
		{"start", "Start one or more pods", false, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			_, err := rt.StartPod(context.Background(), id)
			return err
		}},
		{"stop", "Stop one or more pods", true, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			_, err := rt.StopPod(context.Background(), id, t)
			return err
		}},
		{"restart", "Restart one or more pods", true, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			_, err := rt.RestartPod(context.Background(), id, t)
			return err
		}},
		{"kill", "Send a signal to the containers of one or more pods", false, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			s, err := engine.ParseSignal(sig)
			if err != nil {
				return err
			}
			_, err = rt.KillPod(context.Background(), id, s)
			return err
		}},
		{"pause", "Pause one or more pods", false, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			_, err := rt.PausePod(context.Background(), id, true)
			return err
		}},
		{"unpause", "Unpause one or more pods", false, func(rt *engine.Runtime, id string, t *uint, sig string) error {
			_, err := rt.PausePod(context.Background(), id, false)
			return err
		}},
	} {
		subs = append(subs, command{[]string{v.name}, func(a *app) *cobra.Command { return newPodVerbCommand(a, v) }})
	}
	addSubcommands(cmd, a, subs)
	return cmd
}

type podVerb struct {
	name, short string
	timeout     bool
	do          func(rt *engine.Runtime, id string, timeout *uint, sig string) error
}

// podTargets resolves the pods a verb acts on: the named ones, all, or the latest.
func podTargets(rt *engine.Runtime, args []string, all, latest bool) ([]string, error) {
	switch {
	case all:
		pods, err := rt.ListPods()
		if err != nil {
			return nil, err
		}
		var ids []string
		for _, p := range pods {
			ids = append(ids, p.Pod.Config.ID)
		}
		return ids, nil
	case latest:
		p, err := rt.LatestPod()
		if err != nil {
			return nil, err
		}
		return []string{p.Config.ID}, nil
	case len(args) == 0:
		return nil, usageError{errors.New("at least one pod name or ID must be given (or --all / --latest)")}
	}
	return args, nil
}

func newPodVerbCommand(a *app, v podVerb) *cobra.Command {
	var all, latest, ignore bool
	var t timeoutFlag
	var sig string
	var podIDFiles []string
	cmd := &cobra.Command{
		Use:   v.name + " [options] POD [POD...]",
		Short: v.short,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSelection(args, all, latest, len(podIDFiles) > 0, "pod-id-file"); err != nil {
				return err
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			t.set = cmd.Flags().Changed("time")
			for _, f := range podIDFiles {
				if id, err := readIDFile(f); err == nil {
					args = append(args, id)
				} else if !ignore {
					return err
				}
			}
			if len(podIDFiles) > 0 && len(args) == 0 && !all && !latest {
				return nil // --ignore, and no file named a pod
			}
			targets, err := resolvePods(rt, args, all, latest, ignore)
			if err != nil {
				return err
			}
			var errs []error
			for _, id := range targets {
				if v.name == "unpause" {
					// podman unpauses (and names) only the pods that are paused.
					if info, err := rt.InspectPod(id); err == nil && info.Status != model.PodPaused {
						continue
					}
				}
				err := v.do(rt, id, t.ptr(), sig)
				if v.name == "kill" && errdefs.Is(err, errdefs.ErrPodStateInvalid) {
					err = nil // nothing running to signal: done, as podman's pod kill
				}
				if err != nil && ignore && errdefs.Is(err, errdefs.ErrNotFound) {
					continue
				}
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.stdout, podPrintID(rt, id, all || latest))
			}
			return joinErrors(a, errs)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "act on every pod")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest pod")
	if v.timeout {
		f.UintVarP(&t.val, "time", "t", 10, "seconds to wait before killing the containers")
		f.BoolVarP(&ignore, "ignore", "i", false, "ignore pods that do not exist")
	}
	if v.name == "kill" {
		f.StringVarP(&sig, "signal", "s", "KILL", "signal to send")
	}
	if v.name == "start" || v.name == "stop" {
		f.StringArrayVar(&podIDFiles, "pod-id-file", nil, "read the pod ID from this file (repeatable)")
	}
	return cmd
}

// resolvePods is podTargets with the named pods looked up before any is acted on, as podman's
// pod verbs do: one that does not exist fails the command (left out with ignore).
func resolvePods(rt *engine.Runtime, args []string, all, latest, ignore bool) ([]string, error) {
	targets, err := podTargets(rt, args, all, latest)
	if err != nil || all || latest {
		return targets, err
	}
	var out []string
	for _, name := range targets {
		p, err := rt.LookupPod(name)
		if err != nil {
			if ignore && errdefs.Is(err, errdefs.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, p.Config.ID)
	}
	return out, nil
}

// podPrintID prints what podman prints after a pod verb: the full ID.
func podPrintID(rt *engine.Runtime, nameOrID string, _ bool) string {
	if p, err := rt.LookupPod(nameOrID); err == nil {
		return p.Config.ID
	}
	return nameOrID
}

func newPodRmCommand(a *app) *cobra.Command {
	var all, force, ignore, latest bool
	var t timeoutFlag
	var podIDFiles []string
	cmd := &cobra.Command{
		Use:   "rm [options] POD [POD...]",
		Short: "Remove one or more stopped pods and their containers",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkSelection(args, all, latest, len(podIDFiles) > 0, "pod-id-file"); err != nil {
				return err
			}
			if force {
				ignore = true // podman's pod rm -f: a pod that is not there is no error
			}
			rt, err := a.engine()
			if err != nil {
				return err
			}
			t.set = cmd.Flags().Changed("time")
			idFiles := map[string]string{} // file -> the pod ID it holds
			for _, f := range podIDFiles {
				if id, err := readIDFile(f); err == nil {
					args = append(args, id)
					idFiles[f] = id
				} else if !ignore {
					return err
				}
			}
			if len(podIDFiles) > 0 && len(args) == 0 {
				return nil // --ignore, and no file named a pod
			}
			targets, err := resolvePods(rt, args, all, latest, ignore)
			if errdefs.Is(err, errdefs.ErrNotFound) {
				return &errdefs.ExitError{Code: 1, Err: err} // podman's code for a pod not there
			}
			if err != nil {
				return err
			}
			// Pods are removed a few at a time, as podman does; results print in order.
			removed := make([]string, len(targets))
			failed := make([]error, len(targets))
			parallel(len(targets), 4, func(i int) {
				p, err := rt.LookupPod(targets[i])
				if err != nil {
					if !(ignore && errdefs.Is(err, errdefs.ErrNotFound)) {
						failed[i] = err
					}
					return
				}
				if err := rt.RemovePod(context.Background(), p.Config.ID, engine.PodRemoveOptions{Force: force, Timeout: t.ptr()}); err != nil {
					failed[i] = err
					return
				}
				removed[i] = p.Config.ID
			})
			// A pod ID file goes with its pod, as podman 4.4's (it names nothing once the
			// pod is gone, and a later pod create --pod-id-file would refuse it): one whose
			// pod was removed, or with --ignore was not there, is deleted.
			removePodIDFiles(rt, idFiles)
			var errs []error
			missing, running := 0, 0
			for i := range targets {
				if removed[i] != "" {
					fmt.Fprintln(a.stdout, removed[i])
				}
				if failed[i] != nil {
					errs = append(errs, failed[i])
					switch {
					case errdefs.Is(failed[i], errdefs.ErrNotFound):
						missing++
					case errdefs.Is(failed[i], errdefs.ErrWrongState):
						running++
					}
				}
			}
			err = joinErrors(a, errs)
			// podman: 1 when a pod did not exist, 2 when one runs and -f was not given.
			switch {
			case err != nil && missing == len(errs):
				return &errdefs.ExitError{Code: 1, Err: err}
			case err != nil && running == len(errs):
				return &errdefs.ExitError{Code: 2, Err: err}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "remove every pod")
	f.BoolVarP(&force, "force", "f", false, "stop running containers first")
	f.BoolVarP(&ignore, "ignore", "i", false, "ignore pods that do not exist")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest pod")
	f.UintVarP(&t.val, "time", "t", 10, "seconds to wait before killing the containers")
	f.StringArrayVar(&podIDFiles, "pod-id-file", nil, "read the pod ID from this file")
	return cmd
}

// removePodIDFiles deletes each ID file whose pod does not exist (any more).
func removePodIDFiles(rt *engine.Runtime, idFiles map[string]string) {
	for f, id := range idFiles {
		if _, err := rt.LookupPod(id); id != "" && errdefs.Is(err, errdefs.ErrNotFound) {
			os.Remove(f)
		}
	}
}

func newPodPruneCommand(a *app) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "prune [options]",
		Short: "Remove every stopped pod",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := pruneOptions{force: force}
			return o.run(a, "WARNING! This will remove all stopped/exited pods..", func(rt *engine.Runtime, _ engine.PruneFilter) ([]string, error) {
				return rt.PrunePods(context.Background())
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return cmd
}

func newPodTopCommand(a *app) *cobra.Command {
	var latest bool
	cmd := &cobra.Command{
		Use:   "top [options] POD [FORMAT-DESCRIPTORS...]",
		Short: "Display the running processes of the containers in a pod",
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			target, args, err := targetAndRest(rt, latest, args, "pod", "pod top")
			if err != nil {
				return err
			}
			info, err := rt.InspectPod(target)
			if err != nil {
				return err
			}
			var running []*model.Container
			for _, m := range info.Members {
				if m.State.Active() {
					running = append(running, m)
				}
			}
			if len(running) == 0 {
				return nil // nothing runs: podman prints nothing, not even the heads
			}
			rows, err := rt.Top(running, splitDescriptors(args))
			if err != nil {
				return err
			}
			return printRows(a, rows)
		},
	}
	cmd.Flags().SetInterspersed(false)
	cmd.Flags().BoolVarP(&latest, "latest", "l", false, "act on the latest pod")
	return cmd
}

func readIDFile(path string) (string, error) {
	b, err := readFileTrim(path)
	if err != nil {
		return "", fmt.Errorf("reading pod ID file: %w", err)
	}
	return b, nil
}

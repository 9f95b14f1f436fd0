package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/model"
)

func init() {
	register(newMountCommand, "mount")
	register(newUmountCommand, "umount", "unmount")
}

type mountOptions struct {
	all, latest, noTrunc bool
	format               string
}

// newMountCommand is `pea mount`: mount containers' root filesystems on the host and print
// where, or with no container named, list the mounted ones.
func newMountCommand(a *app) *cobra.Command {
	var o mountOptions
	cmd := &cobra.Command{
		Use:   "mount [options] [CONTAINER...]",
		Short: "Mount a working container's root filesystem",
		Long:  "Mount the named containers' root filesystems and print where; with none named, list the mounted containers and their mount points.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(a, &o, args)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "mount every container")
	f.StringVar(&o.format, "format", "", "print the mounted containers in this format (json)")
	f.BoolVarP(&o.latest, "latest", "l", false, "act on the latest container")
	f.BoolVar(&o.noTrunc, "no-trunc", false, "do not truncate IDs")
	return cmd
}

func runMount(a *app, o *mountOptions, args []string) error {
	if o.format != "" && o.format != "json" {
		return invalid("unknown --format argument: %q", o.format)
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	targets := args
	switch {
	case o.all:
		cs, err := rt.ListContainers()
		if err != nil {
			return err
		}
		targets = nil
		for _, c := range cs {
			targets = append(targets, c.Config.ID)
		}
	case o.latest:
		c, err := rt.LatestContainer()
		if err != nil {
			return err
		}
		targets = []string{c.Config.ID}
	case len(args) == 0:
		cs, err := rt.MountedContainers()
		if err != nil {
			return err
		}
		return printMounted(a, cs, o)
	}
	var errs []error
	for _, t := range targets {
		path, err := rt.MountContainer(t)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintln(a.stdout, path)
	}
	return joinErrors(a, errs)
}

// mountedJSON is one entry of `mount --format json`, with podman's keys.
type mountedJSON struct {
	ID         string   `json:"id"`
	Names      []string `json:"Names"`
	Mountpoint string   `json:"mountpoint"`
}

func printMounted(a *app, cs []*model.Container, o *mountOptions) error {
	if o.format == "json" {
		list := make([]mountedJSON, 0, len(cs))
		for _, c := range cs {
			list = append(list, mountedJSON{ID: c.Config.ID, Names: []string{c.Config.Name}, Mountpoint: c.State.MountPoint})
		}
		b, err := json.MarshalIndent(list, "", " ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, string(b))
		return err
	}
	for _, c := range cs {
		fmt.Fprintf(a.stdout, "%s  %s\n", truncID(c.Config.ID, o.noTrunc), c.State.MountPoint)
	}
	return nil
}

// newUmountCommand is `pea umount` (or unmount): undo mounts of containers' root filesystems.
func newUmountCommand(a *app) *cobra.Command {
	var all, latest, force bool
	cmd := &cobra.Command{
		Use:     "unmount [options] CONTAINER [CONTAINER...]",
		Aliases: []string{"umount"},
		Short:   "Unmount working containers' root filesystems",
		Long: "Each mount of a container adds one to its mount count, each unmount takes one away; the root filesystem is " +
			"unmounted when the count reaches zero and the container does not run. --force unmounts at once.",
		RunE: func(cmd *cobra.Command, args []string) error {
			// --all: the containers mounted by hand (a running one stays mounted anyway).
			mounted := func(c *model.Container) bool { return c.State.Mounted && !c.State.Live() }
			return forEachTarget(a, args, all, latest, mounted, func(rt *engine.Runtime, t string) error {
				return rt.UnmountContainer(t, force)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "unmount every mounted container")
	f.BoolVarP(&force, "force", "f", false, "unmount at once, whatever the mount count")
	f.BoolVarP(&latest, "latest", "l", false, "act on the latest container")
	return cmd
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/view"
)

// The container inspect view is podman's, shared with the API (internal/view).
type ctrInspect = view.Container

func containerInspect(rt *engine.Runtime, c *model.Container) *ctrInspect {
	return view.ContainerInspect(rt, c)
}

func init() { register(newInspectCommand(false), "inspect") }

// newInspectCommand is `inspect` (any object; containerOnly for `container inspect`).
func newInspectCommand(containerOnly bool) func(a *app) *cobra.Command {
	return func(a *app) *cobra.Command {
		var format, typ string
		var latest, size bool
		cmd := &cobra.Command{
			Use:   "inspect [options] NAME [NAME...]",
			Short: "Display the configuration of an object",
			RunE: func(cmd *cobra.Command, args []string) error {
				rt, err := a.engine()
				if err != nil {
					return err
				}
				if containerOnly {
					typ = "container"
				}
				switch typ {
				case "", "all", "container", "pod", "image", "volume", "network":
				default:
					return invalid("invalid type %q: must be \"image\", \"container\", \"pod\", \"network\", \"volume\", or \"all\"", typ)
				}
				if args, err = targets(rt, latest, args, "container", "inspect"); err != nil {
					return err
				}
				return inspectEach(a, args, format, func(name string) (any, error) {
					v, err := inspectOne(rt, name, typ)
					if c, ok := v.(*ctrInspect); ok && size {
						// podman's --size: the writable layer, and that with the image.
						m, _ := rt.LookupContainer(c.ID)
						if m != nil {
							rw, virtual := containerSizes(rt, m)
							c.SizeRw, c.SizeRootFs = &rw, virtual
						}
					}
					return v, err
				})
			},
		}
		cmd.Flags().StringVarP(&format, "format", "f", "", "format with a Go template or json")
		cmd.Flags().BoolVarP(&latest, "latest", "l", false, "inspect the latest container")
		cmd.Flags().BoolVarP(&size, "size", "s", false, "show sizes")
		if !containerOnly {
			cmd.Flags().StringVarP(&typ, "type", "t", "all", "type of object: container, pod, image, volume, network, all")
		}
		return cmd
	}
}

func inspectOne(rt *engine.Runtime, name, typ string) (any, error) {
	if typ == "all" || typ == "" || typ == "container" {
		c, err := rt.LookupContainer(name)
		if err == nil {
			return containerInspect(rt, c), nil
		}
		if typ == "container" || !errdefs.Is(err, errdefs.ErrNotFound) {
			return nil, err
		}
	}
	if typ == "all" || typ == "image" {
		if v, err := imageInspectValue(rt, name); err == nil {
			return v, nil
		} else if typ == "image" {
			return nil, err
		}
	}
	if typ == "all" || typ == "pod" {
		if p, err := rt.InspectPod(name); err == nil {
			return podInspectView(rt, p), nil
		} else if typ == "pod" {
			return nil, err
		}
	}
	if typ == "all" || typ == "volume" {
		if v, err := rt.LookupVolume(name); err == nil {
			return volumeView(rt, v), nil
		} else if typ == "volume" {
			return nil, err
		}
	}
	if typ == "all" || typ == "network" {
		if n, err := networkInspectValue(rt, name); err == nil {
			return n, nil
		} else if typ == "network" {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no such object: %q: %w", name, errdefs.ErrNotFound)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func shortID(id string) string { return truncID(id, false) }

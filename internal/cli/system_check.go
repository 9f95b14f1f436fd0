package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
)

// checkOptions are `system check`'s flags (podman 5's).
type checkOptions struct {
	force, quick, repair bool
	max                  time.Duration
}

// newCheckCommand is `pea system check [--force] [--max DURATION] [--quick] [--repair]`: the
// store's consistency (engine.SystemCheck), podman's report, 125 while damage remains.
func newCheckCommand(a *app) *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check [options]",
		Short: "Perform consistency checks on image and container storage",
		Args:  takesNoArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return o.run(a) },
	}
	f := cmd.Flags()
	f.BoolVarP(&o.force, "force", "f", false, "with --repair, also remove the containers that are damaged or use damaged images")
	f.DurationVarP(&o.max, "max", "m", 24*time.Hour, "content no image uses older than this is left by an interrupted pull and removed by --repair")
	f.BoolVarP(&o.quick, "quick", "q", false, "skip the time-consuming checks (layers' and blobs' contents)")
	f.BoolVarP(&o.repair, "repair", "r", false, "remove damaged images and layers (and with --force damaged containers)")
	return cmd
}

func (o *checkOptions) run(a *app) error {
	if o.max < 0 {
		return invalid("--max %s: a duration of 0 or more is needed", o.max)
	}
	rt, err := a.engine()
	if err != nil {
		return err
	}
	eo := engine.CheckOptions{Quick: o.quick, Repair: o.repair || o.force, Force: o.force, MaxAge: o.max}
	rep, err := rt.SystemCheck(context.Background(), eo)
	if rep != nil {
		printCheckReport(a.stdout, rt.Options().Root, rep)
	}
	if err != nil {
		return err
	}
	if !eo.Repair {
		if rep.Errors {
			return errors.New("damage detected in local storage")
		}
		return nil
	}
	eo.Repair, eo.Force = false, false
	if again, err := rt.SystemCheck(context.Background(), eo); err != nil {
		return err
	} else if again.Errors {
		return errors.New("damage in local storage still present after repair attempt")
	}
	return nil
}

// printCheckReport prints what the check found and removed, as podman's: each damaged object
// with its problems listed, then what was deleted; the database (pea's) first.
func printCheckReport(w io.Writer, root string, rep *engine.CheckReport) {
	if !rep.Errors {
		return
	}
	damaged := func(what string, m map[string][]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(w, "Damaged %s %s:\n%s", what, k, problemList(m[k]))
		}
	}
	if len(rep.Database) > 0 {
		fmt.Fprintf(w, "Damaged database %s:\n%s", root+"/pea.db", problemList(rep.Database))
	}
	damaged("layer", rep.Layers)
	for _, l := range rep.RemovedLayers {
		fmt.Fprintf(w, "Deleted damaged layer: %s\n", l)
	}
	damaged("image", rep.Images)
	for _, id := range slices.Sorted(maps.Keys(rep.RemovedImages)) {
		fmt.Fprintf(w, "Deleted damaged image: %s\n", id)
	}
	damaged("container", rep.Containers)
	for _, id := range slices.Sorted(maps.Keys(rep.RemovedContainers)) {
		fmt.Fprintf(w, "Deleted damaged container: %s\n", id)
	}
}

// problemList is the list of one object's problems as podman prints it.
func problemList(probs []string) string {
	if len(probs) == 1 {
		return "1 error occurred:\n\t* " + probs[0] + "\n\n"
	}
	return fmt.Sprintf("%d errors occurred:\n\t* %s\n\n", len(probs), strings.Join(probs, "\n\t* "))
}

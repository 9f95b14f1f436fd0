package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

func init() { register(newRmiCommand, "rmi") }

type rmiOptions struct {
	all, force, ignore, noPrune bool
}

// newRmiCommand is `rmi` (and `image rm`). Exit codes as podman's: 1 when an image does not
// exist (and nothing worse happened), 2 when one is in use, 125 otherwise.
func newRmiCommand(a *app) *cobra.Command {
	var o rmiOptions
	cmd := &cobra.Command{
		Use:   "rmi [options] IMAGE [IMAGE...]",
		Short: "Remove one or more images from local storage",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !o.all {
				return usageError{fmt.Errorf("image name or ID must be specified")}
			}
			if len(args) > 0 && o.all {
				return usageError{fmt.Errorf("when using the --all switch, you may not pass any images names or IDs")}
			}
			return runRmi(a, args, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "remove all images")
	f.BoolVarP(&o.force, "force", "f", false, "remove images with several names given by ID, and the containers using them (and ignore images that do not exist)")
	f.BoolVarP(&o.ignore, "ignore", "i", false, "ignore images that do not exist")
	f.BoolVar(&o.noPrune, "no-prune", false, "do not remove the parents left dangling (a build's steps)")
	return cmd
}

func runRmi(a *app, args []string, o *rmiOptions) error {
	rt, err := a.engine()
	if err != nil {
		return err
	}
	opts := engine.ImageRemoveOptions{Force: o.force, Parents: !o.all && !o.noPrune}
	if o.all {
		imgs, err := rt.ImageList()
		if err != nil {
			return err
		}
		for _, img := range imgs {
			args = append(args, img.ID)
		}
		opts.Whole = true
	}
	var errs []error
	for _, name := range args {
		untagged, deleted, err := rt.ImageRemoveWith(name, opts)
		if err != nil {
			if (o.ignore || o.force) && errdefs.Is(err, errdefs.ErrNotFound) {
				continue // as podman's: --force also ignores images that do not exist
			}
			errs = append(errs, err)
			continue
		}
		for _, n := range untagged {
			fmt.Fprintf(a.stdout, "Untagged: %s\n", n)
		}
		for _, id := range deleted {
			fmt.Fprintf(a.stdout, "Deleted: %s\n", id)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	// Every error but the last is printed here; the last is returned with podman's exit code.
	code := 1
	for _, e := range errs {
		switch {
		case errdefs.Is(e, errdefs.ErrInUse):
			if code != 125 {
				code = 2
			}
		case !errdefs.Is(e, errdefs.ErrNotFound):
			code = 125
		}
	}
	if len(errs) == 1 {
		return &errdefs.ExitError{Code: code, Err: errs[0]}
	}
	// podman's rmi reports several failures as one error listing them.
	msg := fmt.Sprintf("%d errors occurred:", len(errs))
	for _, e := range errs {
		msg += "\n\t* " + e.Error()
	}
	return &errdefs.ExitError{Code: code, Err: errors.New(msg)}
}

// removeWithCodes removes every name, printing each one removed, with podman's exit codes for
// the failures (the last error returned, the others printed): 1 when something was missing, 2
// when something was in use, 125 for anything else. ignoreMissing (-f) skips missing names;
// stopInUse ends the removal at the first name in use (podman's network rm).
func removeWithCodes(a *app, names []string, ignoreMissing, stopInUse bool, remove func(name string) error) error {
	var errs []error
	code := 1
	for _, name := range names {
		err := remove(name)
		switch {
		case err == nil:
			fmt.Fprintln(a.stdout, name)
			continue
		case ignoreMissing && errdefs.Is(err, errdefs.ErrNotFound):
			continue
		case errdefs.Is(err, errdefs.ErrInUse):
			if code != 125 {
				code = 2
			}
		case !errdefs.Is(err, errdefs.ErrNotFound):
			code = 125
		}
		errs = append(errs, err)
		if stopInUse && errdefs.Is(err, errdefs.ErrInUse) {
			break
		}
	}
	if len(errs) == 0 {
		return nil
	}
	for _, e := range errs[:len(errs)-1] {
		fmt.Fprintf(a.stderr, "Error: %v\n", e)
	}
	return &errdefs.ExitError{Code: code, Err: errs[len(errs)-1]}
}

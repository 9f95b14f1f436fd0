package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/quadlet"
)

// quadletRmOptions are `pea quadlet rm`'s flags (podman 5.6).
type quadletRmOptions struct {
	all, force, ignore, reloadSystemd bool
}

// newQuadletRmCommand is `pea quadlet rm NAME|.APP.app...`: remove installed Quadlet files,
// with the files installed with them (a .NAME.asset's) and, for a file of an application,
// the whole application.
func newQuadletRmCommand(a *app) *cobra.Command {
	var o quadletRmOptions
	cmd := &cobra.Command{
		Use:   "rm [options] QUADLET [QUADLET...]",
		Short: "Remove Quadlets",
		RunE:  func(cmd *cobra.Command, args []string) error { return runQuadletRm(a, &o, args) },
	}
	f := cmd.Flags()
	f.BoolVarP(&o.all, "all", "a", false, "remove all Quadlets for the current user")
	f.BoolVarP(&o.force, "force", "f", false, "remove running quadlets (their services are stopped)")
	f.BoolVarP(&o.ignore, "ignore", "i", false, "do not error for Quadlets that do not exist")
	f.BoolVar(&o.reloadSystemd, "reload-systemd", true, "reload systemd after removal")
	return cmd
}

func runQuadletRm(a *app, o *quadletRmOptions, args []string) error {
	if len(args) == 0 && !o.all {
		return usageError{errors.New("at least one quadlet file must be selected")}
	}
	if len(args) > 0 && o.all {
		return usageError{errors.New("--all and names cannot be used together")}
	}
	installDir, err := quadlet.InstallDir(quadletUser())
	if err != nil {
		return err
	}
	appOf, appFiles, err := quadletApps(installDir)
	if err != nil {
		return err
	}
	var names, extra []string // Quadlet files; other files and records of the install directory
	if o.all {
		rows, err := quadletRows()
		if err != nil {
			return err
		}
		for _, r := range rows {
			if !slices.Contains(names, r.Name) {
				names = append(names, r.Name)
			}
		}
	}
	errs := map[string]error{}
	var order []string // names in the order reported
	for _, arg := range args {
		if !strings.HasPrefix(arg, ".") || !strings.HasSuffix(arg, ".app") {
			names = append(names, arg)
			continue
		}
		files, ok := appFiles[arg]
		if !ok {
			if !o.ignore {
				order = append(order, arg)
				errs[arg] = errdefs.Errorf(errdefs.ErrNotFound, "no application %s is installed", arg)
			}
			continue
		}
		for _, f := range files {
			if quadlet.IsUnitFile(f) {
				names = append(names, f)
			} else {
				extra = append(extra, f)
			}
		}
		extra = append(extra, arg)
	}
	var paths []string // the files found, in order
	var removed []string
	for i := 0; i < len(names); i++ { // names grows with the files of applications
		n := names[i]
		if slices.Contains(names[:i], n) {
			continue
		}
		p, err := quadletPath(n)
		if err != nil {
			if o.ignore && errors.Is(err, errdefs.ErrNotFound) {
				removed = append(removed, n)
			} else {
				order = append(order, n)
				errs[n] = err
			}
			continue
		}
		if app := appOf[n]; app != "" && filepath.Dir(p) == installDir {
			for _, f := range appFiles[app] {
				if quadlet.IsUnitFile(f) {
					if !slices.Contains(names, f) {
						names = append(names, f)
					}
				} else {
					extra = append(extra, f)
				}
			}
			extra = append(extra, app)
		}
		order = append(order, n)
		paths = append(paths, p)
	}
	stopErrs := stopQuadletServices(paths, o.force)
	for _, p := range paths {
		n := filepath.Base(p)
		if err := stopErrs[p]; err != nil {
			errs[n] = err
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs[n] = fmt.Errorf("removing quadlet %s: %w", n, err)
			continue
		}
		// The files installed with it (quadlet install FILE OTHER...).
		asset := filepath.Join(filepath.Dir(p), "."+n+".asset")
		if files, err := readRecord(asset); err == nil {
			for _, f := range files {
				os.Remove(filepath.Join(filepath.Dir(p), f))
			}
			os.Remove(asset)
		}
		removed = append(removed, n)
	}
	for _, f := range extra {
		os.Remove(filepath.Join(installDir, f))
	}
	for _, n := range removed {
		fmt.Fprintln(a.stdout, n)
	}
	var out []error
	for _, n := range order {
		if err := errs[n]; err != nil {
			out = append(out, fmt.Errorf("unable to remove Quadlet %s: %w", n, err))
		}
	}
	if o.reloadSystemd && len(removed) > 0 {
		if err := reloadSystemd(a); err != nil {
			out = append(out, err)
		}
	}
	if len(out) > 0 {
		return joinErrors(a, append(out, errors.New("some quadlets could not be removed")))
	}
	return nil
}

// stopQuadletServices checks that the services of the files at paths do not run (with force,
// stops those that do), as podman's: an error by path for each that runs still.
func stopQuadletServices(paths []string, force bool) map[string]error {
	errs := map[string]error{}
	if !systemdRunning() {
		return errs // no service is loaded, none runs
	}
	var units []string
	unitOf := map[string]string{}
	for _, p := range paths {
		if u, err := quadlet.ServiceOf(p); err == nil {
			units = append(units, u)
			unitOf[p] = u
		}
	}
	states, err := unitStates(units)
	if err != nil {
		for _, p := range paths {
			errs[p] = err
		}
		return errs
	}
	for _, p := range paths {
		u := unitOf[p]
		if s := states[u]; s.load != "loaded" || s.active != "active" {
			continue
		}
		if !force {
			errs[p] = fmt.Errorf("quadlet %s is running and force is not set, refusing to remove", filepath.Base(p))
			continue
		}
		if _, err := systemctl("stop", u); err != nil {
			errs[p] = fmt.Errorf("stopping quadlet %s: %w", filepath.Base(p), err)
		}
	}
	return errs
}

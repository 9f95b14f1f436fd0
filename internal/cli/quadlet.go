package cli

import (
	"errors"
	goflag "flag"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/quadlet"
)

func init() { register(newQuadletCommand, "quadlet") }

// quadletOptions are the generator's flags, spelt as podman's generator spells them (-user,
// -dryrun: one dash, Go's flag syntax), as systemd and podman's users call it.
type quadletOptions struct {
	user, dryRun, noKmsg, verbose, version bool
}

// newQuadletCommand is `pea quadlet`: pea's Quadlet, the systemd generator that turns podman's
// .container, .volume, .network, .image, .build, .pod and .kube files into services that run
// pea (internal/quadlet).
// systemd runs it with its three output directories (the units go into the first); -dryrun
// prints them instead.
//
// Its subcommands are podman 5.6's `podman quadlet` verbs: install, list, print and rm (one
// file each), which manage the files the generator reads.
func newQuadletCommand(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:                "quadlet [-user] [-dryrun] [-no-kmsg-log] [-v] NORMAL-DIR [EARLY-DIR LATE-DIR]",
		Short:              "Generate systemd services from Quadlet files (a systemd generator)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			var o quadletOptions
			fs := goflag.NewFlagSet("pea quadlet", goflag.ContinueOnError)
			fs.SetOutput(a.stderr)
			fs.BoolVar(&o.user, "user", false, "generate a user's services (systemd's user manager)")
			fs.BoolVar(&o.dryRun, "dryrun", false, "print the services on stdout instead of writing them")
			fs.BoolVar(&o.noKmsg, "no-kmsg-log", false, "do not log to /dev/kmsg")
			fs.BoolVar(&o.verbose, "v", false, "print what is read")
			fs.BoolVar(&o.version, "version", false, "print pea's version")
			if err := fs.Parse(args); err != nil {
				if errors.Is(err, goflag.ErrHelp) {
					return nil
				}
				return usageError{err}
			}
			return runQuadlet(a, &o, fs.Args())
		},
	}
	cmd.AddCommand(newQuadletInstallCommand(a), newQuadletListCommand(a), newQuadletPrintCommand(a), newQuadletRmCommand(a))
	return cmd
}

// quadletLog reports as podman's generator does: to /dev/kmsg (the only log a generator has at
// boot), else (-no-kmsg-log, -dryrun, no kmsg) to stderr.
type quadletLog struct {
	stderr io.Writer
	kmsg   *os.File
	debug  bool
}

func (l *quadletLog) logf(format string, args ...any) {
	line := fmt.Sprintf("pea-quadlet[%d]: %s", os.Getpid(), fmt.Sprintf(format, args...))
	if l.kmsg != nil {
		// With its newline: the kernel finalizes a record that lacks one (readers see it)
		// only when the next record comes.
		if _, err := l.kmsg.WriteString(line + "\n"); err == nil {
			return
		}
		l.kmsg.Close()
		l.kmsg = nil
	}
	fmt.Fprintln(l.stderr, line)
}

func (l *quadletLog) debugf(format string, args ...any) {
	if l.debug {
		l.logf(format, args...)
	}
}

func runQuadlet(a *app, o *quadletOptions, args []string) error {
	if o.version {
		fmt.Fprintln(a.stdout, Version)
		return nil
	}
	log := &quadletLog{stderr: a.stderr, debug: o.verbose || o.dryRun}
	if !o.noKmsg && !o.dryRun {
		if f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0); err == nil {
			log.kmsg = f
			defer f.Close()
		}
	}
	fail := &errdefs.ExitError{Code: 1} // reported already, as podman's generator: exit 1
	if !o.dryRun && len(args) < 1 {
		log.logf("missing output directory argument")
		return fail
	}
	self, err := os.Executable()
	if err != nil {
		log.logf("%v", err)
		return fail
	}
	dirs, err := quadlet.SourceDirs(o.user)
	if err != nil {
		log.logf("%v", err)
		return fail
	}
	services, errs := quadlet.Generate(dirs, quadlet.Options{Pea: self, User: o.user, Debugf: log.debugf})
	if len(services) == 0 && len(errs) == 0 {
		log.debugf("No files parsed from %v", dirs)
	}
	if !o.dryRun {
		if err := os.MkdirAll(args[0], 0o755); err != nil {
			errs = append(errs, err)
			services = nil
		}
	}
	for _, svc := range services {
		if o.dryRun {
			fmt.Fprintf(a.stdout, "---%s---\n%s\n", svc.Name, svc.Text)
			continue
		}
		log.debugf("writing %q", svc.Name)
		if err := quadlet.WriteService(args[0], svc); err != nil {
			errs = append(errs, fmt.Errorf("generating service file %s: %w", svc.Name, err))
		}
	}
	for _, err := range errs {
		log.logf("%v", err)
	}
	if len(errs) > 0 {
		return fail
	}
	return nil
}

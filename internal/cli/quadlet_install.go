package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"pea/internal/quadlet"
)

// quadletInstallOptions are `pea quadlet install`'s flags (podman 5.6, --replace 5.7).
type quadletInstallOptions struct {
	reloadSystemd, replace bool
}

// newQuadletInstallCommand is `pea quadlet install PATH [FILE...]`: copy a Quadlet file, with
// files it uses, or a directory of them (an application) into the directory pea's generator
// reads first (quadlet.InstallDir). Every file is checked before any is copied: one that is
// missing, not a regular file, a Quadlet file with a syntax error, a first file that is not a
// Quadlet file, or a name already installed (without --replace) fails the verb and nothing is
// installed.
func newQuadletInstallCommand(a *app) *cobra.Command {
	var o quadletInstallOptions
	cmd := &cobra.Command{
		Use:   "install [options] QUADLET-PATH [FILES-PATH...]",
		Short: "Install a quadlet file or quadlet application",
		Long:  "Install a Quadlet file, followed by files it uses, or a directory of Quadlet and other files (an application), into pea's Quadlet directory.",
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("must provide at least one argument")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runQuadletInstall(a, &o, args) },
	}
	cmd.Flags().BoolVar(&o.reloadSystemd, "reload-systemd", true, "reload systemd after installing Quadlets")
	cmd.Flags().BoolVarP(&o.replace, "replace", "r", false, "replace files of the same names already installed")
	return cmd
}

// installFile is one file to copy: from src to name in the install directory.
type installFile struct {
	src, name string
}

func runQuadletInstall(a *app, o *quadletInstallOptions, args []string) error {
	for _, arg := range args {
		if strings.HasPrefix(arg, "http://") || strings.HasPrefix(arg, "https://") {
			return fmt.Errorf("quadlet %q failed to install: pea installs files from disk, not URLs: download it and install the file", arg)
		}
	}
	dir, err := quadlet.InstallDir(quadletUser())
	if err != nil {
		return err
	}
	files, record, err := quadletInstallPlan(args)
	if err != nil {
		return err
	}
	var errs []error
	for i, f := range files {
		if err := checkInstallFile(f, i == 0 && !strings.HasSuffix(record, ".app"), dir, o.replace); err != nil {
			errs = append(errs, fmt.Errorf("quadlet %q failed to install: %w", f.src, err))
		}
		if slices.ContainsFunc(files[:i], func(g installFile) bool { return g.name == f.name }) {
			errs = append(errs, fmt.Errorf("quadlet %q failed to install: another file to install is named %s too", f.src, f.name))
		}
	}
	if len(errs) > 0 {
		return joinErrors(a, errs) // nothing was installed: one line a file refused
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("unable to create Quadlet install path %s: %w", dir, err)
	}
	if err := installFiles(dir, files, o.replace); err != nil {
		return err
	}
	if record != "" {
		var names []string
		for _, f := range files {
			if strings.HasSuffix(record, ".app") || f != files[0] {
				names = append(names, f.name)
			}
		}
		if err := addRecordLines(filepath.Join(dir, record), names); err != nil {
			return err
		}
	}
	for _, f := range files {
		fmt.Fprintln(a.stdout, filepath.Join(dir, f.name))
	}
	if o.reloadSystemd {
		return reloadSystemd(a)
	}
	return nil
}

// quadletInstallPlan lists the files of an install and the record that ties them together, as
// podman's: a directory is an application, ".DIR.app" naming each of its files (and of the
// files after it); a Quadlet file followed by other files has them in ".FILE.asset", removed
// with it. A single file has no record.
func quadletInstallPlan(args []string) ([]installFile, string, error) {
	fi, err := os.Stat(args[0])
	if err != nil {
		return nil, "", fmt.Errorf("unable to stat Quadlet path %s: %w", args[0], err)
	}
	var files []installFile
	record := ""
	rest := args
	if fi.IsDir() {
		entries, err := os.ReadDir(args[0])
		if err != nil {
			return nil, "", fmt.Errorf("unable to read Quadlet dir %s: %w", args[0], err)
		}
		hasUnit := false
		for _, e := range entries {
			files = append(files, installFile{filepath.Join(args[0], e.Name()), e.Name()})
			hasUnit = hasUnit || quadlet.IsUnitFile(e.Name())
		}
		if !hasUnit {
			return nil, "", fmt.Errorf("quadlet %q failed to install: the directory holds no Quadlet file (.container, .volume, .network, .image, .build, .pod, .kube)", args[0])
		}
		record = "." + filepath.Base(filepath.Clean(args[0])) + ".app"
		rest = args[1:]
	} else if len(args) > 1 {
		record = "." + filepath.Base(args[0]) + ".asset"
	}
	for _, p := range rest {
		files = append(files, installFile{p, filepath.Base(filepath.Clean(p))})
	}
	return files, record, nil
}

// checkInstallFile checks one file before anything is copied: a regular file, a Quadlet file
// where one must be (the first of a single file's install) and readable as one wherever it has
// a Quadlet file's name, and a name not yet installed unless replace.
func checkInstallFile(f installFile, mustBeUnit bool, dir string, replace bool) error {
	fi, err := os.Stat(f.src)
	if err != nil {
		return fmt.Errorf("does not exist or cannot be read: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if mustBeUnit && !quadlet.IsUnitFile(f.name) {
		return fmt.Errorf("%q is not a supported Quadlet file type (.container, .volume, .network, .image, .build, .pod, .kube)", filepath.Ext(f.name))
	}
	if quadlet.IsUnitFile(f.name) {
		if _, err := quadlet.CheckFile(f.name, f.src); err != nil {
			return err
		}
	}
	if f.name == "" || strings.HasPrefix(f.name, ".") && (strings.HasSuffix(f.name, ".app") || strings.HasSuffix(f.name, ".asset")) {
		return fmt.Errorf("the name %s is pea's own record of installed files", f.name)
	}
	if _, err := os.Lstat(filepath.Join(dir, f.name)); err == nil && !replace {
		return fmt.Errorf("a Quadlet with name %s already exists, refusing to overwrite", f.name)
	}
	return nil
}

// installFiles copies files into dir: each first to a temporary file there, then each moved
// to its name (linked, so that a name that appeared meanwhile is not overwritten, unless
// replace). A failure removes what this install had put in place.
func installFiles(dir string, files []installFile, replace bool) (err error) {
	var temps, placed []string
	defer func() {
		for _, t := range temps {
			os.Remove(t)
		}
		if err != nil {
			for _, p := range placed {
				os.Remove(p)
			}
		}
	}()
	for _, f := range files {
		t, err := copyToTemp(dir, f.src)
		if t != "" {
			temps = append(temps, t)
		}
		if err != nil {
			return fmt.Errorf("quadlet %q failed to install: %w", f.src, err)
		}
	}
	for i, f := range files {
		dest := filepath.Join(dir, f.name)
		if replace {
			if _, statErr := os.Lstat(dest); statErr != nil {
				placed = append(placed, dest)
			}
			err = os.Rename(temps[i], dest)
		} else if err = os.Link(temps[i], dest); err == nil {
			placed = append(placed, dest)
		} else if errors.Is(err, os.ErrExist) {
			err = fmt.Errorf("a Quadlet with name %s already exists, refusing to overwrite", f.name)
		}
		if err != nil {
			return fmt.Errorf("quadlet %q failed to install: %w", f.src, err)
		}
	}
	return nil
}

func copyToTemp(dir, src string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.CreateTemp(dir, ".pea-install-*")
	if err != nil {
		return "", err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(out.Name(), 0o644)
	}
	return out.Name(), err
}

// addRecordLines adds names to a record file (one name a line), each once.
func addRecordLines(path string, names []string) error {
	have, err := readRecord(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, n := range names {
		if !slices.Contains(have, n) {
			have = append(have, n)
		}
	}
	return os.WriteFile(path, []byte(strings.Join(have, "\n")+"\n"), 0o644)
}

// readRecord reads the names of a record file (.NAME.app, .NAME.asset): one a line.
func readRecord(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.Contains(l, "/") {
			names = append(names, l)
		}
	}
	return names, nil
}

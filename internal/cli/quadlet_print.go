package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"pea/internal/errdefs"
	"pea/internal/quadlet"
)

// newQuadletPrintCommand is `pea quadlet print NAME` (alias cat): the Quadlet file as written,
// the first of its name in the generator's directories.
func newQuadletPrintCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "print QUADLET",
		Aliases: []string{"cat"},
		Short:   "Display the contents of a quadlet",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, err := quadletPath(args[0])
			if err != nil {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("reading quadlet %q contents: %w", path, err)
			}
			_, err = a.stdout.Write(data)
			return err
		},
	}
}

// quadletPath finds the file of a Quadlet name (web.container) in the generator's
// directories, as the generator would: the first directory's.
func quadletPath(name string) (string, error) {
	if !quadlet.IsUnitFile(name) || filepath.Base(name) != name {
		return "", errdefs.Errorf(errdefs.ErrInvalid, "%q is not a supported quadlet file type", filepath.Ext(name))
	}
	dirs, err := quadlet.SourceDirs(quadletUser())
	if err != nil {
		return "", err
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("cannot stat quadlet at path %q: %w", p, err)
		}
	}
	return "", errdefs.Errorf(errdefs.ErrNotFound, "could not locate quadlet %q in any supported quadlet directory", name)
}

package quadlet

import (
	"fmt"
	"path/filepath"
	"slices"
)

// What `pea quadlet install|list|print|rm` need of the package (podman 5.6's verbs): which
// files are Quadlet files, where installed files go, and the service a file becomes.

// IsUnitFile tells whether name has the extension of a Quadlet file pea reads (.container,
// .volume, .network, .image, .build, .pod, .kube).
func IsUnitFile(name string) bool { return slices.Contains(kinds(), filepath.Ext(name)) }

// InstallDir is where `pea quadlet install` puts files: the first of $PEA_QUADLET_UNIT_DIRS
// when it is set (the directory the generator reads first, so that what is installed is what
// it generates), else /etc/pea/systemd or, for user, $XDG_CONFIG_HOME/pea/systemd: pea's
// counterparts of podman's /etc/containers/systemd and $XDG_CONFIG_HOME/containers/systemd.
func InstallDir(user bool) (string, error) {
	dirs, err := SourceDirs(user)
	if err != nil {
		return "", err
	}
	return dirs[0], nil
}

// CheckFile reads the Quadlet file at path as the generator would read its syntax (sections,
// keys, continuations, quotes), naming it name; it returns the service it becomes.
func CheckFile(name, path string) (service string, err error) {
	u, err := readUnit(name, path)
	if err != nil {
		return "", err
	}
	if !IsUnitFile(name) {
		return "", fmt.Errorf("%q is not a supported Quadlet file type", filepath.Ext(name))
	}
	return serviceName(u), nil
}

// ServiceOf is the systemd service the installed Quadlet file at path becomes.
func ServiceOf(path string) (string, error) {
	return CheckFile(filepath.Base(path), path)
}

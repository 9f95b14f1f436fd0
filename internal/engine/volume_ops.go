package engine

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/trace"
)

// LookupVolume finds a volume by name.
func (r *Runtime) LookupVolume(name string) (*model.Volume, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	return st.Volume(name)
}

// ListVolumes returns every volume.
func (r *Runtime) ListVolumes() ([]*model.Volume, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	vs, err := st.ListVolumes()
	// By name, as podman keeps them (its database's key order): ls, rm --all, prune, df.
	slices.SortFunc(vs, func(a, b *model.Volume) int { return strings.Compare(a.Name, b.Name) })
	return vs, err
}

// VolumeUsers lists the containers that mount a volume.
func (r *Runtime) VolumeUsers(name string) ([]string, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	cs, err := st.ListContainers("", "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" && m.Source == name {
				out = append(out, c.Config.ID)
				break
			}
		}
	}
	return out, nil
}

// RemoveVolume deletes a volume and its data; refused while a container uses it, unless force
// removes those containers first.
func (r *Runtime) RemoveVolume(name string, force bool) error {
	return r.RemoveVolumeTimeout(name, force, nil)
}

// RemoveVolumeTimeout is RemoveVolume whose forced removal stops the containers using the
// volume within timeout seconds (nil: each container's own stop timeout).
func (r *Runtime) RemoveVolumeTimeout(name string, force bool, timeout *uint) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	v, err := st.Volume(name)
	if err != nil {
		return err
	}
	users, err := r.VolumeUsers(name)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		if !force {
			return errdefs.Errorf(errdefs.ErrInUse, "volume %s is being used by the following container(s): %s: volume is being used", name, strings.Join(users, ", "))
		}
		for _, id := range users {
			if err := r.RemoveContainer(context.Background(), id, RemoveOptions{Force: true, Ignore: true, Timeout: timeout}); err != nil {
				return err
			}
		}
	}
	if v.NeedsMount {
		// What `volume mount` held goes; nothing is removed through a mount (a bind's
		// device is the host's directory).
		if err := unmountAll(v.Mountpoint); err != nil {
			return fmt.Errorf("volume %s: unmounting it: %w", name, err)
		}
		r.writeVolumeHolders(name, nil)
	}
	// The files go to the trash (a rename) before the record: a removal killed in between
	// leaves a volume whose next removal finishes, never files that nothing names (the record
	// went first, and a kill during the deletion of the files left them for good).
	r.discardDir(filepath.Dir(v.Mountpoint))
	trace.Mark("volume rm: files in the trash")
	if err := st.RemoveVolume(name); err != nil {
		return err
	}
	r.locks.Remove(volumeLockName(name))
	r.volumeEvent(v, "remove")
	return nil
}

// PruneVolumes removes every volume no container uses.
func (r *Runtime) PruneVolumes(f PruneFilter) ([]string, error) {
	vs, err := r.ListVolumes()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range vs {
		if !f.Matches(v.Labels, v.Created) {
			continue
		}
		if users, _ := r.VolumeUsers(v.Name); len(users) > 0 {
			continue
		}
		if err := r.RemoveVolume(v.Name, false); err == nil {
			out = append(out, v.Name)
		}
	}
	return out, nil
}

// ExportVolume writes a volume's contents as a tar (podman's volume export), by the copier's
// walk: directory descriptors opened without following links, so a link a container put in
// the volume is written as a link and never followed.
func (r *Runtime) ExportVolume(name string, w io.Writer) error {
	v, err := r.LookupVolume(name)
	if err != nil {
		return err
	}
	return exportTree(w, v.Mountpoint, nil, nil)
}

// ImportVolume unpacks a tar into a volume (podman's volume import), over what it holds,
// while no running container uses it: a running one could swap a directory for a link under
// the unpacking. Entries that climb out of the volume are refused (Untar).
func (r *Runtime) ImportVolume(name string, rd io.Reader) error {
	v, err := r.LookupVolume(name)
	if err != nil {
		return err
	}
	users, err := r.VolumeUsers(v.Name)
	if err != nil {
		return err
	}
	for _, id := range users {
		if c, err := r.LookupContainer(id); err == nil && c.State.Active() {
			return fmt.Errorf("volume %s is used by running container %s: stop it first: %w", v.Name, c.Config.Name, errdefs.ErrInUse)
		}
	}
	if err := Untar(rd, v.Mountpoint); err != nil {
		return fmt.Errorf("importing into volume %s: %w", v.Name, err)
	}
	return nil
}

package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// prepareVolumes creates the named volumes a new container mounts that do not exist yet, as
// podman does; u removes them again if the create fails later.
func (r *Runtime) prepareVolumes(cfg *model.ContainerConfig, u *undo) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	for i, m := range cfg.Mounts {
		if m.Type != "volume" {
			continue
		}
		if m.Source == "" { // anonymous volume
			v, err := r.CreateVolume("", map[string]string{"anonymous": "true"}, m.VolumeOptions)
			if err != nil {
				return err
			}
			u.add(func() { r.RemoveVolume(v.Name, true) })
			cfg.Mounts[i].Source = v.Name
			continue
		}
		if _, err := st.Volume(m.Source); err == nil {
			continue
		} else if !errdefs.Is(err, errdefs.ErrNotFound) {
			return err
		}
		if _, err := r.CreateVolume(m.Source, nil, m.VolumeOptions); err == nil {
			name := m.Source
			u.add(func() { r.RemoveVolume(name, true) })
		} else if !errdefs.Is(err, errdefs.ErrExists) {
			return err
		}
	}
	return nil
}

// volumePath is where a named volume's data lives.
func (r *Runtime) volumePath(name string) string {
	return filepath.Join(r.volumesDir(), name, "_data")
}

// CreateVolume makes a named volume (a random name when empty).
func (r *Runtime) CreateVolume(name string, labels, options map[string]string) (*model.Volume, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = newID()
	}
	if !validName(name) {
		return nil, fmt.Errorf("volume name %q: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: %w", name, errdefs.ErrInvalid)
	}
	v := &model.Volume{Name: name, Driver: "local", Mountpoint: r.volumePath(name), Labels: labels, Options: options, Created: time.Now()}
	if err := parseVolumeOptions(v); err != nil {
		return nil, err
	}
	if err := st.AddVolume(v); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(v.Mountpoint, 0o755); err != nil {
		st.RemoveVolume(name)
		return nil, err
	}
	if v.UID != nil || v.GID != nil {
		uid, gid := -1, -1
		if v.UID != nil {
			uid = *v.UID
		}
		if v.GID != nil {
			gid = *v.GID
		}
		if err := os.Lchown(v.Mountpoint, uid, gid); err != nil {
			st.RemoveVolume(name)
			os.RemoveAll(filepath.Dir(v.Mountpoint))
			return nil, err
		}
	}
	r.volumeEvent(v, "create")
	return v, nil
}

// resolveMounts turns named-volume mounts into binds of the volumes' directories.
func (r *Runtime) resolveMounts(ms []model.Mount) []model.Mount {
	out := make([]model.Mount, len(ms))
	for i, m := range ms {
		if m.Type == "volume" {
			m.Source = r.volumePath(m.Source)
		}
		out[i] = m
	}
	return out
}

package view

import (
	"time"

	"pea/internal/model"
)

// Volume is podman's volume inspect: `pea volume inspect` and the libpod API's.
type Volume struct {
	Name        string            `json:"Name"`
	Driver      string            `json:"Driver"`
	Mountpoint  string            `json:"Mountpoint"`
	CreatedAt   time.Time         `json:"CreatedAt"`
	Labels      map[string]string `json:"Labels"`
	Scope       string            `json:"Scope"`
	Options     map[string]string `json:"Options"`
	UID         int               `json:"UID,omitempty"`
	GID         int               `json:"GID,omitempty"`
	MountCount  int               `json:"MountCount"`
	NeedsCopyUp bool              `json:"NeedsCopyUp,omitempty"`
	NeedsChown  bool              `json:"NeedsChown,omitempty"`
}

// NewVolume is v's view; mountCount is how many hold it mounted (engine.VolumeMountCount).
func NewVolume(v *model.Volume, mountCount int) *Volume {
	j := &Volume{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, CreatedAt: v.Created, Labels: v.Labels, Scope: "local",
		Options: v.Options, MountCount: mountCount, NeedsCopyUp: v.NeedsCopyUp, NeedsChown: v.NeedsChown}
	if j.Driver == "" {
		j.Driver = "local"
	}
	if v.UID != nil {
		j.UID = *v.UID
	}
	if v.GID != nil {
		j.GID = *v.GID
	}
	if v.ChownedUID > 0 { // podman's: the user of the first container to use it, else uid=
		j.UID = v.ChownedUID
	}
	if v.ChownedGID > 0 {
		j.GID = v.ChownedGID
	}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if j.Options == nil {
		j.Options = map[string]string{}
	}
	return j
}

package cli

import (
	"time"

	"github.com/spf13/cobra"

	"pea/internal/engine"
	"pea/internal/image"
)

// imageInspect is `image inspect`'s view, with podman's keys.
type imageInspect struct {
	ID           string              `json:"Id"`
	Digest       string              `json:"Digest"`
	RepoTags     []string            `json:"RepoTags"`
	RepoDigests  []string            `json:"RepoDigests"`
	Parent       string              `json:"Parent"`
	Comment      string              `json:"Comment"`
	Created      *time.Time          `json:"Created,omitempty"`
	Config       *imageInspectConfig `json:"Config"`
	Version      string              `json:"Version"`
	Author       string              `json:"Author"`
	Architecture string              `json:"Architecture"`
	Os           string              `json:"Os"`
	Size         int64               `json:"Size"`
	VirtualSize  int64               `json:"VirtualSize"`
	GraphDriver  graphDriver         `json:"GraphDriver"`
	RootFS       imageRootFS         `json:"RootFS"`
	Labels       map[string]string   `json:"Labels"`
	Annotations  map[string]string   `json:"Annotations"`
	ManifestType string              `json:"ManifestType"`
	User         string              `json:"User"`
	Healthcheck  *image.HealthConfig `json:"Healthcheck,omitempty"` // podman's place for the HEALTHCHECK
	History      []image.History     `json:"History"`
	NamesHistory []string            `json:"NamesHistory"`
}

// imageInspectConfig is the OCI image config as podman shows it.
type imageInspectConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
}

type graphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type imageRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func newImageInspectCommand(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [options] IMAGE [IMAGE...]",
		Short: "Display the configuration of an image",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, err := a.engine()
			if err != nil {
				return err
			}
			return inspectEach(a, args, format, func(name string) (any, error) { return imageInspectValue(rt, name) })
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "format with a Go template or json")
	return cmd
}

// imageInspectValue is the inspect view of one image (also used by the generic `inspect`).
func imageInspectValue(rt *engine.Runtime, name string) (any, error) {
	img, err := rt.ImageLookup(name)
	if err == nil && img.IsList() {
		img, err = rt.ManifestMember(img) // as podman: a list's image for this machine
	}
	if err != nil {
		return nil, err
	}
	dirs, err := rt.ImageLayerDirs(img)
	if err != nil {
		return nil, err
	}
	return toImageInspect(img, dirs), nil
}

func toImageInspect(img *image.Image, dirs []string) *imageInspect {
	c := img.Config.Config
	v := &imageInspect{
		ID:          img.ID,
		Digest:      img.Digest,
		RepoTags:    nonNil(img.Names),
		RepoDigests: nonNil(img.RepoDigests()),
		Config: &imageInspectConfig{
			User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd,
			Volumes: c.Volumes, WorkingDir: c.WorkingDir, Labels: c.Labels, StopSignal: c.StopSignal,
		},
		Version:      img.Config.DockerVersion,
		Author:       img.Config.Author,
		Architecture: img.Config.Architecture,
		Os:           img.Config.OS,
		Size:         img.Size,
		VirtualSize:  img.Size,
		GraphDriver:  graphDriver{Name: "overlay", Data: engine.OverlayData(dirs)},
		RootFS:       imageRootFS{Type: "layers", Layers: nonNil(img.Layers)},
		Labels:       c.Labels,
		Healthcheck:  c.Healthcheck,
		Annotations:  map[string]string{},
		ManifestType: img.ManifestType,
		User:         c.User,
		History:      img.Config.History,
		NamesHistory: nonNil(img.NamesHistory),
	}
	if !img.Created.IsZero() {
		t := img.Created
		v.Created = &t
	}
	if v.History == nil {
		v.History = []image.History{}
	}
	v.Comment = img.Comment()
	return v
}

package view

import (
	"time"

	"pea/internal/engine"
	"pea/internal/image"
)

// Image is `image inspect`'s view, with podman's keys.
type Image struct {
	ID           string              `json:"Id"`
	Digest       string              `json:"Digest"`
	RepoTags     []string            `json:"RepoTags"`
	RepoDigests  []string            `json:"RepoDigests"`
	Parent       string              `json:"Parent"`
	Comment      string              `json:"Comment"`
	Created      *time.Time          `json:"Created,omitempty"`
	Config       *ImageConfig        `json:"Config"`
	Version      string              `json:"Version"`
	Author       string              `json:"Author"`
	Architecture string              `json:"Architecture"`
	Os           string              `json:"Os"`
	Size         int64               `json:"Size"`
	VirtualSize  int64               `json:"VirtualSize"`
	GraphDriver  GraphDriver         `json:"GraphDriver"`
	RootFS       RootFS              `json:"RootFS"`
	Labels       map[string]string   `json:"Labels"`
	Annotations  map[string]string   `json:"Annotations"`
	ManifestType string              `json:"ManifestType"`
	User         string              `json:"User"`
	HealthCheck  *image.HealthConfig `json:"Healthcheck,omitempty"` // podman's place (and field name) for the HEALTHCHECK
	History      []image.History     `json:"History"`
	NamesHistory []string            `json:"NamesHistory"`
}

// ImageConfig is the OCI image config as podman shows it.
type ImageConfig struct {
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

type GraphDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type RootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func ImageInspect(img *image.Image, dirs []string) *Image {
	c := img.Config.Config
	v := &Image{
		ID:          img.ID,
		Digest:      img.Digest,
		RepoTags:    nonNil(img.Names),
		RepoDigests: nonNil(img.RepoDigests()),
		Config: &ImageConfig{
			User: c.User, ExposedPorts: c.ExposedPorts, Env: c.Env, Entrypoint: c.Entrypoint, Cmd: c.Cmd,
			Volumes: c.Volumes, WorkingDir: c.WorkingDir, Labels: c.Labels, StopSignal: c.StopSignal,
		},
		Version:      img.Config.DockerVersion,
		Author:       img.Config.Author,
		Architecture: img.Config.Architecture,
		Os:           img.Config.OS,
		Size:         img.Size,
		VirtualSize:  img.Size,
		GraphDriver:  GraphDriver{Name: "overlay", Data: engine.OverlayData(dirs)},
		RootFS:       RootFS{Type: "layers", Layers: nonNil(img.Layers)},
		Labels:       c.Labels,
		HealthCheck:  c.Healthcheck,
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
	for k, a := range img.Annotations {
		v.Annotations[k] = a
	}
	// podman shows a Docker image's config comment, an OCI image's first history comment
	if img.ManifestType == string(image.DockerManifestSchema2) {
		v.Comment = img.Config.Comment
	} else if len(img.Config.History) > 0 {
		v.Comment = img.Config.History[0].Comment
	}
	return v
}

// WithStore completes v with what the store knows beyond the image's record: its size as podman
// counts it (config and manifest included) and the image it was made on top of ("" : none).
func (v *Image) WithStore(size int64, parent string) *Image {
	v.Size, v.VirtualSize, v.Parent = size, size, parent
	return v
}

package image

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The image formats pea reads and writes: OCI image manifests, indexes and configs, and their
// Docker counterparts (image manifest v2 schema 2 and manifest lists), which share the same JSON
// shapes and differ only in media types. These are plain data types; the content-addressed bytes
// a digest was computed over are kept alongside and never re-marshalled.

// MediaType is a content type of the OCI and Docker image formats.
type MediaType string

// Media types of manifests, configs and layers.
const (
	OCIImageIndex        MediaType = "application/vnd.oci.image.index.v1+json"
	OCIManifestSchema1   MediaType = "application/vnd.oci.image.manifest.v1+json"
	OCIConfigJSON        MediaType = "application/vnd.oci.image.config.v1+json"
	OCILayer             MediaType = "application/vnd.oci.image.layer.v1.tar+gzip"
	OCILayerZStd         MediaType = "application/vnd.oci.image.layer.v1.tar+zstd"
	OCIUncompressedLayer MediaType = "application/vnd.oci.image.layer.v1.tar"

	DockerManifestSchema1       MediaType = "application/vnd.docker.distribution.manifest.v1+json"
	DockerManifestSchema1Signed MediaType = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	DockerManifestSchema2       MediaType = "application/vnd.docker.distribution.manifest.v2+json"
	DockerManifestList          MediaType = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerLayer                 MediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	DockerConfigJSON            MediaType = "application/vnd.docker.container.image.v1+json"
	DockerUncompressedLayer     MediaType = "application/vnd.docker.image.rootfs.diff.tar"
)

// isIndex reports whether mt is a multi-platform index (OCI index or Docker manifest list).
func isIndex(mt MediaType) bool {
	return mt == OCIImageIndex || mt == DockerManifestList
}

// isImageManifest reports whether mt is a single-image manifest pea can read.
func isImageManifest(mt MediaType) bool {
	return mt == OCIManifestSchema1 || mt == DockerManifestSchema2
}

// Hash is a content digest, "algorithm:hex".
type Hash struct {
	Algorithm string
	Hex       string
}

// NewHash parses "sha256:<64 hex digits>" (or sha512 with 128).
func NewHash(s string) (Hash, error) {
	var h Hash
	err := h.parse(s)
	return h, err
}

func (h *Hash) parse(s string) error {
	algo, hx, ok := cut(s, ':')
	if !ok || algo == "" || hx == "" {
		return fmt.Errorf("digest %q is not algorithm:hex", s)
	}
	var n int
	switch algo {
	case "sha256":
		n = 64
	case "sha512":
		n = 128
	default:
		return fmt.Errorf("digest %q: unsupported algorithm %q", s, algo)
	}
	if len(hx) != n {
		return fmt.Errorf("digest %q: a %s digest has %d hex digits", s, algo, n)
	}
	for i := 0; i < len(hx); i++ {
		if c := hx[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("digest %q: %q is not a lowercase hex digit", s, c)
		}
	}
	h.Algorithm, h.Hex = algo, hx
	return nil
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// String is "algorithm:hex".
func (h Hash) String() string { return h.Algorithm + ":" + h.Hex }

// IsZero reports whether h is unset.
func (h Hash) IsZero() bool { return h.Algorithm == "" && h.Hex == "" }

func (h Hash) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

func (h *Hash) UnmarshalText(b []byte) error { return h.parse(string(b)) }

func (h Hash) MarshalJSON() ([]byte, error) { return json.Marshal(h.String()) }

func (h *Hash) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	return h.parse(s)
}

// Platform is the platform a manifest of an index is for.
type Platform struct {
	Architecture string   `json:"architecture"`
	OS           string   `json:"os"`
	OSVersion    string   `json:"os.version,omitempty"`
	OSFeatures   []string `json:"os.features,omitempty"`
	Variant      string   `json:"variant,omitempty"`
	Features     []string `json:"features,omitempty"`
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Descriptor points at a blob: its media type, size and digest.
type Descriptor struct {
	MediaType    MediaType         `json:"mediaType"`
	Size         int64             `json:"size"`
	Digest       Hash              `json:"digest"`
	Data         []byte            `json:"data,omitempty"`
	URLs         []string          `json:"urls,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
	ArtifactType string            `json:"artifactType,omitempty"`
}

// Manifest is an OCI image manifest or a Docker image manifest v2 schema 2.
type Manifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     MediaType         `json:"mediaType,omitempty"`
	Config        Descriptor        `json:"config"`
	Layers        []Descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Subject       *Descriptor       `json:"subject,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
}

// IndexManifest is an OCI image index or a Docker manifest list.
type IndexManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     MediaType         `json:"mediaType,omitempty"`
	Manifests     []Descriptor      `json:"manifests"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Subject       *Descriptor       `json:"subject,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
}

// Time is a timestamp of an image config (RFC 3339 in JSON).
type Time struct {
	time.Time
}

// ConfigFile is an image configuration (OCI image config, Docker image JSON).
type ConfigFile struct {
	Architecture  string    `json:"architecture"`
	Author        string    `json:"author,omitempty"`
	Comment       string    `json:"comment,omitempty"` // a Docker config's (podman shows it for a Docker image)
	Container     string    `json:"container,omitempty"`
	Created       Time      `json:"created,omitempty"`
	DockerVersion string    `json:"docker_version,omitempty"`
	History       []History `json:"history,omitempty"`
	OS            string    `json:"os"`
	RootFS        RootFS    `json:"rootfs"`
	Config        Config    `json:"config"`
	OSVersion     string    `json:"os.version,omitempty"`
	Variant       string    `json:"variant,omitempty"`
	OSFeatures    []string  `json:"os.features,omitempty"`
}

// History is one step of an image's build history.
// The fields are in the OCI specification's order, which podman's templates print.
type History struct {
	Created    Time   `json:"created,omitempty"`
	CreatedBy  string `json:"created_by,omitempty"`
	Author     string `json:"author,omitempty"`
	Comment    string `json:"comment,omitempty"`
	EmptyLayer bool   `json:"empty_layer,omitempty"`
}

// RootFS lists the layers' diffIDs (digests of the uncompressed tars), bottom first.
type RootFS struct {
	Type    string `json:"type"`
	DiffIDs []Hash `json:"diff_ids"`
}

// HealthConfig is a Docker image's health check.
type HealthConfig struct {
	Test        []string      `json:",omitempty"`
	Interval    time.Duration `json:",omitempty"`
	Timeout     time.Duration `json:",omitempty"`
	StartPeriod time.Duration `json:",omitempty"`
	Retries     int           `json:",omitempty"`
}

// Config is the execution part of an image config, with Docker's keys.
type Config struct {
	AttachStderr    bool                `json:"AttachStderr,omitempty"`
	AttachStdin     bool                `json:"AttachStdin,omitempty"`
	AttachStdout    bool                `json:"AttachStdout,omitempty"`
	Cmd             []string            `json:"Cmd,omitempty"`
	Healthcheck     *HealthConfig       `json:"Healthcheck,omitempty"`
	Domainname      string              `json:"Domainname,omitempty"`
	Entrypoint      []string            `json:"Entrypoint,omitempty"`
	Env             []string            `json:"Env,omitempty"`
	Hostname        string              `json:"Hostname,omitempty"`
	Image           string              `json:"Image,omitempty"`
	Labels          map[string]string   `json:"Labels,omitempty"`
	OnBuild         []string            `json:"OnBuild,omitempty"`
	OpenStdin       bool                `json:"OpenStdin,omitempty"`
	StdinOnce       bool                `json:"StdinOnce,omitempty"`
	Tty             bool                `json:"Tty,omitempty"`
	User            string              `json:"User,omitempty"`
	Volumes         map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir      string              `json:"WorkingDir,omitempty"`
	ExposedPorts    map[string]struct{} `json:"ExposedPorts,omitempty"`
	ArgsEscaped     bool                `json:"ArgsEscaped,omitempty"`
	NetworkDisabled bool                `json:"NetworkDisabled,omitempty"`
	MacAddress      string              `json:"MacAddress,omitempty"`
	StopSignal      string              `json:"StopSignal,omitempty"`
	Shell           []string            `json:"Shell,omitempty"`
}

// ParseConfigFile decodes an image config.
func ParseConfigFile(b []byte) (*ConfigFile, error) {
	var c ConfigFile
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// ParseManifest decodes an image manifest.
func ParseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// ParseIndexManifest decodes an image index or manifest list.
func ParseIndexManifest(b []byte) (*IndexManifest, error) {
	var m IndexManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// sniffMediaType is a manifest's media type: its mediaType field, or (for OCI documents, where the
// field is optional) what its shape says.
func sniffMediaType(raw []byte) MediaType {
	var probe struct {
		SchemaVersion int64           `json:"schemaVersion"`
		MediaType     MediaType       `json:"mediaType"`
		Manifests     json.RawMessage `json:"manifests"`
		Config        json.RawMessage `json:"config"`
		FSLayers      json.RawMessage `json:"fsLayers"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType != "":
		return probe.MediaType
	case probe.SchemaVersion == 1 || len(probe.FSLayers) > 0:
		return DockerManifestSchema1
	case len(probe.Manifests) > 0 && !bytes.Equal(probe.Manifests, []byte("null")):
		return OCIImageIndex
	case len(probe.Config) > 0:
		return OCIManifestSchema1
	}
	return ""
}

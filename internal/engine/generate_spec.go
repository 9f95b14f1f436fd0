package engine

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// SpecSource is what `generate spec` describes (podman 4.3's): a container's or a pod's
// settings, made ready to be created again through the libpod create endpoints. Exactly one of
// Container and Pod is set; both are copies, free to change.
type SpecSource struct {
	// Container is the container's config with what its pod gave it taken out (Pod stays: the
	// new container joins the pod again), its anonymous volumes nameless (new ones are made),
	// and the mounts --volumes-from copied left to VolumesFrom.
	Container *model.ContainerConfig
	// Image is what the spec names the container's image by: the name it was made from while
	// that name still names the same image, else the image's ID (podman always writes the ID).
	Image string
	// ImageVolumes are the VOLUMEs of the container's image, ImageHealthcheck whether it has a
	// HEALTHCHECK: what the container left out of its config (--image-volume ignore,
	// --no-healthcheck) has to be said in the spec. Both are empty when the image is gone.
	ImageVolumes     []string
	ImageHealthcheck bool
	// SeccompFromImage: the container's seccomp profile is its image's (--seccomp-policy image).
	SeccompFromImage bool
	// Pod is the pod's config, its defaults (hostname, cgroup parent) left unset.
	Pod *model.PodConfig
}

// GenerateSpecSource finds the container (first) or the pod called nameOrID; with rename, the
// copy is named as podman names it (specName), and so is a pod's infra container when it has a
// name of the user's. A pod's infra container is refused: its pod is what makes it.
func (r *Runtime) GenerateSpecSource(nameOrID string, rename bool) (*SpecSource, error) {
	c, cerr := r.LookupContainer(nameOrID)
	if cerr == nil {
		if c.Config.IsInfra {
			return nil, fmt.Errorf("%s is a pod's infra container: generate the spec of its pod: %w", c.Config.Name, errdefs.ErrInvalid)
		}
		return r.containerSpecSource(c.Config, rename)
	}
	p, perr := r.LookupPod(nameOrID)
	if perr == nil {
		cfg := &model.PodConfig{}
		if err := deepCopy(p.Config, cfg); err != nil {
			return nil, err
		}
		if cfg.Hostname == cfg.Name {
			cfg.Hostname = "" // the default: a new pod's is its own name
		}
		if cfg.CgroupParent == defaultCgroupParent {
			cfg.CgroupParent = ""
		}
		if rename {
			cfg.Name = r.specName(cfg.Name, true)
			if cfg.InfraName != "" { // taken by the original's infra container
				cfg.InfraName = r.specName(cfg.InfraName, false)
			}
		}
		return &SpecSource{Pod: cfg}, nil
	}
	if !errdefs.Is(cerr, errdefs.ErrNotFound) {
		return nil, cerr
	}
	if !errdefs.Is(perr, errdefs.ErrNotFound) {
		return nil, perr
	}
	return nil, errdefs.Errorf(errdefs.ErrNotFound, "could not find a pod or container with the id %s", nameOrID)
}

func (r *Runtime) containerSpecSource(orig *model.ContainerConfig, rename bool) (*SpecSource, error) {
	cfg := &model.ContainerConfig{}
	if err := deepCopy(orig, cfg); err != nil {
		return nil, err
	}
	src := &SpecSource{Container: cfg, Image: cfg.Image}
	if rename {
		cfg.Name = r.specName(cfg.Name, false)
	}
	if cfg.Pod != "" {
		pod := cfg.Pod
		if err := r.leavePod(cfg); err != nil {
			return nil, err
		}
		cfg.Pod = pod
	}
	r.leaveVolumesFrom(cfg)
	src.SeccompFromImage = cfg.Seccomp == filepath.Join(r.ctrDir(orig.ID), "seccomp.json") && cfg.Annotations[seccompLabel] != ""
	for i, m := range cfg.Mounts {
		if m.Type != "volume" {
			continue
		}
		if v, err := r.LookupVolume(m.Source); err == nil && v.Labels["anonymous"] == "true" {
			cfg.Mounts[i].Source = ""
		}
	}
	if cfg.Image != "" {
		img, err := r.ImageLookup(cfg.Image)
		if err != nil {
			return src, nil // gone: the spec names it by ID, and says nothing of its VOLUMEs
		}
		if named, err := r.ImageLookup(cfg.ImageName); cfg.ImageName != "" && err == nil && named.ID == img.ID {
			src.Image = cfg.ImageName
		}
		for dest := range img.Config.Config.Volumes {
			src.ImageVolumes = append(src.ImageVolumes, dest)
		}
		slices.Sort(src.ImageVolumes)
		hc := img.Config.Config.Healthcheck
		src.ImageHealthcheck = hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
	}
	return src, nil
}

// leaveVolumesFrom takes out of cfg the mounts its --volumes-from containers give (a new
// container gets them from there again, sharing their anonymous volumes); when one of those
// containers is gone, the mounts stay and VolumesFrom goes.
func (r *Runtime) leaveVolumesFrom(cfg *model.ContainerConfig) {
	if len(cfg.VolumesFrom) == 0 {
		return
	}
	given, err := r.volumesFrom(cfg.VolumesFrom, nil)
	if err != nil {
		cfg.VolumesFrom = nil
		return
	}
	cfg.Mounts = slices.DeleteFunc(cfg.Mounts, func(m model.Mount) bool {
		return slices.ContainsFunc(given, func(g model.Mount) bool {
			return g.Destination == m.Destination && g.Type == m.Type && g.Source == m.Source
		})
	})
}

// specName is podman's name for what generate spec describes, so that it can be made beside the
// original: NAME-clone; a name with -clone in it gets the number after it raised to the first
// free one (NAME-clone1, NAME-clone2, ...). podman keeps NAME-clone even when that name is
// taken; pea goes on to NAME-clone1...
func (r *Runtime) specName(name string, pod bool) string {
	taken := func(n string) bool {
		if pod {
			p, err := r.LookupPod(n)
			return err == nil && p.Config.Name == n
		}
		c, err := r.LookupContainer(n)
		return err == nil && c.Config.Name == n
	}
	i := strings.Index(name, "-clone")
	if i < 0 {
		name += "-clone"
		if !taken(name) {
			return name
		}
		i = len(name) - len("-clone")
	}
	base := name[:i+len("-clone")]
	num, err := strconv.Atoi(name[i+len("-clone"):])
	if err != nil { // NAME-clone itself, or NAME-cloneX: numbered after the whole name
		base, num = name, 0
	}
	for n := num + 1; ; n++ {
		if candidate := base + strconv.Itoa(n); !taken(candidate) {
			return candidate
		}
	}
}

// deepCopy copies a config through its JSON form.
func deepCopy(from, to any) error {
	b, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, to)
}

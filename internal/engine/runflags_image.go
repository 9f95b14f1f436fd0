package engine

// The image side of the run flags: --platform, --image-volume, --seccomp-policy.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// Platform is an image platform a container asks for; empty fields ask nothing.
type Platform struct {
	OS, Arch, Variant string
}

// matches checks that img, found by ref, is of platform p; a mismatch is an image not known
// (podman looks for the platform's image, and a local one of another platform is not it).
func (p Platform) matches(ref string, img *image.Image) error {
	c := img.Config
	if (p.OS == "" || p.OS == c.OS) && (p.Arch == "" || p.Arch == c.Architecture) && (p.Variant == "" || p.Variant == c.Variant) {
		return nil
	}
	have := c.OS + "/" + c.Architecture
	if c.Variant != "" {
		have += "/" + c.Variant
	}
	return fmt.Errorf("%s is of platform %s, not %s: %w", ref, have, p, image.ErrImageNotKnown(ref))
}

func (p Platform) String() string {
	os, arch := p.OS, p.Arch
	if os == "" {
		os = "linux"
	}
	if arch == "" {
		arch = "*"
	}
	s := os + "/" + arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// seccompLabel is the image label (or annotation) holding a seccomp profile, for
// --seccomp-policy image.
const seccompLabel = "io.containers.seccomp.profile"

// imageSeccompMark is cfg.Seccomp's value between applyImageRunFlags and writeImageSeccomp: the
// profile is the image's, to be written in the container's directory.
const imageSeccompMark = "\x00image"

// applyImageRunFlags applies --image-volume and --seccomp-policy to cfg, made from img.
func applyImageRunFlags(cfg *model.ContainerConfig, img *image.Image, o CreateOptions) error {
	switch o.ImageVolume {
	case "", "ignore":
	case "bind", "anonymous", "tmpfs": // anonymous: what podman's SpecGenerator calls bind
		for _, dest := range slices.Sorted(maps.Keys(img.Config.Config.Volumes)) {
			dest = filepath.Clean(dest)
			if !filepath.IsAbs(dest) || userMounts(cfg, dest) {
				continue
			}
			m := model.Mount{Type: "volume", Destination: dest, CopyUp: true} // anonymous
			if o.ImageVolume == "tmpfs" {
				m = model.Mount{Type: "tmpfs", Destination: dest, Options: []string{"tmpcopyup"}}
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
	default:
		return fmt.Errorf("invalid --image-volume %q (bind, tmpfs, ignore): %w", o.ImageVolume, errdefs.ErrInvalid)
	}
	switch o.SeccompPolicy {
	case "", "default":
	case "image":
		if _, ok := img.Config.Config.Labels[seccompLabel]; ok && cfg.Seccomp == "" && !cfg.Privileged {
			cfg.Seccomp = imageSeccompMark
			cfg.Annotations = maps.Clone(cfg.Annotations)
			if cfg.Annotations == nil {
				cfg.Annotations = map[string]string{}
			}
			cfg.Annotations[seccompLabel] = img.Config.Config.Labels[seccompLabel]
		}
	default:
		return fmt.Errorf("invalid --seccomp-policy %q (default, image): %w", o.SeccompPolicy, errdefs.ErrInvalid)
	}
	return nil
}

// writeImageSeccomp writes the seccomp profile of the image (see applyImageRunFlags), or the
// one given inline, into the new container's directory, checked, and makes it the container's
// profile.
func (r *Runtime) writeImageSeccomp(cfg *model.ContainerConfig, inline []byte) error {
	content, from := inline, "the seccomp profile given"
	switch {
	case inline != nil:
	case cfg.Seccomp == imageSeccompMark:
		content, from = []byte(cfg.Annotations[seccompLabel]), "the seccomp profile of the image (label "+seccompLabel+")"
	default:
		return nil
	}
	p := filepath.Join(r.ctrDir(cfg.ID), "seccomp.json")
	if err := os.WriteFile(p, content, 0o600); err != nil {
		return err
	}
	cfg.Seccomp = p
	if _, err := seccompFor(cfg); err != nil {
		return fmt.Errorf("%s: %v: %w", from, err, errdefs.ErrInvalid)
	}
	return nil
}

package kube

import (
	"fmt"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// Collect looks up what generate describes: every name is a pod, a container outside pods or a
// volume (in that order). The pods become one source each; the loose containers together one
// more; the volumes become PersistentVolumeClaims.
func Collect(rt *engine.Runtime, names []string) ([]*PodSource, []*model.Volume, error) {
	var srcs []*PodSource
	var loose *PodSource
	var claims []*model.Volume
	for _, name := range names {
		if pod, err := rt.LookupPod(name); err == nil {
			members, err := rt.PodMembers(pod.Config.ID)
			if err != nil {
				return nil, nil, err
			}
			s := &PodSource{Pod: pod.Config}
			for _, c := range members {
				if !c.Config.IsInfra {
					s.Containers = append(s.Containers, c)
				}
			}
			srcs = append(srcs, s)
			continue
		} else if !errdefs.Is(err, errdefs.ErrNotFound) {
			return nil, nil, err
		}
		if c, err := rt.LookupContainer(name); err == nil {
			if c.Config.Pod != "" {
				p, _ := rt.LookupPod(c.Config.Pod)
				pod := c.Config.Pod
				if p != nil {
					pod = p.Config.Name
				}
				return nil, nil, fmt.Errorf("container %s belongs to pod %s: generate the pod instead (pea kube generate %s): %w", c.Config.Name, pod, pod, errdefs.ErrInvalid)
			}
			if loose == nil {
				loose = &PodSource{}
				srcs = append(srcs, loose)
			}
			loose.Containers = append(loose.Containers, c)
			continue
		} else if !errdefs.Is(err, errdefs.ErrNotFound) {
			return nil, nil, err
		}
		if v, err := rt.LookupVolume(name); err == nil {
			claims = append(claims, v)
			continue
		}
		return nil, nil, fmt.Errorf("%s: no such pod, container or volume: %w", name, errdefs.ErrNotFound)
	}
	for _, s := range srcs {
		s.Images = map[string]*ImageDefaults{}
		s.Volumes = map[string]*model.Volume{}
		for _, c := range s.Containers {
			if id := c.Config.Image; id != "" && s.Images[id] == nil {
				if img, err := rt.ImageLookup(id); err == nil {
					ic := img.Config.Config
					s.Images[id] = &ImageDefaults{Entrypoint: ic.Entrypoint, Cmd: ic.Cmd, Env: ic.Env, WorkingDir: ic.WorkingDir, User: ic.User}
				}
			}
			for _, m := range c.Config.Mounts {
				if m.Type == "volume" {
					if v, err := rt.LookupVolume(m.Source); err == nil {
						s.Volumes[m.Source] = v
					}
				}
			}
		}
	}
	return srcs, claims, nil
}

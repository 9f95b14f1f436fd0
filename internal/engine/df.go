package engine

import (
	"io/fs"
	"path/filepath"
	"syscall"

	"pea/internal/image"
	"pea/internal/model"
)

// DiskUsage is what the store's images, containers and volumes take on disk (system df).
type DiskUsage struct {
	Images     []ImageUsage
	Containers []ContainerUsage
	Volumes    []VolumeUsage
}

// ImageUsage is an image and the number of containers made from it.
type ImageUsage struct {
	Image      *image.Image
	Containers int
}

// ContainerUsage is a container and the bytes it wrote (its upper directory).
type ContainerUsage struct {
	Container *model.Container
	Size      int64
}

// VolumeUsage is a volume, the bytes below its mount point and the containers that mount it.
type VolumeUsage struct {
	Volume     *model.Volume
	Size       int64
	Containers int
}

// DiskUsage measures the store (pod infra containers included, as podman counts them).
func (r *Runtime) DiskUsage() (*DiskUsage, error) {
	imgs, err := r.ImageList()
	if err != nil {
		return nil, err
	}
	byImage, err := r.ImageContainers()
	if err != nil {
		return nil, err
	}
	cs, err := r.ListContainers()
	if err != nil {
		return nil, err
	}
	vols, err := r.ListVolumes()
	if err != nil {
		return nil, err
	}
	du := &DiskUsage{}
	for _, img := range imgs {
		du.Images = append(du.Images, ImageUsage{Image: img, Containers: len(byImage[img.ID])})
	}
	users := map[string]int{}
	for _, c := range cs {
		du.Containers = append(du.Containers, ContainerUsage{Container: c, Size: r.ContainerSize(c.Config.ID)})
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" {
				users[m.Source]++
			}
		}
	}
	for _, v := range vols {
		du.Volumes = append(du.Volumes, VolumeUsage{Volume: v, Size: PathSize(r.volumePath(v.Name)), Containers: users[v.Name]})
	}
	return du, nil
}

// PathSize is the bytes of the regular files below dir (a file with several hard links once;
// links are not followed).
func PathSize(dir string) int64 {
	var total int64
	seen := map[[2]uint64]bool{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
			key := [2]uint64{uint64(st.Dev), st.Ino}
			if seen[key] {
				return nil
			}
			seen[key] = true
		}
		total += fi.Size()
		return nil
	})
	return total
}

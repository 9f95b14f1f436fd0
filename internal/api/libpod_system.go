package api

import (
	"net/http"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/image"
	"pea/internal/model"
)

// libpodSystemRoutes registers the libpod system endpoints beside version and info.
func (s *Server) libpodSystemRoutes() {
	s.lroute("GET", "/events", s.getLibpodEvents) // libpod_events.go
	s.lroute("GET", "/system/df", s.getLibpodSystemDF)
	s.lroute("POST", "/system/prune", s.postLibpodSystemPrune)
}

// The answer of GET /libpod/system/df: podman's SystemDfReport and its rows.
type (
	libpodDF struct {
		ImagesSize int64
		Images     []libpodDFImage
		Containers []libpodDFContainer
		Volumes    []libpodDFVolume
	}
	libpodDFImage struct {
		Repository string
		Tag        string
		ImageID    string
		Created    time.Time
		Size       int64
		SharedSize int64
		UniqueSize int64
		Containers int
	}
	libpodDFContainer struct {
		ContainerID  string
		Image        string
		Command      []string
		LocalVolumes int
		Size         int64
		RWSize       int64
		Created      time.Time
		Status       string
		Names        string
	}
	libpodDFVolume struct {
		VolumeName      string
		Links           int
		Size            int64
		ReclaimableSize int64
	}
)

// noImageID stands for the image of a container made without one (a pod's infra container):
// podman 4.3's `system df -v` prints the first 12 characters of a container's image ID and
// fails on a shorter one.
const noImageID = "<none>      "

// getLibpodSystemDF is GET /libpod/system/df: every image, container (pods' infra containers
// too, as podman counts them) and volume with the space it takes; the client sums them up.
// pea does not share layers between images: an image's unique size is its size.
func (s *Server) getLibpodSystemDF(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	du, err := rt.DiskUsage()
	if err != nil {
		return err
	}
	out := libpodDF{Images: []libpodDFImage{}, Containers: []libpodDFContainer{}, Volumes: []libpodDFVolume{}}
	for _, u := range du.Images {
		img := u.Image
		repo, tag := "<none>", "<none>"
		if len(img.Names) > 0 {
			repo, tag = image.SplitName(img.Names[0])
		}
		out.ImagesSize += img.Size
		out.Images = append(out.Images, libpodDFImage{Repository: repo, Tag: tag, ImageID: img.ID, Created: img.Created,
			Size: img.Size, UniqueSize: img.Size, Containers: u.Containers})
	}
	for _, u := range du.Containers {
		c := u.Container
		img := strings.TrimPrefix(c.Config.Image, "sha256:")
		if len(img) < len(noImageID) {
			img = noImageID
		}
		vols := 0
		for _, m := range c.Config.Mounts {
			if m.Type == "volume" {
				vols++
			}
		}
		status := c.State.Status
		if status == model.StatusStopping {
			status = model.StatusRunning // podman's df counts the running ones as active
		}
		out.Containers = append(out.Containers, libpodDFContainer{ContainerID: c.Config.ID, Image: img, Command: nonNilStrings(c.Config.Command()),
			LocalVolumes: vols, Size: u.Size, RWSize: u.Size, Created: c.Config.Created, Status: status, Names: c.Config.Name})
	}
	for _, u := range du.Volumes {
		v := libpodDFVolume{VolumeName: u.Volume.Name, Links: u.Containers, Size: u.Size}
		if u.Containers == 0 {
			v.ReclaimableSize = u.Size
		}
		out.Volumes = append(out.Volumes, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// libpodSystemPruneReport is podman's SystemPruneReport.
type libpodSystemPruneReport struct {
	PodPruneReport        []libpodPruneReport
	ContainerPruneReports []libpodPruneReport
	ImagePruneReports     []libpodPruneReport
	NetworkPruneReports   any
	VolumePruneReports    []libpodPruneReport
	ReclaimedSpace        uint64
}

// postLibpodSystemPrune is POST /libpod/system/prune?all=&volumes=&filters=: the pods with
// nothing running, the stopped containers, the unused networks, the dangling images (all: every
// unused one) and, with volumes, the unused volumes go (engine.SystemPrune); filters (label=,
// label!=, until=) narrow all but the pods.
func (s *Server) postLibpodSystemPrune(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	pf, err := pruneFilter(f)
	if err != nil {
		return err
	}
	rep, err := rt.SystemPrune(r.Context(), boolParam(r, "all", false), boolParam(r, "volumes", false), pf)
	if err != nil {
		return err
	}
	for _, id := range rep.Containers {
		s.changed(id)
	}
	writeJSON(w, http.StatusOK, libpodSystemPruneReport{
		PodPruneReport: toPruneReports(rep.Pods), ContainerPruneReports: toPruneReports(rep.Containers),
		ImagePruneReports: toPruneReports(rep.Images), NetworkPruneReports: libpodNetworkPruneReports(rep.Networks),
		VolumePruneReports: toPruneReports(rep.Volumes), ReclaimedSpace: uint64(max(rep.Reclaimed, 0)),
	})
	return nil
}

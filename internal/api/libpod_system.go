package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// libpodSystemRoutes registers the libpod system endpoints beside version and info.
func (s *Server) libpodSystemRoutes() {
	s.lroute("GET", "/events", s.getLibpodEvents) // libpod_events.go
	s.lroute("GET", "/system/df", s.getLibpodSystemDF)
	s.lroute("POST", "/system/prune", s.postLibpodSystemPrune)
	s.lroute("POST", "/system/check", s.postLibpodSystemCheck)
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

// libpodSystemCheckReport is podman 5's SystemCheckReport (pea's store has no read-only layers
// or images: ROLayers and ROImages stay empty), with the database's problems (pea's).
type libpodSystemCheckReport struct {
	Errors            bool
	Layers            map[string][]string
	ROLayers          map[string][]string
	RemovedLayers     []string
	Images            map[string][]string
	ROImages          map[string][]string
	RemovedImages     map[string][]string
	Containers        map[string][]string
	RemovedContainers map[string]string
	Database          []string `json:",omitempty"`
}

// postLibpodSystemCheck is POST /libpod/system/check?quick=&repair=&repair_lossy=&unreferenced_layer_max_age=
// (podman 5): engine.SystemCheck's report, once (the CLI's second look after a repair is the
// client's).
func (s *Server) postLibpodSystemCheck(w http.ResponseWriter, r *http.Request, rt *engine.Runtime) error {
	o := engine.CheckOptions{Quick: boolParam(r, "quick", false), Repair: boolParam(r, "repair", false),
		Force: boolParam(r, "repair_lossy", false), MaxAge: 24 * time.Hour}
	o.Repair = o.Repair || o.Force
	if v := r.URL.Query().Get("unreferenced_layer_max_age"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return fmt.Errorf("failed to parse unreferenced_layer_max_age parameter %q: %w", v, errdefs.ErrInvalid)
		}
		o.MaxAge = d
	}
	rep, err := rt.SystemCheck(r.Context(), o)
	if err != nil {
		return err
	}
	for id := range rep.RemovedContainers {
		s.changed(id)
	}
	writeJSON(w, http.StatusOK, libpodSystemCheckReport{
		Errors: rep.Errors, Layers: rep.Layers, ROLayers: map[string][]string{}, RemovedLayers: rep.RemovedLayers,
		Images: rep.Images, ROImages: map[string][]string{}, RemovedImages: rep.RemovedImages,
		Containers: rep.Containers, RemovedContainers: rep.RemovedContainers, Database: rep.Database,
	})
	return nil
}

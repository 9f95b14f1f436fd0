package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
)

// `system check` (podman 5's): the database, the image store (image.Store.Check) and the
// containers' records against what is on disk, and with Repair the removal of what is damaged.
// Repair goes through the verbs' own removals, with their locks: a damaged container goes as
// `rm -f --depend` has it go (its pod with it, for an infra container), a damaged image as
// `rmi` (refused while containers or an image mount use it, unless Force, which removes them as
// `rmi -f` does), what no record references under the image store's content lock (no pull,
// load, commit or build meanwhile), what a killed create left as `system prune` does. Each of
// those leaves the store consistent if it is killed midway (see "Crash safety"). Containers are
// removed only with Force: without it a damaged container, and an image one uses, are kept
// and reported.

// CheckOptions control SystemCheck.
type CheckOptions struct {
	Quick  bool // skip reading contents (layers' files, blobs) and SQLite's index comparison
	Repair bool // remove damaged images and layers, and abandoned content
	Force  bool // with Repair, remove damaged containers and the containers of damaged images too
	// MaxAge: content no image references (and work files of dead processes) older than this
	// is abandoned (podman's default: 24h).
	MaxAge time.Duration
}

// CheckReport is podman's SystemCheckReport, and the database's problems.
type CheckReport struct {
	Errors            bool
	Database          []string            // what SQLite's checks found, or why it cannot open
	Layers            map[string][]string // layer (diffID hex; path in the image store for other content) -> problems
	Images            map[string][]string // image ID -> problems
	Containers        map[string][]string // container ID -> problems
	RemovedLayers     []string
	RemovedImages     map[string][]string // image ID -> its names
	RemovedContainers map[string]string   // container ID -> its name
}

// SystemCheck checks the store, and with o.Repair repairs what it may.
func (r *Runtime) SystemCheck(ctx context.Context, o CheckOptions) (*CheckReport, error) {
	rep := &CheckReport{Layers: map[string][]string{}, Images: map[string][]string{}, Containers: map[string][]string{},
		RemovedImages: map[string][]string{}, RemovedContainers: map[string]string{}}
	st, err := r.state()
	if err != nil {
		rep.Database = []string{fmt.Sprintf("%s cannot be opened: %v", r.dbPath(), err)}
	} else if probs, err := st.Check(o.Quick); err != nil {
		rep.Database = []string{fmt.Sprintf("%s cannot be checked: %v", r.dbPath(), err)}
	} else {
		rep.Database = probs
	}
	is, err := r.imageStore()
	if err != nil {
		return nil, err
	}
	ic, err := is.Check(image.CheckOptions{Quick: o.Quick, MaxAge: o.MaxAge})
	if err != nil {
		return nil, fmt.Errorf("image store: %w", err) // the index cannot be read: nothing to compare with
	}
	for k, v := range ic.Layers {
		rep.Layers[k] = v
	}
	for k, v := range ic.Images {
		rep.Images[k] = v
	}
	for k, v := range ic.Abandoned {
		rep.Layers[k] = []string{v}
	}
	var damaged []*model.Container // damaged, or using a damaged image
	names := map[string]string{}   // every container's, for the report of removals
	if st != nil && len(rep.Database) == 0 {
		cs, err := st.ListContainers("", "")
		if err != nil {
			return nil, err
		}
		imgs, err := is.List()
		if err != nil {
			return nil, err
		}
		known := map[string]bool{}
		for _, img := range imgs {
			known[img.ID] = true
		}
		for _, c := range cs {
			names[c.Config.ID] = c.Config.Name
			if probs := r.checkContainer(c, known, rep.Images); len(probs) > 0 {
				rep.Containers[c.Config.ID] = probs
				damaged = append(damaged, c)
			}
		}
		for _, id := range r.orphans(false) {
			rep.Containers[id] = []string{"its files have no record in the database (left by a create that was killed)"}
		}
	}
	rep.Errors = len(rep.Database)+len(rep.Layers)+len(rep.Images)+len(rep.Containers) > 0
	if !o.Repair || !rep.Errors {
		return rep, nil
	}
	return rep, r.repairStore(ctx, rep, damaged, names, ic, o)
}

// checkContainer returns what is wrong with c's files and references: known are the images
// the store has, damagedImages those the check found damaged.
func (r *Runtime) checkContainer(c *model.Container, known map[string]bool, damagedImages map[string][]string) []string {
	var probs []string
	cfg := c.Config
	dir := r.ctrDir(cfg.ID)
	if _, err := os.Stat(dir); err != nil {
		probs = append(probs, fmt.Sprintf("its directory %s is missing", dir))
	}
	switch {
	case cfg.Rootfs != "":
		if _, err := os.Stat(cfg.Rootfs); err != nil {
			probs = append(probs, fmt.Sprintf("its root filesystem %s is missing", cfg.Rootfs))
		}
	case cfg.Image != "" && !known[cfg.Image]:
		probs = append(probs, fmt.Sprintf("its image %s is missing", cfg.Image))
	case cfg.Image != "" && len(damagedImages[cfg.Image]) > 0:
		probs = append(probs, fmt.Sprintf("its image %s is damaged", cfg.Image))
	}
	if cfg.Image != "" || cfg.RootfsOverlay {
		// The overlay's directories are made by the first start or mount (or by run ahead of
		// its row); once they are, the upper one holds the container's changes.
		_, werr := os.Stat(filepath.Join(dir, "work"))
		made := !c.State.StartedAt.IsZero() || c.State.Mounted || werr == nil
		if _, err := os.Stat(filepath.Join(dir, "upper")); err != nil && made {
			probs = append(probs, fmt.Sprintf("its upper directory %s (the container's changes) is missing", filepath.Join(dir, "upper")))
		}
	}
	return probs
}

// repairStore removes what the check found damaged (see the comment at the top) and records
// it in rep.
func (r *Runtime) repairStore(ctx context.Context, rep *CheckReport, damaged []*model.Container, names map[string]string, ic *image.CheckReport, o CheckOptions) error {
	var errs []error
	for _, id := range r.orphans(true) {
		rep.RemovedContainers[id] = ""
	}
	if o.Force {
		for _, c := range damaged {
			errs = append(errs, r.removeDamagedContainer(ctx, c, names, rep))
		}
	}
	ids := make([]string, 0, len(rep.Images))
	for id := range rep.Images {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	is, _ := r.imageStore()
	for _, id := range ids {
		img, err := is.Lookup(id)
		if err != nil {
			continue // removed meanwhile
		}
		_, _, err = r.ImageRemoveWith(id, ImageRemoveOptions{Force: o.Force, Whole: true})
		switch {
		case err == nil:
			rep.RemovedImages[id] = img.Names
		case errdefs.Is(err, errdefs.ErrInUse):
			// kept: used by a container or an image mount (--force removes them)
		default:
			errs = append(errs, fmt.Errorf("image %.12s: %w", id, err))
		}
	}
	layers := make([]string, 0, len(ic.Layers))
	for l := range ic.Layers {
		layers = append(layers, l)
	}
	removed, err := is.RemoveUnreferenced(o.MaxAge, layers)
	for _, l := range layers { // those the removal of their images swept
		if _, serr := os.Lstat(filepath.Join(is.Dir(), "layers", l)); os.IsNotExist(serr) && !slices.Contains(removed, l) {
			removed = append(removed, l)
		}
	}
	sort.Strings(removed)
	rep.RemovedLayers = removed
	return errors.Join(append(errs, err)...)
}

// removeDamagedContainer removes c as `rm -f --depend` does; an infra container goes with its pod.
func (r *Runtime) removeDamagedContainer(ctx context.Context, c *model.Container, names map[string]string, rep *CheckReport) error {
	st, err := r.state()
	if err != nil {
		return err
	}
	if c.Config.IsInfra && c.Config.Pod != "" {
		members, _ := st.ListContainers("", c.Config.Pod)
		if err := r.RemovePod(ctx, c.Config.Pod, PodRemoveOptions{Force: true, Ignore: true}); err != nil {
			return fmt.Errorf("pod %s of damaged infra container %s: %w", shortID(c.Config.Pod), shortID(c.Config.ID), err)
		}
		for _, m := range members {
			rep.RemovedContainers[m.Config.ID] = m.Config.Name
		}
		return nil
	}
	err = r.RemoveContainer(ctx, c.Config.ID, RemoveOptions{Force: true, Ignore: true, Depend: true, Removed: func(id string) { rep.RemovedContainers[id] = names[id] }})
	if err != nil {
		return fmt.Errorf("damaged container %s: %w", c.Config.Name, err)
	}
	rep.RemovedContainers[c.Config.ID] = c.Config.Name
	return nil
}

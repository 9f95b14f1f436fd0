package engine

// auto-update, as podman's: running containers labelled io.containers.autoupdate are checked
// for a newer image (registry: the registry's manifest of the name they were made from differs
// from the local image's; local: the local name now names another image), and the systemd unit
// that runs each (label PODMAN_SYSTEMD_UNIT, which create takes from the environment variable
// of that name, as `generate systemd --new` units set it) is restarted to make its container
// anew from the new image. A unit that fails to restart is rolled back: the old image gets
// the name again and the unit is restarted once more.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/image"
	"pea/internal/model"
	"pea/internal/rootless"
)

// Labels auto-update reads.
const (
	LabelAutoUpdate  = "io.containers.autoupdate"
	LabelSystemdUnit = "PODMAN_SYSTEMD_UNIT"
)

// AutoUpdateOptions control AutoUpdate.
type AutoUpdateOptions struct {
	DryRun   bool // report what would be updated, pull and restart nothing
	Rollback bool // restore the old image and restart again when a restart fails
	Registry image.PullOptions
}

// AutoUpdateReport is one container's line of the report.
type AutoUpdateReport struct {
	Unit, ContainerID, ContainerName, Image, Policy string
	// Updated is true, false, pending (a dry run's update to do), failed or rolled back.
	Updated string
}

// AutoUpdate checks and updates the labelled running containers; the reports are in unit
// order, the errors one per container that could not be handled.
func (r *Runtime) AutoUpdate(ctx context.Context, o AutoUpdateOptions) ([]AutoUpdateReport, []error) {
	cs, err := r.ListContainers()
	if err != nil {
		return nil, []error{err}
	}
	type task struct {
		c      *model.Container
		policy string
		unit   string
	}
	var tasks []task
	var errs []error
	for _, c := range cs {
		policy := c.Config.Labels[LabelAutoUpdate]
		if policy == "" || policy == "disabled" || c.State.Status != model.StatusRunning {
			continue
		}
		switch policy {
		case "image":
			policy = "registry" // podman's older name of the registry policy
		case "registry", "local":
		default:
			errs = append(errs, fmt.Errorf("auto-updating container %q: invalid auto-update policy %q (registry, local): %w", c.Config.ID, policy, errdefs.ErrInvalid))
			continue
		}
		unit := c.Config.Labels[LabelSystemdUnit]
		if unit == "" {
			errs = append(errs, fmt.Errorf("auto-updating container %q: no %s label found (a container to update must run from a unit that `generate systemd --new` wrote): %w", c.Config.ID, LabelSystemdUnit, errdefs.ErrInvalid))
			continue
		}
		tasks = append(tasks, task{c, policy, unit})
	}
	sort.SliceStable(tasks, func(i, j int) bool { return tasks[i].unit < tasks[j].unit })
	is, err := r.imageStore()
	if err != nil {
		return nil, append(errs, err)
	}
	var reports []AutoUpdateReport
	restarted := map[string]string{} // unit -> its result, each unit restarted once
	for _, t := range tasks {
		c := t.c
		rep := AutoUpdateReport{Unit: t.unit, ContainerID: c.Config.ID, ContainerName: c.Config.Name, Image: c.Config.ImageName, Policy: t.policy, Updated: "false"}
		newer, err := r.newerImage(ctx, is, c, t.policy, o.Registry)
		if err != nil {
			errs = append(errs, fmt.Errorf("auto-updating container %q: %w", c.Config.ID, err))
			continue
		}
		if !newer {
			reports = append(reports, rep)
			continue
		}
		if o.DryRun {
			rep.Updated = "pending"
			reports = append(reports, rep)
			continue
		}
		if res, ok := restarted[t.unit]; ok {
			rep.Updated = res
			reports = append(reports, rep)
			continue
		}
		if t.policy == "registry" {
			if _, err := is.Pull(ctx, c.Config.ImageName, o.Registry); err != nil {
				errs = append(errs, fmt.Errorf("auto-updating container %q: pulling %s: %w", c.Config.ID, c.Config.ImageName, err))
				continue
			}
		}
		rep.Updated = "true"
		if err := restartUnit(ctx, t.unit); err != nil {
			rep.Updated = "failed"
			if o.Rollback {
				if terr := is.Tag(c.Config.Image, c.Config.ImageName); terr == nil && restartUnit(ctx, t.unit) == nil {
					rep.Updated = "rolled back"
				}
			}
			errs = append(errs, fmt.Errorf("auto-updating container %q: restarting unit %s: %w", c.Config.ID, t.unit, err))
		}
		restarted[t.unit] = rep.Updated
		reports = append(reports, rep)
	}
	return reports, errs
}

// newerImage says whether the image c's name names now is not c's: for the registry policy the
// registry's manifest, for local the local image of the name.
func (r *Runtime) newerImage(ctx context.Context, is *image.Store, c *model.Container, policy string, o image.PullOptions) (bool, error) {
	name := c.Config.ImageName
	if name == "" {
		return false, fmt.Errorf("it was not made from a named image: %w", errdefs.ErrInvalid)
	}
	if policy == "local" {
		img, err := is.Lookup(name)
		if err != nil {
			return false, err
		}
		return img.ID != c.Config.Image, nil
	}
	ref, err := image.ParseReference(name)
	if err != nil {
		return false, err
	}
	if ref.Domain == "" {
		return false, fmt.Errorf("auto updates require a fully-qualified image reference, not %q: %w", name, errdefs.ErrInvalid)
	}
	raw, err := is.FetchManifest(ctx, name, o)
	if err != nil {
		return false, err
	}
	sum := sha256.Sum256(raw)
	remote := "sha256:" + hex.EncodeToString(sum[:])
	img, err := is.Lookup(c.Config.Image)
	if err != nil {
		return true, nil // its image is gone: the name's is newer
	}
	return remote != img.Digest && !slices.Contains(img.Digests, remote), nil
}

// restartUnit restarts a systemd unit (`systemctl restart`, which waits for the job): a
// rootless pea's units are the user's (`systemctl --user`, as `generate systemd` writes them
// for ~/.config/systemd/user).
func restartUnit(ctx context.Context, unit string) error {
	args := []string{"restart", unit}
	if rootless.Active() {
		args = append([]string{"--user"}, args...)
	}
	out, err := cpupin.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return fmt.Errorf("%v: %s", err, msg)
		}
		return err
	}
	return nil
}

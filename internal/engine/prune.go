package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// PruneFilter narrows what a prune removes, as podman's and Docker's --filter: label=KEY or
// label=KEY=VALUE (each must match), label!=KEY[=VALUE] (none may match), until=TIME (made
// before it). The zero filter keeps nothing back.
type PruneFilter struct {
	Labels, NotLabels []string
	Until             time.Time
}

// Add adds one key=value filter expression.
func (f *PruneFilter) Add(key, value string) error {
	switch key {
	case "label":
		f.Labels = append(f.Labels, value)
	case "label!":
		f.NotLabels = append(f.NotLabels, value)
	case "until":
		t, err := ParseTimeArg(value)
		if err != nil {
			return err
		}
		f.Until = t
	default:
		return fmt.Errorf("invalid filter %q: prune filters are label=, label!= and until=: %w", key, errdefs.ErrInvalid)
	}
	return nil
}

// ParsePruneFilters reads --filter KEY=VALUE arguments.
func ParsePruneFilters(args []string) (PruneFilter, error) {
	var f PruneFilter
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return f, fmt.Errorf("invalid filter %q: want KEY=VALUE: %w", a, errdefs.ErrInvalid)
		}
		if err := f.Add(k, v); err != nil {
			return f, err
		}
	}
	return f, nil
}

// Matches reports whether an object with these labels, made then, may be pruned.
func (f PruneFilter) Matches(labels map[string]string, created time.Time) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return false
	}
	for _, l := range f.Labels {
		if !model.LabelsMatch(labels, l) {
			return false
		}
	}
	for _, l := range f.NotLabels {
		if model.LabelsMatch(labels, l) {
			return false
		}
	}
	return true
}

// ParseTimeArg accepts RFC 3339 times, dates, Unix seconds and durations before now (the times
// of --since, --until and until= filters).
func ParseTimeArg(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(int64(n), int64((n-float64(int64(n)))*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: use RFC 3339, a Unix time or a duration: %w", s, errdefs.ErrInvalid)
}

// SystemPruneReport is what SystemPrune removed, by kind, and the bytes that gave back (the
// files the containers wrote, the images' sizes, the volumes' contents, measured before).
type SystemPruneReport struct {
	Pods, Containers, Networks, Images, Volumes []string
	Reclaimed                                   int64
}

// SystemPrune removes what nothing uses (system prune): the pods that stopped (PrunePods), the
// stopped containers outside pods, the unused networks, the dangling images (every unused one with all),
// and with volumes the unused volumes; f narrows all but the pods. What an interrupted removal
// left in the trash goes too, and what creations killed before their row left (SweepOrphans).
func (r *Runtime) SystemPrune(ctx context.Context, all, volumes bool, f PruneFilter) (*SystemPruneReport, error) {
	sizes := map[string]int64{}
	if cs, err := r.ListContainers(); err == nil {
		for _, c := range cs {
			if !c.State.Active() {
				sizes[c.Config.ID] = r.ContainerSize(c.Config.ID)
			}
		}
	}
	if imgs, err := r.ImageList(); err == nil {
		for _, img := range imgs {
			sizes[img.ID] = img.Size
		}
	}
	rep := &SystemPruneReport{}
	var err error
	if rep.Pods, err = r.PrunePods(ctx); err != nil {
		return rep, err
	}
	if rep.Containers, err = r.PruneContainers(ctx, f); err != nil {
		return rep, err
	}
	if rep.Networks, err = r.NetworkPrune(ctx, f); err != nil {
		return rep, err
	}
	if rep.Images, err = r.ImagePrune(all, f); err != nil {
		return rep, err
	}
	r.SweepOrphans() // what creations killed before their row left
	r.EmptyTrash()   // the space is back when prune returns
	if volumes {
		if vs, err := r.ListVolumes(); err == nil {
			for _, v := range vs {
				if users, _ := r.VolumeUsers(v.Name); len(users) == 0 {
					sizes["volume:"+v.Name] = PathSize(r.volumePath(v.Name))
				}
			}
		}
		if rep.Volumes, err = r.PruneVolumes(f); err != nil {
			return rep, err
		}
	}
	for _, id := range rep.Containers {
		rep.Reclaimed += sizes[id]
	}
	for _, id := range rep.Images {
		rep.Reclaimed += sizes[id]
	}
	for _, name := range rep.Volumes {
		rep.Reclaimed += sizes["volume:"+name]
	}
	return rep, nil
}

package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"

	"pea/internal/engine"
	"pea/internal/errdefs"
)

// DownReport says what Down removed.
type DownReport struct {
	Pods    []string // IDs of the removed pods
	Volumes []string // names of the removed claim volumes (with force)
}

// Down removes what Play made from manifest m: the pods of its workloads (every replica, whatever
// the replica count was at play time), their configMap and secret files and emptyDir volumes
// (also those of pods removed meanwhile by other means); with force also the volumes of its
// PersistentVolumeClaims. Pods are stopped and removed in parallel.
func Down(ctx context.Context, rt *engine.Runtime, m *Manifest, force bool) (*DownReport, error) {
	pods, err := rt.ListPods()
	if err != nil {
		return nil, err
	}
	var patterns []*regexp.Regexp
	for _, w := range m.Workloads {
		patterns = append(patterns, replicaPattern(w.Kind, w.Name))
	}
	ours := func(name string) bool {
		for _, re := range patterns {
			if re.MatchString(name) {
				return true
			}
		}
		return false
	}
	type target struct{ id, name string }
	var targets []target
	for _, p := range pods {
		if ours(p.Pod.Config.Name) {
			targets = append(targets, target{p.Pod.Config.ID, p.Pod.Config.Name})
		}
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].name < targets[j].name })
	rep := &DownReport{}
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rt.RemovePod(ctx, t.id, engine.PodRemoveOptions{Force: true, Ignore: true}); err != nil {
				errs[i] = fmt.Errorf("removing pod %s: %w", t.name, err)
			}
		}()
	}
	wg.Wait()
	for i, t := range targets {
		if errs[i] == nil {
			rep.Pods = append(rep.Pods, t.id)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return rep, err
	}
	if err := removeLeftovers(rt, ours); err != nil {
		return rep, err
	}
	if force {
		for _, c := range m.Claims {
			if err := rt.RemoveVolume(c.Name, true); err != nil {
				if errdefs.Is(err, errdefs.ErrNotFound) {
					continue
				}
				return rep, fmt.Errorf("volume of persistentVolumeClaim %s: %w", c.Name, err)
			}
			rep.Volumes = append(rep.Volumes, c.Name)
		}
	}
	return rep, nil
}

// MissingPod is the name of the first pod of m's workloads that does not exist (none of its
// replicas does), "" when every workload has one: podman's kube down fails on it.
func MissingPod(rt *engine.Runtime, m *Manifest) (string, error) {
	pods, err := rt.ListPods()
	if err != nil {
		return "", err
	}
	for _, w := range m.Workloads {
		re := replicaPattern(w.Kind, w.Name)
		found := false
		for _, p := range pods {
			found = found || re.MatchString(p.Pod.Config.Name)
		}
		if !found {
			return workloadPodNames(w.Kind, w.Name, 1)[0], nil
		}
	}
	return "", nil
}

// removeLeftovers removes the play files and emptyDir volumes of the pods ours selects that no
// longer exist.
func removeLeftovers(rt *engine.Runtime, ours func(pod string) bool) error {
	gone := func(pod string) bool {
		_, err := rt.LookupPod(pod)
		return errdefs.Is(err, errdefs.ErrNotFound)
	}
	dir := filepath.Join(rt.Options().Root, "kube")
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if ours(e.Name()) && gone(e.Name()) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	vols, err := rt.ListVolumes()
	if err != nil {
		return err
	}
	for _, v := range vols {
		pod := v.Labels[LabelPod]
		if v.Labels[LabelEmptyDir] == "" || !ours(pod) || !gone(pod) {
			continue
		}
		if err := rt.RemoveVolume(v.Name, false); err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
			return fmt.Errorf("emptyDir volume %s of pod %s: %w", v.Name, pod, err)
		}
	}
	return nil
}

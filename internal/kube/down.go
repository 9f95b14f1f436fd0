package kube

import (
	"context"
	"errors"
	"fmt"
	"os"
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
// the replica count was at play time), their configMap and secret files and emptyDir volumes;
// with force also the volumes of its PersistentVolumeClaims. Pods are stopped in parallel.
func Down(ctx context.Context, rt *engine.Runtime, m *Manifest, force bool) (*DownReport, error) {
	pods, err := rt.ListPods()
	if err != nil {
		return nil, err
	}
	type target struct{ id, name string }
	var targets []target
	for _, w := range m.Workloads {
		re := replicaPattern(w.Kind, w.Name)
		for _, p := range pods {
			if re.MatchString(p.Pod.Config.Name) {
				targets = append(targets, target{p.Pod.Config.ID, p.Pod.Config.Name})
			}
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
			errs[i] = removeKubePod(ctx, rt, t.name, &t.id)
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

// removeKubePod removes pod name (the one of ID id when given) with what play made for it: its
// files and its emptyDir volumes. A pod that does not exist is not an error.
func removeKubePod(ctx context.Context, rt *engine.Runtime, name string, id *string) error {
	ref := name
	if id != nil {
		ref = *id
	}
	if err := rt.RemovePod(ctx, ref, engine.PodRemoveOptions{Force: true, Ignore: true}); err != nil {
		return fmt.Errorf("removing pod %s: %w", name, err)
	}
	if err := os.RemoveAll(filesDir(rt.Options().Root, name)); err != nil {
		return err
	}
	vols, err := rt.ListVolumes()
	if err != nil {
		return err
	}
	for _, v := range vols {
		if v.Labels[LabelPod] == name && v.Labels[LabelEmptyDir] != "" {
			if err := rt.RemoveVolume(v.Name, false); err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
				return fmt.Errorf("emptyDir volume %s of pod %s: %w", v.Name, name, err)
			}
		}
	}
	return nil
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"pea/internal/cgroups"
	"pea/internal/cpupin"
	"pea/internal/errdefs"
	"pea/internal/fsx"
	"pea/internal/model"
	"pea/internal/rootless"
)

// PodInfo is a pod with its members and derived status.
type PodInfo struct {
	Pod     *model.Pod
	Members []*model.Container // infra first
	Status  string
}

// ListPods returns every pod of the namespace with its members, in two queries.
func (r *Runtime) ListPods() ([]*PodInfo, error) { return r.listPods(false) }

// ListPodsBrief is ListPods for `pod ps`: of each member's config, only ID, Name, Pod and
// IsInfra are filled in (decoding every member's whole config was most of its time).
func (r *Runtime) ListPodsBrief() ([]*PodInfo, error) { return r.listPods(true) }

func (r *Runtime) listPods(brief bool) ([]*PodInfo, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	pods, err := st.ListPods(r.opts.Namespace)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, nil
	}
	var cs []*model.Container
	if brief {
		cs, err = st.ListPodMembersBrief(r.opts.Namespace)
		infra := map[string]bool{}
		for _, p := range pods {
			infra[p.State.InfraContainerID] = true
		}
		for _, c := range cs {
			c.Config.IsInfra = infra[c.Config.ID]
		}
	} else {
		cs, err = st.ListContainers(r.opts.Namespace, "")
	}
	if err != nil {
		return nil, err
	}
	r.freshenAll(cs)
	byPod := map[string][]*model.Container{}
	for _, c := range cs {
		if c.Config.Pod != "" {
			byPod[c.Config.Pod] = append(byPod[c.Config.Pod], c)
		}
	}
	out := make([]*PodInfo, 0, len(pods))
	for _, p := range pods {
		out = append(out, podInfo(p, byPod[p.Config.ID]))
	}
	return out, nil
}

func podInfo(p *model.Pod, members []*model.Container) *PodInfo {
	sort.SliceStable(members, func(i, j int) bool { return members[i].Config.IsInfra && !members[j].Config.IsInfra })
	statuses := make([]string, len(members))
	for i, m := range members {
		statuses[i] = m.State.Status
	}
	return &PodInfo{Pod: p, Members: members, Status: model.PodStatus(statuses)}
}

// InspectPod returns one pod with its members.
func (r *Runtime) InspectPod(nameOrID string) (*PodInfo, error) {
	p, err := r.LookupPod(nameOrID)
	if err != nil {
		return nil, err
	}
	members, err := r.PodMembers(p.Config.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		r.freshen(m)
	}
	return podInfo(p, members), nil
}

// LatestPod returns the most recently created pod.
func (r *Runtime) LatestPod() (*model.Pod, error) {
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	pods, err := st.ListPods(r.opts.Namespace)
	if err != nil {
		return nil, err
	}
	if len(pods) == 0 {
		return nil, fmt.Errorf("no pods to use as the latest: %w", errdefs.ErrNotFound)
	}
	return pods[len(pods)-1], nil
}

// PodExists reports whether a pod of that name or ID exists.
func (r *Runtime) PodExists(nameOrID string) (bool, error) {
	_, err := r.LookupPod(nameOrID)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PrunePods removes every pod that stopped or exited (podman's: not one only created).
func (r *Runtime) PrunePods(ctx context.Context) ([]string, error) {
	pods, err := r.ListPods()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, p := range pods {
		if p.Status != model.PodStopped && p.Status != model.PodExited {
			continue // podman prunes the pods that ran and stopped: not a created one
		}
		if err := r.RemovePod(ctx, p.Pod.Config.ID, PodRemoveOptions{}); err == nil {
			removed = append(removed, p.Pod.Config.ID)
		}
	}
	return removed, nil
}

// CtrStats is one row of `stats` / `pod stats`.
type CtrStats struct {
	Container *model.Container
	Pod       *model.Pod
	CPUPerc   float64
	MemUsage  uint64
	MemLimit  uint64
	MemPerc   float64
	NetIn     uint64
	NetOut    uint64
	BlockIn   uint64
	BlockOut  uint64
	Pids      uint64
	CPUNanos  uint64
	AvgCPU    float64 // CPU % since the container's process started
}

// Stats reads the cgroup statistics of the running containers among cs. CPU % is measured over
// a short interval; a container that stops meanwhile is skipped, not an error.
func (r *Runtime) Stats(cs []*model.Container, interval time.Duration) ([]*CtrStats, error) {
	type sample struct {
		c    *model.Container
		path string
		cpu  uint64
		at   time.Time
	}
	if rootless.Active() {
		if cgroups.Mode() == "v1" {
			return nil, fmt.Errorf("stats is not supported in rootless mode without cgroups v2: %w", errdefs.ErrInvalid)
		}
		return nil, fmt.Errorf("stats is not supported: a rootless pea runs its containers without cgroups: %w", errdefs.ErrInvalid)
	}
	var samples []sample
	for _, c := range cs {
		// A container without a cgroup of its own (--cgroups disabled) shares its parent's,
		// whose figures are not its own.
		if !c.State.Active() || c.State.Pid == 0 || c.Config.Cgroups == CgroupsDisabled {
			continue
		}
		path, err := cgroups.PidCgroupPath(c.State.Pid)
		if err != nil {
			continue
		}
		s, err := cgroups.ReadStats(path)
		if err != nil {
			continue
		}
		samples = append(samples, sample{c: c, path: path, cpu: s.CPUNanos, at: time.Now()})
	}
	if interval > 0 && len(samples) > 0 {
		cpupin.Sleep(interval)
	}
	var out []*CtrStats
	for _, sm := range samples {
		s, err := cgroups.ReadStats(sm.path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			continue
		}
		row := &CtrStats{Container: sm.c, MemUsage: s.MemUsage, MemLimit: s.MemLimit, Pids: s.PidsCurrent,
			BlockIn: s.BlkRead, BlockOut: s.BlkWrite, CPUNanos: s.CPUNanos}
		if up := processAge(sm.c.State.Pid); up > 0 {
			row.AvgCPU = float64(s.CPUNanos) / float64(up.Nanoseconds()) * 100
		}
		row.CPUPerc = row.AvgCPU
		if el := time.Since(sm.at); interval > 0 && el > 0 && s.CPUNanos >= sm.cpu {
			row.CPUPerc = float64(s.CPUNanos-sm.cpu) / float64(el.Nanoseconds()) * 100
		}
		if s.MemLimit > 0 {
			row.MemPerc = float64(s.MemUsage) / float64(s.MemLimit) * 100
		}
		row.NetIn, row.NetOut = netIO(sm.c.State.Pid)
		out = append(out, row)
	}
	return out, nil
}

// netIO sums the bytes received and sent on the non-loopback interfaces of pid's network
// namespace.
func netIO(pid int) (rx, tx uint64) {
	b, err := fsx.ReadFile(fmt.Sprintf("/proc/%d/net/dev", pid))
	if err != nil {
		return 0, 0
	}
	lines := splitLines(string(b))
	for _, l := range lines[min(2, len(lines)):] {
		var name string
		var f [16]uint64
		n, _ := fmt.Sscanf(trimIface(l, &name), "%d %d %d %d %d %d %d %d %d", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8])
		if n == 9 && name != "lo" {
			rx += f[0]
			tx += f[8]
		}
	}
	return rx, tx
}

// processAge is how long ago pid started, from its start time in /proc (clock ticks since boot).
func processAge(pid int) time.Duration {
	f, ok := fsx.ProcStat(pid)
	if !ok {
		return 0
	}
	ticks, err := strconv.ParseUint(f[22-3], 10, 64) // starttime
	if err != nil {
		return 0
	}
	up, err := fsx.ReadFile("/proc/uptime")
	if err != nil {
		return 0
	}
	secs, err := strconv.ParseFloat(strings.Fields(string(up))[0], 64)
	if err != nil {
		return 0
	}
	const clockTicks = 100 // USER_HZ on Linux
	return time.Duration((secs - float64(ticks)/clockTicks) * float64(time.Second))
}

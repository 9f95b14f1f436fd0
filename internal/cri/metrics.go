package cri

import (
	"context"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"pea/internal/cgroups"
	"pea/internal/engine"
	"pea/internal/model"
)

// The CRI's metrics calls (kubelet's PodAndContainerStatsFromCRI) under cAdvisor's names, which
// kubelet serves on as its own: each running CRI container's from its cgroup (cgroups.Detail),
// its processes' file descriptors, its writable layer and its spec; each sandbox's network,
// per interface, from its infra container's network namespace. A value is an integer in the
// metric's unit (the CRI's UInt64Value): seconds are whole seconds.

// metricLabels are the labels of every metric, as cAdvisor's: the CRI container's name ("POD"
// for a sandbox's own), the container's ID, its image, its pea name, the sandbox's namespace
// and name. A metric may have more (metricDef.extra).
func metricLabels() []string { return []string{"container", "id", "image", "name", "namespace", "pod"} }

// metricDef is one metric: its name, help, whether it is a gauge (else a counter), and the
// labels it has beyond metricLabels.
type metricDef struct {
	name, help string
	gauge      bool
	extra      []string
}

// metricDefs are the metrics the service reports, in ListMetricDescriptors' order.
func metricDefs() []metricDef {
	counter := func(name, help string, extra ...string) metricDef { return metricDef{name, help, false, extra} }
	gauge := func(name, help string, extra ...string) metricDef { return metricDef{name, help, true, extra} }
	return []metricDef{
		counter("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", "cpu"),
		counter("container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds."),
		counter("container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds."),
		counter("container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals."),
		counter("container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals."),
		counter("container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled."),
		gauge("container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed."),
		gauge("container_memory_working_set_bytes", "Current working set in bytes."),
		gauge("container_memory_cache", "Number of bytes of page cache memory."),
		gauge("container_memory_rss", "Size of RSS in bytes."),
		gauge("container_memory_mapped_file", "Size of memory mapped files in bytes."),
		gauge("container_memory_swap", "Container swap usage in bytes."),
		gauge("container_memory_kernel_usage", "Size of kernel memory allocated in bytes."),
		gauge("container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes."),
		counter("container_memory_failcnt", "Number of memory usage hits limits."),
		counter("container_memory_failures_total", "Cumulative count of memory allocation failures.", "failure_type", "scope"),
		counter("container_oom_events_total", "Count of out of memory events observed for the container."),
		gauge("container_processes", "Number of processes running inside the container."),
		gauge("container_threads", "Number of threads running inside the container."),
		gauge("container_threads_max", "Maximum number of threads allowed inside the container, 0 if unlimited."),
		gauge("container_file_descriptors", "Number of open file descriptors for the container."),
		gauge("container_sockets", "Number of open sockets for the container."),
		gauge("container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", "device"),
		gauge("container_fs_limit_bytes", "Number of bytes that can be consumed by the container on this filesystem.", "device"),
		gauge("container_fs_inodes_total", "Number of Inodes.", "device"),
		gauge("container_fs_inodes_free", "Number of available Inodes.", "device"),
		counter("container_fs_reads_bytes_total", "Cumulative count of bytes read.", "device"),
		counter("container_fs_writes_bytes_total", "Cumulative count of bytes written.", "device"),
		// Kept by cgroup v1's blkio.io_serviced alone, which pea does not read: described, no values.
		counter("container_fs_reads_total", "Cumulative count of reads completed.", "device"),
		counter("container_fs_writes_total", "Cumulative count of writes completed.", "device"),
		counter("container_blkio_device_usage_total", "Blkio device bytes usage.", "device", "major", "minor", "operation"),
		gauge("container_spec_cpu_period", "CPU period of the container."),
		gauge("container_spec_cpu_quota", "CPU quota of the container."),
		gauge("container_spec_cpu_shares", "CPU share of the container."),
		gauge("container_spec_memory_limit_bytes", "Memory limit for the container."),
		gauge("container_spec_memory_swap_limit_bytes", "Memory swap limit for the container."),
		gauge("container_start_time_seconds", "Start time of the container since unix epoch in seconds."),
		gauge("container_last_seen", "Last time a container was seen by the exporter."),
		counter("container_network_receive_bytes_total", "Cumulative count of bytes received.", "interface"),
		counter("container_network_receive_packets_total", "Cumulative count of packets received.", "interface"),
		counter("container_network_receive_errors_total", "Cumulative count of errors encountered while receiving.", "interface"),
		counter("container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving.", "interface"),
		counter("container_network_transmit_bytes_total", "Cumulative count of bytes transmitted.", "interface"),
		counter("container_network_transmit_packets_total", "Cumulative count of packets transmitted.", "interface"),
		counter("container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting.", "interface"),
		counter("container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting.", "interface"),
	}
}

// ListMetricDescriptors describes the metrics ListPodSandboxMetrics reports.
func (s *Server) ListMetricDescriptors(ctx context.Context, req *runtimeapi.ListMetricDescriptorsRequest) (*runtimeapi.ListMetricDescriptorsResponse, error) {
	resp := &runtimeapi.ListMetricDescriptorsResponse{}
	for _, d := range metricDefs() {
		keys := append(metricLabels(), d.extra...)
		resp.Descriptors = append(resp.Descriptors, &runtimeapi.MetricDescriptor{Name: d.name, Help: d.help, LabelKeys: keys})
	}
	return resp, nil
}

// ListPodSandboxMetrics reports the metrics of every ready sandbox and its running containers.
func (s *Server) ListPodSandboxMetrics(ctx context.Context, req *runtimeapi.ListPodSandboxMetricsRequest) (*runtimeapi.ListPodSandboxMetricsResponse, error) {
	resp := &runtimeapi.ListPodSandboxMetricsResponse{}
	err := s.withRuntime(func(rt *engine.Runtime) error {
		pods, err := rt.ListPods()
		if err != nil {
			return err
		}
		defs := map[string]metricDef{}
		for _, d := range metricDefs() {
			defs[d.name] = d
		}
		var fs unix.Statfs_t
		unix.Statfs(rt.Options().Root, &fs)
		for _, pi := range pods {
			if !isSandbox(pi.Pod) || sandboxState(pi) != runtimeapi.PodSandboxState_SANDBOX_READY {
				continue
			}
			pm := &runtimeapi.PodSandboxMetrics{PodSandboxId: pi.Pod.Config.ID}
			meta := sandboxMetadata(pi.Pod.Config)
			for _, c := range pi.Members {
				if c.Config.IsInfra {
					if c.State.Status == model.StatusRunning {
						labels := []string{"POD", pi.Pod.Config.ID, "", pi.Pod.Config.Name, meta.Namespace, meta.Name}
						pm.Metrics = networkMetrics(metricSet{defs: defs, labels: labels, now: time.Now().UnixNano()}, c.State.Pid)
					}
					continue
				}
				if _, ok := c.Config.Annotations[annoName]; !ok || c.State.Status != model.StatusRunning {
					continue
				}
				labels := []string{c.Config.Annotations[annoName], c.Config.ID, c.Config.Annotations[annoImage], c.Config.Name, meta.Namespace, meta.Name}
				ms, err := containerMetrics(rt, c, metricSet{defs: defs, labels: labels, now: time.Now().UnixNano()}, &fs)
				if err != nil {
					continue // it stopped meanwhile
				}
				pm.ContainerMetrics = append(pm.ContainerMetrics, &runtimeapi.ContainerMetrics{ContainerId: c.Config.ID, Metrics: ms})
			}
			resp.PodMetrics = append(resp.PodMetrics, pm)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// metricSet collects the metrics of one container (or sandbox), with its labels.
type metricSet struct {
	defs   map[string]metricDef
	labels []string
	now    int64
	out    []*runtimeapi.Metric
}

// add appends metric name with value and the values of its extra labels. One that
// metricDefs does not describe so is left out (tests/cri_test.go TestCRIMetrics keeps them
// in step).
func (m *metricSet) add(name string, value uint64, extra ...string) {
	d, ok := m.defs[name]
	if !ok || len(extra) != len(d.extra) {
		return
	}
	typ := runtimeapi.MetricType_COUNTER
	if d.gauge {
		typ = runtimeapi.MetricType_GAUGE
	}
	m.out = append(m.out, &runtimeapi.Metric{Name: name, Timestamp: m.now, MetricType: typ,
		LabelValues: append(m.labels[:len(m.labels):len(m.labels)], extra...), Value: &runtimeapi.UInt64Value{Value: value}})
}

// containerMetrics reads one running container's metrics; fs is the store's file system.
func containerMetrics(rt *engine.Runtime, c *model.Container, m metricSet, fs *unix.Statfs_t) ([]*runtimeapi.Metric, error) {
	path, err := cgroups.PidCgroupPath(c.State.Pid)
	if err != nil {
		return nil, err
	}
	d, err := cgroups.ReadDetail(path)
	if err != nil {
		return nil, err
	}
	const second = uint64(time.Second)
	m.add("container_cpu_usage_seconds_total", d.CPUNanos/second, "total")
	m.add("container_cpu_user_seconds_total", d.CPUUser/second)
	m.add("container_cpu_system_seconds_total", d.CPUSystem/second)
	m.add("container_cpu_cfs_periods_total", d.Periods)
	m.add("container_cpu_cfs_throttled_periods_total", d.ThrottledPeriods)
	m.add("container_cpu_cfs_throttled_seconds_total", d.ThrottledNanos/second)
	m.add("container_memory_usage_bytes", d.MemUsageRaw)
	m.add("container_memory_working_set_bytes", d.MemUsage)
	m.add("container_memory_cache", d.Cache)
	m.add("container_memory_rss", d.RSS)
	m.add("container_memory_mapped_file", d.MappedFile)
	m.add("container_memory_swap", d.Swap)
	m.add("container_memory_kernel_usage", d.Kernel)
	m.add("container_memory_max_usage_bytes", d.MaxUsage)
	m.add("container_memory_failcnt", d.Failcnt)
	for _, scope := range []string{"container", "hierarchy"} {
		m.add("container_memory_failures_total", d.PgFault, "pgfault", scope)
		m.add("container_memory_failures_total", d.PgMajFault, "pgmajfault", scope)
	}
	m.add("container_oom_events_total", d.OOMKills)
	fds, sockets := openFiles(d.Procs)
	m.add("container_processes", uint64(len(d.Procs)))
	m.add("container_threads", d.PidsCurrent)
	m.add("container_threads_max", d.PidsMax)
	m.add("container_file_descriptors", fds)
	m.add("container_sockets", sockets)
	dev := rt.Options().Root
	m.add("container_fs_usage_bytes", uint64(max(rt.ContainerSize(c.Config.ID), 0)), dev)
	m.add("container_fs_limit_bytes", fs.Blocks*uint64(fs.Bsize), dev)
	m.add("container_fs_inodes_total", fs.Files, dev)
	m.add("container_fs_inodes_free", fs.Ffree, dev)
	m.add("container_fs_reads_bytes_total", d.BlkRead, dev)
	m.add("container_fs_writes_bytes_total", d.BlkWrite, dev)
	res := c.Config.Resources
	period, shares := res.CPUPeriod, res.CPUShares
	if period == 0 {
		period = 100000 // the kernel's CFS period, µs
	}
	if shares == 0 {
		shares = 1024 // the kernel's default weight
	}
	m.add("container_spec_cpu_period", period)
	m.add("container_spec_cpu_quota", uint64(max(res.CPUQuota, 0)))
	m.add("container_spec_cpu_shares", shares)
	m.add("container_spec_memory_limit_bytes", uint64(max(res.Memory, 0)))
	m.add("container_spec_memory_swap_limit_bytes", uint64(max(res.MemorySwap, 0)))
	m.add("container_start_time_seconds", uint64(max(c.State.StartedAt.Unix(), 0)))
	m.add("container_last_seen", uint64(m.now/int64(time.Second)))
	return m.out, nil
}

// openFiles counts the open file descriptors of pids, and those of them that are sockets.
func openFiles(pids []int) (fds, sockets uint64) {
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			fds++
			if l, err := os.Readlink(dir + e.Name()); err == nil && strings.HasPrefix(l, "socket:") {
				sockets++
			}
		}
	}
	return fds, sockets
}

// networkMetrics reads the counters of each interface (but lo) in the network namespace of
// process pid, from its /proc/<pid>/net/dev.
func networkMetrics(m metricSet, pid int) []*runtimeapi.Metric {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for _, l := range lines[min(2, len(lines)):] {
		name, counters, ok := strings.Cut(l, ":")
		name = strings.TrimSpace(name)
		f := strings.Fields(counters)
		if !ok || name == "lo" || len(f) < 12 {
			continue
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(f[i], 10, 64); return v }
		// Receive: bytes packets errs drop ...; transmit from the ninth field on, alike.
		m.add("container_network_receive_bytes_total", n(0), name)
		m.add("container_network_receive_packets_total", n(1), name)
		m.add("container_network_receive_errors_total", n(2), name)
		m.add("container_network_receive_packets_dropped_total", n(3), name)
		m.add("container_network_transmit_bytes_total", n(8), name)
		m.add("container_network_transmit_packets_total", n(9), name)
		m.add("container_network_transmit_errors_total", n(10), name)
		m.add("container_network_transmit_packets_dropped_total", n(11), name)
	}
	return m.out
}

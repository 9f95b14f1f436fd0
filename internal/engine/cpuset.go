package engine

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// The host's online CPUs and memory nodes, which a container's cpuset must keep to.
const (
	onlineCPUs  = "/sys/devices/system/cpu/online"
	onlineNodes = "/sys/devices/system/node/online"
)

// checkCpuset checks a cpuset list (0-3,5) against the host's online ones, listed in file, as
// the kernel refuses the others only when the container starts (podman and Docker refuse them
// at the create). what names them in the error: "CPUs" or "memory nodes".
func checkCpuset(list, file, what string) error {
	if list == "" {
		return nil
	}
	want, ok := parseCPUList(list)
	if !ok {
		return fmt.Errorf("invalid value %q for cpuset %s: want a list such as 0-3,5: %w", list, what, errdefs.ErrInvalid)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil // cannot tell: the kernel will
	}
	online := strings.TrimSpace(string(b))
	have, _ := parseCPUList(online)
	for n := range want {
		if !have[n] {
			return fmt.Errorf("Requested %s are not available - requested %s, available: %s: %w", what, list, online, errdefs.ErrInvalid)
		}
	}
	return nil
}

// checkCpusets is checkCpuset for a container's --cpuset-cpus and --cpuset-mems.
func checkCpusets(r model.Resources) error {
	if err := checkCpuset(r.CpusetCpus, onlineCPUs, "CPUs"); err != nil {
		return err
	}
	return checkCpuset(r.CpusetMems, onlineNodes, "memory nodes")
}

// parseCPUList parses the kernel's list format: numbers and ranges, comma separated.
func parseCPUList(s string) (map[int]bool, bool) {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 0 || b < a || b-a > 1<<16 {
			return nil, false
		}
		for n := a; n <= b; n++ {
			out[n] = true
		}
	}
	return out, true
}

package cgroups

import (
	"os"
	"path/filepath"
)

// BlkioWeight reports whether a block I/O weight can be given to a container on this host:
// on cgroup v1 the runtime writes blkio.weight (and blkio.weight_device), which only the CFQ
// scheduler's kernels have; a kernel with BFQ alone has blkio.bfq.weight instead, which the
// runtime does not write. On v2 the runtime writes io.weight or io.bfq.weight as the host has.
func BlkioWeight() bool {
	if Mode() == "v2" {
		return true
	}
	h, err := current()
	if err != nil || h.v1["blkio"] == "" {
		return false
	}
	_, err = os.Stat(filepath.Join(h.v1["blkio"], "blkio.weight"))
	return err == nil
}

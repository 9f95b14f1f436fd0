package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"pea/internal/fsx"
)

// Stats is a cgroup's resource use, counting everything below it.
type Stats struct {
	CPUNanos uint64 // CPU time used
	// MemUsage is the memory in use less the inactive file cache, which the kernel reclaims
	// first (what docker and podman show): v1 memory.usage_in_bytes - total_inactive_file, v2
	// memory.current - inactive_file.
	MemUsage uint64
	// MemLimit is the limit in effect: the lowest of the cgroup's and its ancestors', and never
	// more than the host's RAM (which it is when nothing is limited).
	MemLimit    uint64
	PidsCurrent uint64
	BlkRead     uint64 // bytes read from block devices
	BlkWrite    uint64 // bytes written to block devices
}

// ReadStats reads the resource use of the cgroup path. When the cgroup does not exist (its
// container stopped meanwhile), the error wraps os.ErrNotExist; on v1 that is decided by the
// memory hierarchy. A controller the cgroup lacks (not enabled on v2, on v1 a hierarchy without
// that path) reads as zero.
func ReadStats(p string) (*Stats, error) {
	h, err := current()
	if err != nil {
		return nil, err
	}
	return h.readStats(p)
}

// statsReader reads one cgroup's files; the first error it meets sticks.
type statsReader struct {
	cgroup  string
	primary string // the directory whose absence means the cgroup is gone
	buf     []byte
	err     error
}

// read returns the content of file, or nil if it is missing: the controller is not enabled
// there, or (on v1) the cgroup lacks that hierarchy. When the primary directory is missing,
// the cgroup is gone, an os.ErrNotExist error.
func (r *statsReader) read(dir, name string) []byte {
	if r.err != nil {
		return nil
	}
	b, err := readInto(filepath.Join(dir, name), r.buf[:0])
	if err == nil {
		r.buf = b[len(b):]
		return b
	}
	if errors.Is(err, os.ErrNotExist) {
		if _, serr := os.Stat(r.primary); serr != nil {
			r.err = fmt.Errorf("cgroup %s: %w", r.cgroup, os.ErrNotExist)
		}
		return nil
	}
	if errors.Is(err, unix.ENODEV) {
		// A cgroup removed while open reads as ENODEV.
		r.err = fmt.Errorf("cgroup %s: %w", r.cgroup, os.ErrNotExist)
		return nil
	}
	r.err = fmt.Errorf("cgroup %s: %w", r.cgroup, err)
	return nil
}

// readInto reads a small file into buf's spare capacity, with a single open and few reads.
func readInto(file string, buf []byte) ([]byte, error) {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: file, Err: err}
	}
	defer unix.Close(fd)
	start := len(buf)
	for {
		if cap(buf)-len(buf) < 4096 {
			nb := make([]byte, len(buf), 2*cap(buf)+8192)
			copy(nb, buf)
			buf = nb
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: file, Err: err}
		}
		if n == 0 {
			return buf[start:], nil
		}
		buf = buf[:len(buf)+n]
	}
}

func (h *hierarchies) readStats(p string) (*Stats, error) {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	r := &statsReader{cgroup: p, buf: make([]byte, 0, 8192)}
	var s Stats
	if h.v2 {
		r.primary = filepath.Join(h.unified, p)
		h.readV2(r, r.primary, &s)
	} else {
		for _, c := range []string{"memory", "cpuacct", "pids"} {
			if root, ok := h.v1[c]; ok {
				r.primary = filepath.Join(root, p)
				break
			}
		}
		h.readV1(r, p, &s)
	}
	if r.err != nil {
		return nil, r.err
	}
	if ram := hostRAM(); s.MemLimit == 0 || s.MemLimit > ram {
		s.MemLimit = ram
	}
	return &s, nil
}

func (h *hierarchies) readV1(r *statsReader, p string, s *Stats) {
	dir := func(ctrl string) string {
		if root, ok := h.v1[ctrl]; ok {
			return filepath.Join(root, p)
		}
		return ""
	}
	// The memory hierarchy goes first: when the cgroup is gone, nothing else is read.
	if d := dir("memory"); d != "" {
		usage := parseUint(r.read(d, "memory.usage_in_bytes"))
		stat := r.read(d, "memory.stat")
		inactive := statField(stat, "total_inactive_file")
		if inactive < usage {
			s.MemUsage = usage - inactive
		}
		s.MemLimit = statField(stat, "hierarchical_memory_limit")
	}
	if d := dir("cpuacct"); d != "" {
		s.CPUNanos = parseUint(r.read(d, "cpuacct.usage"))
	}
	if d := dir("pids"); d != "" {
		s.PidsCurrent = parseUint(r.read(d, "pids.current"))
	}
	if d := dir("blkio"); d != "" {
		b := r.read(d, "blkio.throttle.io_service_bytes_recursive")
		if b == nil && r.err == nil {
			b = r.read(d, "blkio.throttle.io_service_bytes")
		}
		s.BlkRead, s.BlkWrite = blkioBytes(b)
	}
}

func (h *hierarchies) readV2(r *statsReader, dir string, s *Stats) {
	if cur := r.read(dir, "memory.current"); cur != nil {
		usage := parseUint(cur)
		inactive := statField(r.read(dir, "memory.stat"), "inactive_file")
		if inactive < usage {
			s.MemUsage = usage - inactive
		}
	}
	s.CPUNanos = statField(r.read(dir, "cpu.stat"), "usage_usec") * 1000
	s.PidsCurrent = parseUint(r.read(dir, "pids.current"))
	s.BlkRead, s.BlkWrite = ioStatBytes(r.read(dir, "io.stat"))
	if r.err != nil {
		return
	}
	// The effective memory limit: the lowest memory.max from here up to the root.
	for d := dir; len(d) > len(h.unified); d = filepath.Dir(d) {
		b, err := readInto(filepath.Join(d, "memory.max"), nil)
		if err != nil {
			continue
		}
		if v := bytes.TrimSpace(b); string(v) != "max" {
			if n := parseUint(v); n > 0 && (s.MemLimit == 0 || n < s.MemLimit) {
				s.MemLimit = n
			}
		}
	}
}

// parseUint reads a decimal number from a one-value cgroup file; anything else is 0.
func parseUint(b []byte) uint64 {
	n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// statField returns the value of key in a flat keyed file ("key value" lines).
func statField(b []byte, key string) uint64 {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(line) > len(key) && line[len(key)] == ' ' && string(line[:len(key)]) == key {
			return parseUint(line[len(key)+1:])
		}
	}
	return 0
}

// blkioBytes sums the Read and Write lines ("8:0 Read 4096") of a v1 blkio file.
func blkioBytes(b []byte) (read, write uint64) {
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		switch f[1] {
		case "Read":
			read += parseUint([]byte(f[2]))
		case "Write":
			write += parseUint([]byte(f[2]))
		}
	}
	return read, write
}

// ioStatBytes sums rbytes= and wbytes= over the devices of a v2 io.stat file.
func ioStatBytes(b []byte) (read, write uint64) {
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "rbytes="); ok {
			read += parseUint([]byte(v))
		} else if v, ok := strings.CutPrefix(f, "wbytes="); ok {
			write += parseUint([]byte(v))
		}
	}
	return read, write
}

var hostRAM = sync.OnceValue(func() uint64 {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
})

// PidCgroupPath returns the cgroup of process pid, from /proc/<pid>/cgroup: its unified
// hierarchy line on v2, its memory controller line on v1.
func PidCgroupPath(pid int) (string, error) {
	h, err := current()
	if err != nil {
		return "", err
	}
	b, err := fsx.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("cgroup of process %d: %w", pid, err)
	}
	if p, ok := cgroupFromProcFile(string(b), h.v2); ok {
		return p, nil
	}
	return "", fmt.Errorf("cgroup of process %d: no %s line in /proc/%d/cgroup", pid, map[bool]string{true: "unified", false: "memory"}[h.v2], pid)
}

// cgroupFromProcFile picks the path from the lines "id:controllers:path" of /proc/<pid>/cgroup.
func cgroupFromProcFile(content string, v2 bool) (string, bool) {
	for _, line := range strings.Split(content, "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if v2 && parts[0] == "0" && parts[1] == "" {
			return parts[2], true
		}
		if !v2 && contains(strings.Split(parts[1], ","), "memory") {
			return parts[2], true
		}
	}
	return "", false
}

package oci

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"pea/internal/fsx"
	"pea/internal/jsonfast"
)

// SeccompAnnotation makes crun load a precompiled seccomp filter (base64 BPF) instead of
// compiling the spec's profile again (crun(1), run.oci.seccomp_bpf_data).
const SeccompAnnotation = "run.oci.seccomp_bpf_data"

// Compiling pea's default profile costs crun about 12 ms per container, a third of a start.
// crun leaves the filter it compiled in its state directory (<state>/<id>/seccomp.bpf); pea keeps
// one copy per profile under cacheDir, keyed by the profile and the runtime binary, and hands it
// back to crun through SeccompAnnotation. The cache lives in the runroot, so a reboot empties it.

// SeccompKey identifies a compiled filter: the profile's JSON and the runtime binary (its path,
// size and modification time, so an upgraded crun compiles afresh). Empty when the runtime is
// not crun, which does not know the annotation.
func (r *Runtime) SeccompKey(p *specs.LinuxSeccomp) string {
	if p == nil {
		return ""
	}
	data, err := jsonfast.Marshal(p)
	if err != nil {
		return ""
	}
	return r.seccompKey("profile", data)
}

// DefaultSeccompKey identifies the filter compiled from pea's default profile for caps, without
// building the profile: that profile is a function of pea's own code and of its seccompTarget
// (the capabilities, the architecture, the kernel's version), so the key hashes the target and
// pea's binary (size and modification time, as the runtime's). A start whose filter is cached
// then neither builds the profile (~0.15 ms) nor encodes it for a key (~0.1 ms). Empty when the
// runtime is not crun.
func (r *Runtime) DefaultSeccompKey(caps []string) string {
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		return ""
	}
	t := newSeccompTarget(caps)
	set := make([]string, 0, len(t.caps))
	for c := range t.caps {
		set = append(set, c)
	}
	slices.Sort(set)
	return r.seccompKey("pea default profile", fmt.Appendf(nil, "%d\x00%d\x00%s\x00%s\x00%d.%d",
		self.Size(), self.ModTime().UnixNano(), strings.Join(set, ","), t.arch, t.kernel.major, t.kernel.minor))
}

// seccompKey hashes what identifies a profile (kind tells how) with the runtime binary's
// identity: empty when the runtime is not crun or cannot be stat'ed.
func (r *Runtime) seccompKey(kind string, profile []byte) string {
	if !r.isCrun() {
		return ""
	}
	fi, err := os.Stat(r.Path)
	if err != nil {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00", kind, r.Path, fi.Size(), fi.ModTime().UnixNano())
	h.Write(profile)
	return hex.EncodeToString(h.Sum(nil))
}

func (r *Runtime) seccompCacheDir() string { return filepath.Join(r.StateDir, "..", "seccomp") }

// CachedSeccomp returns the base64 filter compiled for key, if one is cached.
func (r *Runtime) CachedSeccomp(key string) (string, bool) {
	if key == "" {
		return "", false
	}
	b, err := fsx.ReadFile(filepath.Join(r.seccompCacheDir(), key))
	if err != nil || len(b) == 0 {
		return "", false
	}
	return base64.StdEncoding.EncodeToString(b), true
}

// SaveSeccomp keeps the filter crun compiled for container id under key (atomically, so a
// concurrent reader never sees half a filter), relaid out for a faster load when it can be
// (relayoutSeccomp: ~8 ms once per profile and boot, ~0.65 ms less for every later start).
func (r *Runtime) SaveSeccomp(id, key string) {
	if key == "" {
		return
	}
	b, err := fsx.ReadFile(filepath.Join(r.StateDir, id, "seccomp.bpf"))
	if err != nil || len(b) == 0 || len(b)%8 != 0 { // BPF instructions are 8 bytes each
		return
	}
	if q, err := relayoutSeccomp(b); err == nil {
		b = q
	} else {
		slog.Debug("keeping the seccomp filter as compiled", "err", err)
	}
	dir := r.seccompCacheDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, key)); err != nil {
		os.Remove(tmp.Name())
	}
}

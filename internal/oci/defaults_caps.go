package oci

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"pea/internal/errdefs"
	"pea/internal/fsx"
)

// DefaultCapabilities is the capability set of an ordinary container (podman's default). Inside
// the container, /proc/self/status shows CapEff 00000000800405fb.
var DefaultCapabilities = []string{
	"CAP_CHOWN",
	"CAP_DAC_OVERRIDE",
	"CAP_FOWNER",
	"CAP_FSETID",
	"CAP_KILL",
	"CAP_NET_BIND_SERVICE",
	"CAP_SETFCAP",
	"CAP_SETGID",
	"CAP_SETPCAP",
	"CAP_SETUID",
	"CAP_SYS_CHROOT",
}

// capAll is the pseudo-capability that stands for every capability in --cap-add/--cap-drop.
const capAll = "ALL"

// capNames lists Linux capabilities by number (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN",              // 0
	"CAP_DAC_OVERRIDE",       // 1
	"CAP_DAC_READ_SEARCH",    // 2
	"CAP_FOWNER",             // 3
	"CAP_FSETID",             // 4
	"CAP_KILL",               // 5
	"CAP_SETGID",             // 6
	"CAP_SETUID",             // 7
	"CAP_SETPCAP",            // 8
	"CAP_LINUX_IMMUTABLE",    // 9
	"CAP_NET_BIND_SERVICE",   // 10
	"CAP_NET_BROADCAST",      // 11
	"CAP_NET_ADMIN",          // 12
	"CAP_NET_RAW",            // 13
	"CAP_IPC_LOCK",           // 14
	"CAP_IPC_OWNER",          // 15
	"CAP_SYS_MODULE",         // 16
	"CAP_SYS_RAWIO",          // 17
	"CAP_SYS_CHROOT",         // 18
	"CAP_SYS_PTRACE",         // 19
	"CAP_SYS_PACCT",          // 20
	"CAP_SYS_ADMIN",          // 21
	"CAP_SYS_BOOT",           // 22
	"CAP_SYS_NICE",           // 23
	"CAP_SYS_RESOURCE",       // 24
	"CAP_SYS_TIME",           // 25
	"CAP_SYS_TTY_CONFIG",     // 26
	"CAP_MKNOD",              // 27
	"CAP_LEASE",              // 28
	"CAP_AUDIT_WRITE",        // 29
	"CAP_AUDIT_CONTROL",      // 30
	"CAP_SETFCAP",            // 31
	"CAP_MAC_OVERRIDE",       // 32
	"CAP_MAC_ADMIN",          // 33
	"CAP_SYSLOG",             // 34
	"CAP_WAKE_ALARM",         // 35
	"CAP_BLOCK_SUSPEND",      // 36
	"CAP_AUDIT_READ",         // 37
	"CAP_PERFMON",            // 38
	"CAP_BPF",                // 39
	"CAP_CHECKPOINT_RESTORE", // 40
}

// KnownCapabilities are the names of every capability this pea knows, in bit order.
func KnownCapabilities() []string { return slices.Clone(capNames) }

// CapabilityName is the name of capability bit n (CAP_CHOWN for 0), if this pea knows it.
func CapabilityName(n int) (string, bool) {
	if n < 0 || n >= len(capNames) {
		return "", false
	}
	return capNames[n], true
}

var allCaps = sync.OnceValue(func() []string { return hostCapabilities("/proc") })

// AllCapabilities returns every capability the running kernel knows (0 to
// /proc/sys/kernel/cap_last_cap) that this process can still hand on, i.e. that is in its own
// bounding set: a --privileged container asking for one the caller lost (on some hosts root runs
// without CAP_SYS_RESOURCE) would make the runtime's capset fail. The result is sorted.
func AllCapabilities() []string {
	return append([]string(nil), allCaps()...)
}

// hostCapabilities implements AllCapabilities against a proc mount.
func hostCapabilities(proc string) []string {
	last := len(capNames) - 1
	if b, err := fsx.ReadFile(proc + "/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 && n < last {
			last = n
		}
	}
	bounding := ^uint64(0)
	if b, err := fsx.ReadFile(proc + "/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64); err == nil {
					bounding = n
				}
			}
		}
	}
	var caps []string
	for i := 0; i <= last; i++ {
		if bounding&(1<<uint(i)) != 0 {
			caps = append(caps, capNames[i])
		}
	}
	sort.Strings(caps)
	return caps
}

// NormalizeCapability turns the spellings users type ("net_admin", "NET_ADMIN", "cap_net_admin")
// into the kernel's name ("CAP_NET_ADMIN"). "all" becomes "ALL". An unknown name is an
// errdefs.ErrInvalid.
func NormalizeCapability(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if c == capAll {
		return capAll, nil
	}
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	if !slices.Contains(capNames, c) {
		return "", fmt.Errorf("unknown capability %q (want a name like NET_ADMIN or CAP_NET_ADMIN, or ALL): %w", s, errdefs.ErrInvalid)
	}
	return c, nil
}

// Capabilities computes a container's capability set from the defaults and the user's
// --cap-add/--cap-drop lists, as podman does:
//
//   - --cap-drop ALL starts from nothing, so the result is exactly the added capabilities;
//   - --cap-add ALL starts from AllCapabilities, then the drops are removed;
//   - otherwise DefaultCapabilities, minus the drops, plus the additions;
//   - a capability both added and dropped (by name) is an error, as is adding and dropping ALL.
//
// privileged starts from AllCapabilities and ignores additions; drops still apply (pea honours
// "--privileged --cap-drop X" where podman would silently ignore the drop). Adding a capability
// that AllCapabilities lacks is an error. The result is sorted and free of duplicates.
func Capabilities(add, drop []string, privileged bool) ([]string, error) {
	return CapabilitiesFrom(nil, add, drop, privileged)
}

// DockerDefaultCapabilities is the capability set of a container Docker's daemon creates:
// podman's and CAP_AUDIT_WRITE, CAP_MKNOD, CAP_NET_RAW (ping's raw socket). CapEff
// 00000000a80425fb.
func DockerDefaultCapabilities() []string {
	return append([]string{"CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"}, DefaultCapabilities...)
}

// CapabilitiesFrom is Capabilities with base in place of DefaultCapabilities (nil: those).
func CapabilitiesFrom(base, add, drop []string, privileged bool) ([]string, error) {
	if base == nil {
		base = DefaultCapabilities
	}
	adds, err := normalizeCapabilities(add)
	if err != nil {
		return nil, fmt.Errorf("--cap-add: %w", err)
	}
	drops, err := normalizeCapabilities(drop)
	if err != nil {
		return nil, fmt.Errorf("--cap-drop: %w", err)
	}
	addAll, dropAll := adds[capAll], drops[capAll]
	delete(adds, capAll)
	delete(drops, capAll)

	set := map[string]bool{}
	switch {
	case privileged:
		for _, c := range AllCapabilities() {
			set[c] = true
		}
		adds = nil
	case addAll && dropAll:
		return nil, fmt.Errorf("cannot both add and drop ALL capabilities: %w", errdefs.ErrInvalid)
	case dropAll:
		// Nothing is left to drop; only the additions count.
		drops = nil
	case addAll:
		for _, c := range AllCapabilities() {
			set[c] = true
		}
	default:
		for _, c := range base {
			set[c] = true
		}
	}
	grantable := map[string]bool{}
	for _, c := range AllCapabilities() {
		grantable[c] = true
	}
	for c := range adds {
		if drops[c] {
			return nil, fmt.Errorf("capability %s cannot be both added and dropped: %w", c, errdefs.ErrInvalid)
		}
		if !grantable[c] {
			// The runtime's capset would fail with a bare EPERM.
			return nil, fmt.Errorf("capability %s cannot be added: this kernel lacks it or pea itself runs without it: %w", c, errdefs.ErrInvalid)
		}
		set[c] = true
	}
	if dropAll && privileged {
		set = map[string]bool{}
	}
	for c := range drops {
		delete(set, c)
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out, nil
}

func normalizeCapabilities(list []string) (map[string]bool, error) {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		c, err := NormalizeCapability(s)
		if err != nil {
			return nil, err
		}
		m[c] = true
	}
	return m, nil
}

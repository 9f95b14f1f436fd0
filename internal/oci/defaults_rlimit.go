package oci

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// RlimitInfinity is RLIM_INFINITY, what "-1" and "unlimited" mean in a --ulimit.
const RlimitInfinity = math.MaxUint64

// Podman's defaults for every container; DefaultRlimits lowers them to what the caller may grant.
const (
	defaultNofile = 1048576
	defaultNproc  = 4194304
)

type ulimitName struct {
	name     string
	typ      string
	resource int
}

// ulimitNames are the --ulimit names, with the OCI rlimit types and the resource numbers for
// getrlimit, in the order of their names. (A slice, not a map: a map literal is built when the
// program starts, which every pea command would pay.)
var ulimitNames = []ulimitName{
	{"core", "RLIMIT_CORE", unix.RLIMIT_CORE},
	{"cpu", "RLIMIT_CPU", unix.RLIMIT_CPU},
	{"data", "RLIMIT_DATA", unix.RLIMIT_DATA},
	{"fsize", "RLIMIT_FSIZE", unix.RLIMIT_FSIZE},
	{"locks", "RLIMIT_LOCKS", unix.RLIMIT_LOCKS},
	{"memlock", "RLIMIT_MEMLOCK", unix.RLIMIT_MEMLOCK},
	{"msgqueue", "RLIMIT_MSGQUEUE", unix.RLIMIT_MSGQUEUE},
	{"nice", "RLIMIT_NICE", unix.RLIMIT_NICE},
	{"nofile", "RLIMIT_NOFILE", unix.RLIMIT_NOFILE},
	{"nproc", "RLIMIT_NPROC", unix.RLIMIT_NPROC},
	{"rss", "RLIMIT_RSS", unix.RLIMIT_RSS},
	{"rtprio", "RLIMIT_RTPRIO", unix.RLIMIT_RTPRIO},
	{"rttime", "RLIMIT_RTTIME", unix.RLIMIT_RTTIME},
	{"sigpending", "RLIMIT_SIGPENDING", unix.RLIMIT_SIGPENDING},
	{"stack", "RLIMIT_STACK", unix.RLIMIT_STACK},
}

// DefaultRlimits returns RLIMIT_NOFILE 1048576 and RLIMIT_NPROC 4194304 (podman's defaults),
// each lowered to the calling process's hard limit: without CAP_SYS_RESOURCE the runtime cannot
// raise a limit above it, and a spec asking for more makes the container fail to start.
func DefaultRlimits() []specs.POSIXRlimit {
	return []specs.POSIXRlimit{
		clampedRlimit("RLIMIT_NOFILE", unix.RLIMIT_NOFILE, defaultNofile),
		clampedRlimit("RLIMIT_NPROC", unix.RLIMIT_NPROC, defaultNproc),
	}
}

func clampedRlimit(typ string, resource int, want uint64) specs.POSIXRlimit {
	var cur unix.Rlimit
	if err := unix.Getrlimit(resource, &cur); err == nil && cur.Max < want {
		want = cur.Max
	}
	return specs.POSIXRlimit{Type: typ, Soft: want, Hard: want}
}

// ParseUlimit parses a --ulimit value, "name=soft[:hard]" ("nofile=1024:2048", "nproc=512"),
// where name is one of core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc,
// rss, rtprio, rttime, sigpending, stack, and a value of -1 or "unlimited" means no limit. A
// missing hard limit equals the soft one. Errors wrap errdefs.ErrInvalid.
func ParseUlimit(s string) (specs.POSIXRlimit, error) {
	invalid := func(format string, a ...any) (specs.POSIXRlimit, error) {
		return specs.POSIXRlimit{}, fmt.Errorf("--ulimit %q: %s: %w", s, fmt.Sprintf(format, a...), errdefs.ErrInvalid)
	}
	name, values, ok := strings.Cut(s, "=")
	if !ok || values == "" {
		return invalid("want name=soft[:hard], e.g. nofile=1024:2048")
	}
	name = strings.ToLower(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "RLIMIT_"))
	i := slices.IndexFunc(ulimitNames, func(u ulimitName) bool { return u.name == name })
	if i < 0 {
		return invalid("unknown limit %q (want one of %s)", name, ulimitList())
	}
	softStr, hardStr, hasHard := strings.Cut(values, ":")
	soft, err := parseRlimitValue(softStr)
	if err != nil {
		return invalid("soft limit: %v", err)
	}
	hard := soft
	if hasHard {
		if hard, err = parseRlimitValue(hardStr); err != nil {
			return invalid("hard limit: %v", err)
		}
	}
	if soft > hard {
		return invalid("soft limit %s is above hard limit %s", rlimitString(soft), rlimitString(hard))
	}
	return specs.POSIXRlimit{Type: ulimitNames[i].typ, Soft: soft, Hard: hard}, nil
}

func parseRlimitValue(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	if v == "-1" || strings.EqualFold(v, "unlimited") {
		return RlimitInfinity, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number, -1 or unlimited", v)
	}
	return n, nil
}

func rlimitString(v uint64) string {
	if v == RlimitInfinity {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func ulimitList() string {
	names := make([]string, 0, len(ulimitNames))
	for _, u := range ulimitNames {
		names = append(names, u.name)
	}
	return strings.Join(names, ", ")
}

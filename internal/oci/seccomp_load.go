package oci

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"pea/internal/errdefs"
)

// seccompProfile is a seccomp profile file: the OCI linux.seccomp object, or the docker/podman
// seccomp.json format, which adds archMap and per-rule includes/excludes conditions.
type seccompProfile struct {
	DefaultAction    specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet  *uint                    `json:"defaultErrnoRet,omitempty"`
	DefaultErrno     string                   `json:"defaultErrno,omitempty"` // containers/common's name of it (ENOSYS)
	Architectures    []specs.Arch             `json:"architectures,omitempty"`
	ArchMap          []seccompArchMapping     `json:"archMap,omitempty"`
	Flags            []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	ListenerPath     string                   `json:"listenerPath,omitempty"`
	ListenerMetadata string                   `json:"listenerMetadata,omitempty"`
	Syscalls         []seccompRule            `json:"syscalls,omitempty"`
}

// seccompArchMapping says which other architectures a native one may also call with.
type seccompArchMapping struct {
	Architecture     specs.Arch   `json:"architecture"`
	SubArchitectures []specs.Arch `json:"subArchitectures"`
}

// LoadSeccompFile reads a seccomp profile (--security-opt seccomp=PATH) for a container with
// the default capabilities; see LoadSeccompFileFor.
func LoadSeccompFile(path string) (*specs.LinuxSeccomp, error) {
	return LoadSeccompFileFor(path, DefaultCapabilities)
}

// LoadSeccompFileFor reads a seccomp profile for a container whose capability set is caps. The
// file holds either an OCI linux.seccomp object or a docker/podman seccomp.json; in the latter,
// archMap picks the architectures for this machine, and the rules whose includes/excludes
// (caps, arches, minKernel) do not match the container are left out. Problems with the file are
// errdefs.ErrInvalid errors naming the file and the faulty part.
func LoadSeccompFileFor(path string, caps []string) (*specs.LinuxSeccomp, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w: %w", path, err, errdefs.ErrInvalid)
	}
	p, err := ParseSeccompProfile(data, caps)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, err)
	}
	return p, nil
}

// ParseSeccompProfile is LoadSeccompFileFor for a profile already in memory.
func ParseSeccompProfile(data []byte, caps []string) (*specs.LinuxSeccomp, error) {
	return parseSeccompProfile(data, newSeccompTarget(caps))
}

func parseSeccompProfile(data []byte, t seccompTarget) (*specs.LinuxSeccomp, error) {
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, a...), errdefs.ErrInvalid)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid("the file is empty")
	}
	var prof seccompProfile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&prof); err != nil {
		return nil, invalid("not a seccomp profile in JSON: %v", jsonErrorWithLine(data, err))
	}
	if prof.DefaultAction == "" {
		return nil, invalid("defaultAction is missing (want e.g. SCMP_ACT_ERRNO)")
	}
	if !knownSeccompAction(prof.DefaultAction) {
		return nil, invalid("defaultAction: unknown action %q (want one of %s)", prof.DefaultAction, seccompActionList())
	}
	var err error
	if prof.DefaultErrnoRet, err = errnoByName(prof.DefaultErrno, prof.DefaultErrnoRet); err != nil {
		return nil, invalid("defaultErrno: %v", err)
	}
	if prof.DefaultErrnoRet != nil && !takesErrno(prof.DefaultAction) {
		return nil, invalid("defaultErrnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE")
	}
	if len(prof.Architectures) > 0 && len(prof.ArchMap) > 0 {
		return nil, invalid("give either architectures or archMap, not both")
	}
	for _, f := range prof.Flags {
		if !knownSeccompFlag(f) {
			return nil, invalid("flags: unknown flag %q", f)
		}
	}

	out := &specs.LinuxSeccomp{
		DefaultAction:    prof.DefaultAction,
		DefaultErrnoRet:  prof.DefaultErrnoRet,
		Flags:            prof.Flags,
		ListenerPath:     prof.ListenerPath,
		ListenerMetadata: prof.ListenerMetadata,
	}
	out.Architectures = append(out.Architectures, prof.Architectures...)
	for _, m := range prof.ArchMap {
		if !archListed([]string{string(m.Architecture)}, t.arch) {
			continue
		}
		out.Architectures = append(out.Architectures, m.Architecture)
		out.Architectures = append(out.Architectures, m.SubArchitectures...)
	}
	for _, a := range out.Architectures {
		if !knownSeccompArch(a) {
			return nil, invalid("architecture %q is unknown (want a name like SCMP_ARCH_X86_64)", a)
		}
	}

	usesNotify := prof.DefaultAction == specs.ActNotify
	for i, r := range prof.Syscalls {
		where := fmt.Sprintf("syscalls[%d]", i)
		if r.Name != "" && len(r.Names) > 0 {
			return nil, invalid("%s: give either name or names, not both", where)
		}
		if r.Name == "" && len(r.Names) == 0 {
			return nil, invalid("%s: names is missing", where)
		}
		for _, n := range r.syscall().Names {
			if n == "" || strings.ContainsAny(n, " \t\n,") {
				return nil, invalid("%s: %q is not a system call name", where, n)
			}
		}
		if r.Action == "" {
			return nil, invalid("%s: action is missing", where)
		}
		if !knownSeccompAction(r.Action) {
			return nil, invalid("%s: unknown action %q (want one of %s)", where, r.Action, seccompActionList())
		}
		if r.ErrnoRet, err = errnoByName(r.Errno, r.ErrnoRet); err != nil {
			return nil, invalid("%s: errno: %v", where, err)
		}
		if r.ErrnoRet != nil && !takesErrno(r.Action) {
			return nil, invalid("%s: errnoRet is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE", where)
		}
		for j, a := range r.Args {
			if a.Index > 5 {
				return nil, invalid("%s.args[%d]: index %d is out of range (a system call has arguments 0 to 5)", where, j, a.Index)
			}
			if !knownSeccompOp(a.Op) {
				return nil, invalid("%s.args[%d]: unknown op %q (want one of %s)", where, j, a.Op, seccompOpList())
			}
		}
		ok, err := r.applies(t)
		if err != nil {
			return nil, invalid("%s: includes.minKernel %q: %v", where, r.Includes.MinKernel, err)
		}
		if !ok {
			continue
		}
		usesNotify = usesNotify || r.Action == specs.ActNotify
		out.Syscalls = append(out.Syscalls, r.syscall())
	}
	if usesNotify && out.ListenerPath == "" {
		return nil, invalid("SCMP_ACT_NOTIFY needs listenerPath")
	}
	return out, nil
}

// jsonErrorWithLine adds the line number to a JSON syntax or type error.
func jsonErrorWithLine(data []byte, err error) error {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return err
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	return fmt.Errorf("line %d: %w", line, err)
}

// parseKernelVersion reads "major.minor" from a version or a kernel release ("6.1.0-18-amd64").
func parseKernelVersion(s string) (kernelVersion, error) {
	fields := strings.SplitN(s, ".", 3)
	major, err := strconv.Atoi(fields[0])
	if err != nil || major < 0 {
		return kernelVersion{}, fmt.Errorf("want major.minor, like 4.8")
	}
	v := kernelVersion{major: major}
	if len(fields) > 1 {
		minor := fields[1]
		if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			minor = minor[:i]
		}
		if v.minor, err = strconv.Atoi(minor); err != nil {
			return kernelVersion{}, fmt.Errorf("want major.minor, like 4.8")
		}
	}
	return v, nil
}

var seccompActions = []specs.LinuxSeccompAction{
	specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap, specs.ActErrno,
	specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify,
}

func knownSeccompAction(a specs.LinuxSeccompAction) bool {
	for _, k := range seccompActions {
		if a == k {
			return true
		}
	}
	return false
}

func seccompActionList() string {
	var s []string
	for _, a := range seccompActions {
		s = append(s, string(a))
	}
	return strings.Join(s, ", ")
}

func takesErrno(a specs.LinuxSeccompAction) bool {
	return a == specs.ActErrno || a == specs.ActTrace
}

var seccompOps = []specs.LinuxSeccompOperator{
	specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
	specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual,
}

func knownSeccompOp(op specs.LinuxSeccompOperator) bool {
	for _, k := range seccompOps {
		if op == k {
			return true
		}
	}
	return false
}

func seccompOpList() string {
	var s []string
	for _, o := range seccompOps {
		s = append(s, string(o))
	}
	return strings.Join(s, ", ")
}

func knownSeccompFlag(f specs.LinuxSeccompFlag) bool {
	switch f {
	case specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow,
		specs.LinuxSeccompFlagWaitKillableRecv, "SECCOMP_FILTER_FLAG_TSYNC":
		return true
	}
	return false
}

func knownSeccompArch(a specs.Arch) bool {
	switch a {
	case specs.ArchX86, specs.ArchX86_64, specs.ArchX32, specs.ArchARM, specs.ArchAARCH64,
		specs.ArchMIPS, specs.ArchMIPS64, specs.ArchMIPS64N32, specs.ArchMIPSEL,
		specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchPPC, specs.ArchPPC64,
		specs.ArchPPC64LE, specs.ArchS390, specs.ArchS390X, specs.ArchPARISC,
		specs.ArchPARISC64, specs.ArchRISCV64, specs.ArchLOONGARCH64, specs.ArchM68K,
		specs.ArchSH, specs.ArchSHEB:
		return true
	}
	return false
}

// errnoByName is the errno value of a profile's rule: ret when the profile gives the number
// (errnoRet), else the value of name (containers/common's seccomp.json names it beside the
// number: "errno": "EPERM"), else none.
func errnoByName(name string, ret *uint) (*uint, error) {
	if ret != nil || name == "" {
		return ret, nil
	}
	for v := uint(1); v < 4096; v++ {
		if unix.ErrnoName(syscall.Errno(v)) == name {
			return &v, nil
		}
	}
	return nil, fmt.Errorf("%q is not an errno name (want e.g. EPERM)", name)
}

package oci

import (
	"runtime"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// seccompRule is one syscall rule of a profile before it is fitted to a container: an OCI rule
// plus the conditions under which it applies. It is also the JSON shape of a rule in the
// docker/podman seccomp.json format, which LoadSeccompFile reads.
type seccompRule struct {
	Name     string                   `json:"name,omitempty"` // the old single-name form
	Names    []string                 `json:"names,omitempty"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet,omitempty"`
	Errno    string                   `json:"errno,omitempty"` // containers/common's name of it (EPERM)
	Args     []specs.LinuxSeccompArg  `json:"args,omitempty"`
	Comment  string                   `json:"comment,omitempty"`
	Includes seccompCondition         `json:"includes,omitempty"`
	Excludes seccompCondition         `json:"excludes,omitempty"`
}

// seccompCondition restricts a rule. In includes, the rule applies only if the container has all
// the Caps, the machine's architecture is among Arches, and the kernel is at least MinKernel
// ("major.minor"); in excludes, the rule is dropped if the container has any of the Caps or the
// architecture is among Arches.
type seccompCondition struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// seccompTarget is what a profile is fitted to.
type seccompTarget struct {
	caps   map[string]bool // normalized capability names
	arch   string          // GOARCH
	kernel kernelVersion
}

type kernelVersion struct{ major, minor int }

func (v kernelVersion) atLeast(o kernelVersion) bool {
	return v.major > o.major || v.major == o.major && v.minor >= o.minor
}

// newSeccompTarget describes a container with capabilities caps on this machine.
func newSeccompTarget(caps []string) seccompTarget {
	return seccompTarget{caps: capSet(caps), arch: runtime.GOARCH, kernel: runningKernel()}
}

func capSet(caps []string) map[string]bool {
	m := make(map[string]bool, len(caps))
	for _, c := range caps {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c != capAll && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		m[c] = true
	}
	return m
}

func runningKernel() kernelVersion {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return kernelVersion{}
	}
	v, _ := parseKernelVersion(unix.ByteSliceToString(u.Release[:]))
	return v
}

// seccompArches lists, per GOARCH, the seccomp architectures a container may call the kernel
// with: the native one and those its CPU also runs (32-bit x86 and x32 on amd64, arm on arm64).
// (A switch rather than a map: a map literal is built when the program starts.)
func seccompArches(goarch string) []specs.Arch {
	switch goarch {
	case "amd64":
		return []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	case "arm64":
		return []specs.Arch{specs.ArchAARCH64, specs.ArchARM}
	case "386":
		return []specs.Arch{specs.ArchX86}
	case "arm":
		return []specs.Arch{specs.ArchARM}
	case "ppc64le":
		return []specs.Arch{specs.ArchPPC64LE}
	case "s390x":
		return []specs.Arch{specs.ArchS390X, specs.ArchS390}
	case "riscv64":
		return []specs.Arch{specs.ArchRISCV64}
	case "loong64":
		return []specs.Arch{specs.ArchLOONGARCH64}
	case "mips64le":
		return []specs.Arch{specs.ArchMIPSEL64, specs.ArchMIPSEL64N32, specs.ArchMIPSEL}
	}
	return nil
}

// The errno values the default profile returns.
const (
	errnoEPERM  = uint(unix.EPERM)
	errnoENOSYS = uint(unix.ENOSYS)
)

// cloneNamespaceFlags are the CLONE_NEW* flags: NEWNS 0x20000, NEWCGROUP 0x02000000,
// NEWUTS 0x04000000, NEWIPC 0x08000000, NEWUSER 0x10000000, NEWPID 0x20000000,
// NEWNET 0x40000000. Without CAP_SYS_ADMIN clone is allowed only with none of them set.
const cloneNamespaceFlags = 0x7E020000

// DefaultSeccomp returns pea's default seccomp profile for a container whose capability set is
// caps (as from Capabilities), on this machine's architecture and kernel.
//
// Everything not listed fails with EPERM. The allow list covers what programs built on glibc,
// musl or busybox, language runtimes and servers call: files, memory, processes and threads,
// signals, time, sockets, IPC, polling, async I/O. Left out, whatever the capabilities: kexec,
// swap, the kernel keyring (not namespaced), userfaultfd and the obsolete calls (nfsservctl,
// uselib, sysfs, _sysctl, vm86, ustat, modify_ldt, create_module...). Namespace creation
// (unshare, setns, clone with CLONE_NEW* flags), mount and its new API, pivot_root, and handle
// based opens need CAP_SYS_ADMIN; the other privileged calls need their own capability (reboot
// CAP_SYS_BOOT, module loading CAP_SYS_MODULE, clock setting CAP_SYS_TIME...). clone3 fails
// with ENOSYS without CAP_SYS_ADMIN, since its flags live in memory a filter cannot inspect, and
// libc then falls back to clone. io_uring fails with ENOSYS for everyone (podman 4.3 allowed it;
// Docker stopped: its large kernel surface had a long run of exploits), so programs take their
// ordinary I/O path. ptrace is allowed on kernels from 4.8, which closed the seccomp bypass.
func DefaultSeccomp(caps []string) *specs.LinuxSeccomp {
	return defaultSeccompFor(newSeccompTarget(caps))
}

func defaultSeccompFor(t seccompTarget) *specs.LinuxSeccomp {
	errno := errnoEPERM
	p := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &errno,
		Architectures:   seccompArches(t.arch),
	}
	for _, r := range defaultSeccompRules() {
		if ok, _ := r.applies(t); ok {
			p.Syscalls = append(p.Syscalls, r.syscall())
		}
	}
	return p
}

// applies reports whether r is part of the profile for t. The error is for a malformed
// minKernel.
func (r *seccompRule) applies(t seccompTarget) (bool, error) {
	for _, c := range r.Includes.Caps {
		if !t.caps[normalizeCapName(c)] {
			return false, nil
		}
	}
	if len(r.Includes.Arches) > 0 && !archListed(r.Includes.Arches, t.arch) {
		return false, nil
	}
	if r.Includes.MinKernel != "" {
		min, err := parseKernelVersion(r.Includes.MinKernel)
		if err != nil {
			return false, err
		}
		if !t.kernel.atLeast(min) {
			return false, nil
		}
	}
	for _, c := range r.Excludes.Caps {
		if t.caps[normalizeCapName(c)] {
			return false, nil
		}
	}
	if archListed(r.Excludes.Arches, t.arch) {
		return false, nil
	}
	return true, nil
}

// syscall converts r to an OCI rule.
func (r *seccompRule) syscall() specs.LinuxSyscall {
	names := r.Names
	if r.Name != "" {
		names = append([]string{r.Name}, names...)
	}
	s := specs.LinuxSyscall{Names: append([]string(nil), names...), Action: r.Action, Args: r.Args}
	if r.ErrnoRet != nil {
		v := *r.ErrnoRet
		s.ErrnoRet = &v
	}
	return s
}

func normalizeCapName(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

// archAlias gives the GOARCH name of an architecture spelling found in profiles, or the spelling
// itself.
func archAlias(a string) string {
	switch a {
	case "x86_64":
		return "amd64"
	case "aarch64":
		return "arm64"
	case "x86", "i386", "i686":
		return "386"
	}
	return a
}

func archListed(list []string, goarch string) bool {
	for _, a := range list {
		a = strings.ToLower(strings.TrimPrefix(strings.ToUpper(a), "SCMP_ARCH_"))
		if archAlias(a) == goarch {
			return true
		}
	}
	return false
}

func seccompAllow(names ...string) seccompRule {
	sort.Strings(names)
	return seccompRule{Names: names, Action: specs.ActAllow}
}

func seccompAllowCap(c string, names ...string) seccompRule {
	r := seccompAllow(names...)
	r.Includes.Caps = []string{c}
	return r
}

func seccompFail(errno uint, names ...string) seccompRule {
	sort.Strings(names)
	e := errno
	return seccompRule{Names: names, Action: specs.ActErrno, ErrnoRet: &e}
}

// defaultSeccompRules is the default profile before it is fitted to a container.
func defaultSeccompRules() []seccompRule {
	var rules []seccompRule
	add := func(r seccompRule) { rules = append(rules, r) }

	add(seccompAllow(defaultAllowedSyscalls()...))

	// personality(2) only with the harmless personas: PER_LINUX, PER_LINUX32, UNAME26 and
	// their combinations, and the 0xffffffff query.
	for _, persona := range []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		r := seccompAllow("personality")
		r.Args = []specs.LinuxSeccompArg{{Index: 0, Value: persona, Op: specs.OpEqualTo}}
		add(r)
	}

	// ptrace could bypass seccomp before 4.8.
	r := seccompAllow("ptrace", "process_vm_readv", "process_vm_writev")
	r.Includes.MinKernel = "4.8"
	add(r)

	r = seccompAllow("arch_prctl")
	r.Includes.Arches = []string{"amd64", "386"}
	add(r)
	r = seccompAllow("breakpoint", "cacheflush", "set_tls")
	r.Includes.Arches = []string{"arm", "arm64"}
	add(r)

	// Without CAP_SYS_ADMIN: clone without namespace flags, clone3 reported as missing.
	r = seccompAllow("clone")
	r.Args = []specs.LinuxSeccompArg{{Index: 0, Value: cloneNamespaceFlags, ValueTwo: 0, Op: specs.OpMaskedEqual}}
	r.Excludes.Caps = []string{"CAP_SYS_ADMIN"}
	add(r)
	r = seccompFail(errnoENOSYS, "clone3")
	r.Excludes.Caps = []string{"CAP_SYS_ADMIN"}
	add(r)

	add(seccompFail(errnoENOSYS, "io_uring_setup", "io_uring_enter", "io_uring_register"))

	add(seccompAllowCap("CAP_SYS_ADMIN",
		"clone", "clone3", "unshare", "setns",
		"mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree",
		"fsopen", "fsconfig", "fsmount", "fspick", "pivot_root",
		"name_to_handle_at", "lookup_dcookie", "quotactl", "quotactl_fd",
		"sethostname", "setdomainname", "fanotify_init", "syslog", "bpf", "perf_event_open"))
	add(seccompAllowCap("CAP_SYS_BOOT", "reboot"))
	add(seccompAllowCap("CAP_SYS_MODULE", "init_module", "finit_module", "delete_module"))
	add(seccompAllowCap("CAP_SYS_PACCT", "acct"))
	add(seccompAllowCap("CAP_SYS_PTRACE", "kcmp", "pidfd_getfd", "process_madvise"))
	r = seccompAllowCap("CAP_SYS_RAWIO", "iopl", "ioperm")
	r.Includes.Arches = []string{"amd64", "386"}
	add(r)
	add(seccompAllowCap("CAP_SYS_TIME", "settimeofday", "stime", "clock_settime", "clock_settime64",
		"adjtimex", "clock_adjtime", "clock_adjtime64"))
	add(seccompAllowCap("CAP_SYS_TTY_CONFIG", "vhangup"))
	add(seccompAllowCap("CAP_SYS_NICE", "mbind", "set_mempolicy", "set_mempolicy_home_node",
		"migrate_pages", "move_pages"))
	add(seccompAllowCap("CAP_SYSLOG", "syslog"))
	add(seccompAllowCap("CAP_BPF", "bpf"))
	add(seccompAllowCap("CAP_PERFMON", "perf_event_open"))
	add(seccompAllowCap("CAP_DAC_READ_SEARCH", "open_by_handle_at"))
	return rules
}

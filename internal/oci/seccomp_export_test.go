package oci

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Hooks for the external tests: the profile for a fixed machine, so that golden files and
// expectations do not depend on where the tests run.

func seccompTargetForTest(caps []string, goarch, kernel string) seccompTarget {
	v, err := parseKernelVersion(kernel)
	if err != nil {
		panic(err)
	}
	return seccompTarget{caps: capSet(caps), arch: goarch, kernel: v}
}

// DefaultSeccompForTest is DefaultSeccomp on architecture goarch with kernel "major.minor".
func DefaultSeccompForTest(caps []string, goarch, kernel string) *specs.LinuxSeccomp {
	return defaultSeccompFor(seccompTargetForTest(caps, goarch, kernel))
}

// ParseSeccompProfileForTest is ParseSeccompProfile on architecture goarch with kernel "major.minor".
func ParseSeccompProfileForTest(data []byte, caps []string, goarch, kernel string) (*specs.LinuxSeccomp, error) {
	return parseSeccompProfile(data, seccompTargetForTest(caps, goarch, kernel))
}

// HostCapabilitiesForTest is AllCapabilities read from the proc tree at proc.
var HostCapabilitiesForTest = hostCapabilities

// CapabilityNumberForTest returns the kernel's number for a capability, or -1.
func CapabilityNumberForTest(name string) int {
	for i, c := range capNames {
		if c == name {
			return i
		}
	}
	return -1
}

// ErrRelayoutNoGainForTest is relayoutSeccomp's answer for a filter that already loads fast.
var ErrRelayoutNoGainForTest = errBPFNoGain

// RelayoutSeccompForTest is relayoutSeccomp, and it checks the result against b as
// TestRelayoutAgreesWithLibseccomp does; it returns how many syscall numbers' actions depend
// on arguments.
func RelayoutSeccompForTest(b []byte) (int, error) {
	q, err := relayoutSeccomp(b)
	if err != nil {
		return 0, err
	}
	po, err := decodeBPF(b)
	if err != nil {
		return 0, err
	}
	pq, err := decodeBPF(q)
	if err != nil {
		return 0, err
	}
	return filtersAgree(po, pq)
}

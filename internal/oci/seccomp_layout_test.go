package oci

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

const (
	auditArchX86_64  = 0xc000003e
	auditArchI386    = 0x40000003
	auditArchAarch64 = 0xc00000b7
	x32Bit           = 0x40000000
)

// libseccompDefault is the filter crun 1.8.1 (libseccomp 2.5.4) compiled from pea's default
// profile for the default capabilities on x86_64: 986 instructions.
func libseccompDefault(t *testing.T) []bpfInsn {
	t.Helper()
	b, err := os.ReadFile("testdata/seccomp-default.libseccomp.bpf")
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodeBPF(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func relaidOut(t *testing.T, p []bpfInsn) []bpfInsn {
	t.Helper()
	b, err := relayoutSeccomp(encodeBPF(p))
	if err != nil {
		t.Fatal(err)
	}
	q, err := decodeBPF(b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// The relaid-out filter takes the same action as libseccomp's for every system call number of
// x86_64, x32 and i386 (and for an architecture the filter does not name), with no arguments
// read where libseccomp's reads none, and with many argument values where it does.
func TestRelayoutAgreesWithLibseccomp(t *testing.T) {
	orig := libseccompDefault(t)
	q := relaidOut(t, orig)
	dependent, err := filtersAgree(orig, q)
	if err != nil {
		t.Fatal(err)
	}
	// personality and clone on x86_64, x32 and i386 test their first argument.
	if dependent < 6 {
		t.Errorf("only %d system calls whose action depends on arguments; the test data is not the default profile's", dependent)
	}
}

// filtersAgree runs both filters on every number below 1200 of x86_64 (with and without the
// x32 bit), i386, aarch64 and an unknown architecture, and 200 random ones; where the action
// depends on the arguments, with the samples the relayout checks and 300 random argument
// sets. It returns how many numbers' actions depend on the arguments.
func filtersAgree(orig, q []bpfInsn) (int, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var nrs []uint32
	for nr := uint32(0); nr < 1200; nr++ {
		nrs = append(nrs, nr, x32Bit+nr)
	}
	for i := 0; i < 200; i++ {
		nrs = append(nrs, rng.Uint32())
	}
	dependent := 0
	for _, arch := range []uint32{auditArchX86_64, auditArchI386, auditArchAarch64, 0} {
		for _, nr := range nrs {
			x, y := bothRun(orig, q, arch, nr, nil)
			if x != y {
				return 0, fmt.Errorf("arch %#x nr %#x: libseccomp %s, relaid out %s", arch, nr, x, y)
			}
			if x != errBPFArgs.Error() {
				continue
			}
			dependent++
			samples := argSamples(orig, arch, nr)
			for i := 0; i < 300; i++ {
				var a [6]uint64
				for j := range a {
					a[j] = rng.Uint64()
					if rng.IntN(2) == 0 {
						a[j] &= 0xffffffff
					}
				}
				samples = append(samples, a)
			}
			for _, a := range samples {
				if x, y := bothRun(orig, q, arch, nr, &a); x != y {
					return 0, fmt.Errorf("arch %#x nr %#x args %#x: libseccomp %s, relaid out %s", arch, nr, a, x, y)
				}
			}
		}
	}
	return dependent, nil
}

// What the kernel does with a filter when it is loaded (and on every system call its cache
// does not cover) is run it: the relaid-out filter reaches its action in a few steps, where
// libseccomp's walks its chain.
func TestRelayoutCutsTheKernelsWork(t *testing.T) {
	orig := libseccompDefault(t)
	q := relaidOut(t, orig)
	work := func(p []bpfInsn) (steps int) {
		for _, arch := range []uint32{auditArchX86_64, auditArchI386} {
			for nr := uint32(0); nr < 512; nr++ {
				r := &bpfRun{arch: arch, nr: nr}
				r.run(p)
				steps += r.steps
			}
		}
		return steps
	}
	if len(q) >= len(orig) {
		t.Errorf("relaid out: %d instructions, libseccomp's %d: it should keep only the parts that test arguments", len(q), len(orig))
	}
	before, after := work(orig), work(q)
	t.Logf("steps over 1024 system calls: %d -> %d", before, after)
	if after*10 > before {
		t.Errorf("relaid out: %d steps, libseccomp's %d", after, before)
	}
}

// A filter that does with the number or the architecture more than compare them with
// constants is left as it is.
func TestRelayoutDeclinesWhatItCannotFollow(t *testing.T) {
	ret := func(k uint32) bpfInsn { return bpfInsn{code: bpfRetK, k: k} }
	for name, p := range map[string][]bpfInsn{
		"arithmetic on the number": {
			{code: bpfLdAbsW, k: seccompArchOff}, {code: bpfJeqK, jt: 0, jf: 3, k: auditArchX86_64},
			{code: bpfLdAbsW, k: seccompNrOff}, {code: bpfAndK, k: 0xff}, {code: bpfJeqK, jt: 0, jf: 1, k: 1},
			ret(0x7fff0000), ret(0),
		},
		"an order on the architecture": {
			{code: bpfLdAbsW, k: seccompArchOff}, {code: bpfJgtK, jt: 0, jf: 1, k: auditArchI386},
			ret(0x7fff0000), ret(0),
		},
		"0 named as an architecture": {
			{code: bpfLdAbsW, k: seccompArchOff}, {code: bpfJeqK, jt: 0, jf: 1, k: 0},
			ret(0x7fff0000), ret(0),
		},
		"an unknown instruction": {
			{code: bpfLdAbsW, k: seccompArchOff}, {code: 0x00 /* ld imm */, k: 1}, ret(0),
		},
	} {
		if _, err := relayoutSeccomp(encodeBPF(p)); err == nil {
			t.Errorf("%s: relaid out", name)
		}
	}
	if _, err := relayoutSeccomp([]byte{1, 2, 3}); err == nil {
		t.Error("3 bytes: relaid out")
	}
}

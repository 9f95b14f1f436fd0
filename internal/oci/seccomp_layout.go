package oci

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The filter libseccomp compiles for pea's default profile (through crun) is 986 classic BPF
// instructions: for each architecture, one comparison per system call, in a chain. Loading it
// costs the kernel 0.75-1.4 ms, in the container's first process, on the way of every start
// and exec: since Linux 5.11 seccomp(2) runs the filter once for every system call number of
// the native and compat architectures, to learn which ones it always allows (its action
// cache), and each of those runs walks the chain. relayoutSeccomp rewrites that program as a
// dispatch on the architecture and, per architecture, a binary search over ranges of system
// call numbers that ends in the action the program takes for that range; where the action
// depends on the arguments (personality, clone), the search ends in the part of the program
// that tests them, for that number (residualize). The kernel's runs then take ~10 steps each:
// the same filter, 660 instructions instead of 986, loads in ~0.11 ms (C, 15 loads each: 750
// against 107-118 µs).
//
// The new program is derived from the old one alone, by running it: no syscall table, no
// reading of the profile. An action as a function of the number is constant between the
// constants the program compares the number with, so running it once at each constant it
// compares anything with and their neighbours gives it whole, provided the program only compares the number and the
// architecture for equality or order with constants and does no arithmetic on them (checked
// while running; anything else and relayoutSeccomp declines). Before it is returned, both
// programs are run on every such number for every architecture the program names and one it
// does not, with several argument values where the action depends on them, and must agree.

// bpfInsn is one classic BPF instruction (struct sock_filter).
type bpfInsn struct {
	code   uint16
	jt, jf uint8
	k      uint32
}

const (
	bpfLdAbsW = 0x20 // A = data[k] (32 bits)
	bpfJa     = 0x05
	bpfJeqK   = 0x15
	bpfJgtK   = 0x25
	bpfJgeK   = 0x35
	bpfJsetK  = 0x45
	bpfRetK   = 0x06
	bpfAndK   = 0x54

	seccompNrOff   = 0 // struct seccomp_data: nr, arch, instruction_pointer, args[6]
	seccompArchOff = 4
	seccompArgsOff = 16
	seccompDataLen = 64

	bpfMaxInsns = 4096 // BPF_MAXINSNS
)

func decodeBPF(b []byte) ([]bpfInsn, error) {
	if len(b) == 0 || len(b)%8 != 0 || len(b)/8 > bpfMaxInsns {
		return nil, fmt.Errorf("not a BPF program: %d bytes", len(b))
	}
	p := make([]bpfInsn, len(b)/8)
	for i := range p {
		s := b[i*8:]
		p[i] = bpfInsn{binary.LittleEndian.Uint16(s), s[2], s[3], binary.LittleEndian.Uint32(s[4:])}
	}
	return p, nil
}

func encodeBPF(p []bpfInsn) []byte {
	b := make([]byte, 0, len(p)*8)
	for _, in := range p {
		b = binary.LittleEndian.AppendUint16(b, in.code)
		b = append(b, in.jt, in.jf)
		b = binary.LittleEndian.AppendUint32(b, in.k)
	}
	return b
}

// What the accumulator holds, for the checks that make the search's derivation sound.
type bpfTaint uint8

const (
	fromConst bpfTaint = iota
	fromNr
	fromArch
	fromArgs
)

var (
	errBPFUnfollowed = errors.New("the filter does what the relayout does not follow")
	errBPFArgs       = errors.New("the action depends on more than the number") // not an error: a fall-through
)

// bpfRun is one run of a filter on a system call.
type bpfRun struct {
	arch, nr uint32
	args     *[6]uint64 // nil: reading the arguments (or the instruction pointer) stops the run with errBPFArgs
	onCmp    func(t bpfTaint, k uint32)
	steps    int // instructions run
}

// run returns the filter's action. It follows only what libseccomp emits and the checks need:
// 32-bit loads of seccomp_data, comparisons with constants, AND with a constant on what was
// loaded from the arguments, jumps and returns.
func (r *bpfRun) run(p []bpfInsn) (uint32, error) {
	var a uint32
	t := fromConst
	r.steps = 0
	for pc := 0; ; pc++ {
		if pc >= len(p) || r.steps > 1<<16 {
			return 0, errBPFUnfollowed
		}
		r.steps++
		in := p[pc]
		switch in.code {
		case bpfLdAbsW:
			switch off := in.k; {
			case off == seccompNrOff:
				a, t = r.nr, fromNr
			case off == seccompArchOff:
				a, t = r.arch, fromArch
			case off >= seccompArgsOff && off+4 <= seccompDataLen && off%4 == 0:
				if r.args == nil {
					return 0, errBPFArgs
				}
				v := r.args[(off-seccompArgsOff)/8]
				if (off-seccompArgsOff)%8 == 4 {
					v >>= 32
				}
				a, t = uint32(v), fromArgs
			default: // the instruction pointer, or out of bounds
				if r.args == nil {
					return 0, errBPFArgs
				}
				return 0, errBPFUnfollowed
			}
		case bpfAndK:
			if t != fromArgs && t != fromConst {
				return 0, errBPFUnfollowed
			}
			a &= in.k
		case bpfJeqK, bpfJgtK, bpfJgeK, bpfJsetK:
			if in.code == bpfJsetK && (t == fromNr || t == fromArch) {
				return 0, errBPFUnfollowed
			}
			if t == fromArch && in.code != bpfJeqK {
				return 0, errBPFUnfollowed
			}
			if r.onCmp != nil {
				r.onCmp(t, in.k)
			}
			if bpfCond(in, a) {
				pc += int(in.jt)
			} else {
				pc += int(in.jf)
			}
		case bpfJa:
			pc += int(in.k)
		case bpfRetK:
			return in.k, nil
		default:
			return 0, errBPFUnfollowed
		}
	}
}

// bpfCond is the outcome of conditional jump in with the accumulator at a.
func bpfCond(in bpfInsn, a uint32) bool {
	switch in.code {
	case bpfJeqK:
		return a == in.k
	case bpfJgtK:
		return a > in.k
	case bpfJgeK:
		return a >= in.k
	default:
		return a&in.k != 0
	}
}

// residualize returns the part of filter p that decides the action for system call nr of
// architecture arch: p run with both known, where only what depends on the rest of the
// system call's data is kept — its loads, its ANDs, its comparisons (each followed by two
// jumps, so that no conditional jump is too long) and its returns. The code is self-contained:
// its jumps stay inside it, forward, as p's do.
func residualize(p []bpfInsn, arch, nr uint32) ([]bpfInsn, error) {
	// A piece of code starts at an instruction of p with the accumulator known (a value from
	// the number, the architecture or a constant) or not (loaded from the rest of the data).
	type state struct {
		pc    int
		known bool
		a     uint32
	}
	type piece struct {
		code    []bpfInsn
		jumps   []int   // the indices in code of the jumps to other pieces,
		targets []state // and their pieces
	}
	pieces := map[state]*piece{}
	var build func(st state) error
	build = func(st state) error {
		if _, ok := pieces[st]; ok {
			return nil
		}
		pc := &piece{}
		pieces[st] = pc
		at, known, a := st.pc, st.known, st.a
		for {
			if at >= len(p) {
				return errBPFUnfollowed
			}
			in := p[at]
			switch in.code {
			case bpfLdAbsW:
				switch {
				case in.k == seccompNrOff:
					known, a = true, nr
				case in.k == seccompArchOff:
					known, a = true, arch
				case in.k%4 == 0 && in.k+4 <= seccompDataLen:
					pc.code = append(pc.code, in)
					known, a = false, 0
				default:
					return errBPFUnfollowed
				}
				at++
			case bpfAndK:
				if known {
					a &= in.k
				} else {
					pc.code = append(pc.code, in)
				}
				at++
			case bpfJeqK, bpfJgtK, bpfJgeK, bpfJsetK:
				t, f := at+1+int(in.jt), at+1+int(in.jf)
				if known {
					if bpfCond(in, a) {
						at = t
					} else {
						at = f
					}
					continue
				}
				pc.code = append(pc.code, bpfInsn{code: in.code, jt: 0, jf: 1, k: in.k},
					bpfInsn{code: bpfJa}, bpfInsn{code: bpfJa})
				pc.jumps = append(pc.jumps, len(pc.code)-2, len(pc.code)-1)
				pc.targets = append(pc.targets, state{pc: t}, state{pc: f})
				if err := build(state{pc: t}); err != nil {
					return err
				}
				return build(state{pc: f})
			case bpfJa:
				at += 1 + int(in.k)
			case bpfRetK:
				pc.code = append(pc.code, in)
				return nil
			default:
				return errBPFUnfollowed
			}
		}
	}
	start := state{pc: 0, known: true} // the accumulator starts at 0
	if err := build(start); err != nil {
		return nil, err
	}
	// p's jumps go forward, so pieces in the order of their first instructions jump forward.
	order := make([]state, 0, len(pieces))
	for st := range pieces {
		order = append(order, st)
	}
	// The start is the only piece at instruction 0; the others follow a branch of p.
	slices.SortFunc(order, func(x, y state) int {
		return cmp.Or(cmp.Compare(x.pc, y.pc), cmp.Compare(b2i(y.known), b2i(x.known)), cmp.Compare(x.a, y.a))
	})
	at := map[state]int{}
	var out []bpfInsn
	for _, st := range order {
		at[st] = len(out)
		out = append(out, pieces[st].code...)
	}
	for _, st := range order {
		pc := pieces[st]
		for i, j := range pc.jumps {
			from, to := at[st]+j, at[pc.targets[i]]
			if to <= from {
				return nil, errBPFUnfollowed
			}
			out[from].k = uint32(to - from - 1)
		}
	}
	return out, nil
}

// relayoutSeccomp returns filter b with the dispatch and searches described above in front of
// it, or an error when it cannot derive them soundly or the result would not agree with b.
func relayoutSeccomp(b []byte) ([]byte, error) {
	orig, err := decodeBPF(b)
	if err != nil {
		return nil, err
	}
	// The architectures the filter names: an architecture no comparison names takes the same
	// way as 0 (only equality is allowed on it), so a run with 0 finds the dispatch's.
	archSet := map[uint32]bool{}
	offDispatch := false
	onArch := func(t bpfTaint, k uint32) {
		if t == fromArch && !archSet[k] {
			offDispatch = true // a comparison of the architecture the dispatch did not show
		}
	}
	if _, err := (&bpfRun{onCmp: func(t bpfTaint, k uint32) {
		if t == fromArch {
			archSet[k] = true
		}
	}}).run(orig); err != nil && !errors.Is(err, errBPFArgs) {
		return nil, err
	}
	archs := sortedKeys(archSet)
	if len(archs) == 0 || archSet[0] {
		return nil, errBPFUnfollowed // 0 must stand for the architectures the filter does not name
	}
	// Where a number's action may change: at every constant the filter compares anything with,
	// and next to it (the number's constants are among them).
	consts := map[uint32]bool{}
	for _, in := range orig {
		switch in.code {
		case bpfJeqK, bpfJgtK, bpfJgeK:
			consts[in.k] = true
		}
	}
	reps := representatives(consts)

	// Any architecture the filter does not name takes the way of 0.
	const other = 0
	blocks := append(slices.Clone(archs), other)

	// Per architecture, the action on each interval [reps[i], reps[i+1]), or, where it
	// depends on the arguments, the part of the filter that decides it (residualize).
	type interval struct {
		from     uint32
		action   uint32
		residual int // index in residuals, or -1
	}
	var residuals [][]bpfInsn
	table := map[uint32][]interval{}
	for _, arch := range blocks {
		var ivs []interval
		for _, nr := range reps {
			iv := interval{from: nr, residual: -1}
			if v, err := (&bpfRun{arch: arch, nr: nr, onCmp: onArch}).run(orig); err == nil {
				iv.action = v
			} else if !errors.Is(err, errBPFArgs) {
				return nil, err
			} else {
				r, err := residualize(orig, arch, nr)
				if err != nil {
					return nil, err
				}
				iv.residual = len(residuals)
				residuals = append(residuals, r)
			}
			if n := len(ivs); n > 0 && iv.residual < 0 && ivs[n-1].residual < 0 && ivs[n-1].action == iv.action {
				continue
			}
			ivs = append(ivs, iv)
		}
		table[arch] = ivs
	}
	if offDispatch {
		return nil, errBPFUnfollowed
	}

	// Emit: load the architecture; a JEQ and a jump to its block per architecture, else a jump
	// to other's; the blocks; the residual parts. Jumps are resolved once everything is placed.
	type fix struct {
		at       int
		block    uint32 // a block's architecture, when residual < 0
		residual int
	}
	var out []bpfInsn
	var fixes []fix
	jumpTo := func(block uint32, residual int) {
		fixes = append(fixes, fix{len(out), block, residual})
		out = append(out, bpfInsn{code: bpfJa})
	}
	out = append(out, bpfInsn{code: bpfLdAbsW, k: seccompArchOff})
	for _, arch := range archs {
		out = append(out, bpfInsn{code: bpfJeqK, jt: 0, jf: 1, k: arch})
		jumpTo(arch, -1)
	}
	jumpTo(other, -1)
	blockAt := map[uint32]int{}
	var search func(ivs []interval)
	search = func(ivs []interval) {
		if len(ivs) == 1 {
			if ivs[0].residual >= 0 {
				jumpTo(0, ivs[0].residual)
			} else {
				out = append(out, bpfInsn{code: bpfRetK, k: ivs[0].action})
			}
			return
		}
		m := len(ivs) / 2
		at := len(out)
		out = append(out, bpfInsn{code: bpfJgeK, k: ivs[m].from}) // below: the next instruction
		search(ivs[:m])
		if d := len(out) - at - 1; d <= 255 {
			out[at].jt = uint8(d)
		} else { // too far for a conditional jump: through a jump placed right after it
			out = slices.Insert(out, at+1, bpfInsn{code: bpfJa})
			for i := range fixes {
				if fixes[i].at > at {
					fixes[i].at++
				}
			}
			out[at].jt, out[at].jf = 0, 1
			out[at+1].k = uint32(len(out) - at - 2)
		}
		search(ivs[m:])
	}
	for _, arch := range blocks {
		blockAt[arch] = len(out)
		out = append(out, bpfInsn{code: bpfLdAbsW, k: seccompNrOff})
		search(table[arch])
	}
	residualAt := make([]int, len(residuals))
	for i, r := range residuals {
		residualAt[i] = len(out)
		out = append(out, r...)
	}
	if len(out) > bpfMaxInsns {
		return nil, fmt.Errorf("the relaid-out filter would have %d instructions", len(out))
	}
	for _, f := range fixes {
		to := blockAt[f.block]
		if f.residual >= 0 {
			to = residualAt[f.residual]
		}
		out[f.at].k = uint32(to - f.at - 1)
	}

	// Both must agree everywhere the derivation looked, and, where the action depends on the
	// arguments, for argument values around every constant they are compared with.
	for _, arch := range append([]uint32{0, 0xffffffff}, archs...) {
		for _, nr := range reps {
			x, y := bothRun(orig, out, arch, nr, nil)
			if x != y {
				return nil, fmt.Errorf("relaid-out filter disagrees for arch %#x nr %d", arch, nr)
			}
			if x != errBPFArgs.Error() {
				continue
			}
			for _, args := range argSamples(orig, arch, nr) {
				if x, y := bothRun(orig, out, arch, nr, &args); x != y {
					return nil, fmt.Errorf("relaid-out filter disagrees for arch %#x nr %d args %#x", arch, nr, args)
				}
			}
		}
	}
	if loadCost(out, archs) >= loadCost(orig, archs) {
		return nil, errBPFNoGain
	}
	return encodeBPF(out), nil
}

// errBPFNoGain: the relaid-out filter would not load faster (a short filter already does).
var errBPFNoGain = errors.New("the relaid-out filter would load no faster")

// loadCost estimates what loading filter p costs the kernel, in interpreter steps: its runs of
// the filter for each system call number (the action cache; taken here for numbers below 1024
// of each architecture the filter names) plus, for the JIT, 60 steps an instruction. Fitted to
// loads measured here: libseccomp's 986-instruction default filter (296,211 steps) 750 µs, its
// 660-instruction relayout (12,905) 110 µs, a 988-instruction chain 2.4 ms — ~2.1 ns a step
// and ~125 ns an instruction.
func loadCost(p []bpfInsn, archs []uint32) int {
	cost := 60 * len(p)
	for _, arch := range archs {
		for nr := uint32(0); nr < 1024; nr++ {
			r := &bpfRun{arch: arch, nr: nr}
			r.run(p)
			cost += r.steps
		}
	}
	return cost
}

// bothRun runs both programs on one system call; a result is the action, or the error's text.
func bothRun(p, q []bpfInsn, arch, nr uint32, args *[6]uint64) (string, string) {
	str := func(prog []bpfInsn) string {
		v, err := (&bpfRun{arch: arch, nr: nr, args: args}).run(prog)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(v)
	}
	return str(p), str(q)
}

// representatives are the numbers at which an action can change: each constant, its
// neighbours, and both ends.
func representatives(consts map[uint32]bool) []uint32 {
	set := map[uint32]bool{0: true, 0xffffffff: true}
	for k := range consts {
		set[k] = true
		set[k-1] = true
		set[k+1] = true
	}
	return sortedKeys(set)
}

// argSamples are argument values for checking a system call whose action depends on them:
// for every constant the arguments are compared with or masked by on its way (with all
// arguments zero), that value in the low and the high half of each argument, with a stray bit,
// complemented, and zero and all ones.
func argSamples(p []bpfInsn, arch, nr uint32) [][6]uint64 {
	consts := map[uint32]bool{}
	var zero [6]uint64
	r := &bpfRun{arch: arch, nr: nr, args: &zero, onCmp: func(t bpfTaint, k uint32) {
		if t == fromArgs {
			consts[k] = true
		}
	}}
	r.run(p)
	for _, in := range p {
		if in.code == bpfAndK {
			consts[in.k] = true
		}
	}
	vals := map[uint64]bool{0: true, ^uint64(0): true, 1 << 32: true, 1 << 63: true}
	for k := range consts {
		v := uint64(k)
		for _, x := range []uint64{v, v << 32, v | 1<<40, v ^ 1, ^v & 0xffffffff, ^v} {
			vals[x] = true
		}
	}
	var out [][6]uint64
	for _, v := range sortedKeys(vals) {
		for i := 0; i < 6; i++ {
			var a [6]uint64
			a[i] = v
			out = append(out, a)
		}
	}
	return out
}

func sortedKeys[K uint32 | uint64](m map[K]bool) []K {
	ks := make([]K, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

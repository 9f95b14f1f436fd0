// Command linkorder builds, for scripts/build.sh, a Go linker that lays out pea's functions in
// the order a file gives, and a -toolexec program that makes `go build` use it. Printed on
// stdout: the -toolexec program's path.
//
// Why: an installed pea runs from page-cache pages that exec reads back from disk, in small
// folios, and each page fault on the binary maps at most the 64 KiB around it (the kernel's
// fault-around). The linker lays functions out package by package, so the few hundred that a
// short command runs lie scattered over the 5 MiB of text: an empty `pea ps -a` took 68 faults
// on text alone. With the functions that the short commands run gathered at the start of the
// text (cmd/pea/linkorder.txt, written by scripts/linkorder.sh from perf samples of those
// commands), and in each data section the data they refer to, it takes 28-41, of which a dozen
// are in SQLite's C and musl, which the Go linker does not lay out; ~310 faults in all instead
// of ~350. Measured on the 2-core VM (goab, 400-500 interleaved runs, binaries read back from
// disk, four pairs of builds): empty `ps -a` 1.69-1.92 -> 1.54-1.78 ms, 0.1-0.15 ms less each
// time; `version` 1.44 -> 1.30 ms. (bench/RESULTS.md, "Thirteenth session", has the figures and
// what was tried and dropped.)
//
// The change to the linker is one call in textaddress, where -randlayout shuffles the same list,
// and one added file (the order it applies); functions the file does not name keep their order,
// after the named ones, and names the linker does not know (renamed functions, C functions) are
// ignored, so a stale file costs speed, never correctness. The linker's -V=full line, which `go
// build` keys its cache on, carries a hash of the change and of the file, so that a new order
// relinks. As tools/rtpatch's edits, the change is made to the installed toolchain's own source
// as text anchored on lines that must occur once (tools/internal/srcedit): on a Go it does not
// fit, linkorder fails, writing nothing, build.sh links with the toolchain's linker and says so,
// and the test in this directory fails.
package main

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"pea/tools/internal/srcedit"
)

var edits = []srcedit.Edit{
	{File: "cmd/link/internal/ld/data.go", Old: `
	// Sort the text symbols by type, so that FIPS symbols are
	// gathered together, with the FIPS start and end symbols
	// bracketing them , even if we've randomized the overall order.
`, New: `
	peaOrderText(ctxt)

	// Sort the text symbols by type, so that FIPS symbols are
	// gathered together, with the FIPS start and end symbols
	// bracketing them , even if we've randomized the overall order.
`},
	{File: "cmd/link/internal/ld/data.go", Old: `
	} else {
		// PCLNTAB was built internally, and already has the proper order.
	}
`, New: `
	} else {
		// PCLNTAB was built internally, and already has the proper order.
	}
	if sortBySize && symn != sym.SPCLNTAB {
		peaOrderData(sl, zerobase)
	}
`},
}

// added is a file added to the linker's package ld: the order textaddress applies.
const added = `// Added to the linker by pea's tools/linkorder: see its package comment.

package ld

import (
	"math"
	"os"
	"sort"
	"strings"

	"cmd/link/internal/loader"
)

// peaOrderText moves the functions that the file named by $PEA_LINK_ORDER lists (one name per
// line; blank lines and lines starting with # are skipped) to the start of the text, in the
// file's order. The others follow in the order they had. What stays in place is what
// -randlayout leaves in place: the build ID and the C symbols ahead of the Go ones.
func peaOrderText(ctxt *Link) {
	file := os.Getenv("PEA_LINK_ORDER")
	if file == "" {
		return
	}
	b, err := os.ReadFile(file)
	if err != nil {
		Exitf("PEA_LINK_ORDER: %v", err)
	}
	rank := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if _, dup := rank[l]; !dup {
			rank[l] = len(rank)
		}
	}
	ldr := ctxt.loader
	textp := ctxt.Textp
	i := 0
	if len(textp) > 0 && ldr.SymName(textp[0]) == "go:buildid" {
		i++
	}
	for i < len(textp) && (ldr.SubSym(textp[i]) != 0 || ldr.AttrSubSymbol(textp[i])) {
		i++
	}
	textp = textp[i:]
	keys := make(map[loader.Sym]int, len(textp))
	for _, s := range textp {
		k, ok := rank[ldr.SymName(s)]
		if !ok {
			k = len(rank)
		}
		keys[s] = k
	}
	sort.SliceStable(textp, func(a, b int) bool { return keys[textp[a]] < keys[textp[b]] })

	// The data those functions refer to, and the data that data refers to (a type's element
	// types, an itab's type), ranked by the first function that reaches it.
	peaDataRank = map[loader.Sym]int{}
	var reached []loader.Sym
	for i, s := range textp {
		if keys[s] == len(rank) {
			break
		}
		reached = peaRankRefs(ldr, s, i, reached)
	}
	for _, d := range reached {
		peaRankRefs(ldr, d, peaDataRank[d], nil)
	}
	// (Ranking first all itabs and the types they name, which the runtime's itabsinit reads at
	// every start, was tried, from dodata, once typelink has listed the itabs: 10 more page
	// faults for an empty listing, as it pushed the rest further out.)
}

// peaDataRank holds, once peaOrderText has run, the rank of each symbol that the ordered
// functions reach. It is only read after that, by dodataSect's goroutines.
var peaDataRank map[loader.Sym]int

// peaRankRefs gives the symbols s refers to that have no rank yet the rank r, and returns them
// appended to list.
func peaRankRefs(ldr *loader.Loader, s loader.Sym, r int, list []loader.Sym) []loader.Sym {
	relocs := ldr.Relocs(s)
	for i := 0; i < relocs.Count(); i++ {
		t := relocs.At(i).Sym()
		if t == 0 {
			continue
		}
		if o := ldr.OuterSym(t); o != 0 {
			t = o
		}
		if _, ranked := peaDataRank[t]; !ranked {
			peaDataRank[t] = r
			list = append(list, t)
		}
	}
	return list
}

// peaOrderData puts the data symbols of one section that the ordered functions reach first, in
// the order of the first function that reaches each, so that a short command touches fewer pages
// of data too. The rest follow as dodataSect sorted them (by size); zero-sized symbols and
// runtime.zerobase, which must share an address, stay at the start.
func peaOrderData(sl []symNameSize, zerobase loader.Sym) {
	if peaDataRank == nil {
		return
	}
	key := func(e symNameSize) int {
		if e.sz == 0 || e.sym == zerobase {
			return -1
		}
		if r, ok := peaDataRank[e.sym]; ok {
			return r
		}
		return math.MaxInt
	}
	sort.SliceStable(sl, func(i, j int) bool { return key(sl[i]) < key(sl[j]) })
}
`

func main() {
	goroot := flag.String("goroot", "", "the toolchain's GOROOT (go env GOROOT)")
	out := flag.String("o", "", "directory to build the linker and write the -toolexec program in")
	order := flag.String("order", "", "the file of function names, hottest first")
	flag.Parse()
	if *goroot == "" || *out == "" || *order == "" {
		fmt.Fprintln(os.Stderr, "usage: linkorder -goroot DIR -o DIR -order FILE")
		os.Exit(2)
	}
	path, err := build(*goroot, *out, *order)
	if err != nil {
		fmt.Fprintln(os.Stderr, "linkorder:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}

// build builds the changed linker into dir and writes the -toolexec program beside it; it
// returns the program's path.
func build(goroot, dir, order string) (string, error) {
	files, err := srcedit.Apply(goroot, edits, map[string]string{"cmd/link/internal/ld/pea_linkorder.go": added})
	if err != nil {
		return "", err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", err
	}
	if order, err = filepath.Abs(order); err != nil {
		return "", err
	}
	orderText, err := os.ReadFile(order)
	if err != nil {
		return "", err
	}
	for _, p := range []string{dir, order} {
		if strings.ContainsAny(p, "'\n") {
			return "", fmt.Errorf("%q: a path with a quote or a newline cannot go into a shell script", p)
		}
	}
	overlay, err := srcedit.WriteOverlay(filepath.Join(dir, "src"), files)
	if err != nil {
		return "", err
	}
	link := filepath.Join(dir, "link")
	cmd := exec.Command(filepath.Join(goroot, "bin", "go"), "build", "-overlay", overlay, "-o", link, "cmd/link")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building the linker: %w", err)
	}
	// The hash of everything that makes this linker's output differ from the toolchain's.
	h := sha256.New()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(h, "%s\x00%s\x00", filepath.Base(n), files[n])
	}
	h.Write(orderText)
	script := fmt.Sprintf(toolexec, link, fmt.Sprintf("%x", h.Sum(nil))[:16], order)
	p := filepath.Join(dir, "toolexec")
	return p, srcedit.WriteIfChanged(p, script, 0o755)
}

// toolexec is the -toolexec program: it runs every tool as it is but the linker. Its -V=full
// line is what `go build` keys its cache on, so it names the change and the order.
const toolexec = `#!/bin/sh
# Written by pea's tools/linkorder for scripts/build.sh.
case "$1" in
*/link)
	shift
	if [ "$1" = -V=full ]; then
		v=$('%[1]s' -V=full) || exit 1
		echo "$v pea-linkorder=%[2]s"
		exit 0
	fi
	PEA_LINK_ORDER='%[3]s' exec '%[1]s' "$@"
	;;
esac
exec "$@"
`

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// symbols returns the addresses of a binary's symbols by name, as go tool nm lists them.
func symbols(t *testing.T, bin string) map[string]uint64 {
	out, err := exec.Command("go", "tool", "nm", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	syms := map[string]uint64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		a, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		syms[strings.Join(f[2:], " ")] = a
	}
	return syms
}

const program = `package main

import "os"

var sink []byte

//go:noinline
func first() { sink = make([]byte, 10) }

//go:noinline
func second() { os.Stdout.WriteString("second\n") }

//go:noinline
func third() { os.Stdout.WriteString("third\n") }

// coldTable is reached only from cold; hotTable, as large and declared after it (so that the
// linker would otherwise put it second), only from fourth, which the order names.
var coldTable = [64]int{4, 5, 6}
var hotTable = [64]int{1, 2, 3}

//go:noinline
func fourth() int { return hotTable[3] }

//go:noinline
func cold() int { return coldTable[3] }

func main() {
	third()
	second()
	first()
	if len(os.Args) > 5 {
		println(fourth(), cold())
	}
}
`

// With the changed linker, the functions the file names come first in the text, in the file's
// order (the linker would otherwise lay out main's functions in source order, after the
// runtime's), and the data they reach comes before data of the same size that they do not.
func TestOrderedLink(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": "module ordered\n\ngo 1.26\n", "main.go": program} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	order := filepath.Join(dir, "order.txt")
	if err := os.WriteFile(order, []byte("# hottest first\nmain.fourth\nmain.third\n\nmain.second\nno.such.function\nmain.first\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	toolexec, err := build(goroot(t), filepath.Join(dir, "link"), order)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ordered")
	cmd := exec.Command("go", "build", "-toolexec", toolexec, "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if out, err := exec.Command(bin).Output(); err != nil || string(out) != "third\nsecond\n" {
		t.Fatalf("the ordered program printed %q (%v)", out, err)
	}
	syms := symbols(t, bin)
	want := []string{"main.fourth", "main.third", "main.second", "main.first", "runtime.main", "main.cold"}
	for i := 1; i < len(want); i++ {
		a, ok1 := syms[want[i-1]]
		b, ok2 := syms[want[i]]
		if !ok1 || !ok2 || a >= b {
			t.Errorf("%s at %#x, %s at %#x: want the first below the second", want[i-1], a, want[i], b)
		}
	}
	if hot, cold := syms["main.hotTable"], syms["main.coldTable"]; hot == 0 || cold == 0 || hot > cold {
		t.Errorf("main.hotTable at %#x, main.coldTable at %#x: want the table a listed function reaches first", hot, cold)
	}

	// A new order relinks: go build keys the link on the -V=full line, which names the order.
	if err := os.WriteFile(order, []byte("main.first\nmain.second\nmain.third\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if toolexec, err = build(goroot(t), filepath.Join(dir, "link"), order); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command("go", "build", "-toolexec", toolexec, "-o", bin, ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	syms = symbols(t, bin)
	if a, b := syms["main.first"], syms["main.third"]; a >= b {
		t.Errorf("after the order changed, main.first at %#x, main.third at %#x: the binary was not relinked", a, b)
	}
}

// The order pea is built with must name functions pea has: a file left behind by large changes
// costs speed silently, and this says to write it again (scripts/linkorder.sh).
func TestPeaOrderIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds pea")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	// pea as scripts/build.sh builds it, with its symbols: the same compiled packages as every
	// other build in the suite (no third compile of SQLite), linked once more.
	bin := filepath.Join(t.TempDir(), "pea")
	cmd := exec.Command("./scripts/build.sh", bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PEA_KEEP_SYMBOLS=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	syms := symbols(t, bin)
	b, err := os.ReadFile(filepath.Join(root, "cmd", "pea", "linkorder.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var named, missing int
	var some []string
	for _, l := range strings.Split(string(b), "\n") {
		// Go's names have a package path; C's (SQLite, musl), which the Go linker does not
		// lay out, have none.
		if l == "" || strings.HasPrefix(l, "#") || !strings.Contains(l, ".") {
			continue
		}
		named++
		if !balanced(l) {
			t.Errorf("cmd/pea/linkorder.txt: %q is cut short (names of generic instantiations hold spaces)", l)
		}
		if _, ok := syms[l]; !ok {
			missing++
			if len(some) < 5 {
				some = append(some, l)
			}
		}
	}
	if named < 1000 {
		t.Fatalf("cmd/pea/linkorder.txt names %d Go functions; scripts/linkorder.sh writes thousands", named)
	}
	if missing*10 > named {
		t.Errorf("%d of the %d functions cmd/pea/linkorder.txt names are not in pea (%s...): run scripts/linkorder.sh", missing, named, strings.Join(some, ", "))
	}
}

// hostNetwork is what a pea network puts on the host: the links, and the firewall's rules.
func hostNetwork(t *testing.T) string {
	var b strings.Builder
	for _, args := range [][]string{{"ip", "-o", "link", "show"}, {"iptables", "-S"}, {"iptables", "-t", "nat", "-S"}} {
		out, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		for _, l := range strings.Split(string(out), "\n") {
			if args[0] == "ip" {
				// "3: pea0: <...> ... link/ether ..." -> the name; counters and states change.
				if f := strings.Fields(l); len(f) > 1 {
					l = f[1]
				}
			}
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// scripts/linkorder.sh runs pods and containers in a store of its own; it must write a usable
// order and leave the host as it found it. Its first version left the network its pods made (a
// bridge and its firewall chains) behind at every run.
func TestLinkorderScript(t *testing.T) {
	if testing.Short() {
		t.Skip("runs containers")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("perf"); err != nil {
		t.Skip("perf is not installed (scripts/deps.sh installs linux-perf)")
	}
	if out, err := exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-o", filepath.Join(t.TempDir(), "probe.data"), "--", "true").CombinedOutput(); err != nil {
		t.Skipf("perf cannot sample here: %v: %s", err, out)
	}
	before := hostNetwork(t)
	out := filepath.Join(t.TempDir(), "order.txt")
	cmd := exec.Command("./scripts/linkorder.sh", "2", out)
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("linkorder.sh: %v: %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var names int
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "runtime.") || strings.HasPrefix(l, "pea/internal/") {
			names++
		}
	}
	if names < 300 {
		t.Errorf("the order names %d functions of the runtime and pea; a sampled run gives hundreds:\n%.2000s", names, b)
	}
	if after := hostNetwork(t); after != before {
		t.Errorf("linkorder.sh changed the host's links or firewall:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// balanced reports whether a symbol name closes every bracket it opens: one cut at a space
// inside "[go.shape.interface { ... }]" does not.
func balanced(name string) bool {
	var open []rune
	for _, r := range name {
		switch r {
		case '(', '[', '{':
			open = append(open, r)
		case ')', ']', '}':
			want := map[rune]rune{')': '(', ']': '[', '}': '{'}[r]
			if len(open) == 0 || open[len(open)-1] != want {
				return false
			}
			open = open[:len(open)-1]
		}
	}
	return len(open) == 0
}

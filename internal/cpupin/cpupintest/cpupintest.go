// Package cpupintest holds what the tests of packages whose threads' timer slack matters
// (cpupin itself, sqlite's busy handler) use to look at it.
package cpupintest

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// Slack is the timer slack (ns) of the process or thread pid ("self", or a TID: /proc/TID has
// the file, the per-task directories under task/ do not).
func Slack(t testing.TB, pid string) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + pid + "/timerslack_ns")
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

package sqlite

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFirstReadAllocatesFewPages checks that a connection's first read does not allocate SQLite's
// page cache in bulk (SQLITE_CONFIG_PAGECACHE in pea_configure): by default SQLite mallocs 20
// cache lines at once and writes into each, twenty fresh pages for a read that uses two or three.
// Page faults are counted in fresh processes, where every page is new: one configured as pea
// configures SQLite, one with SQLite's default bulk of 20 lines.
func TestFirstReadAllocatesFewPages(t *testing.T) {
	if path := os.Getenv("PEA_SQLITE_FAULTS_DB"); path != "" {
		firstReadFaults(path, os.Getenv("PEA_SQLITE_BULK"))
		return
	}
	db, path := open(t)
	for i := range 50 {
		if _, err := db.Exec(`INSERT INTO t (k, v) VALUES (?, ?)`, strconv.Itoa(i), strings.Repeat("v", 100)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	faults := func(bulk string) int64 {
		best := int64(-1)
		for range 3 { // the lowest of three: a stray fault of the Go runtime must not count
			cmd := exec.Command(os.Args[0], "-test.run=^TestFirstReadAllocatesFewPages$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PEA_SQLITE_FAULTS_DB="+path, "PEA_SQLITE_BULK="+bulk)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v: %s", err, out)
			}
			var n int64
			if _, err := fmt.Sscanf(string(out), "faults %d", &n); err != nil {
				t.Fatalf("child said %q", out)
			}
			if best < 0 || n < best {
				best = n
			}
		}
		return best
	}
	ours, sqlites := faults(""), faults("20")
	t.Logf("page faults of an open and a first read: %d as pea configures SQLite, %d with its bulk page cache", ours, sqlites)
	if sqlites-ours < 10 {
		t.Errorf("pea's configuration saves %d page faults (%d against %d); SQLite's bulk page cache allocation is back?", sqlites-ours, ours, sqlites)
	}
}

// firstReadFaults is the child's side: it prints the page faults of an open and a first read.
func firstReadFaults(path, bulk string) {
	if bulk != "" {
		n, _ := strconv.Atoi(bulk)
		if err := setPageCacheBulk(n); err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
	}
	var before, after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	db, err := Open(path, 5*time.Second)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 50 {
		fmt.Println("error", n, err)
		os.Exit(1)
	}
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	fmt.Println("faults", after.Minflt-before.Minflt)
	os.Exit(0)
}

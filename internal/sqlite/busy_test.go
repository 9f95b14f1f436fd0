package sqlite

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
)

// A writer that finds the database locked by another connection waits and gets it once the
// other commits; one that waits past its timeout gets SQLITE_BUSY. While it waits, its thread
// gets the timer slack the process started with, not pea's wide start-up slack, which would
// stretch each short wait by up to 5 ms.
func TestBusyWaitRetriesAndTimesOut(t *testing.T) {
	_, path := open(t)
	holder, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()

	orig := slackOf(t, "self")
	cpupin.SlackWidened(orig)
	defer cpupin.Release()
	waiter, err := Open(path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()

	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO t (k) VALUES ('held')`); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var slackAfter uint64
	var werr error
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 5_000_000, 0, 0, 0); err != nil {
			werr = err
			return
		}
		_, werr = waiter.Exec(`INSERT INTO t (k) VALUES ('waited')`)
		slackAfter = slackOf(t, strconv.Itoa(unix.Gettid()))
	}()
	time.Sleep(30 * time.Millisecond) // the waiter is in its busy wait by now
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	<-done
	if werr != nil {
		t.Fatalf("the waiting writer: %v", werr)
	}
	if slackAfter != orig {
		t.Fatalf("the waiting thread slept with timer slack %d, want the start slack %d", slackAfter, orig)
	}

	// Past the timeout: BUSY.
	impatient, err := Open(path, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	tx, err = holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t (k) VALUES ('held again')`); err != nil {
		t.Fatal(err)
	}
	if _, err := impatient.Exec(`INSERT INTO t (k) VALUES ('late')`); !Busy(err) {
		t.Fatalf("a writer past its timeout: %v, want SQLITE_BUSY", err)
	}
}

// slackOf is the timer slack of the process or thread pid (/proc/TID has the file; the per-task
// directories do not).
func slackOf(t *testing.T, pid string) uint64 {
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

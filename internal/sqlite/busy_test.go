package sqlite

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin"
	"pea/internal/cpupin/cpupintest"
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

	orig := cpupintest.Slack(t, "self")
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
	defer tx.Rollback() // after a failure: the holder's Close waits for its transaction
	if _, err := tx.Exec(`INSERT INTO t (k) VALUES ('held')`); err != nil {
		t.Fatal(err)
	}
	// The waiter's thread has the wide slack; once its busy handler has run, the thread has the
	// start slack, and only then does the holder commit.
	tids := make(chan int, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 5_000_000, 0, 0, 0); err != nil {
			tids <- 0
			done <- err
			return
		}
		tids <- unix.Gettid()
		_, err := waiter.Exec(`INSERT INTO t (k) VALUES ('waited')`)
		done <- err
	}()
	tid := <-tids
	for deadline := time.Now().Add(10 * time.Second); tid != 0 && cpupintest.Slack(t, strconv.Itoa(tid)) != orig; {
		if time.Now().After(deadline) {
			t.Fatalf("the waiting thread still has timer slack %d, want the start slack %d before it sleeps", cpupintest.Slack(t, strconv.Itoa(tid)), orig)
		}
		time.Sleep(time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the waiting writer: %v", err)
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

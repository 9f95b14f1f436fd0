package cpupin

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pea/internal/cpupin/cpupintest"
)

// TestReleaseMovesEveryThread pins every thread to one CPU, as pea's start-up does, makes more
// threads while pinned, and checks that Release moves all of them back and restores GOMAXPROCS.
func TestReleaseMovesEveryThread(t *testing.T) {
	var all unix.CPUSet
	if err := unix.SchedGetaffinity(0, &all); err != nil {
		t.Fatal(err)
	}
	if all.Count() < 2 {
		t.Skip("needs two CPUs")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var one unix.CPUSet
	one.Set(firstCPU(all))
	if err := restoreAll(&one, 0); err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(1)
	Pinned(all)
	if NumCPU() != all.Count() {
		t.Fatalf("NumCPU while pinned: %d, want %d", NumCPU(), all.Count())
	}
	// Threads born while pinned.
	end := lockedThreads(3)
	if err := Release(); err != nil {
		t.Fatal(err)
	}
	end()
	if n := runtime.GOMAXPROCS(0); n != all.Count() {
		t.Fatalf("GOMAXPROCS %d after Release, want %d", n, all.Count())
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		var got unix.CPUSet
		tid := 0
		for _, c := range task.Name() {
			tid = tid*10 + int(c-'0')
		}
		if err := unix.SchedGetaffinity(tid, &got); err != nil {
			continue // the thread is gone
		}
		if got != all {
			b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/status")
			t.Fatalf("thread %d still on %d CPUs: %s", tid, got.Count(), cpusLine(string(b)))
		}
	}
	if err := Release(); err != nil { // a second call is a no-op
		t.Fatal(err)
	}
}

func firstCPU(s unix.CPUSet) int {
	for i := 0; ; i++ {
		if s.IsSet(i) {
			return i
		}
	}
}

func cpusLine(status string) string {
	for _, l := range strings.Split(status, "\n") {
		if strings.HasPrefix(l, "Cpus_allowed_list") {
			return l
		}
	}
	return ""
}

// Every process pea starts must get every CPU (the child inherits the CPU set of the forking
// thread): pea starts them through Command and CommandContext, and the CNI library's plugin
// calls release first. A check of the source, so that a new call site cannot forget.
func TestProcessStartersRelease(t *testing.T) {
	forbidden := []string{"exec.Command(", "exec.CommandContext(", "os.StartProcess(", "syscall.ForkExec("}
	forEachSource(t, func(path string, b []byte) {
		for _, s := range forbidden {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s starts a process with %s; use cpupin.Command or cpupin.CommandContext", path, s)
			}
		}
		if bytes.Contains(b, []byte("invoke.ExecPlugin")) && !bytes.Contains(b, []byte("cpupin.Release()")) {
			t.Errorf("%s runs CNI plugins without cpupin.Release()", path)
		}
	})
}

// forEachSource calls f with the path and contents of every Go file of pea's that is neither a
// test nor in this package.
func forEachSource(t *testing.T, f func(path string, b []byte)) {
	t.Helper()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		if strings.Contains(path, "cpupin") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f(path, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReleaseRestoresTimerSlack widens the timer slack of every thread, as pea's start-up does,
// makes more threads meanwhile, and checks that Release gives every thread, and every process
// started through Command, the slack the process had.
func TestReleaseRestoresTimerSlack(t *testing.T) {
	orig := widenSlack(t)
	end := lockedThreads(3)
	defer end()
	// Threads the runtime creates while Release runs may keep the wide slack (see Start): the
	// threads that were there before are checked, and what Start does for the rest.
	before := taskIDs(t)
	if got := childSlack(t, Start, Command("cat", "/proc/self/timerslack_ns")); got != strconv.FormatUint(orig, 10) {
		t.Fatalf("a process started through Start has timer slack %s, want %d", got, orig)
	}
	for _, tid := range before {
		if _, err := os.Stat("/proc/" + tid); err != nil {
			continue // gone
		}
		if got := cpupintest.Slack(t, tid); got != orig {
			t.Fatalf("thread %s has timer slack %d after Release, want %d", tid, got, orig)
		}
	}
}

// TestStartFromAWideThread: a thread that kept the wide slack (made while Release ran) starts a
// process with the original slack through Start, and has it itself afterwards.
func TestStartFromAWideThread(t *testing.T) {
	orig := widenSlack(t)
	if err := Release(); err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.Prctl(unix.PR_SET_TIMERSLACK, 5000000, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if got := childSlack(t, Start, Command("cat", "/proc/self/timerslack_ns")); got != strconv.FormatUint(orig, 10) {
		t.Fatalf("a process started through Start from a wide thread has timer slack %s, want %d", got, orig)
	}
	if cur, _ := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); uint64(cur) != orig {
		t.Errorf("the thread kept timer slack %d, want %d", cur, orig)
	}
}

// TestSleepRestoresTimerSlack: a verb that sleeps gets precise timers first.
func TestSleepRestoresTimerSlack(t *testing.T) {
	orig := widenSlack(t)
	Sleep(time.Microsecond)
	for _, tid := range taskIDs(t) {
		if got := cpupintest.Slack(t, tid); got != orig {
			t.Fatalf("thread %s has timer slack %d after Sleep, want %d", tid, got, orig)
		}
	}
}

// widenSlack gives every thread a 5 ms timer slack, as pea's start-up does (written here rather
// than through the code under test), records it, and returns the slack the process had.
func widenSlack(t *testing.T) uint64 {
	t.Helper()
	orig := cpupintest.Slack(t, "self")
	for _, tid := range taskIDs(t) {
		if err := os.WriteFile("/proc/"+tid+"/timerslack_ns", []byte("5000000"), 0); err != nil {
			if errors.Is(err, os.ErrPermission) {
				t.Skipf("cannot set the timer slack of another thread (no CAP_SYS_NICE): %v", err)
			}
			if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
				// The thread ended since it was listed: its /proc entry is gone (ENOENT), or
				// still there while it exits (ESRCH, seen once in the suite).
				continue
			}
			t.Fatal(err)
		}
	}
	SlackWidened(orig)
	return orig
}

// childSlack starts cmd (a cat of /proc/self/timerslack_ns) with start and returns what it
// printed: the timer slack the child got.
func childSlack(t *testing.T, start func(*exec.Cmd) error, cmd *exec.Cmd) string {
	t.Helper()
	var out strings.Builder
	cmd.Stdout = &out
	if err := start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String())
}

func taskIDs(t *testing.T) []string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, task := range tasks {
		ids = append(ids, task.Name())
	}
	return ids
}

// pea sleeps only through Sleep and After, which give the threads precise timers first. A check
// of the source, as for Command.
func TestSleepsGoThroughCpupin(t *testing.T) {
	forbidden := []string{"time.Sleep(", "time.After("}
	forEachSource(t, func(path string, b []byte) {
		for _, s := range forbidden {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s sleeps with %s; use cpupin.Sleep or cpupin.After", path, s)
			}
		}
	})
}

// A pea process started pinned gets the slack this one started with, while this one's threads
// keep the wide slack. Only the threads that were there before are checked: one the Go runtime
// starts from the forking thread while its slack is narrowed for the fork inherits the narrow
// one (seen once in a loaded suite run; a thread with precise timers, no error).
func TestStartPinnedHandsOnTheStartSlack(t *testing.T) {
	orig := widenSlack(t)
	defer Release()
	before := taskIDs(t)
	if got := childSlack(t, StartPinned, CommandPinned("cat", "/proc/self/timerslack_ns")); got != strconv.FormatUint(orig, 10) {
		t.Fatalf("the child has timer slack %s, want %d", got, orig)
	}
	for _, tid := range before {
		if _, err := os.Stat("/proc/self/task/" + tid); err != nil {
			continue // ended meanwhile
		}
		if got := cpupintest.Slack(t, tid); got != 5_000_000 {
			t.Fatalf("thread %s has timer slack %d after StartPinned, want the wide 5000000", tid, got)
		}
	}
}

// lockedThreads starts n goroutines locked to threads of their own (so n more threads), and
// returns the function that ends them.
func lockedThreads(n int) func() {
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread()
			ready.Done()
			<-release
		}()
	}
	ready.Wait()
	return func() {
		close(release)
		done.Wait()
	}
}

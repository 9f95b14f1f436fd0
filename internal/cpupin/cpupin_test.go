package cpupin

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
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
	if err := setAll(&one); err != nil {
		t.Fatal(err)
	}
	runtime.GOMAXPROCS(1)
	Pinned(all)
	if NumCPU() != all.Count() {
		t.Fatalf("NumCPU while pinned: %d, want %d", NumCPU(), all.Count())
	}
	// Threads born while pinned: goroutines locked to their own threads.
	var ready, done sync.WaitGroup
	release := make(chan struct{})
	for range 3 {
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
	if err := Release(); err != nil {
		t.Fatal(err)
	}
	close(release)
	done.Wait()
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
		for _, s := range forbidden {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s starts a process with %s; use cpupin.Command or cpupin.CommandContext", path, s)
			}
		}
		if bytes.Contains(b, []byte("invoke.ExecPlugin")) && !bytes.Contains(b, []byte("cpupin.Release()")) {
			t.Errorf("%s runs CNI plugins without cpupin.Release()", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

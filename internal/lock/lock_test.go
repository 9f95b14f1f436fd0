package lock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestExclusiveWithinProcess(t *testing.T) {
	m, err := NewManager(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := m.Lock("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.TryLock("a"); !errors.Is(err, ErrBusy) {
		t.Fatalf("second lock in the same process: %v", err)
	}
	if other, err := m.TryLock("b"); err != nil {
		t.Fatalf("another object: %v", err)
	} else {
		other.Unlock()
	}
	l.Unlock()
	l.Unlock() // twice is fine
	again, err := m.TryLock("a")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again.Unlock()
}

func TestTimeoutNamesHolder(t *testing.T) {
	m, _ := NewManager(t.TempDir())
	m.Timeout = 100 * time.Millisecond
	l, _ := m.Lock("x")
	defer l.Unlock()
	_, err := m.Lock("x")
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("want a timeout naming PID %d, got %v", os.Getpid(), err)
	}
}

func TestMutualExclusion(t *testing.T) {
	m, _ := NewManager(t.TempDir())
	var wg sync.WaitGroup
	counter, inside := 0, 0
	var mu sync.Mutex
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				l, err := m.Lock("shared")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				if inside != 1 {
					t.Error("two holders at once")
				}
				mu.Unlock()
				counter++
				mu.Lock()
				inside--
				mu.Unlock()
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	if counter != 16*50 {
		t.Fatalf("counter %d", counter)
	}
}

func TestRemoveWhileWaiting(t *testing.T) {
	m, _ := NewManager(t.TempDir())
	l, _ := m.Lock("obj")
	got := make(chan error)
	go func() {
		w, err := m.Lock("obj")
		if err == nil {
			// The waiter must hold the lock of the file now at the path, not the unlinked one.
			if !sameFile(w.f, filepath.Join(m.Dir(), "obj")) {
				err = errors.New("waiter holds an unlinked lock file")
			}
			w.Unlock()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l.Remove(m)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestReleasedWhenHolderDies: a process that dies holding a lock does not wedge it. The holder is
// this test binary run again as a helper.
func TestReleasedWhenHolderDies(t *testing.T) {
	if dir := os.Getenv("PEA_LOCK_HELPER_DIR"); dir != "" {
		m, _ := NewManager(dir)
		if _, err := m.Lock("dead"); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=TestReleasedWhenHolderDies")
	cmd.Env = append(os.Environ(), "PEA_LOCK_HELPER_DIR="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper did not lock: %q %v", buf, err)
	}
	m, _ := NewManager(dir)
	_, err := m.TryLock("dead")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("lock held by the helper: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := m.Lock("dead")
	if err != nil {
		t.Fatalf("lock of a dead holder: %v", err)
	}
	l.Unlock()
}

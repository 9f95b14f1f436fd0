package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pea/internal/model"
)

func eventsRuntime(t testing.TB) *Runtime {
	t.Helper()
	r, err := New(Options{Root: t.TempDir(), RunRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The hand-written line reads back as the event, whatever its strings hold.
func TestEventLineRoundTrip(t *testing.T) {
	e := Event{Time: 1234567890123456789, Type: EventContainer, Status: "died", ID: "abc", Name: "we\"b\n",
		Image: "localhost/bb:latest", PodID: "p<d>", Attributes: map[string]string{"z": "1", "a\u2028": "\xff&", "exitCode": "3"}}
	line := e.appendJSON(nil)
	var got Event
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	want := e
	want.Attributes = map[string]string{"z": "1", "a\u2028": "\uFFFD&", "exitCode": "3"}
	wb, _ := json.Marshal(want)
	gb, _ := json.Marshal(got)
	if string(wb) != string(gb) {
		t.Fatalf("read back %s, want %s", gb, wb)
	}
	if ref, _ := json.Marshal(map[string]any{"attributes": want.Attributes}); !json.Valid(line) || len(ref) == 0 {
		t.Fatal("invalid line")
	}
}

// A container's events carry its name, image, pod and labels, and what the event adds, without
// changing the labels the config holds.
func TestContainerEventFields(t *testing.T) {
	r := eventsRuntime(t)
	cfg := &model.ContainerConfig{ID: "c1", Name: "web", ImageName: "localhost/bb:latest", Pod: "p1", Labels: map[string]string{"app": "x"}}
	r.containerEvent(cfg, "died", "exitCode", "3")
	var got []Event
	if err := r.ReadEvents(context.Background(), EventReadOptions{}, func(e *Event) error { got = append(got, *e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d events", len(got))
	}
	e := got[0]
	if e.Type != "container" || e.Status != "died" || e.ID != "c1" || e.Name != "web" || e.Image != "localhost/bb:latest" ||
		e.PodID != "p1" || e.Attributes["app"] != "x" || e.Attributes["exitCode"] != "3" || time.Since(e.TimeOf()) > time.Minute {
		t.Fatalf("event %+v", e)
	}
	if len(cfg.Labels) != 1 {
		t.Fatalf("the config's labels changed: %v", cfg.Labels)
	}
	if fi, err := os.Stat(r.eventsLog()); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v %v", fi, err)
	}
}

// Since and until bound what is read; FromEnd skips what was written before.
func TestReadEventsBounds(t *testing.T) {
	r := eventsRuntime(t)
	for i := 1; i <= 5; i++ {
		r.emit(Event{Time: int64(i) * 1e9, Type: EventVolume, Status: "create", Name: strconv.Itoa(i)})
	}
	names := func(o EventReadOptions) string {
		s := ""
		r.ReadEvents(context.Background(), o, func(e *Event) error { s += e.Name; return nil })
		return s
	}
	if got := names(EventReadOptions{Since: time.Unix(2, 0), Until: time.Unix(4, 0)}); got != "234" {
		t.Fatalf("since 2 until 4: %q", got)
	}
	if got := names(EventReadOptions{FromEnd: true}); got != "" {
		t.Fatalf("from the end: %q", got)
	}
	// A follower whose until has passed stops at the end of the log.
	if got := names(EventReadOptions{Follow: true, Until: time.Unix(3, 0)}); got != "123" {
		t.Fatalf("follow until 3: %q", got)
	}
}

// Writers racing across many rotations: a follower sees every event once, and the two files
// stay bounded.
func TestEventsRotationLosesNothing(t *testing.T) {
	r := eventsRuntime(t)
	const max = 16 << 10
	saved := eventsLogMax
	eventsLogMax = func() int64 { return max }
	defer func() { eventsLogMax = saved }()
	r.emit(Event{Type: EventVolume, Status: "create", Name: "first"}) // the log exists

	const writers, each = 4, 400
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	seen := map[string]int{}
	var mu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- r.ReadEvents(ctx, EventReadOptions{Follow: true, Poll: 2 * time.Millisecond}, func(e *Event) error {
			mu.Lock()
			defer mu.Unlock()
			seen[e.Name]++
			return nil
		})
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 1; i <= each; i++ {
				r.emit(Event{Type: EventContainer, Status: "start", ID: "0123456789abcdef", Name: "w" + strconv.Itoa(w) + "-" + strconv.Itoa(i),
					Attributes: map[string]string{"pad": "0123456789012345678901234567890123456789"}})
				if i%2 == 0 {
					// A rotation every ~10 ms: a follower polling every 2 ms sees each.
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == writers*each+1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != writers*each+1 {
		t.Fatalf("the follower saw %d distinct events of %d", len(seen), writers*each+1)
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("event %s seen %d times", name, n)
		}
	}
	for _, p := range []string{r.eventsLog(), r.eventsLog() + ".1"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 2*max {
			t.Fatalf("%s is %d bytes, bound %d", filepath.Base(p), fi.Size(), max)
		}
	}
	// A reader that does not follow reads what the two files hold: the newest events.
	var n int
	var lastName string
	r.ReadEvents(context.Background(), EventReadOptions{}, func(e *Event) error { n++; lastName = e.Name; return nil })
	if n == 0 || n > 3*max/100 || lastName == "" {
		t.Fatalf("a reader after the rotations read %d events, the last %q", n, lastName)
	}
}

// A follower loses nothing when the log is rotated once or twice between two of its looks
// (tests decide when it looks): with two rotations the file in between is events.log.1.
func TestEventsFollowAcrossRotations(t *testing.T) {
	r := eventsRuntime(t)
	saved := eventsLogMax
	eventsLogMax = func() int64 { return 2048 }
	defer func() { eventsLogMax = saved }()
	var want []string
	n := 0
	// rotate writes events until the log has been rotated times times.
	rotate := func(times int) {
		for range times {
			before, _ := os.Stat(r.eventsLog())
			for {
				n++
				name := "e" + strconv.Itoa(n)
				r.emit(Event{Type: EventVolume, Status: "create", Name: name, Attributes: map[string]string{"pad": "0123456789012345678901234567890123456789"}})
				want = append(want, name)
				if after, err := os.Stat(r.eventsLog()); err == nil && !os.SameFile(before, after) {
					break
				}
			}
		}
		// And a few in the new file.
		for range 3 {
			n++
			name := "e" + strconv.Itoa(n)
			r.emit(Event{Type: EventVolume, Status: "create", Name: name})
			want = append(want, name)
		}
	}
	rotate(0) // the log exists before the follower starts
	looks := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- r.ReadEvents(ctx, EventReadOptions{Follow: true, looks: looks}, func(e *Event) error {
			got = append(got, e.Name)
			return nil
		})
	}()
	look := func() {
		looks <- struct{}{}
		looks <- struct{}{} // returns once the first look's reads are done
	}
	look()
	for _, times := range []int{0, 1, 2, 1, 2} {
		rotate(times)
		look()
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if g, w := strings.Join(got, " "), strings.Join(want, " "); g != w {
		t.Fatalf("the follower read\n%s\nwant\n%s", g, w)
	}
	if n < 100 {
		t.Fatalf("only %d events: the rotations did not happen", n)
	}
}

// An event that cannot be written (the runroot is a file) is dropped without a failure.
func TestEmitFailureIsQuiet(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o600)
	r, err := New(Options{Root: dir, RunRoot: file})
	if err != nil {
		t.Fatal(err)
	}
	r.emit(Event{Type: EventPod, Status: "create", ID: "p"}) // must neither panic nor fail
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		t.Fatalf("the runroot file was changed: %v %v", fi, err)
	}
	// And a reader of that log finds nothing, without an error.
	n := 0
	if err := r.ReadEvents(context.Background(), EventReadOptions{}, func(*Event) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("reading a log that cannot exist: %d events, %v", n, err)
	}
}

// The cost of one event on the path of every container operation (the runroot's file system).
func BenchmarkEmit(b *testing.B) {
	r := eventsRuntime(b)
	cfg := &model.ContainerConfig{ID: "1b9e85337007fbf5cb6610cf87232d192142e3811a31468a8e792054a79fae71", Name: "youthful_riemann",
		ImageName: "localhost/bb:latest"}
	r.containerEvent(cfg, "create")
	for b.Loop() {
		r.containerEvent(cfg, "start")
	}
}

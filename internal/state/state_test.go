package state

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"pea/internal/errdefs"
	"pea/internal/model"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "pea.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func ctr(id, name, ns, pod string) *model.Container {
	return &model.Container{
		Config: &model.ContainerConfig{ID: id, Name: name, Namespace: ns, Pod: pod, Created: time.Now()},
		State:  &model.ContainerState{Status: model.StatusCreated},
	}
}

func pod(id, name, ns string) *model.Pod {
	return &model.Pod{Config: &model.PodConfig{ID: id, Name: name, Namespace: ns}, State: &model.PodState{}}
}

// id makes a 64-hex ID that starts with c and the number n.
func id(c byte, n int) string {
	s := fmt.Sprintf("%c%04x", c, n)
	for len(s) < 64 {
		s += "0"
	}
	return s
}

func TestNamesAreSharedBetweenPodsAndContainers(t *testing.T) {
	s := open(t)
	if err := s.AddPod(pod(id('a', 1), "web", "")); err != nil {
		t.Fatal(err)
	}
	err := s.AddContainer(ctr(id('b', 1), "web", "", ""))
	if !errdefs.Is(err, errdefs.ErrExists) {
		t.Fatalf("container named like a pod: %v", err)
	}
	// Another libpod namespace may reuse the name.
	if err := s.AddContainer(ctr(id('b', 2), "web", "other", "")); err != nil {
		t.Fatalf("same name in another namespace: %v", err)
	}
	if err := s.AddPod(pod(id('a', 2), "web", "")); !errdefs.Is(err, errdefs.ErrExists) {
		t.Fatalf("duplicate pod name: %v", err)
	}
}

func TestLookup(t *testing.T) {
	s := open(t)
	s.AddContainer(ctr(id('c', 1), "one", "", ""))
	s.AddContainer(ctr(id('c', 2), "two", "ns2", ""))
	for _, tc := range []struct {
		name, ns, query string
		want            string
		err             error
	}{
		{"by name", "", "one", id('c', 1), nil},
		{"full id", "", id('c', 2), id('c', 2), nil},
		{"unique prefix", "", id('c', 2)[:5], id('c', 2), nil},
		{"ambiguous prefix", "", "c", "", errdefs.ErrAmbiguous},
		{"namespace hides", "ns2", "one", "", errdefs.ErrNotFound},
		{"namespace sees own", "ns2", "c", id('c', 2), nil},
		{"missing", "", "nosuch", "", errdefs.ErrNotFound},
		{"empty", "", "", "", errdefs.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Lookup(KindContainer, tc.ns, tc.query)
			if tc.err != nil {
				if !errdefs.Is(err, tc.err) {
					t.Fatalf("want %v, got %v (%s)", tc.err, err, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %s, %v", got, err)
			}
		})
	}
}

func TestPodMembership(t *testing.T) {
	s := open(t)
	p := id('d', 1)
	s.AddPod(pod(p, "p", ""))
	if err := s.AddContainer(ctr(id('e', 1), "m", "", p)); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePod(p); !errdefs.Is(err, errdefs.ErrInUse) {
		t.Fatalf("remove a pod with members: %v", err)
	}
	if err := s.AddContainer(ctr(id('e', 2), "orphan", "", id('d', 9))); !errdefs.Is(err, errdefs.ErrPodRemoved) {
		t.Fatalf("member of a missing pod: %v", err)
	}
	ms, _ := s.ListContainers("", p)
	if len(ms) != 1 {
		t.Fatalf("members: %d", len(ms))
	}
	s.RemoveContainer(id('e', 1))
	if err := s.RemovePod(p); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pod(p); !errdefs.Is(err, errdefs.ErrPodRemoved) {
		t.Fatalf("removed pod: %v", err)
	}
	if err := s.SavePodState(p, &model.PodState{}); !errdefs.Is(err, errdefs.ErrPodRemoved) {
		t.Fatalf("save state of a removed pod: %v", err)
	}
}

func TestStateRoundTripAndRename(t *testing.T) {
	s := open(t)
	c := ctr(id('f', 1), "a", "", "")
	s.AddContainer(c)
	s.AddContainer(ctr(id('f', 2), "b", "", ""))
	c.State.Status, c.State.Pid = model.StatusRunning, 42
	if err := s.SaveContainerState(c.Config.ID, c.State); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Container(c.Config.ID)
	if got.State.Status != model.StatusRunning || got.State.Pid != 42 {
		t.Fatalf("state: %+v", got.State)
	}
	c.Config.Name = "b"
	if err := s.SaveContainerConfig(c.Config); !errdefs.Is(err, errdefs.ErrExists) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	c.Config.Name = "c"
	if err := s.SaveContainerConfig(c.Config); err != nil {
		t.Fatal(err)
	}
	if found, _ := s.Lookup(KindContainer, "", "c"); found != c.Config.ID {
		t.Fatal("rename not visible")
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pea.db")
	s, _ := Open(path)
	s.AddContainer(ctr(id('a', 7), "kept", "", ""))
	s.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var v int
	s.DB().QueryRow(`PRAGMA user_version`).Scan(&v)
	if v != len(migrations) {
		t.Fatalf("schema version %d", v)
	}
	if _, err := s.Lookup(KindContainer, "", "kept"); err != nil {
		t.Fatal(err)
	}
}

// TestParallelProcesses: 8 processes create and remove objects at once, each ending as a pea
// command does (exit without closing, unless the WAL is to be copied); the database stays intact
// and every object is accounted for.
func TestParallelProcesses(t *testing.T) {
	if path := os.Getenv("PEA_STATE_HELPER_DB"); path != "" {
		n, _ := strconv.Atoi(os.Getenv("PEA_STATE_HELPER_N"))
		s, err := Open(path)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		for i := 0; i < 40; i++ {
			p := id('a'+byte(n), i)
			if err := s.AddPod(pod(p, fmt.Sprintf("p%d-%d", n, i), "")); err != nil {
				fmt.Println(err)
				os.Exit(3)
			}
			c := id('0'+byte(n), i)
			if err := s.AddContainer(ctr(c, fmt.Sprintf("c%d-%d", n, i), "", p)); err != nil {
				fmt.Println(err)
				os.Exit(4)
			}
			if i%2 == 0 {
				if err := s.RemoveContainer(c); err != nil {
					os.Exit(5)
				}
				if err := s.RemovePod(p); err != nil {
					os.Exit(6)
				}
			}
		}
		// As a pea command ends: the connection is closed only to copy a large WAL.
		if err := s.CloseAtExit(nil); err != nil {
			fmt.Println(err)
			os.Exit(7)
		}
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "pea.db")
	var wg sync.WaitGroup
	for n := 0; n < 8; n++ {
		wg.Add(1)
		go func(n int) {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-test.run=TestParallelProcesses")
			cmd.Env = append(os.Environ(), "PEA_STATE_HELPER_DB="+path, "PEA_STATE_HELPER_N="+strconv.Itoa(n))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("process %d: %v %s", n, err, out)
			}
		}(n)
	}
	wg.Wait()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	s.DB().QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Fatalf("integrity: %s", check)
	}
	pods, _ := s.ListPods("")
	cs, _ := s.ListContainers("", "")
	if len(pods) != 8*20 || len(cs) != 8*20 {
		t.Fatalf("pods %d, containers %d; want 160 each", len(pods), len(cs))
	}
}

// TestFreshDatabaseOpenedAtOnce: processes that open a database that does not exist yet at the
// same moment all succeed (one creates and migrates it, the others wait). Regression: 8
// parallel `pea run` on a new store failed with "database is locked".
func TestFreshDatabaseOpenedAtOnce(t *testing.T) {
	if os.Getenv("PEA_STATE_OPEN_DB") != "" {
		s, err := Open(os.Getenv("PEA_STATE_OPEN_DB"))
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		s.Close()
		os.Exit(0)
	}
	for round := 0; round < 10; round++ {
		path := filepath.Join(t.TempDir(), "pea.db")
		var wg sync.WaitGroup
		for n := 0; n < 8; n++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run=TestFreshDatabaseOpenedAtOnce")
				cmd.Env = append(os.Environ(), "PEA_STATE_OPEN_DB="+path)
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("round %d: %v %s", round, err, out)
				}
			}()
		}
		wg.Wait()
	}
}

// Closing leaves the WAL for the next process while it is small (each copy into the database
// costs fsyncs), and copies and empties it once it passed walCheckpointBytes: the WAL a process
// finds stays small, and every process sees what the earlier ones wrote.
func TestCloseCheckpointsOnlyALargeWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pea.db")
	walSize := func() int64 {
		fi, err := os.Stat(path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	kept, emptied := 0, 0
	for i := range 40 {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if pods, err := s.ListPods(""); err != nil || len(pods) != i {
			t.Fatalf("process %d sees %d pods (%v), want %d", i, len(pods), err, i)
		}
		before := walSize()
		if before > walCheckpointBytes+32<<10 {
			t.Fatalf("process %d found a WAL of %d bytes", i, before)
		}
		if err := s.AddPod(pod(fmt.Sprintf("%064x", i+1), fmt.Sprintf("p%d", i), "")); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		switch after := walSize(); {
		case after == 0:
			emptied++
		case after <= walCheckpointBytes:
			kept++
		default:
			t.Fatalf("process %d left a WAL of %d bytes (over %d, not copied)", i, after, walCheckpointBytes)
		}
	}
	if kept == 0 || emptied == 0 {
		t.Fatalf("of 40 closes %d kept the WAL and %d emptied it: want both", kept, emptied)
	}
}

// The brief listing behind `pod ps` gives every pod member (and no standalone container) with
// its ID, name, pod and state, per namespace.
func TestListPodMembersBrief(t *testing.T) {
	s := open(t)
	for _, p := range []*model.Pod{pod(id('p', 1), "p1", ""), pod(id('p', 2), "p2", "other")} {
		if err := s.AddPod(p); err != nil {
			t.Fatal(err)
		}
	}
	m := ctr(id('c', 1), "m1", "", id('p', 1))
	m.State.Status, m.State.Pid = model.StatusRunning, 42
	for _, c := range []*model.Container{m, ctr(id('c', 2), "alone", "", ""), ctr(id('c', 3), "m3", "other", id('p', 2))} {
		if err := s.AddContainer(c); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ListPodMembersBrief("")
	if err != nil || len(all) != 2 {
		t.Fatalf("all namespaces: %d members, %v", len(all), err)
	}
	got := all[0]
	if got.Config.ID != id('c', 1) || got.Config.Name != "m1" || got.Config.Pod != id('p', 1) ||
		got.State.Status != model.StatusRunning || got.State.Pid != 42 {
		t.Fatalf("member: %+v %+v", got.Config, got.State)
	}
	if ns, err := s.ListPodMembersBrief("other"); err != nil || len(ns) != 1 || ns[0].Config.Name != "m3" {
		t.Fatalf("namespace other: %v, %v", ns, err)
	}
}

// ContainerImages reads each container's image inside SQLite.
func TestContainerImages(t *testing.T) {
	s := open(t)
	a, b, c := ctr(id('c', 1), "a", "", ""), ctr(id('c', 2), "b", "", ""), ctr(id('c', 3), "c", "", "")
	a.Config.Image, b.Config.Image = id('i', 1), id('i', 1) // c has none (an infra container)
	for _, x := range []*model.Container{b, a, c} {
		if err := s.AddContainer(x); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.ContainerImages()
	if err != nil || len(users) != 1 || len(users[id('i', 1)]) != 2 || users[id('i', 1)][0] != id('c', 1) {
		t.Fatalf("%v, %v", users, err)
	}
	// Images that containers mount (image volumes) are in use too; a container that runs and
	// mounts the same image is listed once.
	d := ctr(id('c', 4), "d", "", "")
	d.Config.Image = id('i', 1)
	d.Config.Mounts = []model.Mount{{Type: "image", Source: "other", ImageID: id('i', 2), Destination: "/o"},
		{Type: "image", Source: "self", ImageID: id('i', 1), Destination: "/s"}, {Type: "bind", Source: "/x", Destination: "/x"}}
	if err := s.AddContainer(d); err != nil {
		t.Fatal(err)
	}
	users, err = s.ContainerImages()
	if err != nil || len(users) != 2 || len(users[id('i', 1)]) != 3 || !slices.Equal(users[id('i', 2)], []string{id('c', 4)}) {
		t.Fatalf("with image mounts: %v, %v", users, err)
	}
}

func TestContainersMentioning(t *testing.T) {
	s := open(t)
	a, b, c := ctr(id('c', 1), "a", "", ""), ctr(id('c', 2), "b", "", ""), ctr(id('c', 3), "c", "", "")
	b.Config.Namespaces = map[string]model.Namespace{model.NSNet: {Mode: model.NSModeContainer, Value: id('c', 1)}}
	for _, x := range []*model.Container{a, b, c} {
		if err := s.AddContainer(x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ContainersMentioning(id('c', 1))
	if err != nil || len(got) != 1 || got[0].Config.ID != id('c', 2) {
		t.Fatalf("mentioning a: %v, %v", got, err)
	}
	if got, err := s.ContainersMentioning(id('c', 3)); err != nil || len(got) != 0 {
		t.Fatalf("mentioning c (itself only): %v, %v", got, err)
	}
}

// CheckpointWAL copies a large WAL into the database and empties it, while the store that wrote
// it is still open (the command's process may not have exited yet); the data stays whole.
func TestCheckpointWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pea.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if did, err := CheckpointWAL(path); err != nil || did {
		t.Fatalf("a small WAL: copied %v, err %v; want nothing done", did, err)
	}
	for i := 0; ; i++ {
		if _, large := walLarge(path); large {
			break
		}
		if i == 200 {
			t.Fatal("200 containers never grew the WAL past the size to copy")
		}
		if err := s.AddContainer(ctr(id('c', i), fmt.Sprintf("c%d", i), "", "")); err != nil {
			t.Fatal(err)
		}
	}
	did, err := CheckpointWAL(path)
	if err != nil || !did {
		t.Fatalf("copied %v, err %v", did, err)
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("the WAL after the copy: %v, %v; want kept and empty", fi, err)
	}
	all, err := s.ListContainers("", "")
	if err != nil || len(all) == 0 {
		t.Fatalf("after the copy: %d containers, %v", len(all), err)
	}
}

// CheckpointWAL creates nothing where the database is gone (`system reset` removed the store
// while the process after a command was starting): it once re-created the store's database.
func TestCheckpointWALCreatesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "root")
	if did, err := CheckpointWAL(filepath.Join(dir, "pea.db")); err != nil || did {
		t.Fatalf("no store: copied %v, err %v", did, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the store's directory: %v; want none", err)
	}
	// A WAL left without its database (removed between the two) is not made a database of.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pea.db-wal"), make([]byte, 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	if did, err := CheckpointWAL(filepath.Join(dir, "pea.db")); err != nil || did {
		t.Fatalf("a WAL without its database: copied %v, err %v", did, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pea.db")); !os.IsNotExist(err) {
		t.Fatalf("pea.db: %v; want none", err)
	}
}

package state_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pea/internal/model"
	"pea/internal/state"
)

// benchStore opens a temporary database holding pods pods of perPod members each, configured
// as `pea run -d --pod` leaves them: running, with a command, environment, labels and the
// pod's shared namespaces.
func benchStore(b *testing.B, pods, perPod int) (*state.Store, []string) {
	b.Helper()
	s, err := state.Open(filepath.Join(b.TempDir(), "pea.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	now := time.Now()
	var podIDs []string
	for p := range pods {
		podID := fmt.Sprintf("%064x", p+1)
		podIDs = append(podIDs, podID)
		err := s.AddPod(&model.Pod{
			Config: &model.PodConfig{
				ID: podID, Name: fmt.Sprintf("pod%d", p), Created: now, UsePodCgroup: true,
				ShareNet: true, ShareIpc: true, ShareUts: true, HasInfra: true, ExitPolicy: model.ExitPolicyContinue,
				Labels: map[string]string{"app": "bench"},
			},
			State: &model.PodState{CgroupPath: "/pea/pod-" + podID, InfraContainerID: fmt.Sprintf("%064x", 1<<40+p)},
		})
		if err != nil {
			b.Fatal(err)
		}
		for c := range perPod {
			id := fmt.Sprintf("%064x", 1<<32+p*perPod+c)
			err := s.AddContainer(&model.Container{
				Config: &model.ContainerConfig{
					ID: id, Name: fmt.Sprintf("pod%d-c%d", p, c), Pod: podID, Created: now,
					Image: fmt.Sprintf("%064x", 7), ImageName: "localhost/bb:latest",
					Cmd:    []string{"sleep", "1000"},
					Env:    []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=pod"},
					Labels: map[string]string{"tier": "web"},
					Namespaces: map[string]model.Namespace{
						model.NSNet: {Mode: model.NSModeContainer, Value: podID},
						model.NSIpc: {Mode: model.NSModeContainer, Value: podID},
						model.NSUts: {Mode: model.NSModeContainer, Value: podID},
					},
					StopTimeout: 10,
				},
				State: &model.ContainerState{Status: model.StatusRunning, Pid: 1000 + c, ConmonPid: 999 + c, StartedAt: now},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	return s, podIDs
}

// BenchmarkListContainers is the read behind `pea ps -a` with 1000 containers.
func BenchmarkListContainers(b *testing.B) {
	s, _ := benchStore(b, 500, 2)
	for b.Loop() {
		cs, err := s.ListContainers("", "")
		if err != nil || len(cs) != 1000 {
			b.Fatalf("%d containers, %v", len(cs), err)
		}
	}
}

// BenchmarkListContainersOfPod is one pod's members among 1000 containers (pod ps, pod stop).
func BenchmarkListContainersOfPod(b *testing.B) {
	s, pods := benchStore(b, 500, 2)
	for b.Loop() {
		cs, err := s.ListContainers("", pods[250])
		if err != nil || len(cs) != 2 {
			b.Fatalf("%d containers, %v", len(cs), err)
		}
	}
}

// BenchmarkListPods is the read behind `pea pod ps` with 500 pods.
func BenchmarkListPods(b *testing.B) {
	s, _ := benchStore(b, 500, 2)
	for b.Loop() {
		ps, err := s.ListPods("")
		if err != nil || len(ps) != 500 {
			b.Fatalf("%d pods, %v", len(ps), err)
		}
	}
}

// BenchmarkLookupAndRead is what most verbs do first: resolve a name, read the object.
func BenchmarkLookupAndRead(b *testing.B) {
	s, _ := benchStore(b, 500, 2)
	for b.Loop() {
		id, err := s.Lookup(state.KindContainer, "", "pod250-c1")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Container(id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveContainerState is the write every start, stop and exit makes.
func BenchmarkSaveContainerState(b *testing.B) {
	s, _ := benchStore(b, 500, 2)
	id := fmt.Sprintf("%064x", 1<<32+500)
	st := &model.ContainerState{Status: model.StatusRunning, Pid: 42, ConmonPid: 41, StartedAt: time.Now()}
	for b.Loop() {
		if err := s.SaveContainerState(id, st); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenReadClose is the database part of every short command: open an existing
// database, read one pod, close.
func BenchmarkOpenReadClose(b *testing.B) {
	path := filepath.Join(b.TempDir(), "pea.db")
	s, err := state.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	id := fmt.Sprintf("%064x", 1)
	err = s.AddPod(&model.Pod{Config: &model.PodConfig{ID: id, Name: "p", Created: time.Now()}, State: &model.PodState{}})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := state.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Pod(id); err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

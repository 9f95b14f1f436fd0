package engine

import (
	"os"
	"path/filepath"
	"testing"

	"pea/internal/model"
)

// A listing reads the exit directory once and must still see every way a process ends: conmon
// wrote an exit code, or conmon itself is gone (137). A container whose monitor lives, with no
// exit file, stays running.
func TestFreshenAll(t *testing.T) {
	r := &Runtime{opts: Options{RunRoot: t.TempDir()}}
	if err := os.MkdirAll(r.exitDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.exitDir(), "ended"), []byte("3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	ctr := func(id string, status string, conmon int) *model.Container {
		return &model.Container{
			Config: &model.ContainerConfig{ID: id},
			State:  &model.ContainerState{Status: status, ConmonPid: conmon, Pid: conmon},
		}
	}
	ended := ctr("ended", model.StatusRunning, self)
	running := ctr("running", model.StatusRunning, self)
	orphan := ctr("orphan", model.StatusRunning, 1<<22+1) // above pid_max: no such process
	created := ctr("created", model.StatusCreated, 0)
	r.freshenAll([]*model.Container{ended, running, orphan, created})

	for _, tc := range []struct {
		c      *model.Container
		status string
		code   int32
	}{
		{ended, model.StatusExited, 3},
		{running, model.StatusRunning, 0},
		{orphan, model.StatusExited, 137},
		{created, model.StatusCreated, 0},
	} {
		if tc.c.State.Status != tc.status || tc.c.State.ExitCode != tc.code {
			t.Errorf("%s: %s (%d), want %s (%d)", tc.c.Config.ID, tc.c.State.Status, tc.c.State.ExitCode, tc.status, tc.code)
		}
	}
}

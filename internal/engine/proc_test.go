package engine

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKillStaleConmonTakesItsCreate: the conmon of a start that died is killed with the
// runtime's create it runs and the container's first process that create made, which conmon (a
// subreaper) inherits when the create dies first. Killed alone, conmon left the create to make
// the container after a removal had looked for it: a first process waiting for a start forever
// (TestKilledPeaLeavesNothingAfterRm saw its conmon once). The three are stand-ins, this test
// binary run again: "conmon" with conmon's `-c ID`, "create" and "init" with the runtime's
// `create ... ID`. A child of "conmon" that is no create (an exit command) is left alone.
func TestKillStaleConmonTakesItsCreate(t *testing.T) {
	if role := os.Getenv("PEA_STANDIN"); role != "" {
		standIn(role)
		return
	}
	dir := t.TempDir()
	const id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	conmon := exec.Command(os.Args[0], "-test.run=^TestKillStaleConmonTakesItsCreate$", "--", "-c", id)
	conmon.Env = append(os.Environ(), "PEA_STANDIN=conmon", "PEA_STANDIN_DIR="+dir, "PEA_STANDIN_ID="+id)
	if err := conmon.Start(); err != nil {
		t.Fatal(err)
	}
	pids := map[string]int{"conmon": conmon.Process.Pid}
	t.Cleanup(func() {
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGKILL)
		}
		conmon.Wait()
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, role := range []string{"create", "init", "other"} {
		for {
			b, err := os.ReadFile(filepath.Join(dir, role+".pid"))
			if p, _ := strconv.Atoi(string(b)); err == nil && p > 0 {
				pids[role] = p
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("stand-in %s did not start", role)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "conmon.pid"), []byte(strconv.Itoa(pids["conmon"])), 0o600); err != nil {
		t.Fatal(err)
	}
	killStaleConmon(dir, id)
	conmon.Wait()
	for _, role := range []string{"conmon", "create", "init"} {
		if gone := exitedOrGone(pids[role]); !gone {
			t.Errorf("%s stand-in %d still runs", role, pids[role])
		}
	}
	if exitedOrGone(pids["other"]) {
		t.Error("conmon's child that runs no create was killed too")
	}
}

// exitedOrGone reports whether pid has ended (a zombie, or reaped).
func exitedOrGone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || bytes.Contains(stat, []byte(") Z "))
}

// standIn plays one process of TestKillStaleConmonTakesItsCreate and never returns.
func standIn(role string) {
	dir, id := os.Getenv("PEA_STANDIN_DIR"), os.Getenv("PEA_STANDIN_ID")
	spawn := func(child string, args ...string) {
		cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestKillStaleConmonTakesItsCreate$", "--"}, args...)...)
		cmd.Env = append(os.Environ(), "PEA_STANDIN="+child)
		if err := cmd.Start(); err != nil {
			os.Exit(3)
		}
	}
	switch role {
	case "conmon":
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
		spawn("create", "--root=x", "create", "--bundle", dir, id)
		spawn("other", "container", "cleanup", id) // an exit command: no create
	case "create":
		spawn("init", "--root=x", "create", "--bundle", dir, id) // a child keeps its parent's command line
	}
	if err := os.WriteFile(filepath.Join(dir, role+".pid"), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		os.Exit(3)
	}
	time.Sleep(time.Hour)
	os.Exit(0)
}

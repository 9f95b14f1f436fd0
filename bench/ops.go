package main

import (
	"fmt"
	"strings"
	"time"
)

const floorRow = "floor: `crun run` of a prepared bundle (busybox /bin/true)"

// specFloorRow is the second floor: the same, with the configuration pea writes (fixture.go).
const specFloorRow = "floor with pea's spec: `crun run` of pea's config.json (busybox /bin/true)"

// termSleep is a long-running member that ends at SIGTERM. A bare `sleep` as PID 1 ignores
// SIGTERM, so every stop would wait out the engine's 10 s timeout and measure only that.
var termSleep = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"}

// readyTermSleep is termSleep that says "ready" once its trap is set: before that, as PID 1 of
// its PID namespace, it ignores SIGTERM too (a timed stop right after `run -d` took 10.1 s
// once). Only the members a timed stop follows use it (readyMember): the line costs each
// container a block of log on the disk, which the disk row counts.
var readyTermSleep = []string{"sh", "-c", "trap 'exit 0' TERM; echo ready; sleep 1000 & wait"}

// readyMember waits (untimed) until container id of e has set its TERM trap (readyTermSleep).
func (b *bench) readyMember(e *engine, id string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := e.out(b.ctx, "logs", id)
		if err == nil && strings.Contains(out, "ready") {
			return nil
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			return fmt.Errorf("member %s never said it was ready: %v", id, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func withArgs(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// The bars of issue 6: the highest acceptable pea/podman ratio of medians.
var bars = map[string]float64{
	"version":                           0.1,
	"pod create":                        0.2,
	"pod inspect":                       0.2,
	"pod stats --no-stream (3 members)": 0.2,
	"run --rm --network none bb true (idle machine)":            0.35,
	"run --rm --network none bb true (cgroup attach lock warm)": 0.35,
	"bulk: 20 pods × 3 members, sequential":                     0.2,
	"bulk: 20 pods × 3 members, 4 parallel":                     0.2,
	"memory: conmon RSS per container":                          1,
}

func (b *bench) groups() []group {
	return []group{
		b.startupGroup(), b.runGroupOps(), b.containerGroup(), b.podGroup(),
		b.publishGroup(), b.diskGroup(), b.bulkGroup(), b.listGroup(), b.apiGroup(), b.buildGroup(),
	}
}

func (b *bench) startupGroup() group {
	return group{name: "startup", ops: []op{
		b.single("version", fixed("version"), nil),
		b.single("--help", fixed("--help"), nil),
	}}
}

// runNoneRow is the row base of `run --rm --network none`, timed in each machine state with
// the floors (state.go).
const runNoneRow = "run --rm --network none bb true"

func (b *bench) runGroupOps() group {
	var ops []op
	for _, s := range machineStates {
		o := b.singleIn(&s, runNoneRow, fixed("run", "--rm", "--network", "none", imageRef, "true"), nil)
		o.floor = true
		ops = append(ops, o)
	}
	ops = append(ops, b.single("run --rm bb true (default network)", fixed("run", "--rm", imageRef, "true"), nil))
	return group{name: "run", ops: ops}
}

func (b *bench) containerGroup() group {
	rmName := func(e *engine, args []string) { e.out(b.ctx, "rm", "-f", "-t0", b.get(e, "last")) }
	named := func(e *engine, prefix string) string {
		n := e.newName(prefix)
		b.set(e, "last", n)
		return n
	}
	created := func(e *engine) (string, error) {
		n := named(e, "c")
		_, err := e.out(b.ctx, "create", "--name", n, imageRef, "true")
		return n, err
	}
	sleeper := func(e *engine) error {
		n := e.newName("sleeper")
		b.set(e, "sleeper", n)
		return b.untimed(e, withArgs([]string{"run", "-d", "--name", n, imageRef}, termSleep...))
	}
	exec := b.single("exec C true (running container)", func(e *engine) ([]string, error) {
		return []string{"exec", b.get(e, "sleeper"), "true"}, nil
	}, nil)
	exec.prep = sleeper
	inspect := b.single("inspect C (running container)", func(e *engine) ([]string, error) {
		return []string{"inspect", b.get(e, "sleeper")}, nil
	}, nil)
	return group{name: "container", ops: []op{
		b.single("create bb true", func(e *engine) ([]string, error) {
			return []string{"create", "--name", named(e, "c"), imageRef, "true"}, nil
		}, rmName),
		b.single("start -a C (created, runs true)", func(e *engine) ([]string, error) {
			n, err := created(e)
			return []string{"start", "-a", n}, err
		}, rmName),
		b.single("rm C (created)", func(e *engine) ([]string, error) {
			n, err := created(e)
			return []string{"rm", n}, err
		}, rmName),
		exec, inspect,
	}}
}

func (b *bench) podGroup() group {
	podRm := func(e *engine, args []string) { e.out(b.ctx, "pod", "rm", "-f", "-t0", b.get(e, "pod")) }
	newPod := func(e *engine, more ...[]string) (string, error) {
		n := e.newName("p")
		b.set(e, "pod", n)
		cmds := [][]string{{"pod", "create", "--name", n}}
		for _, m := range more {
			cmds = append(cmds, append(append([]string{}, m...), n))
		}
		return n, b.untimed(e, cmds...)
	}
	start, stop := []string{"pod", "start"}, []string{"pod", "stop", "-t0"}
	member := func(e *engine, pod string) error {
		id, err := e.out(b.ctx, withArgs([]string{"run", "-d", "--pod", pod, imageRef}, readyTermSleep...)...)
		if err != nil {
			return err
		}
		return b.readyMember(e, strings.TrimSpace(id))
	}
	statsPod := func(e *engine) error {
		if b.get(e, "statspod") != "" {
			return nil
		}
		n := e.newName("stats")
		if err := b.untimed(e, []string{"pod", "create", "--name", n}); err != nil {
			return err
		}
		for range 3 {
			if err := member(e, n); err != nil {
				return err
			}
		}
		b.set(e, "statspod", n)
		return nil
	}
	onStatsPod := func(row string, verb ...string) op {
		o := b.single(row, func(e *engine) ([]string, error) {
			return append(append([]string{}, verb...), b.get(e, "statspod")), nil
		}, nil)
		o.prep = statsPod
		return o
	}
	return group{name: "pod", ops: []op{
		b.single("pod create", func(e *engine) ([]string, error) {
			n := e.newName("p")
			b.set(e, "pod", n)
			return []string{"pod", "create", "--name", n}, nil
		}, podRm),
		b.single("pod start (infra only)", func(e *engine) ([]string, error) {
			n, err := newPod(e)
			return []string{"pod", "start", n}, err
		}, podRm),
		b.single("run -d --pod P bb sleep 1000 (pod running)", func(e *engine) ([]string, error) {
			n, err := newPod(e, start)
			return []string{"run", "-d", "--pod", n, imageRef, "sleep", "1000"}, err
		}, podRm),
		b.single("run -d --pod P bb sleep 1000 (first member, pod stopped)", func(e *engine) ([]string, error) {
			n, err := newPod(e, start, stop)
			return []string{"run", "-d", "--pod", n, imageRef, "sleep", "1000"}, err
		}, podRm),
		b.single("pod stop (1 member)", func(e *engine) ([]string, error) {
			n, err := newPod(e)
			if err == nil {
				err = member(e, n)
			}
			return []string{"pod", "stop", n}, err
		}, podRm),
		b.single("pod rm (stopped, 1 member)", func(e *engine) ([]string, error) {
			n, err := newPod(e)
			if err == nil {
				err = member(e, n)
			}
			if err == nil {
				err = b.untimed(e, withArgs(stop, n))
			}
			return []string{"pod", "rm", n}, err
		}, podRm),
		b.single("pod rm -f (running, 1 member)", func(e *engine) ([]string, error) {
			n, err := newPod(e)
			if err == nil {
				err = member(e, n)
			}
			return []string{"pod", "rm", "-f", n}, err
		}, podRm),
		onStatsPod("pod inspect", "pod", "inspect"),
		onStatsPod("pod top (3 members)", "pod", "top"),
		onStatsPod("pod stats --no-stream (3 members)", "pod", "stats", "--no-stream"),
	}}
}

// levelRows names the list rows of one level.
func levelRows(pods int) (ps, podPs string) {
	return fmt.Sprintf("ps -a, %d pods × 2 members", pods), fmt.Sprintf("pod ps, %d pods × 2 members", pods)
}

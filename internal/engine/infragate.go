package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"pea/internal/model"
)

// infraGate lets a pod's members be made while its infra container starts. Most of an infra
// start is the CNI plugins attaching its network namespace (two Go programs, ~35 ms of CPU),
// which go on after the runtime has created the infra's process; a member only needs that
// process to exist to join its namespaces. So a member waits for the infra's process
// (waitCreated) before it names the namespaces it joins, makes its root filesystem, spec and
// runtime container meanwhile, and waits for the infra's whole start (waitStarted) only
// before its own process is let go. No member's process runs before the pod's network is
// ready, as before; a failed infra start fails the members' starts, whose undo removes what
// they made.
type infraGate struct {
	id      string        // the infra container
	created chan struct{} // closed once pid is set, or once the start has ended
	done    chan struct{} // closed once the start has ended, err set
	pid     int           // the infra's process, 0 when it was not created by this start
	netNS   string        // the network namespace file it was given, if any
	err     error
	once    sync.Once
}

func newInfraGate(id string) *infraGate {
	return &infraGate{id: id, created: make(chan struct{}), done: make(chan struct{})}
}

type infraGateKey struct{}

// withInfraGate is ctx carrying g to the launches of the pod's containers.
func withInfraGate(ctx context.Context, g *infraGate) context.Context {
	return context.WithValue(ctx, infraGateKey{}, g)
}

func infraGateOf(ctx context.Context) *infraGate {
	g, _ := ctx.Value(infraGateKey{}).(*infraGate)
	return g
}

// markCreated is called by the infra's launch once the runtime has created its process.
func (g *infraGate) markCreated(pid int, netNS string) {
	g.once.Do(func() {
		g.pid, g.netNS = pid, netNS
		close(g.created)
	})
}

// finish ends the gate with the infra start's outcome.
func (g *infraGate) finish(err error) {
	g.err = err
	close(g.done)
	g.once.Do(func() { close(g.created) })
}

// waitCreated waits for the infra's process. When the start made none (the infra was running
// already, or was only unpaused), it waits for the start's end, and g.pid stays 0: the
// database tells where the infra runs.
func (g *infraGate) waitCreated(ctx context.Context) error {
	select {
	case <-g.created:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.pid != 0 {
		return nil
	}
	return g.waitStarted(ctx)
}

// waitStarted waits for the end of the infra's start and returns its error.
func (g *infraGate) waitStarted(ctx context.Context) error {
	select {
	case <-g.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if g.err != nil {
		return fmt.Errorf("the pod's infra container did not start: %w", g.err)
	}
	return nil
}

// nsPath is the file of the infra's namespace of kind while it starts.
func (g *infraGate) nsPath(kind string) string {
	if kind == model.NSNet && g.netNS != "" {
		return g.netNS
	}
	return filepath.Join("/proc", fmt.Sprint(g.pid), "ns", procNSName(kind))
}

// startWithInfra starts the pod's infra container (when it is not running) and, meanwhile,
// runs members with a context that lets the members' launches overlap with it (infraGate).
// The infra's error comes first: members that failed because of it add nothing. The caller
// holds the pod lock.
func (r *Runtime) startWithInfra(ctx context.Context, pod *model.Pod, members func(ctx context.Context) error) error {
	id := pod.State.InfraContainerID
	if id == "" {
		return members(ctx)
	}
	g := newInfraGate(id)
	ctx = withInfraGate(ctx, g)
	go func() { g.finish(r.ensureInfraRunning(ctx, pod)) }()
	err := members(ctx)
	<-g.done
	if g.err != nil {
		return g.err
	}
	return err
}

package network

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// A rootless pea (internal/rootless) may not make bridges, veth pairs or firewall rules in the
// host's network namespace. Its bridge networks live in a network namespace of the user's
// instead (the "rootless network namespace", which slirp4netns connects to the host): the
// manager does every piece of work that touches links, addresses, routes or rules there. The
// thread doing it enters the namespace for the call (setns applies to one thread), and the CNI
// plugins and iptables it runs are forked from that thread, so they start in it too. Checks of
// host ports (CheckPorts) stay in the host's namespace, where slirp4netns listens.

// SetWorkNamespace makes the manager work in the network namespace that ensure returns (made
// on first use); nil works in this process's own.
//
// The host-wide claims of bridge names and subnets (claims.go) do not concern such networks:
// their bridges are in a namespace of the store's own. The store keeps its claims beside its
// networks instead (root's registry is not the user's to write).
func (m *Manager) SetWorkNamespace(ensure func() (string, error)) {
	m.workNS = ensure
	m.claimDir = filepath.Join(filepath.Dir(m.configDir), "network-claims")
}

// within runs f in the manager's namespace.
func within[T any](m *Manager, f func() (T, error)) (T, error) {
	var zero T
	if m.workNS == nil {
		return f()
	}
	path, err := m.workNS()
	if err != nil {
		return zero, err
	}
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, err
	}
	defer unix.Close(orig)
	target, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("network namespace %s: %w", path, err)
	}
	err = unix.Setns(target, unix.CLONE_NEWNET)
	unix.Close(target)
	if err != nil {
		runtime.UnlockOSThread()
		return zero, fmt.Errorf("enter network namespace %s: %w", path, err)
	}
	defer func() {
		// A thread that cannot go back stays locked: Go ends it with the goroutine.
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
	}()
	return f()
}

// Setup is setupHere, in the manager's namespace (see within).
func (m *Manager) Setup(ctx context.Context, o AttachOptions) ([]Status, error) {
	if m.workNS != nil {
		return m.setupRootless(ctx, o)
	}
	return within(m, func() ([]Status, error) { return m.setupHere(ctx, o) })
}

// Teardown is teardownHere, in the manager's namespace (see within).
func (m *Manager) Teardown(ctx context.Context, o AttachOptions) error {
	if m.workNS != nil {
		m.rootlessUnforward(o.ContainerID)
	}
	_, err := within(m, func() (struct{}, error) { return struct{}{}, m.teardownHere(ctx, o) })
	return err
}

// Connect is connectHere, in the manager's namespace (see within).
func (m *Manager) Connect(ctx context.Context, o AttachOptions, network string) (Status, error) {
	return within(m, func() (Status, error) { return m.connectHere(ctx, o, network) })
}

// Disconnect is disconnectHere, in the manager's namespace (see within).
func (m *Manager) Disconnect(ctx context.Context, o AttachOptions, network string) error {
	_, err := within(m, func() (struct{}, error) { return struct{}{}, m.disconnectHere(ctx, o, network) })
	return err
}

// Create is createHere, in the manager's namespace (see within).
func (m *Manager) Create(o CreateOptions) (*Network, error) {
	return within(m, func() (*Network, error) { return m.createHere(o) })
}

// Default is defaultHere, in the manager's namespace (see within).
func (m *Manager) Default() (*Network, error) {
	return within(m, func() (*Network, error) { return m.defaultHere() })
}

// Remove is removeHere, in the manager's namespace (see within).
func (m *Manager) Remove(name string) error {
	_, err := within(m, func() (struct{}, error) { return struct{}{}, m.removeHere(name) })
	return err
}

// SweepOrphanChains removes what a network of this name left in iptables after its conflist
// went (sweepOrphanMasq), in the manager's namespace.
func (m *Manager) SweepOrphanChains(name string) {
	within(m, func() (struct{}, error) { m.sweepOrphanMasq(name); return struct{}{}, nil })
}

// ForceDisconnect is forceDisconnectHere, in the manager's namespace (see within).
func (m *Manager) ForceDisconnect(ctx context.Context, o AttachOptions, network string) error {
	_, err := within(m, func() (struct{}, error) { return struct{}{}, m.forceDisconnectHere(ctx, o, network) })
	return err
}

// UpdatePorts is updatePortsHere, in the manager's namespace (see within).
func (m *Manager) UpdatePorts(ctx context.Context, containerID string, ports []PortMapping) error {
	_, err := within(m, func() (struct{}, error) { return struct{}{}, m.updatePortsHere(ctx, containerID, ports) })
	return err
}

// Reload is reloadHere, in the manager's namespace (see within).
func (m *Manager) Reload(ctx context.Context, containerID string) ([]string, error) {
	return within(m, func() ([]string, error) { return m.reloadHere(ctx, containerID) })
}

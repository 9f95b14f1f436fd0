package network

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// RootlessNetNS names the rootless network namespace of a rootless pea's store: its pin in
// RUNDIR/netns and its slirp4netns files. The bridge networks live in it (within.go); its
// slirp4netns (10.0.2.100 in there) carries their traffic out to the host, and forwards the
// published ports in: host port -> 10.0.2.100:port, where the ports' DNAT rules (made in the
// namespace as on a host) send it on to the container.
const RootlessNetNS = "rootless-netns"

// EnsureRootlessNetNS returns the rootless network namespace's pin, making the namespace and
// starting its slirp4netns when they are not there (the first use, or after the user
// namespace that held the pin went).
func (m *Manager) EnsureRootlessNetNS() (string, error) {
	m.rootlessMu.Lock()
	defer m.rootlessMu.Unlock()
	if m.rootlessPath != "" {
		return m.rootlessPath, nil
	}
	if err := os.MkdirAll(m.runDir, 0o755); err != nil {
		return "", err
	}
	unlock, err := flock(filepath.Join(m.runDir, RootlessNetNS+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	path := m.NetNSPath(RootlessNetNS)
	if isNetNSPin(path) && m.slirpAlive(RootlessNetNS) {
		m.rootlessPath = path
		return path, nil
	}
	if isNetNSPin(path) {
		// slirp4netns went (killed) while the namespace, its bridges and its containers stay:
		// a new one on the same namespace, and the published ports forwarded again.
		m.StopSlirp(RootlessNetNS)
		if err := m.StartSlirp(SlirpOptions{ID: RootlessNetNS, NetNSPath: path}); err != nil {
			return "", err
		}
		m.reforward()
		m.rootlessPath = path
		return path, nil
	}
	m.StopSlirp(RootlessNetNS)
	if _, err := os.Stat(path); err == nil {
		m.RemoveNetNS(path)
	}
	if path, err = m.NewNetNS(RootlessNetNS); err != nil {
		return "", err
	}
	if err := m.StartSlirp(SlirpOptions{ID: RootlessNetNS, NetNSPath: path}); err != nil {
		m.RemoveNetNS(path)
		return "", err
	}
	m.rootlessPath = path
	return path, nil
}

// StopRootlessNetNS ends the rootless network namespace and its slirp4netns (system reset).
func (m *Manager) StopRootlessNetNS() {
	m.rootlessMu.Lock()
	defer m.rootlessMu.Unlock()
	m.StopSlirp(RootlessNetNS)
	if path := m.NetNSPath(RootlessNetNS); isNetNSPin(path) {
		m.RemoveNetNS(path)
	}
	m.rootlessPath = ""
}

func isNetNSPin(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == unix.NSFS_MAGIC
}

// forwardsFile keeps the IDs of a container's slirp4netns forwards.
func (m *Manager) forwardsFile(containerID string) string {
	return filepath.Join(m.slirpDir(), "forwards-"+containerID)
}

// rootlessForward forwards the container's published ports from the host into the rootless
// network namespace; on failure none is left.
func (m *Manager) rootlessForward(containerID string, ports []PortMapping) error {
	_, sock, _ := m.slirpFiles(RootlessNetNS)
	var ids []int
	for _, p := range ports {
		p.ContainerPort = p.HostPort // in the namespace, the port's DNAT rule takes it on
		id, err := slirpForwardTo(sock, p, SlirpGuestIP)
		if err != nil {
			for _, id := range ids {
				slirpUnforward(sock, id)
			}
			return err
		}
		ids = append(ids, id)
	}
	b, _ := json.Marshal(forwardsRecord{IDs: ids, Ports: &ports})
	return os.WriteFile(m.forwardsFile(containerID), b, 0o600)
}

// forwardsRecord is a container's forwards file: slirp4netns's IDs of its forwards, and the
// ports, to forward again should slirp4netns be restarted.
type forwardsRecord struct {
	IDs   []int          `json:"ids"`
	Ports *[]PortMapping `json:"ports"`
}

// reforward adds again, to a new slirp4netns, the forwards of the containers that had some.
func (m *Manager) reforward() {
	files, _ := filepath.Glob(m.forwardsFile("*"))
	for _, f := range files {
		id := strings.TrimPrefix(filepath.Base(f), "forwards-")
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var ports []PortMapping
		if json.Unmarshal(b, &forwardsRecord{Ports: &ports}) != nil || len(ports) == 0 {
			continue
		}
		if err := m.rootlessForward(id, ports); err != nil {
			slog.Warn("rootless network: cannot forward the published ports again", "container", id, "error", err)
		}
	}
}

// rootlessUnforward removes the container's forwards (none: nothing to do).
func (m *Manager) rootlessUnforward(containerID string) {
	b, err := os.ReadFile(m.forwardsFile(containerID))
	if err != nil {
		return
	}
	var rec forwardsRecord
	json.Unmarshal(b, &rec)
	_, sock, _ := m.slirpFiles(RootlessNetNS)
	for _, id := range rec.IDs {
		slirpUnforward(sock, id)
	}
	os.Remove(m.forwardsFile(containerID))
}

// setupRootless is Setup for a manager working in the rootless network namespace: the DNAT
// rules there match any address (traffic arrives from slirp4netns for 10.0.2.100), and the
// host side of each port, with its address, is a slirp4netns forward.
func (m *Manager) setupRootless(ctx context.Context, o AttachOptions) ([]Status, error) {
	hostPorts := o.Ports
	if len(o.Ports) > 0 {
		o.Ports = slices.Clone(o.Ports)
		for i := range o.Ports {
			o.Ports[i].HostIP = ""
		}
	}
	st, err := within(m, func() ([]Status, error) { return m.setupHere(ctx, o) })
	if err != nil || len(hostPorts) == 0 {
		return st, err
	}
	if err := m.rootlessForward(o.ContainerID, hostPorts); err != nil {
		m.Teardown(context.WithoutCancel(ctx), o)
		return nil, err
	}
	return st, nil
}

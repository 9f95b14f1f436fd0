package network

import (
	"context"
	"fmt"
	"os"

	"github.com/containernetworking/cni/libcni"
)

// Reload makes again the firewall rules a container's attachments need, after something (a
// host firewall reload, an `iptables -F`) removed them: each bridge network's NAT and
// forwarding chains, and the container's published ports, on the addresses its cached CNI
// results hold. Rules still there are replaced, not doubled. It returns the networks reloaded.
func (m *Manager) reloadHere(ctx context.Context, containerID string) ([]string, error) {
	c := m.cniConfig()
	atts, err := c.GetCachedAttachments(containerID)
	if err != nil {
		return nil, err
	}
	if len(atts) == 0 {
		return nil, fmt.Errorf("container %s is attached to no network", containerID)
	}
	var done []string
	for _, att := range atts {
		n, err := m.Get(att.Network)
		if err != nil {
			return done, err
		}
		if needsMasq(n) {
			os.Remove(m.masqMarker(n)) // the cached "present" no longer holds
			if err := m.withLock(func() error { return m.makeMasq(n) }); err != nil {
				return done, err
			}
		}
		ports := capPorts(att.CapabilityArgs)
		if len(ports) > 0 {
			list, err := libcni.ConfListFromBytes(att.Config)
			if err != nil {
				return done, err
			}
			if listHasPortmap(list) {
				// An attachment of an earlier pea, whose ports CNI's portmap plugin made: pea
				// cannot remake that plugin's rules; `pea update --publish` moves them to pea's.
				return done, fmt.Errorf("network %s: the ports of container %s were published by CNI's portmap plugin, which pea cannot reload", n.Name, containerID)
			}
			rt := &libcni.RuntimeConf{ContainerID: containerID, NetNS: att.NetNS, IfName: att.IfName, Args: att.CniArgs, CapabilityArgs: att.CapabilityArgs}
			prev, err := c.GetNetworkListCachedResult(list, rt)
			if err != nil || prev == nil {
				return done, fmt.Errorf("network %s: no cached result for %s: %v", n.Name, containerID, err)
			}
			targets := resultTargets(prev, att.IfName)
			// What is left of the rules goes first (a whole set is removed as one, a partial
			// one swept by its comment), then the whole set is made.
			if err := m.unpublishPorts(n.Name, containerID, targets, ports); err != nil {
				return done, err
			}
			if err := m.publishPorts(n, containerID, targets, ports); err != nil {
				return done, err
			}
		}
		done = append(done, n.Name)
	}
	return done, nil
}

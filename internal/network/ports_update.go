package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// UpdatePorts replaces the ports a running container publishes, without touching its
// interfaces or addresses: the old mappings' rules are removed and the new ones made on the
// address the cached result holds, and the CNI cache is rewritten so that Teardown later
// removes the new mappings. podman cannot do this (its issues 18309 and 5939: ports are fixed
// at creation).
func (m *Manager) updatePortsHere(ctx context.Context, containerID string, ports []PortMapping) error {
	c := m.cniConfig()
	atts, err := c.GetCachedAttachments(containerID)
	if err != nil {
		return err
	}
	var att *libcni.NetworkAttachment
	for _, a := range atts {
		if _, ok := a.CapabilityArgs["portMappings"]; ok {
			att = a
			break
		}
	}
	if att == nil {
		for _, a := range atts {
			if n, err := m.Get(a.Network); err == nil && n.Driver == "bridge" && !n.Internal {
				att = a
				break
			}
		}
	}
	if att == nil {
		return invalidf("container %s is attached to no bridge network that can publish ports", containerID)
	}
	n, err := m.Get(att.Network)
	if err != nil {
		return err
	}
	list, err := libcni.ConfListFromBytes(att.Config)
	if err != nil {
		return err
	}
	rt := &libcni.RuntimeConf{ContainerID: containerID, NetNS: att.NetNS, IfName: att.IfName, Args: att.CniArgs, CapabilityArgs: att.CapabilityArgs}
	prev, err := c.GetNetworkListCachedResult(list, rt)
	if err != nil || prev == nil {
		return fmt.Errorf("network %s: no cached result for %s: %v", att.Network, containerID, err)
	}
	targets := resultTargets(prev, att.IfName)
	old := capPorts(att.CapabilityArgs)
	// An attachment made by an earlier pea ran portmap: it removes its own rules, and the
	// attachment's cached list loses it, so that its DEL no longer runs it.
	var config []byte
	if listHasPortmap(list) {
		if len(old) > 0 {
			if err := m.portmapDel(ctx, list, rt, prev, old); err != nil {
				return fmt.Errorf("network %s: removing the old port mappings: %w", att.Network, err)
			}
		}
		config, old = withoutIdlePortmap(att.Config, nil), nil
	}
	if len(old) > 0 {
		if err := m.unpublishPorts(att.Network, containerID, targets, old); err != nil {
			return fmt.Errorf("network %s: removing the old port mappings: %w", att.Network, err)
		}
	}
	if len(ports) > 0 {
		if err := m.publishPorts(n, containerID, targets, ports); err != nil {
			if len(old) > 0 {
				if rerr := m.publishPorts(n, containerID, targets, old); rerr != nil {
					return errors.Join(err, rerr)
				}
			}
			return err
		}
	}
	return m.rewriteCachedPorts(list.Name, containerID, att.IfName, ports, config)
}

// portmapDel runs CNI's portmap plugin's DEL for mappings an earlier pea published with it.
func (m *Manager) portmapDel(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf, prev any, pms []PortMapping) error {
	portmap := findPlugin(list, "portmap")
	if portmap == nil {
		return fmt.Errorf("network %s: the cached configuration has no portmap plugin", list.Name)
	}
	var conf map[string]any
	if err := json.Unmarshal(portmap.Bytes, &conf); err != nil {
		return err
	}
	conf["name"], conf["cniVersion"] = list.Name, list.CNIVersion
	conf["runtimeConfig"] = map[string]any{"portMappings": pms}
	conf["prevResult"] = prev
	stdin, err := json.Marshal(conf)
	if err != nil {
		return err
	}
	cpupin.Release() // a child inherits the CPU set
	path, err := invoke.FindInPath("portmap", m.pluginDirs)
	if err != nil {
		return err
	}
	args := &invoke.Args{Command: "DEL", ContainerID: rt.ContainerID, NetNS: rt.NetNS, IfName: rt.IfName, Path: strings.Join(m.pluginDirs, ":")}
	return invoke.ExecPluginWithoutResult(ctx, path, stdin, args, nil)
}

// rewriteCachedPorts records the container's new port mappings in libcni's cache entry
// (kind cniCacheV1), atomically, and its configuration list when config is not nil.
func (m *Manager) rewriteCachedPorts(network, containerID, ifname string, ports []PortMapping, config []byte) error {
	path := filepath.Join(m.cacheDir(), "results", network+"-"+containerID+"-"+ifname)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("CNI cache of %s: %w", containerID, err)
	}
	var entry map[string]any
	if err := json.Unmarshal(data, &entry); err != nil {
		return err
	}
	if entry["kind"] != "cniCacheV1" {
		return fmt.Errorf("CNI cache of %s has an unknown format %v: %w", containerID, entry["kind"], errdefs.ErrInvalid)
	}
	caps, _ := entry["capabilityArgs"].(map[string]any)
	if caps == nil {
		caps = map[string]any{}
	}
	if len(ports) > 0 {
		caps["portMappings"] = ports
	} else {
		delete(caps, "portMappings")
	}
	entry["capabilityArgs"] = caps
	if config != nil {
		entry["config"] = config // []byte: encoded as base64, as libcni writes it
	}
	out, err := json.Marshal(entry)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

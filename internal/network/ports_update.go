package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"

	"pea/internal/cpupin"
	"pea/internal/errdefs"
)

// UpdatePorts replaces the ports a running container publishes, without touching its
// interfaces or addresses: only the portmap plugin of its port network is run again (DEL with
// the old mappings, ADD with the new ones, chained on the cached result), and the CNI cache is
// rewritten so that Teardown later removes the new mappings. podman cannot do this (its issues
// 18309 and 5939: ports are fixed at creation).
func (m *Manager) UpdatePorts(ctx context.Context, containerID string, ports []PortMapping) error {
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
	list, err := libcni.ConfListFromBytes(att.Config)
	if err != nil {
		return err
	}
	var portmap *libcni.PluginConfig
	for _, p := range list.Plugins {
		if p.Network.Type == "portmap" {
			portmap = p
		}
	}
	if portmap == nil {
		return invalidf("network %s has no portmap plugin", att.Network)
	}
	rt := &libcni.RuntimeConf{ContainerID: containerID, NetNS: att.NetNS, IfName: att.IfName, Args: att.CniArgs, CapabilityArgs: att.CapabilityArgs}
	prev, err := c.GetNetworkListCachedResult(list, rt)
	if err != nil || prev == nil {
		return fmt.Errorf("network %s: no cached result for %s: %v", att.Network, containerID, err)
	}
	var old []PortMapping
	if raw, ok := att.CapabilityArgs["portMappings"]; ok {
		b, _ := json.Marshal(raw)
		json.Unmarshal(b, &old)
	}
	run := func(cmd string, pms []PortMapping) error {
		if len(pms) == 0 {
			return nil
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
		args := &invoke.Args{Command: cmd, ContainerID: containerID, NetNS: att.NetNS, IfName: att.IfName,
			Path: joinPath(m.pluginDirs)}
		if cmd == "ADD" {
			_, err = invoke.ExecPluginWithResult(ctx, path, stdin, args, nil)
		} else {
			err = invoke.ExecPluginWithoutResult(ctx, path, stdin, args, nil)
		}
		return err
	}
	if err := run("DEL", old); err != nil {
		return fmt.Errorf("network %s: removing the old port mappings: %w", att.Network, err)
	}
	if err := run("ADD", ports); err != nil {
		run("DEL", ports)
		if rerr := run("ADD", old); rerr != nil {
			return errors.Join(err, rerr)
		}
		return fmt.Errorf("network %s: publishing the new ports: %w", att.Network, err)
	}
	return m.rewriteCachedPorts(list.Name, containerID, att.IfName, ports)
}

// rewriteCachedPorts records the container's new port mappings in libcni's cache entry
// (kind cniCacheV1), atomically.
func (m *Manager) rewriteCachedPorts(network, containerID, ifname string, ports []PortMapping) error {
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

func joinPath(dirs []string) string {
	s := ""
	for i, d := range dirs {
		if i > 0 {
			s += ":"
		}
		s += d
	}
	return s
}

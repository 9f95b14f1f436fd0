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
	var portmap *libcni.NetworkConfig
	for _, p := range list.Plugins {
		if p.Network.Type == "portmap" {
			portmap = p
		}
	}
	// An attachment made without ports was made without portmap (see runtimeListFor): take the
	// network's, and record it in the attachment's cached list with the new ports, so that its
	// DEL removes them.
	var withPortmap []byte
	if portmap == nil {
		if portmap, withPortmap, err = m.addPortmap(att.Network, att.Config); err != nil {
			return err
		}
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
	return m.rewriteCachedPorts(list.Name, containerID, att.IfName, ports, withPortmap)
}

// addPortmap returns the network's portmap plugin and the attachment's cached list config with
// it appended.
func (m *Manager) addPortmap(network string, config []byte) (*libcni.NetworkConfig, []byte, error) {
	current, err := m.runtimeList(network, nil, true)
	if err != nil {
		return nil, nil, err
	}
	var portmap *libcni.NetworkConfig
	for _, p := range current.Plugins {
		if p.Network.Type == "portmap" {
			portmap = p
		}
	}
	if portmap == nil {
		return nil, nil, invalidf("network %s has no portmap plugin", network)
	}
	var list map[string]any
	if err := json.Unmarshal(config, &list); err != nil {
		return nil, nil, fmt.Errorf("network %s: cached configuration: %w", network, err)
	}
	var plugin map[string]any
	if err := json.Unmarshal(portmap.Bytes, &plugin); err != nil {
		return nil, nil, err
	}
	delete(plugin, "prevResult")
	plugins, _ := list["plugins"].([]any)
	list["plugins"] = append(plugins, plugin)
	out, err := json.Marshal(list)
	if err != nil {
		return nil, nil, err
	}
	return portmap, out, nil
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

package network

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// removeOrphans takes down what the bridge networks of deleted stores left on the host. A store
// removed by hand (rm -rf of its --root) without `system reset` or `network rm` loses its
// conflists, but its networks' bridges stay, and their NAT and forwarding chains, which are made
// with a network and removed with it. The claim registry still names those networks: reg.gone,
// the claims sweep just dropped because their conflist is gone. For each such network, unless a
// container still sits on its bridge (a store deleted under running containers, left alone):
//
//   - its bridge is deleted, when no network that still exists claims the name, the link is a
//     bridge, and it carries no global address outside the network's subnets (bridgeIsOurs,
//     as for network rm);
//   - its chains go as a store's own go when their network is missing (sweepOrphanMasq): the
//     rules commented with the network's name whose chains are the ones its store would name
//     (the hash of the conflist's directory, the name and the subnet), so another store's
//     chains stay, even for a network of the same name.
//
// The caller holds the registry's lock, so no store can claim a freed name before its bridge is
// gone. Every step is best effort: what fails stays, as it would have without this.
func removeOrphans(reg *registry) {
	for config, claims := range reg.gone {
		name := strings.TrimSuffix(filepath.Base(config), ".conflist")
		n := &Network{Name: name, Driver: "bridge"}
		var bridges []string
		for _, c := range claims {
			switch c.kind {
			case "bridge":
				bridges = append(bridges, c.key)
			case "subnet":
				n.Subnets = append(n.Subnets, Subnet{Subnet: c.key})
			}
		}
		if inUse(bridges) {
			continue
		}
		for _, b := range bridges {
			if b == "" || reg.claimed("bridge", b) || !isBridge(b) {
				continue
			}
			n.NetworkInterface = b
			if bridgeIsOurs(n) {
				if err := deleteLink(b); err != nil {
					slog.Warn("bridge of a deleted store's network", "bridge", b, "network", config, "err", err)
				}
			}
		}
		(&Manager{configDir: filepath.Dir(config)}).sweepOrphanMasq(name)
	}
	reg.gone = nil
}

// inUse reports whether any of the bridges has a port: a container of the network still runs.
func inUse(bridges []string) bool {
	for _, b := range bridges {
		if ports, err := os.ReadDir("/sys/class/net/" + b + "/brif"); err == nil && len(ports) > 0 {
			return true
		}
	}
	return false
}

// isBridge reports whether the host link name exists and is a bridge.
func isBridge(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name + "/bridge")
	return err == nil
}

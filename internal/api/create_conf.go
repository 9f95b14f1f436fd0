package api

import (
	"fmt"

	"pea/internal/conf"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
)

// The containers.conf keys podman 4.3's service fills in for a create request that left them
// unset, beyond those the engine applies to every creation (engine/conf.go). podman's own
// client sends its flags' defaults (read from the client's file), so these reach the requests
// of other clients: curl, compose, the docker client. Compared with podman 4.3.1's service:
//   - both APIs: pidns, utsns, ipcns, userns (not for a pod's member, which joins the pod's),
//     tz, shm_size (with an IPC namespace of the container's own), no_hosts, default_network
//     (for a bridge namespace naming no network), and default_ulimits, devices and volumes
//     merged under the request's own;
//   - the libpod API also: netns, umask, [engine] stop_timeout. The Docker API keeps Docker's
//     network mode, umask and stop timeout.
// Neither applies init (podman's service does not).

// confUnset names the settings a create request left for containers.conf.
type confUnset struct {
	pid, uts, ipc, userns, netns    bool
	tz, umask, shmSize, stopTimeout bool
	noHosts                         bool
}

// applyServerConf gives cfg containers.conf's values for what u names, and merges the
// configured ulimits, devices and volumes under the request's own: the request's win for the
// same limit, container path or destination (podman 4.3 drops the configured ulimits whole once
// a request names one; pea's run merges them so, too).
func applyServerConf(c *conf.Config, cfg *model.ContainerConfig, u confUnset) error {
	ct := &c.Containers
	fail := func(key, value string, err error) error {
		return fmt.Errorf("containers.conf %s %q: %v: %w", key, value, err, errdefs.ErrInvalid)
	}
	// podman's private (shareable for IPC) and host user namespace are pea's defaults.
	for _, n := range []struct {
		kind, key, value, dflt string
		unset                  bool
	}{
		{model.NSPid, "pidns", ct.PidNS, model.NSModePrivate, u.pid},
		{model.NSUts, "utsns", ct.UTSNS, model.NSModePrivate, u.uts},
		{model.NSIpc, "ipcns", ct.IPCNS, model.NSModeShareable, u.ipc},
	} {
		if !n.unset || n.value == "" || n.value == n.dflt {
			continue
		}
		ns, err := engine.ParseNamespace(n.kind, n.value)
		if err != nil {
			return fail(n.key, n.value, err)
		}
		cfg.Namespaces[n.kind] = ns
	}
	if v := ct.UserNS; u.userns && v != "" && v != model.NSModeHost {
		ns, err := engine.ParseUserNS(v, false)
		if err != nil {
			return fail("userns", v, err)
		}
		if ns.Mode != model.NSModeHost {
			cfg.Namespaces[model.NSUser] = ns
		}
	}
	if v := ct.NetNS; u.netns && v != "" && v != model.NSModePrivate && v != model.NSModeBridge {
		cfg.Namespaces[model.NSNet], cfg.Network.Networks = engine.NetworkMode(v)
	}
	if n := c.Network.DefaultNetworkName(); n != "" && cfg.NS(model.NSNet).Mode == model.NSModeBridge && len(cfg.Network.Networks) == 0 {
		cfg.Network.Networks = []string{n}
	}
	if u.tz && ct.TZ != "" {
		cfg.Timezone = ct.TZ
	}
	if u.umask && ct.Umask != "" {
		cfg.Umask = ct.Umask
	}
	if m := cfg.NS(model.NSIpc).Mode; u.shmSize && ct.ShmSize != "" && m != model.NSModeHost && m != model.NSModeNone && m != model.NSModeContainer {
		size, err := engine.ParseDecimalSize(ct.ShmSize)
		if err != nil {
			return fail("shm_size", ct.ShmSize, err)
		}
		cfg.Resources.ShmSize = size
	}
	if u.stopTimeout && c.IsSet("engine.stop_timeout") {
		cfg.StopTimeout = uint(c.Engine.StopTimeout)
	}
	if u.noHosts && ct.NoHosts {
		cfg.Network.NoHosts = true
	}
	return engine.MergeConfLists(ct, cfg)
}

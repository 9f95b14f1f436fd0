package engine

import (
	"context"
	"fmt"

	"pea/internal/errdefs"
	"pea/internal/model"
)

// ReloadNetwork makes again the firewall rules of a running container's networks (its NAT,
// forwarding and published ports), after a host firewall reload or an `iptables -F` removed
// them (`pea network reload`). A container that joins another's network namespace (a pod
// member joins its infra's) has that one's rules reloaded. It returns the container's ID.
func (r *Runtime) ReloadNetwork(ctx context.Context, nameOrID string) (string, error) {
	l, c, err := r.lookupAndLock(nameOrID)
	if err != nil {
		return "", err
	}
	defer l.Unlock()
	if err := r.syncLocked(c); err != nil {
		return "", err
	}
	owner := c
	if ns := c.Config.NS(model.NSNet); ns.Mode == model.NSModeContainer && c.State.Live() {
		if owner, err = r.LookupContainer(ns.Value); err != nil {
			return "", err
		}
	}
	if !owner.State.Live() || owner.State.NetNS == "" {
		return "", fmt.Errorf("cannot reload network unless container network has been configured: %w", errdefs.ErrCtrStateInvalid)
	}
	if _, err := r.networks().Reload(ctx, owner.Config.ID); err != nil {
		return "", fmt.Errorf("reloading the network of %s: %w", c.Config.Name, err)
	}
	return c.Config.ID, nil
}

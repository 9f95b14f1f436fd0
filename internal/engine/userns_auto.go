package engine

// --userns auto: a user namespace of the container's own whose host IDs pea picks, from the
// ranges /etc/subuid and /etc/subgid give the user "containers" (as podman reads them; a
// rootless pea's from the user's own subordinate IDs), so that no two containers of the store
// share a host ID. The picked mappings are stored with the
// container (UIDMap, GIDMap) and free again once it is removed.

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/rootless"
)

// subIDUser is the user whose subordinate ID ranges --userns auto takes IDs from.
const subIDUser = "containers"

// defaultAutoSize is the number of IDs --userns auto maps without size=: enough for any ID an
// image's files or users use (nobody is 65534), where podman computes the size from the image.
const defaultAutoSize = 65536

var subUIDFile, subGIDFile = "/etc/subuid", "/etc/subgid"

// parseAutoUserNS parses the options of --userns auto[:size=N].
func parseAutoUserNS(opts string) (model.Namespace, error) {
	ns := model.Namespace{Mode: model.NSModePrivate, Value: model.UserNSAuto}
	if opts == "" {
		return ns, nil
	}
	for _, o := range strings.Split(opts, ",") {
		k, v, _ := strings.Cut(o, "=")
		if k != "size" {
			return model.Namespace{}, fmt.Errorf("invalid --userns auto option %q (size=N): %w", o, errdefs.ErrInvalid)
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return model.Namespace{}, fmt.Errorf("invalid --userns auto size %q: a number of IDs from 1: %w", v, errdefs.ErrInvalid)
		}
		ns.Value = model.UserNSAuto + ":size=" + strconv.FormatUint(n, 10)
	}
	return ns, nil
}

// isAutoUserNS reports whether ns asks pea to pick the mappings, and how many IDs.
func isAutoUserNS(ns model.Namespace) (size uint32, ok bool) {
	if ns.Mode != model.NSModePrivate || !strings.HasPrefix(ns.Value, model.UserNSAuto) {
		return 0, false
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(ns.Value, model.UserNSAuto+":size="), 10, 32); err == nil {
		return uint32(n), true
	}
	if rootless.Active() {
		return rootlessAutoSize, true
	}
	return defaultAutoSize, true
}

// pickAutoMappings gives cfg, which asks for --userns auto and has no mappings yet, mappings
// of free host IDs. It returns the unlock of the store-wide lock it took, which the caller
// holds until the container is stored, so that no other creation picks the same IDs.
func (r *Runtime) pickAutoMappings(cfg *model.ContainerConfig) (unlock func(), err error) {
	size, ok := isAutoUserNS(cfg.UserNS())
	if !ok || len(cfg.UIDMap) > 0 {
		return func() {}, nil
	}
	st, err := r.state()
	if err != nil {
		return nil, err
	}
	l, err := r.locks.Lock("userns-auto")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			l.Unlock()
		}
	}()
	users, err := st.ContainersWithIDMaps()
	if err != nil {
		return nil, err
	}
	var usedU, usedG []model.IDMap
	for _, c := range users {
		usedU, usedG = append(usedU, c.Config.UIDMap...), append(usedG, c.Config.GIDMap...)
	}
	uRanges, gRanges, where, err := autoRanges()
	if err != nil {
		return nil, err
	}
	uid, err := pickRange(uRanges, size, usedU, where[0])
	if err != nil {
		return nil, err
	}
	gid, err := pickRange(gRanges, size, usedG, where[1])
	if err != nil {
		return nil, err
	}
	cfg.UIDMap = []model.IDMap{{ContainerID: 0, HostID: uid, Size: size}}
	cfg.GIDMap = []model.IDMap{{ContainerID: 0, HostID: gid, Size: size}}
	return l.Unlock, nil
}

// autoRanges are the host IDs --userns auto takes from (start, count), user IDs and group
// IDs, and where each comes from: as root, the subordinate ranges of subIDUser; rootless, the
// subordinate IDs of pea's namespace (1..., the user's own 0 left out), as podman's.
func autoRanges() (uids, gids [][2]uint64, where [2]string, err error) {
	if rootless.Active() {
		nu, ng := rootless.IDCounts()
		if nu > 1 {
			uids = [][2]uint64{{1, uint64(nu) - 1}}
		}
		if ng > 1 {
			gids = [][2]uint64{{1, uint64(ng) - 1}}
		}
		return uids, gids, [2]string{"the user's subordinate IDs (/etc/subuid)", "the user's subordinate IDs (/etc/subgid)"}, nil
	}
	if uids, err = subIDRanges(subUIDFile, subIDUser); err != nil {
		return nil, nil, where, err
	}
	if gids, err = subIDRanges(subGIDFile, subIDUser); err != nil {
		return nil, nil, where, err
	}
	return uids, gids, [2]string{subUIDFile, subGIDFile}, nil
}

// pickRange returns the lowest host ID that starts size IDs within ranges (from where) and
// outside every used range.
func pickRange(ranges [][2]uint64, size uint32, used []model.IDMap, where string) (uint32, error) {
	if len(ranges) == 0 {
		if rootless.Active() {
			return 0, fmt.Errorf("--userns auto: the user has no subordinate IDs in /etc/subuid and /etc/subgid: %w", errdefs.ErrInvalid)
		}
		return 0, fmt.Errorf("--userns auto: %s gives the user %q no IDs (add a line such as %s:2147483647:2147483648): %w", where, subIDUser, subIDUser, errdefs.ErrInvalid)
	}
	slices.SortFunc(used, func(a, b model.IDMap) int { return int(int64(a.HostID) - int64(b.HostID)) })
	for _, rg := range ranges {
		start, end := rg[0], rg[0]+rg[1] // end exclusive, below 2^33
		for _, u := range used {
			us, ue := uint64(u.HostID), uint64(u.HostID)+uint64(u.Size)
			if ue <= start || us >= end {
				continue
			}
			if us >= start+uint64(size) {
				break // the gap before u is large enough
			}
			start = max(start, ue)
		}
		if start+uint64(size) <= end && start+uint64(size) < 1<<32 {
			return uint32(start), nil
		}
	}
	if rootless.Active() {
		return 0, fmt.Errorf("--userns auto: no %d IDs of %s are left free by the store's containers: %w", size, where, errdefs.ErrInvalid)
	}
	return 0, fmt.Errorf("--userns auto: no %d IDs of the user %q in %s are left free by the store's containers: %w", size, subIDUser, where, errdefs.ErrInvalid)
}

// subIDRanges reads the ranges (start, count) file gives user, in the file's order.
func subIDRanges(file, user string) ([][2]uint64, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][2]uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(p) != 3 || p[0] != user {
			continue
		}
		start, err1 := strconv.ParseUint(p[1], 10, 32)
		count, err2 := strconv.ParseUint(p[2], 10, 32)
		if err1 == nil && err2 == nil && count > 0 {
			out = append(out, [2]uint64{start, count})
		}
	}
	return out, sc.Err()
}

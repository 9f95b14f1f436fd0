package cli

import (
	"github.com/spf13/pflag"

	"pea/internal/engine"
	"pea/internal/model"
)

// podCloneNS are pod clone's flags that are pod create's: the cgroup parent, the user, PID and
// UTS namespaces, --volumes-from and the infra conmon PID file. They land in a podCreateOptions
// and pod create's code parses them; what was given replaces (or, for --volumes-from, adds to)
// the original pod's.
type podCloneNS struct {
	create podCreateOptions
}

func (c *podCloneNS) register(f *pflag.FlagSet) {
	o := &c.create
	f.StringVar(&o.cgroupParent, "cgroup-parent", "", "parent of the new pod's cgroup")
	f.StringVar(&o.userns, "userns", "", "user namespace of the new pod: host, auto[:size=N], ns:PATH")
	listVar(f, &o.uidmap, "uidmap", nil, "a user namespace for the new pod mapping UIDs: CONTAINER_UID:HOST_UID:SIZE")
	listVar(f, &o.gidmap, "gidmap", nil, "a user namespace for the new pod mapping GIDs: CONTAINER_GID:HOST_GID:SIZE")
	f.StringVar(&o.more.subUIDName, "subuidname", "", "a user namespace for the new pod mapping the UIDs of this name's /etc/subuid ranges")
	f.StringVar(&o.more.subGIDName, "subgidname", "", "a user namespace for the new pod mapping the GIDs of this name's /etc/subgid ranges")
	f.StringVar(&o.pid, "pid", "", "PID namespace of the new pod: host or private")
	f.StringVar(&o.uts, "uts", "", "UTS namespace of the new pod: host or private")
	f.StringArrayVar(&o.more.volumesFrom, "volumes-from", nil, "also give every member the volumes and bind mounts of a container: CTR[:ro|rw]")
	f.StringVar(&o.more.infraConmonPidFile, "infra-conmon-pidfile", "", "write the new infra container's conmon PID to this host file")
}

// apply parses the flags given, as pod create does, into o.
func (c *podCloneNS) apply(o *engine.PodCloneOptions, changed func(string) bool) error {
	src := &c.create
	src.infra = true // the engine refuses what needs an infra container the original lacks
	if err := src.more.prepare(src); err != nil {
		return err
	}
	parsed := &model.PodConfig{HasInfra: true}
	if err := src.applyNamespaces(parsed); err != nil {
		return err
	}
	if err := src.more.apply(parsed); err != nil {
		return err
	}
	if changed("userns") || changed("uidmap") || changed("gidmap") || changed("subuidname") || changed("subgidname") {
		o.UserNS = &engine.PodUserNS{NS: parsed.UserNS, UIDMap: parsed.UIDMap, GIDMap: parsed.GIDMap}
	}
	o.CgroupParent, o.PidMode, o.UtsMode = src.cgroupParent, parsed.PidMode, parsed.UtsMode
	o.VolumesFrom, o.InfraConmonPidFile = parsed.VolumesFrom, parsed.InfraConmonPidFile
	return nil
}

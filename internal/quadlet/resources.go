package quadlet

import (
	"fmt"
	"os/user"
	"path/filepath"
	"strconv"
)

// oneshot makes svc a service that runs once and stays active (volumes and networks).
func oneshot(svc *unitFile, start []string) {
	svc.addDefault("Service", "Type", "oneshot")
	svc.addDefault("Service", "RemainAfterExit", "yes")
	svc.add("Service", "ExecStart", commandLine(start))
	svc.addDefault("Service", "SyslogIdentifier", "%N")
}

// createHead is what a .volume's and a .network's service begin with: the section's keys
// checked, the object's name (systemd-NAME, or nameKey=) and `pea OBJECT create --ignore`.
func (g *generator) createHead(u *unitFile, sec, object, nameKey string, keys []string) (string, *argv, error) {
	if err := checkKeys(u, sec, keys); err != nil {
		return "", nil, err
	}
	name := defaultName(u, false)
	if v, ok := u.last(sec, nameKey); ok && v != "" {
		name = v
	}
	create, err := g.pea(u, sec, object, "create", "--ignore")
	if err != nil {
		return "", nil, err
	}
	return name, &argv{u: u, sec: sec, args: create}, nil
}

// volume converts a .volume file: NAME-volume.service creates the volume (systemd-NAME, or
// VolumeName=) once, with `pea volume create --ignore` (an existing volume is kept as it is).
func (g *generator) volume(u *unitFile) (*unitFile, error) {
	const sec = "Volume"
	name, a, err := g.createHead(u, sec, "volume", "VolumeName", []string{"Copy", "Device", "GlobalArgs", "Group", "Label", "Options",
		"PodmanArgs", "ServiceName", "Type", "User", "VolumeName"})
	if err != nil {
		return nil, err
	}
	a.scalarJoined("Device", "--opt=device=")
	a.scalarJoined("Type", "--opt=type=")
	a.scalarJoined("Options", "--opt=o=")
	if u.has(sec, "Copy") {
		on, err := boolean(u, sec, "Copy", true)
		if err != nil {
			return nil, err
		}
		if on {
			a.add("--opt=copy")
		} else {
			a.add("--opt=nocopy")
		}
	}
	for _, id := range []struct{ key, opt string }{{"User", "uid"}, {"Group", "gid"}} {
		v, ok := u.last(sec, id.key)
		if !ok || v == "" {
			continue
		}
		n, err := hostID(v, id.key == "Group")
		if err != nil {
			return nil, err
		}
		a.add("--opt=" + id.opt + "=" + n)
	}
	a.env("Label", "--label")
	a.words("PodmanArgs")
	a.add(name)
	if a.err != nil {
		return nil, a.err
	}
	svc := g.service(u, sec)
	oneshot(svc, a.args)
	g.names[u.filename] = name
	return svc, nil
}

// hostID is the number of a host user or group given by number or name.
func hostID(v string, group bool) (string, error) {
	if _, err := strconv.ParseUint(v, 10, 32); err == nil {
		return v, nil
	}
	if group {
		g, err := user.LookupGroup(v)
		if err != nil {
			return "", fmt.Errorf("Group=%s: %w", v, err)
		}
		return g.Gid, nil
	}
	usr, err := user.Lookup(v)
	if err != nil {
		return "", fmt.Errorf("User=%s: %w", v, err)
	}
	return usr.Uid, nil
}

// network converts a .network file: NAME-network.service creates the network (systemd-NAME,
// or NetworkName=) once, with `pea network create --ignore`; NetworkDeleteOnStop=true removes
// it when the service stops.
func (g *generator) network(u *unitFile) (*unitFile, error) {
	const sec = "Network"
	name, a, err := g.createHead(u, sec, "network", "NetworkName", []string{"DisableDNS", "Driver", "Gateway", "GlobalArgs", "IPAMDriver",
		"IPRange", "IPv6", "InterfaceName", "Internal", "Label", "NetworkDeleteOnStop", "NetworkName",
		"Options", "PodmanArgs", "ServiceName", "Subnet"})
	if err != nil {
		return nil, err
	}
	a.flagIf("DisableDNS", "--disable-dns")
	a.scalar("Driver", "--driver")
	subnets, gateways, ranges := u.all(sec, "Subnet"), u.all(sec, "Gateway"), u.all(sec, "IPRange")
	switch {
	case len(gateways) > len(subnets):
		return nil, fmt.Errorf("cannot set more gateways than subnets")
	case len(ranges) > len(subnets):
		return nil, fmt.Errorf("cannot set more ranges than subnets")
	}
	for i, s := range subnets {
		a.add("--subnet", s)
		if i < len(gateways) {
			a.add("--gateway", gateways[i])
		}
		if i < len(ranges) {
			a.add("--ip-range", ranges[i])
		}
	}
	a.flagIf("IPv6", "--ipv6")
	a.flagIf("Internal", "--internal")
	a.scalar("IPAMDriver", "--ipam-driver")
	a.scalar("InterfaceName", "--interface-name")
	a.env("Options", "--opt")
	a.env("Label", "--label")
	a.words("PodmanArgs")
	a.add(name)
	if a.err != nil {
		return nil, a.err
	}
	svc := g.service(u, sec)
	oneshot(svc, a.args)
	del, err := boolean(u, sec, "NetworkDeleteOnStop", false)
	if err != nil {
		return nil, err
	}
	if del {
		rm, _ := g.pea(u, sec, "network", "rm", "-f", name)
		svc.add("Service", "ExecStopPost", commandLine(rm))
	}
	g.names[u.filename] = name
	return svc, nil
}

// kube converts a .kube file: NAME.service plays the YAML with `pea kube play --replace
// --service-container=true` and tears it down with `pea kube down` once it stopped. As
// podman's, it is a notify service: the play says READY with the service container's conmon
// as the main process, which lives until the pods' containers have exited.
func (g *generator) kube(u *unitFile) (*unitFile, error) {
	const sec = "Kube"
	if err := checkKeys(u, sec, []string{"ConfigMap", "GlobalArgs", "KubeDownForce", "LogDriver", "Network",
		"PodmanArgs", "PublishPort", "ServiceName", "SetWorkingDirectory", "UserNS", "Yaml"}); err != nil {
		return nil, err
	}
	yaml, ok := u.last(sec, "Yaml")
	if !ok || yaml == "" {
		return nil, fmt.Errorf("no Yaml key specified")
	}
	yaml = resolvePath(u, yaml)
	play, err := g.pea(u, sec, "kube", "play", "--replace", "--service-container=true")
	if err != nil {
		return nil, err
	}
	a := &argv{u: u, sec: sec, args: play}
	if err := g.networks(a); err != nil { // one --network each, NAME.network[:OPTIONS] too
		return nil, err
	}
	for _, c := range u.all(sec, "ConfigMap") {
		a.add("--configmap", resolvePath(u, c))
	}
	a.list("PublishPort", "--publish")
	a.scalar("UserNS", "--userns")
	a.scalar("LogDriver", "--log-driver")
	a.words("PodmanArgs")
	a.add(yaml)
	if a.err != nil {
		return nil, a.err
	}
	down, _ := g.pea(u, sec, "kube", "down")
	force, err := boolean(u, sec, "KubeDownForce", false)
	if err != nil {
		return nil, err
	}
	if force {
		down = append(down, "--force")
	}
	down = append(down, yaml)

	svc := g.service(u, sec)
	requireAll(svc, a.deps)
	svc.add("Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n")
	switch wd, _ := u.last(sec, "SetWorkingDirectory"); wd {
	case "":
	case "yaml":
		svc.addDefault("Service", "WorkingDirectory", filepath.Dir(yaml))
	case "unit":
		svc.addDefault("Service", "WorkingDirectory", escapeSpecifiers(filepath.Dir(u.path)))
	default:
		return nil, fmt.Errorf("SetWorkingDirectory=%s: yaml or unit", wd)
	}
	svc.addDefault("Service", "Type", "notify")
	svc.addDefault("Service", "NotifyAccess", "all")
	svc.add("Service", "ExecStart", commandLine(a.args))
	svc.addDefault("Service", "SyslogIdentifier", "%N")
	svc.add("Service", "ExecStopPost", commandLine(down))
	return svc, nil
}

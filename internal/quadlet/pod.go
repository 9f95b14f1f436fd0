package quadlet

import (
	"fmt"
	"slices"
	"strings"
)

// podKeys are the [Pod] keys pea reads: all that podman 5 documents but ContainersConfModule.
func podKeys() []string {
	return []string{
		"AddHost", "DNS", "DNSOption", "DNSSearch", "ExitPolicy", "GIDMap", "GlobalArgs", "HostName", "IP", "IP6",
		"Label", "Network", "NetworkAlias", "PodName", "PodmanArgs", "PublishPort", "ServiceName", "ShmSize",
		"SubGIDMap", "SubUIDMap", "UIDMap", "UserNS", "Volume",
	}
}

// pod converts a .pod file: NAME-pod.service creates the pod (systemd-NAME, or PodName=) in
// ExecStartPre= with `pea pod create --replace`, starts it, and stops and removes it. systemd
// follows the infra container's conmon (Type=forking, PIDFile= the --infra-conmon-pidfile),
// and the pod stops when its last container ends (--exit-policy=stop, unless ExitPolicy=).
// The services of the containers that join it (Pod=NAME.pod) are started with it (Wants=,
// Before=); theirs bind to it.
func (g *generator) pod(u *unitFile) (*unitFile, error) {
	const sec = "Pod"
	if err := checkKeys(u, sec, podKeys()); err != nil {
		return nil, err
	}
	name := defaultName(u, false)
	if v, ok := u.last(sec, "PodName"); ok && v != "" {
		name = v
	}
	exitPolicy := "stop"
	if v, ok := u.last(sec, "ExitPolicy"); ok && v != "" {
		exitPolicy = v
	}
	const idFile = "--pod-id-file=%t/%N.pod-id"
	create, err := g.pea(u, sec, "pod", "create", "--infra-conmon-pidfile=%t/%N.pid", idFile, "--exit-policy="+exitPolicy, "--replace")
	if err != nil {
		return nil, err
	}
	a := &argv{u: u, sec: sec, args: create}
	a.scalar("UserNS", "--userns")
	a.list("UIDMap", "--uidmap")
	a.list("GIDMap", "--gidmap")
	a.scalar("SubUIDMap", "--subuidname")
	a.scalar("SubGIDMap", "--subgidname")
	a.list("PublishPort", "--publish")
	if err := g.networks(a); err != nil {
		return nil, err
	}
	a.list("NetworkAlias", "--network-alias")
	if err := g.volumes(a); err != nil {
		return nil, err
	}
	a.list("AddHost", "--add-host")
	a.list("DNS", "--dns")
	a.list("DNSOption", "--dns-option")
	a.list("DNSSearch", "--dns-search")
	a.scalar("IP", "--ip")
	a.scalar("IP6", "--ip6")
	a.scalar("HostName", "--hostname")
	a.scalar("ShmSize", "--shm-size")
	a.env("Label", "--label")
	a.words("PodmanArgs")
	a.add("--infra-name", name+"-infra", "--name", name)
	if a.err != nil {
		return nil, a.err
	}

	svc := g.service(u, sec)
	requireAll(svc, a.deps)
	var members []string
	for _, m := range g.podMembers[u.filename] {
		if !slices.Contains(members, m) {
			members = append(members, m)
			svc.add("Unit", "Wants", m)
			svc.add("Unit", "Before", m)
		}
	}
	start, _ := g.pea(u, sec, "pod", "start", idFile)
	stop, _ := g.pea(u, sec, "pod", "stop", idFile, "--ignore", "--time=10")
	rm, _ := g.pea(u, sec, "pod", "rm", idFile, "--ignore", "--force")
	svc.add("Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n")
	svc.addDefault("Service", "Type", "forking")
	svc.addDefault("Service", "Restart", "on-failure")
	svc.addDefault("Service", "PIDFile", "%t/%N.pid")
	svc.addDefault("Service", "SyslogIdentifier", "%N")
	svc.add("Service", "ExecStartPre", commandLine(a.args))
	svc.add("Service", "ExecStart", commandLine(start))
	svc.add("Service", "ExecStop", commandLine(stop))
	svc.add("Service", "ExecStopPost", commandLine(rm))
	g.names[u.filename] = name
	return svc, nil
}

// joinPod puts the container of u into the pod of its Pod=NAME.pod: run joins it by the ID
// file the pod's service writes, and the container's service starts after the pod's and goes
// with it (BindsTo=).
func (g *generator) joinPod(u *unitFile, svc *unitFile, a *argv) error {
	ref, ok := u.last(a.sec, "Pod")
	if !ok || ref == "" {
		return nil
	}
	if !strings.HasSuffix(ref, ".pod") {
		return fmt.Errorf("Pod=%s: not a Quadlet .pod file (a pod made otherwise is joined with PodmanArgs=--pod)", ref)
	}
	_, podService, err := g.resource(ref)
	if err != nil {
		return err
	}
	a.add("--pod-id-file=%t/" + strings.TrimSuffix(podService, ".service") + ".pod-id")
	svc.add("Unit", "BindsTo", podService)
	svc.add("Unit", "After", podService)
	return nil
}

// podMembers maps each .pod file to the services of the containers that join it and start with
// it (StartWithPod=, true by default), for the pods' services to start.
func podMembers(units []*unitFile) map[string][]string {
	members := map[string][]string{}
	for _, u := range units {
		if sectionOf(u.filename) != "Container" {
			continue
		}
		ref, _ := u.last("Container", "Pod")
		if start, err := boolean(u, "Container", "StartWithPod", true); ref == "" || err != nil || !start {
			continue
		}
		members[ref] = append(members[ref], serviceName(u))
	}
	return members
}

package quadlet

import (
	"fmt"
	"strings"
)

// containerKeys are the [Container] keys pea reads.
func containerKeys() []string {
	return []string{
		"AddCapability", "AddDevice", "AddHost", "Annotation", "AutoUpdate", "CgroupsMode", "ContainerName",
		"DNS", "DNSOption", "DNSSearch", "DropCapability", "Entrypoint", "Environment", "EnvironmentFile",
		"EnvironmentHost", "Exec", "ExposeHostPort", "GIDMap", "GlobalArgs", "Group", "GroupAdd",
		"HealthCmd", "HealthInterval", "HealthOnFailure", "HealthRetries", "HealthStartPeriod", "HealthTimeout",
		"HealthStartupCmd", "HealthStartupInterval", "HealthStartupRetries", "HealthStartupSuccess", "HealthStartupTimeout",
		"HealthLogDestination", "HealthMaxLogCount", "HealthMaxLogSize",
		"HostName", "IP", "IP6", "Image", "Label", "LogDriver", "LogOpt", "Mask", "Memory", "Mount",
		"Network", "NetworkAlias", "NoNewPrivileges", "Notify", "PidsLimit", "Pod", "PodmanArgs", "PublishPort",
		"Pull", "ReadOnly", "ReadOnlyTmpfs", "ReloadCmd", "ReloadSignal", "Rootfs", "RunInit",
		"SeccompProfile", "Secret", "SecurityLabelDisable", "SecurityLabelFileType", "SecurityLabelLevel",
		"SecurityLabelNested", "SecurityLabelType", "ServiceName", "ShmSize", "StartWithPod", "StopSignal",
		"StopTimeout", "SubGIDMap", "SubUIDMap", "Sysctl", "Timezone", "Tmpfs", "UIDMap", "Ulimit", "Unmask", "User", "UserNS",
		"VolatileTmp", "Volume", "WorkingDir",
	}
}

// container converts a .container file: NAME.service runs the container with
// `pea run -d --replace --rm` and removes it when stopped. systemd follows the container's
// conmon: pea tells it conmon's PID and that the container started (--sdnotify=conmon,
// Type=notify), or with Notify=true leaves telling it to the container. Image=NAME.image or
// NAME.build runs the image that file pulls or builds; Pod=NAME.pod joins that file's pod.
func (g *generator) container(u *unitFile) (*unitFile, error) {
	const sec = "Container"
	if err := checkKeys(u, sec, containerKeys()); err != nil {
		return nil, err
	}
	image, hasImage := u.last(sec, "Image")
	rootfs, hasRootfs := u.last(sec, "Rootfs")
	switch {
	case hasImage && hasRootfs:
		return nil, fmt.Errorf("the Image and Rootfs keys conflict")
	case image == "" && rootfs == "":
		return nil, fmt.Errorf("no Image or Rootfs key specified")
	}
	svc := g.service(u, sec)
	name := defaultName(u, true)
	if v, ok := u.last(sec, "ContainerName"); ok && v != "" {
		name = v
	}
	run, err := g.pea(u, sec, "run", "--name="+name, "--cidfile=%t/%N.cid", "--replace", "--rm")
	if err != nil {
		return nil, err
	}
	rm, _ := g.pea(u, sec, "rm", "-f", "-i", "--cidfile=%t/%N.cid")
	a := &argv{u: u, sec: sec, args: run}
	if _, err := boolean(u, sec, "StartWithPod", true); err != nil {
		return nil, err
	}
	if err := g.joinPod(u, svc, a); err != nil {
		return nil, err
	}
	if image, err = g.imageArg(image, &a.deps); err != nil {
		return nil, err
	}

	if mode, ok := u.last(sec, "CgroupsMode"); ok && mode != "" {
		a.add("--cgroups=" + mode)
	}
	userType, _ := u.last("Service", "Type")
	if userType == "oneshot" {
		// The container runs to its end: run stays attached, and systemd's oneshot waits for it.
	} else {
		notify := "conmon"
		switch v, _ := u.last(sec, "Notify"); strings.ToLower(v) {
		case "healthy":
			return nil, fmt.Errorf("Notify=healthy: pea has no --sdnotify=healthy (use Notify=true and let the container notify)")
		default:
			on, err := boolean(u, sec, "Notify", false)
			if err != nil {
				return nil, err
			}
			if on {
				notify = "container"
			}
		}
		a.add("--sdnotify="+notify, "-d")
		svc.addDefault("Service", "Type", "notify")
		svc.addDefault("Service", "NotifyAccess", "all")
	}

	// Users and user namespaces.
	user, hasUser := u.last(sec, "User")
	group, hasGroup := u.last(sec, "Group")
	switch {
	case hasUser && hasGroup && group != "":
		a.add("--user", user+":"+group)
	case hasUser && user != "":
		a.add("--user", user)
	case hasGroup && group != "":
		return nil, fmt.Errorf("invalid Group set without User")
	}
	a.scalar("UserNS", "--userns")
	a.list("UIDMap", "--uidmap")
	a.list("GIDMap", "--gidmap")
	a.scalar("SubUIDMap", "--subuidname")
	a.scalar("SubGIDMap", "--subgidname")

	// Networking.
	a.scalar("HostName", "--hostname")
	if err := g.networks(a); err != nil {
		return nil, err
	}
	a.scalar("IP", "--ip")
	a.scalar("IP6", "--ip6")
	a.list("NetworkAlias", "--network-alias")
	a.list("DNS", "--dns")
	a.list("DNSSearch", "--dns-search")
	a.list("DNSOption", "--dns-option")
	a.list("AddHost", "--add-host")
	a.list("PublishPort", "--publish")
	a.list("ExposeHostPort", "--expose")

	// Security.
	a.scalarJoined("SeccompProfile", "--security-opt=seccomp=")
	a.flagIf("NoNewPrivileges", "--security-opt=no-new-privileges")
	a.flagIf("SecurityLabelDisable", "--security-opt=label=disable")
	a.scalarJoined("SecurityLabelType", "--security-opt=label=type:")
	a.scalarJoined("SecurityLabelFileType", "--security-opt=label=filetype:")
	a.scalarJoined("SecurityLabelLevel", "--security-opt=label=level:")
	a.flagIf("SecurityLabelNested", "--security-opt=label=nested")
	a.scalarJoined("Mask", "--security-opt=mask=")
	a.scalarJoined("Unmask", "--security-opt=unmask=")
	a.eachWord("DropCapability", "--cap-drop=")
	a.eachWord("AddCapability", "--cap-add=")
	a.flagIf("ReadOnly", "--read-only")
	if u.has(sec, "ReadOnlyTmpfs") {
		on, err := boolean(u, sec, "ReadOnlyTmpfs", true)
		if err != nil {
			return nil, err
		}
		a.add(fmt.Sprintf("--read-only-tmpfs=%t", on))
	}
	a.flagIf("VolatileTmp", "--tmpfs", "/tmp:rw,size=512M,mode=1777")

	// The process.
	a.flagIf("RunInit", "--init")
	a.scalarJoined("Timezone", "--tz=")
	a.scalar("WorkingDir", "--workdir")
	a.scalar("Entrypoint", "--entrypoint")
	a.scalar("StopSignal", "--stop-signal")
	a.scalar("StopTimeout", "--stop-timeout")
	a.scalar("ShmSize", "--shm-size")
	a.scalar("Memory", "--memory")
	a.scalar("PidsLimit", "--pids-limit")
	a.list("Ulimit", "--ulimit")
	a.eachWord("Sysctl", "--sysctl=")
	a.list("GroupAdd", "--group-add")
	for _, d := range u.all(sec, "AddDevice") {
		if opt, ok := strings.CutPrefix(d, "-"); ok { // only when the host has it
			if host, _, _ := strings.Cut(opt, ":"); !hostPathExists(host) {
				continue
			}
			d = opt
		}
		a.add("--device", d)
	}
	a.env("Environment", "--env")
	for _, f := range u.all(sec, "EnvironmentFile") {
		a.add("--env-file", resolvePath(u, f))
	}
	a.flagIf("EnvironmentHost", "--env-host")
	a.list("Secret", "--secret")

	// Storage.
	if err := g.volumes(a); err != nil {
		return nil, err
	}
	for _, m := range u.all(sec, "Mount") {
		m, err := g.mountArg(u, m, &a.deps)
		if err != nil {
			return nil, err
		}
		a.add("--mount", m)
	}
	a.list("Tmpfs", "--tmpfs")

	// Metadata, logs, healthchecks.
	a.env("Label", "--label")
	a.env("Annotation", "--annotation")
	if v, ok := u.last(sec, "AutoUpdate"); ok && v != "" {
		a.add("--label", "io.containers.autoupdate="+v)
	}
	a.scalar("LogDriver", "--log-driver")
	a.list("LogOpt", "--log-opt")
	a.scalar("HealthCmd", "--health-cmd")
	a.scalar("HealthInterval", "--health-interval")
	a.scalar("HealthRetries", "--health-retries")
	a.scalar("HealthStartPeriod", "--health-start-period")
	a.scalar("HealthTimeout", "--health-timeout")
	a.scalar("HealthOnFailure", "--health-on-failure")
	a.scalar("HealthStartupCmd", "--health-startup-cmd")
	a.scalar("HealthStartupInterval", "--health-startup-interval")
	a.scalar("HealthStartupRetries", "--health-startup-retries")
	a.scalar("HealthStartupSuccess", "--health-startup-success")
	a.scalar("HealthStartupTimeout", "--health-startup-timeout")
	a.scalar("HealthLogDestination", "--health-log-destination")
	a.scalar("HealthMaxLogCount", "--health-max-log-count")
	a.scalar("HealthMaxLogSize", "--health-max-log-size")
	a.scalar("Pull", "--pull")
	a.words("PodmanArgs")
	if rootfs != "" {
		a.add("--rootfs", rootfs)
	} else {
		a.add(image)
	}
	a.words("Exec")
	if a.err != nil {
		return nil, a.err
	}

	requireAll(svc, a.deps)
	svc.add("Service", "Environment", "PODMAN_SYSTEMD_UNIT=%n")
	svc.addDefault("Service", "KillMode", "mixed")
	svc.add("Service", "ExecStop", commandLine(rm))
	svc.add("Service", "ExecStopPost", "-"+commandLine(rm))
	svc.addDefault("Service", "Delegate", "yes")
	svc.addDefault("Service", "SyslogIdentifier", "%N")
	if err := g.reload(u, svc, name); err != nil {
		return nil, err
	}
	// A cidfile left by a service that died uncleanly would make pea run refuse it, as
	// podman's does: removed first, as generate systemd --new's units do.
	svc.add("Service", "ExecStartPre", "-/bin/rm -f %t/%N.cid")
	svc.add("Service", "ExecStart", commandLine(a.args))
	return svc, nil
}

// reload adds ExecReload= for ReloadCmd= (a command run in the container) or ReloadSignal= (a
// signal sent to it).
func (g *generator) reload(u *unitFile, svc *unitFile, name string) error {
	const sec = "Container"
	cmd, hasCmd := u.last(sec, "ReloadCmd")
	sig, hasSig := u.last(sec, "ReloadSignal")
	switch {
	case hasCmd && hasSig:
		return fmt.Errorf("ReloadCmd and ReloadSignal are mutually exclusive")
	case hasCmd && cmd != "":
		w, err := splitWords(cmd)
		if err != nil {
			return fmt.Errorf("ReloadCmd=: %w", err)
		}
		exec, err := g.pea(u, sec, "exec", name)
		if err != nil {
			return err
		}
		svc.add("Service", "ExecReload", commandLine(append(exec, w...)))
	case hasSig && sig != "":
		kill, err := g.pea(u, sec, "kill", "--cidfile=%t/%N.cid", "--signal", sig)
		if err != nil {
			return err
		}
		svc.add("Service", "ExecReload", commandLine(kill))
	}
	return nil
}

// networks adds a --network for each Network= value: NAME.network[:OPTIONS] becomes that
// file's network (and a dependency).
func (g *generator) networks(a *argv) error {
	for _, n := range a.u.all(a.sec, "Network") {
		ref, opts, hasOpts := strings.Cut(n, ":")
		if strings.HasSuffix(ref, ".network") {
			name, dep, err := g.resource(ref)
			if err != nil {
				return err
			}
			a.deps = append(a.deps, dep)
			n = name
			if hasOpts {
				n += ":" + opts
			}
		}
		a.add(flag("--network", n)...)
	}
	return nil
}

// volumes adds a --volume for each Volume= value (volumeArg).
func (g *generator) volumes(a *argv) error {
	for _, v := range a.u.all(a.sec, "Volume") {
		v, err := g.volumeArg(a.u, v, &a.deps)
		if err != nil {
			return err
		}
		a.add(flag("--volume", v)...)
	}
	return nil
}

// imageArg is an image for pea: NAME.image or NAME.build becomes the image that file pulls
// (its ImageTag=, else its Image=) or builds (its first ImageTag=), and a dependency.
func (g *generator) imageArg(image string, deps *[]string) (string, error) {
	if !strings.HasSuffix(image, ".image") && !strings.HasSuffix(image, ".build") {
		return image, nil
	}
	name, dep, err := g.resource(image)
	if err != nil {
		return "", err
	}
	*deps = append(*deps, dep)
	return name, nil
}

// volumeArg is a Volume= value for pea: a source NAME.volume becomes that file's volume (and a
// dependency), a source that starts with . a path from the file's directory.
func (g *generator) volumeArg(u *unitFile, v string, deps *[]string) (string, error) {
	src, rest, hasDst := strings.Cut(v, ":")
	if !hasDst {
		return v, nil // an anonymous volume
	}
	switch {
	case strings.HasSuffix(src, ".volume"):
		name, dep, err := g.resource(src)
		if err != nil {
			return "", err
		}
		*deps = append(*deps, dep)
		src = name
	case strings.HasPrefix(src, "."):
		src = resolvePath(u, src)
	}
	return src + ":" + rest, nil
}

// mountArg is a Mount= value for pea: type=volume,source=NAME.volume uses that file's volume,
// a bind's relative source is a path from the file's directory.
func (g *generator) mountArg(u *unitFile, m string, deps *[]string) (string, error) {
	fields := strings.Split(m, ",")
	typ := "volume"
	for _, f := range fields {
		if v, ok := strings.CutPrefix(f, "type="); ok {
			typ = v
		}
	}
	for i, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok || (k != "source" && k != "src") {
			continue
		}
		switch {
		case typ == "volume" && strings.HasSuffix(v, ".volume"):
			name, dep, err := g.resource(v)
			if err != nil {
				return "", err
			}
			*deps = append(*deps, dep)
			fields[i] = k + "=" + name
		case typ == "bind" && strings.HasPrefix(v, "."):
			fields[i] = k + "=" + resolvePath(u, v)
		case typ == "image":
			name, err := g.imageArg(v, deps)
			if err != nil {
				return "", err
			}
			fields[i] = k + "=" + name
		}
	}
	return strings.Join(fields, ","), nil
}

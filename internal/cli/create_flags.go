package cli

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"pea/internal/conf"
	"pea/internal/engine"
	"pea/internal/errdefs"
	"pea/internal/model"
	"pea/internal/oci"
)

// createFlags are the flags shared by create and run.
type createFlags struct {
	// warnings are what toConfig let pass but the user should hear of (a --log-opt pea
	// ignores); the command prints them.
	warnings                                   []string
	name, hostname, workdir, user, entrypoint  string
	env, envFile, labels, annotations          []string
	volumes, mounts, tmpfs, devices            []string
	capAdd, capDrop, securityOpts, sysctls     []string
	ulimits, publish, dns, dnsSearch, dnsOpt   []string
	addHosts, networks, networkAliases         []string
	readOnly, privileged, init, rm, tty, stdin bool
	publishAll, noHosts                        bool
	hostsFile                                  string
	memory, shmSize, cpusetCpus                string
	memorySwap, memoryReservation, cpusetMems  string
	cpus                                       float64
	pidsLimit, cpuQuota                        int64
	cpuShares, cpuPeriod                       uint64
	oomScoreAdj                                int
	stopSignal                                 string
	stopTimeout                                uint
	cgroupns, pid, ipc, uts, userns            string
	uidmap, gidmap                             []string
	labelFiles, groupAdd, expose               []string
	tz, umask, pidFile                         string
	logOpts, secrets                           []string
	conmonPidFile                              string
	replace, readOnlyTmpfs, envHost            bool
	cgroupParent, pod, pull                    string
	ip, mac, restart, initCtr                  string
	podIDFile, cidFile                         string
	health                                     healthFlags
	more                                       moreCreateFlags
	registry                                   registryFlags // for a pull of a missing image
	// conf is containers.conf, whose defaults take the place of flags not given (nil: none).
	conf *conf.Config
}

func (f *createFlags) register(fs *pflag.FlagSet) {
	fs.SetInterspersed(false)
	fs.StringVar(&f.name, "name", "", "assign a name to the container")
	fs.StringVarP(&f.hostname, "hostname", "h", "", "set the container's hostname")
	fs.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fs.StringVarP(&f.user, "user", "u", "", "user[:group] to run the process as (names or numbers)")
	fs.StringVar(&f.entrypoint, "entrypoint", "", "override the image's entrypoint (a string or a JSON array)")
	fs.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy the host's)")
	listVar(fs, &f.envFile, "env-file", nil, "read environment variables from a file")
	fs.StringArrayVarP(&f.labels, "label", "l", nil, "set a label (KEY=VALUE)")
	listVar(fs, &f.annotations, "annotation", nil, "set an annotation (KEY=VALUE)")
	listVar(fs, &f.labelFiles, "label-file", nil, "read labels from a file (KEY=VALUE lines)")
	fs.BoolVar(&f.replace, "replace", false, "remove the container of the same --name first")
	listVar(fs, &f.groupAdd, "group-add", nil, "add a supplementary group (name or number)")
	listVar(fs, &f.expose, "expose", nil, "expose a port or range (PORT[-PORT][/PROTO]): -P publishes it")
	fs.StringVar(&f.tz, "tz", "", "time zone of the container (local, or a zone such as Europe/Paris)")
	fs.StringVar(&f.umask, "umask", "", "file mode creation mask of the process (octal, default 0022)")
	fs.StringVar(&f.pidFile, "pidfile", "", "write the container process's PID to this host file")
	fs.StringVar(&f.conmonPidFile, "conmon-pidfile", "", "write conmon's PID to this host file (what a systemd unit follows)")
	fs.StringArrayVar(&f.secrets, "secret", nil, "give the container a secret: NAME[,type=mount|env][,target=T][,uid=U][,gid=G][,mode=M]")
	fs.StringArrayVar(&f.logOpts, "log-opt", nil, "logging option: path=FILE (where the log is written), max-size=SIZE (the log starts anew past it), tag=TAG (journald)")
	fs.BoolVar(&f.readOnlyTmpfs, "read-only-tmpfs", true, "with --read-only, mount tmpfs on /run, /tmp and /var/tmp")
	fs.BoolVar(&f.envHost, "env-host", false, "give the container the host's environment (-e and --env-file win)")
	fs.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind mount or named volume: SRC:DST[:ro]")
	fs.StringArrayVar(&f.mounts, "mount", nil, "mount: type=bind|tmpfs|volume,src=...,dst=...[,ro]")
	fs.StringArrayVar(&f.tmpfs, "tmpfs", nil, "mount a tmpfs: DST[:OPTIONS]")
	listVar(fs, &f.devices, "device", nil, "add a host device: HOST[:CONTAINER[:PERMS]]")
	listVar(fs, &f.capAdd, "cap-add", nil, "add a capability")
	listVar(fs, &f.capDrop, "cap-drop", nil, "drop a capability")
	fs.StringArrayVar(&f.securityOpts, "security-opt", nil, "security option: no-new-privileges, seccomp=unconfined|FILE")
	listVar(fs, &f.sysctls, "sysctl", nil, "set a namespaced kernel parameter (KEY=VALUE)")
	listVar(fs, &f.ulimits, "ulimit", nil, "set a resource limit (name=soft[:hard])")
	listVarP(fs, &f.publish, "publish", "p", nil, "publish a port: [hostIP:][hostPort:]containerPort[/proto]")
	fs.BoolVarP(&f.publishAll, "publish-all", "P", false, "publish every exposed port on a random host port")
	listVar(fs, &f.dns, "dns", nil, "set a DNS server")
	listVar(fs, &f.dnsSearch, "dns-search", nil, "set a DNS search domain")
	listVar(fs, &f.dnsOpt, "dns-option", nil, "set a DNS option")
	listVar(fs, &f.addHosts, "add-host", nil, "add a host to /etc/hosts (HOST[;HOST...]:IP, IP may be host-gateway)")
	fs.BoolVar(&f.noHosts, "no-hosts", false, "do not manage /etc/hosts")
	fs.StringVar(&f.hostsFile, "hosts-file", "", "base of /etc/hosts: a host file's absolute path, image or none (default: containers.conf's base_hosts_file)")
	fs.StringArrayVar(&f.networks, "network", nil, "network mode: bridge, none, host, NAME[,NAME], ns:PATH, container:ID, slirp4netns[:OPTS], pasta[:OPTS]")
	listVar(fs, &f.networkAliases, "network-alias", nil, "a further name the containers on the container's networks find it by (not on the default network)")
	fs.StringArrayVar(&f.networks, "net", nil, "alias of --network")
	fs.StringVar(&f.ip, "ip", "", "static IPv4 address on the network")
	fs.StringVar(&f.mac, "mac-address", "", "static MAC address")
	fs.BoolVar(&f.readOnly, "read-only", false, "mount the root filesystem read-only")
	fs.BoolVar(&f.privileged, "privileged", false, "give the container every capability and device")
	fs.BoolVar(&f.init, "init", false, "run catatonit as PID 1 to reap zombies and forward signals")
	fs.BoolVar(&f.rm, "rm", false, "remove the container when it exits")
	fs.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-terminal")
	fs.BoolVarP(&f.stdin, "interactive", "i", false, "keep stdin open")
	fs.StringVarP(&f.memory, "memory", "m", "", "memory limit (e.g. 512m, 1g)")
	fs.StringVar(&f.shmSize, "shm-size", "", "size of /dev/shm")
	fs.Float64Var(&f.cpus, "cpus", 0, "number of CPUs")
	fs.StringVar(&f.cpusetCpus, "cpuset-cpus", "", "CPUs the container may use (0-3, 0,1)")
	fs.Int64Var(&f.pidsLimit, "pids-limit", 0, "limit the number of processes (-1 unlimited)")
	fs.StringVar(&f.memorySwap, "memory-swap", "", "limit of memory and swap together (-1: unlimited swap; default: twice --memory)")
	fs.StringVar(&f.memoryReservation, "memory-reservation", "", "memory soft limit")
	fs.Uint64VarP(&f.cpuShares, "cpu-shares", "c", 0, "CPU shares (relative weight)")
	fs.StringVar(&f.cpusetMems, "cpuset-mems", "", "memory nodes the container may use (0-3, 0,1)")
	fs.Uint64Var(&f.cpuPeriod, "cpu-period", 0, "CPU CFS period in microseconds")
	fs.Int64Var(&f.cpuQuota, "cpu-quota", 0, "CPU CFS quota in microseconds per period")
	fs.IntVar(&f.oomScoreAdj, "oom-score-adj", 0, "the host's OOM preference for the container (-1000 to 1000)")
	fs.StringVar(&f.stopSignal, "stop-signal", "", "signal that stops the container")
	fs.UintVar(&f.stopTimeout, "stop-timeout", 10, "seconds to wait after the stop signal before SIGKILL")
	fs.StringVar(&f.cgroupns, "cgroupns", "", "cgroup namespace: host or private")
	fs.StringVar(&f.pid, "pid", "", "PID namespace: host, private, container:ID, ns:PATH")
	fs.StringVar(&f.ipc, "ipc", "", "IPC namespace: host, private, container:ID, ns:PATH")
	fs.StringVar(&f.uts, "uts", "", "UTS namespace: host, private, container:ID, ns:PATH")
	fs.StringVar(&f.userns, "userns", "", "user namespace: host, container:ID, ns:PATH (--uidmap/--gidmap make one of its own)")
	listVar(fs, &f.uidmap, "uidmap", nil, "run in a user namespace of its own mapping UIDs: CONTAINER_UID:HOST_UID:SIZE")
	listVar(fs, &f.gidmap, "gidmap", nil, "run in a user namespace of its own mapping GIDs: CONTAINER_GID:HOST_GID:SIZE")
	fs.StringVar(&f.cgroupParent, "cgroup-parent", "", "parent cgroup of the container's cgroup")
	fs.StringVar(&f.pod, "pod", "", "run in this pod (name or ID, or new:NAME)")
	fs.StringVar(&f.podIDFile, "pod-id-file", "", "read the pod ID from this file")
	fs.StringVar(&f.pull, "pull", "missing", "pull policy: always, missing, never")
	fs.StringVar(&f.restart, "restart", "", "restart policy: no, always, unless-stopped, on-failure[:N] (applied when the container exits on its own)")
	fs.StringVar(&f.cidFile, "cidfile", "", "write the container ID to this file")
	fs.StringVar(&f.initCtr, "init-ctr", "", "make this pod member an init container: always or once")
	f.health.register(fs)
	f.more.register(fs)
	f.registry.register(fs)
	registerSignaturePolicy(fs, &f.registry.signaturePolicy)
}

// toConfig turns the flags, the image and the command into a container config.
func (f *createFlags) toConfig(imageRef string, cmd []string, changed func(string) bool) (*model.ContainerConfig, engine.CreateOptions, error) {
	if err := idFileFree(f.cidFile, "container"); err != nil {
		return nil, engine.CreateOptions{}, err
	}
	if f.conf != nil {
		f.confDefaults(f.conf, changed)
	}
	imageRef, rootfs, rootfsOverlay, err := f.more.imageOrRootfs(imageRef)
	if err != nil {
		return nil, engine.CreateOptions{}, err
	}
	if err := f.more.subIDMaps(&f.uidmap, &f.gidmap); err != nil {
		return nil, engine.CreateOptions{}, err
	}
	cfg := &model.ContainerConfig{
		Rootfs: rootfs, RootfsOverlay: rootfsOverlay,
		Name: f.name, ImageName: imageRef, Hostname: f.hostname, WorkingDir: f.workdir, WorkingDirGiven: f.workdir != "", User: f.user,
		ReadOnly: f.readOnly, ReadOnlyTmpfs: f.readOnly && f.readOnlyTmpfs, Privileged: f.privileged, Init: f.init, AutoRemove: f.rm,
		GroupAdd: f.groupAdd, Umask: f.umask, Timezone: f.tz, PidFile: f.pidFile,
		Terminal: f.tty, Stdin: f.stdin, StopTimeout: f.stopTimeout, CgroupParent: f.cgroupParent,
		CapAdd: f.capAdd, CapDrop: f.capDrop, Devices: f.devices, RestartPolicy: f.restart,
		Namespaces: map[string]model.Namespace{},
	}
	o := engine.CreateOptions{Pod: f.pod, Pull: f.pull, CmdSet: len(cmd) > 0, PublishAll: f.publishAll, Replace: f.replace}
	if f.replace && f.name == "" {
		return nil, o, invalid("--replace needs --name: it replaces the container of that name")
	}
	for _, e := range f.expose {
		pm, err := parseExpose(e)
		if err != nil {
			return nil, o, err
		}
		o.Expose = append(o.Expose, pm...)
	}
	if f.pidFile != "" {
		abs, err := filepath.Abs(f.pidFile)
		if err != nil {
			return nil, o, err
		}
		cfg.PidFile = abs
	}
	for _, sv := range f.secrets {
		ref, err := engine.ParseSecretRef(sv)
		if err != nil {
			return nil, o, err
		}
		cfg.Secrets = append(cfg.Secrets, ref)
	}
	if err := applyLogOpts(cfg, f.logOpts, true, func(w string) { f.warnings = append(f.warnings, w) }); err != nil {
		return nil, o, err
	}
	if f.conmonPidFile != "" {
		abs, err := filepath.Abs(f.conmonPidFile)
		if err != nil {
			return nil, o, err
		}
		cfg.ConmonPidFile = abs
	}
	if f.podIDFile != "" {
		b, err := os.ReadFile(f.podIDFile)
		if err != nil {
			return nil, o, fmt.Errorf("--pod-id-file: %w", err)
		}
		o.Pod = strings.TrimSpace(string(b))
	}
	if f.restart != "" {
		name, n, hasN := strings.Cut(f.restart, ":")
		ok := false
		switch name {
		case "no", "always", "unless-stopped":
			ok = !hasN
		case "on-failure":
			_, err := strconv.ParseUint(n, 10, 16)
			ok = !hasN || err == nil
		}
		if !ok {
			return nil, o, invalid("invalid --restart %q (no, always, unless-stopped, on-failure[:N])", f.restart)
		}
		if f.rm && name != "no" {
			return nil, o, invalid("--restart %s cannot be combined with --rm", f.restart)
		}
	}
	switch f.initCtr {
	case "":
	case model.InitAlways, model.InitOnce:
		if o.Pod == "" {
			return nil, o, invalid("--init-ctr needs --pod: init containers belong to a pod")
		}
		cfg.InitContainerType = f.initCtr
	default:
		return nil, o, invalid("invalid --init-ctr %q (always, once)", f.initCtr)
	}
	if cfg.StartupHealthcheck, err = f.health.toStartup(); err != nil {
		return nil, o, err
	}
	if cfg.Healthcheck, err = f.health.toConfig(); err != nil {
		return nil, o, err
	}
	o.NoHealthcheck = f.health.none
	f.health.applyLog(changed, cfg)
	if !slices.Contains(engine.HealthActions, f.health.onFailure) {
		return nil, o, invalid("invalid --health-on-failure %q (%s)", f.health.onFailure, strings.Join(engine.HealthActions, ", "))
	}
	if f.health.onFailure != "none" {
		cfg.HealthOnFailure = f.health.onFailure
	}
	switch f.pull {
	case "always", "missing", "never", "newer":
	default:
		return nil, o, invalid("invalid --pull policy %q (always, missing, never)", f.pull)
	}
	cfg.Cmd = cmd
	if changed("entrypoint") {
		o.EntrypointSet = true
		if strings.HasPrefix(strings.TrimSpace(f.entrypoint), "[") {
			var ep []string
			if err := jsonUnmarshal(f.entrypoint, &ep); err != nil {
				return nil, o, invalid("invalid --entrypoint %q: %v", f.entrypoint, err)
			}
			cfg.Entrypoint = ep
		} else if f.entrypoint != "" {
			cfg.Entrypoint = []string{f.entrypoint}
		}
	}
	env, err := parseEnv(f.env, f.envFile)
	if err != nil {
		return nil, o, err
	}
	if f.envHost {
		env = append(os.Environ(), env...) // later entries win
	}
	cfg.Env = env
	if cfg.Labels, err = parseLabels(f.labels, f.labelFiles); err != nil {
		return nil, o, err
	}
	// A container made by a systemd unit knows it (auto-update restarts that unit), as podman's:
	// `generate systemd --new` units set the variable.
	if unit := os.Getenv(engine.LabelSystemdUnit); unit != "" && cfg.Labels[engine.LabelSystemdUnit] == "" {
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		cfg.Labels[engine.LabelSystemdUnit] = unit
	}
	if cfg.Annotations, err = parseKV(f.annotations, "annotation"); err != nil {
		return nil, o, err
	}
	if len(f.sysctls) > 0 {
		if cfg.Sysctls, err = parseSysctls(f.sysctls); err != nil {
			return nil, o, err
		}
	}
	for _, src := range []struct {
		specs []string
		parse func(string) (model.Mount, error)
	}{{f.volumes, engine.ParseVolume}, {f.mounts, engine.ParseMount}, {f.tmpfs, engine.ParseTmpfs}} {
		for _, spec := range src.specs {
			m, err := src.parse(spec)
			if err != nil {
				return nil, o, err
			}
			cfg.Mounts = append(cfg.Mounts, m)
		}
	}
	for _, c := range append(append([]string{}, f.capAdd...), f.capDrop...) {
		if _, err := oci.NormalizeCapability(c); err != nil {
			return nil, o, err
		}
	}
	for _, s := range f.securityOpts {
		if err := engine.ApplySecurityOpt(cfg, s); err != nil {
			return nil, o, err
		}
	}
	for _, u := range f.ulimits {
		rl, err := oci.ParseUlimit(u)
		if err != nil {
			return nil, o, err
		}
		cfg.Ulimits = append(cfg.Ulimits, model.Ulimit{Name: strings.ToLower(strings.TrimPrefix(rl.Type, "RLIMIT_")), Soft: rl.Soft, Hard: rl.Hard})
	}
	if f.memory != "" {
		if cfg.Resources.Memory, err = engine.ParseSize(f.memory); err != nil {
			return nil, o, invalid("invalid --memory %q: use a number with an optional unit (b, k, m, g)", f.memory)
		}
		if cfg.Resources.Memory < 6*1024*1024 {
			return nil, o, invalid("invalid --memory %q: the minimum memory limit is 6MB", f.memory)
		}
	}
	if f.shmSize != "" {
		if cfg.Resources.ShmSize, err = engine.ParseSize(f.shmSize); err != nil {
			return nil, o, err
		}
	}
	if f.cpus < 0 {
		return nil, o, invalid("invalid --cpus %v: must be positive", f.cpus)
	}
	cfg.Resources.CPUs = f.cpus
	cfg.Resources.CpusetCpus = f.cpusetCpus
	cfg.Resources.PidsLimit = f.pidsLimit
	if cfg.Resources.MemorySwap, err = parseMemorySwap(f.memorySwap); err != nil {
		return nil, o, err
	}
	if f.memoryReservation != "" {
		if cfg.Resources.MemoryReservation, err = engine.ParseSize(f.memoryReservation); err != nil {
			return nil, o, invalid("invalid --memory-reservation %q: use a number with an optional unit (b, k, m, g)", f.memoryReservation)
		}
	}
	cfg.Resources.CPUShares, cfg.Resources.CpusetMems = f.cpuShares, f.cpusetMems
	cfg.Resources.CPUPeriod, cfg.Resources.CPUQuota = f.cpuPeriod, f.cpuQuota
	cfg.OOMScoreAdj = f.oomScoreAdj
	if f.stopSignal != "" {
		sig, err := engine.ParseSignal(f.stopSignal)
		if err != nil {
			return nil, o, err
		}
		cfg.StopSignal = int(sig)
	}
	for kind, v := range map[string]string{model.NSPid: f.pid, model.NSIpc: f.ipc, model.NSUts: f.uts} {
		if v == "" {
			continue
		}
		ns, err := engine.ParseNamespace(kind, v)
		if err != nil {
			return nil, o, err
		}
		cfg.Namespaces[kind] = ns
	}
	if m := cfg.NS(model.NSIpc).Mode; f.shmSize != "" && (m == model.NSModeHost || m == model.NSModeNone) {
		return nil, o, invalid("cannot set --shm-size with --ipc %s: the container has no /dev/shm of its own", m)
	}
	switch f.cgroupns {
	case "":
	case "host", "private":
		cfg.Namespaces[model.NSCgroup] = model.Namespace{Mode: f.cgroupns}
	default:
		return nil, o, invalid("invalid --cgroupns %q (host, private)", f.cgroupns)
	}
	hasMaps := len(f.uidmap) > 0 || len(f.gidmap) > 0
	if o.Pod != "" && hasMaps {
		return nil, o, invalid("a container in a pod cannot have ID mappings of its own (--uidmap/--gidmap): it joins the pod's user namespace; set them on the pod")
	}
	if o.Pod != "" && f.userns != "" {
		return nil, o, invalid("a container in a pod cannot set its own user namespace (--userns %s); it has the pod's, set on the pod", f.userns)
	}
	userns, err := engine.ParseUserNS(f.userns, hasMaps)
	if err != nil {
		return nil, o, err
	}
	if userns.Mode != model.NSModeHost {
		cfg.Namespaces[model.NSUser] = userns
	}
	if cfg.UIDMap, cfg.GIDMap, err = engine.ParseIDMaps(f.uidmap, f.gidmap); err != nil {
		return nil, o, err
	}
	if err := f.applyNetwork(cfg, o.Pod != ""); err != nil {
		return nil, o, err
	}
	if o.Pod != "" {
		// The namespaces given by flag stand instead of the pod's (podman's rule).
		o.OwnNamespaces = []string{}
		for kind, given := range map[string]bool{model.NSPid: f.pid != "", model.NSIpc: f.ipc != "", model.NSUts: f.uts != "",
			model.NSCgroup: f.cgroupns != "", model.NSNet: len(f.networks) > 0} {
			if given {
				o.OwnNamespaces = append(o.OwnNamespaces, kind)
			}
		}
		o.HostnameSet = f.hostname != ""
	}
	if err := f.more.apply(cfg, &o, changed); err != nil {
		return nil, o, err
	}
	return cfg, o, nil
}

// applyNetwork fills the network mode and options.
func (f *createFlags) applyNetwork(cfg *model.ContainerConfig, inPod bool) error {
	nc := &cfg.Network
	nc.DNSServers, nc.DNSSearch, nc.DNSOptions, nc.AddHosts, nc.NoHosts = f.dns, f.dnsSearch, f.dnsOpt, f.addHosts, f.noHosts
	if err := engine.CheckHostsFile(f.hostsFile); err != nil {
		return err
	}
	nc.HostsFile = f.hostsFile
	for _, d := range f.dns {
		if d == "none" && len(f.dns) > 1 {
			return invalid("--dns none cannot be combined with DNS servers")
		}
		if d != "none" && net.ParseIP(d) == nil {
			return invalid("--dns %q is not an IP address (or none)", d)
		}
	}
	nc.StaticIP, nc.StaticMAC = f.ip, f.mac
	if f.mac != "" {
		if _, err := net.ParseMAC(f.mac); err != nil {
			return invalid("address %s: invalid MAC address", f.mac)
		}
	}
	for _, h := range f.addHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || ip == "" || slices.Contains(strings.Split(name, ";"), "") {
			return invalid("invalid --add-host %q: want HOST[;HOST...]:IP", h)
		}
		if ip != engine.HostGateway && net.ParseIP(ip) == nil {
			return invalid("invalid IP address in add-host: %q", ip)
		}
	}
	for _, p := range f.publish {
		pm, err := parsePublish(p)
		if err != nil {
			return err
		}
		nc.Ports = append(nc.Ports, pm...)
	}
	if inPod && len(nc.Ports) > 0 {
		return invalid("published ports of a pod member are set on the pod (pod create -p); a container in a pod cannot publish its own")
	}
	mode := ""
	if len(f.networks) > 0 {
		mode = strings.Join(f.networks, ",")
	}
	if mode != "" || !inPod { // a pod member without --network joins the pod's namespace
		cfg.Namespaces[model.NSNet], nc.Networks = engine.NetworkMode(mode)
	}
	if engine.NoPortsToPublish(cfg.NS(model.NSNet).Mode) && len(nc.Ports) > 0 {
		// podman's (and Docker's): the mappings are dropped with a word, not refused, so that
		// a `--network host -p 80:80` written for a bridge still runs.
		f.warnings = append(f.warnings, "Port mappings have been discarded as one of the Host, Container, Pod, and None network modes are in use")
		nc.Ports = nil
	}
	if len(f.networkAliases) > 0 {
		if cfg.NS(model.NSNet).Mode != model.NSModeBridge {
			return invalid("--network-alias needs a bridge network of the container's own")
		}
		nc.Aliases = map[string][]string{"*": f.networkAliases}
	}
	return nil
}

// parseLabels parses --label KEY=VALUE and the lines of --label-file files (blank lines and
// # comments skipped); --label wins over a file's line for the same key.
func parseLabels(labels, files []string) (map[string]string, error) {
	var all []string
	for _, fn := range files {
		fh, err := os.Open(fn)
		if err != nil {
			return nil, fmt.Errorf("--label-file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// A line without = sets no label, as podman's file reader takes it.
			if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") && strings.Contains(l, "=") {
				all = append(all, l)
			}
		}
		err = sc.Err()
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("--label-file %s: %w", fn, err)
		}
	}
	return parseKV(append(all, labels...), "label")
}

// parseExpose parses --expose PORT[-PORT][/PROTO] into ports -P publishes.
func parseExpose(v string) ([]model.PortMapping, error) {
	spec, proto, _ := strings.Cut(v, "/")
	if proto == "" {
		proto = "tcp"
	}
	lo, hi, isRange := strings.Cut(spec, "-")
	a, err1 := strconv.ParseUint(lo, 10, 16)
	b := a
	var err2 error
	if isRange {
		b, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || a == 0 || b < a || (proto != "tcp" && proto != "udp" && proto != "sctp") {
		return nil, invalid("invalid --expose %q: PORT[-PORT][/tcp|udp|sctp]", v)
	}
	var out []model.PortMapping
	for p := a; p <= b; p++ {
		out = append(out, model.PortMapping{ContainerPort: uint16(p), Protocol: proto, Range: 1})
	}
	return out, nil
}

// parseMemorySwap parses --memory-swap: a size, or -1 for unlimited swap.
func parseMemorySwap(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if v == "-1" {
		return -1, nil
	}
	n, err := engine.ParseSize(v)
	if err != nil || n == 0 {
		return 0, invalid("invalid --memory-swap %q: a size with an optional unit (b, k, m, g), or -1 for unlimited swap", v)
	}
	return n, nil
}

func parseEnv(env, files []string) ([]string, error) {
	var out []string
	for _, fn := range files {
		fh, err := os.Open(fn)
		if err != nil {
			return nil, fmt.Errorf("--env-file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, expandEnv(line)...)
		}
		fh.Close()
	}
	for _, e := range env {
		out = append(out, expandEnv(e)...)
	}
	return out, nil
}

// expandEnv turns one -e (or --env-file line) into variables, as podman does: KEY=VALUE as
// given; KEY alone takes the host's value, and is left out when the host has none; a KEY
// ending in * takes every host variable whose name starts with the rest.
func expandEnv(e string) []string {
	if strings.Contains(e, "=") {
		return []string{e}
	}
	if prefix, ok := strings.CutSuffix(e, "*"); ok {
		var out []string
		for _, kv := range os.Environ() {
			if strings.HasPrefix(kv, prefix) {
				out = append(out, kv)
			}
		}
		return out
	}
	if v, ok := os.LookupEnv(e); ok {
		return []string{e + "=" + v}
	}
	return nil
}

func parseKV(list []string, what string) (map[string]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return nil, invalid("invalid %s %q: want KEY=VALUE", what, kv)
		}
		m[k] = v
	}
	return m, nil
}

// parseSysctls parses --sysctl KEY=VALUE values (the value may be empty; the = may not be
// left out, as podman requires).
func parseSysctls(list []string) (map[string]string, error) {
	for _, kv := range list {
		if !strings.Contains(kv, "=") {
			return nil, invalid("invalid --sysctl %q: want KEY=VALUE", kv)
		}
	}
	return parseKV(list, "--sysctl")
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalid)
}

// parsePublish parses -p [hostIP:][hostPort:]containerPort[/proto] with ranges.
func parsePublish(spec string) ([]model.PortMapping, error) {
	bad := func(why string) error { return invalid("invalid port specification %q: %s", spec, why) }
	proto := "tcp"
	if i := strings.LastIndex(spec, "/"); i >= 0 {
		proto = spec[i+1:]
		spec = spec[:i]
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, bad("protocol must be tcp, udp or sctp")
		}
	}
	hostIP := ""
	if strings.HasPrefix(spec, "[") {
		end := strings.Index(spec, "]")
		if end < 0 {
			return nil, bad("unclosed [")
		}
		hostIP = spec[1:end]
		spec = strings.TrimPrefix(spec[end+1:], ":")
	}
	parts := strings.Split(spec, ":")
	var hostPart, ctrPart string
	switch len(parts) {
	case 1:
		ctrPart = parts[0]
	case 2:
		hostPart, ctrPart = parts[0], parts[1]
	case 3:
		if hostIP != "" {
			return nil, bad("too many colons")
		}
		hostIP, hostPart, ctrPart = parts[0], parts[1], parts[2]
	default:
		return nil, bad("too many colons")
	}
	cStart, cEnd, err := portRange(ctrPart)
	if err != nil {
		return nil, bad(err.Error())
	}
	var hStart, hEnd uint16
	if hostPart != "" {
		if hStart, hEnd, err = portRange(hostPart); err != nil {
			return nil, bad(err.Error())
		}
		if hEnd-hStart != cEnd-cStart {
			return nil, bad("host and container port ranges differ in length")
		}
	}
	if hostIP != "" && !isIP(hostIP) {
		return nil, bad("host IP is not an IP address")
	}
	return []model.PortMapping{{HostIP: hostIP, HostPort: hStart, ContainerPort: cStart, Protocol: proto, Range: cEnd - cStart + 1}}, nil
}

func portRange(s string) (uint16, uint16, error) {
	a, b, isRange := strings.Cut(s, "-")
	start, err := strconv.ParseUint(a, 10, 16)
	if err != nil || start == 0 {
		return 0, 0, fmt.Errorf("%q is not a port number (1-65535)", a)
	}
	end := start
	if isRange {
		if end, err = strconv.ParseUint(b, 10, 16); err != nil || end < start {
			return 0, 0, fmt.Errorf("%q is not a valid port range", s)
		}
	}
	return uint16(start), uint16(end), nil
}

// applyLogOpts sets cfg's log options from --log-opt: path=FILE (with path), max-size=SIZE,
// tag=TAG. Another KEY=VALUE (Docker's max-file, mode...) is ignored, as podman ignores it, and
// told to warn.
func applyLogOpts(cfg *model.ContainerConfig, opts []string, path bool, warn func(string)) error {
	for _, lo := range opts {
		k, v, ok := strings.Cut(lo, "=")
		switch {
		case !ok || k == "":
			return invalid("invalid log option %q: want KEY=VALUE", lo)
		case k == "path" && !path:
			return invalid("--log-opt path=FILE is not for kube play: each container has a log file of its own")
		case k == "path":
			abs, err := filepath.Abs(v)
			if v == "" || err != nil {
				return invalid("--log-opt path=FILE: a file is needed")
			}
			cfg.LogPath = abs
		case k == "max-size" || k == "tag":
			if _, err := engine.ApplyLogOpt(cfg, k, v); err != nil {
				return err
			}
		default:
			warn(fmt.Sprintf("--log-opt %s is ignored: pea supports path=FILE, max-size=SIZE and tag=TAG", lo))
		}
	}
	return nil
}
